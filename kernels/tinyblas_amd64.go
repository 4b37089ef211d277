//go:build amd64 && !noasm

package kernels

// The AVX-512 tiles of tinyblas_amd64.s, one per weight type (F32, F16,
// BF16) and token count. Strides are in bytes.

//go:noescape
func tinyTileF32x1AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF32x2AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF32x3AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF32x4AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF32x5AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF32x6AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF16x1AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF16x2AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF16x3AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF16x4AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF16x5AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileF16x6AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileBF16x1AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileBF16x2AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileBF16x3AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileBF16x4AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileBF16x5AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

//go:noescape
func tinyTileBF16x6AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

type tinyAsm func(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)

var (
	tinyF32AVX512 = [tinyTokens + 1]tinyAsm{nil, tinyTileF32x1AVX512, tinyTileF32x2AVX512,
		tinyTileF32x3AVX512, tinyTileF32x4AVX512, tinyTileF32x5AVX512, tinyTileF32x6AVX512}
	tinyF16AVX512 = [tinyTokens + 1]tinyAsm{nil, tinyTileF16x1AVX512, tinyTileF16x2AVX512,
		tinyTileF16x3AVX512, tinyTileF16x4AVX512, tinyTileF16x5AVX512, tinyTileF16x6AVX512}
	tinyBF16AVX512 = [tinyTokens + 1]tinyAsm{nil, tinyTileBF16x1AVX512, tinyTileBF16x2AVX512,
		tinyTileBF16x3AVX512, tinyTileBF16x4AVX512, tinyTileBF16x5AVX512, tinyTileBF16x6AVX512}
)

func init() {
	registerTiny(tinyImpl{level: LevelAVX512, name: "avx512 4×6 tiles",
		f32: func(k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, pf []byte) {
			tinyTileAVX512(&tinyF32AVX512, 4, k, a, lda, b, ldb, rn, c, ldc, pf)
		},
		f16: func(k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, pf []byte) {
			tinyTileAVX512(&tinyF16AVX512, 2, k, a, lda, b, ldb, rn, c, ldc, pf)
		},
		bf16: func(k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, pf []byte) {
			tinyTileAVX512(&tinyBF16AVX512, 2, k, a, lda, b, ldb, rn, c, ldc, pf)
		},
	})
}

// tinyTileAVX512 checks that the slices cover the tile (es bytes per
// weight), then runs the assembly. A prefetch never faults, so the last
// line of pf may reach past its end.
func tinyTileAVX512(fns *[tinyTokens + 1]tinyAsm, es, k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, pf []byte) {
	if k <= 0 || k%tinyBLASLanes != 0 || rn < 1 || rn > tinyTokens {
		panic("kernels: tinyTileAVX512: bad tile shape")
	}
	_ = a[es*(3*lda+k)-1]
	_ = b[(rn-1)*ldb+k-1]
	_ = c[(rn-1)*ldc+3]
	var pp *byte
	if len(pf) > 0 {
		pp = &pf[0]
	}
	fns[rn](&a[0], es*lda, &b[0], 4*ldb, k, &c[0], 4*ldc, pp, (len(pf)+63)/64)
}
