//go:build amd64 && !noasm

package kernels

// Go declarations of vec_amd64.s.

//go:noescape
func quantizeQ8_0AVX512(x *float32, dst *byte, nb int)

//go:noescape
func swigluAVX512(dst, gate, up *float32, n int)

//go:noescape
func quantizeQ8SumAVX512(x *float32, dst *byte, nb int)

//go:noescape
func quantizeQ8Ext128AVX512(x *float32, dst *byte, nb int)

// blocksOf wraps a kernel that quantizes nb 32-float blocks into bb-byte
// blocks after checking the bounds.
func blocksOf(bb int, k func(x *float32, dst *byte, nb int)) func(x []float32, dst []byte) {
	return func(x []float32, dst []byte) {
		nb := len(x) / 32
		if nb == 0 {
			return
		}
		_ = dst[nb*bb-1]
		k(&x[0], &dst[0], nb)
	}
}

func init() {
	registerVec(vecImpl{
		level:         LevelAVX512,
		name:          "avx512",
		quantQ8_0:     blocksOf(34, quantizeQ8_0AVX512),
		quantQ8Sum:    blocksOf(q8SumBytes, quantizeQ8SumAVX512),
		quantQ8Ext128: blocksOf(q8ExtBytes, quantizeQ8Ext128AVX512),
		swiglu: func(dst, gate, up []float32) {
			n := len(dst) / 16 * 16
			if n == 0 {
				return
			}
			_, _ = gate[n-1], up[n-1]
			swigluAVX512(&dst[0], &gate[0], &up[0], n)
		},
	})
}
