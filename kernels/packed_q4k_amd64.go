//go:build amd64 && !noasm

package kernels

// Go declarations of packed_q4k_amd64.s: one group of 16 packed Q4_K rows
// (nb super-blocks at w) times one token (the gemv order) or four (the gemm
// order) in the q8KPack form.

//go:noescape
func gemvQ4_Kx16VNNI(w, a *byte, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemmQ4_Kx16x4VNNI(w, a *byte, stride, nb int, out *[packedTokens][packRows]float32)

func init() {
	registerPacked(Q4_K, LevelAVX512VNNI, "avx512vnni", 1, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_K, w, a, stride, nb, 1)
		gemvQ4_Kx16VNNI(&w[0], &a[0], nb, out)
	})
	registerPacked(Q4_K, LevelAVX512VNNI, "avx512vnni", 4, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_K, w, a, stride, nb, 4)
		gemmQ4_Kx16x4VNNI(&w[0], &a[0], stride, nb, out)
	})
}
