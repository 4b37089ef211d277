package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// Hugging Face llama tensor names and their GGUF names (llama.cpp's
// tensor_mapping.py, the entries a llama checkpoint uses).
var globalNames = map[string]string{
	"model.embed_tokens.weight": "token_embd.weight",
	"model.norm.weight":         "output_norm.weight",
	"lm_head.weight":            "output.weight",
}

var blockNames = map[string]string{
	"self_attn.q_proj":         "attn_q",
	"self_attn.k_proj":         "attn_k",
	"self_attn.v_proj":         "attn_v",
	"self_attn.o_proj":         "attn_output",
	"input_layernorm":          "attn_norm",
	"post_attention_layernorm": "ffn_norm",
	"mlp.gate_proj":            "ffn_gate",
	"mlp.up_proj":              "ffn_up",
	"mlp.down_proj":            "ffn_down",
}

// permuteKind says which rows of a tensor llama.cpp reorders for its rope.
type permuteKind int

const (
	noPermute permuteKind = iota
	permuteQ              // q_proj: by attention heads
	permuteK              // k_proj: by key/value heads
)

// mapName returns the GGUF name of an HF tensor, its layer (-1 for none) and
// the permutation it needs; skip is set for tensors llama.cpp drops.
func mapName(hf string, arch string, blocks int) (name string, layer int, perm permuteKind, skip bool, err error) {
	if arch == "LlamaModel" && !strings.HasPrefix(hf, "model.") {
		hf = "model." + hf // the bare model has no "model." prefix
	}
	if strings.HasSuffix(hf, ".rotary_emb.inv_freq") || strings.HasSuffix(hf, ".attention.masked_bias") || strings.HasSuffix(hf, ".attention.bias") {
		return "", -1, noPermute, true, nil
	}
	if g, ok := globalNames[hf]; ok {
		return g, -1, noPermute, false, nil
	}
	rest, ok := strings.CutPrefix(hf, "model.layers.")
	if ok {
		num, tail, _ := strings.Cut(rest, ".")
		l, convErr := strconv.Atoi(num)
		if convErr == nil && l >= 0 && l < blocks && strconv.Itoa(l) == num {
			for _, suffix := range []string{".weight", ".bias"} {
				base, found := strings.CutSuffix(tail, suffix)
				if g, known := blockNames[base]; found && known {
					perm := noPermute
					switch base {
					case "self_attn.q_proj":
						perm = permuteQ
					case "self_attn.k_proj":
						perm = permuteK
					}
					return fmt.Sprintf("blk.%d.%s%s", l, g, suffix), l, perm, false, nil
				}
			}
		}
	}
	return "", -1, noPermute, false, fmt.Errorf("convert: cannot map tensor %q to a llama GGUF tensor", hf)
}

// plannedTensor is one output tensor: where its data comes from and how it
// is transformed.
type plannedTensor struct {
	info   loader.TensorInfo
	src    *loader.StTensor // nil for generated tensors
	values []float32        // generated tensors' data
	perm   permuteKind
}

// outType chooses a tensor's type as llama.cpp's converter does: 1-D
// tensors, norms and anything not a ".weight" stay F32; Q8_0 falls back to
// F16 when the row length is not a multiple of its block.
func outType(name string, dims int, rowLen int64, want kernels.Type) kernels.Type {
	if dims <= 1 || strings.HasSuffix(name, "_norm.weight") || !strings.HasSuffix(name, ".weight") {
		return kernels.F32
	}
	if _, err := kernels.RowBytes(want, rowLen); err != nil {
		return kernels.F16
	}
	return want
}

// expectedShapes returns the HF (outermost-first) shape of every tensor a
// llama checkpoint must have, keyed by GGUF name; output.weight is optional
// (tied embeddings).
func expectedShapes(p *llamaParams, vocab int) map[string][]int64 {
	e, ff, q, kv := int64(p.embd), int64(p.ff), int64(p.heads*p.headDim), int64(p.headsKV*p.headDim)
	m := map[string][]int64{
		"token_embd.weight":  {int64(vocab), e},
		"output_norm.weight": {e},
	}
	for l := 0; l < p.blocks; l++ {
		b := fmt.Sprintf("blk.%d.", l)
		m[b+"attn_q.weight"] = []int64{q, e}
		m[b+"attn_k.weight"] = []int64{kv, e}
		m[b+"attn_v.weight"] = []int64{kv, e}
		m[b+"attn_output.weight"] = []int64{e, q}
		m[b+"attn_norm.weight"] = []int64{e}
		m[b+"ffn_norm.weight"] = []int64{e}
		m[b+"ffn_gate.weight"] = []int64{ff, e}
		m[b+"ffn_up.weight"] = []int64{ff, e}
		m[b+"ffn_down.weight"] = []int64{e, ff}
	}
	return m
}

func sameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// planTensors maps every checkpoint tensor, checks names and shapes against
// the config, and chooses output types. Order: generated tensors, then the
// checkpoint's (shards by name, tensors by name), as llama.cpp writes them.
func planTensors(ck *loader.StCheckpoint, arch string, p *llamaParams, vocab int, want kernels.Type) ([]plannedTensor, error) {
	var plan []plannedTensor
	if p.llama3Rope {
		f, err := llama3RopeFactors(p)
		if err != nil {
			return nil, err
		}
		plan = append(plan, plannedTensor{info: loader.TensorInfo{Name: "rope_freqs.weight", Type: kernels.F32, Shape: []int64{int64(len(f))}}, values: f})
	}
	expect := expectedShapes(p, vocab)
	expect["output.weight"] = []int64{int64(vocab), int64(p.embd)}
	seen := map[string]string{}
	for _, hf := range ck.Names {
		t, _ := ck.Tensor(hf)
		name, _, perm, skip, err := mapName(hf, arch, p.blocks)
		if err != nil {
			return nil, err
		}
		if skip {
			continue
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("convert: tensors %q and %q both map to %s", prev, hf, name)
		}
		seen[name] = hf
		if w, ok := expect[name]; ok && !sameShape(w, t.Shape) {
			return nil, fmt.Errorf("convert: tensor %q (%s in %s) has shape %v, config.json implies %v", hf, name, t.File, t.Shape, w)
		}
		if len(t.Shape) == 0 || len(t.Shape) > loader.MaxDims {
			return nil, fmt.Errorf("convert: tensor %q has %d dimensions (1 to %d supported)", hf, len(t.Shape), loader.MaxDims)
		}
		switch t.DType {
		case "F32", "F16", "BF16":
		default:
			return nil, fmt.Errorf("convert: tensor %q (%s) has dtype %s; only F32, F16 and BF16 checkpoints are supported", hf, t.File, t.DType)
		}
		if perm != noPermute {
			heads := p.heads
			if perm == permuteK {
				heads = p.headsKV
			}
			if t.Shape[0]%int64(2*heads) != 0 {
				return nil, fmt.Errorf("convert: tensor %q: %d rows cannot be split into %d heads of row pairs", hf, t.Shape[0], heads)
			}
		}
		// GGUF lists dimensions innermost first.
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[len(shape)-1-i] = d
		}
		typ := outType(name, len(shape), shape[0], want)
		plan = append(plan, plannedTensor{info: loader.TensorInfo{Name: name, Type: typ, Shape: shape}, src: t, perm: perm})
	}
	var missing []string
	for name := range expect {
		if _, ok := seen[name]; !ok && name != "output.weight" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sortStrings(missing)
		if len(missing) > 6 {
			missing = append(missing[:6], fmt.Sprintf("and %d more", len(missing)-6))
		}
		return nil, fmt.Errorf("convert: the checkpoint lacks tensors a llama model needs: %s", strings.Join(missing, ", "))
	}
	return plan, nil
}

// permuteRows reorders the rows of w (rows of rowLen values) into out as
// llama.cpp's LlamaModel.permute does: within each head the first half of
// the rows and the second half are interleaved, turning HF's rotate-half
// rope layout into GGML's adjacent-pair layout. HF row h*d + j*d/2 + i
// becomes GGML row h*d + 2*i + j.
func permuteRows(out, w []float32, rows, rowLen, heads int) {
	d := rows / heads
	half := d / 2
	for h := 0; h < heads; h++ {
		for j := 0; j < 2; j++ {
			for i := 0; i < half; i++ {
				src := (h*d + j*half + i) * rowLen
				dst := (h*d + 2*i + j) * rowLen
				copy(out[dst:dst+rowLen], w[src:src+rowLen])
			}
		}
	}
}

// scratch holds buffers reused from tensor to tensor, so converting a model
// allocates about three times its largest tensor, once.
type scratch struct {
	vals, perm []float32
	out        []byte
}

func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// data produces the output bytes of one planned tensor, valid until the
// next call with the same scratch.
func (pt *plannedTensor) data(p *llamaParams, sc *scratch) ([]byte, error) {
	vals := pt.values
	if pt.src != nil {
		sc.vals = grow(sc.vals, int(pt.src.Elements()))
		vals = sc.vals
		if err := pt.src.Float32s(vals); err != nil {
			return nil, err
		}
		if pt.perm != noPermute && len(vals) > 0 {
			heads := p.heads
			if pt.perm == permuteK {
				heads = p.headsKV
			}
			rows := int(pt.src.Shape[0])
			sc.perm = grow(sc.perm, len(vals))
			permuteRows(sc.perm, vals, rows, len(vals)/rows, heads)
			vals = sc.perm
		}
	}
	sc.out = grow(sc.out, int(pt.info.Size))
	if err := kernels.Quantize(pt.info.Type, vals, sc.out); err != nil {
		return nil, fmt.Errorf("convert: tensor %s: %w", pt.info.Name, err)
	}
	return sc.out, nil
}
