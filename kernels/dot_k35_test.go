package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// k35Types are the formats of dot_k35_amd64.s.
var k35Types = []Type{Q5_K, Q3_K}

// k35HasFast reports whether level l must run a fast kernel for the
// k35 types: every amd64 level from AVX2 up in an asm build.
func k35HasFast(l Level) bool { return l >= LevelAVX2 && l <= LevelAVX512VNNI }

// k35CheckChoice fails when level l runs the reference for typ's dot, or
// the AVX2 kernel where the AVX-512 one applies.
func k35CheckChoice(t *testing.T, typ Type, l Level) {
	t.Helper()
	name := current().names[typ]
	if k35HasFast(l) && name == "generic" || l >= LevelAVX512 && l <= LevelAVX512VNNI && name == "avx2" {
		t.Fatalf("%s at %s: dot %q chosen", typ, l, name)
	}
}

// rawQ8K builds a Q8_K row of n elements with the quants q(k) and random
// block scales, bsums computed from the quants as quantize_row_q8_K does.
func rawQ8K(r *rand.Rand, n int, q func(k int) int8) []byte {
	b := make([]byte, n/QK_K*q8KBytes)
	for blk := 0; blk < n/QK_K; blk++ {
		y := b[blk*q8KBytes:]
		binary.LittleEndian.PutUint32(y, math.Float32bits(float32(r.Float64()*0.02+1e-4)))
		for j := 0; j < 16; j++ {
			var s int16
			for k := 0; k < 16; k++ {
				v := q(blk*QK_K + 16*j + k)
				y[4+16*j+k] = byte(v)
				s += int16(v)
			}
			binary.LittleEndian.PutUint16(y[260+2*j:], uint16(s))
		}
	}
	return b
}

// TestK35DotsBitExact checks the Q5_K and Q3_K dot products at every level
// against the reference, bit for bit: random rows of 1..33 super-blocks,
// extreme weight scales with tiny or wide activations, a single spike, and
// the integer corners (all-ones quant bytes against -128 activations, the
// most negative products the int16 steps see).
func TestK35DotsBitExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(uint64(l), 35))
		for _, typ := range k35Types {
			tr, _ := TraitsOf(typ)
			k35CheckChoice(t, typ, l)
			for _, blocks := range []int{1, 2, 3, 7, 9, 33} {
				n := blocks * QK_K
				for trial := 0; trial < 8; trial++ {
					kind := inputRandom
					if trial >= 3 && trial <= 5 { // huge weights, tiny weights, a spike
						kind = trial - 2
					}
					w, x := dotInputs(r, typ, n, kind)
					var a []byte
					switch trial {
					case 6: // saturated quants against -128 everywhere
						for _, qr := range quantRanges[typ] {
							for blk := 0; blk < blocks; blk++ {
								l, _ := LayoutOf(typ)
								for i := qr[0]; i < qr[1]; i++ {
									w[blk*l.BlockBytes+i] = 0xff
								}
							}
						}
						a = rawQ8K(r, n, func(int) int8 { return -128 })
					case 7: // zero quant bytes (Q3_K: all -4) against -128/127 at random
						for _, qr := range quantRanges[typ] {
							for blk := 0; blk < blocks; blk++ {
								l, _ := LayoutOf(typ)
								for i := qr[0]; i < qr[1]; i++ {
									w[blk*l.BlockBytes+i] = 0
								}
							}
						}
						a = rawQ8K(r, n, func(int) int8 { return int8(-128 + 255*r.IntN(2)) })
					}
					if a == nil {
						a = quantized(tr.VecDotType, x)
					}
					want := tr.VecDot(n, w, a)
					got := VecDot(typ, n, w, a)
					if math.Float32bits(got) != math.Float32bits(want) {
						t.Errorf("%s blocks=%d trial %d: %s = %v (%#08x), reference %v (%#08x)",
							typ, blocks, trial, current().names[typ], got, math.Float32bits(got),
							want, math.Float32bits(want))
					}
					// Bytes past the row must not matter.
					wx := append(append([]byte(nil), w...), randomRow(r, typ, QK_K)...)
					ax := append(append([]byte(nil), a...), quantized(tr.VecDotType, randomFloats(r, QK_K))...)
					if g := VecDot(typ, n, wx, ax); math.Float32bits(g) != math.Float32bits(got) {
						t.Errorf("%s blocks=%d trial %d: %v with a block after the rows, %v without", typ, blocks, trial, g, got)
					}
				}
			}
		}
	})
}

// k35Acts returns an activation row of n elements for case c: normal,
// tiny, wide-ranging, one spike, all -128, or random -128/127.
func k35Acts(r *rand.Rand, n, c int) []byte {
	x := randomFloats(r, n)
	switch c % 6 {
	case 1:
		for i := range x {
			x[i] *= 1e-3
		}
	case 2:
		for i := range x {
			x[i] *= float32(math.Exp2(16*r.Float64() - 8))
		}
	case 3:
		x[r.IntN(n)] = 1e4
	case 4:
		return rawQ8K(r, n, func(int) int8 { return -128 })
	case 5:
		return rawQ8K(r, n, func(int) int8 { return int8(-128 + 255*r.IntN(2)) })
	}
	return quantized(Q8_K, x)
}

// TestK35Gemm checks the four-token kernels at every level: each of the
// four outputs must equal the reference dot of its activation row, bit for
// bit, with rows of different kinds side by side, packed or strided apart.
func TestK35Gemm(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(uint64(l), 353))
		for _, typ := range k35Types {
			tr, _ := TraitsOf(typ)
			g, ok := current().gemm[typ]
			if !ok || g.fn == nil {
				if k35HasFast(l) {
					t.Fatalf("%s at %s: no four-token kernel", typ, l)
				}
				continue
			}
			for _, blocks := range []int{1, 2, 3, 7, 9, 33} {
				n := blocks * QK_K
				arb := blocks * q8KBytes
				for trial := 0; trial < 6; trial++ {
					w := randomRow(r, typ, n)
					switch trial {
					case 1:
						scaleRow(r, typ, w, 4, 12)
					case 2:
						scaleRow(r, typ, w, -12, -4)
					case 3, 4:
						fill := byte(0xff * (trial - 3))
						l, _ := LayoutOf(typ)
						for _, qr := range quantRanges[typ] {
							for blk := 0; blk < blocks; blk++ {
								for i := qr[0]; i < qr[1]; i++ {
									w[blk*l.BlockBytes+i] = fill
								}
							}
						}
					}
					stride := arb + q8KBytes*(trial%2)
					a := make([]byte, 3*stride+arb)
					var want [gemmRows]float32
					for k := range gemmRows {
						row := k35Acts(r, n, trial+k)
						copy(a[k*stride:], row)
						want[k] = tr.VecDot(n, w, row)
					}
					var out [gemmRows]float32
					g.fn(n, w, a, stride, gemmRows, &out)
					for k := range gemmRows {
						if math.Float32bits(out[k]) != math.Float32bits(want[k]) {
							t.Errorf("%s blocks=%d trial %d row %d: %s = %v, reference %v",
								typ, blocks, trial, k, g.name, out[k], want[k])
						}
					}
				}
			}
		}
	})
}

// TestK35MatMul checks MatMul over Q5_K and Q3_K matrices (decode and
// prompt batches: four-token tiles and their tails, with and without a
// pool) against the reference dot of
// every output, bit for bit, at every level.
func TestK35MatMul(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(350 + l))
		for _, typ := range k35Types {
			tr, _ := TraitsOf(typ)
			const rows, cols = 5, 3 * QK_K
			w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
			for _, n := range []int{1, 2, 4, 5, 9} {
				x := randomFloats(r, n*cols)
				want := make([]float32, n*rows)
				for i := 0; i < n; i++ {
					a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
					for j := 0; j < rows; j++ {
						want[i*rows+j] = tr.VecDot(cols, w.Row(j), a)
					}
				}
				for _, p := range []*Pool{nil, pool} {
					got := make([]float32, n*rows)
					MatMul(p, got, w, x, n)
					for k := range want {
						if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
							t.Fatalf("%s n=%d threads=%d: dst[%d] = %v, reference %v", typ, n, p.Threads(), k, got[k], want[k])
						}
					}
				}
			}
		}
	})
}

// TestK35RealWeights runs the kernels on llama-quantize's own Q5_K and
// Q3_K bytes (testdata/ref: synth256's blk.0.attn_k, 128 rows of one
// super-block): the whole tensor as one 128-block row, and as a matrix
// through MatMul (one, four and six tokens, with and without a pool), each
// output equal to the reference dot bit for bit.
func TestK35RealWeights(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	for _, typ := range k35Types {
		data, err := os.ReadFile(filepath.Join("testdata", "ref", "blk.0.attn_k."+typ.String()+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		const rows, cols = 128, 256
		if want, _ := RowBytes(typ, rows*cols); int64(len(data)) != want {
			t.Fatalf("%s: %d bytes, want %d", typ, len(data), want)
		}
		tr, _ := TraitsOf(typ)
		forEachLevel(t, func(t *testing.T, l Level) {
			r := newRand(uint64(3500 + l))
			for c := 0; c < 6; c++ {
				a := k35Acts(r, rows*cols, c)
				got, want := VecDot(typ, rows*cols, data, a), tr.VecDot(rows*cols, data, a)
				if math.Float32bits(got) != math.Float32bits(want) {
					t.Errorf("%s one row, activations %d: %v, reference %v", typ, c, got, want)
				}
			}
			w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: data}
			for _, n := range []int{1, 4, 6} {
				x := randomFloats(r, n*cols)
				for i := range x {
					x[i] *= float32(math.Exp2(float64(r.IntN(9) - 4)))
				}
				for _, p := range []*Pool{nil, pool} {
					got := make([]float32, n*rows)
					MatMul(p, got, w, x, n)
					for i := 0; i < n; i++ {
						a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
						for j := 0; j < rows; j++ {
							if want := tr.VecDot(cols, w.Row(j), a); math.Float32bits(got[i*rows+j]) != math.Float32bits(want) {
								t.Fatalf("%s n=%d threads=%d token %d row %d: %v, reference %v",
									typ, n, p.Threads(), i, j, got[i*rows+j], want)
							}
						}
					}
				}
			}
		})
	}
}

// BenchmarkK35Dots times the reference and each supported level's dot for
// Q5_K and Q3_K over a 4096-element row (in L1), and four tokens at once.
func BenchmarkK35Dots(b *testing.B) {
	const n = 4096
	defer SetLevel(LevelGeneric)
	r := newRand(36)
	for _, typ := range k35Types {
		tr, _ := TraitsOf(typ)
		w := randomRow(r, typ, n)
		a := quantized(tr.VecDotType, randomFloats(r, n))
		b.Run(typ.String()+"/reference", func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				tr.VecDot(n, w, a)
			}
		})
		for _, l := range SupportedLevels()[1:] {
			SetLevel(l)
			b.Run(typ.String()+"/"+current().names[typ]+"@"+l.String(), func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				for b.Loop() {
					VecDot(typ, n, w, a)
				}
			})
			// Four tokens: the four-token kernel per call (ns/op covers all
			// four dots), else four one-row dots.
			a4 := make([]byte, 0, 4*len(a))
			for range gemmRows {
				a4 = append(a4, quantized(tr.VecDotType, randomFloats(r, n))...)
			}
			g, ok := current().gemm[typ]
			name := "4dots"
			if ok && g.fn != nil {
				name = "4rows"
			}
			b.Run(typ.String()+"/"+name+"@"+l.String(), func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				var out [gemmRows]float32
				for b.Loop() {
					if ok && g.fn != nil {
						g.fn(n, w, a4, len(a), gemmRows, &out)
						continue
					}
					for k := range gemmRows {
						out[k] = VecDot(typ, n, w, a4[k*len(a):])
					}
				}
			})
		}
		SetLevel(LevelGeneric)
	}
}
