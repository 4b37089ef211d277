package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Activation quantization: converting a row of float32 activations to the
// format a weight type's dot product pairs with (Traits.VecDotType).
//
// The bytes produced are those of ggml-cpu on x86 with AVX2, which is what
// llama.cpp ran for pagoda's reference outputs:
//
//   - Q8_0 / Q8_1 follow quantize_row_q8_0 / quantize_row_q8_1's AVX path:
//     amax = max|x| over the block, d = amax/127, the multiplier is
//     id = 127/amax (not 1/d, which can differ in the last bit), and
//     x*id is rounded to nearest with ties to even (_mm256_round_ps). The
//     scalar quantize_row_q8_0_ref uses id = 1/d and roundf (ties away from
//     zero); the two disagree on rare ties and last-bit cases, and we follow
//     the code that actually runs on x86.
//   - Q8_1 also stores s = f16(d * float32(sum of the 32 quants)).
//   - Q8_K follows quantize_row_q8_K_ref, which x86 uses as is: the signed
//     value of largest magnitude max (first one on ties), iscale = -127/max,
//     q = min(127, nearest_int(iscale*x)) (ties to even), d = 1/iscale (f32),
//     and bsums = sums of 16 quants. An all-zero block gets d = 0, zero quants
//     and zero bsums (ggml leaves bsums unset there; they are multiplied by
//     d = 0 anyway).
//   - F16 / BF16 round each value to nearest even (FP32ToFP16 / FP32ToBF16),
//     F32 copies the bits.

// QuantizeActivations converts x to format t (Q8_0, Q8_1, Q8_K, F16, BF16 or
// F32) into dst, which must hold exactly RowBytes(t, len(x)) bytes; len(x)
// must be a whole number of t's blocks. Violations are programming errors
// and panic, as for VecDot.
func QuantizeActivations(t Type, x []float32, dst []byte) {
	want, err := RowBytes(t, int64(len(x)))
	if err != nil {
		panic(fmt.Sprintf("kernels: QuantizeActivations: %v", err))
	}
	if int64(len(dst)) != want {
		panic(fmt.Sprintf("kernels: QuantizeActivations %d values to %s: dst has %d bytes, want %d", len(x), t, len(dst), want))
	}
	switch t {
	case Q8_0:
		if q := current().vec.quantQ8_0; q != nil {
			q(x, dst)
			return
		}
		for i := 0; i < len(x)/32; i++ {
			quantizeBlockQ8(x[32*i:32*i+32], dst[34*i:34*i+34], false)
		}
	case Q8_1:
		for i := 0; i < len(x)/32; i++ {
			quantizeBlockQ8(x[32*i:32*i+32], dst[36*i:36*i+36], true)
		}
	case Q8_K:
		for i := 0; i < len(x)/QK_K; i++ {
			quantizeBlockQ8K(x[QK_K*i:QK_K*(i+1)], dst[q8KBytes*i:q8KBytes*(i+1)])
		}
	case F16:
		for i, v := range x {
			binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
		}
	case BF16:
		for i, v := range x {
			binary.LittleEndian.PutUint16(dst[2*i:], FP32ToBF16(v))
		}
	case F32:
		for i, v := range x {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	default:
		panic(fmt.Sprintf("kernels: %s is not an activation format", t))
	}
}

// roundEven32 rounds to the nearest integer, ties to even, like
// _mm256_round_ps(_MM_ROUND_NEAREST) and ggml's nearest_int.
func roundEven32(v float32) int32 {
	return int32(math.RoundToEven(float64(v)))
}

// quantizeBlockQ8 writes one Q8_0 block (withSum false: d | qs) or Q8_1
// block (withSum true: d | s | qs) for 32 values.
func quantizeBlockQ8(x []float32, b []byte, withSum bool) {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	binary.LittleEndian.PutUint16(b, FP32ToFP16(d))
	qs := b[2:]
	if withSum {
		qs = b[4:]
	}
	var sum int32
	for j, v := range x {
		q := roundEven32(v * id)
		sum += q
		qs[j] = byte(int8(q))
	}
	if withSum {
		binary.LittleEndian.PutUint16(b[2:], FP32ToFP16(d*float32(sum)))
	}
}

// quantizeBlockQ8K writes one Q8_K block for 256 values.
func quantizeBlockQ8K(x []float32, b []byte) {
	var amax, vmax float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax, vmax = a, v
		}
	}
	if amax == 0 {
		clear(b[:q8KBytes])
		return
	}
	iscale := -127 / vmax
	qs := b[4:260]
	for j, v := range x {
		qs[j] = byte(int8(min(127, roundEven32(iscale*v))))
	}
	for j := 0; j < 16; j++ {
		var s int16
		for _, q := range qs[16*j : 16*j+16] {
			s += int16(int8(q))
		}
		binary.LittleEndian.PutUint16(b[260+2*j:], uint16(s))
	}
	binary.LittleEndian.PutUint32(b, math.Float32bits(1/iscale))
}
