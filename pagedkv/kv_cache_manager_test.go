package pagedkv

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func seqTokens(n int, base int32) []int32 {
	t := make([]int32, n)
	for i := range t {
		t[i] = base + int32(i)
	}
	return t
}

func mustManager(t *testing.T, numBlocks, blockSize int) *KVCacheManager {
	t.Helper()
	m, err := NewKVCacheManager(numBlocks, blockSize, true)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func verify(t *testing.T, m *KVCacheManager) {
	t.Helper()
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestHashBlockChain(t *testing.T) {
	a := HashBlock(nil, []int32{1, 2, 3, 4}, nil)
	b := HashBlock(nil, []int32{1, 2, 3, 5}, nil)
	if a == b {
		t.Fatal("first blocks with different tokens hash alike")
	}
	if a != HashBlock(nil, []int32{1, 2, 3, 4}, nil) {
		t.Fatal("hash is not deterministic")
	}
	if a == HashBlock(nil, []int32{1, 2, 3, 4}, []byte("lora-1")) {
		t.Fatal("salt does not change the first block's hash")
	}
	// Same tokens under different parents must differ: the key names the
	// whole prefix, not just the block.
	ca := HashBlock(&a, []int32{9, 9, 9, 9}, nil)
	cb := HashBlock(&b, []int32{9, 9, 9, 9}, nil)
	if ca == cb {
		t.Fatal("child blocks with different parents hash alike")
	}
	if ca == HashBlock(nil, []int32{9, 9, 9, 9}, nil) {
		t.Fatal("child block hashes like a first block")
	}
	var zero BlockHash
	if HashBlock(&zero, []int32{9, 9, 9, 9}, nil) == HashBlock(nil, []int32{9, 9, 9, 9}, nil) {
		t.Fatal("a zero parent imitates a first block")
	}
}

func TestBlockPoolLRUOrder(t *testing.T) {
	p, err := NewBlockPool(6)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int32
	for range 6 {
		id, ok := p.Allocate()
		if !ok {
			t.Fatal("allocate failed on a fresh pool")
		}
		ids = append(ids, id)
	}
	if _, ok := p.Allocate(); ok {
		t.Fatal("allocated a seventh block out of six")
	}
	// Cache blocks 0..3; 4 and 5 hold nothing worth keeping.
	for i := range 4 {
		if !p.Cache(ids[i], HashBlock(nil, []int32{int32(i)}, nil)) {
			t.Fatal("cache failed")
		}
	}
	for _, i := range []int{2, 0, 4, 3, 1, 5} {
		p.Release(ids[i])
	}
	// Uncached blocks come first (last released first), then cached ones
	// in the order they were freed.
	want := []int32{ids[5], ids[4], ids[2], ids[0], ids[3], ids[1]}
	if got := p.FreeOrder(); !slices.Equal(got, want) {
		t.Fatalf("free order %v, want %v", got, want)
	}
	// A hit in the middle leaves the list in O(1) and keeps the rest in order.
	p.Touch(ids[0])
	want = []int32{ids[5], ids[4], ids[2], ids[3], ids[1]}
	if got := p.FreeOrder(); !slices.Equal(got, want) {
		t.Fatalf("after touch: free order %v, want %v", got, want)
	}
	if err := p.verify(); err != nil {
		t.Fatal(err)
	}
	// Allocation evicts in that order and drops the evicted keys.
	for _, w := range want {
		id, _ := p.Allocate()
		if id != w {
			t.Fatalf("allocated %d, want %d", id, w)
		}
	}
	if _, ok := p.Lookup(HashBlock(nil, []int32{2}, nil)); ok {
		t.Fatal("evicted block still in the cache")
	}
	if id, ok := p.Lookup(HashBlock(nil, []int32{0}, nil)); !ok || id != ids[0] {
		t.Fatal("touched block lost its key")
	}
	if p.NumCached() != 1 || p.NumFree() != 0 {
		t.Fatalf("cached %d free %d, want 1 and 0", p.NumCached(), p.NumFree())
	}
	if err := p.verify(); err != nil {
		t.Fatal(err)
	}
}

// run allocates and computes a whole prompt for request id, the way the
// scheduler does.
func run(t *testing.T, m *KVCacheManager, id uint64, tokens []int32) (hitTokens int) {
	t.Helper()
	hits, n := m.GetComputedBlocks(id, tokens, nil)
	if !m.AllocateSlots(id, 0, hits, len(tokens)-n) {
		t.Fatalf("request %d: allocation failed", id)
	}
	m.CacheFullBlocks(id, tokens, len(tokens), nil)
	verify(t, m)
	return n
}

func TestPrefixCacheHit(t *testing.T) {
	m := mustManager(t, 10, 4)
	prompt := seqTokens(10, 100) // two full blocks and a partial one
	if n := run(t, m, 1, prompt); n != 0 {
		t.Fatalf("cold cache hit %d tokens", n)
	}
	if got := m.Stats(); got.PrefixQueries != 10 || got.PrefixHits != 0 || got.BlocksInUse != 3 || got.BlocksCached != 2 {
		t.Fatalf("stats after first request %+v", got)
	}
	// A second request with the same prompt shares the two full blocks
	// while the first still runs.
	if n := run(t, m, 2, prompt); n != 8 {
		t.Fatalf("second request hit %d tokens, want 8", n)
	}
	t1, t2 := m.BlockTable(1), m.BlockTable(2)
	if !slices.Equal(t1[:2], t2[:2]) || t1[2] == t2[2] {
		t.Fatalf("tables %v and %v should share exactly the two full blocks", t1, t2)
	}
	if m.Pool().RefCount(t1[0]) != 2 {
		t.Fatal("shared block does not count two references")
	}
	if got := m.Stats(); got.PrefixQueries != 20 || got.PrefixHits != 8 || got.BlocksInUse != 4 {
		t.Fatalf("stats after second request %+v", got)
	}
	m.Free(1)
	m.Free(2)
	verify(t, m)
	if m.NumBlocksInUse() != 0 || m.Usage() != 0 {
		t.Fatalf("%d blocks in use after freeing everything", m.NumBlocksInUse())
	}
	// The cached blocks outlive both requests.
	if n := run(t, m, 3, append(slices.Clone(prompt[:8]), 7, 7, 7, 7, 7)); n != 8 {
		t.Fatalf("third request hit %d tokens, want 8", n)
	}
	// A different first block breaks the chain even when later blocks match.
	other := slices.Clone(prompt)
	other[0] = 1
	if n := run(t, m, 4, other); n != 0 {
		t.Fatalf("request with another first block hit %d tokens", n)
	}
	m.Free(3)
	m.Free(4)
	verify(t, m)
}

func TestNeverWholePrompt(t *testing.T) {
	m := mustManager(t, 8, 4)
	prompt := seqTokens(8, 0) // exactly two blocks
	run(t, m, 1, prompt)
	m.Free(1)
	// The last token must be computed for logits, so only one block hits.
	hits, n := m.GetComputedBlocks(2, prompt, nil)
	if len(hits) != 1 || n != 4 {
		t.Fatalf("hit %d blocks / %d tokens, want 1 / 4", len(hits), n)
	}
	// Salted requests do not see unsalted blocks.
	if hits, _ := m.GetComputedBlocks(3, prompt, []byte("x")); len(hits) != 0 {
		t.Fatal("salted request hit unsalted blocks")
	}
	m.Free(2)
	m.Free(3)
	verify(t, m)
}

func TestFreeEvictsTailFirst(t *testing.T) {
	m := mustManager(t, 4, 2)
	run(t, m, 1, seqTokens(7, 0)) // blocks: 3 full, 1 partial
	table := slices.Clone(m.BlockTable(1))
	m.Free(1)
	want := []int32{table[3], table[2], table[1], table[0]}
	if got := m.Pool().FreeOrder(); !slices.Equal(got, want) {
		t.Fatalf("free order %v, want %v (partial block, then tail to head)", got, want)
	}
	// A new two-block request evicts the partial block and the last full one,
	// so the first two blocks of the old prompt still hit.
	run(t, m, 2, seqTokens(3, 50))
	if _, n := m.GetComputedBlocks(3, seqTokens(7, 0), nil); n != 4 {
		t.Fatalf("old prompt hit %d tokens after eviction, want 4", n)
	}
	m.Free(2)
	m.Free(3)
	verify(t, m)
}

func TestAllocateSlotsShortChangesNothing(t *testing.T) {
	m := mustManager(t, 4, 4)
	run(t, m, 1, seqTokens(9, 0)) // 3 blocks, 2 cached
	m.Free(1)
	run(t, m, 2, seqTokens(3, 90)) // takes the uncached partial block
	// Request 3 hits the two cached free blocks and wants 2 more: only one
	// block is free besides the hits.
	prompt := append(seqTokens(8, 0), seqTokens(8, 200)...)
	hits, n := m.GetComputedBlocks(3, prompt, nil)
	if len(hits) != 2 || n != 8 {
		t.Fatalf("hit %d blocks, want 2", len(hits))
	}
	before := m.Pool().FreeOrder()
	if m.AllocateSlots(3, 0, hits, len(prompt)-n) {
		t.Fatal("allocation succeeded with too few blocks")
	}
	if got := m.Pool().FreeOrder(); !slices.Equal(got, before) || len(m.BlockTable(3)) != 0 {
		t.Fatal("failed allocation changed the pool")
	}
	if m.Stats().PrefixQueries != 12 {
		t.Fatal("failed allocation counted a prefix query")
	}
	// With one token fewer it fits: hits leave the free list, one new block.
	if !m.AllocateSlots(3, 0, hits, 4) {
		t.Fatal("allocation of hits plus one block failed")
	}
	verify(t, m)
	// Decode growth: computed 12, one more token needs a fourth block.
	if m.AllocateSlots(3, 12, nil, 1) {
		t.Fatal("grew past the pool")
	}
	m.Free(2)
	if !m.AllocateSlots(3, 12, nil, 1) || len(m.BlockTable(3)) != 4 {
		t.Fatal("growth failed after a block was freed")
	}
	m.Free(3)
	verify(t, m)
	if m.NumBlocksInUse() != 0 {
		t.Fatal("blocks left in use")
	}
}

func TestDuplicateContentStaysPrivate(t *testing.T) {
	m := mustManager(t, 8, 4)
	prompt := seqTokens(9, 0)
	// Both requests are admitted before either has computed anything.
	for id := uint64(1); id <= 2; id++ {
		hits, n := m.GetComputedBlocks(id, prompt, nil)
		if !m.AllocateSlots(id, 0, hits, len(prompt)-n) {
			t.Fatal("allocation failed")
		}
	}
	m.CacheFullBlocks(1, prompt, 9, nil)
	m.CacheFullBlocks(2, prompt, 9, nil)
	verify(t, m)
	if m.Pool().NumCached() != 2 {
		t.Fatalf("%d cached blocks, want 2 (request 2's copies stay private)", m.Pool().NumCached())
	}
	m.Free(2)
	m.Free(1)
	verify(t, m)
	if m.NumBlocksInUse() != 0 || m.Pool().NumCached() != 2 {
		t.Fatal("bad accounting after free")
	}
}

func TestSlotMapping(t *testing.T) {
	got, err := SlotMapping([]int32{5, 2, 7}, 4, 2, 11, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{22, 23, 8, 9, 10, 11, 28, 29, 30}
	if !slices.Equal(got, want) {
		t.Fatalf("slots %v, want %v", got, want)
	}
	if _, err := SlotMapping([]int32{5, 2, 7}, 4, 2, 13, nil); err == nil {
		t.Fatal("no error past the table")
	}
	if _, err := SlotMapping(nil, 4, 3, 2, nil); err == nil {
		t.Fatal("no error for a reversed range")
	}
}

func TestNumBlocksForBudget(t *testing.T) {
	// 22 layers x 4 KV heads x 64 dims, F16: 2*22*16*4*64*2 = 360448 bytes
	// per block of 16.
	if got := NumBlocksForBudget(1<<30, 16, 22, 4, 64, 2); got != 2978 {
		t.Fatalf("F16: %d blocks, want 2978", got)
	}
	// Q8_0: 34 bytes per 32 elements, 191488 bytes per block.
	if got := NumBlocksForBudget(1<<30, 16, 22, 4, 64, 34.0/32); got != 5607 {
		t.Fatalf("Q8_0: %d blocks, want 5607", got)
	}
	if got := NumBlocksForBudget(100, 16, 22, 4, 64, 2); got != 0 {
		t.Fatalf("tiny budget: %d blocks", got)
	}
	if got := NumBlocksForBudget(1<<30, 0, 22, 4, 64, 2); got != 0 {
		t.Fatalf("zero block size: %d blocks", got)
	}
}

// TestManagerRandomOps drives the manager with random admissions, growth,
// caching and frees, checking the invariants after every operation and that
// all blocks come back.
func TestManagerRandomOps(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		bs := 1 + rng.IntN(4)
		m := mustManager(t, 4+rng.IntN(12), bs)
		type live struct {
			tokens   []int32
			computed int
		}
		reqs := map[uint64]*live{}
		prefixes := [][]int32{seqTokens(12, 0), seqTokens(12, 1000)}
		next := uint64(1)
		for range 300 {
			switch op := rng.IntN(4); {
			case op == 0 || len(reqs) == 0:
				toks := append(slices.Clone(prefixes[rng.IntN(2)][:rng.IntN(12)]), seqTokens(1+rng.IntN(6), int32(5000+rng.IntN(3)))...)
				hits, n := m.GetComputedBlocks(next, toks, nil)
				chunk := 1 + rng.IntN(len(toks)-n)
				if m.AllocateSlots(next, 0, hits, chunk) {
					reqs[next] = &live{tokens: toks, computed: n + chunk}
					m.CacheFullBlocks(next, toks, n+chunk, nil)
				} else {
					m.Free(next)
				}
				next++
			case op == 1:
				for id, r := range reqs {
					if r.computed == len(r.tokens) {
						r.tokens = append(r.tokens, int32(rng.IntN(3)))
					}
					k := 1 + rng.IntN(len(r.tokens)-r.computed)
					if m.AllocateSlots(id, r.computed, nil, k) {
						r.computed += k
						m.CacheFullBlocks(id, r.tokens, r.computed, nil)
					}
					break
				}
			default:
				for id := range reqs {
					m.Free(id)
					delete(reqs, id)
					break
				}
			}
			verify(t, m)
			for id, r := range reqs {
				if len(m.BlockTable(id))*bs < r.computed {
					t.Fatalf("seed %d: request %d table too short", seed, id)
				}
			}
		}
		for id := range reqs {
			m.Free(id)
		}
		verify(t, m)
		if m.NumBlocksInUse() != 0 || m.Pool().NumFree() != m.NumBlocks() || m.NumRequests() != 0 {
			t.Fatalf("seed %d: %d blocks in use at the end", seed, m.NumBlocksInUse())
		}
	}
}

// Verify is what the other tests lean on, so it must see corruption.
func TestVerifyCatchesCorruption(t *testing.T) {
	setup := func() *KVCacheManager {
		m := mustManager(t, 6, 2)
		run(t, m, 1, seqTokens(5, 0))
		run(t, m, 2, seqTokens(5, 0)) // shares two cached blocks with 1
		return m
	}
	corrupt := map[string]func(m *KVCacheManager){
		"extra reference": func(m *KVCacheManager) { m.pool.blocks[m.BlockTable(1)[0]].refs++ },
		"table repeats a block": func(m *KVCacheManager) {
			st := m.reqs[2]
			st.blocks[2] = st.blocks[1]
		},
		"lost cache entry":     func(m *KVCacheManager) { clear(m.pool.cache) },
		"free list miscounted": func(m *KVCacheManager) { m.pool.nFree++ },
		"free block in a table": func(m *KVCacheManager) {
			st := m.reqs[2]
			st.blocks = append(st.blocks, m.pool.FreeOrder()[0])
		},
	}
	for name, f := range corrupt {
		m := setup()
		verify(t, m)
		f(m)
		if m.Verify() == nil {
			t.Errorf("%s: Verify saw nothing", name)
		}
	}
	m := setup()
	got, err := m.SlotMapping(2, 3, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	table := m.BlockTable(2)
	if want := []int32{table[1]*2 + 1, table[2] * 2}; !slices.Equal(got, want) {
		t.Fatalf("slots %v, want %v", got, want)
	}
}
