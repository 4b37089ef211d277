package bench

import (
	"context"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

func buildWith(t *testing.T, fs *fakeServer, cfg Config) ([]Sample, []string, Tokenizer) {
	t.Helper()
	cfg.BaseURL = fs.URL
	if cfg.Model == "" {
		cfg.Model = "m"
	}
	if err := cfg.normalize(); err != nil {
		t.Fatal(err)
	}
	tok, _, note, err := pickTokenizer(context.Background(), &cfg, http.DefaultClient, cfg.Model)
	if err != nil {
		t.Fatal(err)
	}
	s, notes, err := buildSamples(context.Background(), &cfg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if note != "" {
		notes = append(notes, note)
	}
	return s, notes, tok
}

// Random prompts have exactly the drawn number of tokens by the server's
// tokenizer (whose long words are several tokens), whichever API shape it
// speaks and with or without /detokenize.
func TestRandomDatasetExactLengths(t *testing.T) {
	for _, c := range []struct {
		shape string
		detok bool
	}{{"vllm", true}, {"vllm", false}, {"llama", true}, {"llama", false}} {
		name := c.shape
		if !c.detok {
			name += "-nodetok"
		}
		t.Run(name, func(t *testing.T) {
			fs := newFakeServer(t, nil)
			fs.tokShape, fs.detokenize = c.shape, c.detok
			cfg := Config{Dataset: DatasetRandom, NumPrompts: 24, RandomInputLen: 60, RandomOutputLen: 10,
				RandomRangeRatio: 0.5, Seed: 5}
			samples, notes, tok := buildWith(t, fs, cfg)
			st, ok := tok.(*ServerTokenizer)
			if !ok || st.shape != shapeVLLMOrLlama(c.shape) || st.canDecode != c.detok {
				t.Fatalf("tokenizer %#v", tok)
			}
			if len(notes) != 0 {
				t.Errorf("notes %q", notes)
			}
			lens := map[int]bool{}
			for i, s := range samples {
				n := len(fs.encode(s.Prompt))
				if n != s.PromptLen || n < 30 || n > 90 {
					t.Errorf("prompt %d: %d tokens, recorded %d, range [30, 90]", i, n, s.PromptLen)
				}
				if s.OutputLen < 5 || s.OutputLen > 15 {
					t.Errorf("prompt %d: output len %d not in [5, 15]", i, s.OutputLen)
				}
				lens[n] = true
			}
			if len(lens) < 5 {
				t.Errorf("only %d distinct lengths with range ratio 0.5", len(lens))
			}
			// Same seed, same prompts; exact length with ratio 0.
			again, _, _ := buildWith(t, fs, cfg)
			if !slices.Equal(samples, again) {
				t.Error("same seed gave different prompts")
			}
			cfg.RandomRangeRatio, cfg.NumPrompts = 0, 8
			for _, s := range must(buildWith(t, fs, cfg)) {
				if n := len(fs.encode(s.Prompt)); n != 60 || s.PromptLen != 60 {
					t.Errorf("ratio 0: %d tokens (recorded %d), want 60", n, s.PromptLen)
				}
			}
		})
	}
}

func shapeVLLMOrLlama(s string) string {
	if s == "llama" {
		return shapeLlama
	}
	return shapeVLLM
}

func must(s []Sample, _ []string, _ Tokenizer) []Sample { return s }

func TestPrefixRepetitionDataset(t *testing.T) {
	fs := newFakeServer(t, nil)
	fs.detokenize = false
	samples, _, _ := buildWith(t, fs, Config{Dataset: DatasetPrefixRepetition, NumPrompts: 12, NumPrefixes: 3,
		PrefixLen: 40, RandomInputLen: 15, RandomOutputLen: 8, Seed: 1})
	if len(samples) != 12 {
		t.Fatalf("%d samples", len(samples))
	}
	groups := map[string]int{}
	for i, s := range samples {
		ids := fs.encode(s.Prompt)
		if len(ids) != 55 || s.PromptLen != 55 {
			t.Errorf("prompt %d: %d tokens (recorded %d), want 40+15", i, len(ids), s.PromptLen)
		}
		prefix, _ := fs.decode(ids[:40])
		if !strings.HasPrefix(s.Prompt, prefix) {
			t.Errorf("prompt %d does not start with its first 40 tokens' text", i)
		}
		groups[prefix]++
		if s.OutputLen != 8 {
			t.Errorf("prompt %d: output len %d", i, s.OutputLen)
		}
	}
	if len(groups) != 3 {
		t.Fatalf("%d distinct 40-token prefixes, want 3", len(groups))
	}
	for p, n := range groups {
		if n != 4 {
			t.Errorf("prefix %.20q... shared by %d prompts, want 4", p, n)
		}
	}
	// Shuffled: the first prompts do not all share one prefix.
	first, _ := fs.decode(fs.encode(samples[0].Prompt)[:40])
	same := 0
	for _, s := range samples[:4] {
		if strings.HasPrefix(s.Prompt, first) {
			same++
		}
	}
	if same == 4 {
		t.Log("first four prompts share a prefix (possible but unlikely after shuffling)")
	}
}

// Without /tokenize the lengths are estimates, and the run says so.
func TestApproxTokenizerFallback(t *testing.T) {
	fs := newFakeServer(t, func(string) scenario { return scenario{tokens: 2} })
	fs.tokShape = ""
	samples, notes, tok := buildWith(t, fs, Config{Dataset: DatasetRandom, NumPrompts: 4, RandomInputLen: 30, RandomOutputLen: 4})
	if _, ok := tok.(ApproxTokenizer); !ok {
		t.Fatalf("tokenizer %T, want ApproxTokenizer", tok)
	}
	if len(notes) == 0 || !strings.Contains(notes[len(notes)-1], "estimate") {
		t.Errorf("notes %q do not say lengths are estimates", notes)
	}
	for _, s := range samples {
		words := len(strings.Fields(s.Prompt))
		// Whole words cannot always hit 30 estimated tokens; within one.
		if abs(s.PromptLen-30) > 1 || s.PromptLen != int(math.Round(float64(words)/ApproxWordsPerToken)) {
			t.Errorf("estimated %d tokens from %d words", s.PromptLen, words)
		}
	}
	res := runOK(t, Config{BaseURL: fs.URL, Model: "m", NumPrompts: 2, RandomInputLen: 10, RandomOutputLen: 2})
	if res.TokenizerID != "approx" || len(res.Notes) == 0 {
		t.Errorf("tokenizer_id %q notes %q", res.TokenizerID, res.Notes)
	}
	// "server" mode refuses to guess.
	if _, err := Run(context.Background(), Config{BaseURL: fs.URL, Model: "m", NumPrompts: 1, TokenizerMode: "server"}); err == nil {
		t.Error("tokenizer=server ran without /tokenize")
	}
}

func TestShareGPTDataset(t *testing.T) {
	fs := newFakeServer(t, nil)
	samples, notes, _ := buildWith(t, fs, Config{Dataset: DatasetShareGPT, DatasetPath: "testdata/sharegpt_small.json", NumPrompts: 3, Seed: 2})
	if len(samples) != 3 {
		t.Fatalf("%d samples", len(samples))
	}
	// "short" (prompt of 1 token) and "single" (one turn) are skipped, so
	// the three usable conversations each appear once.
	seen := map[string]bool{}
	for _, s := range samples {
		if strings.HasPrefix(s.Prompt, "Hi") || strings.Contains(s.Prompt, "only one turn") {
			t.Errorf("unusable conversation sampled: %q", s.Prompt)
		}
		if s.PromptLen != len(fs.encode(s.Prompt)) {
			t.Errorf("prompt len %d, tokenizer says %d", s.PromptLen, len(fs.encode(s.Prompt)))
		}
		seen[s.Prompt] = true
	}
	if len(seen) != 3 {
		t.Errorf("%d distinct prompts, want 3", len(seen))
	}
	// The output length is the reply's token count.
	for _, s := range samples {
		if strings.HasPrefix(s.Prompt, "What is the capital") {
			want := len(fs.encode("Paris is the capital of France. It is famous for art, food, fashion and the Eiffel Tower."))
			if s.OutputLen != want {
				t.Errorf("output len %d, want %d", s.OutputLen, want)
			}
		}
	}
	// More prompts than usable records: repeated, with a note.
	samples, notes, _ = buildWith(t, fs, Config{Dataset: DatasetShareGPT, DatasetPath: "testdata/sharegpt_small.json", NumPrompts: 7, SharegptOutputLen: 9})
	if len(samples) != 7 || samples[0].OutputLen != 9 || !strings.Contains(strings.Join(notes, ";"), "repeated") {
		t.Errorf("%d samples, output %d, notes %q", len(samples), samples[0].OutputLen, notes)
	}
}

func TestJSONLDataset(t *testing.T) {
	fs := newFakeServer(t, nil)
	samples, _, _ := buildWith(t, fs, Config{Dataset: DatasetJSONL, DatasetPath: "testdata/prompts.jsonl", NumPrompts: 3, RandomOutputLen: 77})
	wantOut := []int{40, 77, 12}
	for i, s := range samples {
		if s.OutputLen != wantOut[i] || s.PromptLen != len(fs.encode(s.Prompt)) || s.PromptLen == 0 {
			t.Errorf("sample %d: %+v", i, s)
		}
	}
	if !strings.HasPrefix(samples[2].Prompt, "Translate") {
		t.Errorf("order not kept: %q", samples[2].Prompt)
	}
}

func TestDatasetErrors(t *testing.T) {
	fs := newFakeServer(t, nil)
	dir := t.TempDir()
	bad := dir + "/bad.jsonl"
	writeFile(t, bad, "{\"prompt\": \"ok\"}\nnot json\n")
	noPrompt := dir + "/noprompt.jsonl"
	writeFile(t, noPrompt, "{\"text\": \"x\"}\n")
	badShare := dir + "/share.json"
	writeFile(t, badShare, `{"not": "a list"}`)
	for _, c := range []Config{
		{Dataset: DatasetJSONL, DatasetPath: bad},
		{Dataset: DatasetJSONL, DatasetPath: noPrompt},
		{Dataset: DatasetJSONL, DatasetPath: dir + "/missing.jsonl"},
		{Dataset: DatasetShareGPT, DatasetPath: badShare},
	} {
		c.BaseURL, c.Model, c.NumPrompts = fs.URL, "m", 2
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("dataset %s %s accepted", c.Dataset, c.DatasetPath)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
