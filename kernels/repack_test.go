package kernels

import (
	"math"
	"testing"
)

// packedCase is one format's MatMul-against-reference check: random
// matrices of every row and block count, extreme scales on the rows==scaled
// matrices, MatMul with and without a pool compared bit for bit with want
// (token i of n against its activation row a) at generic and every level.
type packedCase struct {
	typ, act  Type
	rows, nbs []int
	ns        []int
	scaled    int  // row count whose matrices get extreme scales
	lo, hi    int  // scaleRow's exponent range for them
	unpacked  bool // also check the matrix without Pack
	mustPack  bool // fail when a kernel exists but Pack did not pack
	seed      uint64
	want      func(cols int, w, a []byte, i, n int) float32
}

func checkPackedMatMul(t *testing.T, c packedCase) {
	pool := NewPool(3)
	defer pool.Close()
	l, _ := LayoutOf(c.typ)
	check := func(t *testing.T, seed uint64) {
		r := newRand(seed)
		for _, rows := range c.rows {
			for _, nb := range c.nbs {
				cols := l.BlockSize * nb
				w := Matrix{Type: c.typ, Rows: rows, Cols: cols, Data: randomRow(r, c.typ, rows*cols)}
				if rows == c.scaled {
					scaleRow(r, c.typ, w.Data, c.lo, c.hi)
				}
				pw := Pack(w)
				if c.mustPack && packedFor(c.typ, DetectedLevel()) != nil && !pw.Packed() {
					t.Fatalf("%s not packed although a kernel exists", c.typ)
				}
				forms := []Matrix{pw}
				if c.unpacked {
					forms = []Matrix{w, pw}
				}
				for _, n := range c.ns {
					x := randomFloats(r, n*cols)
					want := make([]float32, n*rows)
					for i := 0; i < n; i++ {
						a := quantized(c.act, x[i*cols:(i+1)*cols])
						for rr := 0; rr < rows; rr++ {
							want[i*rows+rr] = c.want(cols, w.Row(rr), a, i, n)
						}
					}
					for _, m := range forms {
						for _, p := range []*Pool{nil, pool} {
							got := make([]float32, n*rows)
							MatMul(p, got, m, x, n)
							for k := range want {
								if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
									t.Fatalf("%s rows=%d cols=%d n=%d packed=%v threads=%d: dst[%d] = %v, want %v",
										c.typ, rows, cols, n, m.Packed(), p.Threads(), k, got[k], want[k])
								}
							}
						}
					}
				}
			}
		}
	}
	t.Run("generic", func(t *testing.T) { check(t, c.seed) })
	forEachLevel(t, func(t *testing.T, l Level) { check(t, c.seed+1+uint64(l)) })
}

// TestRepackedQ4_0MatchesReference checks MatMul on Q4_0 matrices llama.cpp
// repacks (rows a multiple of 8, including ones that leave a padded 16-row
// group) against dotQ4_0Repacked row by row, bit for bit, at every level,
// packed and unpacked, for token counts around the kernels' widths, with
// normal and extreme scales and a pool that splits groups unevenly.
func TestRepackedQ4_0MatchesReference(t *testing.T) {
	checkPackedMatMul(t, packedCase{typ: Q4_0, act: Q8_0, rows: []int{8, 16, 24, 40, 64}, nbs: []int{1, 3, 11},
		ns: []int{1, 2, 3, 4, 5, 8, 9, 12, 13, 17}, scaled: 40, lo: -12, hi: 12, unpacked: true, seed: 70,
		want: func(cols int, w, a []byte, _, _ int) float32 { return dotQ4_0Repacked(cols, w, a) }})
}

// TestRepackedQ4_0Dot bounds the repacked order's result against the
// dequantize-then-float64 dot: exact integer block sums, so only one float32
// rounding of d_w·d_a and of each fma per block: |got-want| <= (nb+1)·2^-23·M,
// M = Σ|w_k·a_k|.
func TestRepackedQ4_0Dot(t *testing.T) {
	r := newRand(72)
	for trial := 0; trial < 200; trial++ {
		nb := 1 + r.IntN(40)
		n := 32 * nb
		w := randomRow(r, Q4_0, n)
		a := quantized(Q8_0, randomFloats(r, n))
		wf, af := mustDequant(Q4_0, w, n), mustDequant(Q8_0, a, n)
		var want, mag float64
		for k := range wf {
			want += float64(wf[k]) * float64(af[k])
			mag += math.Abs(float64(wf[k]) * float64(af[k]))
		}
		got := float64(dotQ4_0Repacked(n, w, a))
		if bound := float64(nb+1) * math.Exp2(-23) * mag * 2; math.Abs(got-want) > bound {
			t.Fatalf("nb=%d: got %v want %v (bound %v)", nb, got, want, bound)
		}
	}
}

// TestPackLayout checks that Pack keeps Data, pads the last group, and
// leaves matrices llama.cpp does not repack alone.
func TestPackLayout(t *testing.T) {
	r := newRand(73)
	w := Matrix{Type: Q4_0, Rows: 24, Cols: 64, Data: randomRow(r, Q4_0, 24*64)}
	p := Pack(w)
	if packedFor(Q4_0, DetectedLevel()) != nil {
		if !p.Packed() || len(p.packed) != 2*2*q4Pack {
			t.Fatalf("packed %v, %d bytes", p.Packed(), len(p.packed))
		}
		// Row 17 lives in group 1, lane 1; its second block's scale and chunk 2.
		blk := p.packed[(1*2+1)*q4Pack:]
		src := w.Row(17)[18:36]
		if blk[2] != src[0] || blk[3] != src[1] || string(blk[32+64*2+4:32+64*2+8]) != string(src[2+8:2+12]) {
			t.Fatal("row 17 block 1 is not where the layout says")
		}
		// Lanes 8..15 of group 1 are padding.
		for _, b := range blk[16:32] {
			if b != 0 {
				t.Fatal("padding rows are not zero")
			}
		}
	}
	if &p.Data[0] != &w.Data[0] {
		t.Fatal("Pack replaced Data")
	}
	odd := Matrix{Type: Q4_0, Rows: 12, Cols: 64, Data: randomRow(r, Q4_0, 12*64)}
	if Pack(odd).Packed() {
		t.Fatal("a 12-row matrix was packed (llama.cpp repacks only multiples of 8)")
	}
	q5 := Matrix{Type: Q5_0, Rows: 16, Cols: 64, Data: randomRow(r, Q5_0, 16*64)}
	if Pack(q5).Packed() {
		t.Fatal("Q5_0 was packed")
	}
}

// TestPackedQ8_0MatchesVecDot checks MatMul on packed Q8_0 matrices (any
// row count; the last group padded) against VecDot row by row, bit for bit,
// at every level, for token counts around the kernels' widths, with normal
// and extreme scales.
func TestPackedQ8_0MatchesVecDot(t *testing.T) {
	checkPackedMatMul(t, packedCase{typ: Q8_0, act: Q8_0, rows: []int{1, 5, 16, 24, 40}, nbs: []int{1, 3, 11},
		ns: []int{1, 2, 3, 5, 9}, scaled: 24, lo: -12, hi: 12, mustPack: true, seed: 80,
		want: func(cols int, w, a []byte, _, _ int) float32 { return dotQ8_0(cols, w, a) }})
}

// TestMatMulsMatchesMatMul checks that MatMuls over several matrices (one
// joint job when they are packed alike, else one MatMul each) gives every
// output exactly what MatMul gives, at every level.
func TestMatMulsMatchesMatMul(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(90 + uint64(l))
		const cols = 96
		for _, types := range [][]Type{{Q4_0, Q4_0, Q4_0}, {Q8_0, Q8_0}, {Q4_0, Q8_0}, {Q4_0, Q4_1}} {
			rowsOf := []int{64, 16, 24}
			var ws []Matrix
			for j, typ := range types {
				ws = append(ws, Pack(Matrix{Type: typ, Rows: rowsOf[j], Cols: cols, Data: randomRow(r, typ, rowsOf[j]*cols)}))
			}
			for _, n := range []int{1, 3, 9} {
				x := randomFloats(r, n*cols)
				for _, p := range []*Pool{nil, pool} {
					got := make([][]float32, len(ws))
					for j, w := range ws {
						got[j] = make([]float32, n*w.Rows)
					}
					MatMuls(p, got, ws, x, n)
					for j, w := range ws {
						want := make([]float32, n*w.Rows)
						MatMul(nil, want, w, x, n)
						for k := range want {
							if math.Float32bits(got[j][k]) != math.Float32bits(want[k]) {
								t.Fatalf("%v n=%d threads=%d: matrix %d dst[%d] = %v, want %v", types, n, p.Threads(), j, k, got[j][k], want[k])
							}
						}
					}
				}
			}
		}
	})
}

// TestPackedQ6_KMatchesVecDot checks MatMul on packed Q6_K matrices (the
// one-token kernel; more tokens take the plain rows) against VecDot's
// order row by row, bit for bit, at every level.
func TestPackedQ6_KMatchesVecDot(t *testing.T) {
	checkPackedMatMul(t, packedCase{typ: Q6_K, act: Q8_K, rows: []int{1, 16, 40}, nbs: []int{1, 3},
		ns: []int{1, 2, 4, 5, 9}, scaled: 40, lo: -8, hi: 8, seed: 110,
		want: func(cols int, w, a []byte, _, _ int) float32 { return dotQ6_K(cols, w, a) }})
}

// TestPackedQ4_KMatchesRepackedOrder checks MatMul on packed Q4_K matrices
// against dotQ4_KRepacked row by row, bit for bit, at every level: the
// first n - n%4 tokens in the gemm order (groups of 64 values), the rest in
// the gemv order (whole super-blocks), as llama.cpp splits a batch.
func TestPackedQ4_KMatchesRepackedOrder(t *testing.T) {
	checkPackedMatMul(t, packedCase{typ: Q4_K, act: Q8_K, rows: []int{8, 16, 40}, nbs: []int{1, 3},
		ns: []int{1, 3, 4, 5, 8, 9, 13}, scaled: 40, lo: -8, hi: 8, mustPack: true, seed: 95,
		want: func(cols int, w, a []byte, i, n int) float32 {
			groups := gemvGroups
			if i < n-n%4 {
				groups = gemmQ4KGroups
			}
			return dotQ4_KRepacked(cols, w, a, groups)
		}})
}
