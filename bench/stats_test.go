package bench

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Values worked by hand with numpy's linear method: rank p/100*(n-1).
func TestPercentileMatchesNumpyLinear(t *testing.T) {
	xs := []float64{10, 1, 4, 3, 2} // unsorted on purpose
	for _, c := range []struct{ p, want float64 }{
		{0, 1}, {25, 2}, {50, 3}, {90, 7.6}, {99, 9.76}, {100, 10},
	} {
		if got := Percentile(xs, c.p); !near(got, c.want, 1e-12) {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := Percentile([]float64{1, 2, 3, 4}, 50); got != 2.5 {
		t.Errorf("even median = %v, want 2.5", got)
	}
	if Percentile(nil, 99) != 0 {
		t.Error("empty percentile should be 0 like vLLM")
	}
	if got := stddev([]float64{1, 2, 3, 4, 10}); !near(got, math.Sqrt(10), 1e-12) {
		t.Errorf("population std = %v, want sqrt(10)", got)
	}
}

// computeResult's arithmetic on outputs whose numbers are known exactly.
func TestComputeResultArithmetic(t *testing.T) {
	outs := []RequestOutput{
		{Success: true, PromptLen: 10, OutputTokens: 5, OutputFromUsage: true,
			StartTime: 0, TTFT: 0.100, ITL: []float64{0.02, 0.02, 0.03, 0.03}, Latency: 0.200},
		{Success: true, PromptLen: 20, OutputTokens: 3, OutputFromUsage: true,
			StartTime: 0.5, TTFT: 0.300, ITL: []float64{0.05, 0.05}, Latency: 0.400},
		{Success: true, PromptLen: 7, OutputTokens: 1, OutputFromUsage: true,
			StartTime: 1.2, TTFT: 0.050, Latency: 0.050},
		// Failed requests must not enter any statistic or token total.
		{Success: false, Error: "HTTP 500", PromptLen: 99, TTFT: 0.001, ITL: []float64{0.001}, Latency: 0.002},
	}
	slo := map[string]float64{"ttft": 200, "tpot": 40}
	var r Result
	computeResult(&r, outs, 2.0, []float64{50, 90, 99}, slo)

	if r.Completed != 3 || r.Failed != 1 {
		t.Fatalf("completed/failed = %d/%d, want 3/1", r.Completed, r.Failed)
	}
	if r.TotalInputTokens != 37 || r.TotalOutputTokens != 9 {
		t.Errorf("tokens in/out = %d/%d, want 37/9", r.TotalInputTokens, r.TotalOutputTokens)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"request_throughput", r.RequestThroughput, 1.5},
		{"output_throughput", r.OutputThroughput, 4.5},
		{"total_token_throughput", r.TotalTokenThroughput, 23},
		// TTFT ms: 100, 300, 50.
		{"mean_ttft", r.TTFT.Mean, 150},
		{"median_ttft", r.TTFT.Median, 100},
		{"std_ttft", r.TTFT.Std, math.Sqrt((50*50 + 150*150 + 100*100) / 3.0)},
		{"p90_ttft", r.TTFT.Percentiles[1].Value, 100 + 0.8*200},
		// TPOT: (200-100)/4 = 25 ms, (400-300)/2 = 50 ms; the 1-token
		// request has none.
		{"mean_tpot", r.TPOT.Mean, 37.5},
		{"p99_tpot", r.TPOT.Percentiles[2].Value, 25 + 0.99*25},
		// ITL ms: 20 20 30 30 50 50.
		{"mean_itl", r.ITL.Mean, 200.0 / 6},
		{"median_itl", r.ITL.Median, 30},
		// E2EL ms: 200 400 50.
		{"mean_e2el", r.E2EL.Mean, 650.0 / 3},
		{"median_e2el", r.E2EL.Median, 200},
	}
	for _, c := range checks {
		if !near(c.got, c.want, 1e-9) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Goodput: request 1 meets ttft<=200 and tpot<=40; request 2 misses
	// ttft; request 3 meets both (its TPOT counts as 0). 2 good / 2 s.
	if r.RequestGoodput == nil || *r.RequestGoodput != 1.0 {
		t.Errorf("request_goodput = %v, want 1", r.RequestGoodput)
	}
	if r.OutputLens[3] != 0 || r.Errors[3] != "HTTP 500" || r.InputLens[3] != 99 {
		t.Errorf("failed request arrays: out %d err %q in %d", r.OutputLens[3], r.Errors[3], r.InputLens[3])
	}
	// Token times by second: req0 at 0.10,0.12,0.14,0.17,0.20; req1 at
	// 0.8,0.85,0.9; req2 at 1.25 -> 8 in second 0, 1 in second 1.
	if r.MaxOutputTokensPerS != 8 {
		t.Errorf("max_output_tokens_per_s = %v, want 8", r.MaxOutputTokensPerS)
	}
	if r.OutputTokensSource != "usage" {
		t.Errorf("output_tokens_source = %q", r.OutputTokensSource)
	}

	// Without SLOs goodput is null, as in vLLM.
	computeResult(&r, outs, 2.0, []float64{99}, nil)
	if r.RequestGoodput != nil {
		t.Error("request_goodput should be nil without SLOs")
	}
	outs[0].OutputFromUsage = false
	computeResult(&r, outs, 2.0, []float64{99}, nil)
	if r.OutputTokensSource != "mixed" {
		t.Errorf("output_tokens_source = %q, want mixed", r.OutputTokensSource)
	}
}

func TestComputeResultAllFailed(t *testing.T) {
	var r Result
	computeResult(&r, []RequestOutput{{Error: "x"}}, 1, []float64{50}, map[string]float64{"e2el": 1})
	if r.Completed != 0 || r.Failed != 1 || r.TTFT.Mean != 0 || *r.RequestGoodput != 0 {
		t.Errorf("all-failed result: %+v", r)
	}
	if _, err := r.MarshalJSON(); err != nil {
		t.Errorf("marshal: %v", err)
	}
}
