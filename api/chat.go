package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

type chatTopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

type chatLogprob struct {
	Token       string           `json:"token"`
	Logprob     float64          `json:"logprob"`
	Bytes       []int            `json:"bytes"`
	TopLogprobs []chatTopLogprob `json:"top_logprobs"`
}

type chatLogprobs struct {
	Content []chatLogprob `json:"content"`
}

type chatMessageOut struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatChoice struct {
	Index        int            `json:"index"`
	Message      chatMessageOut `json:"message"`
	Logprobs     *chatLogprobs  `json:"logprobs"`
	FinishReason *string        `json:"finish_reason"`
	StopReason   any            `json:"stop_reason"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []chatChoice `json:"choices"`
	Usage             *usage       `json:"usage"`
}

type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chatChunkChoice struct {
	Index        int           `json:"index"`
	Delta        chatDelta     `json:"delta"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
	StopReason   any           `json:"stop_reason"`
}

// parseMessages reads "messages": a non-empty array of {role, content},
// content a string, null, or an array of text parts.
func parseMessages(raw json.RawMessage) ([]tokenizer.ChatMessage, *apiError) {
	if isNull(raw) {
		return nil, errBadRequest("messages", "\"messages\" is required")
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, errBadRequest("messages", "invalid type for \"messages\": expected an array of messages")
	}
	if len(items) == 0 {
		return nil, errBadRequest("messages", "\"messages\" is an empty array")
	}
	out := make([]tokenizer.ChatMessage, len(items))
	for i, it := range items {
		param := fmt.Sprintf("messages[%d]", i)
		var msg struct {
			Role    *string         `json:"role"`
			Content json.RawMessage `json:"content"`
		}
		if json.Unmarshal(it, &msg) != nil {
			return nil, errBadRequest(param, "invalid type for %q: expected an object with \"role\" and \"content\"", param)
		}
		if msg.Role == nil {
			return nil, errBadRequest(param+".role", "%s.role is required", param)
		}
		role := *msg.Role
		switch role {
		case "system", "user", "assistant":
		case "developer":
			role = "system" // OpenAI's newer name for system instructions
		default:
			return nil, errBadRequest(param+".role", "%s.role %q is not supported (system, developer, user, assistant)", param, role)
		}
		content, err := parseContent(msg.Content, param+".content")
		if err != nil {
			return nil, err
		}
		out[i] = tokenizer.ChatMessage{Role: role, Content: content}
	}
	return out, nil
}

func parseContent(raw json.RawMessage, param string) (string, *apiError) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if bytes.TrimSpace(raw)[0] != '[' || json.Unmarshal(raw, &parts) != nil {
		return "", errBadRequest(param, "invalid type for %q: expected a string or an array of text parts", param)
	}
	texts := make([]string, 0, len(parts))
	for k, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", errBadRequest(fmt.Sprintf("%s[%d]", param, k), "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported, got type %q", p.Type)
		}
		texts = append(texts, *p.Text)
	}
	// Parts are joined with newlines, as vLLM does.
	return strings.Join(texts, "\n"), nil
}

// encodeChat tokenizes a rendered chat prompt. Templates that write the BOS
// token themselves must not get a second one from the tokenizer.
func encodeChat(tok Tokenizer, text string) []int32 {
	add := true
	if b := tok.BOS(); b >= 0 {
		if bt := tok.Token(b); bt != "" && strings.HasPrefix(text, bt) {
			add = false
		}
	}
	return tok.Encode(text, add, true)
}

// renderChat applies m's chat template.
func renderChat(m *Model, msgs []tokenizer.ChatMessage, addGen bool) (string, *apiError) {
	if m.Template == nil {
		return "", errBadRequest("messages", "this model has no chat template; use /v1/completions or start the server with --chat-template")
	}
	text, err := m.Template.Apply(msgs, addGen)
	if err != nil {
		return "", errBadRequest("messages", "the chat template refused these messages: %v", err)
	}
	return text, nil
}

func (j *job) chatLogprobs(ids []int32, lps []engine.TokenLogprob) []chatLogprob {
	tok := j.m.Tokenizer
	entry := func(id int32) (string, []int) {
		piece := tok.TokenToPiece(id)
		b := make([]int, len(piece))
		for i, c := range piece {
			b[i] = int(c)
		}
		if utf8.Valid(piece) {
			return string(piece), b
		}
		return strings.ToValidUTF8(string(piece), "\uFFFD"), b
	}
	out := make([]chatLogprob, 0, len(ids))
	for i, id := range ids {
		if i >= len(lps) {
			break
		}
		t, b := entry(id)
		e := chatLogprob{Token: t, Logprob: lp(lps[i].Logprob), Bytes: b, TopLogprobs: []chatTopLogprob{}}
		for _, alt := range lps[i].Top {
			at, ab := entry(alt.ID)
			e.TopLogprobs = append(e.TopLogprobs, chatTopLogprob{Token: at, Logprob: lp(alt.Logprob), Bytes: ab})
		}
		out = append(out, e)
	}
	return out
}

func (s *Server) chatCompletions(ctx *fasthttp.RequestCtx, m *Model, rs *reqState) *apiError {
	arrival := time.Now()
	var p chatParams
	if err := decodeBody(ctx.PostBody(), &p); err != nil {
		return err
	}
	st, err := s.setup(&p.commonParams, m)
	if err != nil {
		return err
	}
	if !isNull(p.Tools) && string(bytes.TrimSpace(p.Tools)) != "[]" {
		return errBadRequest("tools", "tool calling is not supported")
	}
	if p.ResponseFormat != nil && p.ResponseFormat.Type != "" && p.ResponseFormat.Type != "text" {
		return errBadRequest("response_format", "response_format %q is not supported (only \"text\")", p.ResponseFormat.Type)
	}
	logprobs := p.Logprobs != nil && *p.Logprobs
	top := 0
	if p.TopLogprobs != nil {
		if *p.TopLogprobs < 0 || *p.TopLogprobs > maxLogprobs {
			return errBadRequest("top_logprobs", "\"top_logprobs\" must be between 0 and %d, got %d", maxLogprobs, *p.TopLogprobs)
		}
		if !logprobs && *p.TopLogprobs > 0 {
			return errBadRequest("top_logprobs", "\"top_logprobs\" needs \"logprobs\": true")
		}
		top = *p.TopLogprobs
	}
	msgs, err := parseMessages(p.Messages)
	if err != nil {
		return err
	}
	addGen := p.AddGenerationPrompt == nil || *p.AddGenerationPrompt
	text, err := renderChat(m, msgs, addGen)
	if err != nil {
		return err
	}
	ids := encodeChat(m.Tokenizer, text)
	maxTokens, err := fitLength(st, len(ids), m.Backend.MaxModelLen(), 0, "messages")
	if err != nil {
		return err
	}
	j := newJob(s, m, "chatcmpl-", st, arrival)
	j.prompts, j.promptTexts = [][]int32{ids}, []string{text}
	j.logprobs, j.top = logprobs, top
	merged, cancel, err := j.submit([]int{maxTokens})
	if err != nil {
		return err
	}
	ctx.Response.Header.Set("X-Request-Id", j.id)
	const object = "chat.completion.chunk"
	if st.stream {
		start := func(w *sseWriter) {
			// The role comes first, in a chunk of its own per choice.
			empty := ""
			for _, c := range j.choices {
				w.event(j.chunk(object, []chatChunkChoice{{Index: c.index, Delta: chatDelta{Role: "assistant", Content: &empty}}}))
			}
		}
		each := func(w *sseWriter, c *choice, o *engine.Output) {
			var lps *chatLogprobs
			if j.logprobs && len(o.TokenIDs) > 0 {
				lps = &chatLogprobs{Content: j.chatLogprobs(o.TokenIDs, o.Logprobs)}
			}
			if o.Text == "" && !o.Finished() && lps == nil {
				return
			}
			var d chatDelta
			if o.Text != "" {
				t := o.Text
				d.Content = &t
			}
			w.event(j.chunk(object, []chatChunkChoice{{Index: c.index, Delta: d, Logprobs: lps,
				FinishReason: finishPtr(o.FinishReason), StopReason: c.stopReason}}))
		}
		j.stream(ctx, rs, merged, cancel, start, each, func(w *sseWriter) { j.usageChunk(w, object) })
		return nil
	}
	j.collect(merged, cancel, func(c *choice, o *engine.Output) {
		c.text.WriteString(o.Text)
		if j.logprobs {
			c.chatLP = append(c.chatLP, j.chatLogprobs(o.TokenIDs, o.Logprobs)...)
		}
	})
	if err := j.aborted(); err != nil {
		return err
	}
	resp := chatResponse{ID: j.id, Object: "chat.completion", Created: j.created, Model: m.Name, SystemFingerprint: s.fingerprint,
		Choices: make([]chatChoice, len(j.choices)), Usage: j.usage()}
	for i, c := range j.choices {
		var lps *chatLogprobs
		if j.logprobs {
			lps = &chatLogprobs{Content: c.chatLP}
			if lps.Content == nil {
				lps.Content = []chatLogprob{}
			}
		}
		resp.Choices[i] = chatChoice{Index: c.index, Message: chatMessageOut{Role: "assistant", Content: c.text.String()},
			Logprobs: lps, FinishReason: finishPtr(c.finish), StopReason: c.stopReason}
	}
	writeJSON(ctx, fasthttp.StatusOK, resp)
	return nil
}
