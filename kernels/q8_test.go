package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

func TestQuantizeQ8_0Hand(t *testing.T) {
	x := make([]float32, 32)
	// amax = 127 -> d = 1, id = 1. Ties round to even (AVX _mm256_round_ps):
	// 2.5 -> 2, -3.5 -> -4, 0.5 -> 0, 1.5 -> 2.
	x[0], x[1], x[2], x[3], x[4] = 127, 2.5, -3.5, 0.5, 1.5
	b := quantized(Q8_0, x)
	want := []byte{0x00, 0x3c, 127, 2, 0xfc, 0, 2}
	for i, w := range want {
		if b[i] != w {
			t.Errorf("Q8_0 byte %d = %#x, want %#x", i, b[i], w)
		}
	}
	b1 := quantized(Q8_1, x)
	// s = d * (127+2-4+0+2) = 127 = f16 0x57f0.
	want1 := []byte{0x00, 0x3c, 0xf0, 0x57, 127, 2, 0xfc, 0, 2}
	for i, w := range want1 {
		if b1[i] != w {
			t.Errorf("Q8_1 byte %d = %#x, want %#x", i, b1[i], w)
		}
	}
	// The multiplier is 127/amax (AVX), not 1/(amax/127) (the _ref code):
	// for this block they give 110 and 109 for y[1] (found by search).
	y := make([]float32, 32)
	y[0] = math.Float32frombits(0x3faa159f) // amax 1.3287848
	y[1] = math.Float32frombits(0x3f92a5ca) // 1.1456845
	if q := quantized(Q8_0, y); q[3] != 110 {
		t.Errorf("Q8_0 q[1] = %d, want 110", int8(q[3]))
	}
}

func TestQuantizeQ8_KHand(t *testing.T) {
	x := make([]float32, 256)
	// The largest magnitude is -2: iscale = -127/-2 = 63.5.
	// 1 -> 63.5 -> 64 (tie to even), 0.5 -> 31.75 -> 32, -2 -> -127.
	x[0], x[1], x[2] = 1, -2, 0.5
	x[17] = -0.25 // -15.875 -> -16, in bsums[1]
	b := quantized(Q8_K, x)
	if d := math.Float32frombits(binary.LittleEndian.Uint32(b)); d != float32(1)/float32(63.5) {
		t.Errorf("Q8_K d = %v, want 1/63.5", d)
	}
	for i, w := range map[int]int8{0: 64, 1: -127, 2: 32, 17: -16, 3: 0} {
		if got := int8(b[4+i]); got != w {
			t.Errorf("Q8_K q[%d] = %d, want %d", i, got, w)
		}
	}
	if s := int16(binary.LittleEndian.Uint16(b[260:])); s != 64-127+32 {
		t.Errorf("bsums[0] = %d, want %d", s, 64-127+32)
	}
	if s := int16(binary.LittleEndian.Uint16(b[262:])); s != -16 {
		t.Errorf("bsums[1] = %d, want -16", s)
	}
	// An all-zero block is all zero bytes.
	for i, v := range quantized(Q8_K, make([]float32, 256)) {
		if v != 0 {
			t.Fatalf("zero block byte %d = %d", i, v)
		}
	}
}

// TestQuantizeActivationsRoundTrip bounds the error of quantize-then-
// dequantize: half a step (plus, for Q8_0/Q8_1, the f16 rounding of d times
// the largest quant), and checks Q8_K's bsums and Q8_1's s.
func TestQuantizeActivationsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 20; trial++ {
		x := randomFloats(r, 1024)
		scale := float32(math.Exp(3 * r.NormFloat64()))
		for i := range x {
			x[i] *= scale
		}
		for _, typ := range []Type{Q8_0, Q8_1, Q8_K, F16, BF16, F32} {
			tr, _ := TraitsOf(typ)
			q := quantized(typ, x)
			y := mustDequant(typ, q, len(x))
			bs := tr.BlockSize
			if bs == 1 {
				bs = 32
			}
			for blk := 0; blk < len(x)/bs; blk++ {
				var amax float64
				for _, v := range x[blk*bs : (blk+1)*bs] {
					amax = max(amax, math.Abs(float64(v)))
				}
				var bound float64
				switch typ {
				case Q8_0, Q8_1:
					bound = amax/127*0.5 + amax*math.Pow(2, -11) + amax*1e-6
				case Q8_K:
					bound = amax / 127 * 0.5 * (1 + 1e-6)
				case F16:
					bound = amax * math.Pow(2, -11)
				case BF16:
					bound = amax * math.Pow(2, -8)
				}
				for k := blk * bs; k < (blk+1)*bs; k++ {
					if e := math.Abs(float64(y[k]) - float64(x[k])); !(e <= bound) {
						t.Fatalf("%s: element %d: %v -> %v, error %g > %g", typ, k, x[k], y[k], e, bound)
					}
				}
			}
			switch typ {
			case Q8_K:
				for blk := 0; blk < len(x)/256; blk++ {
					b := q[blk*292:]
					for j := 0; j < 16; j++ {
						var s int32
						for _, v := range b[4+16*j : 4+16*j+16] {
							s += int32(int8(v))
						}
						if got := q8KBsum(b, j); got != s {
							t.Fatalf("Q8_K bsums[%d] = %d, want %d", j, got, s)
						}
					}
				}
			case Q8_1:
				for blk := 0; blk < len(x)/32; blk++ {
					b := q[blk*36:]
					var s int32
					for _, v := range b[4:36] {
						s += int32(int8(v))
					}
					want := FP32ToFP16(float32(s) * (amaxOf(x[32*blk:32*blk+32]) / 127))
					if got := binary.LittleEndian.Uint16(b[2:]); got != want {
						t.Fatalf("Q8_1 s = %#x, want %#x", got, want)
					}
				}
			}
		}
	}
}

func amaxOf(x []float32) float32 {
	var m float32
	for _, v := range x {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}
