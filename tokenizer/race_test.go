package tokenizer

import (
	"path/filepath"
	"sync"
	"testing"
)

// A Tokenizer is shared by all requests: concurrent use must give the same ids.
func TestConcurrentEncode(t *testing.T) {
	tok := loadVocab(t, filepath.Join("testdata", "ggml-vocab-gpt-2.gguf"))
	spm := stories(t)
	text := "The quick brown fox jumps over the lazy dog. 12345 ünïcödé 中文\n"
	want, wantS := tok.Encode(text, false, false), spm.Encode(text, true, true)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if !equalIDs(tok.Encode(text, false, false), want) || !equalIDs(spm.Encode(text, true, true), wantS) {
					errs <- "different ids under concurrency"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
