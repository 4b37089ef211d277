//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// Dot products of one weight row with one activation row, AVX2 (+FMA,
// F16C) and AVX-512 VNNI (256-bit VPDPBUSD). The float reductions follow
// llama.cpp's x86 kernels (ggml-cpu/arch/x86/quants.c): eight float lanes,
// acc = fma(d, float(lane), acc) once per block, then hsum_float_8.

// func dotQ8_0AVX2(x, y *byte, nb int) float32
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	ONES16(Y15)
	TESTQ CX, CX
	JZ    q80AVX2done

q80AVX2loop:
	BLOCKSCALE
	VMOVDQU 2(SI), Y2
	VMOVDQU 2(DI), Y3
	MULSUM_AVX2
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q80AVX2loop

q80AVX2done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ4_0AVX2(x, y *byte, nb int) float32
TEXT ·dotQ4_0AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	ONES16(Y15)
	BYTES(0x0f0f0f0f, Y14)
	BYTES(0x08080808, Y13)
	TESTQ CX, CX
	JZ    q40AVX2done

q40AVX2loop:
	BLOCKSCALE
	// bytes_from_nibbles_32: low nibbles in the low half, high in the high.
	VMOVDQU     2(SI), X2
	VPSRLW      $4, X2, X3
	VINSERTI128 $1, X3, Y2, Y2
	VPAND       Y14, Y2, Y2
	VPSUBB      Y13, Y2, Y2
	VMOVDQU     2(DI), Y3
	MULSUM_AVX2
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q40AVX2loop

q40AVX2done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ8_0VNNI(x, y *byte, nb int) float32
TEXT ·dotQ8_0VNNI(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	ONES16(Y15)
	TESTQ CX, CX
	JZ    q80VNNIdone

q80VNNIloop:
	BLOCKSCALE
	VMOVDQU 2(SI), Y2
	VMOVDQU 2(DI), Y3
	MULSUM_VNNI
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q80VNNIloop

q80VNNIdone:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ4_0VNNI(x, y *byte, nb int) float32
TEXT ·dotQ4_0VNNI(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	ONES16(Y15)
	BYTES(0x0f0f0f0f, Y14)
	BYTES(0x08080808, Y13)
	TESTQ CX, CX
	JZ    q40VNNIdone

q40VNNIloop:
	BLOCKSCALE
	// bytes_from_nibbles_32: low nibbles in the low half, high in the high.
	VMOVDQU     2(SI), X2
	VPSRLW      $4, X2, X3
	VINSERTI128 $1, X3, Y2, Y2
	VPAND       Y14, Y2, Y2
	VPSUBB      Y13, Y2, Y2
	VMOVDQU     2(DI), Y3
	MULSUM_VNNI
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q40VNNIloop

q40VNNIdone:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ4_KAVX2(x, y *byte, nb int) float32
//
// As ggml_vec_dot_q4_K_q8_K's AVX2 path: per super-block an int32 lane sum
// of scale*q4*q8 scaled by d = y.d*x.d into eight float lanes, and the
// minimum terms madd(mins, pair sums of bsums) scaled by dmin = -y.d*x.dmin
// into four more.
TEXT ·dotQ4_KAVX2(SB), NOSPLIT, $16-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X12, X12, X12
	BYTES(0x0f0f0f0f, Y14)
	MOVL  $0x80000000, AX
	VMOVD AX, X11
	TESTQ CX, CX
	JZ    q4kdone

q4kloop:
	MOVL         (SI), AX
	VMOVD        AX, X1
	VCVTPH2PS    X1, X1
	VBROADCASTSS (DI), X2
	VMULPS       X1, X2, X1
	VBROADCASTSS X1, Y3
	VMOVSHDUP    X1, X4
	VXORPS       X11, X4, X4
	VBROADCASTSS X4, X4

	// Unpack the 12 scale bytes into 8 scales (AX, R11) and 8 mins (R10, R8).
	MOVL  4(SI), AX
	MOVL  8(SI), BX
	MOVL  12(SI), DX
	MOVL  DX, R8
	SHRL  $4, R8
	ANDL  $0x0f0f0f0f, R8
	MOVL  BX, R9
	SHRL  $6, R9
	ANDL  $0x03030303, R9
	SHLL  $4, R9
	ORL   R9, R8
	MOVL  BX, R10
	ANDL  $0x3f3f3f3f, R10
	MOVL  DX, R11
	ANDL  $0x0f0f0f0f, R11
	MOVL  AX, R9
	SHRL  $6, R9
	ANDL  $0x03030303, R9
	SHLL  $4, R9
	ORL   R9, R11
	ANDL  $0x3f3f3f3f, AX
	SHLQ  $32, R11
	ORQ   R11, AX
	SHLQ  $32, R8
	ORQ   R8, R10
	MOVQ  AX, X5
	VPMOVZXBW X5, X5
	VMOVDQU   X5, 0(SP)
	MOVQ  R10, X6
	VPMOVZXBW X6, X6

	VMOVDQU     260(DI), X7
	VMOVDQU     276(DI), X8
	VPHADDW     X8, X7, X7
	VPMADDWD    X7, X6, X6
	VCVTDQ2PS   X6, X6
	VFMADD231PS X6, X4, X12

	VPXOR Y10, Y10, Y10
	VMOVDQU      16(SI), Y6
	VPSRLW       $4, Y6, Y7
	VPAND        Y14, Y6, Y6
	VPAND        Y14, Y7, Y7
	VPMADDUBSW   4(DI), Y6, Y6
	VPMADDUBSW   36(DI), Y7, Y7
	VPBROADCASTW 0(SP), Y8
	VPBROADCASTW 2(SP), Y9
	VPMADDWD     Y8, Y6, Y6
	VPMADDWD     Y9, Y7, Y7
	VPADDD       Y7, Y6, Y6
	VPADDD       Y6, Y10, Y10
	VMOVDQU      48(SI), Y6
	VPSRLW       $4, Y6, Y7
	VPAND        Y14, Y6, Y6
	VPAND        Y14, Y7, Y7
	VPMADDUBSW   68(DI), Y6, Y6
	VPMADDUBSW   100(DI), Y7, Y7
	VPBROADCASTW 4(SP), Y8
	VPBROADCASTW 6(SP), Y9
	VPMADDWD     Y8, Y6, Y6
	VPMADDWD     Y9, Y7, Y7
	VPADDD       Y7, Y6, Y6
	VPADDD       Y6, Y10, Y10
	VMOVDQU      80(SI), Y6
	VPSRLW       $4, Y6, Y7
	VPAND        Y14, Y6, Y6
	VPAND        Y14, Y7, Y7
	VPMADDUBSW   132(DI), Y6, Y6
	VPMADDUBSW   164(DI), Y7, Y7
	VPBROADCASTW 8(SP), Y8
	VPBROADCASTW 10(SP), Y9
	VPMADDWD     Y8, Y6, Y6
	VPMADDWD     Y9, Y7, Y7
	VPADDD       Y7, Y6, Y6
	VPADDD       Y6, Y10, Y10
	VMOVDQU      112(SI), Y6
	VPSRLW       $4, Y6, Y7
	VPAND        Y14, Y6, Y6
	VPAND        Y14, Y7, Y7
	VPMADDUBSW   196(DI), Y6, Y6
	VPMADDUBSW   228(DI), Y7, Y7
	VPBROADCASTW 12(SP), Y8
	VPBROADCASTW 14(SP), Y9
	VPMADDWD     Y8, Y6, Y6
	VPMADDWD     Y9, Y7, Y7
	VPADDD       Y7, Y6, Y6
	VPADDD       Y6, Y10, Y10

	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y3, Y0
	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4kloop

q4kdone:
	HSUM8
	VMOVHLPS  X12, X12, X1
	VADDPS    X1, X12, X12
	VMOVSHDUP X12, X1
	VADDSS    X1, X12, X12
	VADDSS    X12, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// q6kShuf entry s (16 bytes) picks scale byte 2s eight times, then 2s+1
// eight times (get_scale_shuffle).
DATA q6kShuf<>+0(SB)/8, $0x0
DATA q6kShuf<>+8(SB)/8, $0x101010101010101
DATA q6kShuf<>+16(SB)/8, $0x202020202020202
DATA q6kShuf<>+24(SB)/8, $0x303030303030303
DATA q6kShuf<>+32(SB)/8, $0x404040404040404
DATA q6kShuf<>+40(SB)/8, $0x505050505050505
DATA q6kShuf<>+48(SB)/8, $0x606060606060606
DATA q6kShuf<>+56(SB)/8, $0x707070707070707
DATA q6kShuf<>+64(SB)/8, $0x808080808080808
DATA q6kShuf<>+72(SB)/8, $0x909090909090909
DATA q6kShuf<>+80(SB)/8, $0xa0a0a0a0a0a0a0a
DATA q6kShuf<>+88(SB)/8, $0xb0b0b0b0b0b0b0b
DATA q6kShuf<>+96(SB)/8, $0xc0c0c0c0c0c0c0c
DATA q6kShuf<>+104(SB)/8, $0xd0d0d0d0d0d0d0d
DATA q6kShuf<>+112(SB)/8, $0xe0e0e0e0e0e0e0e
DATA q6kShuf<>+120(SB)/8, $0xf0f0f0f0f0f0f0f
GLOBL q6kShuf<>(SB), RODATA|NOPTR, $128

// func dotQ6_KAVX2(x, y *byte, nb int) float32
//
// As ggml_vec_dot_q6_K_q8_K's AVX2 path: maddubs of the unsigned 6-bit
// quants (0..63) with q8, scaled per 16 by the int8 scales, minus
// 32·madd(bsums, scales) per lane at the end of the super-block.
TEXT ·dotQ6_KAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	BYTES(0x0f0f0f0f, Y14)
	BYTES(0x03030303, Y13)
	TESTQ CX, CX
	JZ    q6kdone

q6kloop:
	MOVWLZX      208(SI), AX
	VMOVD        AX, X1
	VCVTPH2PS    X1, X1
	VMULSS       (DI), X1, X1
	VBROADCASTSS X1, Y1
	VMOVDQU      192(SI), X2
	VPXOR        Y10, Y10, Y10
	VMOVDQU 0(SI), Y3
	VMOVDQU 32(SI), Y4
	VMOVDQU 128(SI), Y5
	VPAND  Y13, Y5, Y6
	VPSLLW $4, Y6, Y6
	VPAND  Y14, Y3, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    4(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+0(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10
	VPSRLW $2, Y5, Y6
	VPAND  Y13, Y6, Y6
	VPSLLW $4, Y6, Y6
	VPAND  Y14, Y4, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    36(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+16(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10
	VPSRLW $4, Y5, Y6
	VPAND  Y13, Y6, Y6
	VPSLLW $4, Y6, Y6
	VPSRLW $4, Y3, Y7
	VPAND  Y14, Y7, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    68(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+32(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10
	VPSRLW $6, Y5, Y6
	VPAND  Y13, Y6, Y6
	VPSLLW $4, Y6, Y6
	VPSRLW $4, Y4, Y7
	VPAND  Y14, Y7, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    100(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+48(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10
	VMOVDQU 64(SI), Y3
	VMOVDQU 96(SI), Y4
	VMOVDQU 160(SI), Y5
	VPAND  Y13, Y5, Y6
	VPSLLW $4, Y6, Y6
	VPAND  Y14, Y3, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    132(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+64(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10
	VPSRLW $2, Y5, Y6
	VPAND  Y13, Y6, Y6
	VPSLLW $4, Y6, Y6
	VPAND  Y14, Y4, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    164(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+80(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10
	VPSRLW $4, Y5, Y6
	VPAND  Y13, Y6, Y6
	VPSLLW $4, Y6, Y6
	VPSRLW $4, Y3, Y7
	VPAND  Y14, Y7, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    196(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+96(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10
	VPSRLW $6, Y5, Y6
	VPAND  Y13, Y6, Y6
	VPSLLW $4, Y6, Y6
	VPSRLW $4, Y4, Y7
	VPAND  Y14, Y7, Y7
	VPOR   Y6, Y7, Y7
	VMOVDQU    228(DI), Y8
	VPMADDUBSW Y8, Y7, Y8
	VPSHUFB    q6kShuf<>+112(SB), X2, X9
	VPMOVSXBW  X9, Y9
	VPMADDWD   Y9, Y8, Y8
	VPADDD     Y8, Y10, Y10

	// The offset of the unsigned quants: 32·madd(bsums, scales) per lane.
	VPMOVSXBW   X2, Y9
	VPMADDWD    260(DI), Y9, Y9
	VPSLLD      $5, Y9, Y9
	VPSUBD      Y9, Y10, Y10
	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y1, Y0
	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q6kloop

q6kdone:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotF16AVX2(x, y *byte, n int) float32
//
// n is a positive multiple of 64. The order is that of ggml_vec_dot_f16
// on AVX-512 (GGML_F16_STEP 64, four 16-lane accumulators, each here two
// halves Y(2j), Y(2j+1)): acc[j] += x*y per 64 elements, then acc0+acc2,
// acc1+acc3, their sum, and _mm512_reduce_add_ps (high half + low half,
// then hsum_float_8's order).
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

f16loop:
	VCVTPH2PS   (SI), Y8
	VCVTPH2PS   (DI), Y9
	VFMADD231PS Y9, Y8, Y0
	VCVTPH2PS   16(SI), Y10
	VCVTPH2PS   16(DI), Y11
	VFMADD231PS Y11, Y10, Y1
	VCVTPH2PS   32(SI), Y12
	VCVTPH2PS   32(DI), Y13
	VFMADD231PS Y13, Y12, Y2
	VCVTPH2PS   48(SI), Y14
	VCVTPH2PS   48(DI), Y15
	VFMADD231PS Y15, Y14, Y3
	VCVTPH2PS   64(SI), Y8
	VCVTPH2PS   64(DI), Y9
	VFMADD231PS Y9, Y8, Y4
	VCVTPH2PS   80(SI), Y10
	VCVTPH2PS   80(DI), Y11
	VFMADD231PS Y11, Y10, Y5
	VCVTPH2PS   96(SI), Y12
	VCVTPH2PS   96(DI), Y13
	VFMADD231PS Y13, Y12, Y6
	VCVTPH2PS   112(SI), Y14
	VCVTPH2PS   112(DI), Y15
	VFMADD231PS Y15, Y14, Y7
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $64, CX
	JNZ  f16loop

	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y0, Y1, Y0
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func scaleF16AVX2(h *uint16, n int, s float32)
//
// h[i] = f16(f32(h[i]) * s) for n a positive multiple of 8, rounding to
// nearest even as FP32ToFP16 does.
TEXT ·scaleF16AVX2(SB), NOSPLIT, $0-20
	MOVQ         h+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1

scaleloop:
	VCVTPH2PS (SI), Y0
	VMULPS    Y1, Y0, Y0
	VCVTPS2PH $0, Y0, (SI)
	ADDQ $16, SI
	SUBQ $8, CX
	JNZ  scaleloop
	VZEROUPPER
	RET

// func madF16AVX2(h *uint16, v *byte, n int, s float32)
//
// h[i] = f16(fma(f32(v[i]), s, f32(h[i]))) for n a positive multiple of 8.
TEXT ·madF16AVX2(SB), NOSPLIT, $0-28
	MOVQ         h+0(FP), SI
	MOVQ         v+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS s+24(FP), Y1

madloop:
	VCVTPH2PS   (DI), Y2
	VCVTPH2PS   (SI), Y0
	VFMADD231PS Y1, Y2, Y0
	VCVTPS2PH   $0, Y0, (SI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $8, CX
	JNZ  madloop
	VZEROUPPER
	RET
