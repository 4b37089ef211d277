package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/pagedkv"
)

// attnSetup is a Runner with only what attention reads: a config, a KV
// storage filled with random K/V, random queries, and a batch of sequences
// with shuffled block tables (each a prefill chunk of chunk tokens ending
// at its context length, chunk 1 being a decode step).
type attnSetup struct {
	r *Runner
	b *Batch
}

func newAttnSetup(t testing.TB, kv kernels.Type, heads, kvHeads, hd, seqs, ctx, chunk int, pool *kernels.Pool) *attnSetup {
	const bs = 16
	rng := rand.New(rand.NewPCG(uint64(heads*hd+ctx), uint64(seqs)))
	perSeq := (ctx + bs - 1) / bs
	st, err := pagedkv.NewStorage(kv, seqs*perSeq+2, bs, 2, kvHeads, hd)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &loader.Config{HeadCount: heads, HeadCountKV: kvHeads, HeadDim: hd, BlockCount: 2}
	r := &Runner{m: &Model{Config: cfg}, kv: st, pool: pool}
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	perm := rng.Perm(st.NumBlocks)
	b := &Batch{}
	for s := range seqs {
		table := make([]int32, perSeq)
		for i := range table {
			table[i] = int32(perm[s*perSeq+i])
		}
		start := len(b.Tokens)
		for pos := ctx - chunk; pos < ctx; pos++ {
			b.Tokens = append(b.Tokens, 0)
			b.Positions = append(b.Positions, int32(pos))
			b.Slots = append(b.Slots, int32(pagedkv.SlotOf(table, bs, pos)))
		}
		b.Seqs = append(b.Seqs, Seq{Start: start, End: len(b.Tokens), BlockTable: table})
		for li := range 2 {
			for pos := range ctx {
				st.Write(li, pagedkv.SlotOf(table, bs, pos), rnd(kvHeads*hd), rnd(kvHeads*hd))
			}
		}
	}
	r.q = rnd(len(b.Tokens) * heads * hd)
	r.att = make([]float32, len(r.q))
	return &attnSetup{r: r, b: b}
}

// attentionClosures is the attention method as it was before the paged
// kernel: kernels.Attend per token and query head with per-position
// closures over the block table. It is the reference for attention.
func (r *Runner) attentionClosures(li int, b *Batch) {
	c := r.m.Config
	nHead, hd := c.HeadCount, c.HeadDim
	group := nHead / c.HeadCountKV
	scale := float32(1 / math.Sqrt(float64(hd)))
	seqOf := make([]int, len(b.Tokens))
	for si, s := range b.Seqs {
		for i := s.Start; i < s.End; i++ {
			seqOf[i] = si
		}
	}
	bs := r.kv.BlockSize
	run := func(lo, hi int) {
		var scratch kernels.AttentionScratch
		for w := lo; w < hi; w++ {
			i, h := w/nHead, w%nHead
			kvh := h / group
			table := b.Seqs[seqOf[i]].BlockTable
			q := r.q[(i*nHead+h)*hd : (i*nHead+h+1)*hd]
			out := r.att[(i*nHead+h)*hd : (i*nHead+h+1)*hd]
			kernels.Attend(out, q, r.kv.Type, int(b.Positions[i])+1, scale,
				func(j int) []byte { return r.kv.K(li, pagedkv.SlotOf(table, bs, j), kvh) },
				func(j int) []byte { return r.kv.V(li, pagedkv.SlotOf(table, bs, j), kvh) },
				&scratch)
		}
	}
	if r.pool == nil {
		run(0, len(b.Tokens)*nHead)
	} else {
		r.pool.Run(len(b.Tokens)*nHead, run)
	}
}

// TestAttentionMatchesClosurePath checks Runner.attention (paged kernel,
// grouped heads, split over the pool) against the per-head closure path
// bit for bit: F16, F32 and Q8_0 caches, 1B-like and odd shapes, decode
// and prefill chunks, with and without a pool, at every supported level.
func TestAttentionMatchesClosurePath(t *testing.T) {
	pool := kernels.NewPool(3)
	defer pool.Close()
	defer kernels.SetLevel(kernels.DetectedLevel())
	shapes := []struct{ heads, kvHeads, hd, seqs, ctx, chunk int }{
		{32, 4, 64, 3, 70, 1},  // 1B-like decode
		{8, 8, 64, 1, 1, 1},    // first token, no grouping
		{6, 2, 96, 2, 37, 5},   // prefill chunks, groups of 3
		{32, 4, 64, 1, 20, 20}, // a whole prompt
	}
	for _, l := range kernels.SupportedLevels() {
		kernels.SetLevel(l)
		for _, kv := range []kernels.Type{kernels.F16, kernels.F32, kernels.Q8_0} {
			for _, sh := range shapes {
				for _, p := range []*kernels.Pool{nil, pool} {
					name := fmt.Sprintf("%s/%s/%+v/pool=%v", l, kv, sh, p != nil)
					s := newAttnSetup(t, kv, sh.heads, sh.kvHeads, sh.hd, sh.seqs, sh.ctx, sh.chunk, p)
					for li := range 2 {
						s.r.attentionClosures(li, s.b)
						want := append([]float32(nil), s.r.att...)
						clear(s.r.att)
						if err := s.r.attention(li, s.b); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						for i := range want {
							if math.Float32bits(s.r.att[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s layer %d: att[%d] = %v, closure path %v", name, li, i, s.r.att[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestBalancedOrder checks that the attention units' order is a
// permutation and splits a prefill chunk's work evenly between threads.
func TestBalancedOrder(t *testing.T) {
	for _, tc := range []struct {
		positions []int32
		perToken  int
		threads   int
	}{
		{seqPositions(0, 64), 4, 2},
		{seqPositions(0, 200), 1, 3},
		{append(seqPositions(90, 91), append(seqPositions(0, 100), seqPositions(40, 41)...)...), 8, 2},
	} {
		b := &Batch{Positions: tc.positions}
		units := len(tc.positions) * tc.perToken
		order := balancedOrder(b, units, tc.perToken, tc.threads)
		seen := make([]bool, units)
		for _, w := range order {
			if seen[w] {
				t.Fatalf("unit %d twice", w)
			}
			seen[w] = true
		}
		if len(order) != units {
			t.Fatalf("order has %d of %d units", len(order), units)
		}
		// The pool's ranges: equal lengths, contiguous.
		var costs []float64
		total := 0.0
		for p := range tc.threads {
			c := 0.0
			for _, w := range order[p*units/tc.threads : (p+1)*units/tc.threads] {
				c += float64(tc.positions[int(w)/tc.perToken] + 1)
			}
			costs = append(costs, c)
			total += c
		}
		for _, c := range costs {
			if math.Abs(c-total/float64(tc.threads)) > 0.05*total/float64(tc.threads) {
				t.Errorf("%d units on %d threads: work per range %v", units, tc.threads, costs)
			}
		}
	}
	if balancedOrder(&Batch{Positions: []int32{7, 7, 7}}, 12, 4, 2) != nil {
		t.Error("equal positions need no reordering")
	}
}

func seqPositions(lo, hi int32) []int32 {
	var p []int32
	for i := lo; i < hi; i++ {
		p = append(p, i)
	}
	return p
}

// BenchmarkAttention1B times one layer's attention for the 1B shape (32
// heads, 4 KV heads, head dim 64, F16 cache) in batched decode, 16
// sequences at context 96, and a 256-token prompt on a 2-thread pool: the
// closure path as it was against the paged kernel.
func BenchmarkAttention1B(b *testing.B) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, sh := range []struct{ seqs, ctx, chunk int }{{1, 96, 1}, {16, 96, 1}, {1, 256, 256}} {
		s := newAttnSetup(b, kernels.F16, 32, 4, 64, sh.seqs, sh.ctx, sh.chunk, pool)
		name := fmt.Sprintf("npl=%d/ctx=%d/tokens=%d", sh.seqs, sh.ctx, len(s.b.Tokens))
		b.Run(name+"/closures", func(b *testing.B) {
			for b.Loop() {
				s.r.attentionClosures(0, s.b)
			}
		})
		b.Run(name+"/paged", func(b *testing.B) {
			for b.Loop() {
				if err := s.r.attention(0, s.b); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
