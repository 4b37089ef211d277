// Package pagedkv hands out the KV cache in fixed-size blocks.
//
// The tensor-free part lives in two types. BlockPool owns the blocks: their
// reference counts, a doubly linked free list in LRU order and the prefix
// cache (chained block hash -> block). KVCacheManager keeps a block table per
// request and offers the few verbs the scheduler needs, as in vLLM v1:
// GetComputedBlocks, AllocateSlots, CacheFullBlocks and Free.
//
// Nothing here locks: the engine drives both types from its one step-loop
// goroutine.
//
// Prefix caching. A full block is keyed by a SHA-256 of its parent block's key
// and its token ids; the first block also folds in an optional per-request
// salt, which the chain then carries to every later block. A block is entered
// into the cache only after its tokens were computed (CacheFullBlocks is called
// after the forward pass), so a hit never points at KV that is still being
// written. Freed cached blocks stay in the free list, keep their key and are
// evicted least recently freed first, only when a new block is needed.
//
// Parallel sampling (n > 1). Every sample is its own request with the same
// prompt. Once one of them has computed the prompt, the others find its full
// prompt blocks in the prefix cache and share them by reference count; each
// recomputes only the prompt's last partial block and last token into blocks
// of its own, so no copy-on-write is needed. The scheduler's Request.Parent
// holds the siblings back until the first sample's prompt is computed.
package pagedkv
