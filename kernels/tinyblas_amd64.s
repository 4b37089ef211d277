//go:build amd64 && !noasm

#include "textflag.h"

// tinyBLAS tiles at AVX-512 (tinyblas.go): 4 weight rows (float32, or
// F16/BF16 widened on load) × rn activation rows of float32, one 16-lane
// accumulator per output (token j and weight row i in Z(4j+i)), one FMA
// per 16 columns in order, then _mm512_reduce_add_ps's tree for each
// accumulator. The weight rows of a k-step sit in Z24..Z27 and each
// token's 16 values in Z28. One function per (type, rn), built from these
// macros.

// LOADA loads 16 columns of the four float32 weight rows, LOADH those of
// four F16 rows (widened exactly).
#define LOADA \
	VMOVUPS (SI), Z24       \
	VMOVUPS (SI)(R8*1), Z25 \
	VMOVUPS (SI)(R8*2), Z26 \
	VMOVUPS (R11), Z27

#define LOADH \
	VCVTPH2PS (SI), Z24       \
	VCVTPH2PS (SI)(R8*1), Z25 \
	VCVTPH2PS (SI)(R8*2), Z26 \
	VCVTPH2PS (R11), Z27

// LOADB widens four bfloat16 rows (zero-extend, shift into the high half).
#define LOADB \
	VPMOVZXWD (SI), Z24       \
	VPMOVZXWD (SI)(R8*1), Z25 \
	VPMOVZXWD (SI)(R8*2), Z26 \
	VPMOVZXWD (R11), Z27      \
	VPSLLD    $16, Z24, Z24   \
	VPSLLD    $16, Z25, Z25   \
	VPSLLD    $16, Z26, Z26   \
	VPSLLD    $16, Z27, Z27

// FMAB multiplies 16 columns of one token (at src) into its four
// accumulators.
#define FMAB(src, z0, z1, z2, z3) \
	VMOVUPS     src, Z28      \
	VFMADD231PS Z24, Z28, z0  \
	VFMADD231PS Z25, Z28, z1  \
	VFMADD231PS Z26, Z28, z2  \
	VFMADD231PS Z27, Z28, z3

#define ZERO4(z0, z1, z2, z3) \
	VXORPS z0, z0, z0 \
	VXORPS z1, z1, z1 \
	VXORPS z2, z2, z2 \
	VXORPS z3, z3, z3

// ADVANCE moves to the next 16 columns; wa is the weight bytes per 16.
#define ADVANCE(wa) \
	ADDQ $wa, SI  \
	ADDQ $wa, R11 \
	ADDQ $64, DI  \
	ADDQ $64, R10 \
	SUBQ $16, CX

// REDUCE4 reduces one token's four accumulators, each by
// _mm512_reduce_add_ps's tree (upper 256 + lower 256, upper 128 + lower
// 128, then (0+2) + (1+3)), four at once in transposed lanes, and stores
// the four sums at (AX), then moves AX to the next token's outputs. K1
// selects lane 0 of each 128-bit lane. Clobbers Z28..Z31.
#define REDUCE4(z0, z1, z2, z3) \
	VSHUFF64X2  $0x44, z1, z0, Z28  \
	VSHUFF64X2  $0xEE, z1, z0, Z29  \
	VADDPS      Z29, Z28, Z28       \
	VSHUFF64X2  $0x44, z3, z2, Z29  \
	VSHUFF64X2  $0xEE, z3, z2, Z30  \
	VADDPS      Z30, Z29, Z29       \
	VSHUFF32X4  $0x88, Z29, Z28, Z30 \
	VSHUFF32X4  $0xDD, Z29, Z28, Z31 \
	VADDPS      Z31, Z30, Z30       \
	VPERMILPS   $0x4E, Z30, Z31     \
	VADDPS      Z31, Z30, Z30       \
	VMOVSHDUP   Z30, Z31            \
	VADDPS      Z31, Z30, Z30       \
	VCOMPRESSPS Z30, K1, Z31        \
	VMOVUPS     X31, (AX)           \
	ADDQ        DX, AX

// func tinyTileF32x1AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF32x1AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)

loop:
	LOADA
	FMAB((DI), Z0, Z1, Z2, Z3)
	ADVANCE(64)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	VZEROUPPER
	RET

// func tinyTileF32x2AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF32x2AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)

loop:
	LOADA
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	ADVANCE(64)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	VZEROUPPER
	RET

// func tinyTileF32x3AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF32x3AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)

loop:
	LOADA
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	ADVANCE(64)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	VZEROUPPER
	RET

// func tinyTileF32x4AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF32x4AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)

loop:
	LOADA
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	ADVANCE(64)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET

// func tinyTileF32x5AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF32x5AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)

loop:
	LOADA
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	FMAB((R10)(BX*1), Z16, Z17, Z18, Z19)
	ADVANCE(64)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	REDUCE4(Z16, Z17, Z18, Z19)
	VZEROUPPER
	RET

// func tinyTileF32x6AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF32x6AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)
	ZERO4(Z20, Z21, Z22, Z23)

loop:
	LOADA
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	FMAB((R10)(BX*1), Z16, Z17, Z18, Z19)
	FMAB((R10)(BX*2), Z20, Z21, Z22, Z23)
	ADVANCE(64)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	REDUCE4(Z16, Z17, Z18, Z19)
	REDUCE4(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// func tinyTileF16x1AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF16x1AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)

loop:
	LOADH
	FMAB((DI), Z0, Z1, Z2, Z3)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	VZEROUPPER
	RET

// func tinyTileF16x2AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF16x2AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)

loop:
	LOADH
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	VZEROUPPER
	RET

// func tinyTileF16x3AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF16x3AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)

loop:
	LOADH
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	VZEROUPPER
	RET

// func tinyTileF16x4AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF16x4AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)

loop:
	LOADH
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET

// func tinyTileF16x5AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF16x5AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)

loop:
	LOADH
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	FMAB((R10)(BX*1), Z16, Z17, Z18, Z19)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	REDUCE4(Z16, Z17, Z18, Z19)
	VZEROUPPER
	RET

// func tinyTileF16x6AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileF16x6AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)
	ZERO4(Z20, Z21, Z22, Z23)

loop:
	LOADH
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	FMAB((R10)(BX*1), Z16, Z17, Z18, Z19)
	FMAB((R10)(BX*2), Z20, Z21, Z22, Z23)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	REDUCE4(Z16, Z17, Z18, Z19)
	REDUCE4(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// func tinyTileBF16x1AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileBF16x1AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)

loop:
	LOADB
	FMAB((DI), Z0, Z1, Z2, Z3)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	VZEROUPPER
	RET

// func tinyTileBF16x2AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileBF16x2AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)

loop:
	LOADB
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	VZEROUPPER
	RET

// func tinyTileBF16x3AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileBF16x3AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)

loop:
	LOADB
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	VZEROUPPER
	RET

// func tinyTileBF16x4AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileBF16x4AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)

loop:
	LOADB
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET

// func tinyTileBF16x5AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileBF16x5AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)

loop:
	LOADB
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	FMAB((R10)(BX*1), Z16, Z17, Z18, Z19)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	REDUCE4(Z16, Z17, Z18, Z19)
	VZEROUPPER
	RET

// func tinyTileBF16x6AVX512(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int, pf *byte, pfn int)
// Strides in bytes; k a positive multiple of 16. First prefetches pfn
// cache lines from pf into L2 (the next weight block).
TEXT ·tinyTileBF16x6AVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	LEAQ (SI)(R8*2), R11
	ADDQ R8, R11
	LEAQ (DI)(BX*2), R10
	ADDQ BX, R10
	MOVQ pf+56(FP), AX
	MOVQ pfn+64(FP), DX
	TESTQ DX, DX
	JZ   nopf

pfloop:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	DECQ DX
	JNZ  pfloop

nopf:
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)
	ZERO4(Z20, Z21, Z22, Z23)

loop:
	LOADB
	FMAB((DI), Z0, Z1, Z2, Z3)
	FMAB((DI)(BX*1), Z4, Z5, Z6, Z7)
	FMAB((DI)(BX*2), Z8, Z9, Z10, Z11)
	FMAB((R10), Z12, Z13, Z14, Z15)
	FMAB((R10)(BX*1), Z16, Z17, Z18, Z19)
	FMAB((R10)(BX*2), Z20, Z21, Z22, Z23)
	ADVANCE(32)
	JNZ loop

	MOVQ  c+40(FP), AX
	MOVQ  ldc+48(FP), DX
	MOVL  $0x1111, R9
	KMOVW R9, K1
	REDUCE4(Z0, Z1, Z2, Z3)
	REDUCE4(Z4, Z5, Z6, Z7)
	REDUCE4(Z8, Z9, Z10, Z11)
	REDUCE4(Z12, Z13, Z14, Z15)
	REDUCE4(Z16, Z17, Z18, Z19)
	REDUCE4(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET
