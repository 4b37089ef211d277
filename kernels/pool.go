package kernels

import (
	"sync"
	"sync/atomic"
)

// Pool is a persistent set of worker goroutines that split loops between
// them. The workers are started once by NewPool; between jobs they spin for
// a short while on the job counter (a forward pass runs hundreds of jobs a
// few microseconds apart, and a channel handoff that parks and wakes a
// goroutine costs more than many of them) and then park until the next
// job, so an idle pool uses no CPU. The calling goroutine works too: a pool
// of T threads has T-1 background workers.
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

// spinRounds is how many times an idle worker polls for a new job, and
// Run's caller for the workers to finish, before parking (a few µs: long
// enough to bridge the gaps between the operations of a forward pass,
// short enough not to steal a shared core for long).
var spinRounds = 1 << 12

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
		for spins := 0; p.job.Load().gen == seen; spins++ {
			if spins < spinRounds {
				continue
			}
			// Park: announce it, re-check, and take the wake-up token
			// unless the announcement was withdrawn first.
			w.sleeping.Store(true)
			if p.job.Load().gen != seen && w.sleeping.CompareAndSwap(true, false) {
				break
			}
			<-w.wake
			spins = 0
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
	for spins := 0; j.pending.Load() != 0; spins++ {
		if spins < spinRounds {
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
