// Package quality measures what a quantization level costs in model
// quality, the way llama.cpp's llama-perplexity does: perplexity over
// non-overlapping chunks of a text (scoring the second half of each chunk),
// and the KL divergence of a model's next-token distributions from a base
// model's, with the share of positions where both pick the same top token.
//
// `pagoda bench quality` (QualityMain) measures one model; `pagoda bench
// quant-table` (QuantTableMain) quantizes an F32 model to every level and
// tabulates size, quality and generation speed, with a PNG chart.
package quality

import (
	"errors"
	"fmt"
	"math"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// Tokenize tokenizes the whole text once as llama-perplexity does:
// special tokens added (BOS in front for llama vocabularies), special-token
// text inside the corpus left as plain text.
func Tokenize(tok *tokenizer.Tokenizer, text string) []int32 {
	return tok.Encode(text, true, false)
}

// Chunks cuts tokens into floor(len/ctx) windows of ctx tokens. When addBOS
// is set, each window's first token is replaced by bos (llama-perplexity
// does this for vocabularies that add BOS). The windows are copies.
// llama-perplexity refuses texts shorter than two windows; so does Chunks.
func Chunks(tokens []int32, ctx int, bos int32, addBOS bool) ([][]int32, error) {
	if ctx < 4 {
		return nil, fmt.Errorf("quality: context of %d tokens is too small (at least 4)", ctx)
	}
	if len(tokens) < 2*ctx {
		return nil, fmt.Errorf("quality: the text tokenizes to only %d tokens; a context of %d needs at least %d", len(tokens), ctx, 2*ctx)
	}
	n := len(tokens) / ctx
	out := make([][]int32, n)
	for i := range out {
		c := append([]int32(nil), tokens[i*ctx:(i+1)*ctx]...)
		if addBOS {
			c[0] = bos
		}
		out[i] = c
	}
	return out, nil
}

// Scored returns how many positions of a ctx-token chunk are scored: the
// logits at positions ctx/2 .. ctx-2 predict tokens ctx/2+1 .. ctx-1.
func Scored(ctx int) int { return ctx - 1 - ctx/2 }

// Evaluator runs one model over chunks, each from an empty KV cache (F16,
// as llama.cpp's default).
type Evaluator struct {
	sess  *engine.Session
	vocab int
	ctx   int
}

// NewEvaluator prepares m for chunks of ctx tokens.
func NewEvaluator(m *model.Model, pool *kernels.Pool, ctx int) (*Evaluator, error) {
	s, err := engine.NewSession(m, pool, ctx, kernels.F16)
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	return &Evaluator{sess: s, vocab: m.VocabSize(), ctx: ctx}, nil
}

// Vocab is the model's vocabulary size (the width of a logits row).
func (e *Evaluator) Vocab() int { return e.vocab }

// Logits evaluates chunk in one batch from an empty cache and returns the
// logits rows of the scored positions (Scored(ctx) rows of Vocab()). The
// slice is valid until the next call.
func (e *Evaluator) Logits(chunk []int32) ([]float32, error) {
	if len(chunk) != e.ctx {
		return nil, fmt.Errorf("quality: chunk of %d tokens, want %d", len(chunk), e.ctx)
	}
	e.sess.Reset()
	all, err := e.sess.Eval(chunk, true)
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	first := e.ctx / 2
	return all[first*e.vocab : (e.ctx-1)*e.vocab], nil
}

// Stats accumulates llama-perplexity's sums over scored positions. All
// arithmetic is float64; the base distribution is used exactly (llama.cpp
// stores it rounded to 16 bits and drops base log-probs below -16, which is
// why its F32-vs-F32 rows read ~0 rather than 0).
type Stats struct {
	Count             int // scored positions
	sumNLL, sumNLL2   float64
	HasBase           bool // compared with a base model
	sumBase, sumBase2 float64
	sumKLD, sumKLD2   float64
	SameTop           int // positions where model and base share the argmax
}

// logSoftmax writes ln softmax(row) into dst (float64), and softmax(row)
// into prob when it is not nil, and returns the index of the first maximum.
func logSoftmax(row []float32, dst, prob []float64) int {
	imax := 0
	mx := float64(row[0])
	for i, v := range row {
		if float64(v) > mx {
			mx, imax = float64(v), i
		}
	}
	var sum float64
	for i, v := range row {
		e := math.Exp(float64(v) - mx)
		if prob != nil {
			prob[i] = e
		}
		sum += e
	}
	lse := mx + math.Log(sum)
	for i, v := range row {
		dst[i] = float64(v) - lse
	}
	if prob != nil {
		inv := 1 / sum
		for i := range prob {
			prob[i] *= inv
		}
	}
	return imax
}

// Scorer turns logits into Stats. It holds scratch space for one row.
type Scorer struct {
	vocab     int
	lq, lp, p []float64
	Stats     Stats
}

// NewScorer returns a Scorer for rows of vocab logits.
func NewScorer(vocab int) *Scorer {
	return &Scorer{vocab: vocab, lq: make([]float64, vocab), lp: make([]float64, vocab), p: make([]float64, vocab)}
}

// Add scores one chunk: logits holds Scored(len(chunk)) rows of the model,
// base (nil without a base model) the same rows of the base model; the
// targets are the chunk's tokens after each scored position.
func (s *Scorer) Add(chunk []int32, logits, base []float32) error {
	ctx := len(chunk)
	n := Scored(ctx)
	if len(logits) != n*s.vocab {
		return fmt.Errorf("quality: %d logits for %d scored positions of vocab %d", len(logits), n, s.vocab)
	}
	if base != nil && len(base) != len(logits) {
		return errors.New("quality: base and model logits differ in size")
	}
	if base != nil {
		s.Stats.HasBase = true
	}
	first := ctx / 2
	for i := 0; i < n; i++ {
		tok := int(chunk[first+i+1])
		if tok < 0 || tok >= s.vocab {
			return fmt.Errorf("quality: token %d outside the vocabulary of %d", tok, s.vocab)
		}
		imax := logSoftmax(logits[i*s.vocab:(i+1)*s.vocab], s.lq, nil)
		nll := -s.lq[tok]
		st := &s.Stats
		st.Count++
		st.sumNLL += nll
		st.sumNLL2 += nll * nll
		if base == nil {
			continue
		}
		imaxBase := logSoftmax(base[i*s.vocab:(i+1)*s.vocab], s.lp, s.p)
		nb := -s.lp[tok]
		st.sumBase += nb
		st.sumBase2 += nb * nb
		// KL(base || model) = sum p_base (ln p_base - ln p_model)
		var kld float64
		for j, lp := range s.lp {
			kld += s.p[j] * (lp - s.lq[j])
		}
		st.sumKLD += kld
		st.sumKLD2 += kld * kld
		if imax == imaxBase {
			st.SameTop++
		}
	}
	return nil
}

// meanAndErr is llama-perplexity's mean_and_uncertainty: the mean and the
// standard error of the mean (0 for ten or fewer values).
func meanAndErr(sum, sum2 float64, n int) (float64, float64) {
	if n < 1 {
		return 0, 0
	}
	f := sum / float64(n)
	v := sum2/float64(n) - f*f
	if v > 0 && n > 10 {
		return f, math.Sqrt(v / float64(n-1))
	}
	return f, 0
}

// PPL returns exp(mean NLL) and its uncertainty, PPL × the standard error
// of the mean NLL ("Final estimate: PPL = X +/- Y").
func (s Stats) PPL() (float64, float64) {
	m, e := meanAndErr(s.sumNLL, s.sumNLL2, s.Count)
	p := math.Exp(m)
	return p, p * e
}

// BasePPL is PPL for the base model's distributions ("Mean PPL(base)").
func (s Stats) BasePPL() (float64, float64) {
	m, e := meanAndErr(s.sumBase, s.sumBase2, s.Count)
	p := math.Exp(m)
	return p, p * e
}

// KLD returns the mean KL(base ‖ model) per scored position and its
// standard error ("Mean    KLD").
func (s Stats) KLD() (float64, float64) { return meanAndErr(s.sumKLD, s.sumKLD2, s.Count) }

// SameTopPercent returns the share of scored positions where the model's
// argmax equals the base's, in percent, with llama-perplexity's binomial
// error sqrt(p(1-p)/(n-1)) ("Same top p").
func (s Stats) SameTopPercent() (float64, float64) {
	if s.Count < 2 {
		return 0, 0
	}
	p := float64(s.SameTop) / float64(s.Count)
	return 100 * p, 100 * math.Sqrt(p*(1-p)/float64(s.Count-1))
}

// BaseLogits supplies the base model's scored logits for chunk i.
type BaseLogits interface {
	Chunk(i int, chunk []int32) ([]float32, error)
}

// Live evaluates the base model when asked (bench quality --base).
type Live struct{ E *Evaluator }

// Chunk implements BaseLogits.
func (l Live) Chunk(_ int, chunk []int32) ([]float32, error) { return l.E.Logits(chunk) }

// Recorded holds a base model's scored logits in memory, so many models can
// be compared with one base run (quant-table): float32 logits, exactly what
// the base produced.
type Recorded struct {
	rows [][]float32
}

// Record evaluates every chunk with e and keeps the scored logits.
func Record(e *Evaluator, chunks [][]int32) (*Recorded, error) {
	r := &Recorded{rows: make([][]float32, len(chunks))}
	for i, c := range chunks {
		l, err := e.Logits(c)
		if err != nil {
			return nil, err
		}
		r.rows[i] = append([]float32(nil), l...)
	}
	return r, nil
}

// Chunk implements BaseLogits.
func (r *Recorded) Chunk(i int, _ []int32) ([]float32, error) {
	if i < 0 || i >= len(r.rows) {
		return nil, fmt.Errorf("quality: no recorded base logits for chunk %d", i)
	}
	return r.rows[i], nil
}

// Run scores every chunk with e against base (nil: perplexity only). The
// optional progress is called after each chunk.
func Run(e *Evaluator, chunks [][]int32, base BaseLogits, progress func(done, total int)) (Stats, error) {
	sc := NewScorer(e.Vocab())
	var buf []float32
	for i, c := range chunks {
		var bl []float32
		if base != nil {
			var err error
			if bl, err = base.Chunk(i, c); err != nil {
				return Stats{}, err
			}
			// A live base hands out its session's buffer; keep a copy
			// while the model runs.
			buf = append(buf[:0], bl...)
			bl = buf
		}
		l, err := e.Logits(c)
		if err != nil {
			return Stats{}, err
		}
		if err := sc.Add(c, l, bl); err != nil {
			return Stats{}, err
		}
		if progress != nil {
			progress(i+1, len(chunks))
		}
	}
	return sc.Stats, nil
}
