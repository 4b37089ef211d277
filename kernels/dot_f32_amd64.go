//go:build amd64 && !noasm

package kernels

//go:noescape
func dotF32AVX2(x, y *byte, n int) float32

func init() {
	registerDot(F32, LevelAVX2, "avx2", dotF32Fast)
}

// dotF32Fast runs the vector kernel over the multiple-of-64 head, in
// ggml_vec_dot_f32's AVX-512 order (the same as dotF32), and fuses the
// leftovers into the float32 sum one by one, as gcc compiles ggml's tail.
func dotF32Fast(n int, w, a []byte) float32 {
	if n == 0 {
		return 0
	}
	_ = w[4*n-1]
	_ = a[4*n-1]
	head := n &^ 63
	var s float32
	if head > 0 {
		s = dotF32AVX2(&w[0], &a[0], head)
	}
	for i := head; i < n; i++ {
		s = fmaf(loadF32(w[4*i:]), loadF32(a[4*i:]), s)
	}
	return s
}
