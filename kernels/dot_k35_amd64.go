//go:build amd64 && !noasm

package kernels

// Go declarations of dot_k35_amd64.s: AVX2 and AVX-512 dot products of
// Q5_K and Q3_K weight rows with Q8_K activations, bit-identical to dotQ5_K
// and dotQ3_K, and their four-token forms for prompt batches. The blocks and
// gemm4 wrappers check the slice lengths before the assembly runs.

//go:noescape
func dotQ5_KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ3_KAVX2(x, y *byte, nb int) float32

// The four-token forms: one weight row times four activation rows, each
// output equal to that row's dot above.

//go:noescape
func gemmQ5_Kx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmQ3_Kx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

func init() {
	registerDot(Q5_K, LevelAVX2, "avx2", blocks(q5KBytes, q8KBytes, QK_K, dotQ5_KAVX2))
	registerDot(Q3_K, LevelAVX2, "avx2", blocks(q3KBytes, q8KBytes, QK_K, dotQ3_KAVX2))
	registerGemm(Q5_K, LevelAVX2, "avx2 4-row", gemm4(q5KBytes, q8KBytes, QK_K, gemmQ5_Kx4AVX2))
	registerGemm(Q3_K, LevelAVX2, "avx2 4-row", gemm4(q3KBytes, q8KBytes, QK_K, gemmQ3_Kx4AVX2))
}

// The AVX-512 (BW) forms: two 32-element chunks per register, the same
// lanes and float order.

//go:noescape
func dotQ5_KAVX512(x, y *byte, nb int) float32

//go:noescape
func dotQ3_KAVX512(x, y *byte, nb int) float32

//go:noescape
func gemmQ5_Kx4AVX512(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmQ3_Kx4AVX512(x, y *byte, ystride, nb int, out *[4]float32)

func init() {
	registerDot(Q5_K, LevelAVX512, "avx512", blocks(q5KBytes, q8KBytes, QK_K, dotQ5_KAVX512))
	registerDot(Q3_K, LevelAVX512, "avx512", blocks(q3KBytes, q8KBytes, QK_K, dotQ3_KAVX512))
	registerGemm(Q5_K, LevelAVX512, "avx512 4-row", gemm4(q5KBytes, q8KBytes, QK_K, gemmQ5_Kx4AVX512))
	registerGemm(Q3_K, LevelAVX512, "avx512 4-row", gemm4(q3KBytes, q8KBytes, QK_K, gemmQ3_Kx4AVX512))
}
