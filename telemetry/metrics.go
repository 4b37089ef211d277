// Package telemetry turns the engine's plain statistics into Prometheus
// metrics. Gauges and counters are read from engine.Stats at scrape time
// (the engine never touches Prometheus); latency histograms are observed by
// the API layer as it relays each request's stream.
//
// Metric names mirror vLLM's (vllm:num_requests_waiting becomes
// pagoda:num_requests_waiting, ...) so dashboards, autoscalers and routers
// written for vLLM work unchanged; every metric carries a model_name label
// as vLLM's do.
package telemetry

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pagoda-llm/pagoda/engine"
)

// Prefix starts every metric name.
const Prefix = "pagoda:"

// Histogram buckets in seconds. They reach further down than vLLM's, since a
// small model on a CPU emits tokens in well under a millisecond.
var (
	ttftBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640}
	itlBuckets  = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}
	e2eBuckets  = []float64{0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680}
	tokBuckets  = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000}
)

// Metrics is one model's registry: the engine collector plus the histograms
// the API observes.
type Metrics struct {
	reg *prometheus.Registry

	ttft, itl, e2e           prometheus.Histogram
	reqPrompt, reqGeneration prometheus.Histogram
}

// New makes a registry for the model served under name, whose engine
// statistics stats returns. stats is called once per scrape.
func New(name string, stats func() engine.Stats) *Metrics {
	labels := prometheus.Labels{"model_name": name}
	hist := func(n, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: Prefix + n, Help: help, Buckets: buckets, ConstLabels: labels})
	}
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		ttft:          hist("time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttftBuckets),
		itl:           hist("inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itlBuckets),
		e2e:           hist("e2e_request_latency_seconds", "Histogram of end-to-end request latency in seconds.", e2eBuckets),
		reqPrompt:     hist("request_prompt_tokens", "Number of prefill tokens processed, per request.", tokBuckets),
		reqGeneration: hist("request_generation_tokens", "Number of generation tokens processed, per request.", tokBuckets),
	}
	m.reg.MustRegister(m.ttft, m.itl, m.e2e, m.reqPrompt, m.reqGeneration,
		newEngineCollector(name, stats),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry to expose (on /metrics).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveTTFT records the time from a request's arrival to its first token.
func (m *Metrics) ObserveTTFT(d time.Duration) { m.ttft.Observe(d.Seconds()) }

// ObserveITL records the gap between consecutive output chunks of one
// sample, spread evenly over the tokens the later chunk carries.
func (m *Metrics) ObserveITL(gap time.Duration, tokens int) {
	if tokens <= 0 {
		return
	}
	per := gap.Seconds() / float64(tokens)
	for range tokens {
		m.itl.Observe(per)
	}
}

// ObserveRequest records one finished request: its end-to-end latency and
// its prompt and generated token counts.
func (m *Metrics) ObserveRequest(e2e time.Duration, promptTokens, generationTokens int) {
	m.e2e.Observe(e2e.Seconds())
	m.reqPrompt.Observe(float64(promptTokens))
	m.reqGeneration.Observe(float64(generationTokens))
}

// engineCollector reads engine.Stats at scrape time.
type engineCollector struct {
	stats func() engine.Stats

	running, waiting, kvUsage, kvBlocksTotal, kvBlocksUsed *prometheus.Desc
	promptTokens, generationTokens, preemptions            *prometheus.Desc
	prefixQueries, prefixHits, success                     *prometheus.Desc
}

func newEngineCollector(name string, stats func() engine.Stats) *engineCollector {
	labels := prometheus.Labels{"model_name": name}
	d := func(n, help string, varLabels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Prefix+n, help, varLabels, labels)
	}
	return &engineCollector{
		stats:            stats,
		running:          d("num_requests_running", "Number of requests in model execution batches."),
		waiting:          d("num_requests_waiting", "Number of requests waiting to be processed."),
		kvUsage:          d("kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."),
		kvBlocksTotal:    d("kv_cache_blocks_total", "Number of KV-cache blocks in the pool."),
		kvBlocksUsed:     d("kv_cache_blocks_used", "Number of KV-cache blocks held by sequences."),
		promptTokens:     d("prompt_tokens_total", "Number of prefill tokens processed."),
		generationTokens: d("generation_tokens_total", "Number of generation tokens processed."),
		preemptions:      d("num_preemptions_total", "Cumulative number of preemptions from the engine."),
		prefixQueries:    d("prefix_cache_queries_total", "Prefix-cache queries, in terms of number of queried tokens."),
		prefixHits:       d("prefix_cache_hits_total", "Prefix-cache hits, in terms of number of cached tokens."),
		success:          d("request_success_total", "Count of successfully processed requests.", "finished_reason"),
	}
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.running, c.waiting, c.kvUsage, c.kvBlocksTotal, c.kvBlocksUsed,
		c.promptTokens, c.generationTokens, c.preemptions, c.prefixQueries, c.prefixHits, c.success} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.running, float64(s.Running))
	gauge(c.waiting, float64(s.Waiting))
	gauge(c.kvUsage, s.KVUsage)
	gauge(c.kvBlocksTotal, float64(s.KVBlocksTotal))
	gauge(c.kvBlocksUsed, float64(s.KVBlocksUsed))
	counter(c.promptTokens, float64(s.PromptTokens))
	counter(c.generationTokens, float64(s.GenerationTokens))
	counter(c.preemptions, float64(s.Preemptions))
	counter(c.prefixQueries, float64(s.PrefixQueries))
	counter(c.prefixHits, float64(s.PrefixHits))
	// The usual reasons always appear, so rate() works from the first scrape.
	reasons := map[string]int64{engine.FinishStop: 0, engine.FinishLength: 0, engine.FinishAbort: 0}
	for r, n := range s.RequestsFinished {
		reasons[r] = n
	}
	keys := make([]string, 0, len(reasons))
	for r := range reasons {
		keys = append(keys, r)
	}
	sort.Strings(keys)
	for _, r := range keys {
		ch <- prometheus.MustNewConstMetric(c.success, prometheus.CounterValue, float64(reasons[r]), r)
	}
}
