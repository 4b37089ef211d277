package pagedkv

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// BlockHash keys a full block in the prefix cache. It is a SHA-256 so that a
// collision, which would silently serve another prompt's KV, is not a concern.
type BlockHash [32]byte

// HashBlock returns the chained key of a full block: parent is the key of the
// previous block (nil for the first block of a sequence), tokens are the
// block's token ids and salt is folded into the first block only.
func HashBlock(parent *BlockHash, tokens []int32, salt []byte) BlockHash {
	buf := make([]byte, 0, 1+32+4+len(salt)+4*len(tokens))
	if parent == nil {
		// Tag 0 marks a first block, so no parent key can imitate it.
		buf = append(buf, 0)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(salt)))
		buf = append(buf, salt...)
	} else {
		buf = append(buf, 1)
		buf = append(buf, parent[:]...)
	}
	for _, t := range tokens {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(t))
	}
	return sha256.Sum256(buf)
}

type block struct {
	refs       int32
	prev, next int32 // free-list links; only meaningful while refs == 0
	cached     bool  // hash is registered in BlockPool.cache
	hash       BlockHash
}

// BlockPool owns numBlocks blocks. A block with no references sits in the
// free list: blocks that hold nothing worth keeping at the head, cached
// blocks at the tail in the order they were freed. Allocation takes the head,
// so cached blocks are evicted least recently freed first.
type BlockPool struct {
	blocks []block // one extra entry at the end is the free list's sentinel
	nFree  int
	cache  map[BlockHash]int32
}

// NewBlockPool returns a pool of numBlocks blocks, all free.
func NewBlockPool(numBlocks int) (*BlockPool, error) {
	if numBlocks <= 0 || numBlocks >= 1<<31-1 {
		return nil, fmt.Errorf("pagedkv: block pool: bad number of blocks %d", numBlocks)
	}
	p := &BlockPool{
		blocks: make([]block, numBlocks+1),
		cache:  make(map[BlockHash]int32),
	}
	s := p.sentinel()
	p.blocks[s].prev, p.blocks[s].next = s, s
	for i := range numBlocks {
		p.pushBack(int32(i))
	}
	return p, nil
}

func (p *BlockPool) sentinel() int32 { return int32(len(p.blocks) - 1) }

// NumBlocks is the size of the pool.
func (p *BlockPool) NumBlocks() int { return len(p.blocks) - 1 }

// NumFree counts blocks without references, cached or not.
func (p *BlockPool) NumFree() int { return p.nFree }

// NumCached counts blocks whose key is in the prefix cache, in use or free.
func (p *BlockPool) NumCached() int { return len(p.cache) }

// RefCount returns the number of references to block id.
func (p *BlockPool) RefCount(id int32) int { return int(p.blocks[id].refs) }

// Lookup returns the block cached under h.
func (p *BlockPool) Lookup(h BlockHash) (int32, bool) {
	id, ok := p.cache[h]
	return id, ok
}

// Allocate takes the block at the head of the free list, drops its cache key
// if it had one and returns it with one reference.
func (p *BlockPool) Allocate() (int32, bool) {
	id := p.blocks[p.sentinel()].next
	if id == p.sentinel() {
		return -1, false
	}
	p.unlink(id)
	b := &p.blocks[id]
	if b.cached {
		delete(p.cache, b.hash)
		b.cached = false
		b.hash = BlockHash{}
	}
	b.refs = 1
	return id, true
}

// Touch adds a reference to block id, taking it off the free list if it was
// free (a prefix-cache hit on a freed block).
func (p *BlockPool) Touch(id int32) {
	b := &p.blocks[id]
	if b.refs == 0 {
		p.unlink(id)
	}
	b.refs++
}

// Release drops a reference to block id. A block left without references goes
// to the tail of the free list if it is cached (to be evicted last) and to the
// head otherwise (nothing lost when it is reused first).
func (p *BlockPool) Release(id int32) {
	b := &p.blocks[id]
	if b.refs <= 0 {
		panic(fmt.Sprintf("pagedkv: release of free block %d", id))
	}
	b.refs--
	if b.refs > 0 {
		return
	}
	if b.cached {
		p.pushBack(id)
	} else {
		p.pushFront(id)
	}
}

// Cache registers block id under h. It returns false and leaves the block
// alone when h already names another block (two requests computed the same
// content at once) or the block already has a key.
func (p *BlockPool) Cache(id int32, h BlockHash) bool {
	b := &p.blocks[id]
	if b.cached {
		return b.hash == h
	}
	if _, dup := p.cache[h]; dup {
		return false
	}
	b.cached = true
	b.hash = h
	p.cache[h] = id
	return true
}

// FreeOrder lists the free blocks in the order they would be allocated.
func (p *BlockPool) FreeOrder() []int32 {
	var ids []int32
	s := p.sentinel()
	for id := p.blocks[s].next; id != s; id = p.blocks[id].next {
		ids = append(ids, id)
	}
	return ids
}

func (p *BlockPool) unlink(id int32) {
	b := &p.blocks[id]
	p.blocks[b.prev].next = b.next
	p.blocks[b.next].prev = b.prev
	b.prev, b.next = -1, -1
	p.nFree--
}

func (p *BlockPool) pushBack(id int32) {
	s := p.sentinel()
	last := p.blocks[s].prev
	p.blocks[id].prev, p.blocks[id].next = last, s
	p.blocks[last].next = id
	p.blocks[s].prev = id
	p.nFree++
}

func (p *BlockPool) pushFront(id int32) {
	s := p.sentinel()
	first := p.blocks[s].next
	p.blocks[id].prev, p.blocks[id].next = s, first
	p.blocks[first].prev = id
	p.blocks[s].next = id
	p.nFree++
}

// verify checks the pool's own invariants: the free list holds exactly the
// blocks without references, and the cache map and block keys agree.
func (p *BlockPool) verify() error {
	seen := make([]bool, p.NumBlocks())
	n := 0
	s := p.sentinel()
	prev := s
	for id := p.blocks[s].next; id != s; id = p.blocks[id].next {
		if id < 0 || int(id) >= p.NumBlocks() {
			return fmt.Errorf("pagedkv: free list holds bad id %d", id)
		}
		if seen[id] {
			return fmt.Errorf("pagedkv: block %d twice in the free list", id)
		}
		seen[id] = true
		if p.blocks[id].prev != prev {
			return fmt.Errorf("pagedkv: free list back link of block %d broken", id)
		}
		if p.blocks[id].refs != 0 {
			return fmt.Errorf("pagedkv: block %d in the free list has %d references", id, p.blocks[id].refs)
		}
		prev = id
		n++
	}
	if n != p.nFree {
		return fmt.Errorf("pagedkv: free list holds %d blocks, counter says %d", n, p.nFree)
	}
	for id := range p.NumBlocks() {
		b := p.blocks[id]
		if b.refs < 0 || (b.refs == 0) != seen[id] {
			return fmt.Errorf("pagedkv: block %d has %d references, in free list %v", id, b.refs, seen[id])
		}
		if b.cached {
			if got, ok := p.cache[b.hash]; !ok || got != int32(id) {
				return fmt.Errorf("pagedkv: cached block %d missing from the cache map", id)
			}
		}
	}
	for h, id := range p.cache {
		if !p.blocks[id].cached || p.blocks[id].hash != h {
			return fmt.Errorf("pagedkv: cache map names block %d under a key it does not hold", id)
		}
	}
	return nil
}
