package loader

import (
	"fmt"
	"math"
)

// Config is a llama-family model's hyperparameters, read from the
// `<arch>.*` metadata keys.
type Config struct {
	Arch              string
	Name              string
	ContextLength     int // <arch>.context_length (required)
	EmbeddingLength   int // <arch>.embedding_length (required)
	BlockCount        int // <arch>.block_count (required)
	FeedForwardLength int // <arch>.feed_forward_length (required)
	HeadCount         int // <arch>.attention.head_count (required)
	HeadCountKV       int // <arch>.attention.head_count_kv (default: HeadCount)
	HeadDim           int // <arch>.attention.key_length (default: EmbeddingLength / HeadCount)
	RopeDims          int // <arch>.rope.dimension_count (default: HeadDim)
	RopeFreqBase      float32
	RopeNeox          bool    // NeoX-style rotation pairs (i, i+d/2); llama uses adjacent pairs
	RopeScalingType   string  // "none", "linear" or "yarn"; <arch>.rope.scaling.type (default "none", or "linear" when a factor is given)
	RopeScalingFactor float32 // <arch>.rope.scaling.factor, or the older <arch>.rope.scale_linear (default 1)
	RopeOrigContext   int     // <arch>.rope.scaling.original_context_length (default ContextLength)
	YarnAttnFactor    float32 // <arch>.rope.scaling.attn_factor or .yarn_attn_factor (default 1)
	YarnBetaFast      float32 // <arch>.rope.scaling.yarn_beta_fast (default 32)
	YarnBetaSlow      float32 // <arch>.rope.scaling.yarn_beta_slow (default 1)
	RMSEpsilon        float32 // <arch>.attention.layer_norm_rms_epsilon (required)
	VocabSize         int     // <arch>.vocab_size, else the length of tokenizer.ggml.tokens
}

// Documented defaults for optional keys.
const (
	DefaultRopeFreqBase = 10000
	DefaultYarnBetaFast = 32
	DefaultYarnBetaSlow = 1
)

// supportedArchs are the architectures that run the llama graph. Mistral
// v0.x files declare "llama"; the others share its graph and key names.
var supportedArchs = map[string]bool{"llama": true, "mistral": true}

// ModelConfig reads the llama-family configuration of f. A missing required
// key is an error that names it.
func (f *File) ModelConfig() (*Config, error) {
	arch, err := f.requireString("general.architecture")
	if err != nil {
		return nil, err
	}
	if !supportedArchs[arch] {
		return nil, fmt.Errorf("gguf: architecture %q is not supported (supported: llama, mistral)", arch)
	}
	c := &Config{Arch: arch}
	c.Name, _ = f.stringKey("general.name")
	req := func(dst *int, suffix string) {
		if err == nil {
			*dst, err = f.requireInt(arch + "." + suffix)
		}
	}
	req(&c.ContextLength, "context_length")
	req(&c.EmbeddingLength, "embedding_length")
	req(&c.BlockCount, "block_count")
	req(&c.FeedForwardLength, "feed_forward_length")
	req(&c.HeadCount, "attention.head_count")
	if err != nil {
		return nil, err
	}
	eps, err := f.requireFloat(arch + ".attention.layer_norm_rms_epsilon")
	if err != nil {
		return nil, err
	}
	c.RMSEpsilon = float32(eps)
	opt := func(dst *int, key string, def int) {
		if err != nil {
			return
		}
		*dst = def
		if _, ok := f.Get(key); ok {
			*dst, err = f.requireInt(key)
		}
	}
	optF := func(dst *float32, key string, def float32) {
		if err != nil {
			return
		}
		*dst = def
		if _, ok := f.Get(key); ok {
			var v float64
			v, err = f.requireFloat(key)
			*dst = float32(v)
		}
	}
	if c.HeadCount <= 0 || c.EmbeddingLength <= 0 || c.BlockCount <= 0 || c.FeedForwardLength <= 0 {
		return nil, fmt.Errorf("gguf: %s: embedding_length, block_count, feed_forward_length and attention.head_count must be positive", arch)
	}
	opt(&c.HeadCountKV, arch+".attention.head_count_kv", c.HeadCount)
	opt(&c.HeadDim, arch+".attention.key_length", c.EmbeddingLength/c.HeadCount)
	opt(&c.RopeDims, arch+".rope.dimension_count", c.HeadDim)
	optF(&c.RopeFreqBase, arch+".rope.freq_base", DefaultRopeFreqBase)
	optF(&c.RopeScalingFactor, arch+".rope.scale_linear", 1)
	optF(&c.RopeScalingFactor, arch+".rope.scaling.factor", c.RopeScalingFactor)
	opt(&c.RopeOrigContext, arch+".rope.scaling.original_context_length", c.ContextLength)
	optF(&c.YarnAttnFactor, arch+".rope.scaling.attn_factor", 1)
	optF(&c.YarnAttnFactor, arch+".rope.scaling.yarn_attn_factor", c.YarnAttnFactor) // what llama.cpp's converter writes
	optF(&c.YarnBetaFast, arch+".rope.scaling.yarn_beta_fast", DefaultYarnBetaFast)
	optF(&c.YarnBetaSlow, arch+".rope.scaling.yarn_beta_slow", DefaultYarnBetaSlow)
	if err != nil {
		return nil, err
	}
	c.RopeScalingType = "none"
	if c.RopeScalingFactor != 1 && c.RopeScalingFactor != 0 {
		c.RopeScalingType = "linear"
	}
	if s, ok := f.stringKey(arch + ".rope.scaling.type"); ok {
		c.RopeScalingType = s
	}
	switch c.RopeScalingType {
	case "none", "linear", "yarn":
	default:
		return nil, fmt.Errorf("gguf: %s.rope.scaling.type %q is not supported (none, linear, yarn)", arch, c.RopeScalingType)
	}
	if c.RopeScalingFactor == 0 {
		c.RopeScalingFactor = 1
	}
	if c.HeadCountKV <= 0 || c.HeadCount%c.HeadCountKV != 0 {
		return nil, fmt.Errorf("gguf: %s.attention.head_count %d is not a multiple of head_count_kv %d", arch, c.HeadCount, c.HeadCountKV)
	}
	if c.HeadDim <= 0 || c.RopeDims <= 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0 {
		return nil, fmt.Errorf("gguf: %s: rope.dimension_count %d must be even and at most the head size %d", arch, c.RopeDims, c.HeadDim)
	}
	if !(c.RMSEpsilon > 0) || !(c.RopeFreqBase > 0) || math.IsInf(float64(c.RopeFreqBase), 0) {
		return nil, fmt.Errorf("gguf: %s: rms epsilon %g and rope.freq_base %g must be positive and finite", arch, c.RMSEpsilon, c.RopeFreqBase)
	}
	if v, ok := f.Get(arch + ".vocab_size"); ok {
		n, ok := v.Uint()
		if !ok || n == 0 || n > math.MaxInt32 {
			return nil, fmt.Errorf("gguf: %s.vocab_size must be a positive integer, got %v", arch, v)
		}
		c.VocabSize = int(n)
	} else if v, ok := f.Get("tokenizer.ggml.tokens"); ok {
		c.VocabSize = v.Len()
	}
	return c, nil
}

func (f *File) stringKey(key string) (string, bool) {
	v, ok := f.Get(key)
	if !ok {
		return "", false
	}
	return v.Str()
}

func (f *File) requireString(key string) (string, error) {
	v, ok := f.Get(key)
	if !ok {
		return "", fmt.Errorf("gguf: required metadata key %q is missing", key)
	}
	s, ok := v.Str()
	if !ok {
		return "", fmt.Errorf("gguf: metadata %q must be a string, got %s", key, v.Type)
	}
	return s, nil
}

// requireInt reads a non-negative integer that fits in int32 (every
// hyperparameter does; larger is a corrupt file).
func (f *File) requireInt(key string) (int, error) {
	v, ok := f.Get(key)
	if !ok {
		return 0, fmt.Errorf("gguf: required metadata key %q is missing", key)
	}
	n, ok := v.Uint()
	if !ok || n > math.MaxInt32 {
		return 0, fmt.Errorf("gguf: metadata %q must be a non-negative integer below 2^31, got %s %v", key, v.Type, v)
	}
	return int(n), nil
}

func (f *File) requireFloat(key string) (float64, error) {
	v, ok := f.Get(key)
	if !ok {
		return 0, fmt.Errorf("gguf: required metadata key %q is missing", key)
	}
	x, ok := v.Float()
	if !ok {
		return 0, fmt.Errorf("gguf: metadata %q must be a float, got %s", key, v.Type)
	}
	return x, nil
}
