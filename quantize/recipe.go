package quantize

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// TensorTypeOverride forces tensors whose name matches Pattern (a regular
// expression searched anywhere in the name, like llama-quantize's
// --tensor-type) to Type. The first matching override wins.
type TensorTypeOverride struct {
	Pattern string
	Type    kernels.Type
}

// Options are llama-quantize's knobs that pagoda supports.
type Options struct {
	Ftype Ftype
	// Threads quantizing each tensor; 0 means all CPUs.
	Threads int
	// AllowRequantize lets already-quantized tensors be dequantized and
	// quantized again (quality suffers; refused by default).
	AllowRequantize bool
	// Pure gives every quantizable tensor the preset's base type (no mixes,
	// no output/embedding rules); row-size fallbacks still apply.
	Pure bool
	// LeaveOutputTensor keeps output.weight in its input type.
	LeaveOutputTensor bool
	// OutputTensorType / TokenEmbeddingType, when Set, fix the type of
	// output.weight / token_embd.weight.
	OutputTensorType   OptionalType
	TokenEmbeddingType OptionalType
	TensorTypes        []TensorTypeOverride
}

// OptionalType is a tensor type that may be unset.
type OptionalType struct {
	Type kernels.Type
	Set  bool
}

// ModelInfo holds the hyper-parameters the recipes look at.
type ModelInfo struct {
	Arch    string
	NLayer  int // block_count
	NHead   int // of the first layer
	NHeadKV int
	NExpert int
}

// ModelInfoFrom reads ModelInfo from GGUF metadata.
func ModelInfoFrom(kvs []loader.KV) ModelInfo {
	get := func(key string) (loader.Value, bool) {
		for _, kv := range kvs {
			if kv.Key == key {
				return kv.Value, true
			}
		}
		return loader.Value{}, false
	}
	var m ModelInfo
	if v, ok := get("general.architecture"); ok {
		m.Arch, _ = v.Str()
	}
	// first returns a scalar, or the first element of a per-layer array.
	first := func(key string) (int, bool) {
		v, ok := get(key)
		if !ok {
			return 0, false
		}
		if u, ok := v.Uint(); ok {
			return int(u), true
		}
		if a, ok := v.Int32s(); ok && len(a) > 0 {
			return int(a[0]), true
		}
		return 0, false
	}
	m.NLayer, _ = first(m.Arch + ".block_count")
	m.NHead, _ = first(m.Arch + ".attention.head_count")
	var ok bool
	if m.NHeadKV, ok = first(m.Arch + ".attention.head_count_kv"); !ok {
		m.NHeadKV = m.NHead
	}
	m.NExpert, _ = first(m.Arch + ".expert_count")
	return m
}

func (m ModelInfo) nGQA() int {
	if m.NHeadKV == 0 {
		return 0
	}
	return m.NHead / m.NHeadKV
}

// is70B mirrors llama.cpp's LLM_TYPE_70B for llama (80 layers, GQA).
func (m ModelInfo) is70B() bool {
	return m.Arch == "llama" && m.NLayer == 80 && m.NHead != m.NHeadKV
}

// Choice is the planned conversion of one tensor.
type Choice struct {
	Name     string
	Shape    []int64
	From, To kernels.Type
	// Fallback is set when the preferred type did not fit the row length.
	Fallback bool
	// Preferred is the type wanted before the row-length fallback.
	Preferred kernels.Type
}

type category int

const (
	catTokenEmbd category = iota
	catAttnQ
	catAttnV
	catAttnK
	catAttnQKV
	catAttnKVB
	catAttnOutput
	catFFNUp
	catFFNGate
	catFFNDown
	catOutput
	catOther
)

func categoryOf(name string) category {
	has := func(s string) bool { return strings.Contains(name, s) }
	switch {
	case name == "output.weight":
		return catOutput
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		return catTokenEmbd
	case has("attn_qkv.weight"):
		return catAttnQKV
	case has("attn_kv_b.weight"):
		return catAttnKVB
	case has("attn_v.weight"):
		return catAttnV
	case has("attn_k.weight"):
		return catAttnK
	case has("attn_q.weight"):
		return catAttnQ
	case has("attn_output.weight"):
		return catAttnOutput
	case has("ffn_up"):
		return catFFNUp
	case has("ffn_gate"):
		return catFFNGate
	case has("ffn_down"):
		return catFFNDown
	}
	return catOther
}

func (c category) isAttnV() bool { return c == catAttnV || c == catAttnQKV || c == catAttnKVB }

// nDims is ggml_n_dims: dimensions up to the last one that is not 1 (at
// least one, when there is one).
func nDims(shape []int64) int {
	n := len(shape)
	for n > 1 && shape[n-1] == 1 {
		n--
	}
	return n
}

// noQuantSubstrings are name parts llama-quantize never quantizes (small or
// sensitive tensors of various architectures).
var noQuantSubstrings = []string{
	"_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
	"per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
	"indexer.k_proj.weight", "indexer.q_proj.weight",
	"time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
	"time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
	"time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
	"time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
	"attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
	".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
}

// allowsQuantization is llama-quantize's tensor_allows_quantization.
func allowsQuantization(o *Options, name string, shape []int64) bool {
	if nDims(shape) < 2 || !strings.HasSuffix(name, "weight") {
		return false
	}
	if o.LeaveOutputTensor && name == "output.weight" {
		return false
	}
	if name == "position_embd.weight" || name == "token_types.weight" {
		return false
	}
	for _, s := range noQuantSubstrings {
		if strings.Contains(name, s) {
			return false
		}
	}
	return true
}

// layerOf parses "blk.N." the way sscanf("blk.%d.") does; -1 when absent.
func layerOf(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	i, neg := 0, false
	if i < len(rest) && (rest[i] == '-' || rest[i] == '+') {
		neg = rest[i] == '-'
		i++
	}
	start, n := i, 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		n = n*10 + int(rest[i]-'0')
		i++
	}
	if i == start {
		return -1
	}
	if neg {
		n = -n
	}
	return n
}

// SortTensors orders tensors as llama-quantize writes them: by layer number
// (tensors outside blocks first), then by name.
func SortTensors(ts []loader.TensorInfo) {
	sort.SliceStable(ts, func(a, b int) bool {
		la, lb := layerOf(ts[a].Name), layerOf(ts[b].Name)
		if la != lb {
			return la < lb
		}
		return ts[a].Name < ts[b].Name
	})
}

// planner holds llama-quantize's per-run counters (quantize_state_impl).
type planner struct {
	o        *Options
	m        ModelInfo
	base     kernels.Type
	patterns []*regexp.Regexp

	nAttnV, iAttnV             int
	nFFN                       int
	iFFNDown, iFFNGate, iFFNUp int
	tiedEmbeddings             bool
}

// Plan returns the type every tensor gets, in llama-quantize's tensor order
// (see SortTensors), computed with llama-quantize's rules for o.Ftype.
func Plan(m ModelInfo, tensors []loader.TensorInfo, o Options) ([]Choice, error) {
	base, ok := o.Ftype.BaseType()
	if !ok {
		return nil, fmt.Errorf("quantize: unsupported file type %d", uint32(o.Ftype))
	}
	p := &planner{o: &o, m: m, base: base, tiedEmbeddings: true, nFFN: m.NLayer}
	for _, tt := range o.TensorTypes {
		re, err := regexp.Compile(tt.Pattern)
		if err != nil {
			return nil, fmt.Errorf("quantize: --tensor-type pattern %q: %w", tt.Pattern, err)
		}
		p.patterns = append(p.patterns, re)
	}
	ts := append([]loader.TensorInfo(nil), tensors...)
	SortTensors(ts)
	for _, t := range ts {
		c := categoryOf(t.Name)
		if c.isAttnV() {
			p.nAttnV++
		}
		if c == catOutput {
			p.tiedEmbeddings = false
		}
	}
	out := make([]Choice, len(ts))
	for i, t := range ts {
		ch := Choice{Name: t.Name, Shape: t.Shape, From: t.Type, To: t.Type, Preferred: t.Type}
		if allowsQuantization(p.o, t.Name, t.Shape) {
			var err error
			ch.Preferred, ch.To, ch.Fallback, err = p.tensorType(t)
			if err != nil {
				return nil, fmt.Errorf("quantize: tensor %q: %w", t.Name, err)
			}
		}
		out[i] = ch
	}
	return out, nil
}

// tensorType is llama_tensor_get_type: the preferred type and the type
// after the row-length fallback.
func (p *planner) tensorType(t loader.TensorInfo) (preferred, final kernels.Type, fellBack bool, err error) {
	c := categoryOf(t.Name)
	if p.o.TokenEmbeddingType.Set && c == catTokenEmbd {
		return p.o.TokenEmbeddingType.Type, p.o.TokenEmbeddingType.Type, false, nil
	}
	if p.o.OutputTensorType.Set && c == catOutput {
		return p.o.OutputTensorType.Type, p.o.OutputTensorType.Type, false, nil
	}
	nt := p.base
	if !isQuantized(p.base) {
		return nt, nt, false, nil
	}
	manual := false
	for k, re := range p.patterns {
		if re.MatchString(t.Name) {
			nt = p.o.TensorTypes[k].Type
			manual = true
			break
		}
	}
	if !manual && !p.o.Pure {
		nt = p.mix(nt, t, c)
	}
	final, err = fallback(t.Shape[0], nt)
	return nt, final, final != nt, err
}

// fallback is tensor_type_fallback: a type whose block divides the row
// length ncols, when nt's does not.
func fallback(ncols int64, nt kernels.Type) (kernels.Type, error) {
	if ncols%blockSize(nt) == 0 {
		return nt, nil
	}
	var r kernels.Type
	switch nt {
	case kernels.IQ1_S, kernels.IQ1_M, kernels.IQ2_XXS, kernels.IQ2_XS, kernels.IQ2_S,
		kernels.IQ3_XXS, kernels.IQ3_S, kernels.IQ4_XS:
		r = kernels.IQ4_NL
	case kernels.Q2_0, kernels.Q2_K, kernels.Q3_K, kernels.TQ1_0, kernels.TQ2_0:
		r = kernels.Q4_0
	case kernels.Q4_K:
		r = kernels.Q5_0
	case kernels.Q5_K:
		r = kernels.Q5_1
	case kernels.Q6_K:
		r = kernels.Q8_0
	default:
		return 0, fmt.Errorf("row length %d is not a multiple of %d (required for type %s) and no tensor type fallback is defined for type %s",
			ncols, blockSize(nt), lowerName(nt), lowerName(nt))
	}
	if ncols%blockSize(r) != 0 {
		r = kernels.F16
	}
	return r, nil
}

func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// layer returns the layer index used by the per-layer rules: the running
// counter, or for mixture-of-experts models the number in the name.
func (p *planner) layer(counter int, name string) (int, int) {
	if p.m.NExpert > 1 {
		if l := layerOf(name); l >= 0 && l < p.m.NLayer {
			return l, p.m.NLayer
		}
	}
	return counter, p.nFFN
}

// mix is llama_tensor_get_type_impl restricted to the presets pagoda
// offers: which tensors get more (or fewer) bits than the base type.
func (p *planner) mix(nt kernels.Type, t loader.TensorInfo, c category) kernels.Type {
	ft := p.o.Ftype
	falcon := p.m.Arch == "falcon"
	switch {
	case c == catOutput || (p.tiedEmbeddings && c == catTokenEmbd):
		if p.o.OutputTensorType.Set {
			return p.o.OutputTensorType.Type
		}
		if falcon || t.Shape[0]%blockSize(nt) != 0 {
			return kernels.Q8_0
		}
		if nt != kernels.Q8_0 {
			return kernels.Q6_K
		}
		return nt
	case c == catTokenEmbd:
		return nt // only the IQ1/IQ2/IQ3/TQ presets change it
	case c.isAttnV():
		switch {
		case ft == FtypeQ2_K:
			if p.m.nGQA() >= 4 {
				nt = kernels.Q4_K
			} else {
				nt = kernels.Q3_K
			}
		case ft == FtypeQ3_KM:
			if p.iAttnV < 2 {
				nt = kernels.Q5_K
			} else {
				nt = kernels.Q4_K
			}
		case ft == FtypeQ3_KL:
			nt = kernels.Q5_K
		case (ft == FtypeIQ4NL || ft == FtypeIQ4XS) && p.m.nGQA() >= 4:
			nt = kernels.Q5_K
		case (ft == FtypeQ4_KM || ft == FtypeQ5_KM) && useMoreBits(p.iAttnV, p.nAttnV):
			nt = kernels.Q6_K
		case ft == FtypeQ4_KS && p.iAttnV < 4:
			nt = kernels.Q5_K
		}
		if p.m.is70B() && (nt == kernels.Q3_K || nt == kernels.Q4_K) {
			// 8 heads share each attn_v row there: more bits cost little.
			nt = kernels.Q5_K
		}
		if p.m.NExpert == 8 {
			nt = kernels.Q8_0
		}
		p.iAttnV++
	case c == catAttnK:
		if p.m.NExpert == 8 {
			nt = kernels.Q8_0
		}
	case c == catAttnQ:
		// only the IQ3 presets change it
	case c == catFFNDown:
		i, n := p.layer(p.iFFNDown, t.Name)
		switch {
		case ft == FtypeQ2_K:
			nt = kernels.Q3_K
		case ft == FtypeQ3_KM:
			if i < n/16 {
				nt = kernels.Q5_K
			} else if !falcon || useMoreBits(i, n) {
				nt = kernels.Q4_K
			} else {
				nt = kernels.Q3_K
			}
		case ft == FtypeQ3_KL:
			if falcon {
				nt = kernels.Q4_K
			} else {
				nt = kernels.Q5_K
			}
		case ft == FtypeQ4_KM:
			if falcon {
				if i < n/16 {
					nt = kernels.Q6_K
				} else if useMoreBits(i, n) {
					nt = kernels.Q5_K
				} else {
					nt = kernels.Q4_K
				}
			} else if useMoreBits(i, n) {
				nt = kernels.Q6_K
			}
		case i < n/8 && (ft == FtypeIQ4NL || ft == FtypeIQ4XS):
			nt = kernels.Q5_K
		case ft == FtypeQ5_KM && useMoreBits(i, n):
			nt = kernels.Q6_K
		case ft == FtypeQ4_KS && !falcon && i < n/8:
			nt = kernels.Q5_K
		}
		p.iFFNDown++
	case c == catAttnOutput:
		if !falcon {
			if p.m.NExpert == 8 {
				switch ft {
				case FtypeQ2_K, FtypeQ3_KS, FtypeQ3_KM, FtypeIQ4NL, FtypeQ4_KS, FtypeQ4_KM, FtypeIQ4XS:
					nt = kernels.Q5_K
				}
			} else {
				switch ft {
				case FtypeQ2_K:
					nt = kernels.Q3_K
				case FtypeQ3_KM:
					nt = kernels.Q4_K
				case FtypeQ3_KL:
					nt = kernels.Q5_K
				}
			}
		} else if ft == FtypeQ3_KL {
			nt = kernels.Q4_K
		}
	case c == catAttnQKV:
		switch ft {
		case FtypeQ3_KM, FtypeQ3_KL:
			nt = kernels.Q4_K
		case FtypeQ4_KM:
			nt = kernels.Q5_K
		case FtypeQ5_KM:
			nt = kernels.Q6_K
		}
	case c == catFFNGate:
		p.iFFNGate++
	case c == catFFNUp:
		p.iFFNUp++
	}
	return nt
}
