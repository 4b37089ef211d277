//go:build amd64 && !noasm

package kernels

// AVX2 kernels for Q2_K and IQ4_NL (dot_q2k_iq4nl_amd64.s), in both of
// pagoda's summation orders: the plain vec_dot order (dotQ2_K, dotIQ4_NL)
// and the repacked orders of matrices with Rows % 8 == 0
// (dotQ2_KRepacked, dotIQ4_NLRepacked). Each gives the reference's float32
// bit for bit.

//go:noescape
func dotIQ4_NLAVX2(x, y *byte, nb int) float32

//go:noescape
func dotIQ4_NLRepackedAVX2(x, y *byte, nb int) float32

//go:noescape
func gemmIQ4_NLRepackedx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func dotQ2_KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ2_KRepackedAVX2(x, y *byte, nb, groups int) float32

//go:noescape
func gemmQ2_KRepackedx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

func init() {
	registerDot(IQ4_NL, LevelAVX2, "avx2", blocks(iq4NLBytes, 34, qkLegacy, dotIQ4_NLAVX2))
	registerDot(Q2_K, LevelAVX2, "avx2", blocks(q2KBytes, q8KBytes, QK_K, dotQ2_KAVX2))
	registerKRepacked(IQ4_NL, LevelAVX2, dotIQ4_NLRepackedFast, gemmIQ4_NLRepackedFast)
	registerKRepacked(Q2_K, LevelAVX2, dotQ2_KRepackedFast, gemmQ2_KRepackedFast)
}

// dotIQ4_NLRepackedFast is dotIQ4_NLRepacked (whose gemv and gemm orders
// are the same, so groups is ignored) after the length checks.
func dotIQ4_NLRepackedFast(n int, w, a []byte, _ int) float32 {
	nb := n / qkLegacy
	if nb == 0 {
		return 0
	}
	_ = w[nb*iq4NLBytes-1]
	_ = a[nb*34-1]
	return dotIQ4_NLRepackedAVX2(&w[0], &a[0], nb)
}

// gemmIQ4_NLRepackedFast is one IQ4_NL row times the four Q8_0 rows at a,
// a+stride, ... in the repacked order.
func gemmIQ4_NLRepackedFast(n int, w, a []byte, stride int, out *[4]float32) {
	nb := n / qkLegacy
	if nb == 0 {
		*out = [4]float32{}
		return
	}
	_ = w[nb*iq4NLBytes-1]
	_ = a[3*stride+nb*34-1]
	gemmIQ4_NLRepackedx4AVX2(&w[0], &a[0], stride, nb, out)
}

// dotQ2_KRepackedFast is dotQ2_KRepacked for groups 1 (gemv order) or 2
// (gemm order) after the length checks.
func dotQ2_KRepackedFast(n int, w, a []byte, groups int) float32 {
	nb := n / QK_K
	if nb == 0 {
		return 0
	}
	if groups != gemvGroups && groups != gemmQ2KGroups {
		panic("kernels: dotQ2_KRepackedFast: groups must be 1 or 2")
	}
	_ = w[nb*q2KBytes-1]
	_ = a[nb*q8KBytes-1]
	return dotQ2_KRepackedAVX2(&w[0], &a[0], nb, groups)
}

// gemmQ2_KRepackedFast is one Q2_K row times the four Q8_K rows at a,
// a+stride, ... in the gemm order (two groups per super-block).
func gemmQ2_KRepackedFast(n int, w, a []byte, stride int, out *[4]float32) {
	nb := n / QK_K
	if nb == 0 {
		*out = [4]float32{}
		return
	}
	_ = w[nb*q2KBytes-1]
	_ = a[3*stride+nb*q8KBytes-1]
	gemmQ2_KRepackedx4AVX2(&w[0], &a[0], stride, nb, out)
}
