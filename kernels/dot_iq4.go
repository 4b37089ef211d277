package kernels

// IQ4_NL pairs with Q8_0 and IQ4_XS with Q8_K, as in ggml-cpu's
// ggml_vec_dot_iq4_nl_q8_0_generic / ggml_vec_dot_iq4_xs_q8_K_generic: an
// integer sum of codebook value times activation per 32 elements, scaled and
// added to one float32 sum.

func dotIQ4_NL(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qkLegacy; ib++ {
		x := w[ib*iq4NLBytes : (ib+1)*iq4NLBytes]
		y := a[ib*34 : (ib+1)*34]
		d := loadHalf(y) * loadHalf(x)
		qs, q8 := x[2:18], y[2:34]
		var sumi1, sumi2 int32
		for j := 0; j < 16; j++ {
			sumi1 += int32(int8(q8[j])) * int32(iq4nlValues[qs[j]&0x0f])
			sumi2 += int32(int8(q8[j+16])) * int32(iq4nlValues[qs[j]>>4])
		}
		sumf += float32(d * float32(sumi1+sumi2))
	}
	return sumf
}

func dotIQ4_XS(n int, w, a []byte) float32 {
	var sumf float32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*iq4XSBytes : (i+1)*iq4XSBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		d4d8 := loadHalf(x) * loadF32(y)
		for ib := 0; ib < 8; ib++ {
			dl := d4d8 * float32(iq4XSScale(x, ib)-32)
			qs := x[8+16*ib : 8+16*ib+16]
			q8 := y[4+32*ib : 4+32*ib+32]
			var sumi1, sumi2 int32
			for j := 0; j < 16; j++ {
				sumi1 += int32(int8(q8[j])) * int32(iq4nlValues[qs[j]&0x0f])
				sumi2 += int32(int8(q8[j+16])) * int32(iq4nlValues[qs[j]>>4])
			}
			sumf += float32(dl * float32(sumi1+sumi2))
		}
	}
	return sumf
}
