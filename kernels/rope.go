package kernels

import (
	"fmt"
	"math"
)

// RoPEParams are ggml_rope_ext's parameters.
type RoPEParams struct {
	// NDims is the number of leading dimensions of each head that rotate
	// (llama's rope.dimension_count); the rest pass through. Even, ≤ headDim.
	NDims int
	// FreqBase is the base of the frequencies (rope.freq_base, e.g. 10000).
	FreqBase float32
	// FreqScale scales positions (1/linear scaling factor; 1 = none).
	FreqScale float32
	// Neox pairs dimension i with i+NDims/2 (GPT-NeoX style); otherwise
	// dimension 2i pairs with 2i+1 (the original llama layout).
	Neox bool
	// ExtFactor mixes in YaRN extrapolation (0 = off).
	ExtFactor float32
	// AttnFactor scales cos and sin (1 = none).
	AttnFactor float32
	// BetaFast and BetaSlow bound YaRN's ramp (llama.cpp defaults 32 and 1).
	BetaFast, BetaSlow float32
	// NCtxOrig is the training context length YaRN corrects for.
	NCtxOrig int
	// FreqFactors, when non-nil, divide the angle of pair i (llama3-style
	// rope_freqs); it needs NDims/2 entries.
	FreqFactors []float32
}

// RoPE rotates, in place, the nHeads heads of headDim values in x for
// position pos, exactly as ggml's rope (forward, f32): theta_scale =
// powf(base, -2/n_dims), the angle of pair i is pos*theta_scale^i built by
// repeated float32 multiplication, divided by FreqFactors[i] when given, then
// YaRN-corrected (ext_factor != 0) and scaled by freq_scale; cos and sin are
// multiplied by the magnitude scale. Each rotated output is one fused
// multiply-add on the other product (as gcc contracts ggml's rotate_pairs).
//
// Parameters come from a validated model config; an odd or out-of-range
// NDims or short slices are programming errors and panic.
func RoPE(x []float32, nHeads, headDim, pos int, p RoPEParams) {
	nd := p.NDims
	if nd <= 0 || nd%2 != 0 || nd > headDim || len(x) < nHeads*headDim ||
		(p.FreqFactors != nil && len(p.FreqFactors) < nd/2) {
		panic(fmt.Sprintf("kernels: RoPE: n_dims %d, head_dim %d, %d heads, %d values, %d freq factors",
			nd, headDim, nHeads, len(x), len(p.FreqFactors)))
	}
	cache := ropeCache(pos, p)
	for h := 0; h < nHeads; h++ {
		v := x[h*headDim : h*headDim+nd]
		for i0 := 0; i0 < nd; i0 += 2 {
			c, s := cache[i0], cache[i0+1]
			a, b := i0, i0+1 // normal: adjacent pair
			if p.Neox {
				a, b = i0/2, i0/2+nd/2
			}
			x0, x1 := v[a], v[b]
			// gcc contracts ggml's x0*cos - x1*sin and x0*sin + x1*cos
			// into these FMAs (-ffp-contract=fast), the first product of
			// each fused; checked bit for bit against llama.cpp's rope
			// output. Mirroring them keeps K's F16 rounding, and so the
			// logits, identical.
			v[a] = fmaf(x0, c, -float32(x1*s))
			v[b] = fmaf(x0, s, float32(x1*c))
		}
	}
}

// ropeCache returns cos, sin of each pair's angle (interleaved, as ggml's
// rope cache) for one position.
func ropeCache(pos int, p RoPEParams) []float32 {
	nd := p.NDims
	thetaScale := powf(p.FreqBase, float32(-2)/float32(nd))
	corr := ropeYarnCorrDims(nd, p.NCtxOrig, p.FreqBase, p.BetaFast, p.BetaSlow)
	cache := make([]float32, nd)
	theta := float32(pos)
	for i0 := 0; i0 < nd; i0 += 2 {
		ff := float32(1)
		if p.FreqFactors != nil {
			ff = p.FreqFactors[i0/2]
		}
		cache[i0], cache[i0+1] = ropeYarn(theta/ff, p.FreqScale, corr, i0, p.ExtFactor, p.AttnFactor)
		theta *= thetaScale
	}
	return cache
}

// ropeYarn is ggml's rope_yarn: the interpolated angle, blended toward the
// extrapolated one by the ramp when ext_factor != 0, with YaRN's magnitude
// correction.
func ropeYarn(thetaExtrap, freqScale float32, corr [2]float32, i0 int, extFactor, mscale float32) (cos, sin float32) {
	thetaInterp := freqScale * thetaExtrap
	theta := thetaInterp
	if extFactor != 0 {
		rampMix := float32(ropeYarnRamp(corr[0], corr[1], i0) * extFactor) // not fused into 1-rampMix
		theta = float32(thetaInterp*(1-rampMix)) + float32(thetaExtrap*rampMix)
		mscale *= 1 + float32(0.1*logf(1/freqScale))
	}
	return cosf(theta) * mscale, sinf(theta) * mscale
}

func ropeYarnRamp(low, high float32, i0 int) float32 {
	y := (float32(i0/2) - low) / max(0.001, high-low)
	return 1 - min(1, max(0, y))
}

// ropeYarnCorrDims is ggml_rope_yarn_corr_dims: the first and last dimension
// of YaRN's ramp.
func ropeYarnCorrDims(nDims, nCtxOrig int, base, betaFast, betaSlow float32) [2]float32 {
	dim := func(nRot float32) float32 {
		return float32(nDims) * logf(float32(nCtxOrig)/(nRot*2*float32(math.Pi))) / (2 * logf(base))
	}
	start := float32(math.Floor(float64(dim(betaFast))))
	end := float32(math.Ceil(float64(dim(betaSlow))))
	return [2]float32{max(0, start), min(float32(nDims-1), end)}
}

func logf(x float32) float32    { return float32(math.Log(float64(x))) }
func powf(x, y float32) float32 { return float32(math.Pow(float64(x), float64(y))) }
