//go:build amd64 && !noasm

package kernels

//go:noescape
func gemmXQ4_0x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmXQ4_0x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func gemmXQ8_0x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)

//go:noescape
func dotXQ4_0AVX2(x, y *byte, nb int) float32

//go:noescape
func dotXQ4_0VNNI(x, y *byte, nb int) float32

func init() {
	registerExtDot(Q4_0, LevelAVX2, 8, blocks(18, q8ExtBytes, 32, dotXQ4_0AVX2))
	registerExtDot(Q4_0, LevelAVX512VNNI, 8, blocks(18, q8ExtBytes, 32, dotXQ4_0VNNI))
	// The AVX2 form needs u·y pairs to fit int16 (VPMADDUBSW saturates),
	// which holds for nibbles but not for Q8_0's x+128.
	registerGemmExt(Q4_0, LevelAVX2, "avx2 4-row", 8, gemm4(18, q8ExtBytes, 32, gemmXQ4_0x4AVX2))
	registerGemmExt(Q4_0, LevelAVX512VNNI, "avx512vnni 4-row", 8, gemm4(18, q8ExtBytes, 32, gemmXQ4_0x4VNNI))
	registerGemmExt(Q8_0, LevelAVX512VNNI, "avx512vnni 4-row", 128, gemm4(34, q8ExtBytes, 32, gemmXQ8_0x4VNNI))
}
