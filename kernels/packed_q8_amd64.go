//go:build amd64 && !noasm

package kernels

// Go declarations of packed_q8_amd64.s: one group of 16 packed Q8_0 rows
// (nb blocks at w) times one or two q8Ext (K = 128) activation rows.

//go:noescape
func gemvQ8_0x16VNNI(w, a *byte, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemmQ8_0x16x2VNNI(w, a *byte, stride, nb int, out *[packedTokens][packRows]float32)

func init() {
	registerPacked(Q8_0, LevelAVX512VNNI, "avx512vnni", 1, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q8_0, w, a, stride, nb, 1)
		gemvQ8_0x16VNNI(&w[0], &a[0], nb, out)
	})
	registerPacked(Q8_0, LevelAVX512VNNI, "avx512vnni", 2, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q8_0, w, a, stride, nb, 2)
		gemmQ8_0x16x2VNNI(&w[0], &a[0], stride, nb, out)
	})
}
