package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// SamplingParams choose how the next token is drawn from the logits.
// Temperature 0 is greedy. The filters apply in vLLM's order: temperature,
// then top-k, top-p and min-p on the tempered distribution.
type SamplingParams struct {
	Temperature float32 // 0: greedy (argmax)
	TopK        int     // 0 or negative: off
	TopP        float32 // 1 or 0: off
	MinP        float32 // 0: off
	Seed        uint64
}

func (p SamplingParams) validate() error {
	switch {
	case !(p.Temperature >= 0 && p.Temperature <= 100):
		return &ValidationError{"temperature", fmt.Sprintf("temperature must be between 0 and 100, got %g", p.Temperature)}
	case p.TopK < -1:
		return &ValidationError{"top_k", fmt.Sprintf("top_k must be -1 (off) or positive, got %d", p.TopK)}
	case !(p.TopP >= 0 && p.TopP <= 1):
		return &ValidationError{"top_p", fmt.Sprintf("top_p must be in (0, 1], got %g", p.TopP)}
	case !(p.MinP >= 0 && p.MinP <= 1):
		return &ValidationError{"min_p", fmt.Sprintf("min_p must be in [0, 1], got %g", p.MinP)}
	}
	return nil
}

// Sampler draws tokens with its own random stream, so a request's output
// depends only on its seed, never on what else runs.
type Sampler struct {
	p   SamplingParams
	rng *rand.Rand

	cand []candidate
}

type candidate struct {
	id int32
	p  float64
}

// NewSampler makes a sampler for p.
func NewSampler(p SamplingParams) *Sampler {
	return &Sampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))}
}

// Argmax returns the index of the largest logit (the lowest index on ties,
// as llama.cpp's greedy sampler does).
func Argmax(logits []float32) int32 {
	best := 0
	for i, x := range logits {
		if x > logits[best] {
			best = i
		}
	}
	return int32(best)
}

// Sample draws the next token from logits (which it does not modify).
func (s *Sampler) Sample(logits []float32) int32 {
	if s.p.Temperature <= 0 {
		return Argmax(logits)
	}
	// Softmax of the tempered logits over all tokens, in float64.
	maxL := float64(logits[Argmax(logits)])
	s.cand = s.cand[:0]
	invT := 1 / float64(s.p.Temperature)
	for i, x := range logits {
		p := math.Exp((float64(x) - maxL) * invT)
		if math.IsNaN(p) {
			p = 0
		}
		s.cand = append(s.cand, candidate{int32(i), p})
	}
	sort.Slice(s.cand, func(a, b int) bool {
		if s.cand[a].p != s.cand[b].p {
			return s.cand[a].p > s.cand[b].p
		}
		return s.cand[a].id < s.cand[b].id
	})
	keep := len(s.cand)
	if k := s.p.TopK; k > 0 && k < keep {
		keep = k
	}
	// Top-p: the smallest prefix whose mass reaches p (of the kept mass).
	if tp := float64(s.p.TopP); tp > 0 && tp < 1 {
		var kept float64
		for _, c := range s.cand[:keep] {
			kept += c.p
		}
		var cum float64
		for i, c := range s.cand[:keep] {
			cum += c.p
			if cum >= tp*kept {
				keep = i + 1
				break
			}
		}
	}
	// Min-p: drop tokens below min_p times the most likely one.
	if mp := float64(s.p.MinP); mp > 0 {
		limit := mp * s.cand[0].p
		for i := 1; i < keep; i++ {
			if s.cand[i].p < limit {
				keep = i
				break
			}
		}
	}
	var total float64
	for _, c := range s.cand[:keep] {
		total += c.p
	}
	r := s.rng.Float64() * total
	for _, c := range s.cand[:keep] {
		r -= c.p
		if r < 0 {
			return c.id
		}
	}
	return s.cand[keep-1].id
}
