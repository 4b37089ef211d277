package pagedkv

import (
	"fmt"

	"github.com/pagoda-llm/pagoda/kernels"
)

// Storage holds the K and V tensors of every layer for a pool of blocks.
// Per layer, K and V are laid out [block][slot][kv_head][head_dim] in the
// cache's element format, so a token's slot number (block*BlockSize + slot
// in block) addresses all of its heads at once.
type Storage struct {
	Type      kernels.Type // F16 (default), F32 or Q8_0
	NumBlocks int
	BlockSize int
	Layers    int
	KVHeads   int
	HeadDim   int

	headBytes int      // bytes of one head's row
	k, v      [][]byte // per layer
}

// StorageTypes are the KV element formats pagoda supports.
var StorageTypes = []kernels.Type{kernels.F16, kernels.F32, kernels.Q8_0}

// BytesPerToken returns the K+V bytes one token needs across all layers.
func BytesPerToken(t kernels.Type, layers, kvHeads, headDim int) (int64, error) {
	row, err := kernels.RowBytes(t, int64(headDim))
	if err != nil {
		return 0, fmt.Errorf("pagedkv: %s KV cache needs the head size %d to be a multiple of the block size: %w", t, headDim, err)
	}
	return 2 * int64(layers) * int64(kvHeads) * row, nil
}

// NewStorage allocates K/V memory for numBlocks blocks of blockSize tokens.
func NewStorage(t kernels.Type, numBlocks, blockSize, layers, kvHeads, headDim int) (*Storage, error) {
	ok := false
	for _, st := range StorageTypes {
		ok = ok || st == t
	}
	if !ok {
		return nil, fmt.Errorf("pagedkv: KV cache type %s is not supported (F16, F32, Q8_0)", t)
	}
	if numBlocks <= 0 || blockSize <= 0 {
		return nil, fmt.Errorf("pagedkv: need a positive number of blocks and block size, got %d × %d", numBlocks, blockSize)
	}
	row, err := kernels.RowBytes(t, int64(headDim))
	if err != nil {
		return nil, fmt.Errorf("pagedkv: %s KV cache needs the head size %d to be a multiple of the block size: %w", t, headDim, err)
	}
	s := &Storage{Type: t, NumBlocks: numBlocks, BlockSize: blockSize, Layers: layers, KVHeads: kvHeads, HeadDim: headDim, headBytes: int(row)}
	perLayer := numBlocks * blockSize * kvHeads * s.headBytes
	s.k = make([][]byte, layers)
	s.v = make([][]byte, layers)
	for l := range layers {
		s.k[l] = make([]byte, perLayer)
		s.v[l] = make([]byte, perLayer)
	}
	return s, nil
}

// Bytes returns the memory the storage holds.
func (s *Storage) Bytes() int64 {
	return 2 * int64(s.Layers) * int64(s.NumBlocks*s.BlockSize*s.KVHeads*s.headBytes)
}

// NumSlots is the number of token slots (blocks × block size).
func (s *Storage) NumSlots() int { return s.NumBlocks * s.BlockSize }

// Write stores the K and V of one token (kvHeads*headDim values each) at slot.
func (s *Storage) Write(layer, slot int, k, v []float32) {
	off := slot * s.KVHeads * s.headBytes
	for h := range s.KVHeads {
		kernels.QuantizeActivations(s.Type, k[h*s.HeadDim:(h+1)*s.HeadDim], s.k[layer][off+h*s.headBytes:off+(h+1)*s.headBytes])
		kernels.QuantizeActivations(s.Type, v[h*s.HeadDim:(h+1)*s.HeadDim], s.v[layer][off+h*s.headBytes:off+(h+1)*s.headBytes])
	}
}

// K returns the stored K row of one head at slot, in the storage format.
func (s *Storage) K(layer, slot, head int) []byte {
	off := (slot*s.KVHeads + head) * s.headBytes
	return s.k[layer][off : off+s.headBytes]
}

// V returns the stored V row of one head at slot, in the storage format.
func (s *Storage) V(layer, slot, head int) []byte {
	off := (slot*s.KVHeads + head) * s.headBytes
	return s.v[layer][off : off+s.headBytes]
}

// Layer returns one layer's whole K and V storage ([block][slot][kv_head]
// [head_dim] in the cache format) and the bytes of one slot, for kernels
// that walk block tables themselves (kernels.PagedKV).
func (s *Storage) Layer(layer int) (k, v []byte, slotBytes int) {
	return s.k[layer], s.v[layer], s.KVHeads * s.headBytes
}

// SlotOf returns the slot of the token at position pos of a sequence whose
// blocks are blockTable.
func SlotOf(blockTable []int32, blockSize, pos int) int {
	return int(blockTable[pos/blockSize])*blockSize + pos%blockSize
}
