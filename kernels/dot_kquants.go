package kernels

// Dot products of the K-quants with Q8_K activations, in the structure of
// ggml-cpu's *_q8_K_generic functions. Q2_K sums integer products per
// sub-block and scales once per super-block. Q3_K..Q6_K unpack the quants to
// int8, accumulate scale*q*q8 into eight int32 lanes (lane = element index
// mod 8), scale each lane by d per super-block into eight float32 lane sums,
// and add the lanes at the end; the minimum terms use Q8_K's bsums. Integer
// parts are exact, so only the float steps need ggml's order, which is kept.

// laneSums adds scale(k)*a[k]*q8[k] into lane k%8, where scale(k) =
// scales[k/group].
func laneSums(a *[QK_K]int8, q8 []byte, scales []int32, group int, aux *[8]int32) {
	*aux = [8]int32{}
	for k := 0; k < QK_K; k++ {
		aux[k%8] += scales[k/group] * int32(a[k]) * int32(int8(q8[k]))
	}
}

func dotQ2_K(n int, w, a []byte) float32 {
	var sumf float32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q2KBytes : (i+1)*q2KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		sc := x[0:16]
		q2 := x[16:80]
		q8 := y[4:260]
		var summs int32
		for j := 0; j < 16; j++ {
			summs += q8KBsum(y, j) * int32(sc[j]>>4)
		}
		yd := loadF32(y)
		dall := yd * loadHalf(x[80:])
		dmin := yd * loadHalf(x[82:])
		var isum int32
		is := 0
		for half := 0; half < 2; half++ {
			qq := q2[32*half : 32*half+32]
			for k := 0; k < 4; k++ {
				shift := uint(2 * k)
				base := 128*half + 32*k
				for g := 0; g < 2; g++ {
					d := int32(sc[is] & 0x0f)
					is++
					var isuml int32
					for l := 16 * g; l < 16*g+16; l++ {
						isuml += int32(int8(q8[base+l])) * int32((qq[l]>>shift)&3)
					}
					isum += d * isuml
				}
			}
		}
		sumf += float32(dall*float32(isum)) - float32(dmin*float32(summs))
	}
	return sumf
}

func dotQ3_K(n int, w, a []byte) float32 {
	var sums [8]float32
	var aux8 [QK_K]int8
	var aux32 [8]int32
	var scales [16]int32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q3KBytes : (i+1)*q3KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		hm := x[0:32]
		q3 := x[32:96]
		m := byte(1)
		for half := 0; half < 2; half++ {
			qq := q3[32*half : 32*half+32]
			for k := 0; k < 4; k++ {
				out := aux8[128*half+32*k : 128*half+32*k+32]
				for l := 0; l < 32; l++ {
					v := int8((qq[l] >> (2 * k)) & 3)
					if hm[l]&m == 0 {
						v -= 4
					}
					out[l] = v
				}
				m <<= 1
			}
		}
		s := q3KScales(x[96:108])
		for j := range scales {
			scales[j] = int32(s[j]) - 32
		}
		laneSums(&aux8, y[4:260], scales[:], 16, &aux32)
		d := loadHalf(x[108:]) * loadF32(y)
		for l := range sums {
			sums[l] += float32(d * float32(aux32[l]))
		}
	}
	var sumf float32
	for _, s := range sums {
		sumf += s
	}
	return sumf
}

// dotQ45K is the shared body of the Q4_K and Q5_K dots, which differ only in
// how the quants are unpacked.
func dotQ45K(n int, w, a []byte, blockBytes int, unpack func(x []byte, a *[QK_K]int8)) float32 {
	var sums [8]float32
	var aux8 [QK_K]int8
	var aux32 [8]int32
	var scales [8]int32
	var sumf float32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*blockBytes : (i+1)*blockBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		unpack(x, &aux8)
		var sumi int32
		for j := 0; j < 8; j++ {
			sc, mn := kquantScaleMin(j, x[4:16])
			scales[j] = int32(sc)
			sumi += (q8KBsum(y, 2*j) + q8KBsum(y, 2*j+1)) * int32(mn)
		}
		laneSums(&aux8, y[4:260], scales[:], 32, &aux32)
		yd := loadF32(y)
		d := loadHalf(x) * yd
		for l := range sums {
			sums[l] += float32(d * float32(aux32[l]))
		}
		dmin := loadHalf(x[2:]) * yd
		sumf -= float32(dmin * float32(sumi))
	}
	for _, s := range sums {
		sumf += s
	}
	return sumf
}

func unpackQ4_K(x []byte, a *[QK_K]int8) {
	q := x[16:144]
	for j := 0; j < 4; j++ {
		for l := 0; l < 32; l++ {
			a[64*j+l] = int8(q[32*j+l] & 0x0f)
			a[64*j+32+l] = int8(q[32*j+l] >> 4)
		}
	}
}

func unpackQ5_K(x []byte, a *[QK_K]int8) {
	qh, q := x[16:48], x[48:176]
	for j := 0; j < 4; j++ {
		u1, u2 := byte(1)<<(2*j), byte(2)<<(2*j)
		for l := 0; l < 32; l++ {
			v1, v2 := int8(q[32*j+l]&0x0f), int8(q[32*j+l]>>4)
			if qh[l]&u1 != 0 {
				v1 += 16
			}
			if qh[l]&u2 != 0 {
				v2 += 16
			}
			a[64*j+l], a[64*j+32+l] = v1, v2
		}
	}
}

func dotQ4_K(n int, w, a []byte) float32 { return dotQ45K(n, w, a, q4KBytes, unpackQ4_K) }
func dotQ5_K(n int, w, a []byte) float32 { return dotQ45K(n, w, a, q5KBytes, unpackQ5_K) }

func dotQ6_K(n int, w, a []byte) float32 {
	var sums [8]float32
	var aux8 [QK_K]int8
	var aux32 [8]int32
	var scales [16]int32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q6KBytes : (i+1)*q6KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		q6KValues(x, &aux8)
		for j := range scales {
			scales[j] = int32(int8(x[192+j]))
		}
		laneSums(&aux8, y[4:260], scales[:], 16, &aux32)
		d := loadHalf(x[208:]) * loadF32(y)
		for l := range sums {
			sums[l] += float32(d * float32(aux32[l]))
		}
	}
	var sumf float32
	for _, s := range sums {
		sumf += s
	}
	return sumf
}
