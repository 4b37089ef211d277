package engine

import (
	"context"
	"sync"
)

// sink buffers one request's outputs between the step loop, which must never
// block on a slow client, and the request's channel. It is unbounded: a
// request produces at most N×max_tokens chunks.
type sink struct {
	mu       sync.Mutex
	pending  []Output
	closed   bool
	notify   chan struct{}
	finished chan struct{} // closed once every output has been handed over
}

func newSink() *sink {
	return &sink{notify: make(chan struct{}, 1), finished: make(chan struct{})}
}

func (k *sink) push(o Output) {
	k.mu.Lock()
	k.pending = append(k.pending, o)
	k.mu.Unlock()
	k.poke()
}

func (k *sink) close() {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.poke()
}

func (k *sink) poke() {
	select {
	case k.notify <- struct{}{}:
	default:
	}
}

// forward relays outputs to out in order and closes it after the last one.
// Once ctx is done (the client is gone) outputs are dropped instead, so an
// abandoned channel never holds this goroutine.
func (k *sink) forward(ctx context.Context, out chan<- Output) {
	defer close(k.finished)
	defer close(out)
	for {
		k.mu.Lock()
		batch, closed := k.pending, k.closed
		k.pending = nil
		k.mu.Unlock()
		for _, o := range batch {
			select {
			case out <- o:
			case <-ctx.Done():
			}
		}
		if closed && len(batch) == 0 {
			return
		}
		if len(batch) == 0 {
			<-k.notify
		}
	}
}
