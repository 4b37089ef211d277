package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startServe runs serve on the bundled model on a free port; signals go in
// through the returned channel, as the OS would deliver them.
func startServe(t *testing.T, o serveOptions) (string, chan os.Signal, chan int) {
	t.Helper()
	o.host, o.port = "127.0.0.1", 0
	if o.maxBody == 0 {
		o.maxBody = 1 << 20
	}
	if o.drainTimeout == 0 {
		o.drainTimeout = time.Minute
	}
	o.engine.Threads = 1
	sigs := make(chan os.Signal, 4)
	addr := make(chan string, 1)
	code := make(chan int, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { code <- serve(o, sigs, log, func(a string) { addr <- a }) }()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a
	case c := <-code:
		t.Fatalf("serve exited with %d", c)
	}
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
			if resp.StatusCode != 503 {
				t.Fatalf("/health while loading: %d", resp.StatusCode)
			}
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited with %d while loading", c)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return url, sigs, code
}

func TestServeBundled(t *testing.T) {
	tmpl := t.TempDir() + "/chat.jinja"
	if err := os.WriteFile(tmpl, []byte("{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, sigs, code := startServe(t, serveOptions{apiKey: "k", chatTemplate: tmpl})
	post := func(path, body string) string {
		req, _ := http.NewRequest("POST", url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	// --chat-template replaces the default: the messages render as
	// "<s>[user]Hi", BOS written by the template and not added twice.
	chat := post("/tokenize", `{"messages":[{"role":"user","content":"Hi"}]}`)
	plain := post("/tokenize", `{"prompt":"<s>[user]Hi","add_special_tokens":false}`)
	if chat != plain || !strings.Contains(chat, `"tokens":[1,`) || strings.Contains(chat, `"tokens":[1,1,`) {
		t.Errorf("chat template override: %s, want %s", chat, plain)
	}
	req, _ := http.NewRequest("POST", url+"/v1/completions",
		strings.NewReader(`{"model":"stories260K","prompt":"Once upon a time","max_tokens":8,"temperature":0}`))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Model   string `json:"model"`
		Choices []struct {
			Text         string `json:"text"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("completion: %d %v", resp.StatusCode, err)
	}
	if out.Model != "stories260K" || len(out.Choices) != 1 || out.Choices[0].Text == "" || out.Usage.CompletionTokens != 8 {
		t.Errorf("completion %+v", out)
	}
	sigs <- syscall.SIGTERM
	if c := <-code; c != 0 {
		t.Errorf("exit code %d after SIGTERM", c)
	}
}

// TestServeDrainUnderLoad sends SIGTERM while streaming and non-streaming
// requests run: every accepted request must end whole (finish_reason, and
// [DONE] for streams), new work gets 503, and serve exits 0.
func TestServeDrainUnderLoad(t *testing.T) {
	url, sigs, code := startServe(t, serveOptions{})
	const n = 6
	type reply struct {
		status int
		body   string
		err    error
	}
	replies := make(chan reply, n)
	tokens := 200 // long enough that all are running when SIGTERM comes
	if serveUnderRace {
		tokens = 60
	}
	for i := range n {
		go func() {
			stream := i%2 == 0
			body := fmt.Sprintf(`{"prompt":"Once","max_tokens":%d,"ignore_eos":true,"stream":%v}`, tokens, stream)
			resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
			if err != nil {
				replies <- reply{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			replies <- reply{resp.StatusCode, string(b), err}
		}()
	}
	// SIGTERM once the engine holds all of them.
	for serveInFlight(t, url) != n {
		time.Sleep(time.Millisecond)
	}
	sigs <- syscall.SIGTERM
	for {
		r, err := http.Get(url + "/health")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode == 503 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if r, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"x"}`)); err == nil {
		r.Body.Close()
		if r.StatusCode != 503 {
			t.Errorf("new work while draining: %d", r.StatusCode)
		}
	}
	for range n {
		r := <-replies
		if r.err != nil || r.status != 200 {
			t.Errorf("request: %d %v", r.status, r.err)
			continue
		}
		whole := strings.Contains(r.body, `"finish_reason":"length"`) &&
			(!strings.HasPrefix(r.body, "data: ") || strings.HasSuffix(r.body, "data: [DONE]\n\n"))
		if !whole {
			t.Errorf("a request was cut: ...%s", r.body[max(0, len(r.body)-300):])
		}
	}
	if c := <-code; c != 0 {
		t.Errorf("exit code %d", c)
	}
}

// serveInFlight reads pagoda:num_requests_running + waiting from /metrics.
func serveInFlight(t *testing.T, url string) float64 {
	return serveMetric(t, url, "pagoda:num_requests_running") + serveMetric(t, url, "pagoda:num_requests_waiting")
}

func serveMetric(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name) && (strings.Contains(name, "{") || strings.HasPrefix(line, name+"{")) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// TestServeDisconnectFreesBlocks kills a client mid-stream: the engine must
// abort its request and free its KV blocks, as the metrics show.
func TestServeDisconnectFreesBlocks(t *testing.T) {
	url, sigs, code := startServe(t, serveOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/chat/completions",
		strings.NewReader(`{"messages":[{"role":"user","content":"Hi"}],"max_tokens":1500,"ignore_eos":true,"stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for range 3 {
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	// Statistics are published once per engine step: poll them (the limit
	// only guards against a hang).
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: kv_cache_usage_perc %g, running %g, aborted %g", what,
					serveMetric(t, url, "pagoda:kv_cache_usage_perc"), serveMetric(t, url, "pagoda:num_requests_running"),
					serveMetric(t, url, `pagoda:request_success_total{finished_reason="abort"`))
			}
		}
	}
	waitFor("the running request holds no KV blocks", func() bool { return serveMetric(t, url, "pagoda:kv_cache_usage_perc") > 0 })
	cancel()
	resp.Body.Close()
	waitFor("the aborted request kept its blocks", func() bool {
		return serveMetric(t, url, "pagoda:kv_cache_usage_perc") == 0 && serveMetric(t, url, "pagoda:num_requests_running") == 0 &&
			serveMetric(t, url, `pagoda:request_success_total{finished_reason="abort"`) == 1
	})
	sigs <- syscall.SIGTERM
	if c := <-code; c != 0 {
		t.Errorf("exit code %d", c)
	}
}

// TestServeConcurrentStreams runs 64 streaming clients on the real engine
// (8 under the race detector; the api tests run 64 against a fake with it).
func TestServeConcurrentStreams(t *testing.T) {
	url, sigs, code := startServe(t, serveOptions{})
	clients := 64
	if serveUnderRace {
		clients = 8
	}
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			body := fmt.Sprintf(`{"messages":[{"role":"user","content":"Story %d"}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`, i)
			resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || !strings.HasSuffix(string(b), "data: [DONE]\n\n") || !strings.Contains(string(b), `"finish_reason":`) {
				errs <- fmt.Errorf("client %d: %d %v ...%s", i, resp.StatusCode, err, b[max(0, len(b)-200):])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sigs <- syscall.SIGTERM
	if c := <-code; c != 0 {
		t.Errorf("exit code %d", c)
	}
}

func TestServeSecondInterrupt(t *testing.T) {
	url, sigs, code := startServe(t, serveOptions{})
	resp, err := http.Post(url+"/v1/completions", "application/json",
		strings.NewReader(`{"prompt":"Once","max_tokens":2000,"ignore_eos":true,"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	bufio.NewReader(resp.Body).ReadString('\n')
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGINT
	if c := <-code; c != 130 {
		t.Errorf("exit code %d after two interrupts, want 130", c)
	}
}

func TestServedName(t *testing.T) {
	lm, err := loadModel("")
	if err != nil {
		t.Fatal(err)
	}
	defer lm.file.Close()
	for _, c := range []struct {
		o    serveOptions
		want string
	}{
		{serveOptions{}, "stories260K"},
		{serveOptions{name: "tiny"}, "tiny"},
		{serveOptions{modelPath: "/models/x.gguf"}, lm.model.Config.Name},
	} {
		if got := servedName(c.o, lm); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
	lm.model.Config.Name = ""
	if got := servedName(serveOptions{modelPath: "/models/x.gguf"}, lm); got != "x" {
		t.Errorf("unnamed file: %q", got)
	}
}

func TestServeFlags(t *testing.T) {
	var out strings.Builder
	if c := runServe([]string{"--api-key", "a", "--api-key-file", "/nonexistent"}, &out, &out); c != 2 {
		t.Errorf("both keys: exit %d", c)
	}
	if c := runServe([]string{"--max-body", "lots"}, &out, &out); c != 2 {
		t.Errorf("bad --max-body: exit %d", c)
	}
	if c := runServe([]string{"model.gguf"}, &out, &out); c != 2 {
		t.Errorf("positional model: exit %d", c)
	}
}
