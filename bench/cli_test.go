package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalizeServeArgs(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"--dataset", "sharegpt", "f.json", "--num-prompts", "5"},
			[]string{"--dataset=sharegpt", "--dataset-path=f.json", "--num-prompts", "5"}},
		{[]string{"-dataset=jsonl", "p.jsonl"}, []string{"--dataset=jsonl", "--dataset-path=p.jsonl"}},
		{[]string{"--dataset", "random", "--seed", "1"}, []string{"--dataset=random", "--seed", "1"}},
		{[]string{"--goodput", "ttft:500", "tpot:50", "e2el:9000", "--seed", "2"},
			[]string{"--goodput=ttft:500,tpot:50,e2el:9000", "--seed", "2"}},
		{[]string{"--goodput=ttft:1", "tpot:2"}, []string{"--goodput=ttft:1,tpot:2"}},
	} {
		if got := normalizeServeArgs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("normalizeServeArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestServeMainEndToEnd(t *testing.T) {
	fs := newFakeServer(t, func(string) scenario {
		return scenario{ttft: 5 * time.Millisecond, itl: 2 * time.Millisecond, tokens: 4}
	})
	out := filepath.Join(t.TempDir(), "res.json")
	var stdout, stderr bytes.Buffer
	code := ServeMain([]string{
		"--base-url", fs.URL, "--model", "fake-model", "--endpoint", "/v1/chat/completions",
		"--dataset", "jsonl", "testdata/prompts.jsonl", "--num-prompts", "6",
		"--request-rate", "100", "--burstiness", "0.5", "--max-concurrency", "2", "--seed", "9",
		"--goodput", "ttft:5000", "tpot:5000", "--percentiles", "50,99.9",
		"--save-result", out, "-label", "fake", "--max-duration", "60", "--ignore-eos",
	}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	table := stdout.String()
	t.Logf("table:\n%s", table)
	for _, want := range []string{"Serving Benchmark Result", "Successful requests:", "Request goodput (req/s):",
		"P99.9 TTFT (ms):", "Mean TPOT (ms):", "Median ITL (ms):", "Std E2EL (ms):", "Peak concurrent requests:",
		"Request rate configured (RPS):", "Maximum request concurrency:"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// Progress goes to stderr as plain lines when it is not a terminal.
	if !strings.Contains(stderr.String(), "6/6 requests done") {
		t.Errorf("no progress lines on stderr:\n%s", stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["completed"] != 6.0 || m["request_goodput"] == nil || m["backend"] != "openai-chat" ||
		m["label"] != "fake" || m["max_concurrency"] != 2.0 || m["dataset_name"] != "jsonl" {
		t.Errorf("saved result: completed %v goodput %v backend %v label %v", m["completed"], m["request_goodput"], m["backend"], m["label"])
	}
	if _, ok := m["p99.9_itl_ms"]; !ok {
		t.Error("saved result lacks p99.9_itl_ms")
	}
	if fs.peak() > 2 {
		t.Errorf("server saw %d concurrent requests with --max-concurrency 2", fs.peak())
	}
	// The plot reads what serve wrote.
	png := filepath.Join(t.TempDir(), "p.png")
	if code := PlotMain([]string{out, "-o", png}, &stdout, &stderr); code != 0 {
		t.Fatalf("plot exit %d: %s", code, stderr.String())
	}
	checkPNG(t, png)
}

func TestServeMainBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"--request-rate", "fast"},
		{"--request-rate", "0"},
		{"--goodput", "latency:5"},
		{"--goodput", "ttft:x"},
		{"--percentiles", "50,200"},
		{"--max-duration", "soon"},
		{"--max-duration", "-5"},
		{"--no-such-flag"},
		{"extra"},
	} {
		var o, e bytes.Buffer
		if code := ServeMain(args, &o, &e); code != 2 {
			t.Errorf("ServeMain(%q) = %d, want 2", args, code)
		}
	}
	// A server that is not there: the run cannot start.
	var o, e bytes.Buffer
	if code := ServeMain([]string{"--base-url", "http://127.0.0.1:1", "--model", "m", "--num-prompts", "1",
		"--tokenizer", "approx", "--random-input-len", "4", "--max-duration", "5s", "--disable-progress"}, &o, &e); code != 1 {
		t.Errorf("unreachable server: exit %d, want 1\n%s", code, e.String())
	}
}

// The terminal bar and the plain lines both survive a full and a cut run.
func TestProgressOutputs(t *testing.T) {
	for _, bar := range []bool{true, false} {
		var buf bytes.Buffer
		p := newProgress(&buf, bar, 4)
		p.done(true)
		p.done(false)
		p.finish()
		if buf.Len() == 0 {
			t.Errorf("bar=%v: no progress output", bar)
		}
		if !bar && !strings.Contains(buf.String(), "stopped with 2/4 requests done (1 failed)") {
			t.Errorf("plain progress: %q", buf.String())
		}
	}
	newProgress(nil, true, 3).done(true) // no writer: silent, no panic
}
