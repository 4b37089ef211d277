package engine

import (
	"fmt"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/pagedkv"
)

// Session runs one sequence on a model with a private, fixed pool of KV
// blocks: the simplest user of the paged layout (generate, perplexity,
// teacher-forced checks). Serving many sequences goes through the engine's
// scheduler instead.
type Session struct {
	runner *model.Runner
	kv     *pagedkv.Storage
	table  []int32
	n      int // tokens in the KV cache
	vocab  int
}

// SessionBlockSize is the KV block size of a Session.
const SessionBlockSize = 16

// NewSession prepares a sequence of at most maxTokens tokens.
func NewSession(m *model.Model, pool *kernels.Pool, maxTokens int, kvType kernels.Type) (*Session, error) {
	c := m.Config
	if maxTokens <= 0 {
		return nil, fmt.Errorf("engine: session needs room for at least one token")
	}
	blocks := (maxTokens + SessionBlockSize - 1) / SessionBlockSize
	kv, err := pagedkv.NewStorage(kvType, blocks, SessionBlockSize, c.BlockCount, c.HeadCountKV, c.HeadDim)
	if err != nil {
		return nil, err
	}
	r, err := model.NewRunner(m, kv, pool)
	if err != nil {
		return nil, err
	}
	s := &Session{runner: r, kv: kv, table: make([]int32, blocks), vocab: c.VocabSize}
	for i := range s.table {
		s.table[i] = int32(i)
	}
	return s, nil
}

// Len returns the number of tokens evaluated so far.
func (s *Session) Len() int { return s.n }

// Capacity returns the most tokens the session can hold.
func (s *Session) Capacity() int { return s.kv.NumSlots() }

// Reset forgets all tokens (the KV cache is overwritten from position 0).
func (s *Session) Reset() { s.n = 0 }

// Eval appends tokens to the sequence in one batch and returns logits: for
// every token when all is set (len(tokens) rows), else for the last one only.
// The slice is valid until the next call.
func (s *Session) Eval(tokens []int32, all bool) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("engine: nothing to evaluate")
	}
	if s.n+len(tokens) > s.Capacity() {
		return nil, fmt.Errorf("engine: sequence of %d tokens exceeds the session's %d", s.n+len(tokens), s.Capacity())
	}
	b := &model.Batch{Tokens: tokens, Seqs: []model.Seq{{Start: 0, End: len(tokens), BlockTable: s.table}}}
	for i := range tokens {
		pos := s.n + i
		b.Positions = append(b.Positions, int32(pos))
		b.Slots = append(b.Slots, int32(pagedkv.SlotOf(s.table, SessionBlockSize, pos)))
		if all || i == len(tokens)-1 {
			b.Logits = append(b.Logits, i)
		}
	}
	logits, err := s.runner.Forward(b)
	if err != nil {
		return nil, err
	}
	s.n += len(tokens)
	return logits, nil
}
