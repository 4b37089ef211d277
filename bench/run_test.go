package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slack bounds how much later than the server's send time the client may
// see a chunk (scheduler and -race overhead on a busy machine).
const slack = 60 * time.Millisecond

func samplesOf(prompts ...string) []Sample {
	var s []Sample
	for _, p := range prompts {
		s = append(s, Sample{Prompt: p, PromptLen: 1, OutputLen: 16})
	}
	return s
}

func runOK(t *testing.T, cfg Config) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The client's TTFT, ITL and E2EL agree with the times the server sent the
// chunks: never earlier, at most slack later; TPOT and the aggregates follow
// from them exactly.
func TestRunMeasuresScriptedTimes(t *testing.T) {
	for _, endpoint := range []string{"/v1/completions", "/v1/chat/completions"} {
		t.Run(strings.Trim(endpoint, "/"), func(t *testing.T) {
			fs := newFakeServer(t, scriptByPrefix(map[string]scenario{
				"ok": {ttft: 120 * time.Millisecond, itl: 50 * time.Millisecond, tokens: 5},
			}))
			prompts := []string{"ok#1", "ok#2", "ok#3", "ok#4"}
			res := runOK(t, Config{BaseURL: fs.URL, Endpoint: endpoint, Model: "m",
				Samples: samplesOf(prompts...), Percentiles: []float64{50, 99}})
			if res.Completed != 4 || res.Failed != 0 {
				t.Fatalf("completed/failed = %d/%d: %q", res.Completed, res.Failed, res.Errors)
			}
			sec := func(d time.Duration) float64 { return d.Seconds() }
			var ttfts, e2els []float64
			for i, p := range prompts {
				rec := fs.record(p)
				if rec == nil || len(rec.flushes) != 5 {
					t.Fatalf("server record of %s: %+v", p, rec)
				}
				ttft, e2el := res.TTFTs[i], res.Latencies[i]
				wantTTFT := sec(rec.flushes[0].Sub(rec.recv))
				if ttft < wantTTFT || ttft > wantTTFT+sec(slack) || ttft < 0.120 {
					t.Errorf("%s: TTFT %.4f, server sent first chunk at %.4f", p, ttft, wantTTFT)
				}
				wantE2EL := sec(rec.flushes[4].Sub(rec.recv))
				if e2el < wantE2EL || e2el > wantE2EL+sec(slack) || e2el < 0.320 {
					t.Errorf("%s: E2EL %.4f, server sent last chunk at %.4f", p, e2el, wantE2EL)
				}
				if len(res.ITLs[i]) != 4 {
					t.Fatalf("%s: %d ITLs, want 4", p, len(res.ITLs[i]))
				}
				sum := ttft
				for j, g := range res.ITLs[i] {
					want := sec(rec.flushes[j+1].Sub(rec.flushes[j]))
					if math.Abs(g-want) > sec(slack) {
						t.Errorf("%s: ITL %d = %.4f, server gap %.4f", p, j, g, want)
					}
					sum += g
				}
				if math.Abs(sum-e2el) > 1e-9 {
					t.Errorf("%s: TTFT + sum(ITL) = %v, E2EL = %v", p, sum, e2el)
				}
				if res.OutputLens[i] != 5 {
					t.Errorf("%s: output len %d, want 5 (usage)", p, res.OutputLens[i])
				}
				ttfts = append(ttfts, ttft)
				e2els = append(e2els, e2el)
			}
			// Aggregates recomputed from the per-request arrays.
			if !near(res.TTFT.Mean, mean(ttfts)*1000, 1e-9) || !near(res.E2EL.Median, Percentile(e2els, 50)*1000, 1e-9) {
				t.Errorf("aggregates: mean TTFT %v median E2EL %v", res.TTFT.Mean, res.E2EL.Median)
			}
			var tpots []float64
			for i := range prompts {
				tpots = append(tpots, (e2els[i]-ttfts[i])/4)
			}
			if !near(res.TPOT.Mean, mean(tpots)*1000, 1e-9) {
				t.Errorf("mean TPOT %v, want %v", res.TPOT.Mean, mean(tpots)*1000)
			}
			if res.TPOT.Mean < 50 || res.TPOT.Mean > 50+slack.Seconds()*1000 {
				t.Errorf("mean TPOT %v ms, scripted 50", res.TPOT.Mean)
			}
			if res.TotalOutputTokens != 20 || res.OutputTokensSource != "usage" {
				t.Errorf("output tokens %d from %s", res.TotalOutputTokens, res.OutputTokensSource)
			}
			// Prompt tokens come from the server's usage: "ok#1" is 1 piece.
			if res.TotalInputTokens != 4 {
				t.Errorf("total input tokens %d, want 4", res.TotalInputTokens)
			}
			rec := fs.record("ok#1")
			if rec.body["stream"] != true || rec.body["max_tokens"] != 16.0 {
				t.Errorf("request body %v", rec.body)
			}
			if so, _ := rec.body["stream_options"].(map[string]any); so["include_usage"] != true {
				t.Errorf("stream_options %v", rec.body["stream_options"])
			}
		})
	}
}

func TestRunGoodput(t *testing.T) {
	fs := newFakeServer(t, scriptByPrefix(map[string]scenario{
		"fast":       {ttft: 20 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 4},
		"slowstart":  {ttft: 400 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 4},
		"slowdecode": {ttft: 20 * time.Millisecond, itl: 250 * time.Millisecond, tokens: 3},
	}))
	res := runOK(t, Config{BaseURL: fs.URL, Model: "m",
		Samples: samplesOf("fast#1", "slowstart#1", "fast#2", "slowdecode#1", "fast#3"),
		Goodput: map[string]float64{"ttft": 200, "tpot": 120}})
	if res.Completed != 5 {
		t.Fatalf("completed %d: %q", res.Completed, res.Errors)
	}
	if res.RequestGoodput == nil || !near(*res.RequestGoodput*res.Duration, 3, 1e-9) {
		t.Errorf("goodput %v over %v s, want 3 good requests", res.RequestGoodput, res.Duration)
	}
	if !near(res.RequestThroughput*res.Duration, 5, 1e-9) {
		t.Errorf("throughput %v over %v s", res.RequestThroughput, res.Duration)
	}
}

// HTTP errors, dropped connections, streams without [DONE] and error
// objects are failures with their text kept, and stay out of the stats.
func TestRunFailuresCountedNotAveraged(t *testing.T) {
	fs := newFakeServer(t, scriptByPrefix(map[string]scenario{
		"ok":       {ttft: 100 * time.Millisecond, itl: 20 * time.Millisecond, tokens: 4},
		"fail500":  {status: 500},
		"fail429":  {status: 429},
		"drop":     {ttft: 1 * time.Millisecond, itl: 1 * time.Millisecond, tokens: 6, drop: 2},
		"truncate": {ttft: 1 * time.Millisecond, itl: 1 * time.Millisecond, tokens: 6, truncate: 3},
		"errobj":   {ttft: 1 * time.Millisecond, tokens: 2, streamErr: true},
	}))
	prompts := []string{"ok#1", "fail500#1", "drop#1", "ok#2", "truncate#1", "errobj#1", "fail429#1", "ok#3"}
	res := runOK(t, Config{BaseURL: fs.URL, Model: "m", Samples: samplesOf(prompts...), MaxConcurrency: 3})
	if res.Completed != 3 || res.Failed != 5 {
		t.Fatalf("completed/failed = %d/%d, errors %q", res.Completed, res.Failed, res.Errors)
	}
	wantErr := map[string]string{
		"fail500#1": "500", "fail429#1": "429", "drop#1": "stream",
		"truncate#1": "without [DONE]", "errobj#1": "scripted stream error",
	}
	for i, p := range prompts {
		if strings.HasPrefix(p, "ok") {
			if res.Errors[i] != "" || res.OutputLens[i] != 4 {
				t.Errorf("%s: error %q, output %d", p, res.Errors[i], res.OutputLens[i])
			}
			continue
		}
		if !strings.Contains(res.Errors[i], wantErr[p]) {
			t.Errorf("%s: error %q, want it to mention %q", p, res.Errors[i], wantErr[p])
		}
		if res.OutputLens[i] != 0 {
			t.Errorf("%s: failed request has output len %d", p, res.OutputLens[i])
		}
	}
	// Failed streams had ~1 ms TTFT and ITL; averaged in they would pull
	// these far below the scripted 100 ms and 20 ms.
	if res.TTFT.Mean < 100 || res.TTFT.Percentiles[0].Value < 100 {
		t.Errorf("mean TTFT %v ms includes failed requests", res.TTFT.Mean)
	}
	if res.ITL.Median < 20 || res.TotalOutputTokens != 12 || len(res.ITLs[0]) != 3 {
		t.Errorf("ITL median %v, total output %d", res.ITL.Median, res.TotalOutputTokens)
	}
}

func TestRunWithoutUsageCountsChunks(t *testing.T) {
	fs := newFakeServer(t, scriptByPrefix(map[string]scenario{
		"nousage": {ttft: time.Millisecond, itl: time.Millisecond, tokens: 7, noUsage: true},
	}))
	res := runOK(t, Config{BaseURL: fs.URL, Model: "m", Samples: samplesOf("nousage#1", "nousage#2")})
	if res.Completed != 2 || res.TotalOutputTokens != 14 || res.OutputTokensSource != "content_chunks" {
		t.Errorf("completed %d, output %d from %s", res.Completed, res.TotalOutputTokens, res.OutputTokensSource)
	}
	var sb strings.Builder
	res.PrintTable(&sb)
	if !strings.Contains(sb.String(), "content chunks") {
		t.Error("table does not say output tokens were counted from chunks")
	}
}

// The concurrency cap holds at the server, with bursts and at rate inf.
func TestRunConcurrencyCap(t *testing.T) {
	for _, c := range []struct {
		rate, burst float64
		cap         int
	}{{math.Inf(1), 1, 3}, {200, 0.5, 2}} {
		t.Run(fmt.Sprintf("rate%v_cap%d", c.rate, c.cap), func(t *testing.T) {
			fs := newFakeServer(t, func(string) scenario {
				return scenario{ttft: 15 * time.Millisecond, itl: 5 * time.Millisecond, tokens: 3}
			})
			var prompts []string
			for i := range 24 {
				prompts = append(prompts, fmt.Sprintf("p%d", i))
			}
			res := runOK(t, Config{BaseURL: fs.URL, Model: "m", Samples: samplesOf(prompts...),
				RequestRate: c.rate, Burstiness: c.burst, MaxConcurrency: c.cap, Seed: 3})
			if res.Completed != 24 {
				t.Fatalf("completed %d: %q", res.Completed, res.Errors)
			}
			if p := fs.peak(); p > c.cap || p < 1 {
				t.Errorf("server saw %d concurrent requests, cap %d", p, c.cap)
			}
			if res.MaxConcurrentRequests > c.cap {
				t.Errorf("reported peak %d above cap %d", res.MaxConcurrentRequests, c.cap)
			}
			if math.IsInf(c.rate, 1) && (fs.peak() != c.cap || res.MaxConcurrentRequests != c.cap) {
				t.Errorf("24 requests at once should fill the cap: server %d, reported %d", fs.peak(), res.MaxConcurrentRequests)
			}
		})
	}
}

// At --max-duration the run stops sending, cancels what is in flight
// (failed) and reports the rest as not sent.
func TestRunMaxDurationStops(t *testing.T) {
	fs := newFakeServer(t, func(string) scenario { return scenario{hang: true} })
	start := time.Now()
	res := runOK(t, Config{BaseURL: fs.URL, Model: "m", Samples: samplesOf("a", "b", "c", "d", "e", "f"),
		MaxConcurrency: 2, MaxDuration: 300 * time.Millisecond})
	if time.Since(start) > 20*time.Second {
		t.Fatal("run did not stop at its max duration")
	}
	if res.Completed != 0 || res.Failed != 2 || res.NotSent != 4 {
		t.Fatalf("completed/failed/not sent = %d/%d/%d", res.Completed, res.Failed, res.NotSent)
	}
	for _, e := range res.Errors {
		if !strings.Contains(e, "max duration") {
			t.Errorf("error %q does not name the max duration", e)
		}
	}
	if res.Duration < 0.3 {
		t.Errorf("duration %v < max duration", res.Duration)
	}
}

func TestRunAPIKeyIgnoreEOSAndModelDiscovery(t *testing.T) {
	fs := newFakeServer(t, func(string) scenario { return scenario{ttft: time.Millisecond, tokens: 2} })
	res := runOK(t, Config{BaseURL: fs.URL + "/v1/", APIKey: "sekret", IgnoreEOS: true, Samples: samplesOf("x")})
	rec := fs.record("x")
	if got := rec.header.Get("Authorization"); got != "Bearer sekret" {
		t.Errorf("Authorization = %q", got)
	}
	if rec.body["ignore_eos"] != true || rec.body["model"] != "fake-model" || res.ModelID != "fake-model" {
		t.Errorf("body %v, model_id %q", rec.body, res.ModelID)
	}
}

// The result JSON carries vLLM's field names with the right JSON types.
func TestResultSchema(t *testing.T) {
	fs := newFakeServer(t, func(string) scenario { return scenario{ttft: time.Millisecond, itl: time.Millisecond, tokens: 3} })
	res := runOK(t, Config{BaseURL: fs.URL, Model: "m", Samples: samplesOf("a", "b"), MaxConcurrency: 2,
		RequestRate: 50, Goodput: map[string]float64{"e2el": 5000}, Percentiles: []float64{50, 90, 99, 99.9}})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	numbers := []string{"completed", "failed", "duration", "total_input_tokens", "total_output_tokens",
		"request_throughput", "output_throughput", "total_token_throughput", "request_goodput",
		"max_concurrent_requests", "max_output_tokens_per_s", "num_prompts", "request_rate", "burstiness",
		"max_concurrency", "not_sent"}
	for _, mt := range []string{"ttft", "tpot", "itl", "e2el"} {
		for _, s := range []string{"mean_%s_ms", "median_%s_ms", "std_%s_ms", "p50_%s_ms", "p90_%s_ms", "p99_%s_ms", "p99.9_%s_ms"} {
			numbers = append(numbers, fmt.Sprintf(s, mt))
		}
	}
	for _, k := range numbers {
		if _, ok := m[k].(float64); !ok {
			t.Errorf("%s: %T (%v), want a number", k, m[k], m[k])
		}
	}
	for _, k := range []string{"date", "backend", "model_id", "label", "tokenizer_id", "endpoint_type", "output_tokens_source"} {
		if _, ok := m[k].(string); !ok {
			t.Errorf("%s: %T, want a string", k, m[k])
		}
	}
	for _, k := range []string{"input_lens", "output_lens", "ttfts", "itls", "latencies", "start_times", "errors"} {
		a, ok := m[k].([]any)
		if !ok || len(a) != 2 {
			t.Errorf("%s: %T len %d, want an array of 2", k, m[k], len(a))
		}
	}
	if itls := m["itls"].([]any); len(itls[0].([]any)) != 2 {
		t.Errorf("itls[0] = %v, want 2 gaps", itls[0])
	}
	if m["backend"] != "openai" || m["completed"] != 2.0 {
		t.Errorf("backend %v completed %v", m["backend"], m["completed"])
	}

	// Infinite rate is written as "inf"; no SLOs gives a null goodput.
	res2 := runOK(t, Config{BaseURL: fs.URL, Model: "m", Samples: samplesOf("c")})
	b, _ = json.Marshal(res2)
	m = nil
	json.Unmarshal(b, &m)
	if m["request_rate"] != "inf" || m["request_goodput"] != nil || m["max_concurrency"] != nil {
		t.Errorf("request_rate %v, request_goodput %v, max_concurrency %v", m["request_rate"], m["request_goodput"], m["max_concurrency"])
	}
	var back struct {
		RequestRate Rate `json:"request_rate"`
	}
	if err := json.Unmarshal(b, &back); err != nil || !math.IsInf(float64(back.RequestRate), 1) {
		t.Errorf("Rate round trip: %v %v", back.RequestRate, err)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	bad := []Config{
		{BaseURL: "ftp://x"},
		{Dataset: "nope"},
		{Dataset: DatasetShareGPT},
		{RequestRate: -1},
		{Burstiness: -1},
		{MaxConcurrency: -1},
		{Goodput: map[string]float64{"latency": 1}},
		{Percentiles: []float64{101}},
		{RandomRangeRatio: 1},
		{Endpoint: "/v1/embeddings"},
		{TokenizerMode: "gguf"},
	}
	for i, c := range bad {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("config %d accepted: %+v", i, c)
		}
	}
}

// A server whose /tokenize never answers cannot hold the run past
// --max-duration.
func TestRunPreparationBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		<-r.Context().Done()
	}))
	defer srv.Close()
	start := time.Now()
	_, err := Run(context.Background(), Config{BaseURL: srv.URL, Model: "m", NumPrompts: 2, MaxDuration: 200 * time.Millisecond})
	t.Logf("err: %v", err)
	if err == nil || !strings.Contains(err.Error(), "max duration") {
		t.Errorf("err = %v, want the max duration named", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Error("preparation not bounded")
	}
}
