package kernels

import "encoding/binary"

// Legacy ggml formats: blocks of 32 elements with one f16 scale (and, for the
// _1 variants, one f16 minimum). Byte layouts (ggml-common.h):
//
//	Q4_0 (18 B): d f16 | qs[16]           element j = low nibble of qs[j], j+16 = high nibble
//	Q4_1 (20 B): d f16 | m f16 | qs[16]
//	Q5_0 (22 B): d f16 | qh[4] | qs[16]   5th bit of element j is bit j of qh (uint32 LE)
//	Q5_1 (24 B): d f16 | m f16 | qh[4] | qs[16]
//	Q8_0 (34 B): d f16 | qs[32] int8
//	Q8_1 (36 B): d f16 | s f16 | qs[32] int8, s = d*sum(qs)
//
// Values: Q4_0 (q-8)*d, Q4_1 q*d+m, Q5_0 (q-16)*d, Q5_1 q*d+m, Q8_x q*d.
// Products are rounded to float32 before the +m (no fused multiply-add), so
// results do not depend on the architecture.

const qkLegacy = 32

func dequantQ4_0(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkLegacy; i++ {
		b := src[i*18 : (i+1)*18]
		d := loadHalf(b)
		qs := b[2:18]
		y := dst[i*qkLegacy : (i+1)*qkLegacy]
		for j := 0; j < 16; j++ {
			y[j] = float32(int(qs[j]&0x0f)-8) * d
			y[j+16] = float32(int(qs[j]>>4)-8) * d
		}
	}
}

func dequantQ4_1(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkLegacy; i++ {
		b := src[i*20 : (i+1)*20]
		d, m := loadHalf(b), loadHalf(b[2:])
		qs := b[4:20]
		y := dst[i*qkLegacy : (i+1)*qkLegacy]
		for j := 0; j < 16; j++ {
			y[j] = float32(float32(qs[j]&0x0f)*d) + m
			y[j+16] = float32(float32(qs[j]>>4)*d) + m
		}
	}
}

func dequantQ5_0(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkLegacy; i++ {
		b := src[i*22 : (i+1)*22]
		d := loadHalf(b)
		qh := binary.LittleEndian.Uint32(b[2:])
		qs := b[6:22]
		y := dst[i*qkLegacy : (i+1)*qkLegacy]
		for j := 0; j < 16; j++ {
			h0 := byte(qh>>j) << 4 & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(int(qs[j]&0x0f|h0)-16) * d
			y[j+16] = float32(int(qs[j]>>4|h1)-16) * d
		}
	}
}

func dequantQ5_1(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkLegacy; i++ {
		b := src[i*24 : (i+1)*24]
		d, m := loadHalf(b), loadHalf(b[2:])
		qh := binary.LittleEndian.Uint32(b[4:])
		qs := b[8:24]
		y := dst[i*qkLegacy : (i+1)*qkLegacy]
		for j := 0; j < 16; j++ {
			h0 := byte(qh>>j) << 4 & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(float32(qs[j]&0x0f|h0)*d) + m
			y[j+16] = float32(float32(qs[j]>>4|h1)*d) + m
		}
	}
}

func dequantQ8_0(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkLegacy; i++ {
		b := src[i*34 : (i+1)*34]
		d := loadHalf(b)
		y := dst[i*qkLegacy : (i+1)*qkLegacy]
		for j := range y {
			y[j] = float32(int8(b[2+j])) * d
		}
	}
}

func dequantQ8_1(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkLegacy; i++ {
		b := src[i*36 : (i+1)*36]
		d := loadHalf(b)
		y := dst[i*qkLegacy : (i+1)*qkLegacy]
		for j := range y {
			y[j] = float32(int8(b[4+j])) * d
		}
	}
}
