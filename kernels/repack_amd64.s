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

// func gemmQ4_0x16x2VNNI(w, a *byte, stride, nb int, out *[8][16]float32)
//
// Two tokens (batched decode of two sequences): streams the weights like
// the one-token kernel, so it prefetches the same way.
TEXT ·gemmQ4_0x16x2VNNI(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ stride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	SETUP
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1

gemm2loop:
	PREFETCHT0 1152(SI)
	PREFETCHT0 1216(SI)
	PREFETCHT0 1280(SI)
	PREFETCHT0 1344(SI)
	PREFETCHT0 1408(SI)
	UNPACK
	TOKEN(DI, Z0)
	TOKEN(R8, Z1)
	ADDQ $288, SI
	ADDQ $40, AX
	DECQ CX
	JNZ  gemm2loop

	MOVQ    out+32(FP), AX
	VMOVUPS Z0, (AX)
	VMOVUPS Z1, 64(AX)
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

// AVX2 versions (no VNNI, 16 vector registers): each 16-row group is done
// as two halves of 8 rows (the low and high 32 bytes of every 64-byte
// chunk, the first and last 16 bytes of the scales). VPMADDUBSW multiplies
// the unsigned nibbles by the broadcast signed activation bytes into int16
// pairs (at most 2·15·127 = 3810 in size), the eight of a block add up in
// int16 without overflow (at most 30480), VPMADDWD by ones widens to int32
// and c = -8·Σa makes the block sum exact, as in the VNNI kernels; the
// float step is the same fma, so the results are bit-identical.

// HALF2 loads the 32 bytes at off(SI) into Y(lo)/Y(hi) as low/high
// nibbles; Y15 holds 0x0f bytes.
#define HALF2(off, lo, hi) \
	VMOVDQU off(SI), lo \
	VPSRLW  $4, lo, hi  \
	VPAND   Y15, lo, lo \
	VPAND   Y15, hi, hi

// UNPACK2 loads one half-block: scales (8 halves at DX) in Y13, the
// nibbles of SI's four chunks in Y0..Y7.
#define UNPACK2 \
	VCVTPH2PS (DX), Y13   \
	HALF2(32, Y0, Y1)     \
	HALF2(96, Y2, Y3)     \
	HALF2(160, Y4, Y5)    \
	HALF2(224, Y6, Y7)

// MADD2 adds to Y10 the int16 pair products of nibbles w with the four
// activation bytes at off(R)(AX*1). Clobbers Y11.
#define MADD2(w, off, R) \
	VPBROADCASTD off(R)(AX*1), Y11 \
	VPMADDUBSW   Y11, w, Y11       \
	VPADDW       Y11, Y10, Y10

// TOKEN2 adds one token's block (q8Sum at R+AX) to acc for the eight rows
// in Y0..Y7 with scales Y13; Y14 holds int16 ones. Clobbers Y10..Y12.
#define TOKEN2(R, acc) \
	VPBROADCASTD 8(R)(AX*1), Y11  \
	VPMADDUBSW   Y11, Y0, Y10     \
	MADD2(Y1, 24, R)              \
	MADD2(Y2, 12, R)              \
	MADD2(Y3, 28, R)              \
	MADD2(Y4, 16, R)              \
	MADD2(Y5, 32, R)              \
	MADD2(Y6, 20, R)              \
	MADD2(Y7, 36, R)              \
	VPMADDWD     Y14, Y10, Y10    \
	VPBROADCASTD (R)(AX*1), Y11   \
	VPADDD       Y11, Y10, Y10    \
	VCVTDQ2PS    Y10, Y10         \
	VBROADCASTSS 4(R)(AX*1), Y12  \
	VMULPS       Y12, Y13, Y12    \
	VFMADD231PS  Y10, Y12, acc

#define SETUP2 \
	MOVL         $0x0f0f0f0f, AX \
	VMOVD        AX, X15         \
	VPBROADCASTD X15, Y15        \
	VPCMPEQW     Y14, Y14, Y14   \
	VPSRLW       $15, Y14, Y14

// func gemvQ4_0x16AVX2(w, a *byte, nb int, out *[8][16]float32)
TEXT ·gemvQ4_0x16AVX2(SB), NOSPLIT, $0-32
	MOVQ a+8(FP), DI
	MOVQ out+24(FP), BX
	SETUP2
	XORQ R9, R9 // half: 0, then 1

gemv2half:
	MOVQ w+0(FP), SI
	MOVQ SI, DX
	MOVQ R9, R10
	SHLQ $5, R10
	ADDQ R10, SI // chunks: +32 bytes for the second half
	MOVQ R9, R10
	SHLQ $4, R10
	ADDQ R10, DX // scales: +16 bytes
	MOVQ nb+16(FP), CX
	XORQ AX, AX
	VXORPS Y8, Y8, Y8

gemv2loop:
	PREFETCHT0 1152(SI)
	PREFETCHT0 1216(SI)
	PREFETCHT0 1280(SI)
	PREFETCHT0 1344(SI)
	PREFETCHT0 1408(SI)
	UNPACK2
	TOKEN2(DI, Y8)
	ADDQ $288, SI
	ADDQ $288, DX
	ADDQ $40, AX
	DECQ CX
	JNZ  gemv2loop

	VMOVUPS Y8, (BX)
	ADDQ    $32, BX
	INCQ    R9
	CMPQ    R9, $2
	JB      gemv2half
	VZEROUPPER
	RET

// func gemmQ4_0x16x2AVX2(w, a *byte, stride, nb int, out *[8][16]float32)
TEXT ·gemmQ4_0x16x2AVX2(SB), NOSPLIT, $0-40
	MOVQ a+8(FP), DI
	MOVQ stride+16(FP), R8
	ADDQ DI, R8
	MOVQ out+32(FP), BX
	SETUP2
	XORQ R9, R9

gemm2half:
	MOVQ w+0(FP), SI
	MOVQ SI, DX
	MOVQ R9, R10
	SHLQ $5, R10
	ADDQ R10, SI
	MOVQ R9, R10
	SHLQ $4, R10
	ADDQ R10, DX
	MOVQ nb+24(FP), CX
	XORQ AX, AX
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

gemm2loop:
	UNPACK2
	TOKEN2(DI, Y8)
	TOKEN2(R8, Y9)
	ADDQ $288, SI
	ADDQ $288, DX
	ADDQ $40, AX
	DECQ CX
	JNZ  gemm2loop

	VMOVUPS Y8, (BX)
	VMOVUPS Y9, 64(BX)
	ADDQ    $32, BX
	INCQ    R9
	CMPQ    R9, $2
	JB      gemm2half
	VZEROUPPER
	RET
