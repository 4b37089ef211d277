package kernels

import (
	"sync"
)

// Pool is a persistent set of worker goroutines that split loops between
// them. The workers are started once by NewPool and park on a channel
// between jobs, so an operation costs two channel handoffs per worker and no
// goroutine creation. The calling goroutine works too: a pool of T threads
// has T-1 background workers.
type Pool struct {
	threads int
	mu      sync.Mutex // one Run at a time
	work    []chan job
	wg      sync.WaitGroup
	closed  bool
}

type job struct {
	fn     func(lo, hi int)
	lo, hi int
}

// NewPool starts a pool of threads workers (at least 1).
func NewPool(threads int) *Pool {
	threads = max(threads, 1)
	p := &Pool{threads: threads, work: make([]chan job, threads-1)}
	for i := range p.work {
		ch := make(chan job)
		p.work[i] = ch
		go func() {
			for j := range ch {
				j.fn(j.lo, j.hi)
				p.wg.Done()
			}
		}()
	}
	return p
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
	bound := func(i int) int { return i * n / parts }
	p.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		p.work[i-1] <- job{fn, bound(i), bound(i + 1)}
	}
	fn(bound(0), bound(1))
	p.wg.Wait()
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
	for _, ch := range p.work {
		close(ch)
	}
}
