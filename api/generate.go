package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/pagoda-llm/pagoda/engine"
)

// reqState is shared between the route wrapper and a generation handler.
type reqState struct {
	streaming bool // the request was handed to a stream writer, which ends it
}

// job is one generation request on its way through: one engine request per
// prompt, each with n samples; choice i*n+j is prompt i's sample j.
type job struct {
	s       *Server
	m       *Model
	id      string
	created int64
	arrival time.Time
	setup   *samplingSetup

	prompts     [][]int32
	promptTexts []string
	echo        bool
	logprobs    bool // report logprobs
	top         int  // alternatives per position

	choices []*choice
	ttftSet bool
	ctx     context.Context // the engine requests' context
}

// choice is one sample's progress.
type choice struct {
	index      int
	prompt     int
	text       strings.Builder
	tokens     int
	completion int // engine's count of generated tokens
	finish     string
	stopReason any
	lastAt     time.Time
	started    bool // streaming: the first chunk went out
	offset     int  // completions logprobs: characters so far
	clp        *completionLogprobs
	chatLP     []chatLogprob
}

type indexed struct {
	prompt int
	out    engine.Output
}

func newJob(s *Server, m *Model, prefix string, setup *samplingSetup, arrival time.Time) *job {
	return &job{s: s, m: m, id: s.newID(prefix), created: s.now().Unix(), arrival: arrival, setup: setup}
}

// submit sends one engine request per prompt and merges their outputs. The
// caller must read the merged channel until it closes.
func (j *job) submit(maxTokens []int) (<-chan indexed, context.CancelFunc, *apiError) {
	var ctx context.Context
	var cancel context.CancelFunc
	if t := j.s.opts.RequestTimeout; t > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), t)
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
	j.ctx = ctx
	n := j.setup.req.N
	j.choices = make([]*choice, len(j.prompts)*n)
	for i := range j.choices {
		j.choices[i] = &choice{index: i, prompt: i / n}
	}
	chans := make([]<-chan engine.Output, 0, len(j.prompts))
	for i, p := range j.prompts {
		r := j.setup.req
		r.ID = j.id
		if len(j.prompts) > 1 {
			r.ID += "-" + strconv.Itoa(i)
		}
		r.Prompt = p
		r.MaxTokens = maxTokens[i]
		if j.logprobs {
			r.Logprobs, r.TopLogprobs = true, j.top
		}
		ch, err := j.m.Backend.Submit(ctx, r)
		if err != nil {
			cancel()
			for _, c := range chans {
				go func() {
					for range c {
					}
				}()
			}
			return nil, nil, submitError(err)
		}
		chans = append(chans, ch)
	}
	merged := make(chan indexed, 16)
	done := make(chan struct{}, len(chans))
	for i, c := range chans {
		go func() {
			for o := range c {
				merged <- indexed{i, o}
			}
			done <- struct{}{}
		}()
	}
	go func() {
		for range chans {
			<-done
		}
		close(merged)
	}()
	return merged, cancel, nil
}

func submitError(err error) *apiError {
	var ve *engine.ValidationError
	switch {
	case errors.Is(err, engine.ErrQueueFull):
		return &apiError{Status: fasthttp.StatusTooManyRequests, Type: typeRateLimit, Code: "rate_limit_exceeded", RetryAfter: 1,
			Message: "the server is busy: its waiting queue is full; retry later"}
	case errors.Is(err, engine.ErrClosed):
		return errUnavailable("the server is shutting down and accepts no new requests")
	case errors.As(err, &ve):
		return errBadRequest(ve.Param, "%s", ve.Msg)
	default:
		return errBadRequest("", "%v", err)
	}
}

// observe does the bookkeeping every output needs (counts, finish, metrics)
// and returns its choice.
func (j *job) observe(x *indexed) *choice {
	o := &x.out
	c := j.choices[x.prompt*j.setup.req.N+o.Index]
	now := time.Now()
	met := j.s.metrics.Load()
	if len(o.TokenIDs) > 0 {
		if met != nil {
			if !j.ttftSet {
				met.ObserveTTFT(now.Sub(j.arrival))
			} else if !c.lastAt.IsZero() {
				met.ObserveITL(now.Sub(c.lastAt), len(o.TokenIDs))
			}
		}
		j.ttftSet = true
		c.lastAt = now
	}
	c.tokens += len(o.TokenIDs)
	c.completion = max(o.CompletionTokens, c.tokens)
	if o.Finished() {
		c.finish = o.FinishReason
		c.stopReason = stopReason(o, j.setup.req.StopTokenIDs)
	}
	return c
}

func stopReason(o *engine.Output, stopIDs []int32) any {
	if o.StopMatched != "" {
		return o.StopMatched
	}
	for _, id := range stopIDs {
		if id == o.StopToken {
			return id
		}
	}
	return nil
}

// usage totals the job: each prompt counts once, whatever n is.
func (j *job) usage() *usage {
	u := &usage{}
	for _, p := range j.prompts {
		u.PromptTokens += len(p)
	}
	for _, c := range j.choices {
		u.CompletionTokens += c.completion
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// finish records the request in the metrics.
func (j *job) finish() {
	if met := j.s.metrics.Load(); met != nil {
		u := j.usage()
		met.ObserveRequest(time.Since(j.arrival), u.PromptTokens, u.CompletionTokens)
	}
}

// aborted reports why a non-streaming job ended early, if it did.
func (j *job) aborted() *apiError {
	for _, c := range j.choices {
		if c.finish == engine.FinishAbort || c.finish == "" {
			if errors.Is(j.ctx.Err(), context.DeadlineExceeded) {
				return &apiError{Status: fasthttp.StatusGatewayTimeout, Type: typeServer, Code: "timeout",
					Message: fmt.Sprintf("the request did not finish within %v", j.s.opts.RequestTimeout)}
			}
			return errUnavailable("the request was aborted: the server is shutting down")
		}
	}
	return nil
}

// collect runs a non-streaming job to the end, calling each for every
// output.
func (j *job) collect(merged <-chan indexed, cancel context.CancelFunc, each func(c *choice, o *engine.Output)) {
	defer func() {
		cancel()
		for range merged {
		}
	}()
	for x := range merged {
		c := j.observe(&x)
		each(c, &x.out)
	}
	j.finish()
}

// stream hands the job to a fasthttp stream writer that sends Server-Sent
// Events. start writes the opening events, each those of one output, and
// tail the closing ones (the usage chunk); [DONE] follows.
func (j *job) stream(ctx *fasthttp.RequestCtx, rs *reqState, merged <-chan indexed, cancel context.CancelFunc,
	start func(w *sseWriter), each func(w *sseWriter, c *choice, o *engine.Output), tail func(w *sseWriter)) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("text/event-stream; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	ctx.Response.Header.Set("X-Request-Id", j.id)
	rs.streaming = true
	s := j.s
	ctx.SetBodyStreamWriter(func(bw *bufio.Writer) {
		w := &sseWriter{w: bw, cancel: cancel}
		defer s.end()
		defer func() {
			cancel()
			for range merged {
			}
		}()
		defer func() {
			// The status is already sent: log, and end the stream without [DONE]
			// so the client sees a broken stream rather than a clean end.
			if r := recover(); r != nil {
				s.log.Error("api: panic while streaming a response", "id", j.id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		start(w)
		for x := range merged {
			c := j.observe(&x)
			if !w.failed {
				each(w, c, &x.out)
			}
		}
		j.finish()
		tail(w)
		w.raw("data: [DONE]\n\n")
	})
}

// sseWriter writes events and notices a client that went away: the first
// failed flush cancels the request's context, which aborts it in the engine.
type sseWriter struct {
	w      *bufio.Writer
	cancel context.CancelFunc
	failed bool
}

func (w *sseWriter) event(v any) {
	if w.failed {
		return
	}
	w.w.WriteString("data: ")
	w.w.Write(marshal(v))
	w.raw("\n\n")
}

func (w *sseWriter) raw(s string) {
	if w.failed {
		return
	}
	w.w.WriteString(s)
	if err := w.w.Flush(); err != nil {
		w.failed = true
		w.cancel()
	}
}

// Response pieces shared by both endpoints.

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// finishPtr is a finish reason, null while running.
func finishPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// lp makes a log-probability JSON-safe: -Inf (and NaN) become -9999, as
// vLLM reports them.
func lp(x float32) float64 {
	v := float64(x)
	if math.IsNaN(v) || v < -9999 {
		return -9999
	}
	return v
}

// completionToken is a token's text as completions logprobs show it:
// OpenAI's "bytes:\xNN" form when the piece is not whole UTF-8.
func completionToken(piece []byte) string {
	if utf8.Valid(piece) {
		return string(piece)
	}
	var b strings.Builder
	b.WriteString("bytes:")
	for _, c := range piece {
		fmt.Fprintf(&b, "\\x%02x", c)
	}
	return b.String()
}
