package tokenizer

import (
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pagoda-llm/pagoda/internal/testutil"
)

// randomPrintable makes a printable UTF-8 string: ASCII-heavy, with
// accented Latin, Greek, Cyrillic, CJK, emoji, digits and whitespace runs.
func randomPrintable(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		var c rune
		switch k := r.Intn(10); {
		case k < 5:
			c = rune(0x20 + r.Intn(0x5F)) // printable ASCII
		case k == 5:
			c = []rune{'\n', '\t', ' ', ' '}[r.Intn(4)]
		case k == 6:
			c = rune(0xC0 + r.Intn(0x180))
		case k == 7:
			c = rune(0x391 + r.Intn(0x100))
		case k == 8:
			c = rune(0x4E00 + r.Intn(0x5000))
		default:
			c = rune(0x1F600 + r.Intn(0x50))
		}
		if !unicode.IsPrint(c) && !unicode.IsSpace(c) {
			c = 'x'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Round trips. Byte-level BPE: Decode(Encode(x)) == x. SPM: llama.cpp adds
// a leading "▁", so the pieces give " " + x and llama_detokenize (which
// drops that space) gives x; the one text SPM cannot return is a literal
// "▁" (U+2581), which it reads as a space, so the generator avoids it.
// bert lowercases and strips accents, so it does not round-trip at all.
func TestRoundTrip(t *testing.T) {
	names := []string{"stories260K", "llama-spm", "gpt-2", "phi-3", "deepseek-coder", "deepseek-llm", "falcon", "mpt", "refact", "starcoder"}
	for k, name := range names {
		t.Run(name, func(t *testing.T) {
			var tok *Tokenizer
			switch name {
			case "stories260K":
				tok = stories(t)
			case "llama-spm", "gpt-2":
				tok = loadVocab(t, filepath.Join("testdata", "ggml-vocab-"+name+".gguf"))
			default:
				tok = loadVocab(t, testutil.Shared(t, "models/vocab/ggml-vocab-"+name+".gguf"))
			}
			r := rand.New(rand.NewSource(int64(3 + k)))
			for i := 0; i < 300; i++ {
				x := randomPrintable(r, r.Intn(60))
				ids := tok.Encode(x, false, false)
				for _, id := range ids {
					if id < 0 || int(id) >= tok.VocabSize() {
						t.Fatalf("id %d out of range", id)
					}
				}
				got := tok.Decode(ids)
				if tok.kind == kindSPM {
					if x != "" && got != " "+x {
						t.Fatalf("Decode(Encode(%q)) = %q, want leading space + input", x, got)
					}
					if d := tok.Detokenize(ids, false, true); d != x {
						t.Fatalf("Detokenize(Encode(%q)) = %q", x, d)
					}
					continue
				}
				if got != x {
					t.Fatalf("Decode(Encode(%q)) = %q", x, got)
				}
			}
		})
	}
}

// Where the streaming decoder must hold bytes back: random ids, with byte
// tokens and multi-byte characters split over several tokens.
func TestStreamDecoder(t *testing.T) {
	toks := map[string]*Tokenizer{
		"stories260K": stories(t),
		"gpt-2":       loadVocab(t, filepath.Join("testdata", "ggml-vocab-gpt-2.gguf")),
	}
	r := rand.New(rand.NewSource(4))
	for name, tok := range toks {
		for i := 0; i < 2000; i++ {
			n := r.Intn(20)
			ids := make([]int32, n)
			for k := range ids {
				switch r.Intn(3) {
				case 0: // byte tokens: <0x..> for SPM, the byte characters for BPE
					if tok.kind == kindSPM {
						ids[k] = tok.byteTokens[0x80+r.Intn(0x80)]
					} else {
						ids[k] = tok.ids[string(appendCpt(nil, byteToCpt[0x80+r.Intn(0x80)]))]
					}
				default:
					ids[k] = int32(r.Intn(tok.VocabSize()))
				}
			}
			if i%3 == 0 { // a real text, tokenized, so whole characters do occur
				ids = tok.Encode(randomPrintable(r, 10), false, false)
			}
			d := NewStreamDecoder(tok)
			var all strings.Builder
			for _, id := range ids {
				chunk := d.Push(id)
				if !utf8.ValidString(chunk) {
					t.Fatalf("%s %v: chunk %q is not valid UTF-8", name, ids, chunk)
				}
				all.WriteString(chunk)
			}
			last := d.Flush()
			if !utf8.ValidString(last) {
				t.Fatalf("%s: flush %q is not valid UTF-8", name, last)
			}
			all.WriteString(last)
			if want := tok.Decode(ids); all.String() != want {
				t.Fatalf("%s %v: stream %q, Decode %q", name, ids, all.String(), want)
			}
		}
	}
}

// A character split over byte tokens comes out whole, once.
func TestStreamJoinsBytes(t *testing.T) {
	tok := stories(t)
	// "é" is C3 A9; "€" is E2 82 AC.
	ids := []int32{tok.byteTokens[0xC3], tok.byteTokens[0xA9], tok.byteTokens[0xE2], tok.byteTokens[0x82], tok.byteTokens[0xAC], tok.byteTokens[0xE2]}
	d := NewStreamDecoder(tok)
	var got []string
	for _, id := range ids {
		got = append(got, d.Push(id))
	}
	got = append(got, d.Flush())
	want := []string{"", "é", "", "", "€", "", "\uFFFD"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("chunks %q, want %q", got, want)
	}
	if raw := tok.DecodeBytes(ids); string(raw) != "é€\xe2" {
		t.Fatalf("DecodeBytes = %q", raw)
	}
}

func TestAppendValidMaximalSubpart(t *testing.T) {
	cases := map[string]string{
		"a\xe2\x82b":       "a\uFFFDb",           // truncated sequence: one replacement
		"\xff\xfe":         "\uFFFD\uFFFD",       // bytes that never start a character
		"\xed\xa0\x80":     "\uFFFD\uFFFD\uFFFD", // surrogate: E0..9F is not a valid second byte after ED
		"\xf0\x9f\x98\x80": "😀",
		"\xc3":             "\uFFFD",
	}
	for in, want := range cases {
		got, _ := appendValid(nil, []byte(in), true)
		if string(got) != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

// Cutting SPM text before "▁" (to keep the merge queue small) must give
// exactly what merging the whole text at once gives.
func TestSPMCutsExact(t *testing.T) {
	for _, tok := range []*Tokenizer{stories(t), loadVocab(t, filepath.Join("testdata", "ggml-vocab-llama-spm.gguf"))} {
		if !tok.spaceCuts {
			t.Fatal("expected the SPM vocabulary to allow cuts")
		}
		whole := *tok
		whole.spaceCuts = false
		r := rand.New(rand.NewSource(5))
		for i := 0; i < 500; i++ {
			x := randomPrintable(r, r.Intn(80))
			if i%4 == 0 {
				x = strings.ReplaceAll(x, "a", "  \xe2\x96 \xe2 ") // runs of spaces and broken UTF-8 next to them
			}
			a, b := tok.Encode(x, false, false), whole.Encode(x, false, false)
			if !equalIDs(a, b) {
				t.Fatalf("%q: cut %v, whole %v", x, a, b)
			}
		}
	}
}
