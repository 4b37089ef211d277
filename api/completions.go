package api

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/pagoda-llm/pagoda/engine"
)

// defaultCompletionTokens is max_tokens when a completions request has
// none, as in OpenAI's API.
const defaultCompletionTokens = 16

type completionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"` // null for echoed prompt tokens
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`   // null for echoed prompt tokens
	TextOffset    []int                `json:"text_offset"`
}

type completionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	Logprobs     *completionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
	StopReason   any                 `json:"stop_reason"`
}

type completionResponse struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             *usage             `json:"usage"`
}

// chunk is one streamed event of either endpoint. Usage is omitted unless
// stream_options.include_usage asked for it, then null until the last one.
type chunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           any             `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
}

var jsonNull = json.RawMessage("null")

func (j *job) chunk(object string, choices any) chunk {
	c := chunk{ID: j.id, Object: object, Created: j.created, Model: j.m.Name, SystemFingerprint: j.s.fingerprint, Choices: choices}
	if j.setup.includeUsage {
		c.Usage = jsonNull
	}
	return c
}

// usageChunk is the last event when include_usage is set: no choices, the
// request's usage.
func (j *job) usageChunk(w *sseWriter, object string) {
	if !j.setup.includeUsage {
		return
	}
	c := j.chunk(object, []struct{}{})
	c.Usage = marshal(j.usage())
	w.event(c)
}

// addLogprobs appends generated tokens to a completions logprobs object.
func (j *job) addLogprobs(c *choice, dst *completionLogprobs, ids []int32, lps []engine.TokenLogprob) {
	tok := j.m.Tokenizer
	for i, id := range ids {
		piece := tok.TokenToPiece(id)
		name := completionToken(piece)
		dst.Tokens = append(dst.Tokens, name)
		dst.TextOffset = append(dst.TextOffset, c.offset)
		c.offset += utf8.RuneCount(piece)
		if i >= len(lps) {
			dst.TokenLogprobs = append(dst.TokenLogprobs, nil)
			dst.TopLogprobs = append(dst.TopLogprobs, nil)
			continue
		}
		v := lp(lps[i].Logprob)
		dst.TokenLogprobs = append(dst.TokenLogprobs, &v)
		// OpenAI returns the sampled token among the alternatives.
		top := map[string]float64{name: v}
		for _, t := range lps[i].Top {
			top[completionToken(tok.TokenToPiece(t.ID))] = lp(t.Logprob)
		}
		dst.TopLogprobs = append(dst.TopLogprobs, top)
	}
}

// addPromptLogprobs appends the echoed prompt's tokens, whose logprobs the
// engine does not compute (null, as OpenAI reports the first token's).
// Their pieces may hold more than the echoed text (BOS, SentencePiece's
// leading space), so offsets are aligned on the text's end and clamped at 0.
func (j *job) addPromptLogprobs(c *choice, dst *completionLogprobs) {
	tok := j.m.Tokenizer
	ids := j.prompts[c.prompt]
	pieces := make([][]byte, len(ids))
	total := 0
	for i, id := range ids {
		pieces[i] = tok.TokenToPiece(id)
		total += utf8.RuneCount(pieces[i])
	}
	textLen := utf8.RuneCountInString(j.promptTexts[c.prompt])
	acc := 0
	for _, piece := range pieces {
		dst.Tokens = append(dst.Tokens, completionToken(piece))
		dst.TokenLogprobs = append(dst.TokenLogprobs, nil)
		dst.TopLogprobs = append(dst.TopLogprobs, nil)
		dst.TextOffset = append(dst.TextOffset, max(0, acc-(total-textLen)))
		acc += utf8.RuneCount(piece)
	}
	c.offset = textLen
}

func newCompletionLogprobs() *completionLogprobs {
	return &completionLogprobs{Tokens: []string{}, TokenLogprobs: []*float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
}

func (s *Server) completions(ctx *fasthttp.RequestCtx, m *Model, rs *reqState) *apiError {
	arrival := time.Now()
	var p completionParams
	if err := decodeBody(ctx.PostBody(), &p); err != nil {
		return err
	}
	st, err := s.setup(&p.commonParams, m)
	if err != nil {
		return err
	}
	if p.Suffix != nil && *p.Suffix != "" {
		return errBadRequest("suffix", "\"suffix\" is not supported")
	}
	if p.Logprobs != nil && (*p.Logprobs < 0 || *p.Logprobs > maxLogprobs) {
		return errBadRequest("logprobs", "\"logprobs\" must be between 0 and %d, got %d", maxLogprobs, *p.Logprobs)
	}
	prompts, texts, err := parsePrompt(p.Prompt, m.Tokenizer)
	if err != nil {
		return err
	}
	maxLen := m.Backend.MaxModelLen()
	maxTokens := make([]int, len(prompts))
	for i, ids := range prompts {
		if maxTokens[i], err = fitLength(st, len(ids), maxLen, defaultCompletionTokens, "prompt"); err != nil {
			return err
		}
	}
	j := newJob(s, m, "cmpl-", st, arrival)
	j.prompts, j.promptTexts = prompts, texts
	j.echo = p.Echo != nil && *p.Echo
	if p.Logprobs != nil {
		j.logprobs, j.top = true, *p.Logprobs
	}
	merged, cancel, err := j.submit(maxTokens)
	if err != nil {
		return err
	}
	ctx.Response.Header.Set("X-Request-Id", j.id)
	const object = "text_completion"
	if st.stream {
		j.stream(ctx, rs, merged, cancel, func(*sseWriter) {}, func(w *sseWriter, c *choice, o *engine.Output) {
			text := o.Text
			var lps *completionLogprobs
			if j.logprobs {
				lps = newCompletionLogprobs()
			}
			if !c.started {
				c.started = true
				if j.echo {
					text = j.promptTexts[c.prompt] + text
					if lps != nil {
						j.addPromptLogprobs(c, lps)
					}
				}
			}
			if lps != nil {
				j.addLogprobs(c, lps, o.TokenIDs, o.Logprobs)
			}
			if text == "" && !o.Finished() && (lps == nil || len(lps.Tokens) == 0) {
				return
			}
			w.event(j.chunk(object, []completionChoice{{Index: c.index, Text: text, Logprobs: lps,
				FinishReason: finishPtr(o.FinishReason), StopReason: c.stopReason}}))
		}, func(w *sseWriter) { j.usageChunk(w, object) })
		return nil
	}
	if j.echo || j.logprobs {
		for _, c := range j.choices {
			if j.logprobs {
				c.clp = newCompletionLogprobs()
			}
			if j.echo {
				c.text.WriteString(j.promptTexts[c.prompt])
				if c.clp != nil {
					j.addPromptLogprobs(c, c.clp)
				}
			}
		}
	}
	j.collect(merged, cancel, func(c *choice, o *engine.Output) {
		c.text.WriteString(o.Text)
		if c.clp != nil {
			j.addLogprobs(c, c.clp, o.TokenIDs, o.Logprobs)
		}
	})
	if err := j.aborted(); err != nil {
		return err
	}
	resp := completionResponse{ID: j.id, Object: object, Created: j.created, Model: m.Name, SystemFingerprint: s.fingerprint,
		Choices: make([]completionChoice, len(j.choices)), Usage: j.usage()}
	for i, c := range j.choices {
		resp.Choices[i] = completionChoice{Index: c.index, Text: c.text.String(), Logprobs: c.clp,
			FinishReason: finishPtr(c.finish), StopReason: c.stopReason}
	}
	writeJSON(ctx, fasthttp.StatusOK, resp)
	return nil
}
