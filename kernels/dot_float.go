package kernels

import "encoding/binary"

// The float dot products follow ggml's scalar paths (ggml_vec_dot_f32/f16/
// bf16 without GGML_SIMD): each product is rounded to float32 and the sum is
// carried in float64. For F16 and BF16 the float32 product of two widened
// halves is exact, so only the final rounding differs from an exact dot.

func dotF32(n int, w, a []byte) float32 {
	var sum float64
	for i := 0; i < n; i++ {
		sum += float64(loadF32(w[4*i:]) * loadF32(a[4*i:]))
	}
	return float32(sum)
}

func dotF16(n int, w, a []byte) float32 {
	var sum float64
	for i := 0; i < n; i++ {
		x := FP16ToFP32(binary.LittleEndian.Uint16(w[2*i:]))
		y := FP16ToFP32(binary.LittleEndian.Uint16(a[2*i:]))
		sum += float64(x * y)
	}
	return float32(sum)
}

func dotBF16(n int, w, a []byte) float32 {
	var sum float64
	for i := 0; i < n; i++ {
		x := BF16ToFP32(binary.LittleEndian.Uint16(w[2*i:]))
		y := BF16ToFP32(binary.LittleEndian.Uint16(a[2*i:]))
		sum += float64(x * y)
	}
	return float32(sum)
}
