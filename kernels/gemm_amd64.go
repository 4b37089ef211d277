//go:build amd64 && !noasm

package kernels

// Go declarations of gemm_amd64.s: one weight row (x, nb blocks) times the
// four activation rows at y, y+ystride, y+2*ystride, y+3*ystride.

//go:noescape
func gemmQ8_0x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmQ4_Kx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmQ6_Kx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

func init() {
	registerGemm(Q4_K, LevelAVX2, "avx2 4-row", gemm4(q4KBytes, q8KBytes, QK_K, gemmQ4_Kx4AVX2))
	registerGemm(Q6_K, LevelAVX2, "avx2 4-row", gemm4(q6KBytes, q8KBytes, QK_K, gemmQ6_Kx4AVX2))
	registerGemm(Q8_0, LevelAVX2, "avx2 4-row", gemm4(34, 34, 32, gemmQ8_0x4AVX2))
}

// gemm4 wraps a four-row block kernel after checking that the weight row
// and all four activation rows are in bounds.
func gemm4(wb, ab, bs int, k func(x, y *byte, ystride, nb int, out *[4]float32)) func(n int, w, a []byte, stride, rows int, out *[gemmRows]float32) {
	return func(n int, w, a []byte, stride, rows int, out *[gemmRows]float32) {
		nb := n / bs
		if rows != gemmRows || nb == 0 {
			panic("kernels: gemm4 needs four rows and at least one block")
		}
		_ = w[nb*wb-1]
		_ = a[3*stride+nb*ab-1]
		k(&w[0], &a[0], stride, nb, out)
	}
}
