package kernels

import (
	"math"
	"testing"
)

// vecInputs returns n floats mixing normal values, exact zeros, tiny and
// huge magnitudes, and (for SwiGLU) arguments past expf's ±88 range.
func vecInputs(seed uint64, n int) []float32 {
	r := newRand(seed)
	x := randomFloats(r, n)
	for i := range x {
		switch r.IntN(12) {
		case 0:
			x[i] = 0
		case 1:
			x[i] *= 1e-30
		case 2:
			x[i] *= 1e4
		case 3:
			x[i] = float32(r.NormFloat64() * 150)
		}
	}
	return x
}

// TestFastQuantizeQ8_0 checks each level's Q8_0 activation quantization
// against quantizeBlockQ8 byte for byte, including all-zero blocks.
func TestFastQuantizeQ8_0(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		for trial := 0; trial < 50; trial++ {
			nb := 1 + trial%9
			x := vecInputs(uint64(500+trial), 32*nb)
			if trial%5 == 0 {
				clear(x[:32])
			}
			want := make([]byte, 34*nb)
			for b := 0; b < nb; b++ {
				quantizeBlockQ8(x[32*b:32*b+32], want[34*b:34*b+34], false)
			}
			got := make([]byte, 34*nb)
			QuantizeActivations(Q8_0, x, got)
			if string(got) != string(want) {
				t.Fatalf("trial %d (%d blocks): bytes differ from the reference", trial, nb)
			}
		}
	})
}

// TestFastSwiGLU checks each level's SwiGLU against the reference bit for
// bit, over lengths with and without a scalar tail and gate values that
// reach expf's overflow and underflow lanes.
func TestFastSwiGLU(t *testing.T) {
	ref := func(dst, gate, up []float32) {
		vec := len(dst) / swigluLanes * swigluLanes
		for i := range dst {
			if i < vec {
				dst[i] = gate[i] / (1 + vexpf(-gate[i])) * up[i]
			} else {
				dst[i] = SiLU(gate[i]) * up[i]
			}
		}
	}
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, n := range []int{1, 15, 16, 17, 64, 172, 5632} {
			gate, up := vecInputs(uint64(600+n), n), vecInputs(uint64(700+n), n)
			want, got := make([]float32, n), make([]float32, n)
			ref(want, gate, up)
			SwiGLU(got, gate, up)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d: dst[%d] = %v, want %v (gate %v up %v)", n, i, got[i], want[i], gate[i], up[i])
				}
			}
			// In place, as the model calls it.
			copy(got, gate)
			SwiGLU(got, got, up)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d in place: dst[%d] = %v, want %v", n, i, got[i], want[i])
				}
			}
		}
	})
}

// TestFastQuantizeToPackedForms checks the fused quantizers against
// QuantizeActivations followed by q8Sum / q8Ext (K = 128), byte for byte.
func TestFastQuantizeToPackedForms(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		v := current().vec
		for trial := 0; trial < 40; trial++ {
			nb := 1 + trial%7
			x := vecInputs(uint64(800+trial), 32*nb)
			if trial%4 == 0 {
				clear(x[32*(nb-1):])
			}
			q8 := make([]byte, 34*nb)
			QuantizeActivations(Q8_0, x, q8)
			for _, c := range []struct {
				name  string
				fn    func([]float32, []byte)
				bytes int
				ref   func(dst []byte)
			}{
				{"q8Sum", v.quantQ8Sum, q8SumBytes, func(dst []byte) { q8Sum(dst, q8, nb) }},
				{"q8Ext128", v.quantQ8Ext128, q8ExtBytes, func(dst []byte) { q8Ext(dst, q8, nb, 128) }},
			} {
				if c.fn == nil {
					continue
				}
				want, got := make([]byte, c.bytes*nb), make([]byte, c.bytes*nb)
				c.ref(want)
				c.fn(x, got)
				if string(got) != string(want) {
					t.Fatalf("%s trial %d (%d blocks): bytes differ from the reference", c.name, trial, nb)
				}
			}
		}
	})
}
