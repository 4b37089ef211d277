//go:build amd64 && !noasm

#include "textflag.h"

// Kernels over packed Q4_0 (repack.go): sixteen weight rows per group, one
// int32 lane per row. Per block, chunk j (64 bytes) holds each row's quants
// 4j..4j+3 in the low nibbles and 16+4j..16+4j+3 in the high ones, so
// VPDPBUSD of the masked chunk against the four activation bytes broadcast
// adds those four products to every row's lane. The lane starts at
// c = -8·Σa (the q8Sum row), which turns the unsigned nibbles into q-8:
// the block's integer sum is exact. Then, as llama.cpp's repacked kernels:
// acc = fma(float(isum), d_w·d_a, acc), block after block.

// NIBBLES loads chunk j of the block at SI into Z(lo) (low nibbles) and
// Z(hi) (high nibbles); Z31 holds 0x0f bytes.
#define NIBBLES(off, lo, hi) \
	VMOVDQU64 off(SI), lo \
	VPSRLW    $4, lo, hi  \
	VPANDD    Z31, lo, lo \
	VPANDD    Z31, hi, hi

// UNPACK loads the block at SI: the 16 weight scales as float32 in Z16 and
// the unsigned quants in Z8..Z15.
#define UNPACK \
	VCVTPH2PS (SI), Z16       \
	NIBBLES(32, Z8, Z9)       \
	NIBBLES(96, Z10, Z11)     \
	NIBBLES(160, Z12, Z13)    \
	NIBBLES(224, Z14, Z15)

// TOKEN adds one token's block (q8Sum at R+AX) into the float accumulator
// acc. Two integer chains halve the VPDPBUSD latency chain. Clobbers
// Z17..Z19.
#define TOKEN(R, acc) \
	VMULPS.BCST     4(R)(AX*1), Z16, Z17  \
	VPBROADCASTD    (R)(AX*1), Z18        \
	VPXORD          Z19, Z19, Z19         \
	VPDPBUSD.BCST   8(R)(AX*1), Z8, Z18   \
	VPDPBUSD.BCST   24(R)(AX*1), Z9, Z19  \
	VPDPBUSD.BCST   12(R)(AX*1), Z10, Z18 \
	VPDPBUSD.BCST   28(R)(AX*1), Z11, Z19 \
	VPDPBUSD.BCST   16(R)(AX*1), Z12, Z18 \
	VPDPBUSD.BCST   32(R)(AX*1), Z13, Z19 \
	VPDPBUSD.BCST   20(R)(AX*1), Z14, Z18 \
	VPDPBUSD.BCST   36(R)(AX*1), Z15, Z19 \
	VPADDD          Z19, Z18, Z18         \
	VCVTDQ2PS       Z18, Z18              \
	VFMADD231PS     Z18, Z17, acc

#define SETUP \
	MOVL         $0x0f0f0f0f, AX \
	VPBROADCASTD AX, Z31         \
	XORQ         AX, AX

// func gemvQ4_0x16VNNI(w, a *byte, nb int, out *[8][16]float32)
TEXT ·gemvQ4_0x16VNNI(SB), NOSPLIT, $0-32
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ nb+16(FP), CX
	SETUP
	VPXORD Z0, Z0, Z0

gemvloop:
	// Decode streams the weights from memory: fetch four blocks ahead.
	PREFETCHT0 1152(SI)
	PREFETCHT0 1216(SI)
	PREFETCHT0 1280(SI)
	PREFETCHT0 1344(SI)
	PREFETCHT0 1408(SI)
	UNPACK
	TOKEN(DI, Z0)
	ADDQ $288, SI
	ADDQ $40, AX
	DECQ CX
	JNZ  gemvloop

	MOVQ    out+24(FP), AX
	VMOVUPS Z0, (AX)
	VZEROUPPER
	RET

// func gemmQ4_0x16x4VNNI(w, a *byte, stride, nb int, out *[8][16]float32)
TEXT ·gemmQ4_0x16x4VNNI(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ stride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	SETUP
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

gemm4loop:
	UNPACK
	TOKEN(DI, Z0)
	TOKEN(R8, Z1)
	TOKEN(R9, Z2)
	TOKEN(R10, Z3)
	ADDQ $288, SI
	ADDQ $40, AX
	DECQ CX
	JNZ  gemm4loop

	MOVQ    out+32(FP), AX
	VMOVUPS Z0, (AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	VMOVUPS Z3, 192(AX)
	VZEROUPPER
	RET

// func gemmQ4_0x16x8VNNI(w, a *byte, stride, nb int, out *[8][16]float32)
TEXT ·gemmQ4_0x16x8VNNI(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ stride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	LEAQ (R11)(BX*1), R12
	LEAQ (R12)(BX*1), R13
	LEAQ (R13)(BX*1), DX
	SETUP
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

gemm8loop:
	UNPACK
	TOKEN(DI, Z0)
	TOKEN(R8, Z1)
	TOKEN(R9, Z2)
	TOKEN(R10, Z3)
	TOKEN(R11, Z4)
	TOKEN(R12, Z5)
	TOKEN(R13, Z6)
	TOKEN(DX, Z7)
	ADDQ $288, SI
	ADDQ $40, AX
	DECQ CX
	JNZ  gemm8loop

	MOVQ    out+32(FP), AX
	VMOVUPS Z0, (AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	VMOVUPS Z3, 192(AX)
	VMOVUPS Z4, 256(AX)
	VMOVUPS Z5, 320(AX)
	VMOVUPS Z6, 384(AX)
	VMOVUPS Z7, 448(AX)
	VZEROUPPER
	RET
