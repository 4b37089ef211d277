//go:build amd64 && !noasm

package kernels

// Go declarations of dot_amd64.s. Each takes pointers to the first block of
// the weight row (x) and the activation row (y) and a count; the wrappers
// below check the slice lengths first, so the assembly never reads past them.

//go:noescape
func dotQ8_0AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ8_0VNNI(x, y *byte, nb int) float32

//go:noescape
func dotQ4_0AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ4_0VNNI(x, y *byte, nb int) float32

//go:noescape
func dotQ4_KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ6_KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotF16AVX2(x, y *byte, n int) float32

func init() {
	registerDot(Q8_0, LevelAVX2, "avx2", blocks(34, 34, 32, dotQ8_0AVX2))
	registerDot(Q8_0, LevelAVX512VNNI, "avx512vnni", blocks(34, 34, 32, dotQ8_0VNNI))
	registerDot(Q4_0, LevelAVX2, "avx2", blocks(18, 34, 32, dotQ4_0AVX2))
	registerDot(Q4_0, LevelAVX512VNNI, "avx512vnni", blocks(18, 34, 32, dotQ4_0VNNI))
	registerDot(Q4_K, LevelAVX2, "avx2", blocks(q4KBytes, q8KBytes, QK_K, dotQ4_KAVX2))
	registerDot(Q6_K, LevelAVX2, "avx2", blocks(q6KBytes, q8KBytes, QK_K, dotQ6_KAVX2))
	registerDot(F16, LevelAVX2, "avx2", dotF16Fast)
	registerF16Acc(LevelAVX2, "avx2", scaleF16Fast, madF16Fast)
}

// blocks wraps a block kernel: n elements in blocks of bs, weight blocks of
// wb bytes and activation blocks of ab bytes.
func blocks(wb, ab, bs int, k func(x, y *byte, nb int) float32) func(n int, w, a []byte) float32 {
	return func(n int, w, a []byte) float32 {
		nb := n / bs
		if nb == 0 {
			return 0
		}
		_ = w[nb*wb-1]
		_ = a[nb*ab-1]
		return k(&w[0], &a[0], nb)
	}
}

// dotF16Fast runs the vector kernel over the multiple-of-64 head and adds
// the remaining products in float64, as ggml_vec_dot_f16 does.
func dotF16Fast(n int, w, a []byte) float32 {
	if n == 0 {
		return 0
	}
	_ = w[2*n-1]
	_ = a[2*n-1]
	head := n &^ 63
	var s float64
	if head > 0 {
		s = float64(dotF16AVX2(&w[0], &a[0], head))
	}
	for i := head; i < n; i++ {
		s += float64(loadHalf(w[2*i:]) * loadHalf(a[2*i:]))
	}
	return float32(s)
}

//go:noescape
func scaleF16AVX2(h *uint16, n int, s float32)

//go:noescape
func madF16AVX2(h *uint16, v *byte, n int, s float32)

func scaleF16Fast(h []uint16, s float32) {
	head := len(h) &^ 7
	if head > 0 {
		scaleF16AVX2(&h[0], head, s)
	}
	scaleF16Generic(h[head:], s)
}

func madF16Fast(h []uint16, v []byte, s float32) {
	head := len(h) &^ 7
	if head > 0 {
		_ = v[2*head-1]
		madF16AVX2(&h[0], &v[0], head, s)
	}
	madF16Generic(h[head:], v[2*head:], s)
}
