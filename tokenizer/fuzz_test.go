package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pagoda-llm/pagoda/internal/testutil"
)

// fuzzVocabs is the repo's vocabularies plus, when ../shared is there, all
// the others (the fuzz target itself never needs ../shared).
func fuzzVocabs(f *testing.F) map[string]*Tokenizer {
	m := map[string]*Tokenizer{
		"stories260K": stories(f),
		"llama-spm":   loadVocab(f, filepath.Join("testdata", "ggml-vocab-llama-spm.gguf")),
		"gpt-2":       loadVocab(f, filepath.Join("testdata", "ggml-vocab-gpt-2.gguf")),
	}
	dir := filepath.Join(testutil.RepoRoot(f), "..", "shared", "models", "vocab")
	for _, n := range []string{"phi-3", "deepseek-coder", "deepseek-llm", "falcon", "mpt", "refact", "starcoder", "bert-bge", "gpt-neox", "baichuan"} {
		p := filepath.Join(dir, "ggml-vocab-"+n+".gguf")
		if _, err := os.Stat(p); err == nil {
			m[n] = loadVocab(f, p)
		}
	}
	return m
}

// FuzzEncodeDecode: no panic, ids inside the vocabulary, the stream equal
// to Decode in valid UTF-8 chunks, and the round trips that hold.
func FuzzEncodeDecode(f *testing.F) {
	vocabs := fuzzVocabs(f)
	for _, s := range []string{"", "Hello world", " <s>x</s> ", "\xe2\x82", "\u2581 ▁", "'s 're 123456 ...", "中文 ✓ 😀\n\n\t", "<|endoftext|>", "\x00\xff"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, text string, flags uint8) {
		addSpecial, parseSpecial := flags&1 != 0, flags&2 != 0
		for name, tok := range vocabs {
			ids := tok.Encode(text, addSpecial, parseSpecial)
			for _, id := range ids {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("%s: id %d outside the vocabulary of %d", name, id, tok.VocabSize())
				}
			}
			checkStream(t, name, tok, ids)
			_ = tok.Detokenize(ids, addSpecial, parseSpecial)
			if !addSpecial && !parseSpecial && utf8.ValidString(text) {
				switch tok.kind {
				case kindBPE:
					if !coversBytes(tok, text) {
						break // llama.cpp drops bytes the vocabulary lacks (falcon has no \x03)
					}
					if got := tok.Decode(ids); got != text {
						t.Fatalf("%s: Decode(Encode(%q)) = %q", name, text, got)
					}
				case kindSPM:
					if text != "" && !strings.Contains(text, "\u2581") {
						if got := tok.Decode(ids); got != " "+text {
							t.Fatalf("%s: Decode(Encode(%q)) = %q", name, text, got)
						}
					}
				}
			}
			// The same bytes read as ids, some out of range.
			raw := make([]int32, 0, len(text)/2)
			for i := 0; i+1 < len(text); i += 2 {
				raw = append(raw, int32(int(text[i])<<8|int(text[i+1]))%int32(tok.VocabSize()+8)-4)
			}
			checkStream(t, name, tok, raw)
			_ = tok.Detokenize(raw, true, true)
		}
	})
}

func checkStream(t *testing.T, name string, tok *Tokenizer, ids []int32) {
	t.Helper()
	d := NewStreamDecoder(tok)
	var b strings.Builder
	for _, id := range ids {
		c := d.Push(id)
		if !utf8.ValidString(c) {
			t.Fatalf("%s: invalid UTF-8 chunk %q", name, c)
		}
		b.WriteString(c)
	}
	c := d.Flush()
	if !utf8.ValidString(c) {
		t.Fatalf("%s: invalid UTF-8 flush %q", name, c)
	}
	b.WriteString(c)
	if want := tok.Decode(ids); b.String() != want {
		t.Fatalf("%s: stream %q != Decode %q", name, b.String(), want)
	}
}

// coversBytes reports whether every byte of text has its byte-level token.
func coversBytes(tok *Tokenizer, text string) bool {
	for i := 0; i < len(text); i++ {
		if _, ok := tok.ids[tok.byteEncodedString[text[i]]]; !ok {
			return false
		}
	}
	return true
}
