package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagoda-llm/pagoda/engine"
)

const head = `"created":1700000000,"model":"stories260K","system_fingerprint":"fp_pagoda_1.2.3"`

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("response %q is not a JSON object: %v", body, err)
	}
	return v
}

func TestInfoRoutes(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	for _, c := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v1/models", 200, `{"data":[{"id":"stories260K","object":"model","created":%d,"owned_by":"pagoda","root":"stories260K","max_model_len":512}],"object":"list"}`},
		{"GET", "/v1/models/stories260K", 200, `{"id":"stories260K","object":"model","created":%d,"owned_by":"pagoda","root":"stories260K","max_model_len":512}`},
		{"GET", "/health", 200, `{"status":"ok"}`},
		{"GET", "/version", 200, `{"version":"1.2.3"}`},
	} {
		r := ts.do(t, c.method, c.path, "")
		want := c.body
		if strings.Contains(want, "%d") {
			want = fmt.Sprintf(want, ts.s.started.Unix())
		}
		if r.status != c.status || r.body != want {
			t.Errorf("%s %s = %d %s\nwant %d %s", c.method, c.path, r.status, r.body, c.status, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
	}
	r := ts.do(t, "GET", "/v1/models/gpt-4", "")
	if r.status != 404 || !strings.Contains(r.body, `"code":"model_not_found"`) {
		t.Errorf("unknown model card: %d %s", r.status, r.body)
	}
}

func TestHealthBeforeLoad(t *testing.T) {
	ts := startServer(t, nil, Options{})
	if r := ts.do(t, "GET", "/health", ""); r.status != 503 || r.body != `{"status":"loading"}` {
		t.Errorf("health before load: %d %s", r.status, r.body)
	}
	if r := ts.post(t, "/v1/completions", `{"prompt":"x"}`); r.status != 503 {
		t.Errorf("completion before load: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/metrics", ""); r.status != 503 {
		t.Errorf("metrics before load: %d %s", r.status, r.body)
	}
}

func TestMetrics(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	if r := ts.post(t, "/v1/completions", `{"prompt":"Hi"}`); r.status != 200 {
		t.Fatalf("completion: %d %s", r.status, r.body)
	}
	r := ts.do(t, "GET", "/metrics", "")
	if r.status != 200 {
		t.Fatalf("metrics: %d", r.status)
	}
	for _, want := range []string{
		`pagoda:num_requests_running{model_name="stories260K"} 2`,
		`pagoda:num_requests_waiting{model_name="stories260K"} 3`,
		`pagoda:kv_cache_usage_perc{model_name="stories260K"} 0.25`,
		`pagoda:prompt_tokens_total{model_name="stories260K"} 1000`,
		`pagoda:generation_tokens_total{model_name="stories260K"} 500`,
		`pagoda:num_preemptions_total{model_name="stories260K"} 7`,
		`pagoda:prefix_cache_queries_total{model_name="stories260K"} 300`,
		`pagoda:prefix_cache_hits_total{model_name="stories260K"} 120`,
		`pagoda:request_success_total{finished_reason="stop",model_name="stories260K"} 9`,
		`pagoda:request_success_total{finished_reason="abort",model_name="stories260K"} 0`,
		`pagoda:time_to_first_token_seconds_count{model_name="stories260K"} 1`,
		`pagoda:inter_token_latency_seconds_count{model_name="stories260K"} 3`,
		`pagoda:e2e_request_latency_seconds_count{model_name="stories260K"} 1`,
		`pagoda:request_generation_tokens_sum{model_name="stories260K"} 4`,
	} {
		if !strings.Contains(r.body, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestTokenize(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	ids := func(v []int32) string { b, _ := json.Marshal(v); return string(b) }
	with := ts.tok.Encode("Hello world", true, true)
	without := ts.tok.Encode("Hello world", false, true)
	chat := ts.tok.Encode("user: Hi\nassistant:", true, true)
	for _, c := range []struct{ body, want string }{
		{`{"model":"stories260K","prompt":"Hello world"}`, fmt.Sprintf(`{"count":%d,"max_model_len":512,"tokens":%s}`, len(with), ids(with))},
		{`{"prompt":"Hello world","add_special_tokens":false}`, fmt.Sprintf(`{"count":%d,"max_model_len":512,"tokens":%s}`, len(without), ids(without))},
		{`{"content":"Hello world"}`, fmt.Sprintf(`{"count":%d,"max_model_len":512,"tokens":%s}`, len(without), ids(without))},
		{`{"content":"Hello world","add_special":true}`, fmt.Sprintf(`{"count":%d,"max_model_len":512,"tokens":%s}`, len(with), ids(with))},
		{`{"messages":[{"role":"user","content":"Hi"}]}`, fmt.Sprintf(`{"count":%d,"max_model_len":512,"tokens":%s}`, len(chat), ids(chat))},
		{`{"prompt":"Hi","return_token_strs":true}`, `{"count":3,"max_model_len":512,"token_strs":["<s>","▁H","i"],"tokens":[1,320,417]}`},
	} {
		r := ts.post(t, "/tokenize", c.body)
		if r.status != 200 || r.body != c.want {
			t.Errorf("tokenize %s = %d %s, want %s", c.body, r.status, r.body, c.want)
		}
	}
	r := ts.post(t, "/detokenize", fmt.Sprintf(`{"model":"stories260K","tokens":%s}`, ids(without)))
	// As llama-server's /detokenize: the pieces joined, SentencePiece's
	// leading space included.
	if r.status != 200 || r.body != `{"content":" Hello world","prompt":" Hello world"}` {
		t.Errorf("detokenize = %d %s", r.status, r.body)
	}
	for _, body := range []string{`{"tokens":[100000]}`, `{"tokens":"x"}`, `{}`, `{"model":"x","tokens":[1]}`} {
		if r := ts.post(t, "/detokenize", body); r.status != 400 {
			t.Errorf("detokenize %s = %d %s, want 400", body, r.status, r.body)
		}
	}
	if r := ts.post(t, "/tokenize", `{}`); r.status != 400 {
		t.Errorf("tokenize {} = %d", r.status)
	}
}

func TestCompletionResponse(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	p := len(ts.tok.Encode("Hi", true, true))
	r := ts.post(t, "/v1/completions", `{"model":"stories260K","prompt":"Hi"}`)
	want := `{"id":"cmpl-test","object":"text_completion",` + head +
		`,"choices":[{"index":0,"text":" Once upon a time","logprobs":null,"finish_reason":"stop","stop_reason":null}],` +
		fmt.Sprintf(`"usage":{"prompt_tokens":%d,"completion_tokens":4,"total_tokens":%d}}`, p, p+4)
	if r.status != 200 || r.body != want {
		t.Errorf("got %d %s\nwant %s", r.status, r.body, want)
	}
	if r.header.Get("X-Request-Id") != "cmpl-test" {
		t.Errorf("X-Request-Id %q", r.header.Get("X-Request-Id"))
	}
	req := ts.fb.requests()[0]
	if req.MaxTokens != defaultCompletionTokens || req.N != 1 || req.Sampling.Temperature != 1 || req.Sampling.TopP != 1 {
		t.Errorf("defaults: %+v", req)
	}
}

func TestCompletionPromptShapes(t *testing.T) {
	for _, c := range []struct {
		name, prompt string
		want         [][]int32
	}{
		{"string", `"Hello world"`, [][]int32{{1, 346, 306, 414, 263, 304, 341}}},
		{"strings", `["Hello world","Hi"]`, [][]int32{{1, 346, 306, 414, 263, 304, 341}, {1, 320, 417}}},
		{"ids", `[5,6,7]`, [][]int32{{5, 6, 7}}},
		{"id lists", `[[5,6],[7]]`, [][]int32{{5, 6}, {7}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, newFake(), Options{})
			r := ts.post(t, "/v1/completions", `{"prompt":`+c.prompt+`,"n":2,"max_tokens":2}`)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var got [][]int32
			for _, q := range ts.fb.requests() {
				got = append(got, q.Prompt)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("submitted prompts %v, want %v", got, c.want)
			}
			v := decode(t, r.body)
			choices := v["choices"].([]any)
			if len(choices) != 2*len(c.want) {
				t.Fatalf("%d choices, want %d", len(choices), 2*len(c.want))
			}
			for i, ch := range choices {
				m := ch.(map[string]any)
				if int(m["index"].(float64)) != i || m["text"] != " Once upon" || m["finish_reason"] != "length" {
					t.Errorf("choice %d: %v", i, m)
				}
			}
			u := v["usage"].(map[string]any)
			np := 0
			for _, w := range c.want {
				np += len(w)
			}
			if int(u["prompt_tokens"].(float64)) != np || int(u["completion_tokens"].(float64)) != 4*len(c.want) {
				t.Errorf("usage %v", u)
			}
		})
	}
}

func TestSamplingParameters(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	body := `{"model":"stories260K","prompt":"Hi","max_tokens":3,"temperature":0.7,"top_p":0.9,"top_k":40,"min_p":0.05,
		"n":3,"stop":["\n","The"],"seed":42,"presence_penalty":0.5,"frequency_penalty":-0.5,"repetition_penalty":1.1,
		"logit_bias":{"13":-100,"29":5.5},"ignore_eos":true,"user":"u1","min_tokens":1,"stop_token_ids":[2,13],"priority":-1}`
	if r := ts.post(t, "/v1/completions", body); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	got := ts.fb.requests()[0]
	got.Prompt = nil
	want := engine.Request{ID: "cmpl-test", MaxTokens: 3, MinTokens: 1, N: 3,
		Sampling:        engine.SamplingParams{Temperature: 0.7, TopK: 40, TopP: 0.9, MinP: 0.05, Seed: 42},
		Seeded:          true,
		PresencePenalty: 0.5, FrequencyPenalty: -0.5, RepetitionPenalty: 1.1,
		LogitBias: map[int32]float32{13: -100, 29: 5.5},
		Stop:      []string{"\n", "The"}, StopTokenIDs: []int32{2, 13}, IgnoreEOS: true, Priority: -1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("engine request\n got %+v\nwant %+v", got, want)
	}
	// max_completion_tokens wins over max_tokens; a single stop string; top_k -1.
	r := ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}],"max_tokens":9,"max_completion_tokens":2,"stop":"x","top_k":-1,"seed":-1}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	got = ts.fb.requests()[1]
	if got.MaxTokens != 2 || !slices.Equal(got.Stop, []string{"x"}) || got.Sampling.TopK != 0 || got.Sampling.Seed != ^uint64(0) {
		t.Errorf("chat request %+v", got)
	}
	// Chat without max_tokens may use the rest of the context.
	ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}]}`)
	got = ts.fb.requests()[2]
	if got.MaxTokens != 512-len(got.Prompt) {
		t.Errorf("chat default max_tokens %d with a %d-token prompt", got.MaxTokens, len(got.Prompt))
	}
}

func TestCompletionEchoAndLogprobs(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	r := ts.post(t, "/v1/completions", `{"prompt":"Hi","echo":true,"logprobs":2,"max_tokens":2}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	v := decode(t, r.body)
	ch := v["choices"].([]any)[0].(map[string]any)
	if ch["text"] != "Hi Once upon" {
		t.Errorf("echo text %q", ch["text"])
	}
	lps := ch["logprobs"].(map[string]any)
	toks := lps["tokens"].([]any)
	prompt := ts.tok.Encode("Hi", true, true)
	if len(toks) != len(prompt)+2 || toks[len(prompt)] != " Once" || toks[len(prompt)+1] != " upon" {
		t.Errorf("tokens %q", toks)
	}
	tl := lps["token_logprobs"].([]any)
	if tl[0] != nil || tl[len(prompt)] != -0.5 {
		t.Errorf("token_logprobs %v", tl)
	}
	top := lps["top_logprobs"].([]any)
	last := top[len(top)-1].(map[string]any)
	alt0, alt1 := string(ts.tok.TokenToPiece(300)), string(ts.tok.TokenToPiece(301))
	if len(last) != 3 || last[" upon"] != -0.5 || last[alt0] != -1.0 || last[alt1] != -2.0 {
		t.Errorf("top_logprobs %v", last)
	}
	// Offsets index the returned text "Hi Once upon": <s> and "H" at 0,
	// "i" at 1, " Once" at 2, " upon" at 7.
	if off := lps["text_offset"].([]any); !reflect.DeepEqual(off, []any{0.0, 0.0, 1.0, 2.0, 7.0}) {
		t.Errorf("text_offset %v", off)
	}
	if req := ts.fb.requests()[0]; !req.Logprobs || req.TopLogprobs != 2 {
		t.Errorf("engine logprobs %v %d", req.Logprobs, req.TopLogprobs)
	}
}

func TestChatResponse(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	body := `{"model":"stories260K","messages":[{"role":"system","content":"Be brief."},
		{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]},
		{"role":"assistant","content":"Hello"},{"role":"developer","content":null},{"role":"user","content":"Go"}],
		"logprobs":true,"top_logprobs":1,"max_tokens":1}`
	r := ts.post(t, "/v1/chat/completions", body)
	p := ts.tok.Encode("system: Be brief.\nuser: Hi\nthere\nassistant: Hello\nsystem: \nuser: Go\nassistant:", true, true)
	want := `{"id":"chatcmpl-test","object":"chat.completion",` + head +
		`,"choices":[{"index":0,"message":{"role":"assistant","content":" Once"},` +
		`"logprobs":{"content":[{"token":" Once","logprob":-0.5,"bytes":[32,79,110,99,101],"top_logprobs":[{"token":"` +
		string(ts.tok.TokenToPiece(300)) + `","logprob":-1,"bytes":` + bytesJSON(ts.tok.TokenToPiece(300)) + `}]}]},` +
		`"finish_reason":"length","stop_reason":null}],` +
		fmt.Sprintf(`"usage":{"prompt_tokens":%d,"completion_tokens":1,"total_tokens":%d}}`, len(p), len(p)+1)
	if r.status != 200 || r.body != want {
		t.Errorf("got %d %s\nwant %s", r.status, r.body, want)
	}
	if got := ts.fb.requests()[0].Prompt; !slices.Equal(got, p) {
		t.Errorf("chat prompt %v, want %v", got, p)
	}
	// add_generation_prompt false leaves the "assistant:" off.
	ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":false}`)
	if got, want := ts.fb.requests()[1].Prompt, ts.tok.Encode("user: Hi\n", true, true); !slices.Equal(got, want) {
		t.Errorf("prompt without generation prompt %v, want %v", got, want)
	}
}

func bytesJSON(b []byte) string {
	s := make([]int, len(b))
	for i, c := range b {
		s[i] = int(c)
	}
	out, _ := json.Marshal(s)
	return string(out)
}

func TestStreamCompletionBytes(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	p := len(ts.tok.Encode("Hi", true, true))
	r := ts.post(t, "/v1/completions", `{"prompt":"Hi","stream":true,"stream_options":{"include_usage":true}}`)
	if r.status != 200 || r.header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	ev := func(text, finish string) string {
		return `data: {"id":"cmpl-test","object":"text_completion",` + head + `,"choices":[{"index":0,"text":"` + text +
			`","logprobs":null,"finish_reason":` + finish + `,"stop_reason":null}],"usage":null}` + "\n\n"
	}
	want := ev(" Once", "null") + ev(" upon", "null") + ev(" a", "null") + ev(" time", `"stop"`) +
		`data: {"id":"cmpl-test","object":"text_completion",` + head + `,"choices":[],` +
		fmt.Sprintf(`"usage":{"prompt_tokens":%d,"completion_tokens":4,"total_tokens":%d}}`, p, p+4) + "\n\n" +
		"data: [DONE]\n\n"
	if r.body != want {
		t.Errorf("stream\n%s\nwant\n%s", r.body, want)
	}
}

func TestStreamChatBytes(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	ts.fb.textOf = func(k int) string { return []string{"é", "", "\"<|x|>\"", "€"}[k] }
	r := ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}],"stream":true,"n":2,"max_tokens":4}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	ev := func(i int, delta, finish string) string {
		return `data: {"id":"chatcmpl-test","object":"chat.completion.chunk",` + head + `,"choices":[{"index":` + fmt.Sprint(i) +
			`,"delta":` + delta + `,"logprobs":null,"finish_reason":` + finish + `,"stop_reason":null}]}` + "\n\n"
	}
	var want string
	want += ev(0, `{"role":"assistant","content":""}`, "null") + ev(1, `{"role":"assistant","content":""}`, "null")
	for _, s := range []int{0, 1} {
		want += ev(s, `{"content":"é"}`, "null")
	}
	// The second output has no text: no event.
	for _, s := range []int{0, 1} {
		want += ev(s, `{"content":"\"<|x|>\""}`, "null")
	}
	for _, s := range []int{0, 1} {
		want += ev(s, `{"content":"€"}`, `"length"`)
	}
	want += "data: [DONE]\n\n"
	if r.body != want {
		t.Errorf("stream\n%s\nwant\n%s", r.body, want)
	}
}

func TestStreamLogprobs(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	r := ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}],"stream":true,"logprobs":true,"max_tokens":2}`)
	evs := sseEvents(t, r.body)
	if len(evs) != 4 || evs[3] != "[DONE]" {
		t.Fatalf("events %q", evs)
	}
	if !strings.Contains(evs[1], `"logprobs":{"content":[{"token":" Once","logprob":-0.5,"bytes":[32,79,110,99,101],"top_logprobs":[]}]}`) {
		t.Errorf("chat stream logprobs: %s", evs[1])
	}
	r = ts.post(t, "/v1/completions", `{"prompt":"Hi","stream":true,"logprobs":0,"max_tokens":2,"echo":true}`)
	evs = sseEvents(t, r.body)
	if len(evs) != 3 {
		t.Fatalf("events %q", evs)
	}
	c0 := decode(t, evs[0])["choices"].([]any)[0].(map[string]any)
	if c0["text"] != "Hi Once" {
		t.Errorf("echoed first chunk text %q", c0["text"])
	}
	c1 := decode(t, evs[1])["choices"].([]any)[0].(map[string]any)
	lps := c1["logprobs"].(map[string]any)
	if !reflect.DeepEqual(lps["tokens"], []any{" upon"}) || !reflect.DeepEqual(lps["top_logprobs"], []any{map[string]any{" upon": -0.5}}) {
		t.Errorf("completion stream logprobs %v", lps)
	}
}

func TestErrors(t *testing.T) {
	long := strings.Repeat("a", 70<<10)
	for _, c := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
		param                    string
	}{
		{"malformed JSON", "POST", "/v1/completions", `{"prompt":`, nil, 400, ""},
		{"not an object", "POST", "/v1/completions", `[1,2]`, nil, 400, ""},
		{"empty body", "POST", "/v1/chat/completions", ``, nil, 400, ""},
		{"unknown model", "POST", "/v1/completions", `{"model":"gpt-4","prompt":"x"}`, nil, 400, "model"},
		{"temperature type", "POST", "/v1/completions", `{"prompt":"x","temperature":"hot"}`, nil, 400, "temperature"},
		{"temperature range", "POST", "/v1/completions", `{"prompt":"x","temperature":3}`, nil, 400, "temperature"},
		{"top_p range", "POST", "/v1/completions", `{"prompt":"x","top_p":0}`, nil, 400, "top_p"},
		{"top_k range", "POST", "/v1/completions", `{"prompt":"x","top_k":-2}`, nil, 400, "top_k"},
		{"min_p range", "POST", "/v1/completions", `{"prompt":"x","min_p":1.5}`, nil, 400, "min_p"},
		{"max_tokens type", "POST", "/v1/completions", `{"prompt":"x","max_tokens":1.5}`, nil, 400, "max_tokens"},
		{"max_tokens range", "POST", "/v1/completions", `{"prompt":"x","max_tokens":0}`, nil, 400, "max_tokens"},
		{"max_completion_tokens", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":-1}`, nil, 400, "max_completion_tokens"},
		{"beyond max-model-len", "POST", "/v1/completions", `{"prompt":"x","max_tokens":600}`, nil, 400, "max_tokens"},
		{"prompt too long", "POST", "/v1/completions", `{"prompt":[` + strings.Repeat("5,", 600) + `5]}`, nil, 400, "prompt"},
		{"n too large", "POST", "/v1/completions", `{"prompt":"x","n":17}`, nil, 400, "n"},
		{"n zero", "POST", "/v1/completions", `{"prompt":"x","n":0}`, nil, 400, "n"},
		{"best_of", "POST", "/v1/completions", `{"prompt":"x","best_of":3}`, nil, 400, "best_of"},
		{"stop type", "POST", "/v1/completions", `{"prompt":"x","stop":5}`, nil, 400, "stop"},
		{"seed type", "POST", "/v1/completions", `{"prompt":"x","seed":"a"}`, nil, 400, "seed"},
		{"presence_penalty", "POST", "/v1/completions", `{"prompt":"x","presence_penalty":2.5}`, nil, 400, "presence_penalty"},
		{"frequency_penalty", "POST", "/v1/completions", `{"prompt":"x","frequency_penalty":-3}`, nil, 400, "frequency_penalty"},
		{"repetition_penalty", "POST", "/v1/completions", `{"prompt":"x","repetition_penalty":0}`, nil, 400, "repetition_penalty"},
		{"logit_bias key", "POST", "/v1/completions", `{"prompt":"x","logit_bias":{"abc":1}}`, nil, 400, "logit_bias"},
		{"logit_bias id", "POST", "/v1/completions", `{"prompt":"x","logit_bias":{"99999":1}}`, nil, 400, "logit_bias"},
		{"logit_bias value", "POST", "/v1/completions", `{"prompt":"x","logit_bias":{"5":101}}`, nil, 400, "logit_bias"},
		{"logprobs range", "POST", "/v1/completions", `{"prompt":"x","logprobs":21}`, nil, 400, "logprobs"},
		{"logprobs type", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"logprobs":2}`, nil, 400, "logprobs"},
		{"top_logprobs without logprobs", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"top_logprobs":2}`, nil, 400, "top_logprobs"},
		{"top_logprobs range", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":30}`, nil, 400, "top_logprobs"},
		{"echo type", "POST", "/v1/completions", `{"prompt":"x","echo":"yes"}`, nil, 400, "echo"},
		{"ignore_eos type", "POST", "/v1/completions", `{"prompt":"x","ignore_eos":1}`, nil, 400, "ignore_eos"},
		{"stream type", "POST", "/v1/completions", `{"prompt":"x","stream":"true"}`, nil, 400, "stream"},
		{"stream_options without stream", "POST", "/v1/completions", `{"prompt":"x","stream_options":{"include_usage":true}}`, nil, 400, "stream_options"},
		{"user type", "POST", "/v1/completions", `{"prompt":"x","user":5}`, nil, 400, "user"},
		{"suffix", "POST", "/v1/completions", `{"prompt":"x","suffix":"y"}`, nil, 400, "suffix"},
		{"prompt missing", "POST", "/v1/completions", `{}`, nil, 400, "prompt"},
		{"prompt type", "POST", "/v1/completions", `{"prompt":{"a":1}}`, nil, 400, "prompt"},
		{"prompt mixed", "POST", "/v1/completions", `{"prompt":["a",1]}`, nil, 400, "prompt"},
		{"prompt empty array", "POST", "/v1/completions", `{"prompt":[]}`, nil, 400, "prompt"},
		{"prompt token id", "POST", "/v1/completions", `{"prompt":[1,99999]}`, nil, 400, "prompt"},
		{"prompt negative id", "POST", "/v1/completions", `{"prompt":[[1],[-1]]}`, nil, 400, "prompt"},
		{"stop_token_ids", "POST", "/v1/completions", `{"prompt":"x","stop_token_ids":[99999]}`, nil, 400, "stop_token_ids"},
		{"min_tokens", "POST", "/v1/completions", `{"prompt":"x","max_tokens":2,"min_tokens":3}`, nil, 400, "min_tokens"},
		{"messages missing", "POST", "/v1/chat/completions", `{}`, nil, 400, "messages"},
		{"messages empty", "POST", "/v1/chat/completions", `{"messages":[]}`, nil, 400, "messages"},
		{"messages type", "POST", "/v1/chat/completions", `{"messages":"hi"}`, nil, 400, "messages"},
		{"message role", "POST", "/v1/chat/completions", `{"messages":[{"role":"wizard","content":"x"}]}`, nil, 400, "messages[0].role"},
		{"message without role", "POST", "/v1/chat/completions", `{"messages":[{"content":"x"}]}`, nil, 400, "messages[0].role"},
		{"content type", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":5}]}`, nil, 400, "messages[0].content"},
		{"image part", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, nil, 400, "messages[0].content[0]"},
		{"tools", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}`, nil, 400, "tools"},
		{"response_format", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`, nil, 400, "response_format"},
		{"unknown route", "GET", "/v2/nothing", ``, nil, 404, ""},
		{"wrong method", "GET", "/v1/completions", ``, nil, 405, ""},
		{"wrong method models", "POST", "/v1/models", `{}`, nil, 405, ""},
		{"wrong method health", "POST", "/health", `{}`, nil, 405, ""},
		{"body too large", "POST", "/v1/completions", `{"prompt":"` + long + `"}`, nil, 413, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, newFake(), Options{})
			r := ts.do(t, c.method, c.path, c.body, c.header...)
			checkError(t, r, c.status, c.param)
			if c.status == 405 && r.header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
			if c.status == 400 && len(ts.fb.requests()) != 0 {
				t.Errorf("an invalid request reached the engine")
			}
		})
	}
}

func checkError(t *testing.T, r result, status int, param string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var e struct {
		Error struct {
			Message *string `json:"message"`
			Type    *string `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error.Message == nil || *e.Error.Message == "" || e.Error.Type == nil {
		t.Fatalf("not an OpenAI error: %s (%v)", r.body, err)
	}
	if !strings.Contains(r.body, `"param":`) || !strings.Contains(r.body, `"code":`) {
		t.Errorf("error lacks param or code: %s", r.body)
	}
	got := ""
	if e.Error.Param != nil {
		got = *e.Error.Param
	}
	if got != param {
		t.Errorf("param %q, want %q (%s)", got, param, *e.Error.Message)
	}
}

func TestBackendErrors(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		param  string
		retry  string
	}{
		{engine.ErrQueueFull, 429, "", "1"},
		{engine.ErrClosed, 503, "", "1"},
		{&engine.ValidationError{Param: "max_tokens", Msg: "too long for the KV cache"}, 400, "max_tokens", ""},
		{errors.New("something odd"), 400, "", ""},
	} {
		ts := startServer(t, newFake(), Options{})
		ts.fb.err = c.err
		for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
			r := ts.post(t, path, `{"prompt":"x","messages":[{"role":"user","content":"x"}],"stream":true}`)
			checkError(t, r, c.status, c.param)
			if r.header.Get("Retry-After") != c.retry {
				t.Errorf("%v: Retry-After %q, want %q", c.err, r.header.Get("Retry-After"), c.retry)
			}
		}
		if n := ts.s.InFlight(); n != 0 {
			t.Errorf("%d requests still counted in flight", n)
		}
	}
}

func TestBatchSubmitFailureCancelsEarlierPrompts(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	fb := ts.fb
	fb.gate = make(chan struct{})
	calls := 0
	m := *ts.s.model.Load()
	m.Backend = &failSecond{fakeBackend: fb, calls: &calls}
	ts.s.SetModel(&m)
	r := ts.post(t, "/v1/completions", `{"prompt":["a","b"]}`)
	checkError(t, r, 429, "")
	select {
	case <-fb.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the first prompt's request was not cancelled")
	}
}

type failSecond struct {
	*fakeBackend
	calls *int
}

func (f *failSecond) Submit(ctx context.Context, req engine.Request) (<-chan engine.Output, error) {
	*f.calls++
	if *f.calls == 2 {
		return nil, engine.ErrQueueFull
	}
	return f.fakeBackend.Submit(ctx, req)
}

func TestAPIKey(t *testing.T) {
	ts := startServer(t, newFake(), Options{APIKey: "sk-secret"})
	body := `{"prompt":"x"}`
	checkError(t, ts.post(t, "/v1/completions", body), 401, "")
	checkError(t, ts.post(t, "/v1/completions", body, "Authorization", "Bearer sk-wrong"), 401, "")
	checkError(t, ts.post(t, "/v1/completions", body, "Authorization", "sk-secret"), 401, "")
	checkError(t, ts.do(t, "GET", "/v1/models", ""), 401, "")
	checkError(t, ts.post(t, "/tokenize", `{"prompt":"x"}`), 401, "")
	if r := ts.post(t, "/v1/completions", body, "Authorization", "Bearer sk-secret"); r.status != 200 {
		t.Errorf("right key: %d %s", r.status, r.body)
	}
	// Probes and scrapes stay open, as in vLLM.
	for _, p := range []string{"/health", "/metrics", "/version"} {
		if r := ts.do(t, "GET", p, ""); r.status != 200 {
			t.Errorf("%s with a key set: %d", p, r.status)
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	ts.fb.panicMsg = "boom"
	r := ts.post(t, "/v1/completions", `{"prompt":"x"}`)
	checkError(t, r, 500, "")
	if !strings.Contains(ts.logs.String(), "boom") {
		t.Errorf("the panic was not logged: %s", ts.logs.String())
	}
	ts.fb.mu.Lock()
	ts.fb.panicMsg = ""
	ts.fb.mu.Unlock()
	if r := ts.post(t, "/v1/completions", `{"prompt":"x"}`); r.status != 200 {
		t.Errorf("after a panic: %d %s", r.status, r.body)
	}
	if n := ts.s.InFlight(); n != 0 {
		t.Errorf("%d in flight after a panic", n)
	}
}

// TestDisconnectCancels closes a streaming client mid-stream: the request's
// context must be cancelled (the engine then frees its blocks).
func TestDisconnectCancels(t *testing.T) {
	for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
		ts := startServer(t, newFake(), Options{})
		ts.fb.gate = make(chan struct{})
		ts.fb.length = 400 // more than the server can write after the client left
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", ts.url+path,
			strings.NewReader(`{"prompt":"Hi","messages":[{"role":"user","content":"Hi"}],"stream":true,"max_tokens":400}`))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "data: {") {
			t.Fatalf("first line %q %v", line, err)
		}
		cancel()
		resp.Body.Close()
		// Keep the fake producing until the server notices the dead client.
		deadline := time.After(20 * time.Second)
	wait:
		for {
			select {
			case id := <-ts.fb.cancelled:
				if !strings.HasPrefix(id, "c") {
					t.Errorf("cancelled %q", id)
				}
				break wait
			case ts.fb.gate <- struct{}{}:
			case <-deadline:
				t.Fatalf("%s: the request was not cancelled after the client left", path)
			}
		}
		for ts.s.InFlight() != 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// TestConcurrentStreams runs 64 streaming clients at once; each must get its
// whole reply and a final [DONE].
func TestConcurrentStreams(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			path, body := "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}],"stream":true}`
			if i%2 == 1 {
				path, body = "/v1/completions", `{"prompt":"Hi","stream":true}`
			}
			req, _ := http.NewRequest("POST", ts.url+path, strings.NewReader(body))
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var text strings.Builder
			var last string
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				d, ok := strings.CutPrefix(sc.Text(), "data: ")
				if !ok {
					continue
				}
				last = d
				if d == "[DONE]" {
					continue
				}
				var c struct {
					Choices []struct {
						Text  string `json:"text"`
						Delta struct {
							Content string `json:"content"`
						} `json:"delta"`
					} `json:"choices"`
				}
				if err := json.Unmarshal([]byte(d), &c); err != nil {
					errs <- err
					return
				}
				text.WriteString(c.Choices[0].Text + c.Choices[0].Delta.Content)
			}
			if last != "[DONE]" || text.String() != " Once upon a time" {
				errs <- fmt.Errorf("client %d: text %q, last event %q", i, text.String(), last)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDrain checks graceful shutdown: draining turns /health and new work
// to 503 while an accepted request runs to its end.
func TestDrain(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	ts.fb.gate = make(chan struct{})
	inflight := make(chan result, 2)
	go func() { inflight <- ts.post(t, "/v1/completions", `{"prompt":"Hi"}`) }()
	go func() {
		inflight <- ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}],"stream":true}`)
	}()
	for ts.s.InFlight() != 2 {
		time.Sleep(time.Millisecond)
	}
	drained := make(chan error, 1)
	go func() { drained <- ts.s.Drain(context.Background()) }()
	for !ts.s.isDraining() {
		time.Sleep(time.Millisecond)
	}
	if r := ts.do(t, "GET", "/health", ""); r.status != 503 || r.body != `{"status":"draining"}` {
		t.Errorf("health while draining: %d %s", r.status, r.body)
	}
	checkError(t, ts.post(t, "/v1/completions", `{"prompt":"Hi"}`), 503, "")
	checkError(t, ts.post(t, "/v1/chat/completions", `{"messages":[{"role":"user","content":"Hi"}]}`), 503, "")
	select {
	case err := <-drained:
		t.Fatalf("drain returned %v with requests in flight", err)
	default:
	}
	// Let the accepted requests finish: both must be whole.
	go func() {
		for range 6 {
			ts.fb.gate <- struct{}{}
		}
	}()
	for range 2 {
		r := <-inflight
		if r.status != 200 || !(strings.Contains(r.body, `" Once upon a time"`) || strings.HasSuffix(r.body, "data: [DONE]\n\n")) {
			t.Errorf("in-flight request cut: %d %s", r.status, r.body)
		}
	}
	if err := <-drained; err != nil {
		t.Errorf("drain: %v", err)
	}
}

func TestDrainTimeout(t *testing.T) {
	ts := startServer(t, newFake(), Options{})
	ts.fb.gate = make(chan struct{})
	done := make(chan result, 1)
	go func() { done <- ts.post(t, "/v1/completions", `{"prompt":"Hi","stream":true}`) }()
	for ts.s.InFlight() != 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := ts.s.Drain(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("drain with a stuck request: %v", err)
	}
	close(ts.fb.gate) // the engine closing would end it; here the fake runs out
	if r := <-done; r.status != 200 || !strings.HasSuffix(r.body, "data: [DONE]\n\n") {
		t.Errorf("stuck request: %d %s", r.status, r.body)
	}
	if err := ts.s.Drain(context.Background()); err != nil {
		t.Errorf("second drain: %v", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	ts := startServer(t, newFake(), Options{RequestTimeout: 50 * time.Millisecond})
	ts.fb.gate = make(chan struct{}) // never opened: the request can only time out
	r := ts.post(t, "/v1/completions", `{"prompt":"Hi"}`)
	checkError(t, r, 504, "")
	r = ts.post(t, "/v1/completions", `{"prompt":"Hi","stream":true}`)
	if r.status != 200 || !strings.HasSuffix(r.body, "data: [DONE]\n\n") {
		t.Errorf("timed-out stream: %d %s", r.status, r.body)
	}
}
