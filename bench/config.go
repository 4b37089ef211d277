package bench

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Config describes one benchmark run. Zero values take the defaults of
// DefaultConfig where noted.
type Config struct {
	BaseURL  string // server root, e.g. http://127.0.0.1:8000 (a trailing /v1 is dropped)
	Endpoint string // /v1/completions (default) or /v1/chat/completions
	Model    string // empty: the first model of GET /v1/models
	APIKey   string // sent as Authorization: Bearer
	Label    string // names the run in results and plots

	Dataset           string // random (default), prefix-repetition, sharegpt, jsonl
	DatasetPath       string // file for sharegpt and jsonl
	NumPrompts        int
	RandomInputLen    int     // random: prompt tokens; prefix-repetition: suffix tokens
	RandomOutputLen   int     // random and prefix-repetition; jsonl default
	RandomRangeRatio  float64 // lengths are uniform in [L(1-r), L(1+r)]
	PrefixLen         int     // prefix-repetition: shared prefix tokens
	NumPrefixes       int     // prefix-repetition: number of distinct prefixes
	SharegptOutputLen int     // sharegpt: fixed output length; 0 uses the reply's length

	// TokenizerMode picks how prompts are measured: "auto" (server's
	// /tokenize, else an estimate), "server" (required) or "approx".
	TokenizerMode string
	// Tokenizer, when set, is used instead of TokenizerMode (e.g. a local
	// GGUF tokenizer).
	Tokenizer Tokenizer
	// Samples, when non-nil, is the workload, and no dataset is built.
	Samples []Sample

	RequestRate    float64 // requests/s; +Inf sends everything at once
	Burstiness     float64 // gamma shape; 1 is Poisson
	MaxConcurrency int     // hard cap on requests in flight; 0 is none
	IgnoreEOS      bool
	Seed           int64
	Goodput        map[string]float64 // SLOs in ms: keys ttft, tpot, e2el
	Percentiles    []float64          // e.g. 50, 90, 99
	MaxDuration    time.Duration      // stop sending and cancel in-flight requests after this

	Progress    io.Writer // progress reports; nil for none
	ProgressBar bool      // draw a bar (a terminal) rather than plain lines
	Log         io.Writer // notes while preparing; nil for none

	HTTPClient *http.Client // nil: a client sized for the run
}

// DefaultConfig returns vLLM's defaults where vLLM has one.
func DefaultConfig() Config {
	return Config{
		BaseURL:         "http://127.0.0.1:8000",
		Endpoint:        "/v1/completions",
		Dataset:         DatasetRandom,
		NumPrompts:      1000,
		RandomInputLen:  1024,
		RandomOutputLen: 128,
		PrefixLen:       256,
		NumPrefixes:     10,
		TokenizerMode:   "auto",
		RequestRate:     math.Inf(1),
		Burstiness:      1,
		Percentiles:     []float64{50, 90, 99},
		MaxDuration:     30 * time.Minute,
	}
}

// normalize fills defaults and checks the configuration.
func (c *Config) normalize() error {
	d := DefaultConfig()
	if c.BaseURL == "" {
		c.BaseURL = d.BaseURL
	}
	if c.Endpoint == "" {
		c.Endpoint = d.Endpoint
	}
	if !strings.HasPrefix(c.Endpoint, "/") {
		c.Endpoint = "/" + c.Endpoint
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("bench: base URL %q must start with http:// or https://", c.BaseURL)
	}
	// /tokenize lives at the root, so keep the base without /v1.
	if b, ok := strings.CutSuffix(c.BaseURL, "/v1"); ok && strings.HasPrefix(c.Endpoint, "/v1/") {
		c.BaseURL = b
	}
	if !strings.HasSuffix(c.Endpoint, "completions") {
		return fmt.Errorf("bench: endpoint %q: want /v1/completions or /v1/chat/completions", c.Endpoint)
	}
	if c.Dataset == "" {
		c.Dataset = d.Dataset
	}
	if c.Dataset == "prefix_repetition" {
		c.Dataset = DatasetPrefixRepetition
	}
	if c.Samples == nil {
		if !slices.Contains([]string{DatasetRandom, DatasetPrefixRepetition, DatasetShareGPT, DatasetJSONL}, c.Dataset) {
			return fmt.Errorf("bench: unknown dataset %q (random, prefix-repetition, sharegpt, jsonl)", c.Dataset)
		}
		if (c.Dataset == DatasetShareGPT || c.Dataset == DatasetJSONL) && c.DatasetPath == "" {
			return fmt.Errorf("bench: dataset %s needs a file", c.Dataset)
		}
		if c.NumPrompts < 1 {
			return fmt.Errorf("bench: num-prompts must be >= 1, got %d", c.NumPrompts)
		}
	} else {
		if len(c.Samples) == 0 {
			return fmt.Errorf("bench: empty sample list")
		}
		c.NumPrompts = len(c.Samples)
	}
	if c.RandomInputLen == 0 {
		c.RandomInputLen = d.RandomInputLen
	}
	if c.RandomOutputLen == 0 {
		c.RandomOutputLen = d.RandomOutputLen
	}
	if c.PrefixLen == 0 {
		c.PrefixLen = d.PrefixLen
	}
	if c.NumPrefixes == 0 {
		c.NumPrefixes = d.NumPrefixes
	}
	if c.RandomInputLen < 1 || c.RandomOutputLen < 1 {
		return fmt.Errorf("bench: random input/output lengths must be >= 1, got %d/%d", c.RandomInputLen, c.RandomOutputLen)
	}
	if c.RandomRangeRatio < 0 || c.RandomRangeRatio >= 1 {
		return fmt.Errorf("bench: random-range-ratio must be in [0, 1), got %v", c.RandomRangeRatio)
	}
	if c.Dataset == DatasetPrefixRepetition && (c.PrefixLen < 1 || c.NumPrefixes < 1) {
		return fmt.Errorf("bench: prefix-len and num-prefixes must be >= 1")
	}
	switch c.TokenizerMode {
	case "":
		c.TokenizerMode = "auto"
	case "auto", "server", "approx":
	default:
		return fmt.Errorf("bench: tokenizer %q: want auto, server or approx", c.TokenizerMode)
	}
	if c.RequestRate == 0 {
		c.RequestRate = d.RequestRate
	}
	if !(c.RequestRate > 0) {
		return fmt.Errorf("bench: request rate must be > 0 or inf, got %v", c.RequestRate)
	}
	if c.Burstiness == 0 {
		c.Burstiness = d.Burstiness
	}
	if !(c.Burstiness > 0) {
		return fmt.Errorf("bench: burstiness must be > 0, got %v", c.Burstiness)
	}
	if c.MaxConcurrency < 0 {
		return fmt.Errorf("bench: max-concurrency must be >= 0, got %d", c.MaxConcurrency)
	}
	for k, v := range c.Goodput {
		if k != "ttft" && k != "tpot" && k != "e2el" {
			return fmt.Errorf("bench: goodput metric %q: want ttft, tpot or e2el", k)
		}
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("bench: goodput %s: SLO must be a non-negative number of ms, got %v", k, v)
		}
	}
	if len(c.Percentiles) == 0 {
		c.Percentiles = d.Percentiles
	}
	for _, p := range c.Percentiles {
		if !(p >= 0 && p <= 100) {
			return fmt.Errorf("bench: percentile %v not in [0, 100]", p)
		}
	}
	if c.MaxDuration == 0 {
		c.MaxDuration = d.MaxDuration
	}
	if c.MaxDuration < 0 {
		return fmt.Errorf("bench: max-duration must be > 0, got %v", c.MaxDuration)
	}
	return nil
}

// chat reports whether the endpoint is the chat API.
func (c *Config) chat() bool { return strings.HasSuffix(c.Endpoint, "chat/completions") }

// backend is vLLM's name for the request format.
func (c *Config) backend() string {
	if c.chat() {
		return "openai-chat"
	}
	return "openai"
}
