package kernels

import "encoding/binary"

// K-quants: super-blocks of QK_K = 256 elements split into sub-blocks with
// small integer scales that are themselves scaled by f16 super-block
// factors. Byte layouts (ggml-common.h):
//
//	Q2_K (84 B):  scales[16] (lo nibble scale, hi nibble min) | qs[64] 2-bit | d f16 | dmin f16
//	Q3_K (110 B): hmask[32] | qs[64] 2-bit | scales[12] (16 x 6-bit) | d f16
//	Q4_K (144 B): d f16 | dmin f16 | scales[12] (8 x 6-bit scale + 8 x 6-bit min) | qs[128] 4-bit
//	Q5_K (176 B): d f16 | dmin f16 | scales[12] | qh[32] | qs[128]
//	Q6_K (210 B): ql[128] | qh[64] | scales[16] int8 | d f16
//	Q8_K (292 B): d f32 | qs[256] int8 | bsums[16] int16 (sums of 16 quants)
//
// Within each 128-element half, Q2_K/Q3_K take element 32*k+l from bits
// 2k..2k+1 of qs[l] (l < 32), and Q3_K's third bit from bit 4h+k of hmask[l]
// (h = the half). Q4_K/Q5_K store each 64 elements as 32 low nibbles then 32
// high nibbles; Q5_K's fifth bit of sub-block s is bit s of qh[l].

const (
	q2KBytes = 84
	q3KBytes = 110
	q4KBytes = 144
	q5KBytes = 176
	q6KBytes = 210
	q8KBytes = 292
)

// kquantScaleMin unpacks the j-th (0..7) 6-bit scale and minimum of a Q4_K/Q5_K
// scales[12] field (ggml's get_scale_min_k4): the first four pairs sit in the
// low 6 bits of bytes 0..3 and 4..7; the last four take their low 4 bits from
// bytes 8..11 and their top 2 bits from the spare top bits of bytes 0..7.
func kquantScaleMin(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	sc = q[j+4]&0x0f | (q[j-4]>>6)<<4
	m = q[j+4]>>4 | (q[j]>>6)<<4
	return sc, m
}

// q3KScales unpacks the 16 6-bit scales of a Q3_K block (still biased by
// 32): the low 4 bits of scale j are nibble j/8 of byte j%8, the top 2 bits
// are bits 2*(j/4)..+1 of byte 8+j%4.
func q3KScales(b []byte) (s [16]int8) {
	for j := 0; j < 16; j++ {
		var lo byte
		if j < 8 {
			lo = b[j] & 0x0f
		} else {
			lo = b[j-8] >> 4
		}
		hi := (b[8+j%4] >> (2 * (j / 4))) & 3
		s[j] = int8(lo | hi<<4)
	}
	return s
}

func dequantQ2_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*q2KBytes : (i+1)*q2KBytes]
		sc := b[0:16]
		q := b[16:80]
		d, dmin := loadHalf(b[80:]), loadHalf(b[82:])
		y := dst[i*QK_K : (i+1)*QK_K]
		is := 0
		for half := 0; half < 2; half++ {
			qh := q[32*half : 32*half+32]
			for k := 0; k < 4; k++ {
				shift := uint(2 * k)
				for g := 0; g < 2; g++ { // two sub-blocks of 16 per bit plane
					dl := d * float32(sc[is]&0x0f)
					ml := dmin * float32(sc[is]>>4)
					is++
					for l := 0; l < 16; l++ {
						v := (qh[16*g+l] >> shift) & 3
						y[0] = float32(dl*float32(v)) - ml
						y = y[1:]
					}
				}
			}
		}
	}
}

func dequantQ3_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*q3KBytes : (i+1)*q3KBytes]
		hm := b[0:32]
		q := b[32:96]
		scales := q3KScales(b[96:108])
		dAll := loadHalf(b[108:])
		y := dst[i*QK_K : (i+1)*QK_K]
		is := 0
		m := byte(1)
		for half := 0; half < 2; half++ {
			qq := q[32*half : 32*half+32]
			for k := 0; k < 4; k++ {
				shift := uint(2 * k)
				for g := 0; g < 2; g++ {
					dl := dAll * float32(int(scales[is])-32)
					is++
					for l := 16 * g; l < 16*g+16; l++ {
						v := int((qq[l] >> shift) & 3)
						if hm[l]&m == 0 {
							v -= 4
						}
						y[0] = dl * float32(v)
						y = y[1:]
					}
				}
				m <<= 1
			}
		}
	}
}

func dequantQ4_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*q4KBytes : (i+1)*q4KBytes]
		d, dmin := loadHalf(b), loadHalf(b[2:])
		scales := b[4:16]
		q := b[16:144]
		y := dst[i*QK_K : (i+1)*QK_K]
		for j := 0; j < 4; j++ { // 64 elements per step: sub-blocks 2j, 2j+1
			sc, m := kquantScaleMin(2*j, scales)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = kquantScaleMin(2*j+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(m)
			qq := q[32*j : 32*j+32]
			for l := 0; l < 32; l++ {
				y[64*j+l] = float32(d1*float32(qq[l]&0x0f)) - m1
				y[64*j+32+l] = float32(d2*float32(qq[l]>>4)) - m2
			}
		}
	}
}

func dequantQ5_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*q5KBytes : (i+1)*q5KBytes]
		d, dmin := loadHalf(b), loadHalf(b[2:])
		scales := b[4:16]
		qh := b[16:48]
		ql := b[48:176]
		y := dst[i*QK_K : (i+1)*QK_K]
		for j := 0; j < 4; j++ {
			sc, m := kquantScaleMin(2*j, scales)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = kquantScaleMin(2*j+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(m)
			u1, u2 := byte(1)<<(2*j), byte(2)<<(2*j)
			qq := ql[32*j : 32*j+32]
			for l := 0; l < 32; l++ {
				v1, v2 := qq[l]&0x0f, qq[l]>>4
				if qh[l]&u1 != 0 {
					v1 += 16
				}
				if qh[l]&u2 != 0 {
					v2 += 16
				}
				y[64*j+l] = float32(d1*float32(v1)) - m1
				y[64*j+32+l] = float32(d2*float32(v2)) - m2
			}
		}
	}
}

// q6KValues unpacks the 256 signed 6-bit quants of a Q6_K block: in each
// 128-element half, element 32*k+l (k = 0..3) takes its low 4 bits from
// ql[l] (k = 0), ql[l+32] (k = 1), ql[l]>>4 (k = 2), ql[l+32]>>4 (k = 3) and
// its high 2 bits from bits 2k..2k+1 of qh[l].
func q6KValues(b []byte, a *[QK_K]int8) {
	ql, qh := b[0:128], b[128:192]
	for half := 0; half < 2; half++ {
		l4, h2 := ql[64*half:64*half+64], qh[32*half:32*half+32]
		out := a[128*half : 128*half+128]
		for l := 0; l < 32; l++ {
			out[l] = int8(l4[l]&0x0f|(h2[l]>>0&3)<<4) - 32
			out[l+32] = int8(l4[l+32]&0x0f|(h2[l]>>2&3)<<4) - 32
			out[l+64] = int8(l4[l]>>4|(h2[l]>>4&3)<<4) - 32
			out[l+96] = int8(l4[l+32]>>4|(h2[l]>>6&3)<<4) - 32
		}
	}
}

func dequantQ6_K(src []byte, dst []float32) {
	var q [QK_K]int8
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*q6KBytes : (i+1)*q6KBytes]
		q6KValues(b, &q)
		sc := b[192:208]
		d := loadHalf(b[208:])
		y := dst[i*QK_K : (i+1)*QK_K]
		for k := range y {
			// ggml: d * sc[is] * q, evaluated left to right; 16 per scale.
			y[k] = d * float32(int8(sc[k/16])) * float32(q[k])
		}
	}
}

func dequantQ8_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/QK_K; i++ {
		b := src[i*q8KBytes : (i+1)*q8KBytes]
		d := loadF32(b)
		y := dst[i*QK_K : (i+1)*QK_K]
		for j := range y {
			y[j] = d * float32(int8(b[4+j]))
		}
	}
}

// q8KBsum returns bsums[j] of a Q8_K block.
func q8KBsum(b []byte, j int) int32 {
	return int32(int16(binary.LittleEndian.Uint16(b[260+2*j:])))
}
