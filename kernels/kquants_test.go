package kernels

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// kGolden is one case of testdata/kquants: a weight matrix, activation
// rows and the outputs llama.cpp's CPU backend computed for them (see
// SOURCES.md there).
type kGolden struct {
	typ           Type
	rows, cols, n int
	repacked      bool
	w             []byte
	x, out        []float32
	name          string
}

func readKGolden(t *testing.T, name string) kGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "kquants", name))
	if err != nil {
		t.Fatal(err)
	}
	u := func(i int) int { return int(binary.LittleEndian.Uint32(b[4*i:])) }
	g := kGolden{typ: Type(u(0)), rows: u(1), cols: u(2), n: u(3), repacked: u(4) != 0, name: name}
	rb, err := RowBytes(g.typ, int64(g.cols))
	if err != nil {
		t.Fatal(err)
	}
	off := 20
	g.w = b[off : off+g.rows*int(rb)]
	off += len(g.w)
	floats := func(k int) []float32 {
		f := make([]float32, k)
		for i := range f {
			f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
		}
		off += 4 * k
		return f
	}
	g.x = floats(g.n * g.cols)
	g.out = floats(g.n * g.rows)
	if off != len(b) {
		t.Fatalf("%s: %d bytes, parsed %d", name, len(b), off)
	}
	return g
}

// eachLevel runs f at every level this CPU supports, generic included.
func eachLevel(t *testing.T, f func(t *testing.T, l Level)) {
	t.Helper()
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		t.Run(l.String(), func(t *testing.T) { f(t, l) })
	}
}

// TestKQuantVecDotGolden compares the K-quant and IQ4 dot products with
// llama.cpp's x86 vec_dot on the same bytes, bit for bit, at every level,
// through VecDot and through MatMul (5 rows: not repacked; 5 tokens: the
// four-token kernels run too).
func TestKQuantVecDotGolden(t *testing.T) {
	for _, typ := range []Type{Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS, IQ4_NL} {
		g := readKGolden(t, "vecdot-"+typ.String()+".bin")
		if g.typ != typ || g.repacked || g.rows%8 == 0 {
			t.Fatalf("%s: unexpected case %+v", g.name, g)
		}
		w := Matrix{Type: g.typ, Rows: g.rows, Cols: g.cols, Data: g.w}
		tr, _ := TraitsOf(g.typ)
		eachLevel(t, func(t *testing.T, l Level) {
			for i := 0; i < g.n; i++ {
				a := quantized(tr.VecDotType, g.x[i*g.cols:(i+1)*g.cols])
				for r := 0; r < g.rows; r++ {
					if got, want := VecDot(g.typ, g.cols, w.Row(r), a), g.out[i*g.rows+r]; got != want {
						t.Errorf("%s token %d row %d: VecDot %v, llama.cpp %v", typ, i, r, got, want)
					}
				}
			}
			got := make([]float32, g.n*g.rows)
			MatMul(nil, got, w, g.x, g.n)
			for k := range got {
				if got[k] != g.out[k] {
					t.Errorf("%s: MatMul dst[%d] = %v, llama.cpp %v", typ, k, got[k], g.out[k])
				}
			}
		})
	}
}

// TestKQuantRepackedGolden compares MatMul on the matrices llama.cpp
// repacks with its repacked mul_mat, bit for bit: 24 rows by 7 tokens (the
// first 4 through its gemm kernel, the other 3 through gemv) and 16 rows by
// 21 tokens (16 + 4 through the gemm's two loops, 1 through gemv).
func TestKQuantRepackedGolden(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	for _, name := range []string{"repacked-Q4_K", "repacked-Q2_K", "repacked-IQ4_NL",
		"repacked21-Q4_K", "repacked21-Q2_K", "repacked21-IQ4_NL"} {
		g := readKGolden(t, name+".bin")
		typ := g.typ
		w := Matrix{Type: g.typ, Rows: g.rows, Cols: g.cols, Data: g.w}
		if !g.repacked || !repacksKQuant(w) {
			t.Fatalf("%s: unexpected case", g.name)
		}
		eachLevel(t, func(t *testing.T, l Level) {
			for _, p := range []*Pool{nil, pool} {
				got := make([]float32, g.n*g.rows)
				MatMul(p, got, w, g.x, g.n)
				for k := range got {
					if got[k] != g.out[k] {
						t.Errorf("%s threads %d: dst[%d] (token %d) = %v, llama.cpp %v",
							typ, p.Threads(), k, k/g.rows, got[k], g.out[k])
					}
				}
			}
		})
	}
}

// TestKQuantFastExact checks every fast K-quant and IQ4 kernel against the
// reference bit for bit on random rows with normal and extreme scales:
// one-row dots, the four-token kernels (through MatMul on row counts that
// are not repacked) and the repacked-order kernels for both orders.
func TestKQuantFastExact(t *testing.T) {
	types := []Type{Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS, IQ4_NL}
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(40 + l))
		for _, typ := range types {
			tr, _ := TraitsOf(typ)
			bs := tr.BlockSize
			for _, blocks := range []int{1, 2, 3, 5, 16} {
				n := blocks * bs
				for trial := 0; trial < 6; trial++ {
					w := randomRow(r, typ, n)
					x := randomFloats(r, n)
					switch trial % 3 {
					case 1:
						scaleRow(r, typ, w, 4, 12)
						for i := range x {
							x[i] *= 1e-3
						}
					case 2:
						scaleRow(r, typ, w, -12, -4)
						x[r.IntN(n)] = 1e4
					}
					a := quantized(tr.VecDotType, x)
					if got, want := VecDot(typ, n, w, a), tr.VecDot(n, w, a); got != want {
						t.Errorf("%s n=%d trial %d: %s dot %v, reference %v", typ, n, trial, current().names[typ], got, want)
					}
					if typ != Q4_K {
						continue
					}
					for _, groups := range []int{gemvGroups, gemmQ4KGroups} {
						k, _ := kRepackedFor(typ, l)
						if got, want := k.fn(n, w, a, groups), dotQ4_KRepacked(n, w, a, groups); got != want {
							t.Errorf("Q4_K repacked n=%d groups %d trial %d: %v, reference %v", n, groups, trial, got, want)
						}
					}
				}
			}
			// The multi-token kernels, on a matrix MatMul does not repack.
			cols := 2 * bs * max(1, 256/bs)
			m := Matrix{Type: typ, Rows: 7, Cols: cols, Data: randomRow(r, typ, 7*cols)}
			const n = 9
			x := randomFloats(r, n*cols)
			got := make([]float32, n*m.Rows)
			MatMul(nil, got, m, x, n)
			for i := 0; i < n; i++ {
				a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
				for rr := 0; rr < m.Rows; rr++ {
					if want := tr.VecDot(cols, m.Row(rr), a); got[i*m.Rows+rr] != want {
						t.Fatalf("%s MatMul token %d row %d: %v, reference %v", typ, i, rr, got[i*m.Rows+rr], want)
					}
				}
			}
		}
	})
}

// TestKRepackedMatMulSplit checks how MatMul splits a batch between the two
// repacked orders: tokens below n - n%4 take the gemm order, the rest the
// gemv order, at every level and thread count. (Where the two orders
// round differently the test tells them apart; it also checks that they do
// differ somewhere, so that it can fail.)
func TestKRepackedMatMulSplit(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	refs := map[Type]func(n int, w, a []byte, groups int) float32{
		Q4_K: dotQ4_KRepacked, Q2_K: dotQ2_KRepacked,
	}
	gemm := map[Type]int{Q4_K: gemmQ4KGroups, Q2_K: gemmQ2KGroups}
	eachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(60 + l))
		for typ, ref := range refs {
			tr, _ := TraitsOf(typ)
			const rows, cols = 16, 4 * QK_K
			w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
			differ := 0
			for _, n := range []int{1, 3, 4, 5, 8, 9} {
				x := randomFloats(r, n*cols)
				for _, p := range []*Pool{nil, pool} {
					got := make([]float32, n*rows)
					MatMul(p, got, w, x, n)
					for i := 0; i < n; i++ {
						a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
						groups := gemvGroups
						if i < n-n%4 {
							groups = gemm[typ]
						}
						for rr := 0; rr < rows; rr++ {
							want := ref(cols, w.Row(rr), a, groups)
							if got[i*rows+rr] != want {
								t.Fatalf("%s n=%d token %d row %d: %v, want %v (groups %d)", typ, n, i, rr, got[i*rows+rr], want, groups)
							}
							if p == nil && ref(cols, w.Row(rr), a, gemm[typ]+gemvGroups-groups) != want {
								differ++
							}
						}
					}
				}
			}
			if differ == 0 {
				t.Errorf("%s: the gemm and gemv orders never differed; the test cannot tell them apart", typ)
			}
		}
	})
}
