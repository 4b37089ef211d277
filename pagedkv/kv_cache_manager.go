package pagedkv

import (
	"fmt"
	"math"
)

// KVStats is a snapshot of the manager's counters for the metrics layer.
type KVStats struct {
	NumBlocks     int
	BlocksInUse   int     // blocks with at least one reference
	BlocksCached  int     // blocks with a prefix-cache key, in use or free
	Usage         float64 // BlocksInUse / NumBlocks
	PrefixQueries uint64  // tokens of requests looked up and admitted (again after each preemption)
	PrefixHits    uint64  // of those, tokens served from the prefix cache
}

// reqBlocks is what the manager remembers about one request.
type reqBlocks struct {
	blocks []int32
	// hashes memoizes the keys of the request's first full blocks; tokens
	// only ever get appended, so a key once computed stays right.
	hashes []BlockHash
	// numCached leading blocks of blocks are already in the prefix cache
	// (or were tried and found duplicate); CacheFullBlocks starts after them.
	numCached int
	// The lookup of the last GetComputedBlocks, counted when AllocateSlots
	// admits the request.
	queryTokens, hitTokens int
}

// KVCacheManager keeps the block table of every request that holds KV blocks.
type KVCacheManager struct {
	pool          *BlockPool
	blockSize     int
	prefixCaching bool
	reqs          map[uint64]*reqBlocks
	queries, hits uint64
}

// NewKVCacheManager returns a manager over numBlocks blocks of blockSize
// tokens each.
func NewKVCacheManager(numBlocks, blockSize int, prefixCaching bool) (*KVCacheManager, error) {
	if blockSize <= 0 {
		return nil, fmt.Errorf("pagedkv: bad block size %d", blockSize)
	}
	pool, err := NewBlockPool(numBlocks)
	if err != nil {
		return nil, err
	}
	return &KVCacheManager{
		pool:          pool,
		blockSize:     blockSize,
		prefixCaching: prefixCaching,
		reqs:          make(map[uint64]*reqBlocks),
	}, nil
}

// Pool exposes the block pool (for statistics and tests).
func (m *KVCacheManager) Pool() *BlockPool { return m.pool }

// BlockSize is the number of tokens per block.
func (m *KVCacheManager) BlockSize() int { return m.blockSize }

// NumBlocks is the size of the pool.
func (m *KVCacheManager) NumBlocks() int { return m.pool.NumBlocks() }

// NumBlocksInUse counts blocks that some request references.
func (m *KVCacheManager) NumBlocksInUse() int { return m.pool.NumBlocks() - m.pool.NumFree() }

// NumRequests counts requests the manager keeps state for: those holding
// blocks and those looked up but not yet admitted. Zero once all are freed.
func (m *KVCacheManager) NumRequests() int { return len(m.reqs) }

// Usage is the fraction of blocks in use; freed cached blocks count as free.
func (m *KVCacheManager) Usage() float64 {
	return float64(m.NumBlocksInUse()) / float64(m.pool.NumBlocks())
}

// Stats returns the current counters.
func (m *KVCacheManager) Stats() KVStats {
	return KVStats{
		NumBlocks:     m.pool.NumBlocks(),
		BlocksInUse:   m.NumBlocksInUse(),
		BlocksCached:  m.pool.NumCached(),
		Usage:         m.Usage(),
		PrefixQueries: m.queries,
		PrefixHits:    m.hits,
	}
}

func (m *KVCacheManager) state(reqID uint64) *reqBlocks {
	st := m.reqs[reqID]
	if st == nil {
		st = &reqBlocks{}
		m.reqs[reqID] = st
	}
	return st
}

// blockHashes extends the memoized keys of the request to its first n full
// blocks.
func (m *KVCacheManager) blockHashes(st *reqBlocks, tokens []int32, salt []byte, n int) []BlockHash {
	for i := len(st.hashes); i < n; i++ {
		var parent *BlockHash
		if i > 0 {
			parent = &st.hashes[i-1]
		}
		st.hashes = append(st.hashes, HashBlock(parent, tokens[i*m.blockSize:(i+1)*m.blockSize], salt))
	}
	return st.hashes[:n]
}

// GetComputedBlocks finds the longest prefix of full blocks of tokens that the
// prefix cache holds. It never covers the last token, whose logits must be
// computed. The blocks are not yet referenced; pass them to AllocateSlots.
func (m *KVCacheManager) GetComputedBlocks(reqID uint64, tokens []int32, salt []byte) ([]int32, int) {
	if !m.prefixCaching || len(tokens) == 0 {
		return nil, 0
	}
	st := m.state(reqID)
	st.queryTokens, st.hitTokens = len(tokens), 0
	maxBlocks := (len(tokens) - 1) / m.blockSize
	var hits []int32
	for _, h := range m.blockHashes(st, tokens, salt, maxBlocks) {
		id, ok := m.pool.Lookup(h)
		if !ok {
			break
		}
		hits = append(hits, id)
	}
	st.hitTokens = len(hits) * m.blockSize
	return hits, st.hitTokens
}

// AllocateSlots makes the request's block table cover numComputed tokens
// already in place, the prefix-cache hits from GetComputedBlocks (which must
// come before any block is allocated to the request) and numNew tokens to be
// computed now. It changes nothing and returns false when the free blocks do
// not suffice.
func (m *KVCacheManager) AllocateSlots(reqID uint64, numComputed int, hits []int32, numNew int) bool {
	st := m.state(reqID)
	if len(hits) > 0 && (len(st.blocks) > 0 || numComputed != 0) {
		panic("pagedkv: prefix-cache hits for a request that already holds blocks")
	}
	total := numComputed + len(hits)*m.blockSize + numNew
	need := (total+m.blockSize-1)/m.blockSize - len(st.blocks) - len(hits)
	need = max(need, 0)
	// Hits that sit in the free list are about to leave it.
	freeHits := 0
	for _, id := range hits {
		if m.pool.RefCount(id) == 0 {
			freeHits++
		}
	}
	if need > m.pool.NumFree()-freeHits {
		return false
	}
	if len(st.blocks) == 0 && numComputed == 0 {
		m.queries += uint64(st.queryTokens)
		m.hits += uint64(st.hitTokens)
		st.queryTokens, st.hitTokens = 0, 0
		st.numCached = len(hits)
	}
	for _, id := range hits {
		m.pool.Touch(id)
		st.blocks = append(st.blocks, id)
	}
	for range need {
		id, ok := m.pool.Allocate()
		if !ok {
			panic("pagedkv: free block count out of step with the free list")
		}
		st.blocks = append(st.blocks, id)
	}
	return true
}

// CacheFullBlocks enters into the prefix cache every block of the request
// that is full of computed tokens. Call it after the forward pass that
// computed the first numComputed of tokens.
func (m *KVCacheManager) CacheFullBlocks(reqID uint64, tokens []int32, numComputed int, salt []byte) {
	st := m.reqs[reqID]
	if !m.prefixCaching || st == nil {
		return
	}
	full := min(numComputed, len(tokens)) / m.blockSize
	full = min(full, len(st.blocks))
	if full <= st.numCached {
		return
	}
	hashes := m.blockHashes(st, tokens, salt, full)
	for i := st.numCached; i < full; i++ {
		// A duplicate (same content computed by two requests at once)
		// stays an ordinary block of this request.
		m.pool.Cache(st.blocks[i], hashes[i])
	}
	st.numCached = full
}

// Free releases the request's blocks, last block first, so that when the
// blocks are cached the tail of the sequence is evicted before its head.
func (m *KVCacheManager) Free(reqID uint64) {
	st := m.reqs[reqID]
	if st == nil {
		return
	}
	for i := len(st.blocks) - 1; i >= 0; i-- {
		m.pool.Release(st.blocks[i])
	}
	delete(m.reqs, reqID)
}

// BlockTable returns the request's block ids in order. The slice belongs to
// the manager: read it before the next call that changes the request.
func (m *KVCacheManager) BlockTable(reqID uint64) []int32 {
	if st := m.reqs[reqID]; st != nil {
		return st.blocks
	}
	return nil
}

// SlotMapping appends to dst the KV slot of each token position in
// [start, end) of the request.
func (m *KVCacheManager) SlotMapping(reqID uint64, start, end int, dst []int32) ([]int32, error) {
	return SlotMapping(m.BlockTable(reqID), m.blockSize, start, end, dst)
}

// SlotMapping appends to dst the slot of each position in [start, end) of a
// sequence with the given block table: slot = table[pos/bs]*bs + pos%bs.
func SlotMapping(table []int32, blockSize, start, end int, dst []int32) ([]int32, error) {
	if start < 0 || end < start || (end+blockSize-1)/blockSize > len(table) {
		return dst, fmt.Errorf("pagedkv: positions [%d,%d) outside a table of %d blocks of %d", start, end, len(table), blockSize)
	}
	for pos := start; pos < end; pos++ {
		dst = append(dst, int32(SlotOf(table, blockSize, pos)))
	}
	return dst, nil
}

// Verify checks that every reference count equals the number of block tables
// naming the block and that the free list and prefix cache are consistent.
// Tests call it after each step; when no request holds blocks it also proves
// every block is free or cached.
func (m *KVCacheManager) Verify() error {
	if err := m.pool.verify(); err != nil {
		return err
	}
	refs := make([]int32, m.pool.NumBlocks())
	for id, st := range m.reqs {
		seen := make(map[int32]bool, len(st.blocks))
		for _, b := range st.blocks {
			if seen[b] {
				return fmt.Errorf("pagedkv: request %d holds block %d twice", id, b)
			}
			seen[b] = true
			refs[b]++
		}
		if st.numCached > len(st.blocks) {
			return fmt.Errorf("pagedkv: request %d marks %d of %d blocks cached", id, st.numCached, len(st.blocks))
		}
	}
	for id, n := range refs {
		if got := m.pool.blocks[id].refs; got != n {
			return fmt.Errorf("pagedkv: block %d has %d references, block tables hold %d", id, got, n)
		}
	}
	return nil
}

// NumBlocksForBudget is how many blocks of blockSize tokens fit in budgetBytes
// when every layer stores K and V of nKVHeads x headDim elements per token at
// bytesPerElem bytes (fractional for block formats: Q8_0 is 34/32).
func NumBlocksForBudget(budgetBytes int64, blockSize, nLayers, nKVHeads, headDim int, bytesPerElem float64) int {
	if budgetBytes <= 0 || blockSize <= 0 || nLayers <= 0 || nKVHeads <= 0 || headDim <= 0 || bytesPerElem <= 0 {
		return 0
	}
	perBlock := math.Ceil(2 * float64(nLayers) * float64(blockSize) * float64(nKVHeads) * float64(headDim) * bytesPerElem)
	n := math.Floor(float64(budgetBytes) / perBlock)
	if n > math.MaxInt32-1 {
		return math.MaxInt32 - 1
	}
	return int(n)
}
