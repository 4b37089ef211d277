package quantize

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// refCase is one llama-quantize output and the command that made it.
type refCase struct {
	src, ref string // paths
	preset   string
	opts     Options
}

// storiesF32 is the bundled stories260K model, the source of the references.
func storiesF32(t *testing.T) string {
	return filepath.Join(testutil.RepoRoot(t), "model", "bundled", "stories260K.gguf")
}

// storiesRef is llama-quantize's output for a preset, copied into the
// repository's testdata (see testdata/README.md).
func storiesRef(t *testing.T, preset string) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "ref", "stories260K", "stories260K-"+preset+".gguf")
}

// storiesCases are the stories260K references: F16/BF16 plain, the others with
// --tensor-type ffn_down=f16 (ffn_down rows have 172 values).
func storiesCases(t *testing.T) []refCase {
	var cs []refCase
	for _, p := range []string{"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"} {
		ft, ok := ParseFtype(p)
		if !ok {
			t.Fatalf("ParseFtype(%q) failed", p)
		}
		o := Options{Ftype: ft, Threads: 2}
		if p != "F16" && p != "BF16" {
			o.TensorTypes = []TensorTypeOverride{{Pattern: "ffn_down", Type: kernels.F16}}
		}
		cs = append(cs, refCase{
			src:    storiesF32(t),
			ref:    storiesRef(t, p),
			preset: p, opts: o,
		})
	}
	return cs
}

// synthPresets are the synth256 references in ../shared/ref/synth256 that
// pagoda can produce (llama-quantize synth256-F32.gguf OUT TYPE 2).
var synthPresets = []string{"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
	"Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"}

func synthCases(t *testing.T) []refCase {
	src := testutil.Shared(t, "ref/synth256/synth256-F32.gguf")
	var cs []refCase
	for _, p := range synthPresets {
		ft, _ := ParseFtype(p)
		cs = append(cs, refCase{
			src:    src,
			ref:    testutil.Shared(t, "ref/synth256/synth256-"+p+".gguf"),
			preset: p, opts: Options{Ftype: ft, Threads: 2},
		})
	}
	return cs
}

func open(t *testing.T, path string) *loader.File {
	t.Helper()
	f, err := loader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func f32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// checkTensors quantizes every F32 tensor of the source to the type the
// reference file has for it and compares the bytes.
func checkTensors(t *testing.T, c refCase) {
	src, ref := open(t, c.src), open(t, c.ref)
	if len(src.Tensors) != len(ref.Tensors) {
		t.Fatalf("%d tensors in the source, %d in the reference", len(src.Tensors), len(ref.Tensors))
	}
	for i := range ref.Tensors {
		rt := &ref.Tensors[i]
		st, ok := src.Tensor(rt.Name)
		if !ok {
			t.Fatalf("tensor %s missing from the source", rt.Name)
		}
		want := ref.TensorData(rt)
		got := make([]byte, len(want))
		if err := kernels.Quantize(rt.Type, f32s(src.TensorData(st)), got); err != nil {
			t.Errorf("%s: %v", rt.Name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			k := 0
			for got[k] == want[k] {
				k++
			}
			t.Errorf("%s (%s): bytes differ, first at %d of %d", rt.Name, rt.Type, k, len(want))
		}
	}
}

// checkPlan compares Plan's order and types with the reference file's table.
func checkPlan(t *testing.T, c refCase) {
	src, ref := open(t, c.src), open(t, c.ref)
	plan, err := Plan(ModelInfoFrom(src.KV), src.Tensors, c.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != len(ref.Tensors) {
		t.Fatalf("plan has %d tensors, reference %d", len(plan), len(ref.Tensors))
	}
	for i, p := range plan {
		r := ref.Tensors[i]
		if p.Name != r.Name || p.To != r.Type {
			t.Errorf("tensor %d: planned %s %s, llama-quantize wrote %s %s", i, p.Name, p.To, r.Name, r.Type)
		}
	}
}

// checkFile quantizes the whole file and compares it with the reference.
func checkFile(t *testing.T, c refCase) {
	out := filepath.Join(t.TempDir(), "out.gguf")
	sum, err := File(c.src, out, c.opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(c.ref)
	if err != nil {
		t.Fatal(err)
	}
	if gs, ws := sha256.Sum256(got), sha256.Sum256(want); gs != ws {
		k := 0
		for k < len(got) && k < len(want) && got[k] == want[k] {
			k++
		}
		t.Fatalf("sha256 %s, llama-quantize's %s (sizes %d, %d; first difference at byte %d)",
			hex.EncodeToString(gs[:]), hex.EncodeToString(ws[:]), len(got), len(want), k)
	}
	if sum.OutFileSize != int64(len(want)) {
		t.Errorf("summary says %d bytes, file has %d", sum.OutFileSize, len(want))
	}
}

func forCases(t *testing.T, cs []refCase, check func(*testing.T, refCase)) {
	for _, c := range cs {
		t.Run(filepath.Base(c.ref), func(t *testing.T) { check(t, c) })
	}
}

func TestTensorsStories260K(t *testing.T) { forCases(t, storiesCases(t), checkTensors) }
func TestPlanStories260K(t *testing.T)    { forCases(t, storiesCases(t), checkPlan) }
func TestFileStories260K(t *testing.T)    { forCases(t, storiesCases(t), checkFile) }
func TestTensorsSynth256(t *testing.T)    { forCases(t, synthCases(t), checkTensors) }
func TestPlanSynth256(t *testing.T)       { forCases(t, synthCases(t), checkPlan) }
func TestFileSynth256(t *testing.T)       { forCases(t, synthCases(t), checkFile) }

// Without the override, llama-quantize refuses stories260K for Q8_0 (rows
// of 172 have no fallback from Q8_0); Plan must refuse too.
func TestPlanNoFallback(t *testing.T) {
	src := open(t, storiesF32(t))
	_, err := Plan(ModelInfoFrom(src.KV), src.Tensors, Options{Ftype: FtypeQ8_0})
	if err == nil || !strings.Contains(err.Error(), "no tensor type fallback is defined for type q8_0") {
		t.Fatalf("err = %v, want llama-quantize's no-fallback error", err)
	}
}

// Q4_K_M on stories260K: rows of 64 make every K-quant fall back (Q4_K ->
// Q5_0, Q6_K -> Q8_0) and rows of 172 fall through to F16, as in
// llama-quantize's tensor_type_fallback.
func TestPlanFallbacks(t *testing.T) {
	src := open(t, storiesF32(t))
	plan, err := Plan(ModelInfoFrom(src.KV), src.Tensors, Options{Ftype: FtypeQ4_KM})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]kernels.Type{
		"output.weight":          kernels.Q8_0, // nx % 256 != 0 -> Q8_0 directly
		"token_embd.weight":      kernels.Q5_0,
		"blk.0.attn_q.weight":    kernels.Q5_0,
		"blk.0.attn_v.weight":    kernels.Q5_0,
		"blk.2.attn_v.weight":    kernels.Q8_0, // use_more_bits(2, 5): Q6_K -> Q8_0
		"blk.4.attn_v.weight":    kernels.Q8_0, // use_more_bits(4, 5)
		"blk.0.ffn_down.weight":  kernels.F16,  // Q6_K -> Q8_0 does not fit 172 -> F16
		"blk.1.ffn_down.weight":  kernels.F16,
		"blk.0.attn_norm.weight": kernels.F32,
		"blk.4.ffn_up.weight":    kernels.Q5_0,
	}
	for _, c := range plan {
		if w, ok := want[c.Name]; ok && c.To != w {
			t.Errorf("%s: %s, want %s", c.Name, c.To, w)
		}
	}
}

func TestRequantizeRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.gguf")
	_, err := File(storiesRef(t, "Q8_0"), out, Options{Ftype: FtypeQ4_0,
		TensorTypes: []TensorTypeOverride{{Pattern: "ffn_down", Type: kernels.F16}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "requantizing from type q8_0 is disabled") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output file left behind: %v", err)
	}
}

// Quantizing an F16 file again to F16 copies it (same types, same bytes):
// the file must equal llama-quantize's F16 output exactly.
func TestSameTypeCopies(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.gguf")
	ref := storiesRef(t, "F16")
	if _, err := File(ref, out, Options{Ftype: FtypeF16}, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(ref)
	if !bytes.Equal(got, want) {
		t.Fatal("F16 -> F16 changed the file")
	}
}

func TestOutputKVOrder(t *testing.T) {
	in := []loader.KV{
		{Key: "general.file_type", Value: loader.Uint32Value(0)},
		{Key: "a", Value: loader.Uint32Value(1)},
		{Key: "split.count", Value: loader.Uint32Value(2)},
		{Key: "b", Value: loader.StringValue("x")},
	}
	kv := OutputKV(in, FtypeQ4_KM)
	var keys []string
	for _, k := range kv {
		keys = append(keys, k.Key)
	}
	if got := strings.Join(keys, ","); got != "a,b,general.quantization_version,general.file_type" {
		t.Fatalf("keys %s", got)
	}
	if v, _ := kv[3].Value.Uint(); v != 15 {
		t.Errorf("file_type %d, want 15", v)
	}
}

func TestSortTensors(t *testing.T) {
	ts := []loader.TensorInfo{{Name: "blk.10.a"}, {Name: "token_embd.weight"}, {Name: "blk.2.b"}, {Name: "blk.2.a"}, {Name: "output.weight"}}
	SortTensors(ts)
	var names []string
	for _, x := range ts {
		names = append(names, x.Name)
	}
	if got := strings.Join(names, " "); got != "output.weight token_embd.weight blk.2.a blk.2.b blk.10.a" {
		t.Fatalf("order %s", got)
	}
}

func TestParseFtype(t *testing.T) {
	for s, want := range map[string]Ftype{"q4_k_m": FtypeQ4_KM, "Q4_K": FtypeQ4_KM, "Q3_K": FtypeQ3_KM, "Q5_K": FtypeQ5_KM,
		"f32": FtypeF32, "15": FtypeQ4_KM, "IQ4_XS": FtypeIQ4XS, "bf16": FtypeBF16} {
		if got, ok := ParseFtype(s); !ok || got != want {
			t.Errorf("ParseFtype(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "Q4_K_X", "IQ2_XXS", "99"} {
		if _, ok := ParseFtype(s); ok {
			t.Errorf("ParseFtype(%q) accepted", s)
		}
	}
	if FtypeQ4_KM.String() != "Q4_K_M" || FtypeQ3_KM.String() != "Q3_K_M" {
		t.Errorf("String: %s %s", FtypeQ4_KM, FtypeQ3_KM)
	}
}

func TestMain_CLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "q.gguf")
	var so, se bytes.Buffer
	code := Main([]string{"--tensor-type", "FFN_DOWN=F16", storiesF32(t), out, "q5_1", "-t", "2"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(storiesRef(t, "Q5_1"))
	if !bytes.Equal(got, want) {
		t.Error("CLI output differs from llama-quantize's")
	}
	if !strings.Contains(so.String(), "quant size") || !strings.Contains(so.String(), "BPW") {
		t.Errorf("no summary: %q", so.String())
	}
	// Not a terminal: one plain line per tensor, like llama-quantize's log.
	if n := strings.Count(se.String(), "\n["); n != 48 || !strings.Contains(se.String(), "converting to q5_1") {
		t.Errorf("progress log (%d tensor lines):\n%s", n, se.String())
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Error("temporary file left behind")
	}

	// --flag=value spelling and llama-quantize's positional thread count.
	out2 := filepath.Join(dir, "q2.gguf")
	code = Main([]string{storiesF32(t), out2, "Q4_0", "2", "--tensor-type=ffn_down=f16"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	got, _ = os.ReadFile(out2)
	want, _ = os.ReadFile(storiesRef(t, "Q4_0"))
	if !bytes.Equal(got, want) {
		t.Error("CLI output differs from llama-quantize's")
	}

	for _, args := range [][]string{
		{"in.gguf", "out.gguf"},
		{"in.gguf", "out.gguf", "Q9_9"},
		{"in.gguf", "out.gguf", "Q4_0", "--bogus"},
		{"in.gguf", "out.gguf", "Q4_0", "-t", "zero"},
		{"in.gguf", "out.gguf", "Q4_0", "--tensor-type", "ffn_down"},
		{"in.gguf", "out.gguf", "Q4_0", "--output-tensor-type", "q9"},
	} {
		se.Reset()
		if code := Main(args, &so, &se); code != 2 || !strings.Contains(se.String(), "usage:") {
			t.Errorf("%v: exit %d, stderr %q", args, code, se.String())
		}
	}
	if code := Main([]string{"missing.gguf", filepath.Join(dir, "x.gguf"), "Q4_0"}, &so, &se); code != 1 {
		t.Errorf("missing input: exit %d", code)
	}
	so.Reset()
	if code := Main([]string{"--help"}, &so, &se); code != 0 || !strings.Contains(so.String(), "Q4_K_M") {
		t.Errorf("--help: exit %d, %q", code, so.String())
	}
}

// --output-tensor-type, --token-embedding-type and --pure, checked against
// llama_tensor_get_type's rules.
func TestPlanOptions(t *testing.T) {
	src := open(t, testutil.Shared(t, "ref/synth256/synth256-F32.gguf"))
	m := ModelInfoFrom(src.KV)
	plan, err := Plan(m, src.Tensors, Options{Ftype: FtypeQ4_KM, Pure: true,
		OutputTensorType: OptionalType{kernels.Q8_0, true}, TokenEmbeddingType: OptionalType{kernels.F16, true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range plan {
		want := kernels.Q4_K
		switch {
		case c.Name == "output.weight":
			want = kernels.Q8_0
		case c.Name == "token_embd.weight":
			want = kernels.F16
		case len(c.Shape) == 1:
			want = kernels.F32
		}
		if c.To != want {
			t.Errorf("%s: %s, want %s", c.Name, c.To, want)
		}
	}
	// Tied embeddings (no output.weight): token_embd follows the output rule.
	var noOut []loader.TensorInfo
	for _, ti := range src.Tensors {
		if ti.Name != "output.weight" {
			noOut = append(noOut, ti)
		}
	}
	plan, err = Plan(m, noOut, Options{Ftype: FtypeQ4_0})
	if err != nil {
		t.Fatal(err)
	}
	if plan[0].Name != "output_norm.weight" || plan[1].Name != "token_embd.weight" || plan[1].To != kernels.Q6_K {
		t.Errorf("tied token_embd: %s %s", plan[1].Name, plan[1].To)
	}
	// Mixture-of-experts and 70B rules: attn_v gets Q8_0 with 8 experts.
	m8 := m
	m8.NExpert = 8
	plan, _ = Plan(m8, src.Tensors, Options{Ftype: FtypeQ4_KS})
	for _, c := range plan {
		if strings.HasSuffix(c.Name, "attn_v.weight") && c.To != kernels.Q8_0 {
			t.Errorf("8 experts: %s is %s, want q8_0", c.Name, c.To)
		}
		if strings.HasSuffix(c.Name, "attn_output.weight") && c.To != kernels.Q5_K {
			t.Errorf("8 experts: %s is %s, want q5_K", c.Name, c.To)
		}
	}
}

// With --allow-requantize a Q8_0 file is dequantized and quantized again;
// the result equals quantizing the dequantized values directly.
func TestAllowRequantize(t *testing.T) {
	in := storiesRef(t, "Q8_0")
	out := filepath.Join(t.TempDir(), "out.gguf")
	if _, err := File(in, out, Options{Ftype: FtypeQ4_0, AllowRequantize: true,
		TensorTypes: []TensorTypeOverride{{Pattern: "ffn_down", Type: kernels.F16}}}, nil); err != nil {
		t.Fatal(err)
	}
	src, dst := open(t, in), open(t, out)
	st, _ := src.Tensor("blk.1.attn_q.weight")
	dt, _ := dst.Tensor("blk.1.attn_q.weight")
	if dt.Type != kernels.Q4_0 {
		t.Fatalf("type %s", dt.Type)
	}
	x := make([]float32, st.Elements())
	if err := kernels.Dequantize(st.Type, src.TensorData(st), x); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, dt.Size)
	if err := kernels.Quantize(kernels.Q4_0, x, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.TensorData(dt), want) {
		t.Error("requantized bytes differ")
	}
}

// The output does not depend on how rows are split between threads.
func TestThreadsSameBytes(t *testing.T) {
	src := testutil.Shared(t, "ref/synth256/synth256-F32.gguf")
	want, err := os.ReadFile(testutil.Shared(t, "ref/synth256/synth256-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 8} {
		out := filepath.Join(t.TempDir(), "out.gguf")
		if _, err := File(src, out, Options{Ftype: FtypeQ4_KM, Threads: n}, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, want) {
			t.Errorf("%d threads: output differs from llama-quantize's", n)
		}
	}
}

func BenchmarkFile(b *testing.B) {
	src := testutil.Shared(b, "ref/synth256/synth256-F32.gguf")
	for _, p := range []string{"Q8_0", "Q4_K_M", "IQ4_XS"} {
		ft, _ := ParseFtype(p)
		b.Run(p, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "out.gguf")
			st, _ := os.Stat(src)
			b.SetBytes(st.Size())
			for b.Loop() {
				if _, err := File(src, out, Options{Ftype: ft}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
