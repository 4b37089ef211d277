//go:build amd64 && !noasm

package kernels

// The AVX2 tiles of tinyblas_avx2_amd64.s: 2 weight rows × 1..3 tokens per
// call, in the AVX-512 machine's 16-lane order (pagoda mirrors the
// reference machine at every level, so AVX2 does not take llama.cpp's
// 8-lane AVX2 order). Strides are in bytes.

//go:noescape
func tinyTileF32x1AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileF32x2AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileF32x3AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileF16x1AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileF16x2AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileF16x3AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileBF16x1AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileBF16x2AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

//go:noescape
func tinyTileBF16x3AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

type tinyAsm2 func(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)

var (
	tinyF32AVX2  = [4]tinyAsm2{nil, tinyTileF32x1AVX2, tinyTileF32x2AVX2, tinyTileF32x3AVX2}
	tinyF16AVX2  = [4]tinyAsm2{nil, tinyTileF16x1AVX2, tinyTileF16x2AVX2, tinyTileF16x3AVX2}
	tinyBF16AVX2 = [4]tinyAsm2{nil, tinyTileBF16x1AVX2, tinyTileBF16x2AVX2, tinyTileBF16x3AVX2}
)

func init() {
	registerTiny(tinyImpl{level: LevelAVX2, name: "avx2 2×3 tiles (16-lane order)",
		f32: func(k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, _ []byte) {
			tinyTileAVX2(&tinyF32AVX2, 4, k, a, lda, b, ldb, rn, c, ldc)
		},
		f16: func(k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, _ []byte) {
			tinyTileAVX2(&tinyF16AVX2, 2, k, a, lda, b, ldb, rn, c, ldc)
		},
		bf16: func(k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, _ []byte) {
			tinyTileAVX2(&tinyBF16AVX2, 2, k, a, lda, b, ldb, rn, c, ldc)
		},
	})
}

// tinyTileAVX2 runs a 4-row tile as 2-row × 3-token assembly tiles after
// checking that the slices cover it (es bytes per weight).
func tinyTileAVX2(fns *[4]tinyAsm2, es, k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int) {
	if k <= 0 || k%tinyBLASLanes != 0 || rn < 1 || rn > tinyTokens {
		panic("kernels: tinyTileAVX2: bad tile shape")
	}
	_ = a[es*(3*lda+k)-1]
	_ = b[(rn-1)*ldb+k-1]
	_ = c[(rn-1)*ldc+3]
	for i := 0; i < 4; i += 2 {
		for j := 0; j < rn; j += 3 {
			fns[min(3, rn-j)](&a[es*i*lda], es*lda, &b[j*ldb], 4*ldb, k, &c[j*ldc+i], 4*ldc)
		}
	}
}
