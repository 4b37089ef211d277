package kernels

import "math"

// Softmax replaces x by softmax(x), as ggml's soft_max (without mask or
// scale): subtract the maximum, exponentiate in float32, sum in float64, and
// multiply by the float32-rounded reciprocal of the sum. Entries of -Inf
// (masked) become 0.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		e := expf(v - m)
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}
