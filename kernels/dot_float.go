package kernels

import "encoding/binary"

// The float dot products follow ggml's scalar paths (ggml_vec_dot_f32/f16/
// bf16 without GGML_SIMD): each product is rounded to float32 and the sum is
// carried in float64. For F16 and BF16 the float32 product of two widened
// halves is exact, so only the final rounding differs from an exact dot.

// dotF32 follows ggml_vec_dot_f32 on AVX-512 (the reference build): four
// 16-lane FMA accumulators over each 64 values, folded (0+2, 1+3, 0+1) and
// reduced with _mm512_reduce_add_ps's tree, then the leftovers fused into
// the float32 sum one by one.
func dotF32(n int, w, a []byte) float32 {
	np := n &^ 63
	var acc [4][16]float32
	for i := 0; i < np; i += 64 {
		for j := range acc {
			for l := range acc[j] {
				k := i + 16*j + l
				acc[j][l] = fmaf(loadF32(w[4*k:]), loadF32(a[4*k:]), acc[j][l])
			}
		}
	}
	sum := fold4x16(&acc)
	for i := np; i < n; i++ {
		sum = fmaf(loadF32(w[4*i:]), loadF32(a[4*i:]), sum)
	}
	return sum
}

// dotF16 follows ggml_vec_dot_f16 on AVX-512 without FP16 arithmetic: the
// same four 16-lane accumulators as dotF32 over each 64 values (products of
// halves are exact in float32), then the leftover products added in float64.
func dotF16(n int, w, a []byte) float32 {
	np := n &^ 63
	var acc [4][16]float32
	for i := 0; i < np; i += 64 {
		for j := range acc {
			for l := range acc[j] {
				k := i + 16*j + l
				acc[j][l] += loadHalf(w[2*k:]) * loadHalf(a[2*k:])
			}
		}
	}
	sum := float64(fold4x16(&acc))
	for i := np; i < n; i++ {
		sum += float64(loadHalf(w[2*i:]) * loadHalf(a[2*i:]))
	}
	return float32(sum)
}

// fold4x16 is GGML_F32x16_REDUCE: acc0+acc2, acc1+acc3, then their sum,
// then _mm512_reduce_add_ps.
func fold4x16(acc *[4][16]float32) float32 {
	var v [16]float32
	for l := range v {
		v[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l])
	}
	return reduceAdd16(&v)
}

// dotBF16 follows ggml_vec_dot_bf16 on AVX-512F (the reference build):
// two 16-lane accumulators over 32 values per step (products of bfloat16s
// are exact in float32, so each lane adds them in order), each reduced with
// _mm512_reduce_add_ps's tree and summed in float64 with the leftovers.
func dotBF16(n int, w, a []byte) float32 {
	var c1, c2 [16]float32
	i := 0
	for ; i+32 <= n; i += 32 {
		for l := range 16 {
			// The products are rounded before the add (mul, then add,
			// as ggml's source writes it), however Go may fuse.
			c1[l] += float32(bf16At(w, i+l) * bf16At(a, i+l))
			c2[l] += float32(bf16At(w, i+16+l) * bf16At(a, i+16+l))
		}
	}
	sum := float64(reduceAdd16(&c1)) + float64(reduceAdd16(&c2))
	for ; i < n; i++ {
		sum += float64(bf16At(w, i) * bf16At(a, i))
	}
	return float32(sum)
}

func bf16At(b []byte, i int) float32 {
	return BF16ToFP32(binary.LittleEndian.Uint16(b[2*i:]))
}

// reduceAdd16 sums 16 lanes in the order of gcc's _mm512_reduce_add_ps:
// halves of 8, then of 4, then (0+2)+(1+3).
func reduceAdd16(v *[16]float32) float32 {
	var t8 [8]float32
	for i := range t8 {
		t8[i] = v[i+8] + v[i]
	}
	var t4 [4]float32
	for i := range t4 {
		t4[i] = t8[i+4] + t8[i]
	}
	return (t4[0] + t4[2]) + (t4[1] + t4[3])
}
