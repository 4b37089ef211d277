package kernels

import (
	"encoding/binary"
	"math"
)

// Quantizers of the legacy 32-value block formats, following ggml's
// quantize_row_q*_ref. All arithmetic is float32 like the C code; products
// that feed an addition are wrapped in float32(...) so that no platform
// fuses them into an FMA (llama.cpp's reference build does not).

// truncInt converts like C's float-to-integer cast (toward zero).
func truncInt(f float32) int32 { return int32(f) }

func quantizeQ4_0(src []float32, dst []byte) {
	const qk = 32
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		y := dst[i*18 : i*18+18]
		var amax, vmax float32
		for _, v := range x {
			if amax < abs32(v) {
				amax = abs32(v)
				vmax = v
			}
		}
		d := vmax / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		for j := 0; j < qk/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[qk/2+j] * id)
			xi0 := min(15, int8(truncInt(x0+8.5)))
			xi1 := min(15, int8(truncInt(x1+8.5)))
			y[2+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

func quantizeQ4_1(src []float32, dst []byte) {
	const qk = 32
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		y := dst[i*20 : i*20+20]
		vmin := float32(math.MaxFloat32)
		vmax := float32(-math.MaxFloat32)
		for _, v := range x {
			if v < vmin {
				vmin = v
			}
			if v > vmax {
				vmax = v
			}
		}
		d := (vmax - vmin) / 15
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		putF16(y[2:], vmin)
		for j := 0; j < qk/2; j++ {
			x0 := float32((x[j] - vmin) * id)
			x1 := float32((x[qk/2+j] - vmin) * id)
			xi0 := min(15, int8(truncInt(x0+0.5)))
			xi1 := min(15, int8(truncInt(x1+0.5)))
			y[4+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

func quantizeQ5_0(src []float32, dst []byte) {
	const qk = 32
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		y := dst[i*22 : i*22+22]
		var amax, vmax float32
		for _, v := range x {
			if amax < abs32(v) {
				amax = abs32(v)
				vmax = v
			}
		}
		d := vmax / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		var qh uint32
		for j := 0; j < qk/2; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[qk/2+j] * id)
			xi0 := uint8(min(31, int8(truncInt(x0+16.5))))
			xi1 := uint8(min(31, int8(truncInt(x1+16.5))))
			y[6+j] = xi0&0x0f | (xi1&0x0f)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk/2)
		}
		binary.LittleEndian.PutUint32(y[2:], qh)
	}
}

func quantizeQ5_1(src []float32, dst []byte) {
	const qk = 32
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		y := dst[i*24 : i*24+24]
		vmin := float32(math.MaxFloat32)
		vmax := float32(-math.MaxFloat32)
		for _, v := range x {
			if v < vmin {
				vmin = v
			}
			if v > vmax {
				vmax = v
			}
		}
		d := (vmax - vmin) / 31
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		putF16(y[2:], vmin)
		var qh uint32
		for j := 0; j < qk/2; j++ {
			x0 := float32((x[j] - vmin) * id)
			x1 := float32((x[qk/2+j] - vmin) * id)
			xi0 := uint8(truncInt(x0 + 0.5))
			xi1 := uint8(truncInt(x1 + 0.5))
			y[8+j] = xi0&0x0f | (xi1&0x0f)<<4
			qh |= uint32(xi0&0x10) >> 4 << j
			qh |= uint32(xi1&0x10) >> 4 << (j + qk/2)
		}
		binary.LittleEndian.PutUint32(y[4:], qh)
	}
}

func quantizeQ8_0(src []float32, dst []byte) {
	const qk = 32
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		y := dst[i*34 : i*34+34]
		var amax float32
		for _, v := range x {
			if !(amax > abs32(v)) { // C's MAX(amax, fabsf(v))
				amax = abs32(v)
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(y, d)
		for j, v := range x {
			// roundf: half away from zero; exact in float64.
			y[2+j] = uint8(int8(math.Round(float64(float32(v * id)))))
		}
	}
}
