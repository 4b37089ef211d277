package modelbench

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

const testVocab = "testdata/ggml-vocab-llama-spm.gguf"

// TestUseMoreBits checks the Q4_K_M layer choice against llama-quantize's
// for TinyLlama's 22 layers: the first two, the last three, and every
// third from layer 4.
func TestUseMoreBits(t *testing.T) {
	var got []int
	for i := 0; i < 22; i++ {
		if useMoreBits(i, 22) {
			got = append(got, i)
		}
	}
	want := []int{0, 1, 4, 7, 10, 13, 16, 19, 20, 21}
	if len(got) != len(want) {
		t.Fatalf("useMoreBits layers = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("useMoreBits layers = %v, want %v", got, want)
		}
	}
}

func synthTiny(t *testing.T, typ string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny-"+typ+".gguf")
	var out, errb bytes.Buffer
	if code := SynthMain([]string{"--shape", "tiny", "--type", typ, "-o", path, "--vocab", testVocab}, &out, &errb); code != 0 {
		t.Fatalf("SynthMain exit %d: %s", code, errb.String())
	}
	return path
}

// TestSynthTinyQ4KM writes a tiny Q4_K_M model and reads it back: metadata,
// the copied vocabulary, the per-tensor types of the mix, and that every
// quantized tensor dequantizes to values of the intended size.
func TestSynthTinyQ4KM(t *testing.T) {
	path := synthTiny(t, "Q4_K_M")
	f, err := loader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := f.ModelConfig()
	if err != nil {
		t.Fatal(err)
	}
	s := Shapes["tiny"]
	if c.EmbeddingLength != s.Embd || c.BlockCount != s.Layers || c.HeadCount != s.Heads ||
		c.HeadCountKV != s.KV || c.FeedForwardLength != s.FFN || c.VocabSize != s.Vocab {
		t.Errorf("config %+v does not match shape %+v", c, s)
	}
	if v, _ := f.Get("tokenizer.ggml.model"); func() string { s, _ := v.Str(); return s }() != "llama" {
		t.Errorf("tokenizer.ggml.model = %v", v)
	}
	if v, _ := f.Get("general.file_type"); func() uint64 { u, _ := v.Uint(); return u }() != 15 {
		t.Errorf("general.file_type = %v, want 15 (Q4_K_M)", v)
	}
	want := map[string]kernels.Type{
		"token_embd.weight": kernels.Q4_K, "output.weight": kernels.Q6_K, "output_norm.weight": kernels.F32,
		"blk.0.attn_v.weight": kernels.Q4_K, "blk.1.attn_v.weight": kernels.Q6_K,
		"blk.1.ffn_down.weight": kernels.Q6_K, "blk.0.attn_q.weight": kernels.Q4_K,
	}
	for name, typ := range want {
		ti, ok := f.Tensor(name)
		if !ok || ti.Type != typ {
			t.Errorf("%s: %v, want %s", name, ti, typ)
		}
	}
	ti, _ := f.Tensor("blk.0.ffn_gate.weight")
	row := make([]float32, ti.Shape[0])
	rb, _ := kernels.RowBytes(ti.Type, ti.Shape[0])
	if err := kernels.Dequantize(ti.Type, f.TensorData(ti)[:rb], row); err != nil {
		t.Fatal(err)
	}
	var ss float64
	for _, v := range row {
		ss += float64(v) * float64(v)
	}
	if std := ss / float64(len(row)); std < 0.015*0.015 || std > 0.025*0.025 {
		t.Errorf("ffn_gate row has variance %g, want about 0.02²", std)
	}
}

// TestModelMainJSON runs the pp and tg tests on a tiny model and checks the
// llama-bench JSON fields.
func TestModelMainJSON(t *testing.T) {
	path := synthTiny(t, "Q8_0")
	var out, errb bytes.Buffer
	code := ModelMain([]string{"-m", path, "-p", "8", "-n", "4", "-t", "2", "-r", "2", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("ModelMain exit %d: %s", code, errb.String())
	}
	var res []map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out.String())
	}
	if len(res) != 2 {
		t.Fatalf("%d results, want 2 (pp8, tg4)", len(res))
	}
	for _, k := range []string{"n_prompt", "n_gen", "n_threads", "avg_ts", "stddev_ts", "samples_ts", "model_filename", "model_size", "model_n_params"} {
		if _, ok := res[0][k]; !ok {
			t.Errorf("field %s missing", k)
		}
	}
	if res[0]["n_prompt"] != 8.0 || res[0]["n_gen"] != 0.0 || res[1]["n_prompt"] != 0.0 || res[1]["n_gen"] != 4.0 {
		t.Errorf("tests are %v/%v and %v/%v, want pp8 and tg4", res[0]["n_prompt"], res[0]["n_gen"], res[1]["n_prompt"], res[1]["n_gen"])
	}
	for _, r := range res {
		if ts, _ := r["avg_ts"].(float64); !(ts > 0) {
			t.Errorf("avg_ts = %v", r["avg_ts"])
		}
		if s, _ := r["samples_ts"].([]any); len(s) != 2 {
			t.Errorf("samples_ts = %v, want 2 samples", r["samples_ts"])
		}
		if r["n_threads"] != 2.0 {
			t.Errorf("n_threads = %v", r["n_threads"])
		}
	}
	f, err := loader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var params int64
	for i := range f.Tensors {
		params += f.Tensors[i].Elements()
	}
	if res[0]["model_n_params"] != float64(params) {
		t.Errorf("model_n_params = %v, want %d", res[0]["model_n_params"], params)
	}

	out.Reset()
	if code := ModelMain([]string{"-m", path, "-p", "4", "-n", "0", "-r", "1", "-t", "1"}, &out, &errb); code != 0 {
		t.Fatalf("markdown run: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "| pp4 ") && !strings.Contains(out.String(), "pp4 |") {
		t.Errorf("markdown output lacks the pp4 row:\n%s", out.String())
	}
}

func TestBadArguments(t *testing.T) {
	var out, errb bytes.Buffer
	if code := SynthMain([]string{"--shape", "huge", "-o", filepath.Join(t.TempDir(), "x")}, &out, &errb); code != 2 {
		t.Errorf("unknown shape: exit %d, want 2", code)
	}
	if code := SynthMain([]string{"--type", "Q9_9", "-o", filepath.Join(t.TempDir(), "x"), "--vocab", testVocab}, &out, &errb); code != 1 {
		t.Errorf("unknown type: exit %d, want 1", code)
	}
	if code := ModelMain([]string{"-p", "8"}, &out, &errb); code != 2 {
		t.Errorf("no -m: exit %d, want 2", code)
	}
	if code := ModelMain([]string{"-m", filepath.Join(t.TempDir(), "missing.gguf")}, &out, &errb); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}

// BenchmarkReadBandwidth measures the memory read bandwidth that bounds
// tg: a 2 GiB buffer summed by one and by two goroutines.
func BenchmarkReadBandwidth(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(string(rune('0'+w))+"-goroutines", func(b *testing.B) {
			for b.Loop() {
				bw := ReadBandwidth(2<<30, w, 3)
				b.ReportMetric(bw/1e9, "GB/s")
			}
		})
	}
}
