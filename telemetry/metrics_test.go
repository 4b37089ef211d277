package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pagoda-llm/pagoda/engine"
)

func TestEngineCollector(t *testing.T) {
	stats := engine.Stats{Running: 3, Waiting: 5, KVBlocksTotal: 64, KVBlocksUsed: 16, KVUsage: 0.25,
		PromptTokens: 1234, GenerationTokens: 567, Preemptions: 2, PrefixQueries: 100, PrefixHits: 40,
		RequestsFinished: map[string]int64{"stop": 10, "length": 3}}
	calls := 0
	m := New("tiny", func() engine.Stats { calls++; return stats })
	want := `
# HELP pagoda:num_requests_running Number of requests in model execution batches.
# TYPE pagoda:num_requests_running gauge
pagoda:num_requests_running{model_name="tiny"} 3
# HELP pagoda:num_requests_waiting Number of requests waiting to be processed.
# TYPE pagoda:num_requests_waiting gauge
pagoda:num_requests_waiting{model_name="tiny"} 5
# HELP pagoda:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE pagoda:kv_cache_usage_perc gauge
pagoda:kv_cache_usage_perc{model_name="tiny"} 0.25
# HELP pagoda:prompt_tokens_total Number of prefill tokens processed.
# TYPE pagoda:prompt_tokens_total counter
pagoda:prompt_tokens_total{model_name="tiny"} 1234
# HELP pagoda:generation_tokens_total Number of generation tokens processed.
# TYPE pagoda:generation_tokens_total counter
pagoda:generation_tokens_total{model_name="tiny"} 567
# HELP pagoda:num_preemptions_total Cumulative number of preemptions from the engine.
# TYPE pagoda:num_preemptions_total counter
pagoda:num_preemptions_total{model_name="tiny"} 2
# HELP pagoda:prefix_cache_queries_total Prefix-cache queries, in terms of number of queried tokens.
# TYPE pagoda:prefix_cache_queries_total counter
pagoda:prefix_cache_queries_total{model_name="tiny"} 100
# HELP pagoda:prefix_cache_hits_total Prefix-cache hits, in terms of number of cached tokens.
# TYPE pagoda:prefix_cache_hits_total counter
pagoda:prefix_cache_hits_total{model_name="tiny"} 40
# HELP pagoda:request_success_total Count of successfully processed requests.
# TYPE pagoda:request_success_total counter
pagoda:request_success_total{finished_reason="abort",model_name="tiny"} 0
pagoda:request_success_total{finished_reason="length",model_name="tiny"} 3
pagoda:request_success_total{finished_reason="stop",model_name="tiny"} 10
# HELP pagoda:kv_cache_blocks_used Number of KV-cache blocks held by sequences.
# TYPE pagoda:kv_cache_blocks_used gauge
pagoda:kv_cache_blocks_used{model_name="tiny"} 16
`
	names := []string{"pagoda:num_requests_running", "pagoda:num_requests_waiting", "pagoda:kv_cache_usage_perc",
		"pagoda:prompt_tokens_total", "pagoda:generation_tokens_total", "pagoda:num_preemptions_total",
		"pagoda:prefix_cache_queries_total", "pagoda:prefix_cache_hits_total", "pagoda:request_success_total",
		"pagoda:kv_cache_blocks_used"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if calls == 0 {
		t.Error("the collector never read the engine's stats")
	}
	// Values are read at scrape time.
	stats.Waiting = 9
	want9 := `
# HELP pagoda:num_requests_waiting Number of requests waiting to be processed.
# TYPE pagoda:num_requests_waiting gauge
pagoda:num_requests_waiting{model_name="tiny"} 9
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want9), "pagoda:num_requests_waiting"); err != nil {
		t.Error(err)
	}
}

func TestHistograms(t *testing.T) {
	m := New("tiny", func() engine.Stats { return engine.Stats{} })
	m.ObserveTTFT(30 * time.Millisecond)
	m.ObserveITL(40*time.Millisecond, 4) // 4 tokens of 10 ms
	m.ObserveITL(time.Second, 0)         // nothing
	m.ObserveRequest(2*time.Second, 12, 34)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			if h := mt.GetHistogram(); h != nil {
				got[mf.GetName()] = [2]float64{float64(h.GetSampleCount()), h.GetSampleSum()}
			}
		}
	}
	for name, want := range map[string][2]float64{
		"pagoda:time_to_first_token_seconds": {1, 0.03},
		"pagoda:inter_token_latency_seconds": {4, 0.04},
		"pagoda:e2e_request_latency_seconds": {1, 2},
		"pagoda:request_prompt_tokens":       {1, 12},
		"pagoda:request_generation_tokens":   {1, 34},
	} {
		g := got[name]
		if g[0] != want[0] || g[1] < want[1]-1e-9 || g[1] > want[1]+1e-9 {
			t.Errorf("%s: count %g sum %g, want %v", name, g[0], g[1], want)
		}
	}
}
