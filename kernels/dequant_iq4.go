package kernels

import "encoding/binary"

// IQ4_NL and IQ4_XS store 4-bit indices into a fixed non-linear codebook.
//
//	IQ4_NL (18 B):  d f16 | qs[16]   (nibble order as Q4_0), value = d*iq4nlValues[q]
//	IQ4_XS (136 B): d f16 | scales_h u16 | scales_l[4] | qs[128]
//
// IQ4_XS has 8 sub-blocks of 32 with 6-bit scales (biased by 32): the low 4
// bits of scale ib are nibble ib%2 of scales_l[ib/2], the top 2 bits are bits
// 2ib..2ib+1 of scales_h. Each sub-block's 16 bytes hold its 32 nibbles in
// the Q4_0 order.

// iq4nlValues is ggml's kvalues_iq4nl codebook.
var iq4nlValues = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

const (
	iq4NLBytes = 18
	iq4XSBytes = 136
)

func dequantIQ4_NL(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkLegacy; i++ {
		b := src[i*iq4NLBytes : (i+1)*iq4NLBytes]
		d := loadHalf(b)
		qs := b[2:18]
		y := dst[i*qkLegacy : (i+1)*qkLegacy]
		for j := 0; j < 16; j++ {
			y[j] = d * float32(iq4nlValues[qs[j]&0x0f])
			y[j+16] = d * float32(iq4nlValues[qs[j]>>4])
		}
	}
}

// iq4XSScale returns the biased 6-bit scale of sub-block ib (0..7).
func iq4XSScale(b []byte, ib int) int {
	h := binary.LittleEndian.Uint16(b[2:])
	lo := int(b[4+ib/2]>>(4*(ib%2))) & 0x0f
	hi := int(h>>(2*ib)) & 3
	return lo | hi<<4
}

func dequantIQ4_XS(src []byte, dst []float32) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*iq4XSBytes : (i+1)*iq4XSBytes]
		d := loadHalf(b)
		y := dst[i*QK_K : (i+1)*QK_K]
		for ib := 0; ib < 8; ib++ {
			dl := d * float32(iq4XSScale(b, ib)-32)
			qs := b[8+16*ib : 8+16*ib+16]
			for j := 0; j < 16; j++ {
				y[32*ib+j] = dl * float32(iq4nlValues[qs[j]&0x0f])
				y[32*ib+j+16] = dl * float32(iq4nlValues[qs[j]>>4])
			}
		}
	}
}
