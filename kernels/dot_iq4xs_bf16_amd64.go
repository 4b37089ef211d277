//go:build amd64 && !noasm

package kernels

// Go declarations of dot_iq4xs_bf16_amd64.s: IQ4_XS·Q8_K and BF16·BF16 dot
// products and IQ4_XS four-token kernels at AVX2 and AVX-512, bit-identical
// to dotIQ4_XS and dotBF16. The wrappers check the slice lengths, so the
// assembly never reads past them.

//go:noescape
func dotIQ4XSAVX2(x, y *byte, nb int) float32

//go:noescape
func dotIQ4XSAVX512(x, y *byte, nb int) float32

// dotBF16AVX2 and dotBF16AVX512 return ggml's two 16-lane accumulators,
// each reduced with _mm512_reduce_add_ps's tree; n > 0 is a multiple of 32.
//
//go:noescape
func dotBF16AVX2(x, y *byte, n int) (s1, s2 float32)

//go:noescape
func dotBF16AVX512(x, y *byte, n int) (s1, s2 float32)

// gemmIQ4XSx4AVX2 and gemmIQ4XSx4AVX512 multiply one weight row by four
// activation rows ystride bytes apart, each result equal to the one-row
// dot.
//
//go:noescape
func gemmIQ4XSx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmIQ4XSx4AVX512(x, y *byte, ystride, nb int, out *[4]float32)

func init() {
	registerDot(IQ4_XS, LevelAVX2, "avx2", func(n int, w, a []byte) float32 {
		return dotIQ4XSFast(dotIQ4XSAVX2, n, w, a)
	})
	registerDot(IQ4_XS, LevelAVX512, "avx512", func(n int, w, a []byte) float32 {
		return dotIQ4XSFast(dotIQ4XSAVX512, n, w, a)
	})
	registerGemm(IQ4_XS, LevelAVX2, "avx2 4-row", gemm4(iq4XSBytes, q8KBytes, QK_K, gemmIQ4XSx4AVX2))
	registerGemm(IQ4_XS, LevelAVX512, "avx512 4-row", gemm4(iq4XSBytes, q8KBytes, QK_K, gemmIQ4XSx4AVX512))
	registerDot(BF16, LevelAVX2, "avx2", func(n int, w, a []byte) float32 {
		return dotBF16Fast(dotBF16AVX2, n, w, a)
	})
	registerDot(BF16, LevelAVX512, "avx512", func(n int, w, a []byte) float32 {
		return dotBF16Fast(dotBF16AVX512, n, w, a)
	})
}

// dotIQ4XSFast runs kernel k over the n/256 whole super-blocks, as the
// reference does (n <= 0 gives 0 like its empty loop).
func dotIQ4XSFast(k func(x, y *byte, nb int) float32, n int, w, a []byte) float32 {
	nb := n / QK_K
	if nb <= 0 {
		return 0
	}
	_ = w[nb*iq4XSBytes-1]
	_ = a[nb*q8KBytes-1]
	return k(&w[0], &a[0], nb)
}

// dotBF16Fast runs kernel k over the multiple-of-32 head and then, as
// ggml_vec_dot_bf16, sums the two reduced accumulators and the remaining
// products in float64.
func dotBF16Fast(k func(x, y *byte, n int) (float32, float32), n int, w, a []byte) float32 {
	if n <= 0 {
		return 0
	}
	_ = w[2*n-1]
	_ = a[2*n-1]
	head := n &^ 31
	var s1, s2 float32
	if head > 0 {
		s1, s2 = k(&w[0], &a[0], head)
	}
	sum := float64(s1) + float64(s2)
	for i := head; i < n; i++ {
		sum += float64(bf16At(w, i) * bf16At(a, i))
	}
	return float32(sum)
}
