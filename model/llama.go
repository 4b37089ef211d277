// Package model runs transformer forward passes (the llama family) over one
// flattened batch of tokens from many sequences, reading and writing K/V
// through the paged layout of pagedkv.
package model

import (
	"fmt"
	"math"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// Model is a loaded llama-family model. Weight matrices point into the
// file's mapping; only norms (tiny) are widened to float32.
type Model struct {
	Config *loader.Config

	tokEmbd kernels.Matrix // n_vocab rows of n_embd
	outNorm []float32
	output  kernels.Matrix // n_vocab rows of n_embd (token_embd when tied)
	layers  []layer
	rope    kernels.RoPEParams
}

type layer struct {
	attnNorm, ffnNorm []float32
	wq, wk, wv, wo    kernels.Matrix
	wGate, wUp, wDown kernels.Matrix
	qkv               [3]kernels.Matrix // wq, wk, wv for kernels.MatMuls
	gateUp            [2]kernels.Matrix // wGate, wUp
}

// Load builds a Model over f's tensors, checking every shape against the
// configuration. f must stay open while the model is used.
func Load(f *loader.File) (*Model, error) {
	cfg, err := f.ModelConfig()
	if err != nil {
		return nil, err
	}
	if cfg.VocabSize <= 0 {
		return nil, fmt.Errorf("model: vocabulary size unknown (no %s.vocab_size and no tokenizer.ggml.tokens)", cfg.Arch)
	}
	m := &Model{Config: cfg}
	l := loaderCtx{f: f}
	nEmbd, nVocab := cfg.EmbeddingLength, cfg.VocabSize
	qDim, kvDim := cfg.HeadCount*cfg.HeadDim, cfg.HeadCountKV*cfg.HeadDim
	m.tokEmbd = l.matrix("token_embd.weight", nEmbd, nVocab)
	m.outNorm = l.vector("output_norm.weight", nEmbd)
	if _, ok := f.Tensor("output.weight"); ok {
		m.output = kernels.Pack(l.matrix("output.weight", nEmbd, nVocab))
	} else {
		// Tied embeddings: llama.cpp duplicates token_embd for the output
		// matmul, where it may be repacked like any weight.
		m.output = kernels.Pack(m.tokEmbd)
	}
	m.layers = make([]layer, cfg.BlockCount)
	for i := range m.layers {
		p := fmt.Sprintf("blk.%d.", i)
		ly := &m.layers[i]
		ly.attnNorm = l.vector(p+"attn_norm.weight", nEmbd)
		ly.wq = l.weight(p+"attn_q.weight", nEmbd, qDim)
		ly.wk = l.weight(p+"attn_k.weight", nEmbd, kvDim)
		ly.wv = l.weight(p+"attn_v.weight", nEmbd, kvDim)
		ly.wo = l.weight(p+"attn_output.weight", qDim, nEmbd)
		ly.ffnNorm = l.vector(p+"ffn_norm.weight", nEmbd)
		ly.wGate = l.weight(p+"ffn_gate.weight", nEmbd, cfg.FeedForwardLength)
		ly.wUp = l.weight(p+"ffn_up.weight", nEmbd, cfg.FeedForwardLength)
		ly.wDown = l.weight(p+"ffn_down.weight", cfg.FeedForwardLength, nEmbd)
		ly.qkv = [3]kernels.Matrix{ly.wq, ly.wk, ly.wv}
		ly.gateUp = [2]kernels.Matrix{ly.wGate, ly.wUp}
	}
	if l.err != nil {
		return nil, l.err
	}
	m.rope = kernels.RoPEParams{
		NDims:      cfg.RopeDims,
		FreqBase:   cfg.RopeFreqBase,
		FreqScale:  1,
		Neox:       cfg.RopeNeox,
		AttnFactor: 1,
		BetaFast:   cfg.YarnBetaFast,
		BetaSlow:   cfg.YarnBetaSlow,
		NCtxOrig:   cfg.RopeOrigContext,
	}
	switch cfg.RopeScalingType {
	case "linear":
		m.rope.FreqScale = 1 / cfg.RopeScalingFactor
	case "yarn":
		m.rope.FreqScale = 1 / cfg.RopeScalingFactor
		m.rope.ExtFactor = 1
		m.rope.AttnFactor = cfg.YarnAttnFactor
	}
	if ff, ok := f.Tensor("rope_freqs.weight"); ok {
		m.rope.FreqFactors = l.vector(ff.Name, cfg.RopeDims/2)
		if l.err != nil {
			return nil, l.err
		}
	}
	return m, nil
}

// loaderCtx collects the first error while tensors are looked up.
type loaderCtx struct {
	f   *loader.File
	err error
}

func (l *loaderCtx) tensor(name string, shape ...int) *loader.TensorInfo {
	if l.err != nil {
		return nil
	}
	t, ok := l.f.Tensor(name)
	if !ok {
		l.err = fmt.Errorf("model: tensor %q is missing", name)
		return nil
	}
	same := len(t.Shape) == len(shape)
	for i := 0; same && i < len(shape); i++ {
		same = t.Shape[i] == int64(shape[i])
	}
	if !same {
		l.err = fmt.Errorf("model: tensor %q has shape %v, the configuration needs %v", name, t.Shape, shape)
		return nil
	}
	if _, ok := kernels.TraitsOf(t.Type); !ok {
		l.err = fmt.Errorf("model: tensor %q has type %s, which pagoda cannot compute with yet", name, t.Type)
		return nil
	}
	return t
}

func (l *loaderCtx) matrix(name string, cols, rows int) kernels.Matrix {
	t := l.tensor(name, cols, rows)
	if t == nil {
		return kernels.Matrix{}
	}
	return kernels.Matrix{Type: t.Type, Rows: rows, Cols: cols, Data: l.f.TensorData(t)}
}

// weight is matrix for a matmul weight: packed for the fast kernels where
// the CPU has them (kernels.Pack).
func (l *loaderCtx) weight(name string, cols, rows int) kernels.Matrix {
	return kernels.Pack(l.matrix(name, cols, rows))
}

func (l *loaderCtx) vector(name string, n int) []float32 {
	t := l.tensor(name, n)
	if t == nil {
		return nil
	}
	v := make([]float32, n)
	if err := kernels.Dequantize(t.Type, l.f.TensorData(t), v); err != nil {
		l.err = fmt.Errorf("model: tensor %q: %w", name, err)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			l.err = fmt.Errorf("model: tensor %q holds a non-finite value", name)
			break
		}
	}
	return v
}

// VocabSize returns the number of logits per token.
func (m *Model) VocabSize() int { return m.Config.VocabSize }
