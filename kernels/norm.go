package kernels

import "math"

// RMSNorm sets dst[i] = x[i] * scale * weight[i] with scale =
// 1/sqrt(mean(x²) + eps), as ggml's rms_norm followed by the mul by the norm
// weight (which llama.cpp fuses): the squares are float32 products summed in
// float64, the mean is rounded to float32, the scale is computed in float32,
// and x*scale is rounded before the multiplication by the weight. A nil
// weight gives the plain norm. dst may alias x.
func RMSNorm(dst, x, weight []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v * v)
	}
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	if weight == nil {
		for i, v := range x {
			dst[i] = v * scale
		}
		return
	}
	for i, v := range x {
		dst[i] = float32(v*scale) * weight[i]
	}
}
