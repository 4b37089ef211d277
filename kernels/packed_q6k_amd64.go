//go:build amd64 && !noasm

package kernels

// Go declaration of packed_q6k_amd64.s: one group of 16 packed Q6_K rows
// (nb super-blocks at w) times one token in the q8K6 form.

//go:noescape
func gemvQ6_Kx16VNNI(w, a *byte, nb int, out *[packedTokens][packRows]float32)

func init() {
	registerPacked(Q6_K, LevelAVX512VNNI, "avx512vnni", 1, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q6_K, w, a, stride, nb, 1)
		gemvQ6_Kx16VNNI(&w[0], &a[0], nb, out)
	})
}
