package kernels

import "math"

// SiLU returns x*sigmoid(x) computed as ggml_silu_f32 does: x/(1+expf(-x)).
func SiLU(x float32) float32 {
	return x / (1 + expf(-x))
}

// swigluLanes is the vector width of ggml's x86 swiglu (AVX-512: 16 floats).
// ggml computes whole vectors with its own exp approximation and the
// remainder with libm's expf; pagoda mirrors both so the FFN activations,
// which are rounded to F16 or quantized to Q8 next, match llama.cpp's bits.
const swigluLanes = 16

// SwiGLU sets dst[i] = silu(gate[i]) * up[i] as ggml's ggml_vec_swiglu_f32
// does on AVX-512: the first len/16*16 values through ggml_v_silu, the
// rest through ggml_silu_f32. dst may alias gate or up.
func SwiGLU(dst, gate, up []float32) {
	vec := len(dst) / swigluLanes * swigluLanes
	start := 0
	if f := current().vec.swiglu; f != nil {
		f(dst, gate, up)
		start = vec
	}
	for i := start; i < len(dst); i++ {
		g := gate[i]
		if i < vec {
			dst[i] = g / (1 + vexpf(-g)) * up[i]
		} else {
			dst[i] = SiLU(g) * up[i]
		}
	}
}

// vexpf is one lane of ggml_v_expf (AVX-512), ARM's optimized-routines exp:
// a degree-5 polynomial after range reduction by ln 2, scaled by 2^n.
func vexpf(x float32) float32 {
	const r = 0x1.8p23
	z := fmaf(x, 0x1.715476p+0, r)
	n := z - r
	b := fmaf(-n, 0x1.7f7d1cp-20, fmaf(-n, 0x1.62e4p-1, x))
	u := b * b
	j := fmaf(fmaf(fmaf(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fmaf(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u,
		fmaf(0x1.ffffecp-1, b, 1))
	if float32(math.Abs(float64(n))) > 192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	return float32(math.Ldexp(float64(j), int(n)))
}
