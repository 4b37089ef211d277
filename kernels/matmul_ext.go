package kernels

import (
	"encoding/binary"
	"math"
)

// Extended Q8_0 activations for the four-token kernels of the legacy
// formats. Per 32-value block, q8ExtBytes bytes:
//
//	[0:32)  eight int32 c[l] = -K * (q[4l] + q[4l+1] + q[4l+2] + q[4l+3])
//	[32:36) the block scale d as float32
//	[36:68) the 32 int8 quants
//
// With weights made unsigned by adding K, sum(u*q) + c is the exact
// integer lane sum(x*q), so a kernel spends one VPDPBUSD per token and
// block instead of the sign trick.
const q8ExtBytes = 68

// q8Ext writes the extended form of the Q8_0 row a (nb blocks) into dst.
func q8Ext(dst, a []byte, nb, k int) {
	for b := 0; b < nb; b++ {
		src := a[34*b : 34*b+34]
		out := dst[q8ExtBytes*b : q8ExtBytes*(b+1)]
		for l := 0; l < 8; l++ {
			s := int32(int8(src[2+4*l])) + int32(int8(src[3+4*l])) + int32(int8(src[4+4*l])) + int32(int8(src[5+4*l]))
			binary.LittleEndian.PutUint32(out[4*l:], uint32(-int32(k)*s))
		}
		binary.LittleEndian.PutUint32(out[32:], math.Float32bits(loadHalf(src)))
		copy(out[36:68], src[2:34])
	}
}
