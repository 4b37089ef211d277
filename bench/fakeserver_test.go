package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// scenario scripts how the fake server answers one prompt.
type scenario struct {
	status    int           // non-zero: answer with this HTTP error
	ttft      time.Duration // before the first content chunk
	itl       time.Duration // between content chunks
	tokens    int           // content chunks (one token each)
	drop      int           // >0: abort the connection after this many chunks
	truncate  int           // >0: end the response cleanly after this many chunks, no [DONE]
	streamErr bool          // send an error object instead of content
	noUsage   bool          // omit the usage chunk
	hang      bool          // never answer; wait for the client to go away
}

// serverRecord is what the server saw of one request, on the same clock as
// the client (both run in this process).
type serverRecord struct {
	prompt  string
	body    map[string]any
	header  http.Header
	recv    time.Time
	flushes []time.Time // one per content chunk, just before it was written
}

// fakeServer is an in-process OpenAI-compatible server with scripted delays
// and a word-piece tokenizer behind /tokenize and /detokenize.
type fakeServer struct {
	*httptest.Server
	script     func(prompt string) scenario
	tokShape   string // "vllm", "llama" or "" (no /tokenize)
	detokenize bool

	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	records     []*serverRecord
	pieceIDs    map[string]int
	pieces      []string
}

func newFakeServer(t *testing.T, script func(prompt string) scenario) *fakeServer {
	t.Helper()
	fs := &fakeServer{script: script, tokShape: "vllm", detokenize: true, pieceIDs: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { fs.complete(w, r, false) })
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { fs.complete(w, r, true) })
	mux.HandleFunc("POST /tokenize", fs.tokenize)
	mux.HandleFunc("POST /detokenize", fs.detokenizeHandler)
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"fake-model","object":"model"}]}`)
	})
	fs.Server = httptest.NewServer(mux)
	t.Cleanup(fs.Close)
	return fs
}

// encode splits each word into pieces of up to 4 bytes; a word's first
// piece carries its leading space, so decoding concatenates pieces.
func (fs *fakeServer) encode(text string) []int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var ids []int
	for wi, word := range strings.Fields(text) {
		for i := 0; i < len(word); i += 4 {
			p := word[i:min(len(word), i+4)]
			if i == 0 && wi > 0 {
				p = " " + p
			}
			id, ok := fs.pieceIDs[p]
			if !ok {
				id = len(fs.pieces)
				fs.pieceIDs[p] = id
				fs.pieces = append(fs.pieces, p)
			}
			ids = append(ids, id)
		}
	}
	return ids
}

func (fs *fakeServer) decode(ids []int) (string, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var sb strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(fs.pieces) {
			return "", false
		}
		sb.WriteString(fs.pieces[id])
	}
	return strings.TrimLeft(sb.String(), " "), true
}

func (fs *fakeServer) tokenize(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if fs.tokShape == "" || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.NotFound(w, r)
		return
	}
	var text string
	var ok bool
	switch fs.tokShape {
	case "vllm":
		if text, ok = body["prompt"].(string); !ok {
			http.Error(w, `{"error":"prompt missing"}`, http.StatusBadRequest)
			return
		}
	case "llama":
		// Like llama-server: a body without "content" gets an empty list.
		text, _ = body["content"].(string)
	}
	json.NewEncoder(w).Encode(map[string]any{"tokens": nonNil(fs.encode(text))})
}

func nonNil(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}

func (fs *fakeServer) detokenizeHandler(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Tokens []int `json:"tokens"`
	}
	if !fs.detokenize || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.NotFound(w, r)
		return
	}
	text, ok := fs.decode(body.Tokens)
	if !ok {
		http.Error(w, "bad token", http.StatusBadRequest)
		return
	}
	key := "prompt"
	if fs.tokShape == "llama" {
		key = "content"
	}
	json.NewEncoder(w).Encode(map[string]any{key: text})
}

func (fs *fakeServer) complete(w http.ResponseWriter, r *http.Request, chat bool) {
	rec := &serverRecord{recv: time.Now(), header: r.Header.Clone()}
	if err := json.NewDecoder(r.Body).Decode(&rec.body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	io.Copy(io.Discard, r.Body) // to EOF, so a client that leaves cancels r.Context()
	if chat {
		msgs, _ := rec.body["messages"].([]any)
		if len(msgs) > 0 {
			m, _ := msgs[0].(map[string]any)
			rec.prompt, _ = m["content"].(string)
		}
	} else {
		rec.prompt, _ = rec.body["prompt"].(string)
	}
	fs.mu.Lock()
	fs.records = append(fs.records, rec)
	fs.inFlight++
	fs.maxInFlight = max(fs.maxInFlight, fs.inFlight)
	fs.mu.Unlock()
	// Leave the in-flight count before the final bytes go out, so a client
	// that starts its next request on [DONE] never overlaps in the count.
	left := false
	leave := func() {
		if !left {
			left = true
			fs.mu.Lock()
			fs.inFlight--
			fs.mu.Unlock()
		}
	}
	defer leave()

	sc := fs.script(rec.prompt)
	if sc.status != 0 {
		http.Error(w, `{"error":{"message":"scripted failure"}}`, sc.status)
		return
	}
	if sc.hang {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
	}
	if chat {
		// vLLM opens chat streams with an empty role chunk: not a token.
		send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": ""}}}})
	}
	fmt.Fprint(w, ": keep-alive comment\n\n")
	fl.Flush()
	for i := range sc.tokens {
		d := sc.itl
		if i == 0 {
			d = sc.ttft
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		if sc.streamErr {
			send(map[string]any{"error": map[string]any{"message": "scripted stream error"}})
			return
		}
		text := fmt.Sprintf(" t%d", i)
		// Taken before writing, so the client can only see the chunk later.
		sentAt := time.Now()
		if chat {
			send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": text}}}})
		} else {
			send(map[string]any{"choices": []any{map[string]any{"index": 0, "text": text, "finish_reason": nil}}})
		}
		fs.mu.Lock()
		rec.flushes = append(rec.flushes, sentAt)
		fs.mu.Unlock()
		if sc.drop > 0 && i+1 == sc.drop {
			leave()
			panic(http.ErrAbortHandler) // drops the connection mid-stream
		}
		if sc.truncate > 0 && i+1 == sc.truncate {
			leave()
			return
		}
	}
	if !sc.noUsage {
		send(map[string]any{"choices": []any{}, "usage": map[string]any{
			"prompt_tokens": len(fs.encode(rec.prompt)), "completion_tokens": sc.tokens,
			"total_tokens": len(fs.encode(rec.prompt)) + sc.tokens}})
	}
	leave()
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

func (fs *fakeServer) record(prompt string) *serverRecord {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, r := range fs.records {
		if r.prompt == prompt {
			return r
		}
	}
	return nil
}

func (fs *fakeServer) peak() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.maxInFlight
}

// scriptByPrefix picks a scenario by the prompt's first word.
func scriptByPrefix(m map[string]scenario) func(string) scenario {
	return func(prompt string) scenario {
		first, _, _ := strings.Cut(prompt, " ")
		first, _, _ = strings.Cut(first, "#")
		if sc, ok := m[first]; ok {
			return sc
		}
		return scenario{tokens: 3}
	}
}
