//go:build arm64 && !noasm

package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// neonKernels are the arm64 dot products, each variant called directly so
// that both the dot product (SDOT) and the plain NEON integer paths are
// checked whichever one the dispatcher picked on this CPU.
var neonKernels = []struct {
	name  string
	typ   Type
	fn    func(n int, w, a []byte) float32
	needs bool
}{
	{"Q8_0/neon", Q8_0, laneBlocks(34, 34, qkLegacy, dotQ8_0NEON), true},
	{"Q8_0/sdot", Q8_0, laneBlocks(34, 34, qkLegacy, dotQ8_0SDOT), hasDotProd},
	{"Q4_0/neon", Q4_0, laneBlocks(18, 34, qkLegacy, dotQ4_0NEON), true},
	{"Q4_0/sdot", Q4_0, laneBlocks(18, 34, qkLegacy, dotQ4_0SDOT), hasDotProd},
	{"F16/neon", F16, dotF16NEON, true},
}

// halfRow returns n F16 values: normal ones, and in hard mode also
// subnormals, zeros of both signs and values near the largest half.
func halfRow(r *rand.Rand, n int, hard bool) []byte {
	b := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := float32(r.NormFloat64())
		if hard {
			switch r.IntN(5) {
			case 0:
				v *= 1e-6 // subnormal halves
			case 1:
				v = float32(math.Copysign(0, float64(v)))
			case 2:
				v = float32(math.Copysign(6e4, float64(v)))
			}
		}
		binary.LittleEndian.PutUint16(b[2*i:], FP32ToFP16(v))
	}
	return b
}

// TestNEONDotsBitIdentical compares each NEON dot product with the
// reference (Traits.VecDot) bit for bit: block counts from 0 to past 64,
// F16 lengths with every kind of tail, normal and extreme scales, and for
// the integer formats raw random quants on both sides (so -128·-128 occurs,
// the largest int16 product the plain NEON path forms).
func TestNEONDotsBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, k := range neonKernels {
		if !k.needs {
			t.Logf("%s: not supported by this CPU, skipped", k.name)
			continue
		}
		tr, _ := TraitsOf(k.typ)
		var sizes []int
		if k.typ == F16 {
			sizes = []int{0, 1, 7, 63, 64, 65, 127, 128, 129, 200, 1000, 4096 + 33}
		} else {
			for _, nb := range []int{0, 1, 2, 3, 7, 8, 33, 65, 128} {
				sizes = append(sizes, 32*nb)
			}
			sizes = append(sizes, 32*5+17) // a partial block is ignored by both
		}
		compared := 0
		for _, n := range sizes {
			for trial := 0; trial < 8; trial++ {
				var w, a []byte
				if k.typ == F16 {
					w, a = halfRow(r, n, trial%2 == 1), halfRow(r, n, trial%4 == 3)
				} else {
					nb := n / 32
					w = randomRow(r, k.typ, 32*nb)
					x := randomFloats(r, 32*nb)
					switch trial {
					case 1: // huge weight scales, tiny activations
						scaleRow(r, k.typ, w, 4, 12)
						for i := range x {
							x[i] *= 1e-3
						}
					case 2: // tiny weight scales, wide-ranging activations
						scaleRow(r, k.typ, w, -12, -4)
						for i := range x {
							x[i] *= float32(math.Exp2(16*r.Float64() - 8))
						}
					case 3: // one spike
						if len(x) > 0 {
							x[r.IntN(len(x))] = 1e4
						}
					}
					if trial >= 4 { // raw quants on both sides, random sane scales
						a = randomRow(r, Q8_0, 32*nb)
						if trial == 5 {
							for i := range a {
								if i%34 >= 2 {
									a[i] = 0x80 // -128 everywhere
								}
							}
							if k.typ == Q8_0 {
								for i := range w {
									if i%34 >= 2 {
										w[i] = 0x80
									}
								}
							}
						}
					} else {
						a = quantized(Q8_0, x)
					}
				}
				want := tr.VecDot(n, w, a)
				got := k.fn(n, w, a)
				if math.Float32bits(got) != math.Float32bits(want) {
					t.Errorf("%s n=%d trial %d: %v (%#08x), reference %v (%#08x)",
						k.name, n, trial, got, math.Float32bits(got), want, math.Float32bits(want))
				}
				compared++
			}
		}
		t.Logf("%s: %d rows compared", k.name, compared)
	}
}

// TestNEONLevelDispatch checks that the NEON level is detected on this
// arm64 CPU and that at it VecDot and MatMul use the NEON kernels, with the
// reference's results bit for bit.
func TestNEONLevelDispatch(t *testing.T) {
	defer SetLevel(LevelGeneric)
	if DetectedLevel() != LevelNEON {
		t.Fatalf("detected level %s on arm64, want neon", DetectedLevel())
	}
	if got := SetLevel(LevelNEON); got != LevelNEON {
		t.Fatalf("SetLevel(neon) = %s", got)
	}
	want := map[Type]string{Q8_0: "neon", Q4_0: "neon", F16: "neon"}
	if hasDotProd {
		want[Q8_0], want[Q4_0] = "neon+dotprod", "neon+dotprod"
	}
	r := newRand(43)
	for typ, name := range want {
		if got := current().names[typ]; got != name {
			t.Errorf("%s at neon uses %q, want %q", typ, got, name)
		}
		tr, _ := TraitsOf(typ)
		const rows, cols = 5, 256 + 64
		m := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
		x := randomFloats(r, 3*cols)
		got := make([]float32, 3*rows)
		MatMul(nil, got, m, x, 3)
		for i := 0; i < 3; i++ {
			a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
			for row := 0; row < rows; row++ {
				ref := tr.VecDot(cols, m.Row(row), a)
				if g := got[i*rows+row]; math.Float32bits(g) != math.Float32bits(ref) {
					t.Errorf("%s MatMul[%d][%d] = %v, reference %v", typ, i, row, g, ref)
				}
			}
		}
	}
}
