package bench

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeResultFile saves a synthetic result whose latencies grow with rate.
func writeResultFile(t *testing.T, dir, label string, rate float64) string {
	t.Helper()
	r := &Result{Label: label, RequestRate: Rate(rate), Burstiness: 1, Completed: 10, Notes: []string{}}
	k := 1.0
	if !math.IsInf(rate, 1) {
		k = rate
	}
	if label == "llama-server" {
		k *= 1.4
	}
	r.OutputThroughput = 100 * k
	for i, st := range []*Stats{&r.TTFT, &r.TPOT, &r.ITL, &r.E2EL} {
		base := float64(10*(i+1)) * k
		*st = Stats{Mean: base, Median: base, Std: 1, Percentiles: []PercentileValue{{50, base}, {90, 1.5 * base}, {99, 2 * base}}}
	}
	name := filepath.Join(dir, strings.ReplaceAll(label, " ", "_")+"-"+rateText(rate)+".json")
	if err := r.WriteFile(name); err != nil {
		t.Fatal(err)
	}
	return name
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	if bd := img.Bounds(); bd.Dx() != 1152 || bd.Dy() != 768 {
		t.Errorf("PNG is %dx%d, want 1152x768", bd.Dx(), bd.Dy())
	}
	// Something was drawn: not a blank image.
	colors := map[uint32]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 7 {
		for x := 0; x < img.Bounds().Dx(); x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colors[r<<16^g<<8^b] = true
		}
	}
	if len(colors) < 4 {
		t.Errorf("PNG has only %d colours", len(colors))
	}
}

func TestPlotMainByRate(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, rate := range []float64{1, 2, 4, 8} {
		files = append(files, writeResultFile(t, dir, "pagoda", rate))
		files = append(files, writeResultFile(t, dir, "llama-server", rate))
	}
	out := filepath.Join(dir, "rates.png")
	var stdout, stderr bytes.Buffer
	args := append([]string{"--title", "pagoda vs llama-server"}, files[:3]...)
	args = append(args, "-o", out)
	args = append(args, files[3:]...)
	if code := PlotMain(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	checkPNG(t, out)
	if os.Getenv("BENCH_KEEP_PLOT") != "" {
		data, _ := os.ReadFile(out)
		os.WriteFile(os.Getenv("BENCH_KEEP_PLOT"), data, 0o644)
	}
}

// Runs at rate inf (or with repeated rates) are drawn as categories.
func TestPlotCategorical(t *testing.T) {
	dir := t.TempDir()
	a := writeResultFile(t, dir, "pagoda", math.Inf(1))
	b := writeResultFile(t, dir, "llama-server", math.Inf(1))
	// A vLLM-style file: no p50 keys, request_rate "inf", no label.
	vllm := filepath.Join(dir, "vllm-run.json")
	raw, _ := json.Marshal(map[string]any{"request_rate": "inf", "output_throughput": 321.0,
		"median_ttft_ms": 40.0, "p99_ttft_ms": 90.0, "median_tpot_ms": 9.0, "p99_tpot_ms": 12.0,
		"median_itl_ms": 8.0, "p99_itl_ms": 30.0})
	os.WriteFile(vllm, raw, 0o644)
	runs := []PlotRun{}
	for _, f := range []string{a, b, vllm} {
		r, err := LoadPlotRun(f)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	if runs[2].Name != "vllm-run" || !math.IsInf(runs[2].Rate, 1) {
		t.Errorf("vLLM file read as %+v", runs[2])
	}
	if v, ok := runs[2].latency("ttft", "50"); !ok || v != 40 {
		t.Errorf("p50 TTFT fallback to median: %v %v", v, ok)
	}
	out := filepath.Join(dir, "cat.png")
	if err := WritePlot(runs, "", out); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, out)
	if os.Getenv("BENCH_KEEP_PLOT_CAT") != "" {
		data, _ := os.ReadFile(out)
		os.WriteFile(os.Getenv("BENCH_KEEP_PLOT_CAT"), data, 0o644)
	}
}

func TestPlotMainErrors(t *testing.T) {
	dir := t.TempDir()
	notResult := filepath.Join(dir, "x.json")
	os.WriteFile(notResult, []byte(`{"hello": 1}`), 0o644)
	var o, e bytes.Buffer
	if PlotMain([]string{"-o", filepath.Join(dir, "a.png")}, &o, &e) != 2 {
		t.Error("no input files accepted")
	}
	if PlotMain([]string{notResult}, &o, &e) != 2 {
		t.Error("missing -o accepted")
	}
	if PlotMain([]string{notResult, "-o", filepath.Join(dir, "a.png")}, &o, &e) != 1 {
		t.Error("non-result file accepted")
	}
}
