package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// Tests of the Q2_K and IQ4_NL fast kernels (dot_q2k_iq4nl_amd64.s): at
// every level they must give the reference's float32 bit for bit, in the
// plain order (VecDot) and in the repacked orders (kRepackedFor).

var q2nlTypes = []Type{IQ4_NL, Q2_K}

// q2nlCase returns the weight row and activation row of one trial: 0-2
// random, 3 huge weight scales with tiny activations, 4 tiny weight scales
// with wide-ranging activations, 5 one spike, 6 raw activation bytes
// (any int8 quant, -128 included, and bsums that need not match).
func q2nlCase(r *rand.Rand, typ Type, n, trial int) (w, a []byte) {
	tr, _ := TraitsOf(typ)
	kind := inputRandom
	if trial >= 3 && trial <= 5 { // huge weights, tiny weights, a spike
		kind = trial - 2
	}
	w, x := dotInputs(r, typ, n, kind)
	if trial == 6 {
		return w, q2nlRawActivations(r, tr.VecDotType, n)
	}
	return w, quantized(tr.VecDotType, x)
}

// q2nlRawActivations returns a Q8_0 or Q8_K row of random bytes with finite
// scales.
func q2nlRawActivations(r *rand.Rand, t Type, n int) []byte {
	l, _ := LayoutOf(t)
	b := make([]byte, n/l.BlockSize*l.BlockBytes)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	for blk := 0; blk < len(b)/l.BlockBytes; blk++ {
		p := b[blk*l.BlockBytes:]
		if t == Q8_K {
			binary.LittleEndian.PutUint32(p, math.Float32bits(float32(r.NormFloat64())))
		} else {
			binary.LittleEndian.PutUint16(p, randomHalf(r, 1e-3, 0.1))
		}
	}
	// Every quant at an extreme in the first block.
	for k := 0; k < 32; k++ {
		p := 2 + k
		if t == Q8_K {
			p = 4 + k
		}
		b[p] = []byte{0x80, 0x7f, 0x81}[k%3]
	}
	return b
}

const q2nlTrials = 7

// q2nlHasFast reports whether level l must have this file's kernels (the
// amd64 levels; other architectures may not have them yet).
func q2nlHasFast(l Level) bool {
	return runtime.GOARCH == "amd64" && l >= LevelAVX2 && l <= LevelAVX512VNNI
}

// TestQ2KIQ4NLDotsExact checks VecDot at every level against the plain
// reference (dotIQ4_NL, dotQ2_K), bit for bit.
func TestQ2KIQ4NLDotsExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(300 + l))
		for _, typ := range q2nlTypes {
			tr, _ := TraitsOf(typ)
			if q2nlHasFast(l) && current().names[typ] == "generic" {
				t.Fatalf("%s: no fast dot at %s", typ, l)
			}
			for _, nb := range []int{1, 2, 3, 7, 9, 33} {
				n := nb * tr.BlockSize
				for trial := 0; trial < q2nlTrials; trial++ {
					w, a := q2nlCase(r, typ, n, trial)
					want := tr.VecDot(n, w, a)
					got := VecDot(typ, n, w, a)
					if math.Float32bits(got) != math.Float32bits(want) {
						t.Errorf("%s n=%d trial %d: %s = %v, reference %v",
							typ, n, trial, current().names[typ], got, want)
					}
				}
			}
		}
	})
}

// q2nlRepackedRef is the repacked reference for typ.
func q2nlRepackedRef(typ Type, n int, w, a []byte, groups int) float32 {
	if typ == Q2_K {
		return dotQ2_KRepacked(n, w, a, groups)
	}
	return dotIQ4_NLRepacked(n, w, a)
}

// TestQ2KIQ4NLRepackedExact checks the repacked kernels each level picks
// against dotQ2_KRepacked / dotIQ4_NLRepacked, bit for bit: the one-token
// kernel in the gemv and the gemm order, and the four-token kernel (gemm
// order) on rows a stride apart.
func TestQ2KIQ4NLRepackedExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(400 + l))
		for _, typ := range q2nlTypes {
			tr, _ := TraitsOf(typ)
			al, _ := LayoutOf(tr.VecDotType)
			k, gemmGroups := kRepackedFor(typ, l)
			if q2nlHasFast(l) && (k.level < LevelAVX2 || k.gemm4 == nil) {
				t.Fatalf("%s: no fast repacked kernels at %s", typ, l)
			}
			for _, nb := range []int{1, 2, 3, 4, 5, 7, 9, 33} {
				n := nb * tr.BlockSize
				arb := nb * al.BlockBytes
				for trial := 0; trial < q2nlTrials; trial++ {
					// Four tokens, a gap after each so the stride is not
					// the row length.
					stride := arb + al.BlockBytes
					acts := make([]byte, 4*stride)
					w, a0 := q2nlCase(r, typ, n, trial)
					copy(acts, a0)
					for tok := 1; tok < 4; tok++ {
						_, a := q2nlCase(r, typ, n, trial)
						copy(acts[tok*stride:], a)
					}
					for tok := 0; tok < 4; tok++ {
						a := acts[tok*stride : tok*stride+arb]
						for _, groups := range []int{gemvGroups, gemmGroups} {
							want := q2nlRepackedRef(typ, n, w, a, groups)
							got := k.fn(n, w, a, groups)
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Errorf("%s n=%d trial %d token %d groups %d: %v, reference %v",
									typ, n, trial, tok, groups, got, want)
							}
						}
					}
					if k.gemm4 == nil {
						continue
					}
					var out [4]float32
					k.gemm4(n, w, acts, stride, &out)
					for tok := range out {
						want := q2nlRepackedRef(typ, n, w, acts[tok*stride:tok*stride+arb], gemmGroups)
						if math.Float32bits(out[tok]) != math.Float32bits(want) {
							t.Errorf("%s n=%d trial %d: gemm4 token %d = %v, reference %v",
								typ, n, trial, tok, out[tok], want)
						}
					}
				}
			}
		}
	})
}

// TestQ2KIQ4NLMatMulExact checks MatMul at every level against MatMul at
// the generic level, bit for bit: Rows 16 (repacked orders, gemm for the
// first n - n%4 tokens) and 13 (plain order), n = 1..9, with and without
// a pool, normal and extreme weight scales.
func TestQ2KIQ4NLMatMulExact(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	type mcase struct {
		w    Matrix
		n    int
		x    []float32
		want []float32
	}
	var cases []mcase
	r := newRand(500)
	SetLevel(LevelGeneric)
	for _, typ := range q2nlTypes {
		tr, _ := TraitsOf(typ)
		for _, rows := range []int{16, 13} {
			for si, scaled := range []bool{false, true} {
				cols := (5 + 4*si) * tr.BlockSize // 5 or 9 blocks: the four-block loop and its tail
				w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
				if scaled {
					scaleRow(r, typ, w.Data, -6, 6)
				}
				for n := 1; n <= 9; n++ {
					x := randomFloats(r, n*cols)
					want := make([]float32, n*rows)
					MatMul(nil, want, w, x, n)
					cases = append(cases, mcase{w, n, x, want})
				}
			}
		}
	}
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, c := range cases {
			for _, p := range []*Pool{nil, pool} {
				got := make([]float32, len(c.want))
				MatMul(p, got, c.w, c.x, c.n)
				for k := range got {
					if math.Float32bits(got[k]) != math.Float32bits(c.want[k]) {
						t.Fatalf("%s rows=%d cols=%d n=%d threads=%d: dst[%d] = %v, generic %v",
							c.w.Type, c.w.Rows, c.w.Cols, c.n, p.Threads(), k, got[k], c.want[k])
					}
				}
			}
		}
	})
}

// q2nlSameFloat reports whether a and b are the same float32, any NaN
// matching any NaN (payloads may differ between Go and the hardware).
func q2nlSameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// FuzzQ2KIQ4NLDots feeds raw bytes (any scales, any quants) to every
// level's plain and repacked kernels and compares them with the
// references: sel picks the type, w and a are the weight and activation
// rows (as many whole blocks as both hold), the activation row also
// serving as the four tokens of the gemm kernel.
func FuzzQ2KIQ4NLDots(f *testing.F) {
	r := newRand(9)
	for _, typ := range q2nlTypes {
		tr, _ := TraitsOf(typ)
		for _, nb := range []int{1, 5} {
			n := nb * tr.BlockSize
			sel := uint8(0)
			if typ == Q2_K {
				sel = 1
			}
			f.Add(sel, randomRow(r, typ, n), q2nlRawActivations(r, tr.VecDotType, n))
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, w, a []byte) {
		typ := q2nlTypes[int(sel)%len(q2nlTypes)]
		tr, _ := TraitsOf(typ)
		wl, _ := LayoutOf(typ)
		al, _ := LayoutOf(tr.VecDotType)
		nb := min(len(w)/wl.BlockBytes, len(a)/al.BlockBytes)
		if nb == 0 {
			return
		}
		n, arb := nb*tr.BlockSize, nb*al.BlockBytes
		a = a[:arb]
		acts := make([]byte, 0, 4*arb)
		for range 4 {
			acts = append(acts, a...)
		}
		defer SetLevel(LevelGeneric)
		for _, l := range SupportedLevels() {
			SetLevel(l)
			if got, want := VecDot(typ, n, w, a), tr.VecDot(n, w, a); !q2nlSameFloat(got, want) {
				t.Fatalf("%s %s n=%d: dot %v, reference %v", l, typ, n, got, want)
			}
			k, gemmGroups := kRepackedFor(typ, l)
			for _, groups := range []int{gemvGroups, gemmGroups} {
				want := q2nlRepackedRef(typ, n, w, a, groups)
				if got := k.fn(n, w, a, groups); !q2nlSameFloat(got, want) {
					t.Fatalf("%s %s n=%d groups %d: repacked %v, reference %v", l, typ, n, groups, got, want)
				}
				if k.gemm4 == nil || groups != gemmGroups {
					continue
				}
				var out [4]float32
				k.gemm4(n, w, acts, arb, &out)
				for tok, got := range out {
					if !q2nlSameFloat(got, want) {
						t.Fatalf("%s %s n=%d: gemm4 token %d %v, reference %v", l, typ, n, tok, got, want)
					}
				}
			}
		}
	})
}

// BenchmarkQ2KIQ4NLDots times one 4096-element dot in each order:
// reference, and the kernels of the detected level.
func BenchmarkQ2KIQ4NLDots(b *testing.B) {
	const n = 4096
	defer SetLevel(LevelGeneric)
	best := DetectedLevel()
	for _, typ := range q2nlTypes {
		tr, _ := TraitsOf(typ)
		al, _ := LayoutOf(tr.VecDotType)
		r := newRand(7)
		w := randomRow(r, typ, n)
		arb := n / al.BlockSize * al.BlockBytes
		acts := make([]byte, 4*arb)
		for tok := 0; tok < 4; tok++ {
			copy(acts[tok*arb:], quantized(tr.VecDotType, randomFloats(r, n)))
		}
		a := acts[:arb]
		fast, gemmGroups := kRepackedFor(typ, best)
		var sink float32
		run := func(name string, f func()) {
			b.Run(typ.String()+"/"+name, func(b *testing.B) {
				for b.Loop() {
					f()
				}
			})
		}
		run("plain/reference", func() { sink += tr.VecDot(n, w, a) })
		SetLevel(best)
		run("plain/"+best.String(), func() { sink += VecDot(typ, n, w, a) })
		run("gemv/reference", func() { sink += q2nlRepackedRef(typ, n, w, a, gemvGroups) })
		run("gemv/"+best.String(), func() { sink += fast.fn(n, w, a, gemvGroups) })
		run("gemm/reference", func() { sink += q2nlRepackedRef(typ, n, w, a, gemmGroups) })
		run("gemm/"+best.String(), func() { sink += fast.fn(n, w, a, gemmGroups) })
		if fast.gemm4 != nil {
			var out [4]float32
			run("gemm4tokens/"+best.String(), func() { fast.gemm4(n, w, acts, arb, &out); sink += out[0] })
		}
		SetLevel(LevelGeneric)
		_ = sink
	}
}

// BenchmarkQ2KIQ4NLMatMul times MatMul on a 256 x 4096 matrix (repacked
// orders) for 1 and 8 tokens, one thread, generic and the detected level.
func BenchmarkQ2KIQ4NLMatMul(b *testing.B) {
	const rows, cols = 256, 4096
	defer SetLevel(LevelGeneric)
	for _, typ := range q2nlTypes {
		r := newRand(8)
		w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
		for _, n := range []int{1, 8} {
			x := randomFloats(r, n*cols)
			dst := make([]float32, n*rows)
			for _, l := range []Level{LevelGeneric, DetectedLevel()} {
				SetLevel(l)
				b.Run(typ.String()+"/n="+string(rune('0'+n))+"/"+l.String(), func(b *testing.B) {
					for b.Loop() {
						MatMul(nil, dst, w, x, n)
					}
				})
			}
		}
	}
}
