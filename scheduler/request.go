package scheduler

// Status is where a request is in its life.
type Status int

const (
	Waiting   Status = iota // queued, never run
	Running                 // holds KV blocks, scheduled each step it fits
	Preempted               // lost its blocks; queued to recompute all its tokens
	Finished                // done; holds nothing
)

func (s Status) String() string {
	switch s {
	case Waiting:
		return "waiting"
	case Running:
		return "running"
	case Preempted:
		return "preempted"
	case Finished:
		return "finished"
	}
	return "unknown"
}

// FinishReason says why a request stopped.
type FinishReason int

const (
	NotFinished  FinishReason = iota
	FinishStop                // a stop token or string (set by the engine)
	FinishLength              // max tokens or the model length reached
	FinishAbort               // cancelled
)

func (r FinishReason) String() string {
	switch r {
	case NotFinished:
		return ""
	case FinishStop:
		return "stop"
	case FinishLength:
		return "length"
	case FinishAbort:
		return "abort"
	}
	return "unknown"
}

// Request is one sequence to generate. The caller fills the exported fields
// before Add and must not change them afterwards; the scheduler owns the rest.
type Request struct {
	ID        uint64
	Prompt    []int32
	MaxTokens int // output tokens to generate at most; at least 1
	// Priority orders requests under the Priority policy: smaller runs first.
	Priority int
	// CacheSalt, if set, is folded into the prefix-cache key, so only requests
	// with the same salt share cached blocks.
	CacheSalt []byte
	// Parent, if set, names the first sample of an n > 1 group: this request
	// waits until Parent's prompt is computed and then reuses its full prompt
	// blocks from the prefix cache instead of computing them again.
	Parent *Request

	tokens         []int32 // prompt then output
	numComputed    int
	status         Status
	arrival        uint64
	finishReason   FinishReason
	numPreemptions int
}

// Tokens returns the prompt followed by the output so far. Read only.
func (r *Request) Tokens() []int32 { return r.tokens }

// OutputTokens returns the generated tokens so far. Read only.
func (r *Request) OutputTokens() []int32 { return r.tokens[len(r.Prompt):] }

// NumComputedTokens counts leading tokens whose KV is in the cache.
func (r *Request) NumComputedTokens() int { return r.numComputed }

// Status reports where the request is.
func (r *Request) Status() Status { return r.status }

// Arrival is the order in which Add saw the request.
func (r *Request) Arrival() uint64 { return r.arrival }

// FinishReason says why a finished request stopped.
func (r *Request) FinishReason() FinishReason { return r.finishReason }

// NumPreemptions counts how often the request lost its blocks.
func (r *Request) NumPreemptions() int { return r.numPreemptions }

// promptDone reports whether the whole prompt's KV is in the cache.
func (r *Request) promptDone() bool {
	return r.status == Running && r.numComputed >= len(r.Prompt)
}
