package kernels

// SiLU returns x*sigmoid(x) computed as ggml_silu_f32 does: x/(1+expf(-x)).
func SiLU(x float32) float32 {
	return x / (1 + expf(-x))
}

// SwiGLU sets dst[i] = silu(gate[i]) * up[i] (ggml's swiglu, scalar path).
// dst may alias gate or up.
func SwiGLU(dst, gate, up []float32) {
	for i, g := range gate[:len(dst)] {
		dst[i] = SiLU(g) * up[i]
	}
}
