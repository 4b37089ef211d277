package convert

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// writeTinyModel writes a one-layer random F16 llama with a vocabulary of
// nVocab and tied embeddings (no lm_head.weight).
func writeTinyModel(t *testing.T, dir string, nVocab int, cfg map[string]any) {
	t.Helper()
	const embd, ff, heads, kv = 8, 16, 2, 1
	seed := uint32(1)
	rnd := func(shape ...int64) loader.StTensor {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		b := make([]byte, 0, 2*n)
		for i := int64(0); i < n; i++ {
			seed = seed*1664525 + 1013904223
			b = binary.LittleEndian.AppendUint16(b, kernels.FP32ToFP16(float32(int32(seed>>8)%2000)/10000))
		}
		return loader.StTensor{DType: "F16", Shape: shape, Data: b}
	}
	named := func(name string, x loader.StTensor) loader.StTensor { x.Name = name; return x }
	ts := []loader.StTensor{
		named("model.embed_tokens.weight", rnd(int64(nVocab), embd)),
		named("model.norm.weight", rnd(embd)),
		named("model.layers.0.input_layernorm.weight", rnd(embd)),
		named("model.layers.0.post_attention_layernorm.weight", rnd(embd)),
		named("model.layers.0.self_attn.q_proj.weight", rnd(embd, embd)),
		named("model.layers.0.self_attn.k_proj.weight", rnd(embd/heads*kv, embd)),
		named("model.layers.0.self_attn.v_proj.weight", rnd(embd/heads*kv, embd)),
		named("model.layers.0.self_attn.o_proj.weight", rnd(embd, embd)),
		named("model.layers.0.mlp.gate_proj.weight", rnd(ff, embd)),
		named("model.layers.0.mlp.up_proj.weight", rnd(ff, embd)),
		named("model.layers.0.mlp.down_proj.weight", rnd(embd, ff)),
	}
	var buf bytes.Buffer
	if err := loader.WriteSafetensors(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	base := map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "hidden_size": embd, "intermediate_size": ff,
		"num_attention_heads": heads, "num_key_value_heads": kv, "num_hidden_layers": 1,
		"max_position_embeddings": 256, "rms_norm_eps": 1e-6, "vocab_size": nVocab, "tie_word_embeddings": true,
	}
	for k, v := range cfg {
		base[k] = v
	}
	writeJSON(t, filepath.Join(dir, "config.json"), base)
}

func tokenizerKVs(f *loader.File) []loader.KV {
	var out []loader.KV
	for _, kv := range f.KV {
		if len(kv.Key) > 10 && kv.Key[:10] == "tokenizer." {
			out = append(out, kv)
		}
	}
	return out
}

func compareKVs(t *testing.T, got, want []loader.KV) {
	t.Helper()
	if len(got) != len(want) {
		var gk, wk []string
		for _, kv := range got {
			gk = append(gk, kv.Key)
		}
		for _, kv := range want {
			wk = append(wk, kv.Key)
		}
		t.Fatalf("tokenizer keys %v, want %v", gk, wk)
	}
	for i := range want {
		if got[i].Key != want[i].Key || !reflect.DeepEqual(got[i].Value, want[i].Value) {
			t.Errorf("key %d: %s = %v, want %s = %v", i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
}

// The tokenizer keys of a conversion equal those llama.cpp's converter
// wrote into its vocab files, in the same order: gpt-2 (tokenizer.json,
// merges in the pair format) and llama-spm (tokenizer.model with
// tokenizer.json added tokens and tokenizer_config.json).
func TestConvertMatchesLlamaCppVocabs(t *testing.T) {
	t.Run("gpt-2", func(t *testing.T) {
		ref, err := loader.Open(testutil.Shared(t, "models/vocab/ggml-vocab-gpt-2.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		tv, _ := ref.Get("tokenizer.ggml.tokens")
		toks, _ := tv.Strings()
		yv, _ := ref.Get("tokenizer.ggml.token_type")
		types, _ := yv.Int32s()
		mv, _ := ref.Get("tokenizer.ggml.merges")
		merges, _ := mv.Strings()
		vocab := map[string]int{}
		var added []any
		for i, s := range toks {
			vocab[s] = i
			if types[i] == tokControl {
				added = append(added, map[string]any{"id": i, "content": s, "special": true})
			}
		}
		var pairs [][2]string
		for _, m := range merges {
			var a, b string
			for k := 0; k < len(m); k++ {
				if m[k] == ' ' {
					a, b = m[:k], m[k+1:]
					break
				}
			}
			pairs = append(pairs, [2]string{a, b})
		}
		dir := filepath.Join(t.TempDir(), "gpt2")
		os.Mkdir(dir, 0o755)
		writeTinyModel(t, dir, len(toks), map[string]any{"bos_token_id": 50256, "eos_token_id": 50256})
		writeJSON(t, filepath.Join(dir, "tokenizer.json"), map[string]any{
			"added_tokens":   added,
			"pre_tokenizer":  gpt2Pre,
			"post_processor": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
			"model":          map[string]any{"type": "BPE", "vocab": vocab, "merges": pairs},
		})
		writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{"model_max_length": 1024})
		out := filepath.Join(t.TempDir(), "gpt2.gguf")
		if err := Convert(dir, out, Options{OutType: "f16"}); err != nil {
			t.Fatal(err)
		}
		g, err := loader.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		compareKVs(t, tokenizerKVs(g), tokenizerKVs(ref))
		if _, ok := g.Tensor("output.weight"); ok {
			t.Error("tied embeddings produced an output.weight")
		}
		if _, out := generate(t, g, "Hello world", 4); len(out) != 4 {
			t.Errorf("generated %d tokens", len(out))
		}
	})
	t.Run("llama-spm", func(t *testing.T) {
		ref, err := loader.Open(testutil.Shared(t, "models/vocab/ggml-vocab-llama-spm.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		tv, _ := ref.Get("tokenizer.ggml.tokens")
		toks, _ := tv.Strings()
		sv, _ := ref.Get("tokenizer.ggml.scores")
		scores, _ := sv.Float32s()
		yv, _ := ref.Get("tokenizer.ggml.token_type")
		types, _ := yv.Int32s()
		pieces := make([]SpPiece, len(toks))
		for i := range toks {
			pieces[i] = SpPiece{Piece: toks[i], Score: scores[i], Type: types[i]}
		}
		dir := filepath.Join(t.TempDir(), "llama")
		os.Mkdir(dir, 0o755)
		writeTinyModel(t, dir, len(toks), map[string]any{"bos_token_id": 1, "eos_token_id": 2})
		os.WriteFile(filepath.Join(dir, "tokenizer.model"), AppendSentencePiece(nil, pieces), 0o644)
		writeJSON(t, filepath.Join(dir, "tokenizer.json"), map[string]any{
			"added_tokens": []any{
				map[string]any{"id": 0, "content": "<unk>", "special": true},
				map[string]any{"id": 1, "content": "<s>", "special": true},
				map[string]any{"id": 2, "content": "</s>", "special": true},
			},
			"model": map[string]any{"type": "BPE", "byte_fallback": true},
		})
		writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{
			"add_bos_token": true, "add_eos_token": false,
			"bos_token": map[string]any{"content": "<s>", "lstrip": false}, "eos_token": "</s>", "unk_token": "<unk>",
			"pad_token": nil, "legacy": false,
		})
		out := filepath.Join(t.TempDir(), "llama.gguf")
		if err := Convert(dir, out, Options{OutType: "f32"}); err != nil {
			t.Fatal(err)
		}
		g, err := loader.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		compareKVs(t, tokenizerKVs(g), tokenizerKVs(ref))
		for _, k := range []string{"llama.vocab_size", "llama.rope.dimension_count", "llama.attention.head_count_kv"} {
			if _, ok := g.Get(k); !ok {
				t.Errorf("missing %s", k)
			}
		}
	})
}

// Converting the stories260K checkpoint to f16, bf16 and q8_0 gives, tensor
// for tensor, the bytes llama-quantize wrote for the same types (its Q8_0
// file was made with ffn_down forced to F16, the converter's fallback for
// rows of 172).
func TestConvertMatchesLlamaQuantize(t *testing.T) {
	for _, typ := range []string{"F16", "BF16", "Q8_0"} {
		ref, err := loader.Open(testutil.Shared(t, "ref/stories260K/stories260K-"+typ+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		_, g := convertStories(t, 1, "F32", map[string]string{"F16": "f16", "BF16": "bf16", "Q8_0": "q8_0"}[typ])
		if len(g.Tensors) != len(ref.Tensors) {
			t.Fatalf("%s: %d tensors, llama.cpp has %d", typ, len(g.Tensors), len(ref.Tensors))
		}
		for i := range ref.Tensors {
			r := &ref.Tensors[i]
			c, ok := g.Tensor(r.Name)
			if !ok {
				t.Fatalf("%s: missing %s", typ, r.Name)
			}
			if c.Type != r.Type || !reflect.DeepEqual(c.Shape, r.Shape) || !bytes.Equal(g.TensorData(c), ref.TensorData(r)) {
				t.Errorf("%s: %s is %s %v, llama.cpp's %s %v (or the bytes differ)", typ, r.Name, c.Type, c.Shape, r.Type, r.Shape)
			}
		}
	}
}
