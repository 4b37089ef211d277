package tokenizer

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model/bundled"
)

// rewrite returns stories260K's metadata with keys replaced or dropped.
func rewrite(t *testing.T, set map[string]loader.Value, drop ...string) *loader.File {
	t.Helper()
	base, err := loader.Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	var kvs []loader.KV
	for _, kv := range base.KV {
		if v, ok := set[kv.Key]; ok {
			kv.Value = v
			delete(set, kv.Key)
		}
		skip := false
		for _, d := range drop {
			skip = skip || kv.Key == d
		}
		if !skip {
			kvs = append(kvs, kv)
		}
	}
	for k, v := range set {
		kvs = append(kvs, loader.KV{Key: k, Value: v})
	}
	var buf bytes.Buffer
	w, err := loader.NewWriter(&buf, 3, kvs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := loader.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFromGGUFErrors(t *testing.T) {
	cases := []struct {
		name string
		f    *loader.File
		want string
	}{
		{"unknown model", rewrite(t, map[string]loader.Value{"tokenizer.ggml.model": loader.StringValue("t5")}), `"t5"`},
		{"unknown pre", rewrite(t, map[string]loader.Value{
			"tokenizer.ggml.model":  loader.StringValue("gpt2"),
			"tokenizer.ggml.pre":    loader.StringValue("tekken"),
			"tokenizer.ggml.merges": loader.StringsValue([]string{"a b"}),
		}), `"tekken"`},
		{"no merges", rewrite(t, map[string]loader.Value{"tokenizer.ggml.model": loader.StringValue("gpt2")}), "merges"},
		{"no model", rewrite(t, nil, "tokenizer.ggml.model"), "tokenizer.ggml.model"},
		{"no tokens", rewrite(t, nil, "tokenizer.ggml.tokens"), "tokenizer.ggml.tokens"},
		{"short scores", rewrite(t, map[string]loader.Value{"tokenizer.ggml.scores": loader.Float32sValue([]float32{1, 2})}), "scores"},
		{"bad token types", rewrite(t, map[string]loader.Value{"tokenizer.ggml.token_type": loader.StringsValue([]string{"x"})}), "token_type"},
	}
	for _, c := range cases {
		_, err := FromGGUF(c.f)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %s", c.name, err, c.want)
		}
	}
}

// add_bos_token / add_eos_token override the SPM defaults (BOS on, EOS off).
func TestAddBOSEOSKeys(t *testing.T) {
	tok := stories(t)
	if !tok.AddBOS() || tok.AddEOS() {
		t.Fatalf("stories260K defaults: AddBOS %v AddEOS %v", tok.AddBOS(), tok.AddEOS())
	}
	f := rewrite(t, map[string]loader.Value{
		"tokenizer.ggml.add_bos_token": loader.BoolValue(false),
		"tokenizer.ggml.add_eos_token": loader.BoolValue(true),
	})
	tok2, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	plain := tok.Encode("Hi there", false, false)
	got := tok2.Encode("Hi there", true, false)
	want := append(append([]int32{}, plain...), 2)
	if !equalIDs(got, want) {
		t.Fatalf("no BOS + EOS: got %v want %v", got, want)
	}
}

func TestSpecialParsing(t *testing.T) {
	tok := stories(t)
	with := tok.Encode("<s>Hi</s>", false, true)
	if with[0] != 1 || with[len(with)-1] != 2 {
		t.Fatalf("parse special: %v", with)
	}
	without := tok.Encode("<s>Hi</s>", false, false)
	for _, id := range without {
		if id == 1 || id == 2 {
			t.Fatalf("special text matched with parseSpecial off: %v", without)
		}
	}
	// The text after a special token gets the SPM space prefix again.
	if hi := tok.Encode("Hi", false, false); !equalIDs(with[1:len(with)-1], hi) {
		t.Fatalf("text after <s>: %v, want %v", with[1:len(with)-1], hi)
	}
	if got := tok.Decode(with); got != "<s> Hi</s>" {
		t.Fatalf("Decode renders specials: %q", got)
	}
	if got := tok.Detokenize(with, false, false); got != " Hi" {
		t.Fatalf("Detokenize without specials: %q", got)
	}
}

func TestSpecialIDs(t *testing.T) {
	st := stories(t)
	if st.BOS() != 1 || st.EOS() != 2 || st.EOT() != -1 || !st.IsEOG(2) || st.IsEOG(1) || st.Unk() != 0 || st.Sep() != -1 || st.Pad() != -1 {
		t.Fatalf("stories260K: bos %d eos %d eot %d unk %d sep %d pad %d", st.BOS(), st.EOS(), st.EOT(), st.Unk(), st.Sep(), st.Pad())
	}
	if st.Token(1) != "<s>" || st.Token(600) != "" || string(st.TokenToPiece(403)) != " Once" || st.TokenToPiece(-1) != nil {
		t.Fatalf("Token/TokenToPiece")
	}
	g := loadVocab(t, filepath.Join("testdata", "ggml-vocab-gpt-2.gguf"))
	if g.EOT() != 50256 || !g.IsEOG(50256) || g.AddBOS() || g.VocabSize() != 50257 {
		t.Fatalf("gpt-2: eot %d addBOS %v", g.EOT(), g.AddBOS())
	}
	if ids := g.Encode("a<|endoftext|>b", false, true); len(ids) != 3 || ids[1] != 50256 {
		t.Fatalf("gpt-2 special: %v", ids)
	}
	if ids := g.Encode("a<|endoftext|>b", false, false); len(ids) == 3 {
		t.Fatalf("gpt-2 special matched without parseSpecial: %v", ids)
	}
}

// Phi-3: llama.cpp gives its special tokens RSTRIP (spaces after them are
// dropped), except <unk>, <s> and <|endoftext|>. <|end|> is EOT.
func TestPhi3(t *testing.T) {
	tok := loadVocab(t, testutil.Shared(t, "models/vocab/ggml-vocab-phi-3.gguf"))
	if tok.EOT() != 32007 || !tok.IsEOG(32000) || !tok.IsEOG(32007) {
		t.Fatalf("phi-3 eot %d", tok.EOT())
	}
	hi := tok.Encode("hi", false, false)
	got := tok.Encode("<|user|>   hi", false, true)
	want := append([]int32{32010}, hi...)
	if tok.Token(32010) != "<|user|>" || !equalIDs(got, want) {
		t.Fatalf("rstrip: got %v want %v", got, want)
	}
	got = tok.Encode("<s>  hi", false, true) // <s> keeps the spaces
	if equalIDs(got, append([]int32{1}, hi...)) {
		t.Fatalf("<s> must not rstrip: %v", got)
	}
}

func TestBertSpecial(t *testing.T) {
	tok := loadVocab(t, testutil.Shared(t, "models/vocab/ggml-vocab-bert-bge.gguf"))
	ids := tok.Encode("Hello, WORLD!", true, false)
	if len(ids) < 3 || ids[0] != 101 || ids[len(ids)-1] != 102 {
		t.Fatalf("bert special: %v", ids)
	}
	if got := tok.Detokenize(ids[1:len(ids)-1], false, false); got != " hello, world!" {
		t.Fatalf("bert detokenize: %q", got)
	}
	if !tok.AddBOS() || tok.BOS() != 101 || tok.Sep() != 102 {
		t.Fatalf("bert ids")
	}
}

func TestCleanSpaces(t *testing.T) {
	cases := map[string]string{
		"Hello , world !":    "Hello, world!",
		"it ' s":             "it's",
		"don 't I 'm we 're": "don 't I'm we're",
		"a ' ' b":            "a'' b", // llama.cpp blanks the space it removed, so the second "' " is kept
	}
	for in, want := range cases {
		if got := string(cleanSpaces([]byte(in))); got != want {
			t.Errorf("cleanSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}
