package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model/bundled"
)

// loadVocab opens a GGUF file and builds its tokenizer.
func loadVocab(t testing.TB, path string) *Tokenizer {
	t.Helper()
	f, err := loader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tok
}

// vocabCase is one llama.cpp test string with its expected ids.
type vocabCase struct {
	text string
	ids  []int32
}

// readVocabTests parses llama.cpp's .inp/.out pair: inputs separated by
// "\n__ggml_vocab_test__\n", one line of space-prefixed ids per input.
func readVocabTests(t testing.TB, gguf string) []vocabCase {
	t.Helper()
	inp, err := os.ReadFile(gguf + ".inp")
	if err != nil {
		t.Fatal(err)
	}
	outb, err := os.ReadFile(gguf + ".out")
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if texts[len(texts)-1] != "" {
		t.Fatalf("%s.inp does not end with the separator", gguf)
	}
	texts = texts[:len(texts)-1]
	lines := strings.Split(strings.TrimSuffix(string(outb), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%s: %d inputs but %d output lines", gguf, len(texts), len(lines))
	}
	cases := make([]vocabCase, len(texts))
	for i, txt := range texts {
		cases[i].text = txt
		for _, f := range strings.Fields(lines[i]) {
			v, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s.out line %d: %v", gguf, i+1, err)
			}
			cases[i].ids = append(cases[i].ids, int32(v))
		}
	}
	return cases
}

func checkVocab(t *testing.T, gguf string) {
	tok := loadVocab(t, gguf)
	cases := readVocabTests(t, gguf)
	if len(cases) < 40 {
		t.Fatalf("only %d test strings", len(cases))
	}
	for i, c := range cases {
		got := tok.Encode(c.text, false, false)
		if !equalIDs(got, c.ids) {
			t.Errorf("case %d %q:\n got  %v\n want %v", i, c.text, got, c.ids)
		}
	}
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The vectors that define correctness, from the repo alone.
func TestVocabTestdata(t *testing.T) {
	for _, name := range []string{"llama-spm", "gpt-2"} {
		t.Run(name, func(t *testing.T) {
			checkVocab(t, filepath.Join("testdata", "ggml-vocab-"+name+".gguf"))
		})
	}
}

// The full sweep over every vocabulary with test vectors in ../shared.
func TestVocabShared(t *testing.T) {
	for _, name := range []string{"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "mpt", "refact", "starcoder", "bert-bge"} {
		t.Run(name, func(t *testing.T) {
			checkVocab(t, testutil.Shared(t, "models/vocab/ggml-vocab-"+name+".gguf"))
		})
	}
}

// Every shipped vocabulary must load, including those without test vectors.
func TestVocabLoadAll(t *testing.T) {
	for _, name := range []string{"baichuan", "gpt-neox"} {
		t.Run(name, func(t *testing.T) {
			tok := loadVocab(t, testutil.Shared(t, "models/vocab/ggml-vocab-"+name+".gguf"))
			ids := tok.Encode("Hello world", false, false)
			if len(ids) == 0 || tok.Decode(ids) == "" {
				t.Fatalf("Hello world -> %v", ids)
			}
		})
	}
}

func stories(t testing.TB) *Tokenizer {
	t.Helper()
	f, err := loader.Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// llama-tokenize's ids for stories260K, with and without BOS (special text parsed).
func TestStories260K(t *testing.T) {
	b, err := os.ReadFile("testdata/tokenize-stories260K.json")
	if err != nil {
		t.Fatal(err)
	}
	var refs []struct {
		Text       string  `json:"text"`
		IDsNoBOS   []int32 `json:"ids_no_bos"`
		IDsWithBOS []int32 `json:"ids_with_bos"`
	}
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 30 {
		t.Fatalf("%d references, want 30", len(refs))
	}
	tok := stories(t)
	for _, r := range refs {
		if got := tok.Encode(r.Text, false, true); !equalIDs(got, r.IDsNoBOS) {
			t.Errorf("%q no BOS: got %v want %v", r.Text, got, r.IDsNoBOS)
		}
		if got := tok.Encode(r.Text, true, true); !equalIDs(got, r.IDsWithBOS) {
			t.Errorf("%q with BOS: got %v want %v", r.Text, got, r.IDsWithBOS)
		}
	}
}

func ExampleTokenizer_Encode() {
	f, _ := loader.Parse(bundled.Stories260K)
	tok, _ := FromGGUF(f)
	ids := tok.Encode("Once upon a time", true, true)
	fmt.Println(ids, tok.Decode(ids))
	// Output: [1 403 407 261 378] <s> Once upon a time
}
