//go:build amd64 && !noasm

package kernels

// Go declarations of vec_amd64.s.

//go:noescape
func quantizeQ8_0AVX512(x *float32, dst *byte, nb int)

//go:noescape
func swigluAVX512(dst, gate, up *float32, n int)

func init() {
	registerVec(vecImpl{
		level: LevelAVX512,
		name:  "avx512",
		quantQ8_0: func(x []float32, dst []byte) {
			nb := len(x) / 32
			if nb == 0 {
				return
			}
			_ = dst[nb*34-1]
			quantizeQ8_0AVX512(&x[0], &dst[0], nb)
		},
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
