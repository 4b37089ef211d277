package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Sample is one request of a workload.
type Sample struct {
	Prompt    string
	PromptLen int // tokens by the dataset's tokenizer (an estimate without one)
	OutputLen int // max_tokens requested
}

// Dataset names accepted by Config.Dataset.
const (
	DatasetRandom           = "random"
	DatasetPrefixRepetition = "prefix-repetition"
	DatasetShareGPT         = "sharegpt"
	DatasetJSONL            = "jsonl"
)

// ShareGPT filters, as in vLLM: drop very short pairs and very long ones.
const (
	sharegptMinLen       = 4
	sharegptMaxPromptLen = 1024
	sharegptMaxTotalLen  = 2048
)

// datasetWorkers bounds concurrent tokenizer calls while building prompts.
const datasetWorkers = 8

// buildSamples makes cfg.NumPrompts samples of the configured dataset.
// Notes for the report (approximations, oversampling) go to notes.
func buildSamples(ctx context.Context, cfg *Config, tok Tokenizer) (samples []Sample, notes []string, err error) {
	switch cfg.Dataset {
	case DatasetRandom:
		return randomSamples(ctx, cfg, tok)
	case DatasetPrefixRepetition:
		return prefixSamples(ctx, cfg, tok)
	case DatasetShareGPT:
		return sharegptSamples(ctx, cfg, tok)
	case DatasetJSONL:
		return jsonlSamples(ctx, cfg, tok)
	}
	return nil, nil, fmt.Errorf("bench: unknown dataset %q", cfg.Dataset)
}

// sampleLen draws a length uniformly from [floor(L(1-r)), ceil(L(1+r))], at
// least 1, as vLLM's random dataset does.
func sampleLen(r *rand.Rand, l int, ratio float64) int {
	lo := max(int(math.Floor(float64(l)*(1-ratio))), 1)
	hi := max(int(math.Ceil(float64(l)*(1+ratio))), lo)
	return lo + r.IntN(hi-lo+1)
}

func randomSamples(ctx context.Context, cfg *Config, tok Tokenizer) ([]Sample, []string, error) {
	r := newRand(cfg.Seed, streamDataset)
	out := make([]Sample, cfg.NumPrompts)
	for i := range out {
		out[i].PromptLen = sampleLen(r, cfg.RandomInputLen, cfg.RandomRangeRatio)
		out[i].OutputLen = sampleLen(r, cfg.RandomOutputLen, cfg.RandomRangeRatio)
	}
	var mismatched, offBy atomic.Int64
	err := parallelFor(ctx, len(out), datasetWorkers, func(i int) error {
		text, n, err := fitText(ctx, tok, "", out[i].PromptLen, newRand(cfg.Seed, streamPrompt+uint64(i)))
		if err != nil {
			return fmt.Errorf("bench: random prompt %d: %w", i, err)
		}
		if n != out[i].PromptLen {
			mismatched.Add(1)
			offBy.Add(int64(abs(n - out[i].PromptLen)))
		}
		out[i].Prompt, out[i].PromptLen = text, n
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, mismatchNote(mismatched.Load(), offBy.Load()), nil
}

func prefixSamples(ctx context.Context, cfg *Config, tok Tokenizer) ([]Sample, []string, error) {
	groups := min(max(cfg.NumPrefixes, 1), cfg.NumPrompts)
	prefixes := make([]string, groups)
	prefixLens := make([]int, groups)
	var mismatched, offBy atomic.Int64
	err := parallelFor(ctx, groups, datasetWorkers, func(g int) error {
		text, n, err := fitText(ctx, tok, "", cfg.PrefixLen, newRand(cfg.Seed, streamPrompt+1<<24+uint64(g)))
		if err != nil {
			return fmt.Errorf("bench: prefix %d: %w", g, err)
		}
		if n != cfg.PrefixLen {
			mismatched.Add(1)
			offBy.Add(int64(abs(n - cfg.PrefixLen)))
		}
		prefixes[g], prefixLens[g] = text, n
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	r := newRand(cfg.Seed, streamDataset)
	out := make([]Sample, cfg.NumPrompts)
	suffixLens := make([]int, len(out))
	for i := range out {
		suffixLens[i] = sampleLen(r, cfg.RandomInputLen, cfg.RandomRangeRatio)
		out[i].OutputLen = sampleLen(r, cfg.RandomOutputLen, cfg.RandomRangeRatio)
	}
	err = parallelFor(ctx, len(out), datasetWorkers, func(i int) error {
		g := i % groups
		want := prefixLens[g] + suffixLens[i]
		text, n, err := fitText(ctx, tok, prefixes[g], want, newRand(cfg.Seed, streamPrompt+uint64(i)))
		if err != nil {
			return fmt.Errorf("bench: prefix-repetition prompt %d: %w", i, err)
		}
		if n != want {
			mismatched.Add(1)
			offBy.Add(int64(abs(n - want)))
		}
		out[i].Prompt, out[i].PromptLen = text, n
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Interleave the groups so arrivals do not come prefix by prefix.
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	notes := mismatchNote(mismatched.Load(), offBy.Load())
	notes = append(notes, fmt.Sprintf("prefix-repetition: %d shared prefixes of %d tokens", groups, cfg.PrefixLen))
	return out, notes, nil
}

func mismatchNote(n, off int64) []string {
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d prompts could not be sized exactly (off by %d tokens in total)", n, off)}
}

// fitText returns head followed by generated words, tokenizing to exactly
// target tokens when it can, else as close as it got; n is the actual
// count. With head == "" and a decoding tokenizer it first tries the cheap
// way: encode a long text, cut the ids at target and decode. Otherwise (and
// when the cut text re-encodes to another length) it searches the number of
// words, swapping the last word when one word more overshoots.
func fitText(ctx context.Context, tok Tokenizer, head string, target int, r *rand.Rand) (string, int, error) {
	count := func(s string) (int, error) {
		ids, err := tok.Encode(ctx, s)
		return len(ids), err
	}
	headN := 0
	if head != "" {
		var err error
		if headN, err = count(head); err != nil {
			return "", 0, err
		}
	}
	need := target - headN
	if need <= 0 {
		return head, headN, nil
	}
	words := &wordSource{r: r}
	if head == "" && canDecode(tok) {
		ids, err := tok.Encode(ctx, joinWords("", words.upTo(target+8)))
		if err != nil {
			return "", 0, err
		}
		if len(ids) >= target {
			text, err := tok.Decode(ctx, ids[:target])
			if err == nil {
				n, err := count(text)
				if err != nil {
					return "", 0, err
				}
				if n == target {
					return text, n, nil
				}
			}
		}
	}

	counts := map[int]int{} // words -> tokens of head + that many words
	countK := func(k int) (int, error) {
		if n, ok := counts[k]; ok {
			return n, nil
		}
		n, err := count(joinWords(head, words.upTo(k)))
		if err == nil {
			counts[k] = n
		}
		return n, err
	}
	k := max(1, int(math.Round(float64(need)*ApproxWordsPerToken)))
	bestK, bestN := -1, 0
	for iter := 0; iter < 64; iter++ {
		n, err := countK(k)
		if err != nil {
			return "", 0, err
		}
		if bestK < 0 || abs(n-target) < abs(bestN-target) {
			bestK, bestN = k, n
		}
		if n == target {
			break
		}
		if n < target {
			if next, ok := counts[k+1]; ok && next > target {
				// The next word overshoots: try another word in its place.
				words.replace(k)
				for j := range counts {
					if j > k {
						delete(counts, j)
					}
				}
				k++
				continue
			}
			tpw := max(float64(n-headN)/float64(k), 0.5) // tokens per word so far
			next := k + max(1, int(math.Round(float64(target-n)/tpw)))
			if _, seen := counts[next]; seen {
				next = k + 1 // been there: creep up to the boundary instead
			}
			k = next
			continue
		}
		if k == 1 {
			words.replace(0)
			clear(counts)
			continue
		}
		if prev, ok := counts[k-1]; ok && prev < target {
			words.replace(k - 1)
			for j := range counts {
				if j >= k {
					delete(counts, j)
				}
			}
			continue
		}
		tpw := max(float64(n-headN)/float64(k), 0.5)
		next := max(1, k-max(1, int(math.Round(float64(n-target)/tpw))))
		if _, seen := counts[next]; seen {
			next = k - 1
		}
		k = next
	}
	return joinWords(head, words.upTo(bestK)), bestN, nil
}

// wordSource is a lazily grown random word sequence.
type wordSource struct {
	r     *rand.Rand
	words []string
}

func (w *wordSource) upTo(k int) []string {
	for len(w.words) < k {
		w.words = append(w.words, vocab[w.r.IntN(len(vocab))])
	}
	return w.words[:k]
}

// replace swaps word i for another random word, preferring short ones,
// which are more likely to be a single token.
func (w *wordSource) replace(i int) {
	w.upTo(i + 1)
	for {
		cand := vocab[w.r.IntN(len(vocab))]
		if len(cand) <= 4 && cand != w.words[i] {
			w.words[i] = cand
			return
		}
	}
}

func joinWords(head string, words []string) string {
	tail := strings.Join(words, " ")
	switch {
	case head == "":
		return tail
	case tail == "":
		return head
	}
	return head + " " + tail
}

func sharegptSamples(ctx context.Context, cfg *Config, tok Tokenizer) ([]Sample, []string, error) {
	f, err := os.Open(cfg.DatasetPath)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: sharegpt dataset: %w", err)
	}
	defer f.Close()
	var raw []struct {
		Conversations []struct {
			From  string `json:"from"`
			Value string `json:"value"`
		} `json:"conversations"`
	}
	if err := json.NewDecoder(f).Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("bench: sharegpt dataset %s: %w", cfg.DatasetPath, err)
	}
	type pair struct{ prompt, completion string }
	var pairs []pair
	for _, c := range raw {
		if len(c.Conversations) >= 2 {
			pairs = append(pairs, pair{c.Conversations[0].Value, c.Conversations[1].Value})
		}
	}
	if len(pairs) == 0 {
		return nil, nil, fmt.Errorf("bench: sharegpt dataset %s has no conversation with two turns", cfg.DatasetPath)
	}
	r := newRand(cfg.Seed, streamDataset)
	r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })

	var out []Sample
	skipped := 0
	// Tokenize in batches only as far as needed to fill NumPrompts.
	for start := 0; start < len(pairs) && len(out) < cfg.NumPrompts; {
		batch := pairs[start:min(len(pairs), start+(cfg.NumPrompts-len(out))*5/4+8)]
		start += len(batch)
		got := make([]Sample, len(batch))
		err := parallelFor(ctx, len(batch), datasetWorkers, func(i int) error {
			ids, err := tok.Encode(ctx, batch[i].prompt)
			if err != nil {
				return err
			}
			got[i] = Sample{Prompt: batch[i].prompt, PromptLen: len(ids), OutputLen: cfg.SharegptOutputLen}
			if cfg.SharegptOutputLen <= 0 {
				ids, err := tok.Encode(ctx, batch[i].completion)
				if err != nil {
					return err
				}
				got[i].OutputLen = len(ids)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("bench: sharegpt dataset: %w", err)
		}
		for _, s := range got {
			ok := s.PromptLen >= sharegptMinLen && s.PromptLen <= sharegptMaxPromptLen &&
				s.PromptLen+s.OutputLen <= sharegptMaxTotalLen &&
				(cfg.SharegptOutputLen > 0 || s.OutputLen >= sharegptMinLen)
			if !ok {
				skipped++
				continue
			}
			if len(out) < cfg.NumPrompts {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("bench: sharegpt dataset %s: no conversation within the length limits", cfg.DatasetPath)
	}
	var notes []string
	if skipped > 0 {
		notes = append(notes, fmt.Sprintf("sharegpt: skipped %d conversations outside the length limits", skipped))
	}
	return oversample(out, cfg.NumPrompts, &notes, "sharegpt"), notes, nil
}

func jsonlSamples(ctx context.Context, cfg *Config, tok Tokenizer) ([]Sample, []string, error) {
	f, err := os.Open(cfg.DatasetPath)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: jsonl dataset: %w", err)
	}
	defer f.Close()
	var out []Sample
	br := bufio.NewReader(f)
	for line := 1; len(out) < cfg.NumPrompts; line++ {
		text, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, nil, fmt.Errorf("bench: jsonl dataset %s: %w", cfg.DatasetPath, err)
		}
		if t := strings.TrimSpace(text); t != "" {
			var rec struct {
				Prompt    *string `json:"prompt"`
				OutputLen *int    `json:"output_len"`
			}
			if jerr := json.Unmarshal([]byte(t), &rec); jerr != nil {
				return nil, nil, fmt.Errorf("bench: jsonl dataset %s line %d: %w", cfg.DatasetPath, line, jerr)
			}
			if rec.Prompt == nil {
				return nil, nil, fmt.Errorf("bench: jsonl dataset %s line %d: no \"prompt\"", cfg.DatasetPath, line)
			}
			s := Sample{Prompt: *rec.Prompt, OutputLen: cfg.RandomOutputLen}
			if rec.OutputLen != nil {
				if *rec.OutputLen < 1 {
					return nil, nil, fmt.Errorf("bench: jsonl dataset %s line %d: output_len %d < 1", cfg.DatasetPath, line, *rec.OutputLen)
				}
				s.OutputLen = *rec.OutputLen
			}
			out = append(out, s)
		}
		if err == io.EOF {
			break
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("bench: jsonl dataset %s has no records", cfg.DatasetPath)
	}
	err = parallelFor(ctx, len(out), datasetWorkers, func(i int) error {
		ids, err := tok.Encode(ctx, out[i].Prompt)
		out[i].PromptLen = len(ids)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("bench: jsonl dataset: %w", err)
	}
	var notes []string
	return oversample(out, cfg.NumPrompts, &notes, "jsonl"), notes, nil
}

// oversample repeats samples in order until there are n, as vLLM does when
// a file holds fewer usable records than requested.
func oversample(s []Sample, n int, notes *[]string, name string) []Sample {
	if len(s) >= n {
		return s[:n]
	}
	*notes = append(*notes, fmt.Sprintf("%s: only %d usable records, repeated to make %d prompts", name, len(s), n))
	out := make([]Sample, n)
	for i := range out {
		out[i] = s[i%len(s)]
	}
	return out
}

// parallelFor runs f(0..n-1) on up to workers goroutines and returns the
// first error; after an error the remaining indices are skipped.
func parallelFor(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		failed   atomic.Bool
	)
	for range min(workers, n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = f(i)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
