//go:build amd64 && !noasm

package kernels

// Go declarations of packed_q6k_amd64.s: one group of 16 packed Q6_K rows
// (nb super-blocks at w) times one or four tokens in the q8K6 form.

//go:noescape
func gemvQ6_Kx16VNNI(w, a *byte, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemmQ6_Kx16x4VNNI(w, a *byte, stride, nb int, acc *[8][4][packRows]float32, out *[packedTokens][packRows]float32)

func init() {
	registerPacked(Q6_K, LevelAVX512VNNI, "avx512vnni", 1, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q6_K, w, a, stride, nb, 1)
		gemvQ6_Kx16VNNI(&w[0], &a[0], nb, out)
	})
	registerPacked(Q6_K, LevelAVX512VNNI, "avx512vnni", 4, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q6_K, w, a, stride, nb, 4)
		var acc [8][4][packRows]float32 // the lanes' float sums
		gemmQ6_Kx16x4VNNI(&w[0], &a[0], stride, nb, &acc, out)
	})
}
