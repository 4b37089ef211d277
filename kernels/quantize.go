package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Quantize encodes src, a whole number of blocks of t, into dst in t's block
// format. The choices of scales, minimums and quants are exactly those of
// llama.cpp's quantizers without an importance matrix (what llama-quantize
// writes when given no --imatrix), so a tensor quantized here is
// byte-identical to one quantized by llama.cpp.
//
// Every format here is quantized block by block (super-block by super-block
// for the K-quants and IQ4_XS), so src may hold any number of whole rows and
// may be split between goroutines at block boundaries.
func Quantize(t Type, src []float32, dst []byte) error {
	q, ok := quantizers[t]
	if !ok {
		return fmt.Errorf("kernels: cannot quantize to %s", t)
	}
	want, err := RowBytes(t, int64(len(src)))
	if err != nil {
		return fmt.Errorf("kernels: quantize: %w", err)
	}
	if int64(len(dst)) != want {
		return fmt.Errorf("kernels: quantize %d values to %s: dst has %d bytes, want %d", len(src), t, len(dst), want)
	}
	q(src, dst)
	return nil
}

// CanQuantize reports whether Quantize supports t.
func CanQuantize(t Type) bool {
	_, ok := quantizers[t]
	return ok
}

// quantizers encode whole blocks; lengths are checked by Quantize.
var quantizers = map[Type]func(src []float32, dst []byte){
	F32:    quantizeF32,
	F16:    quantizeF16,
	BF16:   quantizeBF16,
	Q4_0:   quantizeQ4_0,
	Q4_1:   quantizeQ4_1,
	Q5_0:   quantizeQ5_0,
	Q5_1:   quantizeQ5_1,
	Q8_0:   quantizeQ8_0,
	Q2_K:   quantizeQ2_K,
	Q3_K:   quantizeQ3_K,
	Q4_K:   quantizeQ4_K,
	Q5_K:   quantizeQ5_K,
	Q6_K:   quantizeQ6_K,
	IQ4_NL: quantizeIQ4_NL,
	IQ4_XS: quantizeIQ4_XS,
}

func quantizeF32(src []float32, dst []byte) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func quantizeF16(src []float32, dst []byte) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
	}
}

func quantizeBF16(src []float32, dst []byte) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToBF16(v))
	}
}

// putF16 stores v rounded to half precision (ggml_half) at b[0:2].
func putF16(b []byte, v float32) {
	binary.LittleEndian.PutUint16(b, FP32ToFP16(v))
}

// f16At reads back a stored half: the K-quants requantize against the
// rounded scales, not the exact ones.
func f16At(b []byte) float32 {
	return FP16ToFP32(binary.LittleEndian.Uint16(b))
}

func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

func sqrt32(x float32) float32 {
	// A float64 square root rounded to float32 is the correctly rounded
	// float32 square root (sqrtf), since 53 >= 2*24+2.
	return float32(math.Sqrt(float64(x)))
}

// nearestInt rounds to the nearest integer, ties to even, the way ggml's
// nearest_int does (by adding 1.5*2^23 and reading the mantissa); valid for
// |f| <= 4194303. The float32(f) keeps a caller's product f = a*b from
// being fused into the addition (arm64 would otherwise emit an FMA).
func nearestInt(f float32) int {
	v := float32(f) + 12582912
	i := int32(math.Float32bits(v))
	return int((i & 0x007fffff) - 0x00400000)
}

func clampInt(x, lo, hi int) int {
	return max(lo, min(hi, x))
}
