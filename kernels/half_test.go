package kernels

import (
	"math"
	"testing"
)

// halfRef decodes a half from its definition.
func halfRef(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(m, -24)
	case 0x1f:
		if m == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+m, e-25)
}

// TestFP16AllHalves checks every one of the 65536 halves: widening matches
// the definition, narrowing gives the same half back (NaNs stay NaN), and the
// float32 midpoint between each half and the next rounds to the even one.
func TestFP16AllHalves(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := FP16ToFP32(h)
		ref := halfRef(h)
		if math.IsNaN(ref) {
			if !math.IsNaN(float64(f)) {
				t.Fatalf("%#04x: got %v, want NaN", h, f)
			}
			if back := FP32ToFP16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("%#04x: NaN narrowed to %#04x", h, back)
			}
			continue
		}
		if float64(f) != ref || math.Signbit(float64(f)) != (h&0x8000 != 0) {
			t.Fatalf("%#04x: FP16ToFP32 = %v, want %v", h, f, ref)
		}
		if back := FP32ToFP16(f); back != h {
			t.Fatalf("%#04x: round trip gives %#04x", h, back)
		}
		// Midpoint with the next half of larger magnitude (finite ones).
		if h&0x7fff < 0x7bff {
			next := h + 1
			mid := float32((ref + halfRef(next)) / 2) // exact in float32
			want := h
			if h&1 == 1 {
				want = next
			}
			if got := FP32ToFP16(mid); got != want {
				t.Fatalf("midpoint of %#04x and %#04x rounds to %#04x, want %#04x", h, next, got, want)
			}
		}
	}
	// Above the largest half (65504) rounding goes to Inf from the midpoint up.
	if FP32ToFP16(65519) != 0x7bff || FP32ToFP16(65520) != 0x7c00 || FP32ToFP16(-1e10) != 0xfc00 {
		t.Error("overflow rounding is wrong")
	}
}

// TestBF16AllValues checks every bfloat16: widening puts the bits on top,
// narrowing returns them, and midpoints round to even.
func TestBF16AllValues(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToFP32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("%#04x: widened bits %#08x", h, math.Float32bits(f))
		}
		if math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(BF16ToFP32(FP32ToBF16(f)))) {
				t.Fatalf("%#04x: NaN lost", h)
			}
			continue
		}
		if back := FP32ToBF16(f); back != h {
			t.Fatalf("%#04x: round trip gives %#04x", h, back)
		}
		if h&0x7fff < 0x7f7f {
			mid := math.Float32frombits(uint32(h)<<16 | 0x8000)
			want := h
			if h&1 == 1 {
				want = h + 1
			}
			if got := FP32ToBF16(mid); got != want {
				t.Fatalf("midpoint above %#04x rounds to %#04x, want %#04x", h, got, want)
			}
		}
	}
}
