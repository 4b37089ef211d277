package kernels

// Dot products of the K-quants with Q8_K activations, in the order of
// ggml-cpu's x86 AVX2 kernels (arch/x86/quants.c, ggml_vec_dot_*_q8_K),
// which is what llama.cpp runs on the machines pagoda is compared with.
// Per super-block the integer products go into eight int32 lanes — lane l
// holds elements 4l..4l+3 of every 32-element chunk (maddubs + madd) — each
// lane is converted to float32 and folded into its float lane with
// acc[l] = fma(d, lane, acc[l]), d = y.d·x.d; hsum_float_8 adds the lanes
// at the end. The minimum terms follow each kernel's own shape (see the
// functions). Integer parts are exact, so only the lane assignment and the
// float steps need ggml's order, and both are kept.

// kLanes returns the eight AVX2 int32 lanes of Σ scale(k)·q[k]·a[k] over a
// super-block: lane (k%32)/4, scale(k) = scales[k/group].
func kLanes(q *[QK_K]int8, a []byte, scales []int32, group int) (lanes [8]int32) {
	for k := 0; k < QK_K; k++ {
		lanes[(k%32)/4] += scales[k/group] * int32(q[k]) * int32(int8(a[k]))
	}
	return lanes
}

// addLanes folds one super-block's integer lanes into the float lanes.
func (acc *x86Lanes) addLanes(d float32, lanes *[8]int32) {
	for l := range acc {
		acc[l] = fmaf(d, float32(lanes[l]), acc[l])
	}
}

func dotQ2_K(n int, w, a []byte) float32 {
	var acc x86Lanes
	var q [QK_K]int8
	var scales [16]int32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q2KBytes : (i+1)*q2KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		yd := loadF32(y)
		d := yd * loadHalf(x[80:])
		dmin := -yd * loadHalf(x[82:])
		// The minimum terms first: madd(mins, bsums) gives lane l the
		// sub-blocks 2l and 2l+1.
		for l := range acc {
			m := int32(x[2*l]>>4)*q8KBsum(y, 2*l) + int32(x[2*l+1]>>4)*q8KBsum(y, 2*l+1)
			acc[l] = fmaf(dmin, float32(m), acc[l])
		}
		for j := range scales {
			scales[j] = int32(x[j] & 0x0f)
		}
		unpackQ2_K(x, &q)
		lanes := kLanes(&q, y[4:260], scales[:], 16)
		acc.addLanes(d, &lanes)
	}
	return acc.hsum()
}

// unpackQ2_K writes a Q2_K block's 256 quants (0..3).
func unpackQ2_K(x []byte, q *[QK_K]int8) {
	q2 := x[16:80]
	for half := 0; half < 2; half++ {
		qq := q2[32*half : 32*half+32]
		for k := 0; k < 4; k++ {
			for l := 0; l < 32; l++ {
				q[128*half+32*k+l] = int8((qq[l] >> (2 * k)) & 3)
			}
		}
	}
}

// unpackQ3_K writes a Q3_K block's 256 signed quants (-4..3).
func unpackQ3_K(x []byte, q *[QK_K]int8) {
	hm, q3 := x[0:32], x[32:96]
	m := byte(1)
	for half := 0; half < 2; half++ {
		qq := q3[32*half : 32*half+32]
		for k := 0; k < 4; k++ {
			out := q[128*half+32*k : 128*half+32*k+32]
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
}

func dotQ3_K(n int, w, a []byte) float32 {
	var acc x86Lanes
	var q [QK_K]int8
	var scales [16]int32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q3KBytes : (i+1)*q3KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		unpackQ3_K(x, &q)
		s := q3KScales(x[96:108])
		for j := range scales {
			scales[j] = int32(s[j]) - 32
		}
		lanes := kLanes(&q, y[4:260], scales[:], 16)
		acc.addLanes(loadF32(y)*loadHalf(x[108:]), &lanes)
	}
	return acc.hsum()
}

// q4KScalesMins returns a Q4_K/Q5_K block's eight (scale, min) pairs.
func q4KScalesMins(x []byte) (scales, mins [8]int32) {
	for j := 0; j < 8; j++ {
		sc, mn := kquantScaleMin(j, x[4:16])
		scales[j], mins[j] = int32(sc), int32(mn)
	}
	return scales, mins
}

// q4KMinLanes is the four int32 lanes of Q4_K's minimum term:
// madd(mins, hadd(bsums)), lane m covering sub-blocks 2m and 2m+1.
func q4KMinLanes(mins *[8]int32, y []byte) (p [4]int32) {
	for m := range p {
		for s := 2 * m; s < 2*m+2; s++ {
			p[m] += mins[s] * (q8KBsum(y, 2*s) + q8KBsum(y, 2*s+1))
		}
	}
	return p
}

func dotQ4_K(n int, w, a []byte) float32 {
	var acc x86Lanes
	var accm [4]float32
	var q [QK_K]int8
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q4KBytes : (i+1)*q4KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		yd := loadF32(y)
		d := yd * loadHalf(x)
		dmin := -yd * loadHalf(x[2:])
		scales, mins := q4KScalesMins(x)
		p := q4KMinLanes(&mins, y)
		for m := range accm {
			accm[m] = fmaf(dmin, float32(p[m]), accm[m])
		}
		unpackQ4_K(x, &q)
		lanes := kLanes(&q, y[4:260], scales[:], 32)
		acc.addLanes(d, &lanes)
	}
	return acc.hsum() + ((accm[0] + accm[2]) + (accm[1] + accm[3]))
}

func dotQ5_K(n int, w, a []byte) float32 {
	var acc x86Lanes
	var summs float32
	var q [QK_K]int8
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q5KBytes : (i+1)*q5KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		yd := loadF32(y)
		d := yd * loadHalf(x)
		dmin := -yd * loadHalf(x[2:])
		scales, mins := q4KScalesMins(x)
		p := q4KMinLanes(&mins, y)
		// One scalar term per block, fused as gcc contracts it.
		summs = fmaf(dmin, float32(p[0]+p[1]+p[2]+p[3]), summs)
		unpackQ5_K(x, &q)
		lanes := kLanes(&q, y[4:260], scales[:], 32)
		acc.addLanes(d, &lanes)
	}
	return acc.hsum() + summs
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

// dotQ6_K multiplies the unsigned 6-bit quants (q+32, 0..63) and takes the
// offset back per lane at the end as 32·madd(bsums, scales), so lane l's
// integer also carries the offset of sub-blocks 2l and 2l+1 — not the same
// per-lane split as the signed products, hence not the same float sum.
func dotQ6_K(n int, w, a []byte) float32 {
	var acc x86Lanes
	var q [QK_K]int8
	var scales [16]int32
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q6KBytes : (i+1)*q6KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		q6KValues(x, &q)
		for k := range q {
			q[k] += 32
		}
		for j := range scales {
			scales[j] = int32(int8(x[192+j]))
		}
		lanes := kLanes(&q, y[4:260], scales[:], 16)
		for l := range lanes {
			lanes[l] -= 32 * (q8KBsum(y, 2*l)*scales[2*l] + q8KBsum(y, 2*l+1)*scales[2*l+1])
		}
		acc.addLanes(loadF32(y)*loadHalf(x[208:]), &lanes)
	}
	return acc.hsum()
}
