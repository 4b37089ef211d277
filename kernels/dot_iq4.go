package kernels

// IQ4_NL pairs with Q8_0 and IQ4_XS with Q8_K. Both follow ggml-cpu's x86
// AVX2 kernels (arch/x86/quants.c): per 32 values eight int32 lanes of
// codebook value times activation (lane l = elements 4l..4l+3), converted
// to float32 and fused into eight float lanes, then hsum_float_8.

// iq4Lanes adds the products of one 32-value IQ4 block (qs: 16 bytes, low
// nibbles first) with 32 int8 activations into lanes, each times scale.
func iq4Lanes(lanes *[8]int32, qs, q8 []byte, scale int32) {
	for j := 0; j < 16; j++ {
		lanes[j/4] += scale * int32(iq4nlValues[qs[j]&0x0f]) * int32(int8(q8[j]))
		lanes[4+j/4] += scale * int32(iq4nlValues[qs[j]>>4]) * int32(int8(q8[j+16]))
	}
}

// dotIQ4_NL keeps two float accumulators, one for the even blocks and one
// for the odd ones, adds them lane by lane before hsum_float_8, and adds a
// last unpaired block in scalar code, multiply and add rounded separately
// (llama.cpp's output on such rows shows gcc does not fuse this one;
// testdata/kquants/vecdot-IQ4_NL.bin has 15 blocks).
func dotIQ4_NL(n int, w, a []byte) float32 {
	var acc [2]x86Lanes
	nb := n / qkLegacy
	block := func(ib int) (d float32, lanes [8]int32) {
		x := w[ib*iq4NLBytes : (ib+1)*iq4NLBytes]
		y := a[ib*34 : (ib+1)*34]
		iq4Lanes(&lanes, x[2:18], y[2:34], 1)
		return loadHalf(y) * loadHalf(x), lanes
	}
	ib := 0
	for ; ib+1 < nb; ib += 2 {
		for k := range 2 {
			d, lanes := block(ib + k)
			acc[k].addLanes(d, &lanes)
		}
	}
	var sum x86Lanes
	for l := range sum {
		sum[l] = acc[0][l] + acc[1][l]
	}
	sumf := sum.hsum()
	if ib < nb {
		d, lanes := block(ib)
		s := int32(0)
		for _, v := range lanes {
			s += v
		}
		sumf += float32(d * float32(s))
	}
	return sumf
}

func dotIQ4_XS(n int, w, a []byte) float32 {
	var acc x86Lanes
	for i := 0; i < n/QK_K; i++ {
		x := w[i*iq4XSBytes : (i+1)*iq4XSBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		var lanes [8]int32
		for ib := 0; ib < 8; ib++ {
			iq4Lanes(&lanes, x[8+16*ib:8+16*ib+16], y[4+32*ib:4+32*ib+32], int32(iq4XSScale(x, ib)-32))
		}
		acc.addLanes(loadHalf(x)*loadF32(y), &lanes)
	}
	return acc.hsum()
}
