// Package engine runs requests to completion: it owns the step loop that
// asks the scheduler what to run, runs the model over one flattened batch,
// samples, detokenizes incrementally, applies stop conditions and streams
// outputs back to each request.
package engine

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Request is one generation request. The caller (the API) has already
// applied any chat template and tokenized the prompt.
type Request struct {
	ID     string  // the caller's id, for logs; the engine does not require uniqueness
	Prompt []int32 // prompt token ids, BOS included if the model wants one

	MaxTokens int // most tokens to generate per sample (> 0)
	MinTokens int // EOS and stop conditions are ignored before this many tokens
	N         int // independent samples of the same prompt (0 means 1)

	Sampling SamplingParams
	// Seeded says Sampling.Seed was given; otherwise each sample draws a
	// random seed.
	Seeded bool

	PresencePenalty   float32 // OpenAI semantics, -2..2
	FrequencyPenalty  float32 // OpenAI semantics, -2..2
	RepetitionPenalty float32 // vLLM/CTRL semantics, > 0; 1 or 0 = off
	LogitBias         map[int32]float32

	Stop         []string // stop strings: generation ends before the first occurrence, which is not returned
	StopTokenIDs []int32  // extra stop tokens (not returned in text)
	IgnoreEOS    bool     // keep going after EOS/EOT until MaxTokens

	Logprobs    bool // return the log-probability of each sampled token
	TopLogprobs int  // and this many most likely alternatives per position (0..20)

	Priority int // lower runs first under the priority policy
}

// TopLogprob is one alternative at a position.
type TopLogprob struct {
	ID      int32
	Logprob float32
}

// TokenLogprob is the log-probability of one sampled token (computed from
// the raw logits, before penalties and sampling filters, as vLLM reports).
type TokenLogprob struct {
	ID      int32
	Logprob float32
	Top     []TopLogprob // the TopLogprobs most likely, highest first
}

// Finish reasons, as OpenAI names them.
const (
	FinishStop   = "stop"   // EOS, a stop token or a stop string
	FinishLength = "length" // MaxTokens or the model length reached
	FinishAbort  = "abort"  // cancelled (client gone, shutdown timeout)
)

// Output is one chunk of one sample's progress. Chunks of different samples
// of the same request interleave on the stream; Index says which.
type Output struct {
	Index    int            // which of the request's N samples (0-based)
	TokenIDs []int32        // tokens generated since the previous chunk
	Text     string         // their text: whole UTF-8 characters only, stop strings held back and removed
	Logprobs []TokenLogprob // per token in TokenIDs, when requested

	// Set on the sample's last chunk.
	FinishReason string
	StopMatched  string // the stop string or "" (a stop token id is reported in StopToken)
	StopToken    int32  // the stop token that ended it, or -1

	PromptTokens     int // the prompt's length (every chunk)
	CompletionTokens int // tokens generated so far by this sample
}

// Finished reports whether this is the sample's last chunk.
func (o *Output) Finished() bool { return o.FinishReason != "" }

// Errors returned by Submit. Anything else is a validation error whose text
// is meant for the client (an HTTP 400).
var (
	ErrQueueFull = errors.New("engine: the waiting queue is full")
	ErrClosed    = errors.New("engine: shutting down, not accepting requests")
)

// A ValidationError is a request the engine refuses before running it
// (prompt plus max tokens beyond the model length, empty prompt, ...).
type ValidationError struct {
	Param string // the request field at fault, OpenAI style ("max_tokens", "n", ...)
	Msg   string
}

func (e *ValidationError) Error() string { return e.Msg }

// Stats is a snapshot of the engine for metrics and health. Counters only
// grow; gauges are current values.
type Stats struct {
	Running int // sequences being computed
	Waiting int // sequences queued (including preempted ones)

	KVBlocksTotal int
	KVBlocksUsed  int     // held by sequences (not counting free cached blocks)
	KVUsage       float64 // KVBlocksUsed / KVBlocksTotal
	KVBytesBudget int64
	KVBytesUsed   int64

	PromptTokens     int64            // computed prompt tokens (counter)
	GenerationTokens int64            // generated tokens (counter)
	Preemptions      int64            // (counter)
	PrefixQueries    int64            // prompt tokens looked up in the prefix cache (counter)
	PrefixHits       int64            // of which found (counter)
	RequestsFinished map[string]int64 // by finish reason (counter)
	Steps            int64            // engine steps run (counter)
	Uptime           time.Duration
}

// Config sizes the engine. Zero values take the defaults documented on each
// field (see Defaults).
type Config struct {
	Threads             int    // compute threads (default: all cores)
	KVCacheMemory       int64  // bytes for K/V (default: enough for MaxNumSeqs full-length sequences, capped at a quarter of RAM)
	KVCacheType         string // "f16" (default), "f32" or "q8_0"
	BlockSize           int    // tokens per KV block (default 16)
	MaxNumSeqs          int    // most sequences in one step (default 64)
	MaxNumBatchedTokens int    // token budget of one step (default 512)
	MaxModelLen         int    // longest prompt+output (default: the model's context length)
	MaxQueue            int    // waiting requests before Submit fails with ErrQueueFull (default 1024)
	Policy              string // "fcfs" (default) or "priority"
	DisablePrefixCache  bool   // turn automatic prefix caching off
}

// AddFlags registers the engine's flags (the same names serve and the
// benches use) on fs, storing into c.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.Threads, "t", c.Threads, "compute threads (0: all cores)")
	fs.Func("kv-cache-memory", "bytes for the KV cache, e.g. 512MiB or 2GiB (default: enough for max-num-seqs full sequences, at most a quarter of RAM)", func(s string) error {
		n, err := ParseBytes(s)
		c.KVCacheMemory = n
		return err
	})
	fs.StringVar(&c.KVCacheType, "kv-cache-type", c.KVCacheType, "KV cache element type: f16, f32, q8_0 (default f16)")
	fs.IntVar(&c.BlockSize, "block-size", c.BlockSize, "tokens per KV block (default 16)")
	fs.IntVar(&c.MaxNumSeqs, "max-num-seqs", c.MaxNumSeqs, "most sequences per step (default 64)")
	fs.IntVar(&c.MaxNumBatchedTokens, "max-num-batched-tokens", c.MaxNumBatchedTokens, "token budget per step (default 512)")
	fs.IntVar(&c.MaxModelLen, "max-model-len", c.MaxModelLen, "longest prompt+output in tokens (default: the model's context length)")
	fs.IntVar(&c.MaxQueue, "max-queue", c.MaxQueue, "waiting requests before new ones are refused (default 1024)")
	fs.StringVar(&c.Policy, "scheduling-policy", c.Policy, "fcfs or priority (default fcfs)")
	fs.BoolVar(&c.DisablePrefixCache, "no-prefix-caching", c.DisablePrefixCache, "disable automatic prefix caching")
}

// ParseBytes reads a size such as 1048576, 512MiB, 2GiB, 1.5GB or 800M.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := float64(1)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1}}
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || v*mult > math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size in bytes (e.g. 512MiB, 2GiB)", s)
	}
	return int64(v * mult), nil
}
