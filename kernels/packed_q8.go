package kernels

// Packed Q8_0 (packed.go). llama.cpp has no x86 repack for Q8_0: its
// vec_dot and tinyBLAS both give each row eight float lanes, lane l summing
// fma(d_w·d_a, float(Σ of quants 4l..4l+3 times activations), acc_l) over the
// blocks, then hsum_float_8. The packed kernels keep exactly that: one
// accumulator vector per lane l holds lane l of sixteen rows.
//
// Block layout, q8Pack bytes: [0:32) the 16 rows' f16 scales; then eight
// chunks of 64 bytes, chunk l holding each row's quants 4l..4l+3 plus 128
// (unsigned, for VPDPBUSD; the activations' q8Ext form carries c = -128·Σ
// of each four quants to undo it exactly).
const q8Pack = 32 + 8*64

func packQ8_0(dst, src []byte, lane int) {
	copy(dst[2*lane:2*lane+2], src[:2])
	for l := 0; l < 8; l++ {
		for t := 0; t < 4; t++ {
			dst[32+64*l+4*lane+t] = src[2+4*l+t] ^ 0x80
		}
	}
}
