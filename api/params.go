package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/pagoda-llm/pagoda/engine"
)

// maxLogprobs is the most alternatives per position the engine returns.
const maxLogprobs = engine.MaxTopLogprobs

// commonParams are the fields completions and chat completions share.
// Pointers tell "absent" (or null) from a zero value.
type commonParams struct {
	Model               *string            `json:"model"`
	MaxTokens           *int               `json:"max_tokens"`
	MaxCompletionTokens *int               `json:"max_completion_tokens"`
	MinTokens           *int               `json:"min_tokens"`
	Temperature         *float64           `json:"temperature"`
	TopP                *float64           `json:"top_p"`
	TopK                *int               `json:"top_k"`
	MinP                *float64           `json:"min_p"`
	N                   *int               `json:"n"`
	BestOf              *int               `json:"best_of"`
	Stop                json.RawMessage    `json:"stop"`
	StopTokenIDs        []int64            `json:"stop_token_ids"`
	Seed                *int64             `json:"seed"`
	PresencePenalty     *float64           `json:"presence_penalty"`
	FrequencyPenalty    *float64           `json:"frequency_penalty"`
	RepetitionPenalty   *float64           `json:"repetition_penalty"`
	LogitBias           map[string]float64 `json:"logit_bias"`
	IgnoreEOS           *bool              `json:"ignore_eos"`
	Stream              *bool              `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage *bool `json:"include_usage"`
	} `json:"stream_options"`
	User     *string `json:"user"`
	Priority *int    `json:"priority"`
}

type completionParams struct {
	commonParams
	Prompt   json.RawMessage `json:"prompt"`
	Echo     *bool           `json:"echo"`
	Logprobs *int            `json:"logprobs"`
	Suffix   *string         `json:"suffix"`
}

type chatParams struct {
	commonParams
	Messages            json.RawMessage `json:"messages"`
	Logprobs            *bool           `json:"logprobs"`
	TopLogprobs         *int            `json:"top_logprobs"`
	AddGenerationPrompt *bool           `json:"add_generation_prompt"`
	Tools               json.RawMessage `json:"tools"`
	ResponseFormat      *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

// decodeBody unmarshals a JSON object body into v, turning decoder errors
// into 400s that name the field at fault.
func decodeBody(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return errBadRequest("", "the request body is empty; send a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return errBadRequest("", "malformed JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ):
			if typ.Field == "" {
				return errBadRequest("", "the request body must be a JSON object, not %s", typ.Value)
			}
			field := strings.TrimPrefix(typ.Field, "commonParams.")
			return errBadRequest(field, "invalid type for %q: expected %s, got %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
		default:
			return errBadRequest("", "invalid JSON: %v", err)
		}
	}
	return nil
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "an integer"
	case strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "bool":
		return "a boolean"
	case goKind == "string":
		return "a string"
	case goKind == "map", goKind == "struct":
		return "an object"
	case goKind == "slice", goKind == "array":
		return "an array"
	}
	return goKind
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// parseStop reads "stop": a string or an array of strings.
func parseStop(raw json.RawMessage) ([]string, *apiError) {
	if isNull(raw) {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errBadRequest("stop", "invalid type for \"stop\": expected a string or an array of strings")
	}
	out := many[:0]
	for _, s := range many {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// samplingSetup is a validated request before its prompt is known.
type samplingSetup struct {
	req          engine.Request // everything but Prompt and MaxTokens
	maxTokens    int            // 0: not given
	stream       bool
	includeUsage bool
	user         string
}

func inRange(param string, v *float64, lo, hi float64, loOpen bool) *apiError {
	if v == nil {
		return nil
	}
	x := *v
	if math.IsNaN(x) || x < lo || x > hi || (loOpen && x == lo) {
		open := "["
		if loOpen {
			open = "("
		}
		return errBadRequest(param, "%q must be in %s%g, %g], got %g", param, open, lo, hi, x)
	}
	return nil
}

// setup validates the shared fields against the served model m.
func (s *Server) setup(p *commonParams, m *Model) (*samplingSetup, *apiError) {
	if p.Model != nil && *p.Model != "" && *p.Model != m.Name {
		return nil, errUnknownModel(*p.Model, m.Name)
	}
	for _, c := range []struct {
		name   string
		v      *float64
		lo, hi float64
		open   bool
	}{
		{"temperature", p.Temperature, 0, 2, false},
		{"top_p", p.TopP, 0, 1, true},
		{"min_p", p.MinP, 0, 1, false},
		{"presence_penalty", p.PresencePenalty, -2, 2, false},
		{"frequency_penalty", p.FrequencyPenalty, -2, 2, false},
		{"repetition_penalty", p.RepetitionPenalty, 0, 100, true},
	} {
		if err := inRange(c.name, c.v, c.lo, c.hi, c.open); err != nil {
			return nil, err
		}
	}
	st := &samplingSetup{}
	r := &st.req
	r.N = 1
	if p.N != nil {
		if *p.N < 1 || *p.N > s.opts.MaxN {
			return nil, errBadRequest("n", "\"n\" must be between 1 and %d, got %d", s.opts.MaxN, *p.N)
		}
		r.N = *p.N
	}
	if p.BestOf != nil && *p.BestOf != r.N {
		return nil, errBadRequest("best_of", "\"best_of\" different from \"n\" is not supported")
	}
	if p.MaxCompletionTokens != nil {
		if *p.MaxCompletionTokens < 1 {
			return nil, errBadRequest("max_completion_tokens", "\"max_completion_tokens\" must be at least 1, got %d", *p.MaxCompletionTokens)
		}
		st.maxTokens = *p.MaxCompletionTokens
	} else if p.MaxTokens != nil {
		if *p.MaxTokens < 1 {
			return nil, errBadRequest("max_tokens", "\"max_tokens\" must be at least 1, got %d", *p.MaxTokens)
		}
		st.maxTokens = *p.MaxTokens
	}
	if p.MinTokens != nil {
		if *p.MinTokens < 0 || (st.maxTokens > 0 && *p.MinTokens > st.maxTokens) {
			return nil, errBadRequest("min_tokens", "\"min_tokens\" must be between 0 and max_tokens, got %d", *p.MinTokens)
		}
		r.MinTokens = *p.MinTokens
	}
	r.Sampling.Temperature = 1
	if p.Temperature != nil {
		r.Sampling.Temperature = float32(*p.Temperature)
	}
	r.Sampling.TopP = 1
	if p.TopP != nil {
		r.Sampling.TopP = float32(*p.TopP)
	}
	if p.TopK != nil {
		if *p.TopK < -1 {
			return nil, errBadRequest("top_k", "\"top_k\" must be -1 or 0 (off) or a positive number of tokens, got %d", *p.TopK)
		}
		r.Sampling.TopK = max(*p.TopK, 0)
	}
	if p.MinP != nil {
		r.Sampling.MinP = float32(*p.MinP)
	}
	if p.Seed != nil {
		r.Sampling.Seed = uint64(*p.Seed)
		r.Seeded = true
	}
	if p.PresencePenalty != nil {
		r.PresencePenalty = float32(*p.PresencePenalty)
	}
	if p.FrequencyPenalty != nil {
		r.FrequencyPenalty = float32(*p.FrequencyPenalty)
	}
	if p.RepetitionPenalty != nil {
		r.RepetitionPenalty = float32(*p.RepetitionPenalty)
	}
	vocab := m.Tokenizer.VocabSize()
	if len(p.LogitBias) > 0 {
		r.LogitBias = make(map[int32]float32, len(p.LogitBias))
		for k, v := range p.LogitBias {
			id, err := strconv.ParseInt(strings.TrimSpace(k), 10, 32)
			if err != nil || id < 0 || int(id) >= vocab {
				return nil, errBadRequest("logit_bias", "\"logit_bias\" key %q is not a token id of this model (0..%d)", k, vocab-1)
			}
			if math.IsNaN(v) || v < -100 || v > 100 {
				return nil, errBadRequest("logit_bias", "\"logit_bias\" values must be in [-100, 100], got %g for token %d", v, id)
			}
			r.LogitBias[int32(id)] = float32(v)
		}
	}
	stop, err := parseStop(p.Stop)
	if err != nil {
		return nil, err
	}
	r.Stop = stop
	for _, id := range p.StopTokenIDs {
		if id < 0 || int(id) >= vocab {
			return nil, errBadRequest("stop_token_ids", "\"stop_token_ids\" has %d, not a token id of this model (0..%d)", id, vocab-1)
		}
		r.StopTokenIDs = append(r.StopTokenIDs, int32(id))
	}
	if p.IgnoreEOS != nil {
		r.IgnoreEOS = *p.IgnoreEOS
	}
	if p.Priority != nil {
		r.Priority = *p.Priority
	}
	if p.Stream != nil {
		st.stream = *p.Stream
	}
	if p.StreamOptions != nil {
		if !st.stream {
			return nil, errBadRequest("stream_options", "\"stream_options\" is only allowed when \"stream\" is true")
		}
		st.includeUsage = p.StreamOptions.IncludeUsage != nil && *p.StreamOptions.IncludeUsage
	}
	if p.User != nil {
		st.user = *p.User
	}
	return st, nil
}

// fitLength sets the request's token limit for a prompt of promptLen tokens:
// the asked max, or what is left of the context (capped by def when > 0),
// and refuses prompts that leave no room.
func fitLength(st *samplingSetup, promptLen, maxLen, def int, promptParam string) (int, *apiError) {
	if promptLen >= maxLen {
		return 0, errBadRequest(promptParam, "this model's maximum context length is %d tokens, but the prompt has %d tokens; shorten it", maxLen, promptLen)
	}
	if st.maxTokens == 0 {
		left := maxLen - promptLen
		if def > 0 {
			return min(def, left), nil
		}
		return left, nil
	}
	if promptLen+st.maxTokens > maxLen {
		return 0, errBadRequest("max_tokens", "this model's maximum context length is %d tokens; you asked for %d (%d in the prompt, %d to generate); reduce the prompt or max_tokens",
			maxLen, promptLen+st.maxTokens, promptLen, st.maxTokens)
	}
	return st.maxTokens, nil
}

// parsePrompt reads a completions prompt: a string, an array of strings, an
// array of token ids, or an array of arrays of token ids. It returns the
// token ids of each prompt and its text (for echo).
func parsePrompt(raw json.RawMessage, tok Tokenizer) ([][]int32, []string, *apiError) {
	if isNull(raw) {
		return nil, nil, errBadRequest("prompt", "\"prompt\" is required")
	}
	bad := errBadRequest("prompt", "invalid type for \"prompt\": expected a string, an array of strings, an array of token ids or an array of arrays of token ids")
	encode := func(text string) []int32 { return tok.Encode(text, true, true) }
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return [][]int32{encode(one)}, []string{one}, nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, nil, bad
	}
	if len(items) == 0 {
		return nil, nil, errBadRequest("prompt", "\"prompt\" is an empty array")
	}
	vocab := tok.VocabSize()
	checkIDs := func(ids []int64) ([]int32, *apiError) {
		out := make([]int32, len(ids))
		for i, id := range ids {
			if id < 0 || int(id) >= vocab {
				return nil, errBadRequest("prompt", "token id %d in \"prompt\" is outside this model's vocabulary (0..%d)", id, vocab-1)
			}
			out[i] = int32(id)
		}
		return out, nil
	}
	switch bytes.TrimSpace(items[0])[0] {
	case '"':
		var texts []string
		if json.Unmarshal(raw, &texts) != nil {
			return nil, nil, bad
		}
		ids := make([][]int32, len(texts))
		for i, t := range texts {
			ids[i] = encode(t)
		}
		return ids, texts, nil
	case '[':
		var lists [][]int64
		if json.Unmarshal(raw, &lists) != nil {
			return nil, nil, bad
		}
		ids := make([][]int32, len(lists))
		texts := make([]string, len(lists))
		for i, l := range lists {
			if len(l) == 0 {
				return nil, nil, errBadRequest("prompt", "\"prompt\" has an empty list of token ids")
			}
			var err *apiError
			if ids[i], err = checkIDs(l); err != nil {
				return nil, nil, err
			}
			texts[i] = tok.Decode(ids[i])
		}
		return ids, texts, nil
	default:
		var list []int64
		if json.Unmarshal(raw, &list) != nil {
			return nil, nil, bad
		}
		ids, err := checkIDs(list)
		if err != nil {
			return nil, nil, err
		}
		return [][]int32{ids}, []string{tok.Decode(ids)}, nil
	}
}
