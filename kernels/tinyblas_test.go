package kernels

import (
	"fmt"
	"math"
	"testing"
)

// tinyWant computes MatMul's tinyBLAS contract output by output with the
// reference dots: F16/BF16 activations rounded to the weights' type first.
func tinyWant(w Matrix, x []float32, n int) []float32 {
	cols, rows := w.Cols, w.Rows
	want := make([]float32, n*rows)
	for i := 0; i < n; i++ {
		xr := x[i*cols : (i+1)*cols]
		for r := 0; r < rows; r++ {
			switch w.Type {
			case F32:
				want[i*rows+r] = tinyDotF32(cols, w.Row(r), xr)
			case F16:
				want[i*rows+r] = tinyDotF16(cols, w.Row(r), quantized(F16, xr))
			case BF16:
				want[i*rows+r] = tinyDotBF16(cols, w.Row(r), quantized(BF16, xr))
			}
		}
	}
	return want
}

// vecDotWant is MatMul's other contract: each output is the level's VecDot.
func vecDotWant(w Matrix, x []float32, n int) []float32 {
	tr, _ := TraitsOf(w.Type)
	cols, rows := w.Cols, w.Rows
	want := make([]float32, n*rows)
	for i := 0; i < n; i++ {
		a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
		for r := 0; r < rows; r++ {
			want[i*rows+r] = VecDot(w.Type, cols, w.Row(r), a)
		}
	}
	return want
}

// matMulWant is MatMul's contract: the tinyBLAS order where llama.cpp
// takes it (usesTinyBLAS), else the level's VecDot for every output.
func matMulWant(w Matrix, x []float32, n int) []float32 {
	if usesTinyBLAS(w, n) {
		return tinyWant(w, x, n)
	}
	return vecDotWant(w, x, n)
}

func tinySameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for k := range want {
		if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
			t.Fatalf("%s: dst[%d] = %v, want %v", what, k, got[k], want[k])
		}
	}
}

// TestTinyBLASMatMul checks MatMul on F32, F16 and BF16 matrices with Rows a
// multiple of 4, Cols a multiple of 16 and n >= 2 against the reference
// tinyBLAS dots, bit for bit, at every level (generic included), with and
// without a pool: every tile width 1..6 and its tails (n = 2..9, 13, 17),
// single and several weight blocks per thread (rows up to 132 at K = 16,
// where a block is 64 rows), K = 16, 48, 64, 2048.
func TestTinyBLASMatMul(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		r := newRand(uint64(700 + l))
		for _, typ := range []Type{F32, F16, BF16} {
			for _, shape := range [][2]int{{4, 16}, {132, 16}, {12, 48}, {20, 64}, {8, 2048}} {
				rows, cols := shape[0], shape[1]
				w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
				for _, n := range []int{2, 3, 4, 5, 6, 7, 8, 9, 13, 17} {
					x := randomFloats(r, n*cols)
					want := tinyWant(w, x, n)
					for _, p := range []*Pool{nil, pool} {
						got := make([]float32, n*rows)
						MatMul(p, got, w, x, n)
						tinySameBits(t, fmt.Sprintf("%s %s %dx%d n=%d threads=%d", l, typ, rows, cols, n, p.Threads()), got, want)
					}
				}
			}
		}
	}
}

// TestTinyBLASExtremes runs rows whose magnitudes span the float32 range
// (large and tiny values, cancellation, F16 subnormals) through MatMul at
// every level.
func TestTinyBLASExtremes(t *testing.T) {
	defer SetLevel(LevelGeneric)
	const rows, cols, n = 8, 64, 7
	r := newRand(77)
	for _, typ := range []Type{F32, F16, BF16} {
		wf := randomFloats(r, rows*cols)
		x := randomFloats(r, n*cols)
		for i := range wf {
			wf[i] *= float32(math.Exp2(float64(r.IntN(40) - 30)))
		}
		for i := range x {
			x[i] *= float32(math.Exp2(float64(r.IntN(40) - 20)))
		}
		w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: quantized(typ, wf)}
		want := tinyWant(w, x, n)
		for _, l := range SupportedLevels() {
			SetLevel(l)
			got := make([]float32, n*rows)
			MatMul(nil, got, w, x, n)
			tinySameBits(t, fmt.Sprintf("%s %s", l, typ), got, want)
		}
	}
}

// TestTinyBLASOnlyWhereLlamaCppUsesIt: one token, K not a multiple of 16,
// Rows not a multiple of 4, and the quantized types keep VecDot's numbers; and on
// a long row the tinyBLAS order really differs from VecDot's somewhere, so
// the tests above compare against something else than VecDot.
func TestTinyBLASOnlyWhereLlamaCppUsesIt(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		r := newRand(uint64(900 + l))
		for _, c := range []struct {
			typ            Type
			rows, cols, n  int
			tiny           bool
			reasonIfVecDot string
		}{
			{F32, 8, 2048, 1, false, "one token"},
			{F16, 8, 2048, 1, false, "one token"},
			{F32, 8, 40, 3, false, "K % 16 != 0"},
			{F16, 8, 72, 5, false, "K % 16 != 0"},
			{F32, 7, 64, 3, false, "Rows % 4 != 0"},
			{F16, 6, 64, 5, false, "Rows % 4 != 0"},
			{BF16, 8, 2048, 1, false, "one token"},
			{BF16, 12, 24, 3, false, "K % 16 != 0"},
			{Q8_0, 8, 2048, 5, false, "quantized weights"},
			{F32, 8, 2048, 2, true, ""},
			{F16, 8, 2048, 2, true, ""},
			{BF16, 8, 2048, 2, true, ""},
		} {
			w := Matrix{Type: c.typ, Rows: c.rows, Cols: c.cols, Data: randomRow(r, c.typ, c.rows*c.cols)}
			x := randomFloats(r, c.n*c.cols)
			if got := usesTinyBLAS(w, c.n); got != c.tiny {
				t.Fatalf("usesTinyBLAS(%s %dx%d, n=%d) = %v", c.typ, c.rows, c.cols, c.n, got)
			}
			got := make([]float32, c.n*c.rows)
			MatMul(pool, got, w, x, c.n)
			vd := vecDotWant(w, x, c.n)
			if !c.tiny {
				tinySameBits(t, fmt.Sprintf("%s %s %dx%d n=%d (%s)", l, c.typ, c.rows, c.cols, c.n, c.reasonIfVecDot), got, vd)
				continue
			}
			tinySameBits(t, fmt.Sprintf("%s %s tiny", l, c.typ), got, tinyWant(w, x, c.n))
			differs := false
			for k := range got {
				differs = differs || got[k] != vd[k]
			}
			if !differs {
				t.Errorf("%s %s: tinyBLAS order equals VecDot on every output of a 2048-column matrix", l, c.typ)
			}
		}
	}
}

// TestTinyDotOrder pins the reference's order on a case small enough to
// follow by hand: 32 columns, lane m accumulates columns m and m+16 with
// one fused rounding each, then the 16 lanes reduce as
// _mm512_reduce_add_ps. Lane 0 gets 1 (column 0) and just over half an ulp
// of 1 (column 16), lane 8 exactly half an ulp (column 8): only the
// lane-wise order followed by the tree rounds up twice (vec_dot's
// sequential order, for example, gives 1+2^-23).
func TestTinyDotOrder(t *testing.T) {
	w := make([]float32, 32)
	x := make([]float32, 32)
	for i := range x {
		x[i] = 1
	}
	w[0] = 1
	w[16] = 0x1p-24 * (1 + 0x1p-23) // just above half an ulp of 1: rounds 1 up
	w[8] = 0x1p-24                  // alone in lane 8 until the tree adds it
	wb := make([]byte, 4*32)
	for i, v := range w {
		putF32(wb[4*i:], v)
	}
	// Lane 0: 1 + w16 rounds to 1+2^-23. Tree: lane 0 + lane 8 first
	// (1+2^-23 + 2^-24 is a tie between 1+2^-23 and 1+2^-22: to even,
	// 1+2^-22), then zeros.
	if got, want := tinyDotF32(32, wb, x), float32(1+0x1p-22); got != want {
		t.Fatalf("tinyDotF32 = %v (%#x), want %v", got, math.Float32bits(got), want)
	}
	m := Matrix{Type: F32, Rows: 4, Cols: 32, Data: append(append(append(append([]byte{}, wb...), wb...), wb...), wb...)}
	xs := append(append([]float32{}, x...), x...)
	got := make([]float32, 8)
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		MatMul(nil, got, m, xs, 2)
		for k, v := range got {
			if v != float32(1+0x1p-22) {
				t.Fatalf("%s: MatMul dst[%d] = %v, want 1+2^-22", l, k, v)
			}
		}
	}
}

func putF32(b []byte, v float32) {
	u := math.Float32bits(v)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}

// BenchmarkTinyBLAS times F16 and F32 matrices of the 1b shape (attention
// 2048×2048, ffn_down 2048×5632) times 64 and 256 tokens on one thread at
// the detected level (the pp situation).
func BenchmarkTinyBLAS(b *testing.B) {
	defer SetLevel(LevelGeneric)
	SetLevel(DetectedLevel())
	r := newRand(5)
	for _, typ := range []Type{F16, F32} {
		for _, sh := range [][3]int{{2048, 2048, 64}, {2048, 5632, 256}} {
			rows, cols, n := sh[0], sh[1], sh[2]
			w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
			x := randomFloats(r, n*cols)
			dst := make([]float32, n*rows)
			b.Run(fmt.Sprintf("%s/%dx%d/n=%d", typ, rows, cols, n), func(b *testing.B) {
				for b.Loop() {
					MatMul(nil, dst, w, x, n)
				}
				b.ReportMetric(float64(2*rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
