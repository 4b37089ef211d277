package kernels

import "encoding/binary"

// Packed Q6_K (packed.go). llama.cpp has no x86 repack for Q6_K: vec_dot's
// AVX2 code gives each row eight int32 lanes per super-block (lane l: the
// quants 32m+4l..32m+4l+3 for every m, each times its 16-value scale, with
// the +32 offset taken off per lane through the activations' bsums), then
// acc_l = fma(d_a·d_w, float(lane_l), acc_l) and hsum_float_8 (dotQ6_K).
// The packed kernels keep that order with one accumulator per lane for
// sixteen rows, for one token or four at a time.
//
// Super-block layout, q6KPack bytes for 16 rows: [0:32) d, f16 per row;
// [32:288) the 16 scales, int8 [scale][row]; then per half h (1536 bytes)
// and l = 0..7 (192 bytes): each row's ql bytes 4l..4l+3 (low nibbles the
// quants of m = 4h, high nibbles m = 4h+2), ql bytes 32+4l..32+4l+3 (m =
// 4h+1 and 4h+3) and qh bytes 4l..4l+3 (their two high bits), 64 bytes
// each — the file's 210 bytes per row, reordered.
const q6KPack = 32 + 256 + 2*8*192

func packQ6_K(dst, src []byte, lane int) {
	copy(dst[2*lane:2*lane+2], src[208:210])
	for s := 0; s < 16; s++ {
		dst[32+16*s+lane] = src[192+s]
	}
	for h := 0; h < 2; h++ {
		ql, qh := src[64*h:64*h+64], src[128+32*h:128+32*h+32]
		for l := 0; l < 8; l++ {
			o := 288 + 1536*h + 192*l + 4*lane
			copy(dst[o:o+4], ql[4*l:4*l+4])
			copy(dst[o+64:o+68], ql[32+4*l:32+4*l+4])
			copy(dst[o+128:o+132], qh[4*l:4*l+4])
		}
	}
}

// q8K6Bytes is one super-block of the Q6_K kernel's activations: d as
// float32, the sixteen bsums as int32, then the 256 quants.
const q8K6Bytes = 4 + 64 + 256

// q8K6 rewrites the Q8_K row a (nb super-blocks) into that form.
func q8K6(dst, a []byte, nb int) {
	for b := 0; b < nb; b++ {
		src, out := a[q8KBytes*b:q8KBytes*(b+1)], dst[q8K6Bytes*b:q8K6Bytes*(b+1)]
		copy(out[0:4], src[0:4])
		for s := 0; s < 16; s++ {
			binary.LittleEndian.PutUint32(out[4+4*s:], uint32(q8KBsum(src, s)))
		}
		copy(out[68:324], src[4:260])
	}
}
