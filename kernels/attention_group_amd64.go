//go:build amd64 && !noasm

package kernels

//go:noescape
func attnAccF16x4AVX512(h *uint16, hd int, v *byte, stride, rows int, mv *float32)

func init() {
	registerAttn(attnImpl{level: LevelAVX512, name: "avx512", exps: attnExpFast,
		dotsF16: attnDotsF16Fast, accF16: attnAccF16Fast, accF32: attnAccF32Fast, accF32Raw: attnAccF32RawFast,
		dequantQ8_0: attnDequantQ8_0Fast, accF16x4: attnAccF16x4Fast})
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
