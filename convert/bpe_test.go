package convert

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// byteAlphabet is GPT-2's bytes_to_unicode: printable Latin-1 bytes stand
// for themselves, the others are mapped to U+0100 onwards in byte order.
func byteAlphabet() []string {
	var out []string
	var rest []int
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out = append(out, string(rune(b)))
		} else {
			rest = append(rest, b)
		}
	}
	for i := range rest {
		out = append(out, string(rune(256+i)))
	}
	return out
}

// bpeMerges build "hello" and " world" (Ġworld) from bytes.
var bpeMerges = [][2]string{{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"}, {"l", "d"}, {"Ġwor", "ld"}}

const endOfText = "<|endoftext|>"

// writeBPECheckpoint writes stories260K's weights with a synthetic
// byte-level BPE tokenizer.json: 256 byte tokens, the tokens of bpeMerges,
// a gap of unused ids and <|endoftext|> as id 511.
func writeBPECheckpoint(t *testing.T, dir string, pre map[string]any, pairMerges bool) (vocab map[string]int) {
	t.Helper()
	writeStoriesCheckpoint(t, dir, 1, "F32")
	os.Remove(filepath.Join(dir, "tokenizer.model"))
	vocab = map[string]int{}
	for i, s := range byteAlphabet() {
		vocab[s] = i
	}
	var merges []any
	for _, m := range bpeMerges {
		vocab[m[0]+m[1]] = len(vocab)
		if pairMerges {
			merges = append(merges, []string{m[0], m[1]})
		} else {
			merges = append(merges, m[0]+" "+m[1])
		}
	}
	writeJSON(t, filepath.Join(dir, "tokenizer.json"), map[string]any{
		"version": "1.0",
		"added_tokens": []any{map[string]any{"id": 511, "content": endOfText, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": true, "special": true}},
		"normalizer":    nil,
		"pre_tokenizer": pre,
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": endOfText, "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}}},
		"decoder": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": "",
			"end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": merges},
	})
	cfg := storiesConfig()
	cfg["bos_token_id"], cfg["eos_token_id"] = 511, 511
	writeJSON(t, filepath.Join(dir, "config.json"), cfg)
	writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{
		"bos_token": endOfText, "eos_token": endOfText, "tokenizer_class": "GPT2Tokenizer",
	})
	return vocab
}

var gpt2Pre = map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}

var llama3Pre = map[string]any{"type": "Sequence", "pretokenizers": []any{
	map[string]any{"type": "Split", "pattern": map[string]any{"Regex": llama3Regex}, "behavior": "Isolated", "invert": false},
	map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
}}

// withTokenizerKeys returns f re-written with its tokenizer.* keys replaced
// by kvs: the GGUF a BPE conversion should be equivalent to.
func withTokenizerKeys(t *testing.T, f *loader.File, kvs []loader.KV) *loader.File {
	t.Helper()
	var all []loader.KV
	for _, kv := range f.KV {
		if !strings.HasPrefix(kv.Key, "tokenizer.") {
			all = append(all, kv)
		}
	}
	all = append(all, kvs...)
	tensors := append([]loader.TensorInfo(nil), f.Tensors...)
	var buf bytes.Buffer
	w, err := loader.NewWriter(&buf, 3, all, tensors)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tensors {
		if err := w.WriteTensor(f.TensorData(&f.Tensors[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := loader.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConvertBPE(t *testing.T) {
	for _, c := range []struct {
		name, pre  string
		preTok     map[string]any
		pairMerges bool
	}{
		{"gpt2", "gpt-2", gpt2Pre, false},
		{"llama3", "llama-bpe", llama3Pre, true},
	} {
		dir := filepath.Join(t.TempDir(), "bpe")
		os.Mkdir(dir, 0o755)
		vocab := writeBPECheckpoint(t, dir, c.preTok, c.pairMerges)
		out := filepath.Join(t.TempDir(), "bpe.gguf")
		if err := Convert(dir, out, Options{OutType: "f32"}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		g, err := loader.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()

		// The tokenizer keys llama.cpp's _set_vocab_gpt2 writes, in order.
		wantTokens := make([]string, 512)
		wantTypes := make([]int32, 512)
		for i := range wantTokens {
			wantTokens[i], wantTypes[i] = "[PAD"+strconv.Itoa(i)+"]", tokUnused
		}
		for s, id := range vocab {
			wantTokens[id], wantTypes[id] = s, tokNormal
		}
		wantTokens[511], wantTypes[511] = endOfText, tokControl
		var wantMerges []string
		for _, m := range bpeMerges {
			wantMerges = append(wantMerges, m[0]+" "+m[1])
		}
		want := []loader.KV{
			{Key: "tokenizer.ggml.model", Value: loader.StringValue("gpt2")},
			{Key: "tokenizer.ggml.pre", Value: loader.StringValue(c.pre)},
			{Key: "tokenizer.ggml.tokens", Value: loader.StringsValue(wantTokens)},
			{Key: "tokenizer.ggml.token_type", Value: loader.Int32sValue(wantTypes)},
			{Key: "tokenizer.ggml.merges", Value: loader.StringsValue(wantMerges)},
			{Key: "tokenizer.ggml.bos_token_id", Value: loader.Uint32Value(511)},
			{Key: "tokenizer.ggml.eos_token_id", Value: loader.Uint32Value(511)},
			{Key: "tokenizer.ggml.add_bos_token", Value: loader.BoolValue(true)},
		}
		var got []loader.KV
		for _, kv := range g.KV {
			if strings.HasPrefix(kv.Key, "tokenizer.") {
				got = append(got, kv)
			}
		}
		if len(got) != len(want) {
			var keys []string
			for _, kv := range got {
				keys = append(keys, kv.Key)
			}
			t.Fatalf("%s: tokenizer keys %v, want %d keys", c.name, keys, len(want))
		}
		for i := range want {
			if got[i].Key != want[i].Key || !reflect.DeepEqual(got[i].Value, want[i].Value) {
				t.Errorf("%s: key %d = %s %v, want %s %v", c.name, i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
			}
		}

		tok, err := tokenizer.FromGGUF(g)
		if err != nil {
			t.Fatal(err)
		}
		hello, world := int32(vocab["hello"]), int32(vocab["Ġworld"])
		if ids := tok.Encode("hello world", true, true); !reflect.DeepEqual(ids, []int32{511, hello, world}) {
			t.Errorf("%s: Encode = %v, want [511 %d %d]", c.name, ids, hello, world)
		}

		// Generating equals generating from the equivalent GGUF: the
		// bundled model with these tokenizer keys.
		equiv := withTokenizerKeys(t, stories(t), want)
		wp, wo := generate(t, equiv, "hello world", 16)
		gp, gOut := generate(t, g, "hello world", 16)
		if !reflect.DeepEqual(wp, gp) || !reflect.DeepEqual(wo, gOut) {
			t.Errorf("%s: generation %v %v, want %v %v", c.name, gp, gOut, wp, wo)
		}
		if x, _ := g.Tensor("blk.0.attn_q.weight"); x.Type != kernels.F32 {
			t.Errorf("attn_q is %s", x.Type)
		}
	}
}

func TestConvertBPEErrors(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(dir string)
	}{
		{"unknown pre-tokenizer", "not recognised", func(dir string) {
			writeBPECheckpoint(t, dir, map[string]any{"type": "Whitespace"}, false)
		}},
		{"byte fallback", "byte_fallback", func(dir string) {
			writeBPECheckpoint(t, dir, gpt2Pre, false)
			p := filepath.Join(dir, "tokenizer.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"byte_fallback": false`), []byte(`"byte_fallback": true`), 1), 0o644)
		}},
		{"unigram", `"Unigram"`, func(dir string) {
			writeBPECheckpoint(t, dir, gpt2Pre, false)
			p := filepath.Join(dir, "tokenizer.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"type": "BPE"`), []byte(`"type": "Unigram"`), 1), 0o644)
		}},
		{"id beyond vocab", "beyond", func(dir string) {
			writeBPECheckpoint(t, dir, gpt2Pre, false)
			p := filepath.Join(dir, "tokenizer.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"id": 511`), []byte(`"id": 700`), 1), 0o644)
		}},
	} {
		dir := filepath.Join(t.TempDir(), "bpe")
		os.Mkdir(dir, 0o755)
		c.edit(dir)
		err := Convert(dir, filepath.Join(t.TempDir(), "x.gguf"), Options{OutType: "f32"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestSpecialTokensPostProcessor(t *testing.T) {
	var tj hfTokenizer
	err := json.Unmarshal([]byte(`{
		"added_tokens": [{"id": 5, "content": "<|begin|>", "special": true}, {"id": 6, "content": "<|eot|>", "special": true},
			{"id": 7, "content": "<|end|>", "special": true}, {"id": 8, "content": "<pad>", "special": true}],
		"post_processor": {"type": "Sequence", "processors": [
			{"type": "ByteLevel"},
			{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin|>"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "<|end|>"}}]}]}}`), &tj)
	if err != nil {
		t.Fatal(err)
	}
	tcfg := map[string]any{"bos_token": "<|begin|>", "eos_token": map[string]any{"content": "<|eot|>"}, "pad_token": "<pad>",
		"add_eos_token": false, "chat_template": "{{ x }}"}
	kvs, err := specialTokens(t.TempDir(), hparams{"bos_token_id": 1.0, "eos_token_id": 2.0, "unk_token_id": 3.0}, &tj, tcfg, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, kv := range kvs {
		got = append(got, kv.Key+"="+kv.Value.String())
	}
	want := []string{
		"tokenizer.ggml.bos_token_id=5", "tokenizer.ggml.eos_token_id=7", "tokenizer.ggml.padding_token_id=8",
		"tokenizer.ggml.eot_token_id=6", "tokenizer.ggml.unknown_token_id=3",
		"tokenizer.ggml.add_bos_token=true", "tokenizer.ggml.add_eos_token=false", `tokenizer.chat_template="{{ x }}"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys\n%v\nwant\n%v", got, want)
	}
}
