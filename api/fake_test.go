package api

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model/bundled"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// The fake backend's default reply: " Once upon a time", one token a chunk.
var (
	replyIDs    = []int32{403, 407, 261, 378}
	replyPieces = []string{" Once", " upon", " a", " time"}
)

// fakeBackend plays scripted outputs. Each sample emits replyIDs (cut at
// MaxTokens, finishing "length", else "stop" on EOS). With gate set, every
// output after a sample's first waits for a value on gate (or for the
// request's context to end, which closes the stream as the engine does).
type fakeBackend struct {
	mu       sync.Mutex
	reqs     []engine.Request
	maxLen   int
	stats    engine.Stats
	err      error // returned by Submit
	panicMsg string
	gate     chan struct{}
	// cancelled receives the request ID when its context ends early.
	cancelled chan string
	// textOf overrides the text of output k of a sample.
	textOf func(k int) string
	// length is the outputs per sample before EOS (default 4, cycling the reply).
	length int
}

func newFake() *fakeBackend {
	return &fakeBackend{maxLen: 512, cancelled: make(chan string, 128),
		stats: engine.Stats{Running: 2, Waiting: 3, KVBlocksTotal: 100, KVBlocksUsed: 25, KVUsage: 0.25,
			PromptTokens: 1000, GenerationTokens: 500, Preemptions: 7, PrefixQueries: 300, PrefixHits: 120,
			RequestsFinished: map[string]int64{"stop": 9, "length": 4}}}
}

func (f *fakeBackend) Stats() engine.Stats { f.mu.Lock(); defer f.mu.Unlock(); return f.stats }
func (f *fakeBackend) MaxModelLen() int    { return f.maxLen }

func (f *fakeBackend) requests() []engine.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Request(nil), f.reqs...)
}

func (f *fakeBackend) Submit(ctx context.Context, req engine.Request) (<-chan engine.Output, error) {
	f.mu.Lock()
	err, p := f.err, f.panicMsg
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if p != "" {
		panic(p)
	}
	if err != nil {
		return nil, err
	}
	n := max(req.N, 1)
	var outs []engine.Output
	length := f.length
	if length == 0 {
		length = len(replyIDs)
	}
	for k := range length {
		for s := range n {
			if k >= req.MaxTokens {
				continue
			}
			id := replyIDs[k%len(replyIDs)]
			o := engine.Output{Index: s, TokenIDs: []int32{id}, Text: replyPieces[k%len(replyIDs)], StopToken: -1,
				PromptTokens: len(req.Prompt), CompletionTokens: k + 1}
			if f.textOf != nil {
				o.Text = f.textOf(k)
			}
			if req.Logprobs {
				tl := engine.TokenLogprob{ID: id, Logprob: -0.5}
				for a := range req.TopLogprobs {
					tl.Top = append(tl.Top, engine.TopLogprob{ID: int32(300 + a), Logprob: -1 - float32(a)})
				}
				o.Logprobs = []engine.TokenLogprob{tl}
			}
			switch {
			case k == req.MaxTokens-1:
				o.FinishReason = engine.FinishLength
			case k == length-1:
				o.FinishReason, o.StopToken = engine.FinishStop, 2
			}
			outs = append(outs, o)
		}
	}
	ch := make(chan engine.Output)
	go func() {
		defer close(ch)
		for i, o := range outs {
			if f.gate != nil && i >= n {
				select {
				case <-f.gate:
				case <-ctx.Done():
					f.cancelled <- req.ID
					return
				}
			}
			select {
			case ch <- o:
			case <-ctx.Done():
				f.cancelled <- req.ID
				return
			}
		}
	}()
	return ch, nil
}

var (
	tokOnce sync.Once
	tokVal  *tokenizer.Tokenizer
	tokErr  error
)

func bundledTokenizer(t testing.TB) *tokenizer.Tokenizer {
	tokOnce.Do(func() {
		f, err := loader.Parse(bundled.Stories260K)
		if err != nil {
			tokErr = err
			return
		}
		tokVal, tokErr = tokenizer.FromGGUF(f)
	})
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tokVal
}

// testServer runs s on a loopback port with fb as its model's backend.
type testServer struct {
	s    *Server
	fb   *fakeBackend
	url  string
	tok  *tokenizer.Tokenizer
	logs *strings.Builder
}

func startServer(t *testing.T, fb *fakeBackend, opts Options) *testServer {
	t.Helper()
	logs := &strings.Builder{}
	var logMu sync.Mutex
	opts.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	if opts.MaxBodySize == 0 {
		opts.MaxBodySize = 64 << 10
	}
	if opts.Version == "" {
		opts.Version = "1.2.3"
	}
	s := New(opts)
	s.now = func() time.Time { return time.Unix(1700000000, 0) }
	s.newID = func(prefix string) string { return prefix + "test" }
	tok := bundledTokenizer(t)
	tmpl, err := tokenizer.ParseChatTemplate(tokenizer.DefaultChatTemplate, "<s>", "</s>")
	if err != nil {
		t.Fatal(err)
	}
	if fb != nil {
		s.SetModel(&Model{Name: "stories260K", Backend: fb, Tokenizer: tok, Template: tmpl})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := s.FastHTTP()
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.ShutdownWithContext(ctx)
	})
	return &testServer{s: s, fb: fb, url: "http://" + ln.Addr().String(), tok: tok, logs: logs}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100, DisableCompression: true}}

type result struct {
	status int
	body   string
	header http.Header
}

func (ts *testServer) do(t *testing.T, method, path, body string, header ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return result{resp.StatusCode, string(b), resp.Header}
}

func (ts *testServer) post(t *testing.T, path, body string, header ...string) result {
	return ts.do(t, http.MethodPost, path, body, header...)
}

// sseEvents splits a stream body into its data payloads.
func sseEvents(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("stream line %q is not a data line", line)
		}
		out = append(out, d)
	}
	return out
}
