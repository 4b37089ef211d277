package engine

import (
	"math"
	"sort"
	"strings"

	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/scheduler"
)

// step runs one scheduler step: one forward pass over every scheduled token,
// then sampling, stop checks and output for the sequences that produced one.
func (e *Engine) step() error {
	plan := e.sched.Schedule()
	if len(plan.Scheduled) == 0 {
		e.publish(plan)
		// Nothing fits right now (cannot happen with validated requests,
		// but never spin): wait for new work or an abort.
		<-e.wake
		return nil
	}
	b := &model.Batch{}
	var samplers []int // index into plan.Scheduled of each logits row
	for i, sc := range plan.Scheduled {
		start := len(b.Tokens)
		b.Tokens = append(b.Tokens, sc.Tokens...)
		for k := range sc.Tokens {
			b.Positions = append(b.Positions, int32(sc.Start+k))
		}
		b.Slots = append(b.Slots, sc.SlotMapping...)
		b.Seqs = append(b.Seqs, model.Seq{Start: start, End: len(b.Tokens), BlockTable: sc.BlockTable})
		if sc.Sample {
			b.Logits = append(b.Logits, len(b.Tokens)-1)
			samplers = append(samplers, i)
		}
	}
	logits, err := e.runner.Forward(b)
	if err != nil {
		return err
	}
	vocab := e.model.VocabSize()
	sampled := make(map[uint64][]int32, len(samplers))
	type result struct {
		s  *sequence
		id int32
		lp *TokenLogprob
	}
	results := make([]result, 0, len(samplers))
	for row, i := range samplers {
		sc := plan.Scheduled[i]
		s := e.seqs[sc.ID]
		if s == nil || s.done {
			continue
		}
		l := logits[row*vocab : (row+1)*vocab]
		var lp *TokenLogprob
		if s.job.req.Logprobs || s.job.req.TopLogprobs > 0 {
			lp = &TokenLogprob{}
		}
		id := e.sample(s, l, lp)
		sampled[sc.ID] = []int32{id}
		results = append(results, result{s, id, lp})
	}
	promptToks := 0
	for _, sc := range plan.Scheduled {
		if sc.Start < len(sc.Req.Prompt) {
			promptToks += min(len(sc.Tokens), len(sc.Req.Prompt)-sc.Start)
		}
	}
	if err := e.sched.Update(plan, sampled); err != nil {
		return err
	}
	for _, r := range results {
		e.emitToken(r.s, r.id, r.lp)
	}
	e.statsMu.Lock()
	e.stats.PromptTokens += int64(promptToks)
	e.stats.GenerationTokens += int64(len(results))
	e.statsMu.Unlock()
	e.publish(plan)
	return nil
}

// sample applies the request's logit processors to a copy of the logits and
// draws the next token. lp, when non-nil, receives the log-probabilities of
// the raw logits (before penalties and filters, as vLLM reports them).
func (e *Engine) sample(s *sequence, raw []float32, lp *TokenLogprob) int32 {
	req := &s.job.req
	l := append([]float32(nil), raw...)
	if s.seen != nil {
		p := req.RepetitionPenalty
		for t := range s.seen {
			if l[t] > 0 {
				l[t] /= p
			} else {
				l[t] *= p
			}
		}
	}
	if req.FrequencyPenalty != 0 || req.PresencePenalty != 0 {
		for t, c := range s.counts {
			l[t] -= req.FrequencyPenalty*float32(c) + req.PresencePenalty
		}
	}
	for t, b := range req.LogitBias {
		l[t] += b
	}
	if len(s.sreq.OutputTokens()) < req.MinTokens {
		// Too early to stop: ban every stop token.
		inf := float32(math.Inf(-1))
		if !req.IgnoreEOS {
			for t := range l {
				if e.tok.IsEOG(int32(t)) {
					l[t] = inf
				}
			}
		}
		for _, t := range req.StopTokenIDs {
			l[t] = inf
		}
	}
	id := s.sampler.Sample(l)
	if lp != nil {
		fillLogprobs(raw, id, req.TopLogprobs, lp)
	}
	return id
}

// fillLogprobs writes log-softmax(raw)[id] and the top k alternatives.
func fillLogprobs(raw []float32, id int32, k int, lp *TokenLogprob) {
	maxL := float64(raw[Argmax(raw)])
	var sum float64
	for _, x := range raw {
		sum += math.Exp(float64(x) - maxL)
	}
	lse := maxL + math.Log(sum)
	lp.ID = id
	lp.Logprob = float32(float64(raw[id]) - lse)
	if k <= 0 {
		return
	}
	idx := make([]int32, len(raw))
	for i := range idx {
		idx[i] = int32(i)
	}
	// Partial selection would be faster; the vocabulary sort is O(V log V)
	// and only runs for requests that ask for alternatives.
	sort.Slice(idx, func(a, b int) bool {
		if raw[idx[a]] != raw[idx[b]] {
			return raw[idx[a]] > raw[idx[b]]
		}
		return idx[a] < idx[b]
	})
	for _, t := range idx[:min(k, len(idx))] {
		lp.Top = append(lp.Top, TopLogprob{ID: t, Logprob: float32(float64(raw[t]) - lse)})
	}
}

// emitToken records a sampled token: stop checks, incremental text, output.
func (e *Engine) emitToken(s *sequence, id int32, lp *TokenLogprob) {
	req := &s.job.req
	s.counts[id]++
	if s.seen != nil {
		s.seen[id] = true
	}
	nOut := len(s.sreq.OutputTokens())
	canStop := nOut >= req.MinTokens
	stopToken := false
	if canStop {
		if !req.IgnoreEOS && e.tok.IsEOG(id) {
			stopToken = true
		}
		for _, t := range req.StopTokenIDs {
			stopToken = stopToken || t == id
		}
	}
	out := Output{Index: s.index, TokenIDs: []int32{id}, StopToken: -1, PromptTokens: len(req.Prompt), CompletionTokens: nOut}
	if lp != nil {
		out.Logprobs = []TokenLogprob{*lp}
	}
	if stopToken {
		// The stop token itself is not part of the text.
		s.text.WriteString(s.dec.Flush())
		out.Text = e.takeText(s, len(s.text.String()))
		e.sched.Finish(s.sreq.ID, scheduler.FinishStop)
		out.FinishReason, out.StopToken = FinishStop, id
		e.deliver(s, out)
		return
	}
	s.text.WriteString(s.dec.Push(id))
	finished := s.sreq.Status() == scheduler.Finished // max tokens reached in Update
	if finished {
		s.text.WriteString(s.dec.Flush())
	}
	text := s.text.String()
	if canStop && len(req.Stop) > 0 {
		if at, stop := findStop(text, s.sent, req.Stop); at >= 0 {
			out.Text = e.takeText(s, at)
			if !finished {
				e.sched.Finish(s.sreq.ID, scheduler.FinishStop)
			}
			out.FinishReason, out.StopMatched = FinishStop, stop
			e.deliver(s, out)
			return
		}
	}
	limit := len(text)
	if !finished {
		limit -= heldBack(text, s.sent, req.Stop)
	}
	out.Text = e.takeText(s, limit)
	if finished {
		out.FinishReason = FinishLength
	}
	e.deliver(s, out)
}

// takeText returns the not yet sent text up to byte upTo and marks it sent.
func (e *Engine) takeText(s *sequence, upTo int) string {
	text := s.text.String()
	if upTo <= s.sent {
		return ""
	}
	t := text[s.sent:upTo]
	s.sent = upTo
	return t
}

// findStop returns the earliest position of a stop string that ends after
// byte from (earlier text was already checked), and which one.
func findStop(text string, from int, stops []string) (int, string) {
	best, which := -1, ""
	for _, st := range stops {
		start := max(0, from-len(st)+1)
		if i := strings.Index(text[start:], st); i >= 0 && (best < 0 || start+i < best) {
			best, which = start+i, st
		}
	}
	return best, which
}

// heldBack returns how many trailing bytes of text (beyond sent) must wait
// because they could be the start of a stop string.
func heldBack(text string, sent int, stops []string) int {
	hold := 0
	for _, st := range stops {
		for n := min(len(st)-1, len(text)-sent); n > hold; n-- {
			if strings.HasSuffix(text, st[:n]) {
				hold = n
				break
			}
		}
	}
	return hold
}

// deliver sends out and, on a final chunk, retires the sequence.
func (e *Engine) deliver(s *sequence, out Output) {
	if out.FinishReason == "" {
		s.job.sink.push(out)
		return
	}
	e.finishWith(s, out)
}

// finish ends a sequence with no new token.
func (e *Engine) finish(s *sequence, reason, stop string, stopToken int32) {
	e.finishWith(s, Output{Index: s.index, FinishReason: reason, StopMatched: stop, StopToken: stopToken,
		PromptTokens: len(s.job.req.Prompt), CompletionTokens: len(s.sreq.OutputTokens())})
}

func (e *Engine) finishWith(s *sequence, out Output) {
	if s.done {
		return
	}
	s.done = true
	delete(e.seqs, s.sreq.ID)
	e.statsMu.Lock()
	e.stats.RequestsFinished[out.FinishReason]++
	e.statsMu.Unlock()
	s.job.sink.push(out)
	s.job.live--
	if s.job.live == 0 {
		s.job.sink.close()
	}
}

// publish refreshes the statistics snapshot from the scheduler.
func (e *Engine) publish(plan *scheduler.Output) {
	st := e.sched.Stats()
	if plan != nil {
		st = plan.Stats
	}
	kvs := e.sched.KV().Stats()
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	e.stats.Running = st.NumRunning
	e.stats.Waiting = st.NumWaiting
	e.stats.KVBlocksUsed = kvs.BlocksInUse
	e.stats.KVUsage = kvs.Usage
	e.stats.KVBytesUsed = int64(kvs.BlocksInUse) * e.kv.Bytes() / int64(e.kv.NumBlocks)
	e.stats.Preemptions = int64(st.Preemptions)
	e.stats.PrefixQueries = int64(kvs.PrefixQueries)
	e.stats.PrefixHits = int64(kvs.PrefixHits)
	e.stats.Steps = int64(st.Steps)
}
