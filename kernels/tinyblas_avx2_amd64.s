//go:build amd64 && !noasm

#include "textflag.h"

// tinyBLAS tiles at AVX2 (tinyblas.go): the AVX-512 reference machine's
// order with 8-lane registers. Each output's 16-lane accumulator is a pair
// of ymm (lanes 0-7 and 8-15); reducing it as _mm512_reduce_add_ps does
// starts with adding the pair, then continues as hsum_float_8. A tile is
// 2 weight rows (Y12/Y13, Y14/Y15: low/high halves of 16 columns) × up to
// 3 tokens, accumulator (token j, row i) in Y(4j+2i) and Y(4j+2i+1); the
// tokens' values are FMA memory operands.

#define LOADA2 \
	VMOVUPS (SI), Y12         \
	VMOVUPS 32(SI), Y13       \
	VMOVUPS (SI)(R8*1), Y14   \
	VMOVUPS 32(SI)(R8*1), Y15

#define LOADH2 \
	VCVTPH2PS (SI), Y12         \
	VCVTPH2PS 16(SI), Y13       \
	VCVTPH2PS (SI)(R8*1), Y14   \
	VCVTPH2PS 16(SI)(R8*1), Y15

#define LOADB2 \
	VPMOVZXWD (SI), Y12         \
	VPMOVZXWD 16(SI), Y13       \
	VPMOVZXWD (SI)(R8*1), Y14   \
	VPMOVZXWD 16(SI)(R8*1), Y15 \
	VPSLLD    $16, Y12, Y12     \
	VPSLLD    $16, Y13, Y13     \
	VPSLLD    $16, Y14, Y14     \
	VPSLLD    $16, Y15, Y15

// FMA2(lo, hi, a0, a1, b0, b1): one token's 16 values (lo, hi memory
// operands) into its two rows' accumulators.
#define FMA2(lo, hi, a0, a1, b0, b1) \
	VFMADD231PS lo, Y12, a0 \
	VFMADD231PS hi, Y13, a1 \
	VFMADD231PS lo, Y14, b0 \
	VFMADD231PS hi, Y15, b1

// RED16(ylo, xlo, yhi, off): _mm512_reduce_add_ps of the pair, stored at
// off(AX). Clobbers X12.
#define RED16(ylo, xlo, yhi, off) \
	VADDPS       yhi, ylo, ylo \
	VEXTRACTF128 $1, ylo, X12  \
	VADDPS       xlo, X12, xlo \
	VMOVHLPS     xlo, xlo, X12 \
	VADDPS       X12, xlo, xlo \
	VMOVSHDUP    xlo, X12      \
	VADDSS       X12, xlo, xlo \
	MOVSS        xlo, off(AX)

// func tinyTileF32x1AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 1 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileF32x1AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop:
	LOADA2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	VZEROUPPER
	RET

// func tinyTileF32x2AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 2 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileF32x2AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop:
	LOADA2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	FMA2((DI)(BX*1), 32(DI)(BX*1), Y4, Y5, Y6, Y7)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	ADDQ DX, AX
	RED16(Y4, X4, Y5, 0)
	RED16(Y6, X6, Y7, 4)
	VZEROUPPER
	RET

// func tinyTileF32x3AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 3 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileF32x3AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop:
	LOADA2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	FMA2((DI)(BX*1), 32(DI)(BX*1), Y4, Y5, Y6, Y7)
	FMA2((DI)(BX*2), 32(DI)(BX*2), Y8, Y9, Y10, Y11)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	ADDQ DX, AX
	RED16(Y4, X4, Y5, 0)
	RED16(Y6, X6, Y7, 4)
	ADDQ DX, AX
	RED16(Y8, X8, Y9, 0)
	RED16(Y10, X10, Y11, 4)
	VZEROUPPER
	RET

// func tinyTileF16x1AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 1 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileF16x1AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop:
	LOADH2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	VZEROUPPER
	RET

// func tinyTileF16x2AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 2 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileF16x2AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop:
	LOADH2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	FMA2((DI)(BX*1), 32(DI)(BX*1), Y4, Y5, Y6, Y7)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	ADDQ DX, AX
	RED16(Y4, X4, Y5, 0)
	RED16(Y6, X6, Y7, 4)
	VZEROUPPER
	RET

// func tinyTileF16x3AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 3 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileF16x3AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop:
	LOADH2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	FMA2((DI)(BX*1), 32(DI)(BX*1), Y4, Y5, Y6, Y7)
	FMA2((DI)(BX*2), 32(DI)(BX*2), Y8, Y9, Y10, Y11)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	ADDQ DX, AX
	RED16(Y4, X4, Y5, 0)
	RED16(Y6, X6, Y7, 4)
	ADDQ DX, AX
	RED16(Y8, X8, Y9, 0)
	RED16(Y10, X10, Y11, 4)
	VZEROUPPER
	RET

// func tinyTileBF16x1AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 1 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileBF16x1AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop:
	LOADB2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	VZEROUPPER
	RET

// func tinyTileBF16x2AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 2 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileBF16x2AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop:
	LOADB2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	FMA2((DI)(BX*1), 32(DI)(BX*1), Y4, Y5, Y6, Y7)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	ADDQ DX, AX
	RED16(Y4, X4, Y5, 0)
	RED16(Y6, X6, Y7, 4)
	VZEROUPPER
	RET

// func tinyTileBF16x3AVX2(a *byte, lda int, b *float32, ldb int, k int, c *float32, ldc int)
// 2 weight rows × 3 tokens; strides in bytes; k a positive multiple of 16.
TEXT ·tinyTileBF16x3AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ k+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop:
	LOADB2
	FMA2((DI), 32(DI), Y0, Y1, Y2, Y3)
	FMA2((DI)(BX*1), 32(DI)(BX*1), Y4, Y5, Y6, Y7)
	FMA2((DI)(BX*2), 32(DI)(BX*2), Y8, Y9, Y10, Y11)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	MOVQ c+40(FP), AX
	MOVQ ldc+48(FP), DX
	RED16(Y0, X0, Y1, 0)
	RED16(Y2, X2, Y3, 4)
	ADDQ DX, AX
	RED16(Y4, X4, Y5, 0)
	RED16(Y6, X6, Y7, 4)
	ADDQ DX, AX
	RED16(Y8, X8, Y9, 0)
	RED16(Y10, X10, Y11, 4)
	VZEROUPPER
	RET
