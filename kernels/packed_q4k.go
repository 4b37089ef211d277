package kernels

import "encoding/binary"

// Packed Q4_K (packed.go) for the matrices llama.cpp repacks (Rows a
// multiple of 8, repack_kquants.go): the kernels reproduce dotQ4_KRepacked
// exactly — per group of sub-blocks an exact integer sum of scale × Σ q·a
// and of min × bsums, then one fma each into acc and accMin; groups of two
// sub-blocks (64 values) for the multi-token kernels, the whole super-block
// for the one-token kernel, as llama.cpp's gemm and gemv do.
//
// Super-block layout, q4KPack bytes for 16 rows:
//
//	[0:32)      d, f16 per row        [32:64)    dmin, f16 per row
//	[64:192)    6-bit scales as bytes, [sub-block][row]
//	[192:320)   6-bit mins as bytes, [sub-block][row]
//	[320:2368)  four pairs of sub-blocks, 512 bytes each: chunk j (64
//	            bytes) holds each row's qs bytes 4j..4j+3 of the pair, low
//	            nibbles sub-block 2p, high nibbles sub-block 2p+1
const q4KPack = 64 + 256 + 4*512

func packQ4_K(dst, src []byte, lane int) {
	copy(dst[2*lane:2*lane+2], src[0:2])
	copy(dst[32+2*lane:32+2*lane+2], src[2:4])
	scales, mins := q4KScalesMins(src)
	for s := 0; s < 8; s++ {
		dst[64+16*s+lane] = byte(scales[s])
		dst[192+16*s+lane] = byte(mins[s])
	}
	qs := src[16:144]
	for p := 0; p < 4; p++ {
		for j := 0; j < 8; j++ {
			copy(dst[320+512*p+64*j+4*lane:320+512*p+64*j+4*lane+4], qs[32*p+4*j:32*p+4*j+4])
		}
	}
}

// q8KPackBytes is one super-block of the Q4_K kernels' activations: d as
// float32, the eight sums of 32 quants (bsums in pairs) as int32, then the
// 256 quants.
const q8KPackBytes = 4 + 32 + 256

// q8KPack rewrites the Q8_K row a (nb super-blocks) into that form.
func q8KPack(dst, a []byte, nb int) {
	for b := 0; b < nb; b++ {
		src, out := a[q8KBytes*b:q8KBytes*(b+1)], dst[q8KPackBytes*b:q8KPackBytes*(b+1)]
		copy(out[0:4], src[0:4])
		for s := 0; s < 8; s++ {
			binary.LittleEndian.PutUint32(out[4+4*s:], uint32(q8KBsum(src, 2*s)+q8KBsum(src, 2*s+1)))
		}
		copy(out[36:292], src[4:260])
	}
}
