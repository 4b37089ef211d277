package kernels

import "encoding/binary"

// Dot products of the legacy formats with Q8_0 / Q8_1 activations, in the
// structure of ggml-cpu's *_generic functions: an exact integer sum per
// block, then one float32 scale per block accumulated into a float32 sum,
// with ggml's order of the float multiplications. Each float32(...) around a
// product forbids fusing it with the following add, which keeps the result
// identical on every architecture.

func dotQ4_0(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		x := w[ib*18 : (ib+1)*18]
		y := a[ib*34 : (ib+1)*34]
		qs, q8 := x[2:18], y[2:34]
		var sumi0, sumi1 int32
		for j := 0; j < 16; j++ {
			v0 := int32(qs[j]&0x0f) - 8
			v1 := int32(qs[j]>>4) - 8
			sumi0 += v0 * int32(int8(q8[j]))
			sumi1 += v1 * int32(int8(q8[j+16]))
		}
		sumf += float32(float32(sumi0+sumi1) * loadHalf(x) * loadHalf(y))
	}
	return sumf
}

func dotQ4_1(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		x := w[ib*20 : (ib+1)*20]
		y := a[ib*36 : (ib+1)*36]
		qs, q8 := x[4:20], y[4:36]
		var sumi0, sumi1 int32
		for j := 0; j < 16; j++ {
			sumi0 += int32(qs[j]&0x0f) * int32(int8(q8[j]))
			sumi1 += int32(qs[j]>>4) * int32(int8(q8[j+16]))
		}
		// (dx*dy)*sumi + mx*sy: the minimum times the activation block sum.
		scaled := float32(loadHalf(x) * loadHalf(y) * float32(sumi0+sumi1))
		mins := float32(loadHalf(x[2:]) * loadHalf(y[2:]))
		sumf += scaled + mins
	}
	return sumf
}

func dotQ5_0(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		x := w[ib*22 : (ib+1)*22]
		y := a[ib*34 : (ib+1)*34]
		qh := binary.LittleEndian.Uint32(x[2:])
		qs, q8 := x[6:22], y[2:34]
		var sumi0, sumi1 int32
		for j := 0; j < 16; j++ {
			h0 := byte(qh>>j) << 4 & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			x0 := int32(qs[j]&0x0f|h0) - 16
			x1 := int32(qs[j]>>4|h1) - 16
			sumi0 += x0 * int32(int8(q8[j]))
			sumi1 += x1 * int32(int8(q8[j+16]))
		}
		sumf += float32(loadHalf(x) * loadHalf(y) * float32(sumi0+sumi1))
	}
	return sumf
}

func dotQ5_1(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		x := w[ib*24 : (ib+1)*24]
		y := a[ib*36 : (ib+1)*36]
		qh := binary.LittleEndian.Uint32(x[4:])
		qs, q8 := x[8:24], y[4:36]
		var sumi0, sumi1 int32
		for j := 0; j < 16; j++ {
			h0 := byte(qh>>j) << 4 & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			sumi0 += int32(qs[j]&0x0f|h0) * int32(int8(q8[j]))
			sumi1 += int32(qs[j]>>4|h1) * int32(int8(q8[j+16]))
		}
		scaled := float32(loadHalf(x) * loadHalf(y) * float32(sumi0+sumi1))
		mins := float32(loadHalf(x[2:]) * loadHalf(y[2:]))
		sumf += scaled + mins
	}
	return sumf
}

func dotQ8_0(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		x := w[ib*34 : (ib+1)*34]
		y := a[ib*34 : (ib+1)*34]
		var sumi int32
		for j := 0; j < 32; j++ {
			sumi += int32(int8(x[2+j])) * int32(int8(y[2+j]))
		}
		sumf += float32(float32(sumi) * float32(loadHalf(x)*loadHalf(y)))
	}
	return sumf
}
