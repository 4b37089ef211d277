package kernels

import (
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a persistent set of worker goroutines that split loops between
// them. The workers are started once by NewPool; between jobs they spin on
// the job counter for up to spinTime (a forward pass runs hundreds of jobs
// a few microseconds apart, and parking and waking a goroutine costs tens
// of microseconds each time) and then park until the next job, so an idle
// pool uses no CPU and a pool sharing its cores with other work gives them
// back. The calling goroutine works too: a pool of T threads has T-1
// background workers.
type Pool struct {
	threads int
	mu      sync.Mutex // one Run at a time
	workers []*poolWorker

	job    atomic.Pointer[poolJob] // the latest job, never nil
	closed bool
	caller poolWorker // Run's caller, parked while it waits for stragglers
}

// poolJob is one Run's work, immutable once published (but pending).
type poolJob struct {
	gen      uint64
	fn       func(lo, hi int)
	n, parts int
	quit     bool
	pending  atomic.Int32 // background parts not yet done
}

type poolWorker struct {
	sleeping atomic.Bool
	wake     chan struct{} // capacity 1
}

// spinTime is how long an idle worker polls for a new job, and Run's
// caller for the workers to finish, before parking: longer than any gap
// between the operations of one forward pass (a decode step of a 1B model
// runs ~100 jobs in ~15 ms; parking between them cost 20% of its speed),
// short enough that an idle or oversubscribed pool hands its cores back
// within a millisecond.
const spinTime = time.Millisecond

// spinner polls cheaply: it reads the clock only once every 1024 polls.
type spinner struct {
	n     int
	start time.Time
}

// more reports whether to keep polling.
func (s *spinner) more() bool {
	s.n++
	if s.n&1023 != 0 {
		return true
	}
	if s.n == 1024 {
		s.start = time.Now()
		return true
	}
	return time.Since(s.start) < spinTime
}

// NewPool starts a pool of threads workers (at least 1).
func NewPool(threads int) *Pool {
	threads = max(threads, 1)
	p := &Pool{threads: threads, caller: poolWorker{wake: make(chan struct{}, 1)}}
	p.job.Store(&poolJob{})
	for i := 1; i < threads; i++ {
		w := &poolWorker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.work(i, w)
	}
	return p
}

// work is worker i's loop: wait for a job generation it has not run, run
// its part, report.
func (p *Pool) work(i int, w *poolWorker) {
	seen := uint64(0)
	for {
		for spin := (spinner{}); p.job.Load().gen == seen; {
			if spin.more() {
				continue
			}
			// Park: announce it, re-check, and take the wake-up token
			// unless the announcement was withdrawn first.
			w.sleeping.Store(true)
			if p.job.Load().gen != seen && w.sleeping.CompareAndSwap(true, false) {
				break
			}
			<-w.wake
			spin = spinner{}
		}
		j := p.job.Load()
		seen = j.gen
		if j.quit {
			return
		}
		if i < j.parts {
			j.fn(i*j.n/j.parts, (i+1)*j.n/j.parts)
			if j.pending.Add(-1) == 0 && p.caller.sleeping.CompareAndSwap(true, false) {
				p.caller.wake <- struct{}{}
			}
		}
	}
}

// Threads returns the number of threads Run splits work between.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Run calls fn on disjoint ranges [lo, hi) covering [0, n), in parallel, and
// returns when all calls have returned. The ranges are contiguous and differ
// in length by at most one. A nil or closed Pool runs fn(0, n) on the caller.
// Concurrent Runs on one Pool take turns, so fn must not call Run on the
// same Pool.
func (p *Pool) Run(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if p == nil || p.threads == 1 || n == 1 {
		fn(0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		fn(0, n)
		return
	}
	parts := min(p.threads, n)
	j := &poolJob{gen: p.job.Load().gen + 1, fn: fn, n: n, parts: parts}
	j.pending.Store(int32(parts - 1))
	p.job.Store(j) // publishes the job
	p.wakeAll()
	fn(0, n/parts)
	for spin := (spinner{}); j.pending.Load() != 0; {
		if spin.more() {
			continue
		}
		p.caller.sleeping.Store(true)
		if j.pending.Load() == 0 && p.caller.sleeping.CompareAndSwap(true, false) {
			break
		}
		<-p.caller.wake
	}
}

// wakeAll hands a wake-up token to every parked worker.
func (p *Pool) wakeAll() {
	for _, w := range p.workers {
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}

// Close stops the workers. Runs after Close execute on the caller.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.job.Store(&poolJob{gen: p.job.Load().gen + 1, quit: true})
	p.wakeAll()
}
