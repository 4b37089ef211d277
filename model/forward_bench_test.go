package model

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/pagedkv"
)

// BenchmarkForwardDecode times one batched decode step (16 sequences at
// context 96, F16 cache filled with random K/V) of the model in
// PAGODA_BENCH_MODEL (e.g. a 1B-shape file from pagoda bench synth) on two
// threads, to see attention's share of a step in a CPU profile. It skips
// when the variable is unset.
func BenchmarkForwardDecode(b *testing.B) {
	path := os.Getenv("PAGODA_BENCH_MODEL")
	if path == "" {
		b.Skip("PAGODA_BENCH_MODEL not set")
	}
	f, err := loader.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m, err := Load(f)
	if err != nil {
		b.Fatal(err)
	}
	c := m.Config
	const seqs, ctx, bs = 16, 96, 16
	kv, err := pagedkv.NewStorage(kernels.F16, seqs*ctx/bs, bs, c.BlockCount, c.HeadCountKV, c.HeadDim)
	if err != nil {
		b.Fatal(err)
	}
	pool := kernels.NewPool(2)
	defer pool.Close()
	r, err := NewRunner(m, kv, pool)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	row := make([]float32, c.HeadCountKV*c.HeadDim)
	rnd := func() []float32 {
		for i := range row {
			row[i] = float32(rng.NormFloat64())
		}
		return row
	}
	batch := &Batch{}
	for s := range seqs {
		table := make([]int32, ctx/bs)
		for i := range table {
			table[i] = int32(s*ctx/bs + i)
		}
		for li := range c.BlockCount {
			for pos := range ctx - 1 {
				kv.Write(li, pagedkv.SlotOf(table, bs, pos), rnd(), rnd())
			}
		}
		batch.Tokens = append(batch.Tokens, int32(rng.IntN(c.VocabSize)))
		batch.Positions = append(batch.Positions, ctx-1)
		batch.Slots = append(batch.Slots, int32(pagedkv.SlotOf(table, bs, ctx-1)))
		batch.Seqs = append(batch.Seqs, Seq{Start: s, End: s + 1, BlockTable: table})
		batch.Logits = append(batch.Logits, s)
	}
	b.Run(fmt.Sprintf("npl=%d/ctx=%d", seqs, ctx), func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Forward(batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
