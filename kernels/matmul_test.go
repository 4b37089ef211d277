package kernels

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestMatMulOddSizes compares MatMul (pooled and nil pool) with a naive loop
// of VecDot over activation rows quantized one by one: the results must be
// bit-identical, for row counts that do not divide by the thread count and
// n = 1..5.
func TestMatMulOddSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pool := NewPool(3)
	defer pool.Close()
	for _, typ := range []Type{F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K, IQ4_XS} {
		tr, _ := TraitsOf(typ)
		cols := 2 * max(tr.BlockSize, 32)
		for _, rows := range []int{1, 2, 7, 11, 12} {
			w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
			for n := 1; n <= 5; n++ {
				x := randomFloats(r, n*cols)
				want := matMulWant(w, x, n) // VecDot, or tinyBLAS's order
				for _, p := range []*Pool{nil, pool} {
					got := make([]float32, n*rows)
					MatMul(p, got, w, x, n)
					for k := range want {
						if got[k] != want[k] {
							t.Fatalf("%s rows=%d n=%d threads=%d: dst[%d] = %v, want %v",
								typ, rows, n, p.Threads(), k, got[k], want[k])
						}
					}
				}
			}
		}
	}
}

// TestPoolRunCovers checks that Run visits every index exactly once with
// contiguous, balanced ranges, including n smaller than the thread count,
// and that a closed pool still runs work.
func TestPoolRunCovers(t *testing.T) {
	p := NewPool(4)
	if p.Threads() != 4 {
		t.Fatalf("Threads() = %d", p.Threads())
	}
	for _, n := range []int{0, 1, 3, 4, 5, 17, 1000} {
		hits := make([]atomic.Int32, n)
		var calls atomic.Int32
		p.Run(n, func(lo, hi int) {
			calls.Add(1)
			if hi-lo < n/4 || hi-lo > n/4+1 {
				t.Errorf("n=%d: unbalanced range [%d,%d)", n, lo, hi)
			}
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, hits[i].Load())
			}
		}
		if n > 0 && int(calls.Load()) != min(n, 4) {
			t.Errorf("n=%d: %d calls, want %d", n, calls.Load(), min(n, 4))
		}
	}
	p.Close()
	p.Close()
	sum := 0
	p.Run(10, func(lo, hi int) { sum += hi - lo })
	if sum != 10 {
		t.Errorf("closed pool covered %d of 10", sum)
	}
	if NewPool(0).Threads() != 1 {
		t.Error("NewPool(0) should have one thread")
	}
}

func BenchmarkMatMul(b *testing.B) {
	const rows, cols = 512, 4096
	r := rand.New(rand.NewPCG(13, 14))
	pool := NewPool(2)
	defer pool.Close()
	for _, typ := range []Type{F16, Q8_0, Q4_0, Q4_K, Q6_K} {
		w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
		for _, n := range []int{1, 4} {
			x := randomFloats(r, n*cols)
			dst := make([]float32, n*rows)
			b.Run(typ.String()+"/n="+string(rune('0'+n)), func(b *testing.B) {
				b.SetBytes(int64(len(w.Data)))
				for b.Loop() {
					MatMul(pool, dst, w, x, n)
				}
			})
		}
	}
}
