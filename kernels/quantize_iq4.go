package kernels

// Quantizers of the 4-bit non-linear formats, following ggml's
// quantize_iq4_nl / quantize_iq4_xs (which llama-quantize calls, with 7
// trial scales each way, not the _ref variants) and quantize_row_iq4_nl_impl.
// The codebook iq4nlValues lives with the dequantizers.

// iq4nlFloats is the codebook as float32 (exact), for the searches.
var iq4nlFloats = func() (f [16]float32) {
	for i, v := range iq4nlValues {
		f[i] = float32(v)
	}
	return
}()

// bestIndexInt8 returns the index of the codebook value nearest to x (ggml's
// best_index_int8 over kvalues_iq4nl, same comparisons in the same order).
// Callers pass x rounded, float32(id*v): inlined, an unrounded product would
// be fused into the subtractions on arm64, which ggml's reference does not.
func bestIndexInt8(val *[16]float32, x float32) int {
	if x <= val[0] {
		return 0
	}
	if x >= val[15] {
		return 15
	}
	ml, mu := 0, 15
	for mu-ml > 1 {
		mav := (ml + mu) >> 1
		if x < val[mav] {
			mu = mav
		} else {
			ml = mav
		}
	}
	if x-val[mu-1] < val[mu]-x {
		return mu - 1
	}
	return mu
}

// iq4Block fits one 32-value block (x^2-weighted, ntry trial scales each side
// of the max) and returns its scale; L gets the block's codebook indices.
func iq4Block(xb []float32, L []uint8, ntry int) float32 {
	values := &iq4nlFloats
	var weight [32]float32
	for j := 0; j < 32; j++ {
		weight[j] = xb[j] * xb[j]
	}
	var amax, vmax float32
	for j := 0; j < 32; j++ {
		if ax := abs32(xb[j]); ax > amax {
			amax = ax
			vmax = xb[j]
		}
	}
	if amax < groupMaxEps {
		return 0
	}
	v0 := values[0]
	var d float32
	if ntry > 0 {
		d = -vmax / v0
	} else {
		d = vmax / v0
	}
	id := 1 / d
	var sumqx, sumq2 float32
	for j := 0; j < 32; j++ {
		l := bestIndexInt8(values, float32(id*xb[j]))
		L[j] = uint8(l)
		q := values[l]
		w := weight[j]
		sumqx += float32(w * q * xb[j])
		sumq2 += float32(w * q * q)
	}
	d = 0
	if sumq2 > 0 {
		d = sumqx / sumq2
	}
	best := d * sumqx
	for itry := -ntry; itry <= ntry; itry++ {
		id = (float32(itry) + v0) / vmax
		sumqx, sumq2 = 0, 0
		for j := 0; j < 32; j++ {
			l := bestIndexInt8(values, float32(id*xb[j]))
			q := values[l]
			w := weight[j]
			sumqx += float32(w * q * xb[j])
			sumq2 += float32(w * q * q)
		}
		if sumq2 > 0 && sumqx*sumqx > best*sumq2 {
			d = sumqx / sumq2
			best = d * sumqx
		}
	}
	return d
}

// packIQ4 stores 32 indices as 16 bytes: low nibbles the first 16 values.
func packIQ4(L []uint8, q []byte) {
	for j := 0; j < 16; j++ {
		q[j] = L[j] | L[16+j]<<4
	}
}

// IQ4_NL block: d, qs[16].
func quantizeIQ4_NL(src []float32, dst []byte) {
	var L [32]uint8
	for i := 0; i < len(src)/32; i++ {
		x := src[i*32 : (i+1)*32]
		y := dst[i*18 : (i+1)*18]
		scale := iq4Block(x, L[:], 7)
		putF16(y, scale)
		var id float32
		if scale != 0 {
			id = 1 / scale
		}
		for j := 0; j < 32; j++ {
			L[j] = uint8(bestIndexInt8(&iq4nlFloats, float32(id*x[j])))
		}
		packIQ4(L[:], y[2:])
	}
}

// IQ4_XS block: d, scales_h (uint16, 2 high bits per sub-block), scales_l[4]
// (4 low bits per sub-block), qs[128].
func quantizeIQ4_XS(src []float32, dst []byte) {
	var L [QK_K]uint8
	var scales [QK_K / 32]float32
	for i := 0; i < len(src)/QK_K; i++ {
		x := src[i*QK_K : (i+1)*QK_K]
		y := dst[i*136 : (i+1)*136]
		var maxScale, amaxScale float32
		for ib := 0; ib < QK_K/32; ib++ {
			scales[ib] = iq4Block(x[32*ib:], L[32*ib:], 7)
			if a := abs32(scales[ib]); a > amaxScale {
				amaxScale = a
				maxScale = scales[ib]
			}
		}
		d := -maxScale / 32
		putF16(y, d)
		var id float32
		if d != 0 {
			id = 1 / d
		}
		var scalesH uint16
		scalesL := y[4:8]
		for ib := 0; ib < QK_K/32; ib++ {
			l := clampInt(nearestInt(id*scales[ib]), -32, 31)
			dl := d * float32(l)
			var idl float32
			if dl != 0 {
				idl = 1 / dl
			}
			for j := 0; j < 32; j++ {
				L[32*ib+j] = uint8(bestIndexInt8(&iq4nlFloats, float32(idl*x[32*ib+j])))
			}
			l += 32
			lLow, lHigh := uint8(l&0xf), uint16(l>>4)
			if ib%2 == 0 {
				scalesL[ib/2] = lLow
			} else {
				scalesL[ib/2] |= lLow << 4
			}
			scalesH |= lHigh << (2 * (ib % 8))
		}
		y[2] = uint8(scalesH)
		y[3] = uint8(scalesH >> 8)
		for k := 0; k < QK_K/32; k++ {
			packIQ4(L[32*k:], y[8+16*k:])
		}
	}
}
