// Package modelbench measures pagoda's in-process model speed the way
// llama.cpp's llama-bench does (pp: prompt processing of n tokens in one
// batch; tg: generating n tokens one at a time), and makes random-weight
// llama models of standard shapes to measure on.
package modelbench

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/pagoda-llm/pagoda/internal/cpuprof"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
)

// Result is one test, with llama-bench's -o json field names.
type Result struct {
	BuildCommit string    `json:"build_commit"`
	CPUInfo     string    `json:"cpu_info"`
	Backends    string    `json:"backends"`
	ModelFile   string    `json:"model_filename"`
	ModelType   string    `json:"model_type"`
	ModelSize   int64     `json:"model_size"`
	ModelParams int64     `json:"model_n_params"`
	NBatch      int       `json:"n_batch"`
	NUBatch     int       `json:"n_ubatch"`
	NThreads    int       `json:"n_threads"`
	TypeK       string    `json:"type_k"`
	TypeV       string    `json:"type_v"`
	NPrompt     int       `json:"n_prompt"`
	NGen        int       `json:"n_gen"`
	NDepth      int       `json:"n_depth"`
	TestTime    string    `json:"test_time"`
	AvgNs       int64     `json:"avg_ns"`
	StddevNs    int64     `json:"stddev_ns"`
	AvgTs       float64   `json:"avg_ts"`
	StddevTs    float64   `json:"stddev_ts"`
	SamplesNs   []int64   `json:"samples_ns"`
	SamplesTs   []float64 `json:"samples_ts"`
	CPULevel    string    `json:"pagoda_cpu_level"`
	// With -bw: the measured read bandwidth and the tg bound it gives,
	// bandwidth / bytes of weights (every weight is read once per token).
	BandwidthGBs float64 `json:"pagoda_bandwidth_gbs,omitempty"`
	TgBoundTs    float64 `json:"pagoda_tg_bound_ts,omitempty"`
}

// Test names the test as llama-bench prints it: pp512, tg128, or pp512+tg128.
func (r *Result) Test() string {
	switch {
	case r.NPrompt > 0 && r.NGen == 0:
		return fmt.Sprintf("pp%d", r.NPrompt)
	case r.NGen > 0 && r.NPrompt == 0:
		return fmt.Sprintf("tg%d", r.NGen)
	}
	return fmt.Sprintf("pp%d+tg%d", r.NPrompt, r.NGen)
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// ModelMain is `pagoda bench model`: llama-bench's pp and tg tests on a
// GGUF file, run in process. It returns the process exit code.
func ModelMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("m", "", "model file (GGUF, required)")
	pp := fs.String("p", "512", "prompt lengths to test, comma-separated (0: none)")
	tg := fs.String("n", "128", "generation lengths to test, comma-separated (0: none)")
	th := fs.String("t", strconv.Itoa(runtime.NumCPU()), "thread counts, comma-separated")
	reps := fs.Int("r", 5, "repetitions of each test")
	asJSON := fs.Bool("json", false, "print a JSON array (llama-bench -o json fields)")
	output := fs.String("o", "md", "output format: md or json (as llama-bench)")
	cpu := fs.String("cpu", "", "highest CPU level to use: generic, avx2, avx512, avx512vnni, neon (default: PAGODA_CPU or the best)")
	bw := fs.Bool("bw", false, "also measure the memory read bandwidth (2 GiB buffer) and print the tg bound it gives")
	profile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the timed runs to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagoda bench model -m FILE [-p 512] [-n 128] [-t 2] [-r 5] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *path == "" || fs.NArg() != 0 || *reps < 1 {
		fs.Usage()
		return 2
	}
	pps, err1 := intList(*pp)
	tgs, err2 := intList(*tg)
	ths, err3 := intList(*th)
	if err := errors.Join(err1, err2, err3); err != nil {
		fmt.Fprintln(stderr, "pagoda bench model:", err)
		return 2
	}
	if *cpu != "" {
		l, err := kernels.ParseLevel(*cpu)
		if err != nil {
			fmt.Fprintln(stderr, "pagoda bench model:", err)
			return 2
		}
		kernels.SetLevel(l)
	}
	jsonOut := *asJSON || *output == "json"

	f, err := loader.Open(*path)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda bench model:", err)
		return 1
	}
	defer f.Close()
	m, err := model.Load(f)
	if err != nil {
		fmt.Fprintf(stderr, "pagoda bench model: %s: %v\n", *path, err)
		return 1
	}
	base := Result{
		BuildCommit: "pagoda",
		CPUInfo:     cpuName(),
		Backends:    "CPU",
		ModelFile:   filepath.Base(*path),
		ModelType:   modelType(f, m),
		NBatch:      2048,
		NUBatch:     512,
		TypeK:       "f16",
		TypeV:       "f16",
		CPULevel:    kernels.CurrentLevel().String(),
	}
	for i := range f.Tensors {
		base.ModelSize += f.Tensors[i].Size
		base.ModelParams += f.Tensors[i].Elements()
	}
	var tests [][2]int
	for _, p := range pps {
		if p > 0 {
			tests = append(tests, [2]int{p, 0})
		}
	}
	for _, n := range tgs {
		if n > 0 {
			tests = append(tests, [2]int{0, n})
		}
	}
	stopProfile, err := cpuprof.Start(*profile)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda bench model:", err)
		return 1
	}
	defer stopProfile()
	var results []Result
	if !jsonOut {
		fmt.Fprintln(stdout, "| model | size | params | backend | threads | test | t/s |")
		fmt.Fprintln(stdout, "| ------------------------------ | ---------: | ---------: | ---------- | ------: | ------------: | -------------------: |")
	}
	for _, t := range ths {
		pool := kernels.NewPool(t)
		for _, test := range tests {
			r := base
			r.NThreads, r.NPrompt, r.NGen = pool.Threads(), test[0], test[1]
			if err := run(m, pool, &r, *reps); err != nil {
				pool.Close()
				fmt.Fprintf(stderr, "pagoda bench model: %s: %v\n", r.Test(), err)
				return 1
			}
			if *bw && r.NGen > 0 {
				r.BandwidthGBs = ReadBandwidth(2<<30, r.NThreads, 3) / 1e9
				r.TgBoundTs = r.BandwidthGBs * 1e9 / float64(r.ModelSize)
			}
			results = append(results, r)
			if !jsonOut {
				fmt.Fprintf(stdout, "| %-30s | %7.2f MiB | %10s | %-10s | %7d | %13s | %8.2f ± %.2f |\n",
					r.ModelType, float64(r.ModelSize)/(1<<20), paramsLabel(r.ModelParams), "pagoda-"+r.CPULevel,
					r.NThreads, r.Test(), r.AvgTs, r.StddevTs)
				if r.TgBoundTs > 0 {
					fmt.Fprintf(stdout, "|   read bandwidth %.1f GB/s with %d threads: tg bound %.1f t/s, %s at %.0f%% of it |\n",
						r.BandwidthGBs, r.NThreads, r.TgBoundTs, r.Test(), 100*r.AvgTs/r.TgBoundTs)
				}
			}
		}
		pool.Close()
	}
	if jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			fmt.Fprintln(stderr, "pagoda bench model:", err)
			return 1
		}
	}
	return 0
}

// run times one test reps times after one warm-up run, as llama-bench does:
// pp evaluates NPrompt random tokens in one batch from an empty cache; tg
// evaluates NGen tokens one at a time from an empty cache.
func run(m *model.Model, pool *kernels.Pool, r *Result, reps int) error {
	total := r.NPrompt + r.NGen
	s, err := engine.NewSession(m, pool, total, kernels.F16)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(42, uint64(total)))
	vocab := m.VocabSize()
	prompt := make([]int32, r.NPrompt)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(vocab))
	}
	once := func() error {
		s.Reset()
		if r.NPrompt > 0 {
			if _, err := s.Eval(prompt, false); err != nil {
				return err
			}
		}
		tok := []int32{int32(rng.IntN(vocab))}
		for i := 0; i < r.NGen; i++ {
			if _, err := s.Eval(tok, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := once(); err != nil { // warm-up
		return err
	}
	r.TestTime = time.Now().UTC().Format(time.RFC3339)
	for i := 0; i < reps; i++ {
		t0 := time.Now()
		if err := once(); err != nil {
			return err
		}
		ns := time.Since(t0).Nanoseconds()
		r.SamplesNs = append(r.SamplesNs, ns)
		r.SamplesTs = append(r.SamplesTs, float64(total)*1e9/float64(ns))
	}
	var sn, st float64
	for i := range r.SamplesNs {
		sn += float64(r.SamplesNs[i])
		st += r.SamplesTs[i]
	}
	n := float64(reps)
	r.AvgNs, r.AvgTs = int64(sn/n), st/n
	if reps > 1 {
		var vn, vt float64
		for i := range r.SamplesNs {
			vn += math.Pow(float64(r.SamplesNs[i])-sn/n, 2)
			vt += math.Pow(r.SamplesTs[i]-st/n, 2)
		}
		r.StddevNs, r.StddevTs = int64(math.Sqrt(vn/(n-1))), math.Sqrt(vt/(n-1))
	}
	return nil
}

var ftypeNames = map[uint64]string{
	0: "all F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K - Medium",
	11: "Q3_K - Small", 12: "Q3_K - Medium", 13: "Q3_K - Large", 14: "Q4_K - Small", 15: "Q4_K - Medium",
	16: "Q5_K - Small", 17: "Q5_K - Medium", 18: "Q6_K", 25: "IQ4_NL - 4.5 bpw", 30: "IQ4_XS - 4.25 bpw", 32: "BF16",
}

// modelType is llama-bench's model_type: architecture, size, file type.
func modelType(f *loader.File, m *model.Model) string {
	ft := "?"
	if v, ok := f.Get("general.file_type"); ok {
		if u, ok := v.Uint(); ok {
			if name, ok := ftypeNames[u]; ok {
				ft = name
			}
		}
	}
	size := ""
	if v, ok := f.Get("general.size_label"); ok {
		size, _ = v.Str()
	}
	return strings.Join(strings.Fields(fmt.Sprintf("%s %s %s", m.Config.Arch, size, ft)), " ")
}

func paramsLabel(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f K", float64(n)/1e3)
}
