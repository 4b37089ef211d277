package model

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/pagedkv"
)

// Seq is one sequence's share of a Batch.
type Seq struct {
	Start, End int     // its tokens are Batch.Tokens[Start:End], positions ascending and contiguous
	BlockTable []int32 // its KV blocks; every position before Start is already cached there
}

// Batch is one step's tokens from many sequences, flattened: prefill chunks
// and single decode tokens mixed freely.
type Batch struct {
	Tokens    []int32
	Positions []int32
	Slots     []int32 // KV slot each token's K and V are written to
	Seqs      []Seq
	Logits    []int // indices of the tokens whose logits are wanted, ascending
}

// Validate checks that a batch is well formed for a model and KV storage,
// so Forward never indexes out of range.
func (b *Batch) Validate(vocab int, kv *pagedkv.Storage) error {
	n := len(b.Tokens)
	if len(b.Positions) != n || len(b.Slots) != n {
		return fmt.Errorf("model: batch has %d tokens, %d positions, %d slots", n, len(b.Positions), len(b.Slots))
	}
	for i, t := range b.Tokens {
		if t < 0 || int(t) >= vocab {
			return fmt.Errorf("model: token id %d out of range [0, %d)", t, vocab)
		}
		if b.Slots[i] < 0 || int(b.Slots[i]) >= kv.NumSlots() {
			return fmt.Errorf("model: KV slot %d out of range [0, %d)", b.Slots[i], kv.NumSlots())
		}
	}
	next := 0
	for _, s := range b.Seqs {
		if s.Start != next || s.End <= s.Start || s.End > n {
			return fmt.Errorf("model: sequence spans must tile the batch in order")
		}
		next = s.End
		last := int(b.Positions[s.End-1])
		if len(s.BlockTable) == 0 || last/kv.BlockSize >= len(s.BlockTable) {
			return fmt.Errorf("model: block table of %d blocks too short for position %d", len(s.BlockTable), last)
		}
		for _, blk := range s.BlockTable[:last/kv.BlockSize+1] {
			if blk < 0 || int(blk) >= kv.NumBlocks {
				return fmt.Errorf("model: block %d out of range [0, %d)", blk, kv.NumBlocks)
			}
		}
		for i := s.Start; i < s.End; i++ {
			if b.Positions[i] < 0 || (i > s.Start && b.Positions[i] != b.Positions[i-1]+1) {
				return fmt.Errorf("model: positions of a sequence must be non-negative and contiguous")
			}
			if int(b.Slots[i]) != pagedkv.SlotOf(s.BlockTable, kv.BlockSize, int(b.Positions[i])) {
				return fmt.Errorf("model: slot %d of token %d disagrees with its block table", b.Slots[i], i)
			}
		}
	}
	if next != n {
		return fmt.Errorf("model: sequence spans cover %d of %d tokens", next, n)
	}
	for i, l := range b.Logits {
		if l < 0 || l >= n || (i > 0 && l <= b.Logits[i-1]) {
			return fmt.Errorf("model: logit indices must be ascending token indices")
		}
	}
	return nil
}

// Runner evaluates batches of one model against one KV storage, reusing its
// buffers between steps. A Runner is not safe for concurrent use.
type Runner struct {
	m    *Model
	kv   *pagedkv.Storage
	pool *kernels.Pool

	x, xb, q, k, v, att, gate, up, logits []float32
}

// NewRunner prepares a runner. pool may be nil (single-threaded).
func NewRunner(m *Model, kv *pagedkv.Storage, pool *kernels.Pool) (*Runner, error) {
	c := m.Config
	if kv.Layers != c.BlockCount || kv.KVHeads != c.HeadCountKV || kv.HeadDim != c.HeadDim {
		return nil, fmt.Errorf("model: KV storage is %d layers × %d heads × %d, the model needs %d × %d × %d",
			kv.Layers, kv.KVHeads, kv.HeadDim, c.BlockCount, c.HeadCountKV, c.HeadDim)
	}
	return &Runner{m: m, kv: kv, pool: pool}, nil
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// Forward runs the batch through the model, writing each token's K/V to its
// slot, and returns the logits of the tokens in b.Logits (len(b.Logits) rows
// of VocabSize). The result is valid until the next call.
func (r *Runner) Forward(b *Batch) ([]float32, error) {
	m, c := r.m, r.m.Config
	if err := b.Validate(c.VocabSize, r.kv); err != nil {
		return nil, err
	}
	n := len(b.Tokens)
	nEmbd := c.EmbeddingLength
	qDim, kvDim := c.HeadCount*c.HeadDim, c.HeadCountKV*c.HeadDim
	r.x = grow(r.x, n*nEmbd)
	r.xb = grow(r.xb, n*max(nEmbd, qDim))
	r.q = grow(r.q, n*qDim)
	r.k = grow(r.k, n*kvDim)
	r.v = grow(r.v, n*kvDim)
	r.att = grow(r.att, n*qDim)
	r.gate = grow(r.gate, n*c.FeedForwardLength)
	r.up = grow(r.up, n*c.FeedForwardLength)

	for i, tok := range b.Tokens {
		if err := kernels.Dequantize(m.tokEmbd.Type, m.tokEmbd.Row(int(tok)), r.x[i*nEmbd:(i+1)*nEmbd]); err != nil {
			return nil, err
		}
	}
	for li := range m.layers {
		ly := &m.layers[li]
		for i := range n {
			kernels.RMSNorm(r.xb[i*nEmbd:(i+1)*nEmbd], r.x[i*nEmbd:(i+1)*nEmbd], ly.attnNorm, c.RMSEpsilon)
		}
		// q, k and v (and below gate and up) read the same input: one job.
		kernels.MatMuls(r.pool, [][]float32{r.q, r.k, r.v}, ly.qkv[:], r.xb, n)
		for i := range n {
			pos := int(b.Positions[i])
			kernels.RoPE(r.q[i*qDim:(i+1)*qDim], c.HeadCount, c.HeadDim, pos, m.rope)
			kernels.RoPE(r.k[i*kvDim:(i+1)*kvDim], c.HeadCountKV, c.HeadDim, pos, m.rope)
			r.kv.Write(li, int(b.Slots[i]), r.k[i*kvDim:(i+1)*kvDim], r.v[i*kvDim:(i+1)*kvDim])
		}
		if err := r.attention(li, b); err != nil {
			return nil, err
		}
		kernels.MatMul(r.pool, r.xb, ly.wo, r.att, n)
		for i := range r.x {
			r.x[i] += r.xb[i]
		}
		for i := range n {
			kernels.RMSNorm(r.xb[i*nEmbd:(i+1)*nEmbd], r.x[i*nEmbd:(i+1)*nEmbd], ly.ffnNorm, c.RMSEpsilon)
		}
		kernels.MatMuls(r.pool, [][]float32{r.gate, r.up}, ly.gateUp[:], r.xb, n)
		kernels.SwiGLU(r.gate, r.gate, r.up)
		kernels.MatMul(r.pool, r.xb, ly.wDown, r.gate, n)
		for i := range r.x {
			r.x[i] += r.xb[i]
		}
	}
	nl := len(b.Logits)
	for j, i := range b.Logits {
		kernels.RMSNorm(r.xb[j*nEmbd:(j+1)*nEmbd], r.x[i*nEmbd:(i+1)*nEmbd], m.outNorm, c.RMSEpsilon)
	}
	r.logits = grow(r.logits, nl*c.VocabSize)
	if nl > 0 {
		kernels.MatMul(r.pool, r.logits, m.output, r.xb[:nl*nEmbd], nl)
	}
	return r.logits, nil
}

// attention computes, for every token and query head, softmax(q·Kᵀ/√d)·V
// over the token's own sequence up to and including its position, reading
// K/V through the sequence's block table (causal, grouped-query). The query
// heads sharing a KV head are done together so each K/V row is read once
// per group; groups are split only when there are too few of them to keep
// every pool thread busy.
func (r *Runner) attention(li int, b *Batch) error {
	c := r.m.Config
	nHead, hd, kvHeads := c.HeadCount, c.HeadDim, c.HeadCountKV
	group := nHead / kvHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	if len(b.Tokens) >= kernels.TiledMinRows && kernels.TiledSupported(r.kv.Type, hd) {
		// llama.cpp's tiled flash attention: its numbers, not the one-row
		// path's, for batches as large as its Q tile (neq1 is the whole
		// batch, whatever the sequences).
		return r.attentionTiled(li, b, scale)
	}
	seqOf := make([]int, len(b.Tokens))
	for si, s := range b.Seqs {
		for i := s.Start; i < s.End; i++ {
			seqOf[i] = si
		}
	}
	threads := 1
	if r.pool != nil {
		threads = r.pool.Threads()
	}
	parts := 1 // pieces each group is cut into
	for parts < group && group%(2*parts) == 0 && len(b.Tokens)*kvHeads*parts < 2*threads {
		parts *= 2
	}
	gs, units := group/parts, len(b.Tokens)*kvHeads*parts
	order := balancedOrder(b, units, kvHeads*parts, threads)
	kbuf, vbuf, slotBytes := r.kv.Layer(li)
	rowBytes := slotBytes / kvHeads
	var (
		errOnce sync.Once
		err     error
	)
	run := func(lo, hi int) {
		scratch := attnScratch.Get().(*kernels.AttentionScratch)
		defer attnScratch.Put(scratch)
		for u := lo; u < hi; u++ {
			w := u
			if order != nil {
				w = int(order[u])
			}
			i, kvh, part := w/(kvHeads*parts), w/parts%kvHeads, w%parts
			h0 := kvh*group + part*gs
			span := (i*nHead + h0) * hd
			p := kernels.PagedKV{K: kbuf, V: vbuf, BlockSize: r.kv.BlockSize, SlotBytes: slotBytes,
				HeadOffset: kvh * rowBytes, Blocks: b.Seqs[seqOf[i]].BlockTable}
			if e := kernels.AttendPagedGroup(r.att[span:span+gs*hd], r.q[span:span+gs*hd], hd, r.kv.Type,
				int(b.Positions[i])+1, scale, p, scratch); e != nil {
				errOnce.Do(func() { err = fmt.Errorf("model: layer %d attention of token %d: %w", li, i, e) })
				return
			}
		}
	}
	if r.pool == nil {
		run(0, units)
	} else {
		r.pool.Run(units, run)
	}
	return err
}

// tiledChunk is how many consecutive tokens of a sequence one tiled
// attention unit takes: each K/V tile is widened once for all their query
// heads of a KV head.
const tiledChunk = 16

// attentionTiled is attention in llama.cpp's tiled order (kernels.AttendTiled).
// A unit is up to tiledChunk consecutive tokens of one sequence and one KV
// head with all its query heads; units are dealt by cost (their last
// token's position) as balancedOrder does.
func (r *Runner) attentionTiled(li int, b *Batch, scale float32) error {
	c := r.m.Config
	nHead, hd, kvHeads := c.HeadCount, c.HeadDim, c.HeadCountKV
	group := nHead / kvHeads
	type unit struct{ seq, lo, hi, kvh int }
	var units []unit
	for si, s := range b.Seqs {
		for lo := s.Start; lo < s.End; lo += tiledChunk {
			for kvh := range kvHeads {
				units = append(units, unit{si, lo, min(lo+tiledChunk, s.End), kvh})
			}
		}
	}
	cost := func(u unit) int { return (u.hi - u.lo) * (int(b.Positions[u.hi-1]) + 1) }
	slices.SortStableFunc(units, func(x, y unit) int { return cmp.Compare(cost(y), cost(x)) })
	order := make([]unit, 0, len(units))
	for lo, hi := 0, len(units)-1; lo <= hi; lo, hi = lo+1, hi-1 {
		order = append(order, units[lo])
		if lo != hi {
			order = append(order, units[hi])
		}
	}
	kbuf, vbuf, slotBytes := r.kv.Layer(li)
	rowBytes := slotBytes / kvHeads
	var (
		errOnce sync.Once
		err     error
	)
	run := func(lo, hi int) {
		scratch := tiledScratch.Get().(*tiledWork)
		defer tiledScratch.Put(scratch)
		for _, u := range order[lo:hi] {
			n := scratch.n[:0]
			for i := u.lo; i < u.hi; i++ {
				n = append(n, int(b.Positions[i])+1)
			}
			scratch.n = n
			p := kernels.PagedKV{K: kbuf, V: vbuf, BlockSize: r.kv.BlockSize, SlotBytes: slotBytes,
				HeadOffset: u.kvh * rowBytes, Blocks: b.Seqs[u.seq].BlockTable}
			off := (u.lo*nHead + u.kvh*group) * hd
			end := off + (u.hi-u.lo-1)*nHead*hd + group*hd
			if e := kernels.AttendTiled(r.att[off:end], r.q[off:end], nHead*hd, group, hd, r.kv.Type,
				n, scale, p, &scratch.s); e != nil {
				errOnce.Do(func() { err = fmt.Errorf("model: layer %d attention of tokens %d-%d: %w", li, u.lo, u.hi-1, e) })
				return
			}
		}
	}
	if r.pool == nil {
		run(0, len(order))
	} else {
		r.pool.Run(len(order), run)
	}
	return err
}

// tiledWork is one worker's tiled attention buffers.
type tiledWork struct {
	s kernels.TiledScratch
	n []int
}

var tiledScratch = sync.Pool{New: func() any { return new(tiledWork) }}

// attnScratch keeps attention's per-worker buffers between layers and
// steps instead of allocating them for every call.
var attnScratch = sync.Pool{New: func() any { return new(kernels.AttentionScratch) }}

// balancedOrder orders the attention units (perToken of them per token)
// so that the pool's equal contiguous ranges get similar work: a unit
// costs about its token's position, so the units are sorted by it and
// dealt longest, shortest, second longest, ... (a prefill chunk's later
// tokens attend over many more positions than its first ones). It returns
// nil, the natural order, when there is nothing to balance.
func balancedOrder(b *Batch, units, perToken, threads int) []int32 {
	if threads <= 1 || units <= threads {
		return nil
	}
	if slices.Min(b.Positions) == slices.Max(b.Positions) {
		return nil
	}
	sorted := make([]int32, units)
	for w := range sorted {
		sorted[w] = int32(w)
	}
	slices.SortStableFunc(sorted, func(x, y int32) int {
		return cmp.Compare(b.Positions[int(y)/perToken], b.Positions[int(x)/perToken])
	})
	order := make([]int32, 0, units)
	for lo, hi := 0, units-1; lo <= hi; lo, hi = lo+1, hi-1 {
		order = append(order, sorted[lo])
		if lo != hi {
			order = append(order, sorted[hi])
		}
	}
	return order
}
