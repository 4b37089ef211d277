package modelbench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// Shape is a llama-family model's size.
type Shape struct {
	Name                    string
	Embd, Layers, Heads, KV int
	FFN, Vocab, Context     int
	ParamsLabel             string // general.size_label
}

// Shapes are the model sizes SynthMain can make. The 1b shape is
// TinyLlama-1.1B's, 7b is Llama-2-7B's, 110m is llama2.c's stories110M.
var Shapes = map[string]Shape{
	"tiny": {Name: "tiny", Embd: 256, Layers: 2, Heads: 8, KV: 4, FFN: 768, Vocab: 32000, Context: 512, ParamsLabel: "18M"},
	"110m": {Name: "110m", Embd: 768, Layers: 12, Heads: 12, KV: 12, FFN: 2048, Vocab: 32000, Context: 1024, ParamsLabel: "110M"},
	"1b":   {Name: "1b", Embd: 2048, Layers: 22, Heads: 32, KV: 4, FFN: 5632, Vocab: 32000, Context: 2048, ParamsLabel: "1.1B"},
	"7b":   {Name: "7b", Embd: 4096, Layers: 32, Heads: 32, KV: 32, FFN: 11008, Vocab: 32000, Context: 4096, ParamsLabel: "7B"},
}

// fileTypes maps a --type name to llama.cpp's general.file_type (enum
// llama_ftype) and the base tensor type.
var fileTypes = map[string]struct {
	ftype uint32
	base  kernels.Type
}{
	"F32": {0, kernels.F32}, "F16": {1, kernels.F16}, "BF16": {32, kernels.BF16},
	"Q4_0": {2, kernels.Q4_0}, "Q4_1": {3, kernels.Q4_1}, "Q8_0": {7, kernels.Q8_0},
	"Q5_0": {8, kernels.Q5_0}, "Q5_1": {9, kernels.Q5_1}, "Q2_K": {10, kernels.Q2_K},
	"Q3_K_S": {11, kernels.Q3_K}, "Q4_K_S": {14, kernels.Q4_K}, "Q4_K_M": {15, kernels.Q4_K},
	"Q5_K_S": {16, kernels.Q5_K}, "Q5_K_M": {17, kernels.Q5_K}, "Q6_K": {18, kernels.Q6_K},
	"IQ4_NL": {25, kernels.IQ4_NL}, "IQ4_XS": {30, kernels.IQ4_XS},
}

// useMoreBits is llama-quantize's choice of the layers that get more bits
// in the _M mixes: the first and last eighth, and every third in between.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// tensorType is the type llama-quantize (without an imatrix) gives a
// tensor of a file of type name, for the subset of its rules that apply to
// a plain llama model: the output matrix in Q6_K for the quantized types
// other than Q8_0, and the _M mixes' attn_v and ffn_down in Q6_K on the
// layers useMoreBits picks. Norms stay F32.
func tensorType(name string, base kernels.Type, kind string, layer, nLayers int) kernels.Type {
	quantized := base != kernels.F32 && base != kernels.F16 && base != kernels.BF16
	switch {
	case kind == "norm":
		return kernels.F32
	case kind == "output" && quantized && base != kernels.Q8_0:
		return kernels.Q6_K
	case (name == "Q4_K_M" || name == "Q5_K_M") && (kind == "attn_v" || kind == "ffn_down") && useMoreBits(layer, nLayers):
		return kernels.Q6_K
	}
	return base
}

type synthTensor struct {
	info  loader.TensorInfo
	kind  string
	layer int
}

// synthTensors lists the tensors of a llama model of shape s in
// llama.cpp's order and names, with their types for file type name.
func synthTensors(s Shape, name string, base kernels.Type) []synthTensor {
	hd := s.Embd / s.Heads
	var ts []synthTensor
	add := func(n, kind string, layer int, shape ...int64) {
		t := tensorType(name, base, kind, layer, s.Layers)
		ts = append(ts, synthTensor{info: loader.TensorInfo{Name: n, Type: t, Shape: shape}, kind: kind, layer: layer})
	}
	e, f, v := int64(s.Embd), int64(s.FFN), int64(s.Vocab)
	add("token_embd.weight", "embd", -1, e, v)
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", "norm", i, e)
		add(p+"attn_q.weight", "attn_q", i, e, e)
		add(p+"attn_k.weight", "attn_k", i, e, int64(s.KV*hd))
		add(p+"attn_v.weight", "attn_v", i, e, int64(s.KV*hd))
		add(p+"attn_output.weight", "attn_output", i, e, e)
		add(p+"ffn_norm.weight", "norm", i, e)
		add(p+"ffn_gate.weight", "ffn_gate", i, e, f)
		add(p+"ffn_up.weight", "ffn_up", i, e, f)
		add(p+"ffn_down.weight", "ffn_down", i, f, e)
	}
	add("output_norm.weight", "norm", -1, e)
	add("output.weight", "output", -1, e, v)
	return ts
}

// defaultVocab finds the llama-spm vocabulary: PAGODA_VOCAB, or the shared
// reference folder beside a repository found above the working directory.
func defaultVocab() string {
	if p := os.Getenv("PAGODA_VOCAB"); p != "" {
		return p
	}
	rel := filepath.Join("models", "vocab", "ggml-vocab-llama-spm.gguf")
	if base := os.Getenv("PAGODA_SHARED"); base != "" {
		return filepath.Join(base, rel)
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		for _, c := range []string{filepath.Join(dir, "shared", rel), filepath.Join(dir, "..", "shared", rel)} {
			if _, err := os.Stat(c); err == nil {
				return c
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// SynthMain is `pagoda bench synth`: it writes a random-weight llama model
// of a standard shape with full metadata and the llama-spm vocabulary, so
// pagoda and llama.cpp can be benchmarked on the same file without
// downloads. It returns the process exit code.
func SynthMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	shape := fs.String("shape", "tiny", "model shape: tiny, 110m, 1b or 7b")
	typ := fs.String("type", "F16", "file type: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_S, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, IQ4_NL, IQ4_XS")
	out := fs.String("o", "", "output file (required)")
	vocab := fs.String("vocab", "", "vocabulary GGUF to copy tokenizer.* from (default: PAGODA_VOCAB or ../shared/models/vocab/ggml-vocab-llama-spm.gguf)")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagoda bench synth --shape tiny|110m|1b|7b --type TYPE -o FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	s, ok := Shapes[*shape]
	if !ok {
		fmt.Fprintf(stderr, "pagoda bench synth: unknown shape %q (want tiny, 110m, 1b or 7b)\n", *shape)
		return 2
	}
	if *vocab == "" {
		*vocab = defaultVocab()
	}
	if err := Synth(*out, s, strings.ToUpper(*typ), *vocab, *seed); err != nil {
		fmt.Fprintln(stderr, "pagoda bench synth:", err)
		return 1
	}
	if fi, err := os.Stat(*out); err == nil {
		fmt.Fprintf(stdout, "wrote %s: %s shape, %s, %d bytes\n", *out, s.Name, strings.ToUpper(*typ), fi.Size())
	}
	return 0
}

// Synth writes the model to path. Tensors are made and written one at a
// time, so memory holds at most one tensor.
func Synth(path string, s Shape, typeName, vocabPath string, seed uint64) (err error) {
	ft, ok := fileTypes[typeName]
	if !ok {
		return fmt.Errorf("unknown file type %q", typeName)
	}
	if vocabPath == "" {
		return fmt.Errorf("no vocabulary file found: pass --vocab or set PAGODA_VOCAB")
	}
	vf, err := loader.Open(vocabPath)
	if err != nil {
		return fmt.Errorf("vocabulary: %w", err)
	}
	defer vf.Close()
	tokens, ok := vf.Get("tokenizer.ggml.tokens")
	if !ok || tokens.Len() != s.Vocab {
		return fmt.Errorf("vocabulary %s: want %d tokens in tokenizer.ggml.tokens, have %d", vocabPath, s.Vocab, tokens.Len())
	}

	kvs := []loader.KV{
		{Key: "general.architecture", Value: loader.StringValue("llama")},
		{Key: "general.name", Value: loader.StringValue("pagoda synth " + s.Name)},
		{Key: "general.size_label", Value: loader.StringValue(s.ParamsLabel)},
		{Key: "general.file_type", Value: loader.Uint32Value(ft.ftype)},
		{Key: "general.quantization_version", Value: loader.Uint32Value(2)},
		{Key: "llama.context_length", Value: loader.Uint32Value(uint32(s.Context))},
		{Key: "llama.embedding_length", Value: loader.Uint32Value(uint32(s.Embd))},
		{Key: "llama.block_count", Value: loader.Uint32Value(uint32(s.Layers))},
		{Key: "llama.feed_forward_length", Value: loader.Uint32Value(uint32(s.FFN))},
		{Key: "llama.rope.dimension_count", Value: loader.Uint32Value(uint32(s.Embd / s.Heads))},
		{Key: "llama.rope.freq_base", Value: loader.Float32Value(10000)},
		{Key: "llama.attention.head_count", Value: loader.Uint32Value(uint32(s.Heads))},
		{Key: "llama.attention.head_count_kv", Value: loader.Uint32Value(uint32(s.KV))},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: loader.Float32Value(1e-5)},
		{Key: "llama.vocab_size", Value: loader.Uint32Value(uint32(s.Vocab))},
	}
	for _, kv := range vf.KV {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			kvs = append(kvs, kv)
		}
	}
	sts := synthTensors(s, typeName, ft.base)
	infos := make([]loader.TensorInfo, len(sts))
	for i := range sts {
		infos[i] = sts[i].info
		if !kernels.CanQuantize(infos[i].Type) {
			return fmt.Errorf("tensor %s: cannot write %s", infos[i].Name, infos[i].Type)
		}
	}
	if err := loader.LayoutTensors(infos, loader.DefaultAlignment); err != nil {
		return err
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	w, err := loader.NewWriter(f, 3, kvs, infos)
	if err != nil {
		return err
	}
	for i := range infos {
		data, err := makeTensor(&infos[i], sts[i].kind, seed, uint64(i))
		if err != nil {
			return fmt.Errorf("tensor %s: %w", infos[i].Name, err)
		}
		if err := w.WriteTensor(data); err != nil {
			return err
		}
	}
	return w.Close()
}

// makeTensor fills one tensor: norms are 1, matrices uniform with standard
// deviation 0.02 (the usual initialisation), quantized rows in parallel.
func makeTensor(t *loader.TensorInfo, kind string, seed, index uint64) ([]byte, error) {
	cols := int(t.Shape[0])
	rows := int(t.Rows())
	rowBytes, err := kernels.RowBytes(t.Type, int64(cols))
	if err != nil {
		return nil, err
	}
	data := make([]byte, int64(rows)*rowBytes)
	const std = 0.02
	amp := float32(std * math.Sqrt(3))
	workers := min(runtime.GOMAXPROCS(0), rows)
	const chunk = 16 // rows quantized per call
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, chunk*cols)
			for r0 := wk * chunk; r0 < rows; r0 += workers * chunk {
				nr := min(chunk, rows-r0)
				x := buf[:nr*cols]
				rng := rand.New(rand.NewPCG(seed, index<<32|uint64(r0)))
				for i := range x {
					if kind == "norm" {
						x[i] = 1
					} else {
						x[i] = amp * (2*rng.Float32() - 1)
					}
				}
				dst := data[int64(r0)*rowBytes : int64(r0+nr)*rowBytes]
				if err := kernels.Quantize(t.Type, x, dst); err != nil {
					errs[wk] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return data, errors.Join(errs...)
}
