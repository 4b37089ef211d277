package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
)

// prose is repeated, with a counter woven in, to make 1 MB of English
// text deterministically (numbers and punctuation vary a little per copy).
const prose = `The old lighthouse keeper climbed the spiral stairs every evening, counting the steps as his father had taught him. ` +
	`There were one hundred and twelve of them, worn smooth in the middle where sixty years of boots had passed. ` +
	`At the top he wiped the great lens with a soft cloth, checked the oil, and looked out over the water. ` +
	`"Storm's coming," he said to nobody in particular; the gulls didn't answer. ` +
	`Ships hadn't needed the light for a decade (the satellites saw to that), but he kept it burning anyway, because someone should. ` +
	`In the morning, the harbour was calm again: nets drying on the wall, children racing bicycles along the quay, and a baker's van ` +
	`delivering bread to the café by the pier. It was, he thought, a perfectly ordinary Tuesday.` + "\n\n"

func englishMB() string {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString("Chapter ")
		b.WriteString(strings.Repeat("I", 1+i%4))
		b.WriteString(". ")
		b.WriteString(prose)
	}
	return b.String()[:1<<20]
}

func benchEncode(b *testing.B, tok *Tokenizer) {
	text := englishMB()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for range b.N {
		if ids := tok.Encode(text, true, false); len(ids) == 0 {
			b.Fatal("no tokens")
		}
	}
}

// BenchmarkEncode1MB tokenizes 1 MB of English per family: ns/op is the
// time for 1 MB on one goroutine.
func BenchmarkEncode1MB(b *testing.B) {
	b.Run("spm-llama", func(b *testing.B) {
		benchEncode(b, loadVocab(b, filepath.Join("testdata", "ggml-vocab-llama-spm.gguf")))
	})
	b.Run("bpe-gpt-2", func(b *testing.B) {
		benchEncode(b, loadVocab(b, filepath.Join("testdata", "ggml-vocab-gpt-2.gguf")))
	})
	for _, n := range []string{"deepseek-llm", "deepseek-coder", "falcon", "starcoder", "bert-bge"} {
		p := filepath.Join(testutil.RepoRoot(b), "..", "shared", "models", "vocab", "ggml-vocab-"+n+".gguf")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		b.Run(n, func(b *testing.B) { benchEncode(b, loadVocab(b, p)) })
	}
}

func BenchmarkDecode(b *testing.B) {
	tok := loadVocab(b, filepath.Join("testdata", "ggml-vocab-gpt-2.gguf"))
	ids := tok.Encode(englishMB(), false, false)
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for range b.N {
		d := NewStreamDecoder(tok)
		for _, id := range ids {
			d.Push(id)
		}
	}
}
