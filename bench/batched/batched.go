// Package batched is `pagoda bench batched`, the counterpart of llama.cpp's
// llama-batched-bench: for each number of parallel sequences B it prefills B
// prompts of PP tokens, then decodes TG tokens for every sequence one step at
// a time, and reports prompt and generation throughput.
package batched

import (
	"encoding/json"
	"flag"
	"fmt"
	"github.com/pagoda-llm/pagoda/internal/cpuprof"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/model/bundled"
	"github.com/pagoda-llm/pagoda/pagedkv"
)

// Result is one row of the table; the JSON names are llama-batched-bench's.
type Result struct {
	PP       int     `json:"pp"`
	TG       int     `json:"tg"`
	PL       int     `json:"pl"`
	NKV      int     `json:"n_kv"`
	TPP      float64 `json:"t_pp"`
	SpeedPP  float64 `json:"speed_pp"`
	TTG      float64 `json:"t_tg"`
	SpeedTG  float64 `json:"speed_tg"`
	T        float64 `json:"t"`
	Speed    float64 `json:"speed"`
	NThreads int     `json:"n_threads"`
	NBatch   int     `json:"n_batch"`
}

// Config is one benchmark run.
type Config struct {
	NPP, NTG  int
	NPL       []int
	Threads   int
	BatchSize int // most tokens per forward pass while prefilling (llama's -b)
	BlockSize int
	KVType    kernels.Type
}

// Run measures every B in cfg.NPL on m, calling report after each row.
func Run(m *model.Model, cfg Config, report func(Result)) error {
	c := m.Config
	maxPL := 0
	for _, pl := range cfg.NPL {
		maxPL = max(maxPL, pl)
	}
	perSeq := (cfg.NPP + cfg.NTG + cfg.BlockSize - 1) / cfg.BlockSize
	kv, err := pagedkv.NewStorage(cfg.KVType, maxPL*perSeq, cfg.BlockSize, c.BlockCount, c.HeadCountKV, c.HeadDim)
	if err != nil {
		return err
	}
	pool := kernels.NewPool(cfg.Threads)
	defer pool.Close()
	r, err := model.NewRunner(m, kv, pool)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, pl := range cfg.NPL {
		tables := make([][]int32, pl)
		for s := range tables {
			for b := range perSeq {
				tables[s] = append(tables[s], int32(s*perSeq+b))
			}
		}
		// Prefill: all sequences' prompts, cfg.BatchSize tokens per pass,
		// logits only for each prompt's last token (as llama does).
		var passes []*model.Batch
		cur := &model.Batch{}
		for s := range pl {
			for pos := 0; pos < cfg.NPP; {
				if len(cur.Tokens) == cfg.BatchSize {
					passes = append(passes, cur)
					cur = &model.Batch{}
				}
				n := min(cfg.NPP-pos, cfg.BatchSize-len(cur.Tokens))
				start := len(cur.Tokens)
				for k := range n {
					cur.Tokens = append(cur.Tokens, int32(rng.IntN(m.VocabSize())))
					cur.Positions = append(cur.Positions, int32(pos+k))
					cur.Slots = append(cur.Slots, int32(pagedkv.SlotOf(tables[s], cfg.BlockSize, pos+k)))
				}
				cur.Seqs = append(cur.Seqs, model.Seq{Start: start, End: start + n, BlockTable: tables[s]})
				pos += n
				if pos == cfg.NPP {
					cur.Logits = append(cur.Logits, len(cur.Tokens)-1)
				}
			}
		}
		if len(cur.Tokens) > 0 {
			passes = append(passes, cur)
		}
		t0 := time.Now()
		for _, b := range passes {
			if _, err := r.Forward(b); err != nil {
				return err
			}
		}
		tPP := time.Since(t0).Seconds()
		// Generation: one token per sequence per step, logits for each.
		t1 := time.Now()
		for step := range cfg.NTG {
			b := &model.Batch{}
			for s := range pl {
				pos := cfg.NPP + step
				b.Tokens = append(b.Tokens, int32(rng.IntN(m.VocabSize())))
				b.Positions = append(b.Positions, int32(pos))
				b.Slots = append(b.Slots, int32(pagedkv.SlotOf(tables[s], cfg.BlockSize, pos)))
				b.Seqs = append(b.Seqs, model.Seq{Start: s, End: s + 1, BlockTable: tables[s]})
				b.Logits = append(b.Logits, s)
			}
			if _, err := r.Forward(b); err != nil {
				return err
			}
		}
		tTG := time.Since(t1).Seconds()
		nkv := pl * (cfg.NPP + cfg.NTG)
		res := Result{PP: cfg.NPP, TG: cfg.NTG, PL: pl, NKV: nkv, TPP: tPP, TTG: tTG, T: tPP + tTG,
			NThreads: pool.Threads(), NBatch: cfg.BatchSize}
		res.SpeedPP = float64(pl*cfg.NPP) / max(tPP, 1e-9)
		res.SpeedTG = float64(pl*cfg.NTG) / max(tTG, 1e-9)
		res.Speed = float64(nkv) / max(res.T, 1e-9)
		report(res)
	}
	return nil
}

// Main implements `pagoda bench batched`.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pagoda bench batched", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("m", "", "GGUF model (default: the bundled stories260K)")
	npp := fs.Int("npp", 128, "prompt tokens per sequence")
	ntg := fs.Int("ntg", 128, "generated tokens per sequence")
	npl := fs.String("npl", "1,2,4,8,16,32", "numbers of parallel sequences, comma-separated")
	threads := fs.Int("t", runtime.NumCPU(), "threads")
	batch := fs.Int("b", 2048, "most tokens per forward pass while prefilling")
	kvName := fs.String("kv-cache-type", "f16", "KV cache type: f16, f32, q8_0")
	asJSON := fs.Bool("json", false, "print one JSON object per line (llama-batched-bench's jsonl fields)")
	profile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := Config{NPP: *npp, NTG: *ntg, Threads: *threads, BatchSize: *batch, BlockSize: 16}
	for _, s := range strings.Split(*npl, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 {
			fmt.Fprintf(stderr, "pagoda bench batched: -npl %q: want positive integers\n", *npl)
			return 2
		}
		cfg.NPL = append(cfg.NPL, v)
	}
	if cfg.NPP < 1 || cfg.NTG < 0 || cfg.BatchSize < 1 {
		fmt.Fprintln(stderr, "pagoda bench batched: -npp and -b must be positive, -ntg non-negative")
		return 2
	}
	switch strings.ToLower(*kvName) {
	case "f16":
		cfg.KVType = kernels.F16
	case "f32":
		cfg.KVType = kernels.F32
	case "q8_0":
		cfg.KVType = kernels.Q8_0
	default:
		fmt.Fprintf(stderr, "pagoda bench batched: unknown KV cache type %q\n", *kvName)
		return 2
	}
	var f *loader.File
	var err error
	if *path == "" {
		f, err = loader.Parse(bundled.Stories260K)
	} else {
		f, err = loader.Open(*path)
	}
	if err != nil {
		fmt.Fprintln(stderr, "pagoda bench batched:", err)
		return 1
	}
	defer f.Close()
	m, err := model.Load(f)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda bench batched:", err)
		return 1
	}
	if cfg.NPP+cfg.NTG > m.Config.ContextLength {
		fmt.Fprintf(stderr, "pagoda bench batched: -npp + -ntg = %d exceeds the model's context length %d\n", cfg.NPP+cfg.NTG, m.Config.ContextLength)
		return 2
	}
	stopProfile, err := cpuprof.Start(*profile)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda bench batched:", err)
		return 1
	}
	defer stopProfile()
	if !*asJSON {
		fmt.Fprintf(stdout, "main: n_kv_max = %d, n_batch = %d, n_threads = %d, kv type = %s, kernels = %s\n\n",
			maxOf(cfg.NPL)*(cfg.NPP+cfg.NTG), cfg.BatchSize, cfg.Threads, cfg.KVType, kernels.CurrentLevel())
		fmt.Fprintln(stdout, "|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |")
		fmt.Fprintln(stdout, "|-------|--------|------|--------|----------|----------|----------|----------|----------|----------|")
	}
	err = Run(m, cfg, func(r Result) {
		if *asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(b))
			return
		}
		fmt.Fprintf(stdout, "| %5d | %6d | %4d | %6d | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f |\n",
			r.PP, r.TG, r.PL, r.NKV, r.TPP, r.SpeedPP, r.TTG, r.SpeedTG, r.T, r.Speed)
	})
	if err != nil {
		fmt.Fprintln(stderr, "pagoda bench batched:", err)
		return 1
	}
	return 0
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
