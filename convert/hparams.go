package convert

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/pagoda-llm/pagoda/loader"
)

// hparams is config.json, decoded loosely (numbers as float64) the way
// llama.cpp's converter reads it: by lists of alternative key names.
type hparams map[string]any

// supportedArchs are the config.json "architectures" converted with the
// llama graph (llama.cpp's LlamaModel, arch "llama").
var supportedArchs = map[string]bool{
	"LlamaForCausalLM":   true,
	"LLaMAForCausalLM":   true,
	"MistralForCausalLM": true,
	"LlamaModel":         true,
}

func readJSON(path string, dst any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

func loadHparams(dir string) (hparams, string, error) {
	var hp hparams
	if err := readJSON(filepath.Join(dir, "config.json"), &hp); err != nil {
		return nil, "", fmt.Errorf("convert: reading config.json: %w", err)
	}
	if hp == nil {
		return nil, "", fmt.Errorf("convert: config.json is not a JSON object")
	}
	archs, _ := hp["architectures"].([]any)
	if len(archs) == 0 {
		return nil, "", fmt.Errorf("convert: config.json has no \"architectures\" list")
	}
	arch, _ := archs[0].(string)
	if !supportedArchs[arch] {
		return nil, "", fmt.Errorf("convert: architecture %q is not supported (supported: LlamaForCausalLM, MistralForCausalLM, LlamaModel)", arch)
	}
	// Multimodal wrappers keep the language model's settings in text_config.
	if tc, ok := hp["text_config"].(map[string]any); ok {
		for k, v := range tc {
			hp[k] = v
		}
	}
	return hp, arch, nil
}

// find returns the value of the first of keys present (and not null).
func (hp hparams) find(keys ...string) (any, string, bool) {
	for _, k := range keys {
		if v, ok := hp[k]; ok && v != nil {
			return v, k, true
		}
	}
	return nil, "", false
}

// integer reads the first of keys as a non-negative integer below 2^31.
func (hp hparams) integer(keys ...string) (int, bool, error) {
	v, k, ok := hp.find(keys...)
	if !ok {
		return 0, false, nil
	}
	x, isNum := v.(float64)
	if !isNum || x != math.Trunc(x) || x < 0 || x > math.MaxInt32 {
		return 0, false, fmt.Errorf("convert: config.json: %s must be a non-negative integer, got %v", k, v)
	}
	return int(x), true, nil
}

func (hp hparams) requireInt(keys ...string) (int, error) {
	n, ok, err := hp.integer(keys...)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("convert: config.json: missing %s", strings.Join(keys, " / "))
	}
	return n, nil
}

func floatOf(m map[string]any, key string) (float64, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	x, isNum := v.(float64)
	if !isNum {
		return 0, false, fmt.Errorf("convert: config.json: %s must be a number, got %v", key, v)
	}
	return x, true, nil
}

// llamaParams are the hyperparameters the conversion needs.
type llamaParams struct {
	blocks, ctx, embd, ff, heads, headsKV, headDim, ropeDim, vocab int
	hasCtx, hasHeadsKV, hasHeadDim, hasVocab                       bool
	rmsEps                                                         float64
	rope                                                           map[string]any // rope_parameters / rope_scaling with rope_theta folded in
	ropeType                                                       string
	llama3Rope                                                     bool
}

func parseParams(hp hparams) (*llamaParams, error) {
	p := &llamaParams{}
	var err error
	if p.blocks, err = hp.requireInt("n_layers", "num_hidden_layers", "n_layer", "num_layers"); err != nil {
		return nil, err
	}
	if p.ctx, p.hasCtx, err = hp.integer("max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length", "model_max_length"); err != nil {
		return nil, err
	}
	if p.embd, err = hp.requireInt("hidden_size", "n_embd", "dim"); err != nil {
		return nil, err
	}
	if p.ff, err = hp.requireInt("prefix_dense_intermediate_size", "dense_intermediate_size", "intermediate_size", "n_inner", "hidden_dim"); err != nil {
		return nil, err
	}
	if p.heads, err = hp.requireInt("num_attention_heads", "n_head", "n_heads"); err != nil {
		return nil, err
	}
	if p.headsKV, p.hasHeadsKV, err = hp.integer("num_key_value_heads", "n_kv_heads"); err != nil {
		return nil, err
	}
	if !p.hasHeadsKV {
		p.headsKV = p.heads
	}
	if p.headDim, p.hasHeadDim, err = hp.integer("head_dim"); err != nil {
		return nil, err
	}
	if p.vocab, p.hasVocab, err = hp.integer("vocab_size"); err != nil {
		return nil, err
	}
	if p.blocks == 0 || p.embd == 0 || p.ff == 0 || p.heads == 0 || p.headsKV == 0 || p.heads%p.headsKV != 0 {
		return nil, fmt.Errorf("convert: config.json: layers %d, hidden_size %d, intermediate_size %d must be positive and num_attention_heads %d a positive multiple of num_key_value_heads %d",
			p.blocks, p.embd, p.ff, p.heads, p.headsKV)
	}
	if !p.hasHeadDim {
		if p.embd%p.heads != 0 {
			return nil, fmt.Errorf("convert: config.json: hidden_size %d is not a multiple of num_attention_heads %d", p.embd, p.heads)
		}
		p.headDim = p.embd / p.heads
	}
	if p.headDim == 0 || p.headDim%2 != 0 {
		return nil, fmt.Errorf("convert: config.json: head size %d must be positive and even", p.headDim)
	}
	p.ropeDim = p.headDim
	eps, _, ok := hp.find("rms_norm_eps", "norm_eps")
	if !ok {
		return nil, fmt.Errorf("convert: config.json: missing rms_norm_eps")
	}
	if p.rmsEps, ok = eps.(float64); !ok || !(p.rmsEps > 0) {
		return nil, fmt.Errorf("convert: config.json: rms_norm_eps must be a positive number, got %v", eps)
	}

	// Rope settings: transformers' newer rope_parameters or the older
	// rope_scaling, with the top-level rope_theta folded in (as llama.cpp does).
	p.rope = map[string]any{}
	if v, _, ok := hp.find("rope_parameters", "rope_scaling"); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, fmt.Errorf("convert: config.json: rope_scaling must be an object, got %v", v)
		}
		for k, x := range m {
			p.rope[k] = x
		}
	}
	if fa, ok := p.rope["full_attention"].(map[string]any); ok {
		p.rope = fa
	}
	if _, ok := p.rope["rope_theta"]; !ok {
		if v, _, ok := hp.find("global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base"); ok {
			p.rope["rope_theta"] = v
		}
	}
	if _, ok := p.rope["rope_type"]; !ok {
		if v, ok := p.rope["type"]; ok {
			p.rope["rope_type"] = v
		}
	}
	if v, ok := p.rope["rope_type"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr {
			return nil, fmt.Errorf("convert: config.json: rope type must be a string, got %v", v)
		}
		p.ropeType = strings.ToLower(s)
	}
	switch p.ropeType {
	case "", "default":
	case "linear", "yarn":
		if _, ok, err := floatOf(p.rope, "factor"); err != nil || !ok {
			return nil, fmt.Errorf("convert: config.json: rope type %q needs a numeric factor", p.ropeType)
		}
	case "llama3":
		p.llama3Rope = true
	default:
		return nil, fmt.Errorf("convert: config.json: rope type %q is not supported (default, linear, yarn, llama3)", p.ropeType)
	}
	return p, nil
}

// ftypes maps --outtype to its tensor type and general.file_type.
var ftypes = map[string]struct {
	ftype uint32
	name  string
}{
	"f32":  {0, "F32"},
	"f16":  {1, "F16"},
	"q8_0": {7, "Q8_0"},
	"bf16": {32, "BF16"},
}

// metadata builds the GGUF keys in the order llama.cpp's converter writes
// them: general.architecture, general.type, the model card (name, size
// label), the hyperparameters, general.file_type, vocab size and rope
// dimensions, the quantization version; the tokenizer's keys follow.
func metadata(name string, params int64, p *llamaParams, ftype uint32) ([]loader.KV, error) {
	kvs := []loader.KV{
		{Key: "general.architecture", Value: loader.StringValue("llama")},
		{Key: "general.type", Value: loader.StringValue("model")},
		{Key: "general.name", Value: loader.StringValue(name)},
		{Key: "general.size_label", Value: loader.StringValue(sizeLabel(params))},
		{Key: "llama.block_count", Value: loader.Uint32Value(uint32(p.blocks))},
	}
	add := func(k string, v loader.Value) { kvs = append(kvs, loader.KV{Key: k, Value: v}) }
	if p.hasCtx {
		add("llama.context_length", loader.Uint32Value(uint32(p.ctx)))
	}
	add("llama.embedding_length", loader.Uint32Value(uint32(p.embd)))
	add("llama.feed_forward_length", loader.Uint32Value(uint32(p.ff)))
	add("llama.attention.head_count", loader.Uint32Value(uint32(p.heads)))
	if p.hasHeadsKV {
		add("llama.attention.head_count_kv", loader.Uint32Value(uint32(p.headsKV)))
	}
	f32 := func(key, param string) error {
		x, ok, err := floatOf(p.rope, param)
		if err != nil {
			return err
		}
		if ok {
			add(key, loader.Float32Value(float32(x)))
		}
		return nil
	}
	switch p.ropeType {
	case "linear":
		add("llama.rope.scaling.type", loader.StringValue("linear"))
		if err := f32("llama.rope.scaling.factor", "factor"); err != nil {
			return nil, err
		}
	case "yarn":
		add("llama.rope.scaling.type", loader.StringValue("yarn"))
		if err := f32("llama.rope.scaling.factor", "factor"); err != nil {
			return nil, err
		}
		orig, ok, err := floatOf(p.rope, "original_max_position_embeddings")
		if err != nil || !ok || orig < 0 || orig > math.MaxUint32 {
			return nil, fmt.Errorf("convert: config.json: yarn rope scaling needs original_max_position_embeddings")
		}
		add("llama.rope.scaling.original_context_length", loader.Uint32Value(uint32(orig)))
		for _, kp := range [][2]string{
			{"llama.rope.scaling.yarn_ext_factor", "extrapolation_factor"},
			{"llama.rope.scaling.yarn_attn_factor", "attention_factor"},
			{"llama.rope.scaling.yarn_beta_fast", "beta_fast"},
			{"llama.rope.scaling.yarn_beta_slow", "beta_slow"},
		} {
			param := kp[1]
			if _, ok := p.rope[param]; !ok && param == "attention_factor" {
				param = "attn_factor"
			}
			if err := f32(kp[0], param); err != nil {
				return nil, err
			}
		}
	}
	if err := f32("llama.rope.freq_base", "rope_theta"); err != nil {
		return nil, err
	}
	add("llama.attention.layer_norm_rms_epsilon", loader.Float32Value(float32(p.rmsEps)))
	if p.hasHeadDim {
		add("llama.attention.key_length", loader.Uint32Value(uint32(p.headDim)))
		add("llama.attention.value_length", loader.Uint32Value(uint32(p.headDim)))
	}
	add("general.file_type", loader.Uint32Value(ftype))
	if p.hasVocab {
		add("llama.vocab_size", loader.Uint32Value(uint32(p.vocab)))
	}
	add("llama.rope.dimension_count", loader.Uint32Value(uint32(p.ropeDim)))
	add("general.quantization_version", loader.Uint32Value(2))
	return kvs, nil
}

// sizeLabel is llama.cpp's model_weight_count_rounded_notation with two
// significant digits: 292800 -> "293K", 1.1e9 -> "1.1B".
func sizeLabel(n int64) string {
	x := float64(n)
	var scaled float64
	var suffix string
	switch {
	case x > 1e12:
		scaled, suffix = x*1e-12, "T"
	case x > 1e9:
		scaled, suffix = x*1e-9, "B"
	case x > 1e6:
		scaled, suffix = x*1e-6, "M"
	default:
		scaled, suffix = x*1e-3, "K"
	}
	digits := len(strings.TrimLeft(strconv.FormatFloat(math.RoundToEven(scaled), 'f', 0, 64), "0"))
	fix := max(2-digits, 0)
	return strconv.FormatFloat(scaled, 'f', fix, 64) + suffix
}

// llama3RopeFactors computes rope_freqs for rope_type "llama3" as
// llama.cpp's converter does (one factor per pair of head dimensions).
func llama3RopeFactors(p *llamaParams) ([]float32, error) {
	get := func(k string, def float64) (float64, error) {
		x, ok, err := floatOf(p.rope, k)
		if !ok {
			return def, err
		}
		return x, err
	}
	base, err := get("rope_theta", 10000)
	if err != nil {
		return nil, err
	}
	factor, err := get("factor", 8)
	if err != nil {
		return nil, err
	}
	lowF, err := get("low_freq_factor", 1)
	if err != nil {
		return nil, err
	}
	highF, err := get("high_freq_factor", 4)
	if err != nil {
		return nil, err
	}
	oldCtx, err := get("original_max_position_embeddings", 8192)
	if err != nil {
		return nil, err
	}
	// torch does this in float32 tensors, python scalars rounded to
	// float32 at each operation; so do we, to get the same bits.
	lowWave, highWave := float32(oldCtx/lowF), float32(oldCtx/highF)
	f32Factor := float32(factor)
	dim := p.headDim
	out := make([]float32, 0, dim/2)
	for i := 0; i < dim; i += 2 {
		freq := 1 / float32(math.Pow(float64(float32(base)), float64(float32(i)/float32(dim))))
		wave := float32(2*math.Pi) / freq
		switch {
		case wave < highWave:
			out = append(out, 1)
		case wave > lowWave:
			out = append(out, f32Factor)
		default:
			smooth := (float32(oldCtx)/wave - float32(lowF)) / float32(highF-lowF)
			out = append(out, 1/((1-smooth)/f32Factor+smooth))
		}
	}
	return out, nil
}

// modelName is general.name as llama.cpp's metadata heuristics derive it
// when there is no model card: config.json's _name_or_path when it is a
// model id ("org/name"), else the folder's name, in title case.
func modelName(hp hparams, dir string) string {
	id := filepath.Base(dir)
	if s, ok := hp["_name_or_path"].(string); ok && s != "" && strings.Count(s, "/") <= 1 {
		id = s
	}
	if strings.Contains(id, " ") {
		return id
	}
	if _, after, ok := strings.Cut(id, "/"); ok {
		id = after
	}
	return idToTitle(id)
}

var versionOrNumber = regexp.MustCompile(`^(v\d+(?:\.\d+)*|\d.*)$`)

// idToTitle is llama.cpp's Metadata.id_to_title: words split on '-' and
// spaces, all-lowercase words title-cased unless they are version numbers.
func idToTitle(s string) string {
	words := strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "-", " "))
	for i, w := range words {
		if isLower(w) && !versionOrNumber.MatchString(w) {
			words[i] = pyTitle(w)
		}
	}
	return strings.Join(words, " ")
}

// isLower is Python's str.islower: some cased letter, none upper case.
func isLower(s string) bool {
	cased := false
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			return false
		}
		if unicode.IsLower(r) {
			cased = true
		}
	}
	return cased
}

// pyTitle is Python's str.title: a letter after a non-letter is upper
// case, other letters lower case ("stories260k" -> "Stories260K").
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prevCased {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToTitle(r))
			}
			prevCased = true
		} else {
			b.WriteRune(r)
			prevCased = false
		}
	}
	return b.String()
}
