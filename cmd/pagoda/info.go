package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

func runInfo(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("info", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: pagoda info [FILE]   (no FILE: the bundled model)") }
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) > 1 {
		fs.Usage()
		return 2
	}
	path := ""
	if len(pos) == 1 {
		path = pos[0]
	}
	f, name, err := openModel(path)
	if err != nil {
		fmt.Fprintln(stderr, "pagoda info:", err)
		return 1
	}
	defer f.Close()
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "file\t%s\n", name)
	fmt.Fprintf(w, "size\t%d bytes\n", f.Size())
	fmt.Fprintf(w, "gguf version\t%d\n", f.Version)
	fmt.Fprintf(w, "alignment\t%d\n", f.Alignment)
	var params, dataBytes int64
	for i := range f.Tensors {
		params += f.Tensors[i].Elements()
		dataBytes += f.Tensors[i].Size
	}
	fmt.Fprintf(w, "tensors\t%d\n", len(f.Tensors))
	fmt.Fprintf(w, "parameters\t%d (%s)\n", params, humanCount(params))
	if params > 0 {
		fmt.Fprintf(w, "bits per weight\t%.2f\n", 8*float64(dataBytes)/float64(params))
	}
	if cfg, err := f.ModelConfig(); err == nil {
		fmt.Fprintf(w, "architecture\t%s\n", cfg.Arch)
		fmt.Fprintf(w, "context length\t%d\n", cfg.ContextLength)
		fmt.Fprintf(w, "embedding\t%d\n", cfg.EmbeddingLength)
		fmt.Fprintf(w, "layers\t%d\n", cfg.BlockCount)
		fmt.Fprintf(w, "feed forward\t%d\n", cfg.FeedForwardLength)
		fmt.Fprintf(w, "heads / kv heads / head dim\t%d / %d / %d\n", cfg.HeadCount, cfg.HeadCountKV, cfg.HeadDim)
		fmt.Fprintf(w, "rope\tdims %d, base %g, scaling %s ×%g\n", cfg.RopeDims, cfg.RopeFreqBase, cfg.RopeScalingType, cfg.RopeScalingFactor)
		fmt.Fprintf(w, "rms epsilon\t%g\n", cfg.RMSEpsilon)
		fmt.Fprintf(w, "vocabulary\t%d\n", cfg.VocabSize)
	} else if v, ok := f.Get("general.architecture"); ok {
		fmt.Fprintf(w, "architecture\t%v (%v)\n", v, err)
	}
	if tok, err := tokenizer.FromGGUF(f); err == nil {
		fmt.Fprintf(w, "tokenizer\t%d tokens, bos %d, eos %d\n", tok.VocabSize(), tok.BOS(), tok.EOS())
	} else if _, ok := f.Get("tokenizer.ggml.model"); ok {
		fmt.Fprintf(w, "tokenizer\t%v\n", err)
	}
	fmt.Fprintf(w, "kernels\t%s\n", kernelsSummary())
	w.Flush()
	fmt.Fprintf(stdout, "\nkernels chosen per operation\n")
	w = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, c := range kernels.Describe() {
		fmt.Fprintf(w, "  %s\t%s\n", c.Op, c.Impl)
	}
	w.Flush()

	fmt.Fprintf(stdout, "\nmetadata (%d keys)\n", len(f.KV))
	w = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, kv := range f.KV {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", kv.Key, kv.Value.Type, describeValue(kv.Value))
	}
	w.Flush()

	if len(f.Tensors) > 0 {
		fmt.Fprintf(stdout, "\ntensors\n")
		w = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(w, "  name\ttype\tshape\tbytes\t\n")
		for i := range f.Tensors {
			t := &f.Tensors[i]
			fmt.Fprintf(w, "  %s\t%s\t%s\t%d\t\n", t.Name, t.Type, shapeString(t.Shape), t.Size)
		}
		w.Flush()
		counts := map[string]int{}
		for i := range f.Tensors {
			counts[f.Tensors[i].Type.String()]++
		}
		var parts []string
		for _, k := range sortedKeys(counts) {
			parts = append(parts, fmt.Sprintf("%s×%d", k, counts[k]))
		}
		fmt.Fprintf(stdout, "\ntensor types: %s\n", strings.Join(parts, ", "))
	}
	return 0
}

// describeValue prints a metadata value, abbreviating long arrays.
func describeValue(v loader.Value) string {
	if v.Type != loader.TypeArray {
		return v.String()
	}
	const show = 5
	var items []string
	if s, ok := v.Strings(); ok {
		for _, x := range s[:min(len(s), show)] {
			items = append(items, strconv.Quote(x))
		}
	} else if x, ok := v.Float32s(); ok {
		for _, f := range x[:min(len(x), show)] {
			items = append(items, fmt.Sprint(f))
		}
	} else if x, ok := v.Int32s(); ok {
		for _, i := range x[:min(len(x), show)] {
			items = append(items, fmt.Sprint(i))
		}
	}
	more := ""
	if v.Len() > show {
		more = ", …"
	}
	return fmt.Sprintf("[%d × %s] [%s%s]", v.Len(), v.ElemType, strings.Join(items, ", "), more)
}

func shapeString(s []int64) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// kernelsSummary names the CPU level the kernels run at and what the CPU
// offers.
func kernelsSummary() string {
	return fmt.Sprintf("%s (detected %s)", kernels.CurrentLevel(), kernels.DetectedLevel())
}
