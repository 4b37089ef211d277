package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a persistent set of worker goroutines that split loops between
// them. The workers are started once by NewPool; between jobs they spin on
// the job counter for a while (a forward pass runs hundreds of jobs a few
// microseconds apart, and parking and waking a goroutine costs tens of
// microseconds each time) and then park until the next job, so an idle
// pool uses no CPU. The calling goroutine works too: a pool of T threads
// has T-1 background workers.
type Pool struct {
	threads int
	mu      sync.Mutex // one Run at a time
	workers []*poolWorker

	job         atomic.Pointer[poolJob] // the latest job, never nil
	closed      bool
	caller      poolWorker   // Run's caller, parked while it waits for stragglers
	sharedUntil atomic.Int64 // UnixNano until which waits spin only minSpin
	lastSign    atomic.Int64 // UnixNano of the last sign of shared cores
}

// poolJob is one Run's work, immutable once published (but pending).
type poolJob struct {
	gen      uint64
	fn       func(lo, hi int)
	n, parts int
	quit     bool
	pending  atomic.Int32 // background parts not yet done
}

// poolWorker is a parked thread's wake-up channel. A waker always leaves a
// token (when none is pending) and a woken thread re-checks what it waits
// for, so no wake-up can be lost whatever the memory order of a flag would
// be; a stale token only costs one extra check.
type poolWorker struct {
	parked atomic.Bool   // informational: the thread is blocked on wake
	wake   chan struct{} // capacity 1
}

// signal leaves a wake-up token unless one is already waiting.
func (w *poolWorker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// park blocks until a token arrives.
func (w *poolWorker) park() {
	w.parked.Store(true)
	<-w.wake
	w.parked.Store(false)
}

// A worker polls for a new job, and Run's caller for the workers to
// finish, for up to maxSpin before parking — unless the cores are shared
// with other work. Signs of that: a spinning thread sees it lost its core
// (the clock jumps by more than preemptGap between two looks), or Run's
// caller waits out a whole spin for a worker to finish its even share.
// Two signs within signWindow (one alone may be a hiccup of the machine)
// make every wait of the next sharedHold spin only minSpin, because
// spinning would burn the time slices of the very thread it waits for. So
// a decode step on free cores never parks between its jobs (parking cost
// 20% of tg), while on an oversubscribed machine the pool parks almost at
// once (spinning there cost 4x).
const (
	minSpin    = 2 * time.Microsecond
	maxSpin    = time.Millisecond
	preemptGap = 500 * time.Microsecond
	signWindow = 100 * time.Millisecond
	sharedHold = 200 * time.Millisecond
)

// spinner polls cheaply: it reads the clock only once every 256 polls.
type spinner struct {
	n         int
	start, at time.Time
	limit     time.Duration
	preempted bool // the spin ended because its thread lost the core
}

func (p *Pool) spinner() spinner {
	s := spinner{limit: maxSpin}
	if time.Now().UnixNano() < p.sharedUntil.Load() {
		s.limit = minSpin
	}
	return s
}

// more reports whether to keep polling; it notes a preemption in p.
func (s *spinner) more(p *Pool) bool {
	s.n++
	if s.n&255 != 0 {
		return true
	}
	// Let the process's other goroutines (a server's handlers) have the
	// thread if they are waiting: Go does not preempt a spinning goroutine
	// for 10 ms.
	runtime.Gosched()
	now := time.Now()
	if s.n == 256 {
		s.start, s.at = now, now
		return true
	}
	if now.Sub(s.at) > preemptGap {
		s.preempted = true
		p.markShared()
		return false
	}
	s.at = now
	return now.Sub(s.start) < s.limit
}

// markShared notes a sign of shared cores; the second within signWindow
// makes the waits of the next sharedHold spin only minSpin.
func (p *Pool) markShared() {
	now := time.Now().UnixNano()
	if last := p.lastSign.Swap(now); now-last < int64(signWindow) {
		p.sharedUntil.Store(now + int64(sharedHold))
	}
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
		spin := p.spinner()
		for p.job.Load().gen == seen {
			if spin.more(p) {
				continue
			}
			w.park() // Run signals after publishing a job
			spin = p.spinner()
		}
		j := p.job.Load()
		seen = j.gen
		if j.quit {
			return
		}
		if i < j.parts {
			j.fn(i*j.n/j.parts, (i+1)*j.n/j.parts)
			if j.pending.Add(-1) == 0 {
				p.caller.signal()
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
	spin := p.spinner()
	waited := false
	for j.pending.Load() != 0 {
		if spin.more(p) {
			continue
		}
		if !waited && spin.limit == maxSpin && !spin.preempted {
			// The parts are even, so a worker that has not caught up
			// within a whole spin has lost its core to other work.
			p.markShared()
		}
		// The last worker signals after its part; a stale token from an
		// earlier Run just brings the caller back here.
		waited = true
		p.caller.park()
	}
}

// wakeAll leaves every worker a wake-up token (parked or not).
func (p *Pool) wakeAll() {
	for _, w := range p.workers {
		w.signal()
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
