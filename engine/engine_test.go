package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/model/bundled"
	"github.com/pagoda-llm/pagoda/pagedkv"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

var (
	testOnce  sync.Once
	testModel *model.Model
	testTok   *tokenizer.Tokenizer
)

func stories(t testing.TB) (*model.Model, *tokenizer.Tokenizer) {
	testOnce.Do(func() {
		f, err := loader.Parse(bundled.Stories260K)
		if err != nil {
			panic(err)
		}
		if testModel, err = model.Load(f); err != nil {
			panic(err)
		}
		if testTok, err = tokenizer.FromGGUF(f); err != nil {
			panic(err)
		}
	})
	return testModel, testTok
}

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	m, tok := stories(t)
	if cfg.Threads == 0 {
		cfg.Threads = 2
	}
	e, err := New(m, tok, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
	})
	return e
}

// solo returns the greedy continuation of prompt computed alone in a Session.
func solo(t testing.TB, prompt []int32, n int) []int32 {
	m, tok := stories(t)
	s, err := NewSession(m, nil, len(prompt)+n, kernels.F16)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := s.Eval(prompt, false)
	var out []int32
	for len(out) < n {
		if err != nil {
			t.Fatal(err)
		}
		id := Argmax(logits)
		if tok.IsEOG(id) {
			break
		}
		out = append(out, id)
		logits, err = s.Eval([]int32{id}, false)
	}
	return out
}

// collect reads a stream to its end and returns each sample's tokens, text
// and final output.
func collect(t testing.TB, ch <-chan Output, n int) ([][]int32, []string, []Output) {
	t.Helper()
	toks := make([][]int32, n)
	texts := make([]string, n)
	finals := make([]Output, n)
	for o := range ch {
		toks[o.Index] = append(toks[o.Index], o.TokenIDs...)
		texts[o.Index] += o.Text
		if o.Finished() {
			if finals[o.Index].Finished() {
				t.Errorf("sample %d finished twice", o.Index)
			}
			finals[o.Index] = o
		}
	}
	for i, f := range finals {
		if !f.Finished() {
			t.Errorf("sample %d never finished", i)
		}
	}
	return toks, texts, finals
}

// waitIdle waits until the engine holds no KV blocks and no requests, and
// checks the block manager's books.
func waitIdle(t testing.TB, e *Engine) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.Stats()
		if s.KVBlocksUsed == 0 && s.Running == 0 && s.Waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not idle: %+v", s)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var storyPrompts = []string{"Once upon a time", "The little dog", "Lily and Ben went to the park.", "One day, a big red ball",
	"Tom was sad because", `She said, "I want`, "The sun was shining and", "",
	"Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw",
	"Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, a big dog"}

// Greedy outputs are the same alone or among up to 64 concurrent requests
// arriving at random times, with chunked prefill, preemption (a KV budget far
// too small for all of them) and prefix-cache hits (shared prompts).
func TestBatchedEqualsSolo(t *testing.T) {
	m, tok := stories(t)
	perToken, _ := BytesPerTokenOf(m, "f16")
	cases := []struct {
		name string
		cfg  Config
		reqs int
	}{
		{"roomy", Config{}, 16},
		{"chunked", Config{MaxNumBatchedTokens: 7, MaxNumSeqs: 8}, 24},
		{"preempting", Config{MaxNumBatchedTokens: 64, BlockSize: 4, KVCacheMemory: 40 * 4 * perToken, MaxModelLen: 160}, 48},
		{"many", Config{MaxNumBatchedTokens: 256, BlockSize: 8}, 64},
	}
	if testing.Short() {
		// The race detector makes the forward pass ~20× slower.
		for i := range cases {
			cases[i].reqs = min(cases[i].reqs, 12)
		}
	}
	want := map[string][]int32{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, c.cfg)
			// Sample the KV bytes in use throughout: they must never pass
			// the budget, however hard the requests press.
			stopWatch := make(chan struct{})
			var peak int64
			var samples []string
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for k := 0; ; k++ {
					select {
					case <-stopWatch:
						return
					case <-tick.C:
					}
					s := e.Stats()
					peak = max(peak, s.KVBytesUsed)
					if s.KVBytesUsed > s.KVBytesBudget {
						t.Errorf("KV bytes in use %d exceed the budget %d", s.KVBytesUsed, s.KVBytesBudget)
					}
					if k%20 == 0 {
						samples = append(samples, fmt.Sprintf("%d", s.KVBytesUsed))
					}
				}
			}()
			rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			var wg sync.WaitGroup
			errs := make(chan error, c.reqs)
			for i := range c.reqs {
				p := storyPrompts[rng.IntN(len(storyPrompts))]
				if i%4 == 0 {
					p = storyPrompts[len(storyPrompts)-1] // shared long prefix
				}
				if rng.IntN(3) == 0 {
					p += " and then"
				}
				n := 8 + rng.IntN(60)
				delay := time.Duration(rng.IntN(30)+i) * time.Millisecond
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(delay)
					prompt := tok.Encode(p, true, false)
					ch, err := e.Submit(context.Background(), Request{Prompt: prompt, MaxTokens: n})
					if err != nil {
						errs <- err
						return
					}
					toks, _, _ := collect(t, ch, 1)
					key := fmt.Sprint(p, n)
					errs <- checkSolo(t, want, key, prompt, n, toks[0], i)
				}()
			}
			wg.Wait()
			close(stopWatch)
			<-watched
			t.Logf("KV bytes in use every 100 ms: %s; peak %d of a %d-byte budget", strings.Join(samples, " "), peak, e.Stats().KVBytesBudget)
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			waitIdle(t, e)
			if err := e.sched.KV().Verify(); err != nil {
				t.Fatal(err)
			}
			if c.name == "preempting" && e.Stats().Preemptions == 0 {
				t.Error("the small KV budget caused no preemption")
			}
			if e.Stats().PrefixHits == 0 {
				t.Error("shared prompts gave no prefix-cache hit")
			}
			t.Logf("%+v", e.Stats())
		})
	}
}

var soloMu sync.Mutex

func checkSolo(t testing.TB, cache map[string][]int32, key string, prompt []int32, n int, got []int32, i int) error {
	soloMu.Lock()
	w, ok := cache[key]
	if !ok {
		w = solo(t, prompt, n)
		cache[key] = w
	}
	soloMu.Unlock()
	if !slices.Equal(got, w) {
		return fmt.Errorf("request %d: batched %v\nalone %v", i, got, w)
	}
	return nil
}

// BytesPerTokenOf is a test helper: K+V bytes per token of m.
func BytesPerTokenOf(m *model.Model, kvType string) (int64, error) {
	c := m.Config
	t, err := ParseKVType(kvType)
	if err != nil {
		return 0, err
	}
	return pagedkv.BytesPerToken(t, c.BlockCount, c.HeadCountKV, c.HeadDim)
}

func TestCancelFreesBlocks(t *testing.T) {
	e := newEngine(t, Config{})
	_, tok := stories(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := e.Submit(ctx, Request{Prompt: tok.Encode("Once upon a time", true, false), MaxTokens: 2000, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	<-ch // the first token: the request is running
	for e.Stats().KVBlocksUsed == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	// Once the context is done the stream may drop what is left (nobody
	// listens); it must still close, and the blocks must come back.
	for range ch {
	}
	waitIdle(t, e)
	if s := e.Stats(); s.RequestsFinished[FinishAbort] != 1 || s.GenerationTokens >= 2000 {
		t.Errorf("after cancel: %+v", s)
	}
}

func TestStopConditions(t *testing.T) {
	e := newEngine(t, Config{})
	_, tok := stories(t)
	prompt := tok.Encode("Once upon a time", true, false)
	full := solo(t, prompt, 40)
	fullText := tok.Decode(full)

	run := func(req Request) ([]int32, string, Output) {
		t.Helper()
		req.Prompt = prompt
		ch, err := e.Submit(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		toks, texts, finals := collect(t, ch, max(req.N, 1))
		return toks[0], texts[0], finals[0]
	}
	// max_tokens
	toks, text, fin := run(Request{MaxTokens: 10})
	if !slices.Equal(toks, full[:10]) || fin.FinishReason != FinishLength || fin.CompletionTokens != 10 || text != tok.Decode(full[:10]) {
		t.Errorf("max_tokens: %v %q %+v", toks, text, fin)
	}
	// A stop string ends the text before it.
	stop := "girl"
	at := strings.Index(fullText, stop)
	if at < 0 {
		t.Fatalf("%q not in %q", stop, fullText)
	}
	_, text, fin = run(Request{MaxTokens: 40, Stop: []string{"nothing like this", stop}})
	if text != fullText[:at] || fin.FinishReason != FinishStop || fin.StopMatched != stop {
		t.Errorf("stop string: %q (%+v), want %q", text, fin, fullText[:at])
	}
	// A stop token id ends generation; the token is not in the text.
	toks, text, fin = run(Request{MaxTokens: 40, StopTokenIDs: []int32{full[5]}})
	if !slices.Equal(toks, full[:6]) || text != tok.Decode(full[:5]) || fin.StopToken != full[5] || fin.FinishReason != FinishStop {
		t.Errorf("stop token: %v %q %+v", toks, text, fin)
	}
	// min_tokens postpones the stop token.
	toks, _, _ = run(Request{MaxTokens: 40, MinTokens: 8, StopTokenIDs: []int32{full[5]}})
	if len(toks) < 8 {
		t.Errorf("min_tokens: stopped after %d tokens", len(toks))
	}
	// logit_bias forces a token.
	toks, _, _ = run(Request{MaxTokens: 5, LogitBias: map[int32]float32{300: 100}})
	if !slices.Equal(toks, []int32{300, 300, 300, 300, 300}) {
		t.Errorf("logit_bias: %v", toks)
	}
	// Logprobs of greedy tokens are the top alternatives' first entry.
	_, _, _ = run(Request{MaxTokens: 3})
	ch, _ := e.Submit(context.Background(), Request{Prompt: prompt, MaxTokens: 3, Logprobs: true, TopLogprobs: 4})
	for o := range ch {
		for k, lp := range o.Logprobs {
			if len(lp.Top) != 4 || lp.Top[0].ID != o.TokenIDs[k] || lp.Top[0].Logprob != lp.Logprob || lp.Logprob > 0 || lp.Top[1].Logprob > lp.Top[0].Logprob {
				t.Errorf("logprobs %+v for token %d", lp, o.TokenIDs[k])
			}
		}
	}
	// Repetition penalties change greedy output.
	toks, _, _ = run(Request{MaxTokens: 40, FrequencyPenalty: 2})
	if slices.Equal(toks, full[:len(toks)]) {
		t.Error("frequency_penalty 2 changed nothing")
	}
	waitIdle(t, e)
}

func TestSeedsAndSamples(t *testing.T) {
	e := newEngine(t, Config{})
	_, tok := stories(t)
	prompt := tok.Encode("The little dog", true, false)
	req := Request{Prompt: prompt, MaxTokens: 30, N: 3, Seeded: true, Sampling: SamplingParams{Temperature: 1, Seed: 42}}
	ch, err := e.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := collect(t, ch, 3)
	ch, _ = e.Submit(context.Background(), req)
	b, _, _ := collect(t, ch, 3)
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Errorf("sample %d differs with the same seed", i)
		}
	}
	if slices.Equal(a[0], a[1]) && slices.Equal(a[1], a[2]) {
		t.Error("n=3 samples at temperature 1 are all identical")
	}
	waitIdle(t, e)
}

func TestSubmitValidation(t *testing.T) {
	e := newEngine(t, Config{MaxModelLen: 64})
	ok := Request{Prompt: []int32{1, 403}, MaxTokens: 8}
	bad := []struct {
		mod   func(*Request)
		param string
	}{
		{func(r *Request) { r.Prompt = nil }, "prompt"},
		{func(r *Request) { r.MaxTokens = 0 }, "max_tokens"},
		{func(r *Request) { r.MaxTokens = 63 }, "max_tokens"},
		{func(r *Request) { r.N = MaxN + 1 }, "n"},
		{func(r *Request) { r.Prompt = []int32{1, 99999} }, "prompt"},
		{func(r *Request) { r.TopLogprobs = 21 }, "top_logprobs"},
		{func(r *Request) { r.Sampling.TopP = 1.5 }, "top_p"},
		{func(r *Request) { r.Sampling.Temperature = -1 }, "temperature"},
		{func(r *Request) { r.LogitBias = map[int32]float32{600: 1} }, "logit_bias"},
		{func(r *Request) { r.PresencePenalty = 3 }, "presence_penalty"},
		{func(r *Request) { r.Stop = []string{""} }, "stop"},
	}
	for i, c := range bad {
		r := ok
		c.mod(&r)
		_, err := e.Submit(context.Background(), r)
		ve, isVE := err.(*ValidationError)
		if !isVE || ve.Param != c.param {
			t.Errorf("case %d: error %v, want a validation error on %s", i, err, c.param)
		}
	}
	ch, err := e.Submit(context.Background(), ok)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, ch, 1)
}

func TestQueueFullAndClose(t *testing.T) {
	m, tok := stories(t)
	e, err := New(m, tok, Config{MaxQueue: 1, MaxNumSeqs: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Prompt: []int32{1}, MaxTokens: 2000, IgnoreEOS: true}
	var chans []<-chan Output
	sawFull := false
	for range 50 {
		ch, err := e.Submit(context.Background(), req)
		if err == ErrQueueFull {
			sawFull = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	if !sawFull {
		t.Error("the queue never filled")
	}
	e.Close()
	for _, ch := range chans {
		for o := range ch {
			if o.Finished() && o.FinishReason != FinishAbort {
				t.Errorf("closed engine finished a request with %q", o.FinishReason)
			}
		}
	}
	if _, err := e.Submit(context.Background(), req); err != ErrClosed {
		t.Errorf("submit after close: %v", err)
	}
}
