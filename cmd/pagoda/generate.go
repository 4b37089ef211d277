package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/model/bundled"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// openModel opens path, or the bundled model when path is empty.
func openModel(path string) (*loader.File, string, error) {
	if path == "" {
		f, err := loader.Parse(bundled.Stories260K)
		return f, bundled.Name + " (bundled)", err
	}
	f, err := loader.Open(path)
	return f, path, err
}

// loaded is a model ready to run: file, weights and tokenizer.
type loaded struct {
	file  *loader.File
	name  string
	model *model.Model
	tok   *tokenizer.Tokenizer
}

func loadModel(path string) (*loaded, error) {
	f, name, err := openModel(path)
	if err != nil {
		return nil, err
	}
	m, err := model.Load(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &loaded{file: f, name: name, model: m, tok: tok}, nil
}

func parseKVType(s string) (kernels.Type, error) {
	switch s {
	case "f16", "F16":
		return kernels.F16, nil
	case "f32", "F32":
		return kernels.F32, nil
	case "q8_0", "Q8_0":
		return kernels.Q8_0, nil
	}
	return 0, fmt.Errorf("unknown KV cache type %q (f16, f32, q8_0)", s)
}

func runGenerate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("generate", stderr)
	modelPath := fs.String("m", "", "GGUF model file (default: the bundled stories260K)")
	prompt := fs.String("p", "", "prompt text")
	n := fs.Int("n", 128, "number of tokens to generate")
	temp := fs.Float64("temp", 0.8, "temperature (0: greedy)")
	topK := fs.Int("top-k", 40, "top-k sampling (0: off)")
	topP := fs.Float64("top-p", 0.95, "top-p sampling (1: off)")
	minP := fs.Float64("min-p", 0.05, "min-p sampling (0: off)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	threads := fs.Int("t", defaultThreads(), "threads")
	kvTypeName := fs.String("kv-cache-type", "f16", "KV cache element type: f16, f32, q8_0")
	asJSON := fs.Bool("json", false, `print {"prompt_ids", "ids", "text"} instead of the text`)
	ignoreEOS := fs.Bool("ignore-eos", false, "keep generating after an end-of-generation token")
	if _, err := parseFlags(fs, args); err != nil {
		return 2
	}
	if *n < 0 {
		fmt.Fprintln(stderr, "pagoda generate: -n must be non-negative")
		return 2
	}
	kvType, err := parseKVType(*kvTypeName)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda generate:", err)
		return 2
	}
	start := time.Now()
	lm, err := loadModel(*modelPath)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda generate:", err)
		return 1
	}
	defer lm.file.Close()
	ids := lm.tok.Encode(*prompt, true, true)
	if len(ids) == 0 {
		fmt.Fprintln(stderr, "pagoda generate: the prompt is empty and the model adds no BOS token; give -p")
		return 2
	}
	ctx := lm.model.Config.ContextLength
	if len(ids)+*n > ctx {
		fmt.Fprintf(stderr, "pagoda generate: prompt (%d tokens) + -n %d exceeds the model's context length %d\n", len(ids), *n, ctx)
		return 2
	}
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	sess, err := engine.NewSession(lm.model, pool, len(ids)+*n, kvType)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda generate:", err)
		return 1
	}
	sampler := engine.NewSampler(engine.SamplingParams{Temperature: float32(*temp), TopK: *topK, TopP: float32(*topP), MinP: float32(*minP), Seed: *seed})
	fmt.Fprintf(stderr, "pagoda: loaded %s in %v; prompt %d tokens, %d threads\n", lm.name, time.Since(start).Round(time.Millisecond), len(ids), pool.Threads())

	dec := tokenizer.NewStreamDecoder(lm.tok)
	var out []int32
	var text []byte
	emit := func(s string) {
		if *asJSON {
			text = append(text, s...)
		} else {
			io.WriteString(stdout, s)
		}
	}
	t0 := time.Now()
	logits, err := sess.Eval(ids, false)
	tPrompt := time.Since(t0)
	t1 := time.Now()
	for err == nil && len(out) < *n {
		id := sampler.Sample(logits)
		if lm.tok.IsEOG(id) && !*ignoreEOS {
			break
		}
		out = append(out, id)
		emit(dec.Push(id))
		if len(out) == *n {
			break
		}
		logits, err = sess.Eval([]int32{id}, false)
	}
	emit(dec.Flush())
	if err != nil {
		fmt.Fprintln(stderr, "\npagoda generate:", err)
		return 1
	}
	tGen := time.Since(t1)
	if *asJSON {
		json.NewEncoder(stdout).Encode(struct {
			PromptIDs []int32 `json:"prompt_ids"`
			IDs       []int32 `json:"ids"`
			Text      string  `json:"text"`
		}{ids, nonNil(out), string(text)})
	} else {
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stderr, "pagoda: prompt %d tokens in %v (%.1f t/s); generated %d tokens in %v (%.1f t/s)\n",
		len(ids), tPrompt.Round(time.Microsecond), float64(len(ids))/tPrompt.Seconds(),
		len(out), tGen.Round(time.Microsecond), float64(len(out))/max(tGen.Seconds(), 1e-9))
	return 0
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}
