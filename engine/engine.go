package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/pagedkv"
	"github.com/pagoda-llm/pagoda/scheduler"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// Engine serves many requests at once on one model: a single step loop
// schedules, runs one flattened batch, samples and streams.
type Engine struct {
	cfg    Config
	model  *model.Model
	tok    *tokenizer.Tokenizer
	pool   *kernels.Pool
	kv     *pagedkv.Storage
	runner *model.Runner
	sched  *scheduler.Scheduler // owned by the loop goroutine

	mu      sync.Mutex
	inbox   []*job
	aborts  []*job
	closed  bool
	wake    chan struct{}
	done    chan struct{}
	waiting atomic.Int64 // requests submitted and not yet admitted

	statsMu sync.Mutex
	stats   Stats
	start   time.Time

	nextID uint64
	seqs   map[uint64]*sequence // live sequences by scheduler id (loop only)
}

// job is one submitted request with its N sequences.
type job struct {
	req      Request
	ctx      context.Context
	sink     *sink
	seqs     []*sequence
	live     int // sequences not finished
	admitted bool
}

// sequence is one sample of a job.
type sequence struct {
	job     *job
	index   int
	sreq    *scheduler.Request
	sampler *Sampler
	dec     *tokenizer.StreamDecoder
	text    strings.Builder // text generated so far (stop strings removed at the end)
	sent    int             // bytes of text already sent
	counts  map[int32]int   // output token counts (frequency/presence penalties)
	seen    map[int32]bool  // prompt+output tokens (repetition penalty)
	done    bool
}

// New starts an engine for m. Close stops it.
func New(m *model.Model, tok *tokenizer.Tokenizer, cfg Config) (*Engine, error) {
	c := m.Config
	cfg, err := cfg.withDefaults(c.ContextLength)
	if err != nil {
		return nil, err
	}
	kvType, err := ParseKVType(cfg.KVCacheType)
	if err != nil {
		return nil, err
	}
	perToken, err := pagedkv.BytesPerToken(kvType, c.BlockCount, c.HeadCountKV, c.HeadDim)
	if err != nil {
		return nil, err
	}
	budget := cfg.KVCacheMemory
	if budget == 0 {
		budget = min(int64(cfg.MaxNumSeqs)*int64(cfg.MaxModelLen)*perToken, totalMemory()/4)
	}
	numBlocks := int(budget / (perToken * int64(cfg.BlockSize)))
	if numBlocks < 1 {
		return nil, fmt.Errorf("engine: --kv-cache-memory %d bytes holds no block of %d tokens (%d bytes per token)", budget, cfg.BlockSize, perToken)
	}
	if cfg.MaxModelLen > numBlocks*cfg.BlockSize {
		return nil, fmt.Errorf("engine: the KV cache holds %d tokens, fewer than --max-model-len %d; raise --kv-cache-memory or lower --max-model-len",
			numBlocks*cfg.BlockSize, cfg.MaxModelLen)
	}
	kv, err := pagedkv.NewStorage(kvType, numBlocks, cfg.BlockSize, c.BlockCount, c.HeadCountKV, c.HeadDim)
	if err != nil {
		return nil, err
	}
	pool := kernels.NewPool(cfg.Threads)
	runner, err := model.NewRunner(m, kv, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	sc := scheduler.DefaultConfig(numBlocks)
	sc.BlockSize = cfg.BlockSize
	sc.MaxNumSeqs = cfg.MaxNumSeqs
	sc.MaxNumBatchedTokens = cfg.MaxNumBatchedTokens
	sc.MaxModelLen = cfg.MaxModelLen
	sc.EnablePrefixCaching = !cfg.DisablePrefixCache
	if cfg.Policy == "priority" {
		sc.Policy = scheduler.Priority
	}
	sched, err := scheduler.New(sc)
	if err != nil {
		pool.Close()
		return nil, err
	}
	e := &Engine{cfg: cfg, model: m, tok: tok, pool: pool, kv: kv, runner: runner, sched: sched,
		wake: make(chan struct{}, 1), done: make(chan struct{}), start: time.Now(), seqs: map[uint64]*sequence{}}
	e.stats.KVBlocksTotal = numBlocks
	e.stats.KVBytesBudget = kv.Bytes()
	e.stats.RequestsFinished = map[string]int64{}
	go e.loop()
	return e, nil
}

// ParseKVType reads a KV cache element type name.
func ParseKVType(s string) (kernels.Type, error) {
	switch strings.ToLower(s) {
	case "", "f16":
		return kernels.F16, nil
	case "f32":
		return kernels.F32, nil
	case "q8_0":
		return kernels.Q8_0, nil
	}
	return 0, fmt.Errorf("engine: unknown KV cache type %q (f16, f32, q8_0)", s)
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults(ctxLen int) (Config, error) {
	if c.Threads <= 0 {
		c.Threads = runtime.NumCPU()
	}
	if c.BlockSize == 0 {
		c.BlockSize = 16
	}
	if c.MaxNumSeqs == 0 {
		c.MaxNumSeqs = 64
	}
	if c.MaxNumBatchedTokens == 0 {
		c.MaxNumBatchedTokens = 512
	}
	if c.MaxModelLen == 0 {
		c.MaxModelLen = ctxLen
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = 1024
	}
	if c.Policy == "" {
		c.Policy = "fcfs"
	}
	switch {
	case c.BlockSize < 1 || c.BlockSize > 1024:
		return c, fmt.Errorf("engine: --block-size %d must be in 1..1024", c.BlockSize)
	case c.MaxNumSeqs < 1 || c.MaxNumBatchedTokens < 1 || c.MaxModelLen < 1 || c.MaxQueue < 1:
		return c, fmt.Errorf("engine: --max-num-seqs, --max-num-batched-tokens, --max-model-len and --max-queue must be positive")
	case c.Policy != "fcfs" && c.Policy != "priority":
		return c, fmt.Errorf("engine: --scheduling-policy %q must be fcfs or priority", c.Policy)
	case c.KVCacheMemory < 0:
		return c, fmt.Errorf("engine: --kv-cache-memory must not be negative")
	}
	return c, nil
}

// totalMemory returns the machine's RAM in bytes (4 GiB when unknown).
func totalMemory() int64 {
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 4 << 30
}

// Tokenizer returns the model's tokenizer.
func (e *Engine) Tokenizer() *tokenizer.Tokenizer { return e.tok }

// Model returns the model.
func (e *Engine) Model() *model.Model { return e.model }

// MaxModelLen returns the longest prompt plus output a request may have.
func (e *Engine) MaxModelLen() int { return e.cfg.MaxModelLen }

// Config returns the engine's configuration with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// MaxTopLogprobs is the most alternatives a request may ask for per position.
const MaxTopLogprobs = 20

// MaxN is the most samples one request may ask for.
const MaxN = 16

func (e *Engine) validate(req *Request) error {
	vocab := e.model.VocabSize()
	switch {
	case len(req.Prompt) == 0:
		return &ValidationError{"prompt", "the prompt is empty"}
	case req.MaxTokens <= 0:
		return &ValidationError{"max_tokens", fmt.Sprintf("max_tokens must be at least 1, got %d", req.MaxTokens)}
	case req.N < 0 || req.N > MaxN:
		return &ValidationError{"n", fmt.Sprintf("n must be between 1 and %d, got %d", MaxN, req.N)}
	case req.MinTokens < 0 || req.MinTokens > req.MaxTokens:
		return &ValidationError{"min_tokens", fmt.Sprintf("min_tokens must be between 0 and max_tokens (%d), got %d", req.MaxTokens, req.MinTokens)}
	case req.TopLogprobs < 0 || req.TopLogprobs > MaxTopLogprobs:
		return &ValidationError{"top_logprobs", fmt.Sprintf("top_logprobs must be between 0 and %d, got %d", MaxTopLogprobs, req.TopLogprobs)}
	case len(req.Prompt)+req.MaxTokens > e.cfg.MaxModelLen:
		return &ValidationError{"max_tokens", fmt.Sprintf("this model's maximum context length is %d tokens; the prompt has %d tokens and max_tokens is %d",
			e.cfg.MaxModelLen, len(req.Prompt), req.MaxTokens)}
	}
	if err := req.Sampling.validate(); err != nil {
		return err
	}
	for name, p := range map[string]float32{"presence_penalty": req.PresencePenalty, "frequency_penalty": req.FrequencyPenalty} {
		if !(p >= -2 && p <= 2) {
			return &ValidationError{name, fmt.Sprintf("%s must be between -2 and 2, got %g", name, p)}
		}
	}
	if !(req.RepetitionPenalty >= 0 && req.RepetitionPenalty <= 100) || (req.RepetitionPenalty > 0 && req.RepetitionPenalty < 1e-3) {
		return &ValidationError{"repetition_penalty", fmt.Sprintf("repetition_penalty must be positive, got %g", req.RepetitionPenalty)}
	}
	for _, t := range req.Prompt {
		if t < 0 || int(t) >= vocab {
			return &ValidationError{"prompt", fmt.Sprintf("token id %d is outside the vocabulary [0, %d)", t, vocab)}
		}
	}
	for id, b := range req.LogitBias {
		if id < 0 || int(id) >= vocab {
			return &ValidationError{"logit_bias", fmt.Sprintf("logit_bias token id %d is outside the vocabulary [0, %d)", id, vocab)}
		}
		if !(b >= -100 && b <= 100) {
			return &ValidationError{"logit_bias", fmt.Sprintf("logit_bias values must be between -100 and 100, got %g", b)}
		}
	}
	for _, id := range req.StopTokenIDs {
		if id < 0 || int(id) >= vocab {
			return &ValidationError{"stop_token_ids", fmt.Sprintf("stop token id %d is outside the vocabulary [0, %d)", id, vocab)}
		}
	}
	for _, s := range req.Stop {
		if s == "" {
			return &ValidationError{"stop", "stop strings must not be empty"}
		}
	}
	if err := e.sched.Check(len(req.Prompt), req.MaxTokens); err != nil {
		return &ValidationError{"max_tokens", strings.TrimPrefix(err.Error(), "scheduler: ")}
	}
	return nil
}

// Submit queues a request. Its outputs arrive on the returned channel, which
// is closed once every sample has finished. Cancelling ctx aborts the request
// at the next step and frees its KV blocks.
func (e *Engine) Submit(ctx context.Context, req Request) (<-chan Output, error) {
	if req.N == 0 {
		req.N = 1
	}
	if err := e.validate(&req); err != nil {
		return nil, err
	}
	if !req.Seeded {
		req.Sampling.Seed = rand.Uint64()
	}
	j := &job{req: req, ctx: ctx, sink: newSink()}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if e.waiting.Load() >= int64(e.cfg.MaxQueue) {
		e.mu.Unlock()
		return nil, ErrQueueFull
	}
	e.waiting.Add(1)
	e.inbox = append(e.inbox, j)
	e.mu.Unlock()
	e.signal()
	out := make(chan Output, 16)
	go j.sink.forward(ctx, out)
	go func() {
		select {
		case <-ctx.Done():
			e.mu.Lock()
			e.aborts = append(e.aborts, j)
			e.mu.Unlock()
			e.signal()
		case <-j.sink.finished:
		}
	}()
	return out, nil
}

func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Close aborts every request still running and stops the step loop.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		<-e.done
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.signal()
	<-e.done
	e.pool.Close()
}

// Stats returns a snapshot of the engine's counters and gauges.
func (e *Engine) Stats() Stats {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	s := e.stats
	s.Waiting += int(e.waiting.Load())
	s.RequestsFinished = make(map[string]int64, len(e.stats.RequestsFinished))
	for k, v := range e.stats.RequestsFinished {
		s.RequestsFinished[k] = v
	}
	s.Uptime = time.Since(e.start)
	return s
}

// loop is the engine's one goroutine that touches the scheduler and model.
func (e *Engine) loop() {
	defer close(e.done)
	for {
		e.mu.Lock()
		inbox, aborts, closed := e.inbox, e.aborts, e.closed
		e.inbox, e.aborts = nil, nil
		e.mu.Unlock()
		for _, j := range inbox {
			e.admit(j)
		}
		for _, j := range aborts {
			e.abort(j)
		}
		if closed {
			for _, s := range e.seqs {
				e.abort(s.job)
			}
			return
		}
		if e.sched.NumUnfinished() == 0 {
			e.publish(nil)
			<-e.wake
			continue
		}
		if err := e.step(); err != nil {
			// A forward pass error is a bug, not bad input (requests are
			// validated at Submit): fail what is running rather than spin.
			for _, s := range e.seqs {
				e.finish(s, FinishAbort, "", -1)
			}
			fmt.Fprintln(os.Stderr, "pagoda: engine step failed:", err)
		}
	}
}

// admit turns a job into scheduler requests, one per sample.
func (e *Engine) admit(j *job) {
	e.waiting.Add(-1)
	j.admitted = true
	if j.ctx.Err() != nil {
		j.sink.close()
		return
	}
	j.live = j.req.N
	var parent *scheduler.Request
	for i := range j.req.N {
		e.nextID++
		sr := &scheduler.Request{ID: e.nextID, Prompt: j.req.Prompt, MaxTokens: j.req.MaxTokens, Priority: j.req.Priority, Parent: parent}
		if parent == nil {
			parent = sr
		}
		p := j.req.Sampling
		p.Seed += uint64(i) * 0x9e3779b97f4a7c15
		s := &sequence{job: j, index: i, sreq: sr, sampler: NewSampler(p), dec: tokenizer.NewStreamDecoder(e.tok),
			counts: map[int32]int{}}
		if j.req.RepetitionPenalty > 0 && j.req.RepetitionPenalty != 1 {
			s.seen = map[int32]bool{}
			for _, t := range j.req.Prompt {
				s.seen[t] = true
			}
		}
		j.seqs = append(j.seqs, s)
		if err := e.sched.Add(sr); err != nil {
			// Submit checked the same limits; this is unreachable.
			s.done = true
			j.live--
			j.sink.push(Output{Index: i, FinishReason: FinishAbort, StopToken: -1, PromptTokens: len(j.req.Prompt)})
			continue
		}
		e.seqs[sr.ID] = s
	}
	if j.live == 0 {
		j.sink.close()
	}
}

// abort ends every live sequence of j.
func (e *Engine) abort(j *job) {
	if !j.admitted {
		return // still in the inbox: admit sees the cancelled context
	}
	for _, s := range j.seqs {
		if !s.done {
			e.sched.Abort(s.sreq.ID)
			e.finish(s, FinishAbort, "", -1)
		}
	}
}
