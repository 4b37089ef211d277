//go:build amd64 && !noasm

package kernels

// Go declarations of attention_tiled_amd64.s.

//go:noescape
func tiledScoresAVX512(q *float32, kt *float32, hd int, scale float32, x *float32)

//go:noescape
func tiledScores2AVX512(q *float32, kt *float32, hd int, scale float32, x *float32)

//go:noescape
func tiledSoftmaxAVX512(x *float32, m float32, e *float32) float64

//go:noescape
func tiledMaskMaxAVX512(x *float32, lim int) float32

//go:noescape
func tiledAccAVX512(acc *float32, w *float32, vt *float32, hd int, cnt int)

//go:noescape
func tiledAcc2AVX512(acc0, acc1, w0, w1, vt *float32, hd int, cnt int)

//go:noescape
func tiledScoresAVX2(q *float32, kt *float32, hd int, scale float32, x *float32)

//go:noescape
func tiledSoftmaxAVX2(x *float32, m float32, e *float32) float64

//go:noescape
func tiledAccAVX2(acc *float32, w *float32, vt *float32, hd int, cnt int)

func init() {
	// AVX2: the dot products, the exponentials and the accumulation in
	// assembly, the maximum and the packing in Go.
	registerTiled(tiledImpl{
		level: LevelAVX2,
		name:  "avx2",
		scores: func(q, kt []float32, scale float32, x []float32) {
			hd := len(q)
			_, _ = kt[hd*TileKV-1], x[TileKV-1]
			tiledScoresAVX2(&q[0], &kt[0], hd, scale, &x[0])
		},
		acc: func(acc, w, vt []float32) {
			hd := len(acc)
			_ = vt[len(w)*hd-1]
			tiledAccAVX2(&acc[0], &w[0], &vt[0], hd, len(w))
		},
		softmax: func(x []float32, m float32, e []float32) float64 {
			_, _ = x[TileKV-1], e[TileKV-1]
			return tiledSoftmaxAVX2(&x[0], m, &e[0])
		},
		maskMax: tiledMaskMaxGeneric,
		packK:   tiledPackKGeneric,
		packV:   tiledPackVGeneric,
	})
	registerTiled(tiledImpl{
		level: LevelAVX512,
		name:  "avx512",
		scores: func(q, kt []float32, scale float32, x []float32) {
			hd := len(q)
			_, _ = kt[hd*TileKV-1], x[TileKV-1]
			tiledScoresAVX512(&q[0], &kt[0], hd, scale, &x[0])
		},
		scores2: func(q, kt []float32, scale float32, x []float32) {
			hd := len(q) / 2
			_, _ = kt[hd*TileKV-1], x[2*TileKV-1]
			tiledScores2AVX512(&q[0], &kt[0], hd, scale, &x[0])
		},
		softmax: func(x []float32, m float32, e []float32) float64 {
			_, _ = x[TileKV-1], e[TileKV-1]
			return tiledSoftmaxAVX512(&x[0], m, &e[0])
		},
		maskMax: func(x []float32, lim int) float32 {
			_ = x[TileKV-1]
			return tiledMaskMaxAVX512(&x[0], lim)
		},
		acc: func(acc, w, vt []float32) {
			hd := len(acc)
			_ = vt[len(w)*hd-1]
			tiledAccAVX512(&acc[0], &w[0], &vt[0], hd, len(w))
		},
		acc2: func(acc0, acc1, w0, w1, vt []float32) {
			hd := len(acc0)
			_, _, _ = acc1[hd-1], w1[len(w0)-1], vt[len(w0)*hd-1]
			tiledAcc2AVX512(&acc0[0], &acc1[0], &w0[0], &w1[0], &vt[0], hd, len(w0))
		},
		packK: func(kv Type, k []byte, stride, cnt, hd int, kt []float32) {
			rb := 2 * hd
			if kv == F32 {
				rb = 4 * hd
			}
			_, _ = k[(cnt-1)*stride+rb-1], kt[(hd-1)*TileKV+cnt-1]
			if kv == F16 {
				tiledPackKF16AVX512(&k[0], stride, cnt, hd, &kt[0])
			} else {
				tiledPackKF32AVX512(&k[0], stride, cnt, hd, &kt[0])
			}
		},
		packV: func(kv Type, v []byte, stride, cnt, hd int, vt []float32) {
			if kv != F16 {
				tiledPackVGeneric(kv, v, stride, cnt, hd, vt)
				return
			}
			_, _ = v[(cnt-1)*stride+2*hd-1], vt[cnt*hd-1]
			tiledPackVF16AVX512(&v[0], stride, cnt, hd, &vt[0])
		},
	})
}

//go:noescape
func tiledPackKF16AVX512(k *byte, stride, cnt, hd int, kt *float32)

//go:noescape
func tiledPackKF32AVX512(k *byte, stride, cnt, hd int, kt *float32)

//go:noescape
func tiledPackVF16AVX512(v *byte, stride, cnt, hd int, vt *float32)
