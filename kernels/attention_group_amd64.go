//go:build amd64 && !noasm

package kernels

//go:noescape
func attnAccF16x4AVX512(h *uint16, hd int, v *byte, stride, rows int, mv *float32)

// The AVX-512 set is the AVX2 one plus the four-head accumulation.
func init() {
	im := attnAVX2
	im.level, im.name, im.accF16x4 = LevelAVX512, "avx512", attnAccF16x4Fast
	registerAttn(im)
}

// attnAccF16x4Fast checks the slices for the assembly: h holds four heads'
// accumulators of hd values (hd a multiple of 64), mv eight floats per row.
func attnAccF16x4Fast(h []uint16, hd int, v []byte, stride int, mv []float32) {
	rows := len(mv) / 8
	if rows == 0 {
		return
	}
	if hd <= 0 || hd%64 != 0 {
		panic("kernels: attnAccF16x4Fast: head dim must be a positive multiple of 64")
	}
	_ = h[4*hd-1]
	_ = v[(rows-1)*stride+2*hd-1]
	attnAccF16x4AVX512(&h[0], hd, &v[0], stride, rows, &mv[0])
}
