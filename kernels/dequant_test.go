package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func checkValues(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			if bad < 5 {
				t.Errorf("%s: element %d = %v, want %v", name, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d wrong elements", name, bad)
	}
}

// Hand-worked blocks: the bytes are chosen, and the expected values derived
// from the format description (ggml-common.h), not from this package.

func TestDequantQ4_0Hand(t *testing.T) {
	b := make([]byte, 18)
	b[0], b[1] = 0x00, 0x38 // d = 0.5
	for j := 2; j < 18; j++ {
		b[j] = 0x88 // both nibbles 8 -> (8-8)*d = 0
	}
	b[2] = 0x1f  // element 0: (15-8)*0.5 = 3.5; element 16: (1-8)*0.5 = -3.5
	b[3] = 0x80  // element 1: (0-8)*0.5 = -4;   element 17: 0
	b[17] = 0xa3 // element 15: (3-8)*0.5 = -2.5; element 31: (10-8)*0.5 = 1
	want := make([]float32, 32)
	want[0], want[16], want[1], want[15], want[31] = 3.5, -3.5, -4, -2.5, 1
	checkValues(t, "Q4_0", mustDequant(Q4_0, b, 32), want)
}

func TestDequantQ4_KHand(t *testing.T) {
	b := make([]byte, 144)
	b[0], b[1] = 0x00, 0x3c // d = 1
	b[2], b[3] = 0x00, 0x38 // dmin = 0.5
	sc := b[4:16]
	sc[0] = 0x42 // sub-block 0 scale 2; top bits 01 -> bits 4..5 of sub-block 4's scale
	sc[4] = 0x04 // sub-block 0 min 4
	sc[1] = 0x03 // sub-block 1 scale 3
	sc[5] = 0x01 // sub-block 1 min 1
	sc[8] = 0x25 // sub-block 4: scale low 5 | 1<<4 = 21, min low 2 | 0<<4 = 2
	qs := b[16:144]
	qs[0] = 0x97  // element 0: low nibble 7 (sub-block 0); element 32: high nibble 9 (sub-block 1)
	qs[64] = 0x0a // element 128: low nibble 10 (sub-block 4); element 160: 0 (sub-block 5)
	// value = d*scale*q - dmin*min; sub-blocks 2,3,5,6,7 have scale 0 and min 0.
	subMin := []float32{-0.5 * 4, -0.5 * 1, 0, 0, -0.5 * 2, 0, 0, 0}
	want := make([]float32, 256)
	for k := range want {
		want[k] = subMin[k/32]
	}
	want[0] = 1*2*7 - 0.5*4     // 12
	want[32] = 1*3*9 - 0.5*1    // 26.5
	want[128] = 1*21*10 - 0.5*2 // 209
	checkValues(t, "Q4_K", mustDequant(Q4_K, b, 256), want)
}

func TestDequantQ6_KHand(t *testing.T) {
	b := make([]byte, 210)
	ql, qh, sc := b[0:128], b[128:192], b[192:208]
	b[208], b[209] = 0x00, 0x34      // d = 0.25
	sc[0], sc[2], sc[8] = 2, 0xfd, 1 // scales of sub-blocks 0, 2 and 8 (-3 as int8)
	ql[0] = 0x0f                     // element 0: low 4 bits 15 ...
	qh[0] = 0x02                     // ... high 2 bits 2 -> 47 - 32 = 15
	ql[32] = 0x03                    // element 32: 3 | 0<<4 = 3 -> 3 - 32 = -29
	// All other quants are 0 -> -32. value = d * scale(k/16) * q.
	scale := make([]float32, 16)
	scale[0], scale[2], scale[8] = 2, -3, 1
	want := make([]float32, 256)
	for k := range want {
		want[k] = 0.25 * scale[k/16] * -32
	}
	want[0] = 0.25 * 2 * 15    // 7.5
	want[32] = 0.25 * -3 * -29 // 21.75
	checkValues(t, "Q6_K", mustDequant(Q6_K, b, 256), want)
}

func TestDequantIQ4Hand(t *testing.T) {
	b := make([]byte, 18)
	b[0], b[1] = 0x00, 0x40 // d = 2
	for j := 2; j < 18; j++ {
		b[j] = 0x88 // codebook[8] = 1
	}
	b[2] = 0xf0 // element 0: codebook[0] = -127; element 16: codebook[15] = 113
	want := make([]float32, 32)
	for k := range want {
		want[k] = 2
	}
	want[0], want[16] = -254, 226
	checkValues(t, "IQ4_NL", mustDequant(IQ4_NL, b, 32), want)

	x := make([]byte, 136)
	x[0], x[1] = 0x00, 0x3c // d = 1
	x[2], x[3] = 0x0e, 0x00 // scales_h: sub-block 0 high bits 2, sub-block 1 high bits 3
	x[4] = 0x51             // scales_l[0]: sub-block 0 low 1, sub-block 1 low 5
	for j := 8; j < 136; j++ {
		x[j] = 0x88
	}
	// sub-block 0: scale (1 | 2<<4) - 32 = 1; sub-block 1: (5 | 3<<4) - 32 = 21;
	// others: 0 - 32 = -32. Values are scale * codebook[8] = scale.
	want = make([]float32, 256)
	for k := range want {
		want[k] = -32
	}
	for k := 0; k < 32; k++ {
		want[k], want[32+k] = 1, 21
	}
	checkValues(t, "IQ4_XS", mustDequant(IQ4_XS, x, 256), want)
}

// TestDequantRandomFinite dequantizes random blocks of every format and
// checks that the values are finite and bounded by the format's scale range.
func TestDequantRandomFinite(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, typ := range computable {
		w := randomRow(r, typ, 1024)
		for i, v := range mustDequant(typ, w, 1024) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1000 {
				t.Fatalf("%s: element %d = %v", typ, i, v)
			}
		}
	}
}
