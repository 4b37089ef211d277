//go:build amd64 && !noasm

package kernels

//go:noescape
func dotQ4_KRepackedAVX2(x, y *byte, nb, groups int) float32

//go:noescape
func gemmQ4_KRepackedx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

func init() {
	registerKRepacked(Q4_K, LevelAVX2, dotQ4_KRepackedFast, gemmQ4_KRepackedFast)
}

// dotQ4_KRepackedFast checks the slice lengths for the assembly, which
// reads exactly n/256 blocks of each.
func dotQ4_KRepackedFast(n int, w, a []byte, groups int) float32 {
	nb := n / QK_K
	if nb == 0 {
		return 0
	}
	if groups != gemvGroups && groups != gemmQ4KGroups {
		panic("kernels: dotQ4_KRepackedFast: groups must be 1 or 4")
	}
	_ = w[nb*q4KBytes-1]
	_ = a[nb*q8KBytes-1]
	return dotQ4_KRepackedAVX2(&w[0], &a[0], nb, groups)
}

// gemmQ4_KRepackedFast is one row times four tokens (a, a+stride, ...) in
// the gemm order, after the same checks.
func gemmQ4_KRepackedFast(n int, w, a []byte, stride int, out *[4]float32) {
	nb := n / QK_K
	if nb == 0 {
		*out = [4]float32{}
		return
	}
	_ = w[nb*q4KBytes-1]
	_ = a[3*stride+nb*q8KBytes-1]
	gemmQ4_KRepackedx4AVX2(&w[0], &a[0], stride, nb, out)
}
