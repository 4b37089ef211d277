//go:build amd64 && !noasm

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// legacyFast are the formats of dot_legacy_amd64.s.
var legacyFast = []Type{Q4_1, Q5_0, Q5_1}

// legacyActQuants returns the byte range of the quants in one activation
// block of type t (Q8_0: after d; Q8_1: after d and s) and the block size.
func legacyActQuants(t Type) (lo, hi, size int) {
	if t == Q8_1 {
		return 4, 36, 36
	}
	return 2, 34, 34
}

// checkLegacyDot asserts that the current level's dot equals the reference
// bit for bit.
func checkLegacyDot(t *testing.T, typ Type, n int, w, a []byte, what string) {
	t.Helper()
	tr, _ := TraitsOf(typ)
	want := tr.VecDot(n, w, a)
	got := VecDot(typ, n, w, a)
	if math.Float32bits(got) != math.Float32bits(want) {
		t.Errorf("%s n=%d %s: %s = %v (%#08x), reference %v (%#08x)",
			typ, n, what, current().names[typ], got, math.Float32bits(got), want, math.Float32bits(want))
	}
}

// TestLegacyDotsExact checks the Q4_1/Q5_0/Q5_1 kernels against the
// reference, bit for bit, at every level the CPU has: rows of 1..33 blocks
// with normal scales, huge weight scales with tiny activations, tiny weight
// scales with wide activations, a one-spike activation row, and raw random
// activation bytes (-128 included, which quantization never makes).
func TestLegacyDotsExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(uint64(l), 31))
		for _, typ := range legacyFast {
			if name := current().names[typ]; name == "generic" {
				t.Fatalf("%s: no fast dot at level %s", typ, l)
			}
			tr, _ := TraitsOf(typ)
			for _, nb := range []int{1, 2, 3, 7, 9, 33} {
				n := nb * 32
				for trial := range 6 * 4 { // six kinds of input, four rows each
					trial %= 6
					w, x := dotInputs(r, typ, n, trial%inputKinds)
					what := inputKindNames[trial%inputKinds]
					a := quantized(tr.VecDotType, x)
					if trial == 5 {
						what = "raw activation bytes"
						lo, hi, size := legacyActQuants(tr.VecDotType)
						for b := 0; b < nb; b++ {
							for i := b*size + lo; i < b*size+hi; i++ {
								a[i] = byte(r.IntN(256))
							}
						}
					}
					checkLegacyDot(t, typ, n, w, a, what)
				}
			}
		}
	})
}

// TestLegacyDotsExtremeBytes fills weights and activations with the
// extreme quant values (every nibble 0 or 15, every fifth bit 0 or 1,
// activations all -128, -127 or 127), where an int16 intermediate would
// saturate if the kernel got its ranges wrong.
func TestLegacyDotsExtremeBytes(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(40 + l))
		const nb = 5
		const n = nb * 32
		for _, typ := range legacyFast {
			tr, _ := TraitsOf(typ)
			lay, _ := LayoutOf(typ)
			qlo := quantRanges[typ][0][0]
			for _, wq := range []byte{0x00, 0xff, 0x0f, 0xf0} {
				for _, aq := range []byte{0x80, 0x81, 0x7f} {
					w := randomRow(r, typ, n)
					for b := 0; b < nb; b++ {
						blk := w[b*lay.BlockBytes : (b+1)*lay.BlockBytes]
						for i := qlo; i < len(blk); i++ {
							blk[i] = wq // qh (for Q5) and qs alike
						}
					}
					a := quantized(tr.VecDotType, randomFloats(r, n))
					lo, hi, size := legacyActQuants(tr.VecDotType)
					for b := 0; b < nb; b++ {
						for i := b*size + lo; i < b*size+hi; i++ {
							a[i] = aq
						}
					}
					checkLegacyDot(t, typ, n, w, a, "extreme bytes")
				}
			}
		}
	})
}

// TestLegacyDotsEmptyRow checks that a row of no blocks gives 0 without
// touching the (empty) slices.
func TestLegacyDotsEmptyRow(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, typ := range legacyFast {
			if got := VecDot(typ, 0, nil, nil); math.Float32bits(got) != 0 {
				t.Errorf("%s: empty row = %v", typ, got)
			}
		}
	})
}

// legacyGemms returns the four-row kernels registered for typ that this
// CPU can run, whether or not its level's table chose them.
func legacyGemms(typ Type) []gemmImpl {
	var out []gemmImpl
	for _, g := range fastGemms[typ] {
		if g.fn != nil && g.level <= DetectedLevel() && clampLevel(g.level) == g.level {
			out = append(out, g)
		}
	}
	return out
}

// gemmActs lays out four activation rows (Q8_0/Q8_1 bytes) as kernel g
// takes them: q8Ext blocks when g.ext > 0. It returns the buffer and the
// row stride, which leaves slack of a random number of blocks.
func gemmActs(r *rand.Rand, g gemmImpl, rows [][]byte, nb, size int) ([]byte, int) {
	if g.ext > 0 {
		size = q8ExtBytes
	}
	stride := nb*size + size*r.IntN(3)
	a := make([]byte, 3*stride+nb*size)
	for k, q := range rows {
		if g.ext > 0 {
			q8Ext(a[k*stride:], q, nb, g.ext)
		} else {
			copy(a[k*stride:], q)
		}
	}
	return a, stride
}

// TestLegacyGemmExact checks every four-row kernel this CPU can run
// directly: each of the four outputs equals the reference dot of its
// activation row bit for bit, with the rows further apart than a row (a
// stride with slack) and of different kinds (normal, wide, spiky, raw
// bytes). It also checks that every fast level has a four-row kernel.
func TestLegacyGemmExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, typ := range legacyFast {
			if g, ok := current().gemm[typ]; !ok || g.fn == nil {
				t.Errorf("%s: no four-row kernel at level %s", typ, l)
			}
		}
	})
	r := newRand(80)
	for _, typ := range legacyFast {
		tr, _ := TraitsOf(typ)
		lo, hi, size := legacyActQuants(tr.VecDotType)
		gs := legacyGemms(typ)
		if len(gs) == 0 {
			t.Logf("%s: no four-row kernel on this CPU", typ)
		}
		for _, g := range gs {
			for _, nb := range []int{1, 2, 3, 7, 9, 33} {
				n := nb * 32
				for rep := range 4 {
					w := randomRow(r, typ, n)
					if rep == 1 {
						scaleRow(r, typ, w, 4, 12)
					}
					rows := make([][]byte, 4)
					for row := range rows {
						x := randomFloats(r, n)
						switch row {
						case 1:
							for i := range x {
								x[i] *= float32(math.Exp2(16*r.Float64() - 8))
							}
						case 2:
							x[r.IntN(n)] = 1e4
						}
						rows[row] = quantized(tr.VecDotType, x)
						if row == 3 {
							for b := range nb {
								for i := b*size + lo; i < b*size+hi; i++ {
									rows[row][i] = byte(r.IntN(256))
								}
							}
						}
					}
					a, stride := gemmActs(r, g, rows, nb, size)
					var out [gemmRows]float32
					g.fn(n, w, a, stride, gemmRows, &out)
					for row := range 4 {
						want := tr.VecDot(n, w, rows[row])
						if math.Float32bits(out[row]) != math.Float32bits(want) {
							t.Errorf("%s n=%d rep %d row %d: %s = %v, reference %v",
								typ, n, rep, row, g.name, out[row], want)
						}
					}
				}
			}
		}
	}
}

// TestLegacyMatMulExact runs MatMul (with and without a pool; 1..9 tokens,
// so the four-token tiles and the one-token tails both run) on the three
// formats and compares every output with the reference dot of the token's
// quantized activations.
func TestLegacyMatMulExact(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(90 + l))
		for _, typ := range legacyFast {
			tr, _ := TraitsOf(typ)
			const cols = 96
			for _, rows := range []int{1, 5, 13} {
				w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
				for _, n := range []int{1, 3, 4, 5, 9} {
					x := randomFloats(r, n*cols)
					for _, p := range []*Pool{nil, pool} {
						got := make([]float32, n*rows)
						MatMul(p, got, w, x, n)
						for i := range n {
							a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
							for k := range rows {
								want := tr.VecDot(cols, w.Row(k), a)
								if g := got[i*rows+k]; math.Float32bits(g) != math.Float32bits(want) {
									t.Fatalf("%s rows=%d n=%d threads=%d: token %d row %d = %v, reference %v",
										typ, rows, n, p.Threads(), i, k, g, want)
								}
							}
						}
					}
				}
			}
		}
	})
}

// BenchmarkLegacyDots times one 4096-element dot (in L1) per format, the
// reference and every supported fast level, and one four-row call.
func BenchmarkLegacyDots(b *testing.B) {
	const n = 4096
	defer SetLevel(LevelGeneric)
	r := newRand(9)
	for _, typ := range legacyFast {
		tr, _ := TraitsOf(typ)
		w := randomRow(r, typ, n)
		a := quantized(tr.VecDotType, randomFloats(r, n))
		for _, l := range SupportedLevels() {
			SetLevel(l)
			b.Run(typ.String()+"/"+current().names[typ]+"@"+l.String(), func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				for b.Loop() {
					VecDot(typ, n, w, a)
				}
			})
		}
		// Four activation rows: one four-row call (compare with 4x the dot).
		rows := make([][]byte, 4)
		for k := range rows {
			rows[k] = quantized(tr.VecDotType, randomFloats(r, n))
		}
		for _, g := range legacyGemms(typ) {
			a4, stride := gemmActs(r, g, rows, n/32, len(a)/(n/32))
			b.Run(typ.String()+"/4 rows "+g.name, func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				var out [gemmRows]float32
				for b.Loop() {
					g.fn(n, w, a4, stride, gemmRows, &out)
				}
			})
		}
	}
}
