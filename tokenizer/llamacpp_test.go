package tokenizer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pagoda-llm/pagoda/loader"
)

// withPre returns the file at path with tokenizer.ggml.pre set to pre.
func withPre(t *testing.T, path, pre string) *loader.File {
	t.Helper()
	base, err := loader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	kvs := make([]loader.KV, 0, len(base.KV))
	for _, kv := range base.KV {
		if kv.Key == "tokenizer.ggml.pre" {
			kv.Value = loader.StringValue(pre)
		}
		kvs = append(kvs, kv)
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

// llama.cpp's own answers (llama_tokenize, concatenated llama_token_to_piece
// and llama_detokenize(remove_special=false, unparse_special=true)) for
// random strings: every supported pre-tokenizer name applied to the gpt-2
// vocabulary, plus llama-spm and stories260K. See testdata/SOURCES.md.
func TestAgainstLlamaCpp(t *testing.T) {
	b, err := os.ReadFile("testdata/llamacpp-random.json")
	if err != nil {
		t.Fatal(err)
	}
	var sets []struct {
		Pre   string `json:"pre"`
		Cases []struct {
			Text   string  `json:"text"`
			Add    bool    `json:"add_special"`
			Parse  bool    `json:"parse_special"`
			IDs    []int32 `json:"ids"`
			Pieces string  `json:"pieces"`
			Detok  string  `json:"detokenized"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &sets); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, set := range sets {
		t.Run(set.Pre, func(t *testing.T) {
			var tok *Tokenizer
			switch set.Pre {
			case "stories260K":
				tok = stories(t)
			case "ggml-vocab-llama-spm":
				tok = loadVocab(t, filepath.Join("testdata", "ggml-vocab-llama-spm.gguf"))
			default:
				covered[set.Pre] = true
				var err error
				if tok, err = FromGGUF(withPre(t, filepath.Join("testdata", "ggml-vocab-gpt-2.gguf"), set.Pre)); err != nil {
					t.Fatal(err)
				}
			}
			if len(set.Cases) < 20 {
				t.Fatalf("%d cases", len(set.Cases))
			}
			for _, c := range set.Cases {
				ids := tok.Encode(c.Text, c.Add, c.Parse)
				if !equalIDs(ids, c.IDs) {
					t.Errorf("Encode(%q, %v, %v):\n got  %v\n want %v", c.Text, c.Add, c.Parse, ids, c.IDs)
					continue
				}
				if got := tok.Decode(ids); got != c.Pieces {
					t.Errorf("Decode(%v) = %q, want %q", ids, got, c.Pieces)
				}
				if got := tok.Detokenize(ids, false, true); got != c.Detok {
					t.Errorf("Detokenize(%v) = %q, want %q", ids, got, c.Detok)
				}
			}
		})
	}
	for name := range preSpecs {
		if !covered[name] {
			t.Errorf("pre-tokenizer %q has no llama.cpp vectors", name)
		}
	}
}
