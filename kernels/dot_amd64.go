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

// dotF16Fast runs the vector kernel over the multiple-of-8 head and adds
// the few remaining products in float32.
func dotF16Fast(n int, w, a []byte) float32 {
	if n == 0 {
		return 0
	}
	_ = w[2*n-1]
	_ = a[2*n-1]
	head := n &^ 7
	var s float32
	if head > 0 {
		s = dotF16AVX2(&w[0], &a[0], head)
	}
	for i := head; i < n; i++ {
		s += loadHalf(w[2*i:]) * loadHalf(a[2*i:])
	}
	return s
}
