package quality

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// loaded is an open GGUF model with its tokenizer.
type loaded struct {
	path string
	f    *loader.File
	m    *model.Model
	tok  *tokenizer.Tokenizer
}

func openModel(path string) (*loaded, error) {
	f, err := loader.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := model.Load(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &loaded{path: path, f: f, m: m, tok: tok}, nil
}

func (l *loaded) Close() error { return l.f.Close() }

// bitsPerWeight is llama.cpp's BPW: 8 × tensor data bytes / weights.
func (l *loaded) bitsPerWeight() float64 {
	var bytes, n int64
	for i := range l.f.Tensors {
		bytes += l.f.Tensors[i].Size
		n += l.f.Tensors[i].Elements()
	}
	if n == 0 {
		return 0
	}
	return 8 * float64(bytes) / float64(n)
}

// corpusChunks reads the text, tokenizes it with tok and cuts it into
// chunks of ctx, keeping at most maxChunks (0: all).
func corpusChunks(tok *tokenizer.Tokenizer, textPath string, ctx, maxChunks int) ([][]int32, int, error) {
	b, err := os.ReadFile(textPath)
	if err != nil {
		return nil, 0, err
	}
	tokens := Tokenize(tok, string(b))
	chunks, err := Chunks(tokens, ctx, tok.BOS(), tok.AddBOS())
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", textPath, err)
	}
	if maxChunks > 0 && maxChunks < len(chunks) {
		chunks = chunks[:maxChunks]
	}
	return chunks, len(tokens), nil
}

const qualityUsage = `usage: pagoda bench quality -m MODEL.gguf [--base BASE.gguf] -f TEXT [-c CTX] [-t THREADS] [--chunks N]

Perplexity of MODEL on TEXT with llama-perplexity's method: the text is
tokenized once (BOS in front), cut into floor(n/CTX) chunks whose first token
becomes BOS, each chunk is evaluated in one batch from an empty KV cache, and
only the second half of each chunk is scored. With --base, also the KL
divergence KL(base ‖ model) per scored token and how often both models pick
the same top token (llama-perplexity --kl-divergence).

flags:
`

// QualityMain is `pagoda bench quality`. It returns the process exit code.
func QualityMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench quality", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("m", "", "model file (GGUF, required)")
	basePath := fs.String("base", "", "base model file to compare with (KL divergence, same top token)")
	text := fs.String("f", "", "text file (required)")
	ctx := fs.Int("c", 512, "context: tokens per chunk")
	threads := fs.Int("t", runtime.NumCPU(), "threads")
	maxChunks := fs.Int("chunks", 0, "evaluate at most this many chunks (0: all)")
	fs.Usage = func() {
		fmt.Fprint(stderr, qualityUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *path == "" || *text == "" || fs.NArg() != 0 || *threads < 1 || *maxChunks < 0 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "pagoda bench quality:", err)
		return 1
	}
	m, err := openModel(*path)
	if err != nil {
		return fail(err)
	}
	defer m.Close()
	var base *loaded
	tok := m.tok
	if *basePath != "" {
		if base, err = openModel(*basePath); err != nil {
			return fail(err)
		}
		defer base.Close()
		if base.m.VocabSize() != m.m.VocabSize() {
			return fail(fmt.Errorf("vocabulary sizes differ: model %d, base %d", m.m.VocabSize(), base.m.VocabSize()))
		}
		// llama-perplexity tokenizes with the base model and saves the tokens
		// in the base file for the comparison run.
		tok = base.tok
	}
	chunks, nTok, err := corpusChunks(tok, *text, *ctx, *maxChunks)
	if err != nil {
		return fail(err)
	}
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	e, err := NewEvaluator(m.m, pool, *ctx)
	if err != nil {
		return fail(err)
	}
	var bl BaseLogits
	if base != nil {
		be, err := NewEvaluator(base.m, pool, *ctx)
		if err != nil {
			return fail(err)
		}
		bl = Live{E: be}
	}
	fmt.Fprintf(stdout, "model: %s (%.2f bits/weight)\n", m.path, m.bitsPerWeight())
	if base != nil {
		fmt.Fprintf(stdout, "base:  %s (%.2f bits/weight)\n", base.path, base.bitsPerWeight())
	}
	fmt.Fprintf(stdout, "text:  %s: %d tokens, %d chunks of %d, %d scored positions\n",
		*text, nTok, len(chunks), *ctx, len(chunks)*Scored(*ctx))
	t0 := time.Now()
	st, err := Run(e, chunks, bl, nil)
	if err != nil {
		return fail(err)
	}
	ppl, pplErr := st.PPL()
	fmt.Fprintf(stdout, "Final estimate: PPL = %.4f +/- %.5f\n", ppl, pplErr)
	if base != nil {
		bp, bpErr := st.BasePPL()
		k, kErr := st.KLD()
		top, topErr := st.SameTopPercent()
		fmt.Fprintf(stdout, "Mean PPL(base): %.4f +/- %.5f\n", bp, bpErr)
		fmt.Fprintf(stdout, "Mean KLD:       %.6f +/- %.6f\n", k, kErr)
		fmt.Fprintf(stdout, "Same top:       %.3f +/- %.3f %%\n", top, topErr)
	}
	fmt.Fprintf(stderr, "%d threads, %s kernels, %.2f s\n", pool.Threads(), kernels.CurrentLevel(), time.Since(t0).Seconds())
	return 0
}
