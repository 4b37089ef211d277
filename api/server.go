// Package api is pagoda's OpenAI-compatible HTTP server on fasthttp:
// /v1/completions, /v1/chat/completions, /v1/models, /tokenize,
// /detokenize, /health, /metrics and /version, with Server-Sent Events
// streaming, API-key auth, OpenAI-shaped errors and graceful draining.
//
// The server talks to the engine through Backend, so tests run it against a
// scripted fake. It parses and validates each request, applies the chat
// template, tokenizes, submits, and relays the engine's outputs.
package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/telemetry"
	"github.com/pagoda-llm/pagoda/tokenizer"
)

// Backend runs requests; *engine.Engine implements it.
type Backend interface {
	// Submit starts req. The channel closes after all samples finished;
	// cancelling ctx aborts the request and frees its KV blocks.
	Submit(ctx context.Context, req engine.Request) (<-chan engine.Output, error)
	Stats() engine.Stats
	MaxModelLen() int
}

// Tokenizer is what the server needs of a tokenizer; *tokenizer.Tokenizer
// implements it.
type Tokenizer interface {
	Encode(text string, addSpecial, parseSpecial bool) []int32
	Decode(ids []int32) string
	TokenToPiece(id int32) []byte
	VocabSize() int
	BOS() int32
	Token(id int32) string
}

// Model is the loaded model the server serves.
type Model struct {
	Name      string // the id clients send as "model"
	Backend   Backend
	Tokenizer Tokenizer
	Template  *tokenizer.ChatTemplate // renders chat messages into a prompt
}

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	APIKey         string        // when set, /v1/*, /tokenize and /detokenize need "Authorization: Bearer KEY"
	MaxBodySize    int           // bytes of request body (default 8 MiB)
	MaxN           int           // largest n per request (default engine.MaxN)
	RequestTimeout time.Duration // abort a generation after this long (0: never)
	Version        string        // reported by /version and in system_fingerprint
	Logger         *slog.Logger  // default: slog.Default()
}

// DefaultMaxBodySize is the request body limit when Options.MaxBodySize is 0.
const DefaultMaxBodySize = 8 << 20

// Server handles HTTP requests. It is ready once SetModel is called.
type Server struct {
	opts        Options
	log         *slog.Logger
	apiKeyHash  [32]byte
	fingerprint string
	started     time.Time

	model          atomic.Pointer[Model]
	metrics        atomic.Pointer[telemetry.Metrics]
	metricsHandler atomic.Pointer[fasthttp.RequestHandler]

	// In-flight generation requests, for draining.
	mu       sync.Mutex
	inflight int
	draining bool
	idle     chan struct{} // closed when inflight drops to 0 while draining

	// Hooks for deterministic tests.
	now   func() time.Time
	newID func(prefix string) string
}

// New makes a server that answers 503 until SetModel.
func New(opts Options) *Server {
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = DefaultMaxBodySize
	}
	if opts.MaxN <= 0 {
		opts.MaxN = engine.MaxN
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &Server{opts: opts, log: opts.Logger, started: time.Now(), now: time.Now, newID: randomID}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.apiKeyHash = sha256.Sum256([]byte(opts.APIKey))
	s.fingerprint = "fp_pagoda_" + opts.Version
	return s
}

func randomID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// SetModel makes the server ready to serve m; /health turns 200.
func (s *Server) SetModel(m *Model) {
	met := telemetry.New(m.Name, m.Backend.Stats)
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(met.Registry(), promhttp.HandlerOpts{}))
	s.metrics.Store(met)
	s.metricsHandler.Store(&h)
	s.model.Store(m)
}

// Metrics returns the model's metrics, or nil before SetModel.
func (s *Server) Metrics() *telemetry.Metrics { return s.metrics.Load() }

// FastHTTP returns a fasthttp server configured for s: body limit, OpenAI
// errors for unreadable requests, no write timeout that would cut long
// streams.
func (s *Server) FastHTTP() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      s.Handler,
		ErrorHandler:                 s.readError,
		Name:                         "pagoda",
		MaxRequestBodySize:           s.opts.MaxBodySize,
		NoDefaultContentType:         true,
		IdleTimeout:                  2 * time.Minute,
		ReadTimeout:                  time.Minute, // to read one request; streams write without a deadline
		CloseOnShutdown:              true,
		TCPKeepalive:                 true,
		DisablePreParseMultipartForm: true,
		Logger:                       connLogger{s.log},
	}
}

// connLogger takes fasthttp's connection-level messages (a client that
// hung up, a body over the limit) to debug level: each is already answered
// or harmless.
type connLogger struct{ log *slog.Logger }

func (l connLogger) Printf(format string, args ...any) {
	l.log.Debug("api: " + fmt.Sprintf(format, args...))
}

// readError answers requests fasthttp could not read (too large, malformed).
func (s *Server) readError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeError(ctx, &apiError{Status: fasthttp.StatusRequestEntityTooLarge, Type: typeInvalidRequest, Code: "request_too_large",
			Message: fmt.Sprintf("request body exceeds the limit of %d bytes", s.opts.MaxBodySize)})
		return
	}
	writeError(ctx, errBadRequest("", "could not read the HTTP request: %v", err))
}

// route is one path's handlers by method.
type route struct {
	method  string
	auth    bool
	work    bool // generation work: counted for draining, refused while draining
	handler func(s *Server, ctx *fasthttp.RequestCtx, m *Model, rs *reqState) *apiError
}

var routes = map[string]route{
	"/v1/completions":      {fasthttp.MethodPost, true, true, (*Server).completions},
	"/v1/chat/completions": {fasthttp.MethodPost, true, true, (*Server).chatCompletions},
	"/v1/models":           {fasthttp.MethodGet, true, false, (*Server).listModels},
	"/tokenize":            {fasthttp.MethodPost, true, false, (*Server).tokenize},
	"/detokenize":          {fasthttp.MethodPost, true, false, (*Server).detokenize},
}

// Handler is the fasthttp request handler.
func (s *Server) Handler(ctx *fasthttp.RequestCtx) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("api: panic while serving a request", "method", string(ctx.Method()), "path", string(ctx.Path()),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			ctx.Response.Reset()
			writeError(ctx, &apiError{Status: fasthttp.StatusInternalServerError, Type: typeServer, Code: "internal_error",
				Message: "internal error while serving this request"})
		}
	}()
	if err := s.serve(ctx); err != nil {
		writeError(ctx, err)
	}
}

func (s *Server) serve(ctx *fasthttp.RequestCtx) *apiError {
	path := string(ctx.Path())
	method := string(ctx.Method())
	if s.isDraining() {
		ctx.SetConnectionClose()
	}
	switch path {
	case "/health":
		if method != fasthttp.MethodGet && method != fasthttp.MethodHead {
			return errMethod(ctx, "GET")
		}
		return s.health(ctx)
	case "/version":
		if method != fasthttp.MethodGet {
			return errMethod(ctx, "GET")
		}
		writeJSON(ctx, 200, map[string]string{"version": s.opts.Version})
		return nil
	case "/metrics":
		if method != fasthttp.MethodGet {
			return errMethod(ctx, "GET")
		}
		h := s.metricsHandler.Load()
		if h == nil {
			return errUnavailable("the model is still loading")
		}
		(*h)(ctx)
		return nil
	}
	r, ok := routes[path]
	if !ok && strings.HasPrefix(path, "/v1/models/") {
		r, ok = route{fasthttp.MethodGet, true, false, (*Server).getModel}, true
	}
	if !ok {
		return &apiError{Status: fasthttp.StatusNotFound, Type: typeInvalidRequest, Code: "not_found",
			Message: fmt.Sprintf("no route %s %s", method, path)}
	}
	if method != r.method {
		return errMethod(ctx, r.method)
	}
	if r.auth && !s.authorized(ctx) {
		return &apiError{Status: fasthttp.StatusUnauthorized, Type: typeInvalidRequest, Code: "invalid_api_key",
			Message: "missing or invalid API key: send it as \"Authorization: Bearer KEY\""}
	}
	m := s.model.Load()
	if m == nil {
		return errUnavailable("the model is still loading")
	}
	rs := &reqState{}
	if !r.work {
		return r.handler(s, ctx, m, rs)
	}
	if !s.begin() {
		ctx.SetConnectionClose()
		return errUnavailable("the server is shutting down and accepts no new requests")
	}
	// A streamed request is ended by its stream writer; any other here.
	defer func() {
		if !rs.streaming {
			s.end()
		}
	}()
	return r.handler(s, ctx, m, rs)
}

func (s *Server) authorized(ctx *fasthttp.RequestCtx) bool {
	if s.opts.APIKey == "" {
		return true
	}
	auth := string(ctx.Request.Header.Peek("Authorization"))
	key, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		key, ok = strings.CutPrefix(auth, "bearer ")
	}
	if !ok {
		return false
	}
	// Comparing fixed-size hashes keeps the time independent of both the
	// key's length and its content.
	h := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return subtle.ConstantTimeCompare(h[:], s.apiKeyHash[:]) == 1
}

func (s *Server) health(ctx *fasthttp.RequestCtx) *apiError {
	switch {
	case s.isDraining():
		writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"status": "draining"})
	case s.model.Load() == nil:
		writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"status": "loading"})
	default:
		writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ok"})
	}
	return nil
}

// begin counts a new generation request in, unless the server is draining.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.inflight++
	return true
}

// end counts a generation request out.
func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	if s.inflight == 0 && s.draining && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// InFlight is the number of generation requests being served.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight
}

// Drain stops accepting generation requests (they get 503, /health turns
// 503) and waits until the ones in flight have finished, or ctx is done, in
// which case it returns ctx's error. Requests still running then are the
// caller's to abort (closing the engine ends their streams).
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	if s.inflight == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("api: drain: %d requests still in flight: %w", s.InFlight(), ctx.Err())
	}
}
