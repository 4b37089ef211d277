//go:build amd64 && !noasm

package kernels

// Go declarations of repack_amd64.s: one group of 16 packed Q4_0 rows (nb
// blocks at w) times one, two, four or eight q8Sum activation rows (a, a+stride, ...).

//go:noescape
func gemvQ4_0x16VNNI(w, a *byte, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemmQ4_0x16x2VNNI(w, a *byte, stride, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemmQ4_0x16x4VNNI(w, a *byte, stride, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemmQ4_0x16x8VNNI(w, a *byte, stride, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemvQ4_0x16AVX2(w, a *byte, nb int, out *[packedTokens][packRows]float32)

//go:noescape
func gemmQ4_0x16x2AVX2(w, a *byte, stride, nb int, out *[packedTokens][packRows]float32)

func init() {
	registerPacked(Q4_0, LevelAVX2, "avx2", 1, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_0, w, a, stride, nb, 1)
		gemvQ4_0x16AVX2(&w[0], &a[0], nb, out)
	})
	registerPacked(Q4_0, LevelAVX2, "avx2", 2, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_0, w, a, stride, nb, 2)
		gemmQ4_0x16x2AVX2(&w[0], &a[0], stride, nb, out)
	})
	registerPacked(Q4_0, LevelAVX512VNNI, "avx512vnni", 1, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_0, w, a, stride, nb, 1)
		gemvQ4_0x16VNNI(&w[0], &a[0], nb, out)
	})
	registerPacked(Q4_0, LevelAVX512VNNI, "avx512vnni", 2, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_0, w, a, stride, nb, 2)
		gemmQ4_0x16x2VNNI(&w[0], &a[0], stride, nb, out)
	})
	registerPacked(Q4_0, LevelAVX512VNNI, "avx512vnni", 4, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_0, w, a, stride, nb, 4)
		gemmQ4_0x16x4VNNI(&w[0], &a[0], stride, nb, out)
	})
	registerPacked(Q4_0, LevelAVX512VNNI, "avx512vnni", 8, func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32) {
		checkPacked(Q4_0, w, a, stride, nb, 8)
		gemmQ4_0x16x8VNNI(&w[0], &a[0], stride, nb, out)
	})
}

// checkPacked panics unless the group and every activation row a kernel
// over packed t reads are in bounds.
func checkPacked(t Type, w, a []byte, stride, nb, tokens int) {
	if nb <= 0 {
		panic("kernels: packed kernel needs at least one block")
	}
	f := packedFormats[t]
	_ = w[nb*f.blockBytes-1]
	_ = a[(tokens-1)*stride+nb*f.actBytes-1]
}
