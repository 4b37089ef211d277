package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Result is a run's report. Its JSON uses `vllm bench serve`'s field names;
// the per-metric statistics are written as flat keys (mean_ttft_ms,
// p99_itl_ms, ...) like vLLM's.
type Result struct {
	// Setup.
	Date           string   `json:"date"` // vLLM's format, 20060102-150405
	Backend        string   `json:"backend"`
	EndpointType   string   `json:"endpoint_type"`
	Label          string   `json:"label"`
	ModelID        string   `json:"model_id"`
	TokenizerID    string   `json:"tokenizer_id"`
	NumPrompts     int      `json:"num_prompts"`
	RequestRate    Rate     `json:"request_rate"`
	Burstiness     Rate     `json:"burstiness"`
	MaxConcurrency *int     `json:"max_concurrency"`
	BaseURL        string   `json:"base_url"`
	Endpoint       string   `json:"endpoint"`
	DatasetName    string   `json:"dataset_name"`
	Seed           int64    `json:"seed"`
	MaxDurationS   float64  `json:"max_duration_s"`
	GoodputSLOms   GoodSLO  `json:"goodput_slo_ms"`
	Notes          []string `json:"notes"`

	// Totals.
	Duration              float64  `json:"duration"`
	Completed             int      `json:"completed"`
	Failed                int      `json:"failed"`
	NotSent               int      `json:"not_sent"` // never sent because the run hit --max-duration
	TotalInputTokens      int      `json:"total_input_tokens"`
	TotalOutputTokens     int      `json:"total_output_tokens"`
	RequestThroughput     float64  `json:"request_throughput"`
	RequestGoodput        *float64 `json:"request_goodput"` // null without SLOs, as in vLLM
	OutputThroughput      float64  `json:"output_throughput"`
	TotalTokenThroughput  float64  `json:"total_token_throughput"`
	MaxOutputTokensPerS   float64  `json:"max_output_tokens_per_s"`
	MaxConcurrentRequests int      `json:"max_concurrent_requests"` // peak requests in flight
	// OutputTokensSource is "usage" when every completed request's count
	// came from the server's usage field, "content_chunks" when none did
	// (one chunk counted as one token), "mixed" otherwise.
	OutputTokensSource string `json:"output_tokens_source"`

	TTFT Stats `json:"-"`
	TPOT Stats `json:"-"`
	ITL  Stats `json:"-"`
	E2EL Stats `json:"-"`

	// Per request, in send order; times in seconds. Failed requests have
	// output length 0 and their error text.
	InputLens  []int       `json:"input_lens"`
	OutputLens []int       `json:"output_lens"`
	TTFTs      []float64   `json:"ttfts"`
	ITLs       [][]float64 `json:"itls"`
	Latencies  []float64   `json:"latencies"`
	StartTimes []float64   `json:"start_times"`
	Errors     []string    `json:"errors"`
}

// Rate is a float that is written as "inf" when infinite, as vLLM does.
type Rate float64

// MarshalJSON writes "inf" for +Inf (JSON has no infinity).
func (r Rate) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(r), 1) {
		return []byte(`"inf"`), nil
	}
	return json.Marshal(float64(r))
}

// UnmarshalJSON reads a number or "inf".
func (r *Rate) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if strings.EqualFold(s, "inf") {
			*r = Rate(math.Inf(1))
			return nil
		}
		return fmt.Errorf("bench: rate %q", s)
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*r = Rate(f)
	return nil
}

// GoodSLO holds the goodput SLOs; null when none were given.
type GoodSLO map[string]float64

// metricNames are the latency metrics in report order.
var metricNames = []struct{ key, short, header string }{
	{"ttft", "TTFT", "Time to First Token"},
	{"tpot", "TPOT", "Time per Output Token (excl. 1st token)"},
	{"itl", "ITL", "Inter-token Latency"},
	{"e2el", "E2EL", "End-to-end Latency"},
}

func (r *Result) stats(key string) *Stats {
	switch key {
	case "ttft":
		return &r.TTFT
	case "tpot":
		return &r.TPOT
	case "itl":
		return &r.ITL
	}
	return &r.E2EL
}

// MarshalJSON adds the flat per-metric keys to the struct's fields.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	b, err := json.Marshal((*plain)(r))
	if err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	put := func(k string, v float64) error {
		raw, err := json.Marshal(v)
		m[k] = raw
		return err
	}
	for _, mn := range metricNames {
		st := r.stats(mn.key)
		if err := put("mean_"+mn.key+"_ms", st.Mean); err != nil {
			return nil, err
		}
		if err := put("median_"+mn.key+"_ms", st.Median); err != nil {
			return nil, err
		}
		if err := put("std_"+mn.key+"_ms", st.Std); err != nil {
			return nil, err
		}
		for _, p := range st.Percentiles {
			if err := put("p"+percentileWord(p.P)+"_"+mn.key+"_ms", p.Value); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(m)
}

// WriteFile saves the result as JSON.
func (r *Result) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: encoding result: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: writing result: %w", err)
	}
	return nil
}

// computeResult fills the totals and statistics of r from the outputs of
// the sent requests, following vLLM's calculate_metrics: only completed
// requests enter the latency statistics; TPOT is (E2EL-TTFT)/(n-1) for
// requests with n > 1 output tokens; a request is good when it meets every
// SLO given (TPOT counts as 0 for single-token outputs).
func computeResult(r *Result, outs []RequestOutput, dur float64, ps []float64, slo map[string]float64) {
	var ttfts, tpots, allTpots, itls, e2els []float64
	fromUsage := 0
	r.Completed, r.Failed, r.TotalInputTokens, r.TotalOutputTokens = 0, 0, 0, 0
	r.InputLens = make([]int, len(outs))
	r.OutputLens = make([]int, len(outs))
	r.TTFTs = make([]float64, len(outs))
	r.ITLs = make([][]float64, len(outs))
	r.Latencies = make([]float64, len(outs))
	r.StartTimes = make([]float64, len(outs))
	r.Errors = make([]string, len(outs))
	good := 0
	for i, o := range outs {
		r.InputLens[i] = o.PromptLen
		r.TTFTs[i] = o.TTFT
		r.ITLs[i] = o.ITL
		if r.ITLs[i] == nil {
			r.ITLs[i] = []float64{}
		}
		r.Latencies[i] = o.Latency
		r.StartTimes[i] = o.StartTime
		r.Errors[i] = o.Error
		if !o.Success {
			r.Failed++
			continue
		}
		r.Completed++
		if o.OutputFromUsage {
			fromUsage++
		}
		r.OutputLens[i] = o.OutputTokens
		r.TotalInputTokens += o.PromptLen
		r.TotalOutputTokens += o.OutputTokens
		tpot := 0.0
		if o.OutputTokens > 1 {
			tpot = (o.Latency - o.TTFT) / float64(o.OutputTokens-1)
			tpots = append(tpots, tpot)
		}
		allTpots = append(allTpots, tpot)
		ttfts = append(ttfts, o.TTFT)
		itls = append(itls, o.ITL...)
		e2els = append(e2els, o.Latency)
		if meetsSLO(slo, o.TTFT, tpot, o.Latency) {
			good++
		}
	}
	r.Duration = dur
	per := func(x float64) float64 {
		if dur <= 0 {
			return 0
		}
		return x / dur
	}
	r.RequestThroughput = per(float64(r.Completed))
	r.OutputThroughput = per(float64(r.TotalOutputTokens))
	r.TotalTokenThroughput = per(float64(r.TotalInputTokens + r.TotalOutputTokens))
	r.RequestGoodput = nil
	if len(slo) > 0 {
		g := per(float64(good))
		r.RequestGoodput = &g
	}
	switch {
	case r.Completed == 0 || fromUsage == r.Completed:
		r.OutputTokensSource = "usage"
	case fromUsage == 0:
		r.OutputTokensSource = "content_chunks"
	default:
		r.OutputTokensSource = "mixed"
	}
	r.TTFT = summarize(ttfts, ps)
	r.TPOT = summarize(tpots, ps)
	r.ITL = summarize(itls, ps)
	r.E2EL = summarize(e2els, ps)
	r.MaxOutputTokensPerS = peakTokensPerSecond(outs)
}

func meetsSLO(slo map[string]float64, ttft, tpot, e2el float64) bool {
	if len(slo) == 0 {
		return false
	}
	for k, ms := range slo {
		v := map[string]float64{"ttft": ttft, "tpot": tpot, "e2el": e2el}[k]
		if v*1000 > ms {
			return false
		}
	}
	return true
}

// peakTokensPerSecond buckets content chunks of completed requests into
// whole seconds of the run and returns the fullest bucket (vLLM's
// max_output_tokens_per_s; one chunk counts as one token).
func peakTokensPerSecond(outs []RequestOutput) float64 {
	buckets := map[int]int{}
	for _, o := range outs {
		if !o.Success {
			continue
		}
		t := o.StartTime + o.TTFT
		buckets[int(t)]++
		for _, g := range o.ITL {
			t += g
			buckets[int(t)]++
		}
	}
	peak := 0
	for _, n := range buckets {
		peak = max(peak, n)
	}
	return float64(peak)
}

// PrintTable writes the summary in vLLM's layout.
func (r *Result) PrintTable(w io.Writer) {
	line := func(label string, v any) {
		switch x := v.(type) {
		case float64:
			fmt.Fprintf(w, "%-40s %-10.2f\n", label, x)
		default:
			fmt.Fprintf(w, "%-40s %-10v\n", label, x)
		}
	}
	center := func(s string, fill byte) {
		s = " " + s + " "
		if strings.TrimSpace(s) == "" {
			s = ""
		}
		left := max((50-len(s))/2, 0)
		right := max(50-len(s)-left, 0)
		fmt.Fprintf(w, "%s%s%s\n", strings.Repeat(string(fill), left), s, strings.Repeat(string(fill), right))
	}
	center("Serving Benchmark Result", '=')
	line("Successful requests:", r.Completed)
	line("Failed requests:", r.Failed)
	if r.NotSent > 0 {
		line("Not sent (max duration reached):", r.NotSent)
	}
	if r.MaxConcurrency != nil {
		line("Maximum request concurrency:", *r.MaxConcurrency)
	}
	if !math.IsInf(float64(r.RequestRate), 1) {
		line("Request rate configured (RPS):", float64(r.RequestRate))
	}
	line("Benchmark duration (s):", r.Duration)
	line("Total input tokens:", r.TotalInputTokens)
	line("Total generated tokens:", r.TotalOutputTokens)
	line("Request throughput (req/s):", r.RequestThroughput)
	if r.RequestGoodput != nil {
		line("Request goodput (req/s):", *r.RequestGoodput)
	}
	line("Output token throughput (tok/s):", r.OutputThroughput)
	line("Peak output token throughput (tok/s):", r.MaxOutputTokensPerS)
	line("Peak concurrent requests:", r.MaxConcurrentRequests)
	line("Total token throughput (tok/s):", r.TotalTokenThroughput)
	for _, mn := range metricNames {
		st := r.stats(mn.key)
		center(mn.header, '-')
		line("Mean "+mn.short+" (ms):", st.Mean)
		line("Median "+mn.short+" (ms):", st.Median)
		line("Std "+mn.short+" (ms):", st.Std)
		for _, p := range st.Percentiles {
			line("P"+percentileWord(p.P)+" "+mn.short+" (ms):", p.Value)
		}
	}
	fmt.Fprintln(w, strings.Repeat("=", 50))
	if r.OutputTokensSource != "usage" {
		fmt.Fprintf(w, "note: output tokens counted from content chunks (%s): the server sent no usage\n", r.OutputTokensSource)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if r.Failed > 0 {
		shown := 0
		for i, e := range r.Errors {
			if e == "" {
				continue
			}
			if shown == 10 {
				fmt.Fprintf(w, "(further errors in the result file)\n")
				break
			}
			fmt.Fprintf(w, "error (request %d): %s\n", i, e)
			shown++
		}
	}
}
