// Package scheduler decides, step by step, which requests run and how many of
// their tokens, in the manner of vLLM v1: one token budget per step, running
// requests first, then waiting ones, prefills chunked to what is left of the
// budget, and preemption by recompute when KV blocks run out. It reserves KV
// blocks through pagedkv and never touches tensors.
//
// A request has no prefill or decode phase: it just has tokens (prompt then
// output) of which the first NumComputedTokens are in the KV cache, and each
// step it is given some of the rest. When it reaches the end of its known
// tokens the step's last token is sampled, which appends one more.
//
// The engine drives a Scheduler from one goroutine: Add, then in a loop
// Schedule, run the model, Update, and Finish or Abort as needed. Nothing here
// locks, except that Check may be called from any goroutine.
package scheduler

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pagoda-llm/pagoda/pagedkv"
)

// Policy orders waiting requests and picks preemption victims.
type Policy int

const (
	// FCFS runs requests in arrival order and preempts the newest first.
	FCFS Policy = iota
	// Priority runs the smallest Priority value first (earlier arrival
	// breaks ties) and preempts the largest value first (later arrival
	// first among equals).
	Priority
)

// Config sizes the scheduler. DefaultConfig has sensible values.
type Config struct {
	MaxNumBatchedTokens int // token budget of one step
	MaxNumSeqs          int // running requests at most
	MaxModelLen         int // prompt + max tokens at most; 0 means no limit
	Policy              Policy
	NumBlocks           int // KV blocks in the pool
	BlockSize           int // tokens per KV block
	// EnableChunkedPrefill lets a prompt be computed over several steps;
	// without it a prompt must fit the budget of one step.
	EnableChunkedPrefill bool
	EnablePrefixCaching  bool
}

// DefaultConfig returns a configuration for numBlocks KV blocks of 16 tokens.
func DefaultConfig(numBlocks int) Config {
	return Config{
		MaxNumBatchedTokens:  2048,
		MaxNumSeqs:           256,
		MaxModelLen:          0,
		Policy:               FCFS,
		NumBlocks:            numBlocks,
		BlockSize:            16,
		EnableChunkedPrefill: true,
		EnablePrefixCaching:  true,
	}
}

// Scheduled is one request's share of a step.
type Scheduled struct {
	Req    *Request
	ID     uint64
	Start  int     // position of Tokens[0]
	Tokens []int32 // token ids at positions Start, Start+1, ...
	// Sample is true when the step's last token is the request's last known
	// token, so its logits must be sampled to get the next one.
	Sample      bool
	BlockTable  []int32 // KV block ids of the request, covering every position up to Start+len(Tokens)
	SlotMapping []int32 // KV slot of each token in Tokens
}

// Stats is a snapshot for the metrics layer.
type Stats struct {
	NumRunning    int
	NumWaiting    int
	KV            pagedkv.KVStats
	Preemptions   uint64 // since start
	Steps         uint64 // Schedule calls since start
	ScheduledToks uint64 // tokens scheduled since start
}

// Output is the plan of one step.
type Output struct {
	// Scheduled lists running requests first (in running order), then the
	// requests admitted from the waiting queue this step.
	Scheduled          []Scheduled
	NumScheduledTokens int
	Preempted          []uint64 // requests that lost their blocks this step
	Stats              Stats
}

// Scheduler holds the waiting and running queues and the KV block manager.
type Scheduler struct {
	cfg         Config
	kv          *pagedkv.KVCacheManager
	waiting     []*Request // FCFS: queue order; Priority: sorted at each step
	running     []*Request // admission order
	reqs        map[uint64]*Request
	nextArrival uint64
	preemptions uint64
	steps       uint64
	schedToks   uint64
}

// New returns a scheduler with its own KV block manager.
func New(cfg Config) (*Scheduler, error) {
	switch {
	case cfg.MaxNumBatchedTokens <= 0:
		return nil, fmt.Errorf("scheduler: max num batched tokens %d must be positive", cfg.MaxNumBatchedTokens)
	case cfg.MaxNumSeqs <= 0:
		return nil, fmt.Errorf("scheduler: max num seqs %d must be positive", cfg.MaxNumSeqs)
	case cfg.MaxModelLen < 0:
		return nil, fmt.Errorf("scheduler: max model len %d is negative", cfg.MaxModelLen)
	case cfg.Policy != FCFS && cfg.Policy != Priority:
		return nil, fmt.Errorf("scheduler: unknown policy %d", cfg.Policy)
	}
	kv, err := pagedkv.NewKVCacheManager(cfg.NumBlocks, cfg.BlockSize, cfg.EnablePrefixCaching)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return &Scheduler{cfg: cfg, kv: kv, reqs: make(map[uint64]*Request)}, nil
}

// KV returns the block manager (for statistics and tests).
func (s *Scheduler) KV() *pagedkv.KVCacheManager { return s.kv }

// Config returns the configuration.
func (s *Scheduler) Config() Config { return s.cfg }

// Check reports whether a request of promptLen tokens asking for maxTokens
// could ever complete. It reads only the configuration, so the engine may
// call it from any goroutine to refuse a request at submission.
func (s *Scheduler) Check(promptLen, maxTokens int) error {
	total := promptLen + maxTokens
	switch {
	case promptLen <= 0:
		return errors.New("scheduler: empty prompt")
	case maxTokens <= 0:
		return fmt.Errorf("scheduler: max tokens %d must be positive", maxTokens)
	case s.cfg.MaxModelLen > 0 && total > s.cfg.MaxModelLen:
		return fmt.Errorf("scheduler: prompt of %d tokens plus %d max tokens exceeds the model length %d", promptLen, maxTokens, s.cfg.MaxModelLen)
	case total > s.cfg.NumBlocks*s.cfg.BlockSize:
		return fmt.Errorf("scheduler: prompt of %d tokens plus %d max tokens exceeds the KV cache of %d tokens", promptLen, maxTokens, s.cfg.NumBlocks*s.cfg.BlockSize)
	case !s.cfg.EnableChunkedPrefill && total > s.cfg.MaxNumBatchedTokens:
		// A preempted request recomputes prompt and output in one step.
		return fmt.Errorf("scheduler: prompt of %d tokens plus %d max tokens exceeds the step budget of %d tokens without chunked prefill", promptLen, maxTokens, s.cfg.MaxNumBatchedTokens)
	}
	return nil
}

// Add queues a request.
func (s *Scheduler) Add(r *Request) error {
	if err := s.Check(len(r.Prompt), r.MaxTokens); err != nil {
		return fmt.Errorf("request %d: %w", r.ID, err)
	}
	if _, dup := s.reqs[r.ID]; dup {
		return fmt.Errorf("scheduler: request %d is already queued", r.ID)
	}
	r.tokens = append(make([]int32, 0, len(r.Prompt)+r.MaxTokens), r.Prompt...)
	r.numComputed = 0
	r.status = Waiting
	r.finishReason = NotFinished
	r.arrival = s.nextArrival
	s.nextArrival++
	s.reqs[r.ID] = r
	s.waiting = append(s.waiting, r)
	return nil
}

// Get returns a live (waiting or running) request.
func (s *Scheduler) Get(id uint64) (*Request, bool) {
	r, ok := s.reqs[id]
	return r, ok
}

// NumUnfinished counts waiting and running requests.
func (s *Scheduler) NumUnfinished() int { return len(s.reqs) }

// Stats returns the current counters.
func (s *Scheduler) Stats() Stats {
	return Stats{
		NumRunning:    len(s.running),
		NumWaiting:    len(s.waiting),
		KV:            s.kv.Stats(),
		Preemptions:   s.preemptions,
		Steps:         s.steps,
		ScheduledToks: s.schedToks,
	}
}

// lowerFirst orders requests by policy: the one to run first sorts first.
func (s *Scheduler) lowerFirst(a, b *Request) int {
	if s.cfg.Policy == Priority && a.Priority != b.Priority {
		if a.Priority < b.Priority {
			return -1
		}
		return 1
	}
	switch {
	case a.arrival < b.arrival:
		return -1
	case a.arrival > b.arrival:
		return 1
	}
	return 0
}

// victim picks the running request to preempt: the newest under FCFS, the
// last in priority order under Priority.
func (s *Scheduler) victim() int {
	if s.cfg.Policy == FCFS {
		return len(s.running) - 1
	}
	v := 0
	for i, r := range s.running {
		if s.lowerFirst(r, s.running[v]) > 0 {
			v = i
		}
	}
	return v
}

// preempt frees the blocks of a running request and puts it at the front of
// the waiting queue to recompute all its tokens.
func (s *Scheduler) preempt(i int) *Request {
	r := s.running[i]
	s.running = slices.Delete(s.running, i, i+1)
	s.kv.Free(r.ID)
	r.numComputed = 0
	r.status = Preempted
	r.numPreemptions++
	s.preemptions++
	s.waiting = slices.Insert(s.waiting, 0, r)
	return r
}

// held reports whether r must wait for its parent's prompt to be computed.
func held(r *Request) bool {
	p := r.Parent
	return p != nil && p.status != Finished && !p.promptDone()
}

// Schedule plans one step. Call Update with its result before the next call.
func (s *Scheduler) Schedule() *Output {
	budget := s.cfg.MaxNumBatchedTokens
	out := &Output{}
	// Number of tokens each request gets this step, in scheduling order.
	var order []*Request
	share := make(map[*Request]int)

	// Running requests first: each gets what it still has to compute, as far
	// as the budget goes, preempting others when blocks run out.
	for i := 0; i < len(s.running) && budget > 0; {
		r := s.running[i]
		n, ok := 0, false
		for {
			// The budget may have grown by a refund from the last victim.
			n = min(len(r.tokens)-r.numComputed, budget)
			if s.kv.AllocateSlots(r.ID, r.numComputed, nil, n) {
				ok = true
				break
			}
			v := s.victim()
			vr := s.preempt(v)
			out.Preempted = append(out.Preempted, vr.ID)
			if vr == r {
				break
			}
			if v < i {
				// The victim was already given tokens this step.
				budget += share[vr]
				delete(share, vr)
				order = slices.DeleteFunc(order, func(x *Request) bool { return x == vr })
				i--
			}
		}
		if !ok {
			// r gave up its own blocks and left running[i]; the requests
			// after it may still fit in what it freed.
			continue
		}
		order = append(order, r)
		share[r] = n
		budget -= n
		i++
	}

	// Then waiting requests, unless someone was just preempted for lack of
	// blocks (admitting more would only cause more preemption).
	if len(out.Preempted) == 0 {
		if s.cfg.Policy == Priority {
			slices.SortStableFunc(s.waiting, s.lowerFirst)
		}
		for j := 0; j < len(s.waiting) && budget > 0 && len(s.running) < s.cfg.MaxNumSeqs; {
			r := s.waiting[j]
			if held(r) {
				j++
				continue
			}
			hits, numHit := s.kv.GetComputedBlocks(r.ID, r.tokens, r.CacheSalt)
			n := len(r.tokens) - numHit
			if !s.cfg.EnableChunkedPrefill && n > budget {
				break
			}
			n = min(n, budget)
			if !s.kv.AllocateSlots(r.ID, 0, hits, n) {
				break
			}
			s.waiting = slices.Delete(s.waiting, j, j+1)
			r.numComputed = numHit
			r.status = Running
			s.running = append(s.running, r)
			order = append(order, r)
			share[r] = n
			budget -= n
		}
	}

	for _, r := range order {
		n := share[r]
		start := r.numComputed
		table := s.kv.BlockTable(r.ID)
		slots, err := pagedkv.SlotMapping(table, s.cfg.BlockSize, start, start+n, make([]int32, 0, n))
		if err != nil {
			// AllocateSlots just made the table cover these positions.
			panic(fmt.Sprintf("scheduler: request %d: %v", r.ID, err))
		}
		out.Scheduled = append(out.Scheduled, Scheduled{
			Req:         r,
			ID:          r.ID,
			Start:       start,
			Tokens:      slices.Clone(r.tokens[start : start+n]),
			Sample:      start+n == len(r.tokens),
			BlockTable:  slices.Clone(table),
			SlotMapping: slots,
		})
		out.NumScheduledTokens += n
	}
	s.steps++
	s.schedToks += uint64(out.NumScheduledTokens)
	out.Stats = s.Stats()
	return out
}

// Update records that the step planned by out ran: the scheduled tokens are
// now computed, their full blocks enter the prefix cache, and sampled tokens
// (sampled[id] for each entry with Sample set) are appended to the output. A
// request that reaches its max tokens is finished with FinishLength; stop
// conditions are the engine's to check, calling Finish. Entries of requests
// finished or aborted since Schedule are skipped.
func (s *Scheduler) Update(out *Output, sampled map[uint64][]int32) error {
	var errs []error
	for _, sc := range out.Scheduled {
		r := sc.Req
		if r.status != Running || s.reqs[r.ID] != r || r.numComputed != sc.Start {
			continue
		}
		r.numComputed += len(sc.Tokens)
		s.kv.CacheFullBlocks(r.ID, r.tokens, r.numComputed, r.CacheSalt)
		if !sc.Sample {
			continue
		}
		toks := sampled[r.ID]
		if len(toks) == 0 {
			errs = append(errs, fmt.Errorf("scheduler: request %d: no sampled token", r.ID))
			continue
		}
		for _, t := range toks {
			r.tokens = append(r.tokens, t)
			if len(r.tokens)-len(r.Prompt) >= r.MaxTokens {
				s.Finish(r.ID, FinishLength)
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Finish ends a waiting or running request and frees its blocks. It returns
// false if the request is not live. Called between Schedule and Update, the
// step's forward pass may still compute the request harmlessly: it writes
// only blocks private to the request, which no one gets before the next
// Schedule, and Update skips it.
func (s *Scheduler) Finish(id uint64, reason FinishReason) bool {
	r, ok := s.reqs[id]
	if !ok {
		return false
	}
	delete(s.reqs, id)
	if i := slices.Index(s.running, r); i >= 0 {
		s.running = slices.Delete(s.running, i, i+1)
	} else if i := slices.Index(s.waiting, r); i >= 0 {
		s.waiting = slices.Delete(s.waiting, i, i+1)
	}
	s.kv.Free(id)
	r.status = Finished
	r.finishReason = reason
	return true
}

// Abort ends a request as cancelled and frees its blocks at once.
func (s *Scheduler) Abort(id uint64) bool { return s.Finish(id, FinishAbort) }
