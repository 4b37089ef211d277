package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// RequestOutput is what one request measured. Times are in seconds.
type RequestOutput struct {
	Success bool
	Error   string // why it failed; empty on success

	PromptLen       int // usage.prompt_tokens when the server sent it, else the dataset's
	OutputTokens    int // usage.completion_tokens, else the number of content chunks
	OutputFromUsage bool

	StartTime float64   // when it was sent, since the run started
	TTFT      float64   // first content chunk
	ITL       []float64 // gaps between consecutive content chunks
	Latency   float64   // E2EL: until the last content chunk, as vLLM measures it
}

// requester sends one streaming completion or chat request.
type requester struct {
	client    *http.Client
	url       string
	chat      bool
	model     string
	apiKey    string
	ignoreEOS bool
}

// maxSSELine bounds one SSE line; a chunk is a few hundred bytes.
const maxSSELine = 16 << 20

func (rq *requester) payload(s Sample) ([]byte, error) {
	body := map[string]any{
		"model":          rq.model,
		"max_tokens":     s.OutputLen,
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
	}
	if rq.chat {
		body["messages"] = []map[string]any{{"role": "user", "content": s.Prompt}}
		// Newer servers read max_completion_tokens, older ones max_tokens.
		body["max_completion_tokens"] = s.OutputLen
	} else {
		body["prompt"] = s.Prompt
	}
	if rq.ignoreEOS {
		body["ignore_eos"] = true
	}
	return json.Marshal(body)
}

// streamChunk is the part of a completion or chat chunk that bench reads.
type streamChunk struct {
	Choices []struct {
		Text  *string `json:"text"`
		Delta *struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
			Reasoning        *string `json:"reasoning"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// content reports the generated text of the chunk's first choice.
func (c *streamChunk) content() string {
	if len(c.Choices) == 0 {
		return ""
	}
	ch := c.Choices[0]
	s := ""
	if ch.Text != nil {
		s += *ch.Text
	}
	if d := ch.Delta; d != nil {
		for _, p := range []*string{d.Content, d.ReasoningContent, d.Reasoning} {
			if p != nil {
				s += *p
			}
		}
	}
	return s
}

// do sends s and measures it against runStart, the run's time origin. A
// request fails on an HTTP error, a broken or truncated stream (no [DONE]),
// an error object in the stream, or no content at all.
func (rq *requester) do(ctx context.Context, s Sample, runStart time.Time) (out RequestOutput) {
	out.PromptLen = s.PromptLen
	body, err := rq.payload(s)
	if err != nil {
		out.Error = fmt.Sprintf("encoding request: %v", err)
		return out
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rq.url, bytes.NewReader(body))
	if err != nil {
		out.Error = fmt.Sprintf("building request: %v", err)
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if rq.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+rq.apiKey)
	}

	st := time.Now()
	out.StartTime = st.Sub(runStart).Seconds()
	fail := func(format string, args ...any) RequestOutput {
		out.Success = false
		out.Error = fmt.Sprintf(format, args...)
		if ctx.Err() != nil {
			out.Error = fmt.Sprintf("cancelled (%v): %s", context.Cause(ctx), out.Error)
		}
		return out
	}
	resp, err := rq.client.Do(req)
	if err != nil {
		return fail("sending request: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fail("HTTP %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	var (
		last     float64 // time of the last content chunk
		chunks   int
		usageOut int
		done     bool
	)
	for sc.Scan() {
		now := time.Since(st).Seconds()
		line := sc.Bytes()
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue // blank separators, ":" comments, event:/id: fields
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			done = true
			break
		}
		var c streamChunk
		if err := json.Unmarshal(data, &c); err != nil {
			return fail("bad stream chunk %q: %v", truncate(string(data), 200), err)
		}
		if len(c.Error) > 0 && string(c.Error) != "null" {
			return fail("server error in stream: %s", truncate(string(c.Error), 500))
		}
		if c.Usage != nil {
			if c.Usage.PromptTokens > 0 {
				out.PromptLen = c.Usage.PromptTokens
			}
			usageOut = c.Usage.CompletionTokens
		}
		if c.content() == "" {
			continue
		}
		if chunks == 0 {
			out.TTFT = now
		} else {
			out.ITL = append(out.ITL, now-last)
		}
		last = now
		chunks++
	}
	if err := sc.Err(); err != nil {
		return fail("reading stream after %d content chunks: %v", chunks, err)
	}
	if !done {
		return fail("stream ended without [DONE] after %d content chunks", chunks)
	}
	if chunks == 0 {
		return fail("stream finished without any content")
	}
	out.Latency = last
	out.OutputTokens, out.OutputFromUsage = chunks, false
	if usageOut > 0 {
		out.OutputTokens, out.OutputFromUsage = usageOut, true
	}
	out.Success = true
	return out
}
