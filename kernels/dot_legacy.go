package kernels

import "encoding/binary"

// Dot products of the legacy formats with Q8_0 / Q8_1 activations, in the
// order of ggml-cpu's x86 AVX2 kernels (arch/x86/quants.c), which is what
// llama.cpp runs on the machines pagoda is compared with: per block, eight
// exact int32 lane sums (lane l covers elements 4l..4l+3) converted to
// float32; per lane acc = fma(d, lane, acc) over the blocks; then
// hsum_float_8. Q4_1/Q5_1 add Σ m·s (fused, as gcc compiles it) at the end.
// The order matters: the activations of the next layer are quantized again,
// and a last-bit difference here can flip one of those roundings.

// x86Lanes accumulates ggml's eight AVX2 float lanes.
type x86Lanes [8]float32

// add folds one block: acc[l] = fma(d, Σ_{k<4} x[4l+k]·y[4l+k], acc[l]).
func (acc *x86Lanes) add(d float32, x *[32]int32, y []byte) {
	for l := range acc {
		var sum int32
		for k := 4 * l; k < 4*l+4; k++ {
			sum += x[k] * int32(int8(y[k]))
		}
		acc[l] = fmaf(d, float32(sum), acc[l])
	}
}

// hsum is hsum_float_8: (l0+l4 + l2+l6) + (l1+l5 + l3+l7) in that order.
func (acc *x86Lanes) hsum() float32 {
	r0, r1, r2, r3 := acc[4]+acc[0], acc[5]+acc[1], acc[6]+acc[2], acc[7]+acc[3]
	return (r0 + r2) + (r1 + r3)
}

// unpack4 writes a 4-bit block's values (low nibbles first, as ggml's
// bytes_from_nibbles_32) plus bias, with the fifth bit from qh when given.
func unpack4(x *[32]int32, qs []byte, qh uint32, fifth bool, bias int32) {
	for j := range 16 {
		x[j] = int32(qs[j]&0x0f) + bias
		x[j+16] = int32(qs[j]>>4) + bias
		if fifth {
			x[j] += int32(qh>>j&1) << 4
			x[j+16] += int32(qh>>(j+16)&1) << 4
		}
	}
}

func dotQ4_0(n int, w, a []byte) float32 {
	var acc x86Lanes
	var x [32]int32
	for ib := 0; ib < n/qkLegacy; ib++ {
		b, y := w[ib*18:(ib+1)*18], a[ib*34:(ib+1)*34]
		unpack4(&x, b[2:18], 0, false, -8)
		acc.add(loadHalf(b)*loadHalf(y), &x, y[2:34])
	}
	return acc.hsum()
}

func dotQ4_1(n int, w, a []byte) float32 {
	var acc x86Lanes
	var x [32]int32
	var summs float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		b, y := w[ib*20:(ib+1)*20], a[ib*36:(ib+1)*36]
		summs = fmaf(loadHalf(b[2:]), loadHalf(y[2:]), summs) // m·s: the minimum times the activation block sum
		unpack4(&x, b[4:20], 0, false, 0)
		acc.add(loadHalf(b)*loadHalf(y), &x, y[4:36])
	}
	return acc.hsum() + summs
}

func dotQ5_0(n int, w, a []byte) float32 {
	var acc x86Lanes
	var x [32]int32
	for ib := 0; ib < n/qkLegacy; ib++ {
		b, y := w[ib*22:(ib+1)*22], a[ib*34:(ib+1)*34]
		unpack4(&x, b[6:22], binary.LittleEndian.Uint32(b[2:]), true, -16)
		acc.add(loadHalf(b)*loadHalf(y), &x, y[2:34])
	}
	return acc.hsum()
}

func dotQ5_1(n int, w, a []byte) float32 {
	var acc x86Lanes
	var x [32]int32
	var summs float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		b, y := w[ib*24:(ib+1)*24], a[ib*36:(ib+1)*36]
		summs = fmaf(loadHalf(b[2:]), loadHalf(y[2:]), summs)
		unpack4(&x, b[8:24], binary.LittleEndian.Uint32(b[4:]), true, 0)
		acc.add(loadHalf(b)*loadHalf(y), &x, y[4:36])
	}
	return acc.hsum() + summs
}

func dotQ8_0(n int, w, a []byte) float32 {
	var acc x86Lanes
	var x [32]int32
	for ib := 0; ib < n/qkLegacy; ib++ {
		b, y := w[ib*34:(ib+1)*34], a[ib*34:(ib+1)*34]
		for j := range x {
			x[j] = int32(int8(b[2+j]))
		}
		acc.add(loadHalf(b)*loadHalf(y), &x, y[2:34])
	}
	return acc.hsum()
}
