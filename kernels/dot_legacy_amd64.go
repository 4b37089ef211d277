//go:build amd64 && !noasm

package kernels

// Go declarations of dot_legacy_amd64.s: Q4_1, Q5_0 and Q5_1 weights
// against their Q8_1 / Q8_0 activations. Each takes pointers to the first
// weight block (x) and activation block (y) and the block count; blocks()
// checks the slice lengths first, so the assembly never reads past them.

//go:noescape
func dotQ4_1AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ5_0AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ5_1AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ5_0AVX512(x, y *byte, nb int) float32

//go:noescape
func dotQ5_1AVX512(x, y *byte, nb int) float32

//go:noescape
func dotQ5_0VNNI(x, y *byte, nb int) float32

// Declarations of the four-row kernels (gemm_amd64.go's gemm4 signature).

//go:noescape
func gemmQ4_1x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmQ5_1x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmXQ5_0x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmXQ5_0x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmQ4_1x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmQ5_1x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)

func init() {
	registerDot(Q4_1, LevelAVX2, "avx2", blocks(20, 36, 32, dotQ4_1AVX2))
	registerDot(Q5_0, LevelAVX2, "avx2", blocks(22, 34, 32, dotQ5_0AVX2))
	registerDot(Q5_1, LevelAVX2, "avx2", blocks(24, 36, 32, dotQ5_1AVX2))
	registerDot(Q5_0, LevelAVX512, "avx512", blocks(22, 34, 32, dotQ5_0AVX512))
	registerDot(Q5_1, LevelAVX512, "avx512", blocks(24, 36, 32, dotQ5_1AVX512))
	registerDot(Q5_0, LevelAVX512VNNI, "avx512vnni", blocks(22, 34, 32, dotQ5_0VNNI))
	registerGemm(Q4_1, LevelAVX2, "avx2 4-row", gemm4(20, 36, 32, gemmQ4_1x4AVX2))
	registerGemm(Q5_1, LevelAVX2, "avx2 4-row", gemm4(24, 36, 32, gemmQ5_1x4AVX2))
	registerGemm(Q4_1, LevelAVX512VNNI, "avx512vnni 4-row", gemm4(20, 36, 32, gemmQ4_1x4VNNI))
	registerGemm(Q5_1, LevelAVX512VNNI, "avx512vnni 4-row", gemm4(24, 36, 32, gemmQ5_1x4VNNI))
	registerGemmExt(Q5_0, LevelAVX2, "avx2 4-row ext", 16, gemm4(22, q8ExtBytes, 32, gemmXQ5_0x4AVX2))
	registerGemmExt(Q5_0, LevelAVX512VNNI, "avx512vnni 4-row ext", 16, gemm4(22, q8ExtBytes, 32, gemmXQ5_0x4VNNI))
}
