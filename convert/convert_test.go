package convert

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/model/bundled"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

func stories(t testing.TB) *loader.File {
	t.Helper()
	f, err := loader.Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// hfName is the inverse of mapName for the test checkpoint.
func hfName(t testing.TB, gguf string) string {
	for hf, g := range globalNames {
		if g == gguf {
			return hf
		}
	}
	rest, ok := strings.CutPrefix(gguf, "blk.")
	if ok {
		num, tail, _ := strings.Cut(rest, ".")
		base, suffix, _ := strings.Cut(tail, ".")
		for hf, g := range blockNames {
			if g == base {
				return "model.layers." + num + "." + hf + "." + suffix
			}
		}
	}
	t.Fatalf("no HF name for %s", gguf)
	return ""
}

// f32s decodes an F32 tensor.
func f32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// unpermuteRows undoes permuteRows: GGML row h*d + 2*i + j goes back to HF
// row h*d + j*d/2 + i. Written independently of permuteRows so the test
// checks the converter's permutation rather than repeating it.
func unpermuteRows(w []float32, rows, rowLen, heads int) []float32 {
	out := make([]float32, len(w))
	d := rows / heads
	for r := 0; r < rows; r++ {
		h, k := r/d, r%d
		i, j := k/2, k%2
		hf := h*d + j*(d/2) + i
		copy(out[hf*rowLen:(hf+1)*rowLen], w[r*rowLen:(r+1)*rowLen])
	}
	return out
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

const testChatTemplate = "{% for m in messages %}{{ m['content'] }}{% endfor %}"

// storiesConfig is config.json for stories260K as transformers writes it.
func storiesConfig() map[string]any {
	return map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"model_type":              "llama",
		"hidden_size":             64,
		"intermediate_size":       172,
		"num_attention_heads":     8,
		"num_key_value_heads":     4,
		"num_hidden_layers":       5,
		"max_position_embeddings": 2048,
		"rms_norm_eps":            1e-5,
		"rope_theta":              10000.0,
		"vocab_size":              512,
		"bos_token_id":            1,
		"eos_token_id":            2,
		"tie_word_embeddings":     false,
		"torch_dtype":             "float32",
	}
}

// writeStoriesCheckpoint writes stories260K as a Hugging Face checkpoint:
// HF tensor names and layout (Q/K rows un-permuted, shapes outermost
// first), config.json, a SentencePiece tokenizer.model built from the
// GGUF vocabulary and tokenizer_config.json. With shards > 1 the tensors
// are split over that many files with model.safetensors.index.json.
func writeStoriesCheckpoint(t testing.TB, dir string, shards int, dtype string) {
	t.Helper()
	f := stories(t)
	var ts []loader.StTensor
	for i := range f.Tensors {
		info := &f.Tensors[i]
		vals := f32s(f.TensorData(info))
		shape := make([]int64, len(info.Shape))
		for k, d := range info.Shape {
			shape[len(shape)-1-k] = d
		}
		switch {
		case strings.HasSuffix(info.Name, "attn_q.weight"):
			vals = unpermuteRows(vals, int(shape[0]), int(shape[1]), 8)
		case strings.HasSuffix(info.Name, "attn_k.weight"):
			vals = unpermuteRows(vals, int(shape[0]), int(shape[1]), 4)
		}
		var data []byte
		switch dtype {
		case "F32":
			data = f32bytes(vals)
		case "F16":
			for _, v := range vals {
				data = binary.LittleEndian.AppendUint16(data, kernels.FP32ToFP16(v))
			}
		case "BF16":
			for _, v := range vals {
				data = binary.LittleEndian.AppendUint16(data, kernels.FP32ToBF16(v))
			}
		}
		ts = append(ts, loader.StTensor{Name: hfName(t, info.Name), DType: dtype, Shape: shape, Data: data})
	}
	writeSt := func(name string, ts []loader.StTensor) {
		var buf bytes.Buffer
		if err := loader.WriteSafetensors(&buf, ts, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if shards <= 1 {
		writeSt("model.safetensors", ts)
	} else {
		weightMap := map[string]string{}
		per := (len(ts) + shards - 1) / shards
		for s := 0; s < shards; s++ {
			part := ts[s*per : min((s+1)*per, len(ts))]
			name := "model-0000" + string(rune('1'+s)) + "-of-0000" + string(rune('0'+shards)) + ".safetensors"
			for _, x := range part {
				weightMap[x.Name] = name
			}
			writeSt(name, part)
		}
		writeJSON(t, filepath.Join(dir, "model.safetensors.index.json"), map[string]any{
			"metadata": map[string]any{"total_size": 1170000}, "weight_map": weightMap})
	}
	writeJSON(t, filepath.Join(dir, "config.json"), storiesConfig())

	tokV, _ := f.Get("tokenizer.ggml.tokens")
	scV, _ := f.Get("tokenizer.ggml.scores")
	tyV, _ := f.Get("tokenizer.ggml.token_type")
	toks, _ := tokV.Strings()
	scores, _ := scV.Float32s()
	types, _ := tyV.Int32s()
	pieces := make([]SpPiece, len(toks))
	for i := range toks {
		pieces[i] = SpPiece{Piece: toks[i], Score: scores[i], Type: types[i]}
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.model"), AppendSentencePiece(nil, pieces), 0o644); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{
		"add_bos_token": true, "add_eos_token": false,
		"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
		"tokenizer_class": "LlamaTokenizer", "chat_template": testChatTemplate,
	})
}

func convertStories(t testing.TB, shards int, dtype, outType string) (string, *loader.File) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stories260K-hf")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeStoriesCheckpoint(t, dir, shards, dtype)
	out := filepath.Join(t.TempDir(), "out.gguf")
	if err := Convert(dir, out, Options{OutType: outType}); err != nil {
		t.Fatal(err)
	}
	g, err := loader.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return dir, g
}

// generate runs greedy decoding of n tokens after prompt.
func generate(t testing.TB, f *loader.File, prompt string, n int) ([]int32, []int32) {
	t.Helper()
	m, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(prompt, true, true)
	pool := kernels.NewPool(1)
	defer pool.Close()
	s, err := engine.NewSession(m, pool, len(ids)+n, kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := s.Eval(ids, false)
	var out []int32
	for err == nil && len(out) < n {
		id := engine.Argmax(logits)
		out = append(out, id)
		logits, err = s.Eval([]int32{id}, false)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ids, out
}

func TestConvertStoriesF32(t *testing.T) {
	for _, shards := range []int{1, 2} {
		orig := stories(t)
		_, g := convertStories(t, shards, "F32", "f32")

		// (a) every tensor is the original's, byte for byte, in F32.
		if len(g.Tensors) != len(orig.Tensors) {
			t.Fatalf("shards %d: %d tensors, want %d", shards, len(g.Tensors), len(orig.Tensors))
		}
		for i := range orig.Tensors {
			o := &orig.Tensors[i]
			c, ok := g.Tensor(o.Name)
			if !ok {
				t.Fatalf("converted file lacks %s", o.Name)
			}
			if c.Type != kernels.F32 || !reflect.DeepEqual(c.Shape, o.Shape) {
				t.Errorf("%s: %s %v, want F32 %v", o.Name, c.Type, c.Shape, o.Shape)
			}
			if !bytes.Equal(g.TensorData(c), orig.TensorData(o)) {
				t.Errorf("shards %d: %s: data differs from the original", shards, o.Name)
			}
		}
		// llama.cpp's order: checkpoint order, which is by HF name.
		var names []string
		for _, x := range g.Tensors {
			names = append(names, hfName(t, x.Name))
		}
		// With two shards of 24 tensors, each shard is in name order.
		if !sort.StringsAreSorted(names[:len(names)/shards]) || !sort.StringsAreSorted(names[len(names)/shards:]) {
			t.Errorf("tensors not in HF name order: %v", names)
		}

		// The metadata the model and tokenizer read are the original's.
		for _, k := range []string{
			"general.architecture", "llama.context_length", "llama.embedding_length", "llama.feed_forward_length",
			"llama.attention.head_count", "llama.attention.head_count_kv", "llama.block_count",
			"llama.rope.dimension_count", "llama.attention.layer_norm_rms_epsilon",
			"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
			"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
		} {
			ov, _ := orig.Get(k)
			cv, ok := g.Get(k)
			if !ok || !reflect.DeepEqual(ov, cv) {
				t.Errorf("%s = %v, want %v", k, cv, ov)
			}
		}
		oc, _ := orig.ModelConfig()
		cc, err := g.ModelConfig()
		if err != nil {
			t.Fatal(err)
		}
		oc.Name, cc.Name = "", ""
		if !reflect.DeepEqual(oc, cc) {
			t.Errorf("model config %+v, want %+v", cc, oc)
		}
		// Keys llama.cpp writes that the bundled file (made by another tool)
		// lacks, and their order.
		want := map[string]string{
			"general.type": "model", "general.name": "stories260K Hf", "general.size_label": "293K",
			"tokenizer.ggml.pre": "default", "tokenizer.chat_template": testChatTemplate,
		}
		for k, v := range want {
			if got, _ := g.Get(k); got.String() != `"`+v+`"` {
				if s, _ := got.Str(); s != v {
					t.Errorf("%s = %v, want %q", k, got, v)
				}
			}
		}
		for k, v := range map[string]uint64{"general.file_type": 0, "general.quantization_version": 2, "llama.vocab_size": 512} {
			if got, _ := g.Get(k); func() uint64 { u, _ := got.Uint(); return u }() != v {
				t.Errorf("%s = %v, want %d", k, got, v)
			}
		}
		if v, _ := g.Get("tokenizer.ggml.add_bos_token"); func() bool { b, ok := v.Bool(); return !ok || !b }() {
			t.Errorf("add_bos_token = %v", v)
		}
		order := []string{"general.architecture", "general.type", "general.name", "general.size_label", "llama.block_count", "llama.context_length"}
		for i, k := range order {
			if g.KV[i].Key != k {
				t.Errorf("key %d is %s, want %s", i, g.KV[i].Key, k)
			}
		}
		last := g.KV[len(g.KV)-1].Key
		if last != "tokenizer.chat_template" {
			t.Errorf("last key %s, want tokenizer.chat_template", last)
		}

		// (c) tokenization matches.
		ot, _ := tokenizer.FromGGUF(orig)
		ct, err := tokenizer.FromGGUF(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Once upon a time", " Lily and Tom went to the park.\n\"Hi!\" said Sam 123 ☃", "", "<s>x</s>"} {
			if a, b := ot.Encode(s, true, true), ct.Encode(s, true, true); !reflect.DeepEqual(a, b) {
				t.Errorf("Encode(%q) = %v, want %v", s, b, a)
			}
		}

		// (b) greedy generation matches.
		wantPrompt, wantOut := generate(t, orig, "Once upon a time", 32)
		gotPrompt, gotOut := generate(t, g, "Once upon a time", 32)
		if !reflect.DeepEqual(wantPrompt, gotPrompt) || !reflect.DeepEqual(wantOut, gotOut) {
			t.Errorf("shards %d: generation %v %v, want %v %v", shards, gotPrompt, gotOut, wantPrompt, wantOut)
		}
		if shards == 1 {
			t.Logf("generated %v", gotOut)
		}
	}
}

func TestConvertOutTypes(t *testing.T) {
	orig := stories(t)
	for _, c := range []struct {
		outType string
		typ     kernels.Type
		ftype   uint64
	}{
		{"f16", kernels.F16, 1},
		{"bf16", kernels.BF16, 32},
		{"q8_0", kernels.Q8_0, 7},
	} {
		_, g := convertStories(t, 1, "F32", c.outType)
		if v, _ := g.Get("general.file_type"); func() uint64 { u, _ := v.Uint(); return u }() != c.ftype {
			t.Errorf("%s: file_type %v, want %d", c.outType, v, c.ftype)
		}
		for i := range orig.Tensors {
			o := &orig.Tensors[i]
			ct, ok := g.Tensor(o.Name)
			if !ok {
				t.Fatalf("%s: missing %s", c.outType, o.Name)
			}
			want := c.typ
			switch {
			case len(o.Shape) == 1:
				want = kernels.F32
			case c.typ == kernels.Q8_0 && o.Shape[0]%32 != 0:
				want = kernels.F16 // ffn_down rows of 172: llama.cpp falls back to F16
			}
			if ct.Type != want {
				t.Errorf("%s: %s is %s, want %s", c.outType, o.Name, ct.Type, want)
				continue
			}
			exp := make([]byte, ct.Size)
			if err := kernels.Quantize(want, f32s(orig.TensorData(o)), exp); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g.TensorData(ct), exp) {
				t.Errorf("%s: %s differs from kernels' conversion of the original", c.outType, o.Name)
			}
		}
		if _, out := generate(t, g, "Once upon a time", 8); len(out) != 8 {
			t.Errorf("%s: generated %d tokens", c.outType, len(out))
		}
	}
}

// Half-precision checkpoints convert losslessly to their own type.
func TestConvertHalfCheckpoints(t *testing.T) {
	orig := stories(t)
	for _, c := range []struct {
		dtype, outType string
		typ            kernels.Type
	}{{"F16", "f16", kernels.F16}, {"BF16", "bf16", kernels.BF16}} {
		_, g := convertStories(t, 2, c.dtype, c.outType)
		for i := range orig.Tensors {
			o := &orig.Tensors[i]
			ct, _ := g.Tensor(o.Name)
			want := c.typ
			if len(o.Shape) == 1 {
				want = kernels.F32 // norms are widened back to F32
			}
			vals := f32s(orig.TensorData(o))
			// The checkpoint holds the values rounded to its dtype.
			exp := make([]byte, ct.Size)
			half := make([]byte, 2*len(vals))
			kernels.Quantize(c.typ, vals, half)
			rounded := make([]float32, len(vals))
			kernels.Dequantize(c.typ, half, rounded)
			if err := kernels.Quantize(want, rounded, exp); err != nil {
				t.Fatal(err)
			}
			if ct.Type != want || !bytes.Equal(g.TensorData(ct), exp) {
				t.Errorf("%s: %s (%s) differs", c.dtype, o.Name, ct.Type)
			}
		}
	}
}

func TestPermuteRoundTrip(t *testing.T) {
	rows, rowLen, heads := 24, 3, 3
	w := make([]float32, rows*rowLen)
	for i := range w {
		w[i] = float32(i)
	}
	p := make([]float32, len(w))
	permuteRows(p, w, rows, rowLen, heads)
	if reflect.DeepEqual(p, w) {
		t.Fatal("permutation is the identity")
	}
	// Head 0 (d = 8): GGML row 1 is HF row 4 (the first of the second half).
	if p[1*rowLen] != w[4*rowLen] {
		t.Errorf("row 1 = %v, want HF row 4", p[rowLen:2*rowLen])
	}
	if !reflect.DeepEqual(unpermuteRows(p, rows, rowLen, heads), w) {
		t.Error("unpermute(permute(w)) != w")
	}
}

func TestSizeLabel(t *testing.T) {
	for n, want := range map[int64]string{292800: "293K", 15_200_000: "15M", 1_100_048_384: "1.1B", 7_241_732_096: "7.2B", 260_000: "260K", 8_030_261_248: "8.0B"} {
		if got := sizeLabel(n); got != want {
			t.Errorf("sizeLabel(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestSentencePieceProto(t *testing.T) {
	pieces := []SpPiece{{"<unk>", 0, 2}, {"▁a", -1.5, 1}, {"<0x0A>", 0, 6}, {"", 0, 1}}
	got, err := ParseSentencePiece(AppendSentencePiece(nil, pieces))
	if err != nil || !reflect.DeepEqual(got, pieces) {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	// Unknown fields (trainer_spec = 2, normalizer_spec = 3) are skipped.
	extra := append([]byte{2<<3 | 2, 2, 8, 1, 3<<3 | 0, 5}, AppendSentencePiece(nil, pieces[:1])...)
	if got, err := ParseSentencePiece(extra); err != nil || len(got) != 1 {
		t.Errorf("with extra fields: %v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {0x0a, 50, 1}, {0x0a}, {0x0b}, {0x0a, 2, 0x18, 9}} {
		if _, err := ParseSentencePiece(bad); err == nil {
			t.Errorf("ParseSentencePiece(%v) succeeded", bad)
		}
	}
}

func FuzzParseSentencePiece(f *testing.F) {
	f.Add(AppendSentencePiece(nil, []SpPiece{{"<unk>", 0, 2}, {"▁a", -1.5, 1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseSentencePiece(b)
	})
}

func TestConvertErrors(t *testing.T) {
	base := filepath.Join(t.TempDir(), "ck")
	os.Mkdir(base, 0o755)
	writeStoriesCheckpoint(t, base, 1, "F32")
	// clone copies the checkpoint and lets edit change it.
	clone := func(edit func(dir string)) string {
		dir := filepath.Join(t.TempDir(), "ck")
		os.Mkdir(dir, 0o755)
		entries, _ := os.ReadDir(base)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(base, e.Name()))
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		edit(dir)
		return dir
	}
	editConfig := func(change func(map[string]any)) func(string) {
		return func(dir string) {
			c := storiesConfig()
			change(c)
			writeJSON(t, filepath.Join(dir, "config.json"), c)
		}
	}
	rewriteTensors := func(change func([]loader.StTensor) []loader.StTensor) func(string) {
		return func(dir string) {
			st, err := loader.OpenSafetensors(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			ts := append([]loader.StTensor(nil), st.Tensors...)
			for i := range ts {
				ts[i].Data = append([]byte(nil), ts[i].Data...)
			}
			st.Close()
			var buf bytes.Buffer
			if err := loader.WriteSafetensors(&buf, change(ts), nil); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "model.safetensors"), buf.Bytes(), 0o644)
		}
	}
	cases := []struct {
		name, want string
		dir        string
		outType    string
	}{
		{"missing config", "config.json", clone(func(d string) { os.Remove(filepath.Join(d, "config.json")) }), "f32"},
		{"bad config json", "config.json", clone(func(d string) { os.WriteFile(filepath.Join(d, "config.json"), []byte("{"), 0o644) }), "f32"},
		{"unsupported arch", `"GPT2LMHeadModel" is not supported`, clone(editConfig(func(c map[string]any) { c["architectures"] = []string{"GPT2LMHeadModel"} })), "f32"},
		{"missing hidden size", "missing hidden_size", clone(editConfig(func(c map[string]any) { delete(c, "hidden_size") })), "f32"},
		{"bad heads", "multiple", clone(editConfig(func(c map[string]any) { c["num_key_value_heads"] = 3 })), "f32"},
		{"shape mismatch", "has shape", clone(editConfig(func(c map[string]any) { c["intermediate_size"] = 170 })), "f32"},
		{"vocab mismatch", "[600 64]", clone(editConfig(func(c map[string]any) { c["vocab_size"] = 600 })), "f32"},
		{"unsupported rope", `rope type "longrope"`, clone(editConfig(func(c map[string]any) { c["rope_scaling"] = map[string]any{"type": "longrope"} })), "f32"},
		{"missing tensor", "blk.3.ffn_up.weight", clone(rewriteTensors(func(ts []loader.StTensor) []loader.StTensor {
			var out []loader.StTensor
			for _, x := range ts {
				if x.Name != "model.layers.3.mlp.up_proj.weight" {
					out = append(out, x)
				}
			}
			return out
		})), "f32"},
		{"unknown tensor", `"model.layers.0.mlp.extra.weight"`, clone(rewriteTensors(func(ts []loader.StTensor) []loader.StTensor {
			return append(ts, loader.StTensor{Name: "model.layers.0.mlp.extra.weight", DType: "F32", Shape: []int64{1}, Data: make([]byte, 4)})
		})), "f32"},
		{"layer out of range", `"model.layers.9.mlp.up_proj.weight"`, clone(rewriteTensors(func(ts []loader.StTensor) []loader.StTensor {
			return append(ts, loader.StTensor{Name: "model.layers.9.mlp.up_proj.weight", DType: "F32", Shape: []int64{1}, Data: make([]byte, 4)})
		})), "f32"},
		{"integer dtype", "dtype I32", clone(rewriteTensors(func(ts []loader.StTensor) []loader.StTensor {
			for i := range ts {
				if ts[i].Name == "model.norm.weight" {
					ts[i].DType = "I32"
				}
			}
			return ts
		})), "f32"},
		{"corrupt safetensors", "model.safetensors", clone(func(d string) {
			p := filepath.Join(d, "model.safetensors")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}), "f32"},
		{"no safetensors", "no model", clone(func(d string) { os.Remove(filepath.Join(d, "model.safetensors")) }), "f32"},
		{"no tokenizer", "neither tokenizer.model nor tokenizer.json", clone(func(d string) { os.Remove(filepath.Join(d, "tokenizer.model")) }), "f32"},
		{"corrupt tokenizer.model", "tokenizer.model", clone(func(d string) { os.WriteFile(filepath.Join(d, "tokenizer.model"), []byte{0x0a, 0x7f}, 0o644) }), "f32"},
		{"bad outtype", "outtype", base, "q4_0"},
	}
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "x.gguf")
		err := Convert(c.dir, out, Options{OutType: c.outType})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
		if _, statErr := os.Stat(out); statErr == nil {
			t.Errorf("%s: a partial output file was left behind", c.name)
		}
		entries, _ := os.ReadDir(filepath.Dir(out))
		if len(entries) != 0 {
			t.Errorf("%s: temporary files left: %v", c.name, entries)
		}
	}
}

func TestMain_CLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	os.Mkdir(dir, 0o755)
	writeStoriesCheckpoint(t, dir, 1, "F32")
	out := filepath.Join(t.TempDir(), "m.gguf")
	var so, se bytes.Buffer
	if code := Main([]string{dir, out, "--outtype", "q8_0", "-q"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), "wrote") {
		t.Errorf("stdout %q", so.String())
	}
	g, err := loader.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if x, _ := g.Tensor("blk.0.attn_q.weight"); x.Type != kernels.Q8_0 {
		t.Errorf("attn_q is %s", x.Type)
	}
	se.Reset()
	if code := Main([]string{dir}, &so, &se); code != 2 || !strings.Contains(se.String(), "usage") {
		t.Errorf("one argument: exit %d, %q", code, se.String())
	}
	if code := Main([]string{dir, out, "--outtype", "q2"}, &so, &se); code != 2 {
		t.Errorf("bad outtype: exit %d", code)
	}
	if code := Main([]string{filepath.Join(dir, "nope"), out}, &so, &se); code != 1 {
		t.Errorf("missing dir: exit %d", code)
	}
}

func TestLlama3Rope(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	os.Mkdir(dir, 0o755)
	writeStoriesCheckpoint(t, dir, 1, "F32")
	cfg := storiesConfig()
	cfg["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
		"high_freq_factor": 4.0, "original_max_position_embeddings": 64}
	writeJSON(t, filepath.Join(dir, "config.json"), cfg)
	out := filepath.Join(t.TempDir(), "r.gguf")
	if err := Convert(dir, out, Options{OutType: "f32"}); err != nil {
		t.Fatal(err)
	}
	g, err := loader.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Tensors[0].Name != "rope_freqs.weight" || g.Tensors[0].Type != kernels.F32 {
		t.Fatalf("first tensor %s %s, want rope_freqs.weight F32", g.Tensors[0].Name, g.Tensors[0].Type)
	}
	// head_dim 8: wavelengths 2π·10000^(i/8) = 6.3, 63, 628, 6283 against
	// 64/4 = 16 and 64/1 = 64: factors 1, (smoothed), 32, 32.
	got := f32s(g.TensorData(&g.Tensors[0]))
	wave := 2 * math.Pi * math.Pow(10000, 2.0/8)
	smooth := (64/wave - 1) / 3
	want := []float32{1, float32(1 / ((1-smooth)/32 + smooth)), 32, 32}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5*float64(want[i]) {
			t.Errorf("rope_freqs = %v, want %v", got, want)
			break
		}
	}
	if _, out := generate(t, g, "Once upon a time", 4); len(out) != 4 {
		t.Errorf("generated %d tokens", len(out))
	}
}

func TestModelName(t *testing.T) {
	for _, c := range []struct {
		nameOrPath, dir, want string
	}{
		{"", "/x/stories260k-hf", "Stories260K Hf"},
		{"", "/x/TinyLlama-1.1B-chat-v1.0", "TinyLlama 1.1B Chat v1.0"},
		{"meta-llama/Llama-2-7b-hf", "/x/y", "Llama 2 7b Hf"},
		{"/home/me/models/llama", "/x/my-model", "My Model"},
	} {
		hp := hparams{}
		if c.nameOrPath != "" {
			hp["_name_or_path"] = c.nameOrPath
		}
		if got := modelName(hp, c.dir); got != c.want {
			t.Errorf("modelName(%q, %q) = %q, want %q", c.nameOrPath, c.dir, got, c.want)
		}
	}
}

// A checkpoint without lm_head.weight (tie_word_embeddings) converts to a
// GGUF without output.weight, which the model reads as tied; stories260K's
// output matrix equals its embedding, so generation is unchanged.
func TestConvertTiedEmbeddings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	os.Mkdir(dir, 0o755)
	writeStoriesCheckpoint(t, dir, 1, "F32")
	p := filepath.Join(dir, "model.safetensors")
	st, err := loader.OpenSafetensors(p)
	if err != nil {
		t.Fatal(err)
	}
	var ts []loader.StTensor
	for _, x := range st.Tensors {
		if x.Name != "lm_head.weight" {
			x.Data = append([]byte(nil), x.Data...)
			ts = append(ts, x)
		}
	}
	st.Close()
	var buf bytes.Buffer
	if err := loader.WriteSafetensors(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, buf.Bytes(), 0o644)
	cfg := storiesConfig()
	cfg["tie_word_embeddings"] = true
	writeJSON(t, filepath.Join(dir, "config.json"), cfg)
	out := filepath.Join(t.TempDir(), "tied.gguf")
	if err := Convert(dir, out, Options{OutType: "f32"}); err != nil {
		t.Fatal(err)
	}
	g, err := loader.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, ok := g.Tensor("output.weight"); ok || len(g.Tensors) != 47 {
		t.Errorf("tied conversion has %d tensors (output.weight present: %v), want 47 without it", len(g.Tensors), ok)
	}
	_, want := generate(t, stories(t), "Once upon a time", 16)
	if _, got := generate(t, g, "Once upon a time", 16); !reflect.DeepEqual(got, want) {
		t.Errorf("tied generation %v, want %v", got, want)
	}
}

func TestRopeScalingMetadata(t *testing.T) {
	keys := func(rope map[string]any, top map[string]any) map[string]loader.Value {
		hp := hparams{}
		b, _ := json.Marshal(storiesConfig())
		json.Unmarshal(b, &hp)
		if rope != nil {
			hp["rope_scaling"] = rope
		}
		for k, v := range top {
			hp[k] = v
		}
		p, err := parseParams(hp)
		if err != nil {
			t.Fatal(err)
		}
		kvs, err := metadata("x", 1, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]loader.Value{}
		for _, kv := range kvs {
			m[kv.Key] = kv.Value
		}
		return m
	}
	m := keys(map[string]any{"type": "linear", "factor": 4.0}, nil)
	if s, _ := m["llama.rope.scaling.type"].Str(); s != "linear" {
		t.Errorf("linear: type %v", m["llama.rope.scaling.type"])
	}
	if x, _ := m["llama.rope.scaling.factor"].Float(); x != 4 {
		t.Errorf("linear: factor %v", m["llama.rope.scaling.factor"])
	}
	m = keys(map[string]any{"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 1024.0, "beta_fast": 16.0, "attention_factor": 1.5}, nil)
	if s, _ := m["llama.rope.scaling.type"].Str(); s != "yarn" {
		t.Errorf("yarn: type %v", m["llama.rope.scaling.type"])
	}
	if n, _ := m["llama.rope.scaling.original_context_length"].Uint(); n != 1024 {
		t.Errorf("yarn: original context %v", m["llama.rope.scaling.original_context_length"])
	}
	if x, _ := m["llama.rope.scaling.yarn_beta_fast"].Float(); x != 16 {
		t.Errorf("yarn: beta_fast %v", m["llama.rope.scaling.yarn_beta_fast"])
	}
	if x, _ := m["llama.rope.scaling.yarn_attn_factor"].Float(); x != 1.5 {
		t.Errorf("yarn: attn factor %v", m["llama.rope.scaling.yarn_attn_factor"])
	}
	if _, ok := m["llama.rope.scaling.yarn_beta_slow"]; ok {
		t.Error("yarn: beta_slow written though absent")
	}
	// transformers' newer rope_parameters carry rope_theta inside.
	m = keys(nil, map[string]any{"rope_parameters": map[string]any{"rope_type": "default", "rope_theta": 500000.0}, "rope_theta": nil, "head_dim": 8.0})
	if x, _ := m["llama.rope.freq_base"].Float(); x != 500000 {
		t.Errorf("rope_parameters: freq_base %v", m["llama.rope.freq_base"])
	}
	if n, _ := m["llama.attention.key_length"].Uint(); n != 8 {
		t.Errorf("head_dim: key_length %v", m["llama.attention.key_length"])
	}
	if _, ok := m["llama.rope.scaling.type"]; ok {
		t.Error("default rope wrote a scaling type")
	}
}
