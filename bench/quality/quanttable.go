package quality

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/quantize"
)

// DefaultTypes are the levels quant-table measures after the F32 input,
// from most to fewest bits.
var DefaultTypes = []string{
	"F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S",
	"Q4_1", "Q4_0", "IQ4_XS", "IQ4_NL", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K",
}

// Row is one line of the quant table.
type Row struct {
	Type          string
	BitsPerWeight float64
	FileSize      int64
	PctOfBase     float64 // file size, % of the input's
	PPL, PPLErr   float64
	KLD, KLDErr   float64
	Top, TopErr   float64 // same top token, percent
	TGTokensPerS  float64 // median of the generation runs
	Fallbacks     int     // tensors that got a fallback type for their row length
	Overrides     []string
}

// TableOptions configure QuantTable.
type TableOptions struct {
	Ctx       int
	MaxChunks int // 0: all
	Threads   int
	Types     []string // default DefaultTypes
	TGTokens  int      // generated tokens per speed run (default 128)
	TGReps    int      // speed runs, median taken (default 3)
	KeepDir   string   // write the quantized files here and keep them; "" uses a temporary folder
	Log       io.Writer
}

// withRowOverrides returns o with the overrides llama.cpp's reference files
// were made with, when the plan needs them: llama-quantize has no fallback
// for the 32-value block types (Q8_0, Q4_x, Q5_x, IQ4_NL), so a tensor whose
// rows do not divide by the block (stories260K's ffn_down, 172 values) stops
// it; the references were made with --tensor-type ffn_down=f16. Here every
// such tensor's name (without blk.N. and .weight) gets an F16 override, the
// same pattern. The names of the added patterns are returned.
func withRowOverrides(f *loader.File, o quantize.Options) (quantize.Options, []string, error) {
	mi := quantize.ModelInfoFrom(f.KV)
	_, err := quantize.Plan(mi, f.Tensors, o)
	if err == nil {
		return o, nil, nil
	}
	base, ok := o.Ftype.BaseType()
	if !ok {
		return o, nil, err
	}
	l, ok := kernels.LayoutOf(base)
	if !ok {
		return o, nil, err
	}
	blk := regexp.MustCompile(`^blk\.\d+\.`)
	var added []string
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if len(t.Shape) < 2 || t.Shape[0]%int64(l.BlockSize) == 0 {
			continue
		}
		stem := strings.TrimSuffix(blk.ReplaceAllString(t.Name, ""), ".weight")
		if slices.Contains(added, stem) {
			continue
		}
		added = append(added, stem)
		o.TensorTypes = append(o.TensorTypes, quantize.TensorTypeOverride{Pattern: regexp.QuoteMeta(stem), Type: kernels.F16})
	}
	if len(added) == 0 {
		return o, nil, err
	}
	if _, err2 := quantize.Plan(mi, f.Tensors, o); err2 != nil {
		return o, nil, fmt.Errorf("%w (also with F16 for %s: %v)", err, strings.Join(added, ", "), err2)
	}
	return o, added, nil
}

// genSpeed measures greedy generation: from BOS, n single-token steps, each
// feeding back the argmax; one warm-up run, then the median of reps runs,
// in tokens per second.
func genSpeed(m *model.Model, pool *kernels.Pool, bos int32, n, reps int) (float64, error) {
	s, err := engine.NewSession(m, pool, n, kernels.F16)
	if err != nil {
		return 0, err
	}
	once := func() (time.Duration, error) {
		s.Reset()
		tok := bos
		t0 := time.Now()
		for i := 0; i < n; i++ {
			l, err := s.Eval([]int32{tok}, false)
			if err != nil {
				return 0, err
			}
			tok = int32(argmax(l))
		}
		return time.Since(t0), nil
	}
	if _, err := once(); err != nil {
		return 0, err
	}
	times := make([]time.Duration, reps)
	for i := range times {
		if times[i], err = once(); err != nil {
			return 0, err
		}
	}
	slices.Sort(times)
	med := times[reps/2]
	if reps%2 == 0 {
		med = (times[reps/2-1] + times[reps/2]) / 2
	}
	return float64(n) / med.Seconds(), nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// maxRecordBytes bounds the base logits quant-table keeps in memory.
const maxRecordBytes = 2 << 30

// QuantTable quantizes the model at inPath to each type, and measures each
// file's quality on the text against the input and its generation speed.
// The first row is the input itself.
func QuantTable(inPath, textPath string, o TableOptions) ([]Row, error) {
	if o.Threads < 1 {
		o.Threads = runtime.NumCPU()
	}
	if len(o.Types) == 0 {
		o.Types = DefaultTypes
	}
	if o.TGTokens < 1 {
		o.TGTokens = 128
	}
	if o.TGReps < 1 {
		o.TGReps = 3
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format, args...)
		}
	}
	ftypes := make([]quantize.Ftype, len(o.Types))
	for i, name := range o.Types {
		ft, ok := quantize.ParseFtype(name)
		if !ok {
			return nil, fmt.Errorf("quality: unknown quantization type %q", name)
		}
		ftypes[i] = ft
	}
	dir := o.KeepDir
	if dir == "" {
		d, err := os.MkdirTemp("", "pagoda-quant-table-")
		if err != nil {
			return nil, fmt.Errorf("quality: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}

	base, err := openModel(inPath)
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	defer base.Close()
	chunks, _, err := corpusChunks(base.tok, textPath, o.Ctx, o.MaxChunks)
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	if need := int64(len(chunks)) * int64(Scored(o.Ctx)) * int64(base.m.VocabSize()) * 4; need > maxRecordBytes {
		return nil, fmt.Errorf("quality: the base logits would take %d MiB of memory; use fewer chunks", need>>20)
	}
	pool := kernels.NewPool(o.Threads)
	defer pool.Close()

	baseSize := base.f.Size()
	measure := func(l *loaded, rec *Recorded, self bool) (Row, error) {
		var st Stats
		if self {
			// The base against its own recorded logits: no second pass.
			sc := NewScorer(l.m.VocabSize())
			for i, c := range chunks {
				if err := sc.Add(c, rec.rows[i], rec.rows[i]); err != nil {
					return Row{}, err
				}
			}
			st = sc.Stats
		} else {
			e, err := NewEvaluator(l.m, pool, o.Ctx)
			if err != nil {
				return Row{}, err
			}
			if st, err = Run(e, chunks, rec, nil); err != nil {
				return Row{}, err
			}
		}
		r := Row{BitsPerWeight: l.bitsPerWeight(), FileSize: l.f.Size()}
		r.PctOfBase = 100 * float64(r.FileSize) / float64(baseSize)
		r.PPL, r.PPLErr = st.PPL()
		r.KLD, r.KLDErr = st.KLD()
		r.Top, r.TopErr = st.SameTopPercent()
		tg, err := genSpeed(l.m, pool, l.tok.BOS(), o.TGTokens, o.TGReps)
		if err != nil {
			return Row{}, err
		}
		r.TGTokensPerS = tg
		return r, nil
	}

	t0 := time.Now()
	be, err := NewEvaluator(base.m, pool, o.Ctx)
	if err != nil {
		return nil, err
	}
	rec, err := Record(be, chunks)
	if err != nil {
		return nil, err
	}
	first, err := measure(base, rec, true)
	if err != nil {
		return nil, fmt.Errorf("quality: %s: %w", inPath, err)
	}
	first.Type = fileTypeName(base.f)
	rows := []Row{first}
	logf("%-7s %6.2f bpw  PPL %.4f  (%.1f s)\n", first.Type, first.BitsPerWeight, first.PPL, time.Since(t0).Seconds())

	for i, ft := range ftypes {
		t0 := time.Now()
		qo, added, err := withRowOverrides(base.f, quantize.Options{Ftype: ft, Threads: o.Threads})
		if err != nil {
			return nil, fmt.Errorf("quality: %s: %w", ft, err)
		}
		stem := strings.TrimSuffix(filepath.Base(inPath), filepath.Ext(inPath))
		stem = strings.TrimSuffix(stem, "-F32")
		out := filepath.Join(dir, fmt.Sprintf("%s-%s.gguf", stem, ft))
		sum, err := quantize.File(inPath, out, qo, nil)
		if err != nil {
			return nil, fmt.Errorf("quality: %s: %w", ft, err)
		}
		l, err := openModel(out)
		if err != nil {
			return nil, fmt.Errorf("quality: %s: %w", ft, err)
		}
		r, err := measure(l, rec, false)
		l.Close()
		if o.KeepDir == "" {
			os.Remove(out)
		}
		if err != nil {
			return nil, fmt.Errorf("quality: %s: %w", ft, err)
		}
		r.Type = o.Types[i]
		if canon := ft.String(); !strings.HasPrefix(canon, "ftype(") {
			r.Type = canon
		}
		r.Fallbacks = sum.Fallbacks
		r.Overrides = added
		rows = append(rows, r)
		logf("%-7s %6.2f bpw  PPL %.4f  KLD %.6f  (%.1f s)\n", r.Type, r.BitsPerWeight, r.PPL, r.KLD, time.Since(t0).Seconds())
	}
	return rows, nil
}

// fileTypeName names the input's general.file_type the way the presets are
// named ("F32" for all-F32 files).
func fileTypeName(f *loader.File) string {
	if len(f.Tensors) == 0 {
		return "input"
	}
	if v, ok := f.Get("general.file_type"); ok {
		if u, ok := v.Uint(); ok {
			if s := quantize.Ftype(u).String(); !strings.HasPrefix(s, "ftype(") {
				return s
			}
		}
	}
	// Older conversions (stories260K) lack general.file_type; name an
	// all-F32 or all-F16 file by its tensors.
	t0 := f.Tensors[0].Type
	for i := range f.Tensors {
		if f.Tensors[i].Type != t0 {
			return "input"
		}
	}
	if t0 == kernels.F32 || t0 == kernels.F16 || t0 == kernels.BF16 {
		return t0.String()
	}
	return "input"
}

// WriteTable prints rows as a markdown table.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| type | bits/weight | file size (bytes) | % of F32 | PPL ± err | mean KLD ± err | same top % ± err | tg t/s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %.2f | %s | %.1f | %s ± %s | %.6f ± %.6f | %.3f ± %.3f | %.0f |\n",
			r.Type, r.BitsPerWeight, thousands(r.FileSize), r.PctOfBase,
			sig(r.PPL), sig(r.PPLErr), r.KLD, r.KLDErr, r.Top, r.TopErr, r.TGTokensPerS)
	}
}

// sig prints a PPL with four decimals below 1000 and fewer above, so
// synth256's ~40,000 stays readable.
func sig(v float64) string {
	switch {
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.4f", v)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// writeNotes lists the per-row type adjustments below the table.
func writeNotes(w io.Writer, rows []Row) {
	over := map[string][]string{}
	var overKeys []string
	var fb []string
	for _, r := range rows {
		if len(r.Overrides) > 0 {
			k := strings.Join(r.Overrides, ", ")
			if _, ok := over[k]; !ok {
				overKeys = append(overKeys, k)
			}
			over[k] = append(over[k], r.Type)
		}
		if r.Fallbacks > 0 {
			fb = append(fb, fmt.Sprintf("%s %d", r.Type, r.Fallbacks))
		}
	}
	for _, k := range overKeys {
		fmt.Fprintf(w, "- %s: `%s` kept as F16 (`--tensor-type %s=f16`, as llama.cpp's reference files were made): "+
			"its rows do not divide into the 32-value blocks of these types, for which llama-quantize has no fallback.\n",
			strings.Join(over[k], ", "), k, k)
	}
	if len(fb) > 0 {
		fmt.Fprintf(w, "- Tensors that took llama-quantize's row-length fallback type (rows not a multiple of the block, e.g. 256 for K-quants): %s.\n",
			strings.Join(fb, ", "))
	}
}

const tableUsage = `usage: pagoda bench quant-table -m F32.gguf -f TEXT [-c CTX] [-t THREADS] [--types T1,T2,...] [--png FILE]

Quantizes the model to each level with pagoda quantize's recipes and prints a
markdown table: type, bits per weight, file size, % of the input, perplexity
on TEXT, mean KL divergence from the input and same-top-token % (as pagoda
bench quality --base), and greedy generation speed (median of --reps runs of
--tg tokens). Also draws KLD and speed against bits per weight into a PNG.

flags:
`

// QuantTableMain is `pagoda bench quant-table`. It returns the process exit
// code.
func QuantTableMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench quant-table", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("m", "", "F32 model file (GGUF, required)")
	text := fs.String("f", "", "text file (required)")
	ctx := fs.Int("c", 512, "context: tokens per chunk")
	threads := fs.Int("t", runtime.NumCPU(), "threads")
	maxChunks := fs.Int("chunks", 0, "evaluate at most this many chunks (0: all)")
	types := fs.String("types", strings.Join(DefaultTypes, ","), "quantization types, comma-separated")
	tg := fs.Int("tg", 128, "tokens generated per speed run")
	reps := fs.Int("reps", 3, "speed runs per type (median)")
	png := fs.String("png", "quant-table.png", "chart file (\"\": none)")
	keep := fs.String("keep", "", "keep the quantized files in this folder")
	fs.Usage = func() {
		fmt.Fprint(stderr, tableUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *path == "" || *text == "" || fs.NArg() != 0 || *threads < 1 || *maxChunks < 0 || *tg < 1 || *reps < 1 {
		fs.Usage()
		return 2
	}
	var ts []string
	for _, s := range strings.Split(*types, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if _, ok := quantize.ParseFtype(s); !ok {
				fmt.Fprintf(stderr, "pagoda bench quant-table: unknown type %q (known: %s)\n", s, strings.Join(quantize.FtypeNames(), ", "))
				return 2
			}
			ts = append(ts, s)
		}
	}
	start := time.Now()
	rows, err := QuantTable(*path, *text, TableOptions{
		Ctx: *ctx, MaxChunks: *maxChunks, Threads: *threads, Types: ts,
		TGTokens: *tg, TGReps: *reps, KeepDir: *keep, Log: stderr,
	})
	if err != nil {
		fmt.Fprintln(stderr, "pagoda bench quant-table:", err)
		return 1
	}
	WriteTable(stdout, rows)
	fmt.Fprintln(stdout)
	name := strings.TrimSuffix(filepath.Base(*path), filepath.Ext(*path))
	fmt.Fprintf(stdout, "- `pagoda bench quant-table %s`, %s, %s (%s kernels), %d threads; %.0f s in all.\n",
		strings.Join(args, " "), start.UTC().Format("2006-01-02"), strings.TrimSpace(cpuid.CPU.BrandName),
		kernels.CurrentLevel(), *threads, time.Since(start).Seconds())
	fmt.Fprintf(stdout, "- Quality: `pagoda bench quality` method (llama-perplexity's), context %d; KLD and same top are against the first row. "+
		"tg: greedy generation of %d tokens from BOS, median of %d runs.\n", *ctx, *tg, *reps)
	writeNotes(stdout, rows)
	if *png != "" {
		if err := WriteChart(rows, name, *png); err != nil {
			fmt.Fprintln(stderr, "pagoda bench quant-table:", err)
			return 1
		}
		fmt.Fprintf(stderr, "chart: %s\n", *png)
	}
	return 0
}
