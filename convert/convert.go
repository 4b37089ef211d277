// Package convert turns a Hugging Face llama-family checkpoint folder
// (config.json, tokenizer.model or tokenizer.json, *.safetensors) into a
// GGUF file the way llama.cpp's convert_hf_to_gguf.py does: the same
// metadata keys in the same order, tensor names, the Q/K row permutation,
// output types per tensor and tokenizer import. Tensors are converted and
// written one at a time, so memory stays near the largest tensor.
package convert

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// Options control a conversion.
type Options struct {
	// OutType is f32, f16, bf16 or q8_0 (default f16, as llama.cpp when it
	// cannot guess). Norms and other 1-D tensors always stay F32.
	OutType string
	// Name is general.name; default: derived from config.json's
	// _name_or_path or the folder's name, as llama.cpp does.
	Name string
	// Log receives one line per tensor; nil for none.
	Log io.Writer
}

// Convert reads the checkpoint in dir and writes the GGUF file out. The file
// appears only when complete (it is written beside out and renamed).
func Convert(dir, out string, opts Options) error {
	if opts.OutType == "" {
		opts.OutType = "f16"
	}
	ft, ok := ftypes[opts.OutType]
	if !ok {
		return fmt.Errorf("convert: unknown --outtype %q (f32, f16, bf16, q8_0)", opts.OutType)
	}
	want, _ := kernels.ParseType(ft.name)
	hp, arch, err := loadHparams(dir)
	if err != nil {
		return err
	}
	p, err := parseParams(hp)
	if err != nil {
		return err
	}
	voc, err := loadVocab(dir, hp, p)
	if err != nil {
		return err
	}
	if p.hasVocab && voc.nVocab != p.vocab {
		return fmt.Errorf("convert: the tokenizer has %d tokens, config.json's vocab_size is %d", voc.nVocab, p.vocab)
	}
	ck, err := loader.OpenSafetensorsDir(dir)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	defer ck.Close()
	plan, err := planTensors(ck, arch, p, voc.nVocab, want)
	if err != nil {
		return err
	}
	infos := make([]loader.TensorInfo, len(plan))
	var params int64
	for i := range plan {
		infos[i] = plan[i].info
		params += plan[i].info.Elements()
	}
	if err := loader.LayoutTensors(infos, loader.DefaultAlignment); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	for i := range plan {
		plan[i].info = infos[i]
	}
	name := opts.Name
	if name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("convert: %w", err)
		}
		name = modelName(hp, abs)
	}
	kvs, err := metadata(name, params, p, ft.ftype)
	if err != nil {
		return err
	}
	kvs = append(kvs, voc.kvs...)

	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	ok = false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w, err := loader.NewWriter(tmp, 3, kvs, infos)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	var sc scratch
	for i := range plan {
		pt := &plan[i]
		data, err := pt.data(p, &sc)
		if err != nil {
			return err
		}
		if err := w.WriteTensor(data); err != nil {
			return fmt.Errorf("convert: %w", err)
		}
		if opts.Log != nil {
			from := "generated"
			if pt.src != nil {
				from = pt.src.Name + " " + pt.src.DType
			}
			fmt.Fprintf(opts.Log, "[%3d/%3d] %-28s %-40s -> %-4s %v\n", i+1, len(plan), pt.info.Name, from, pt.info.Type, pt.info.Shape)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("convert: writing %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("convert: writing %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	ok = true
	return nil
}

// Main runs `pagoda convert HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0]`
// and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outType := fs.String("outtype", "f16", "tensor type: f32, f16, bf16 or q8_0 (norms stay f32)")
	name := fs.String("name", "", "general.name (default: the folder's name)")
	quiet := fs.Bool("q", false, "do not list tensors")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagoda convert HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0] [--name NAME] [-q]")
		fs.PrintDefaults()
	}
	// Flags may come before or after the two paths.
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != 2 {
		fs.Usage()
		return 2
	}
	if _, ok := ftypes[*outType]; !ok {
		fmt.Fprintf(stderr, "pagoda convert: unknown --outtype %q (f32, f16, bf16, q8_0)\n", *outType)
		return 2
	}
	opts := Options{OutType: *outType, Name: *name}
	if !*quiet {
		opts.Log = stdout
	}
	start := time.Now()
	if err := Convert(pos[0], pos[1], opts); err != nil {
		fmt.Fprintln(stderr, "pagoda convert:", err)
		return 1
	}
	if st, err := os.Stat(pos[1]); err == nil {
		fmt.Fprintf(stdout, "wrote %s (%d bytes, %s) in %v\n", pos[1], st.Size(), *outType, time.Since(start).Round(time.Millisecond))
	}
	return 0
}
