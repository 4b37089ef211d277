package bench

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports finished requests while a run goes on.
type progress interface {
	done(ok bool)
	finish()
}

type noProgress struct{}

func (noProgress) done(bool) {}
func (noProgress) finish()   {}

func newProgress(w io.Writer, bar bool, total int) progress {
	switch {
	case w == nil:
		return noProgress{}
	case bar:
		return &barProgress{bar: progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("requests"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)}
	}
	return &lineProgress{w: w, total: total, start: time.Now()}
}

// barProgress draws a terminal progress bar.
type barProgress struct {
	bar *progressbar.ProgressBar
}

func (p *barProgress) done(bool) { _ = p.bar.Add(1) }
func (p *barProgress) finish() {
	if !p.bar.IsFinished() {
		_ = p.bar.Exit() // runs the completion hook, which ends the line
	}
}

// lineProgress prints a plain line every tenth of the run, for logs.
type lineProgress struct {
	mu           sync.Mutex
	w            io.Writer
	total        int
	n, failed    int
	lastDecile   int
	start        time.Time
	finishedOnce bool
}

func (p *lineProgress) done(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if !ok {
		p.failed++
	}
	if d := p.n * 10 / p.total; d > p.lastDecile {
		p.lastDecile = d
		fmt.Fprintf(p.w, "bench: %d/%d requests done (%d failed), %.1fs\n", p.n, p.total, p.failed, time.Since(p.start).Seconds())
	}
}

func (p *lineProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n < p.total && !p.finishedOnce {
		fmt.Fprintf(p.w, "bench: stopped with %d/%d requests done (%d failed)\n", p.n, p.total, p.failed)
	}
	p.finishedOnce = true
}
