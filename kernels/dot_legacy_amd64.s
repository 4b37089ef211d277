//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// Dot products of Q4_1, Q5_0 and Q5_1 rows with Q8_1 / Q8_0 activations in
// the order of ggml-cpu's AVX2 kernels (arch/x86/quants.c) and of the
// reference (dot_legacy.go): per block eight exact int32 lane sums of four
// products, converted to float32, acc = fma(d, lane, acc); hsum_float_8 at
// the end, then + Σ m·s (a scalar fma chain) for Q4_1/Q5_1.
//
// The weight values are always formed as unsigned bytes (Q5_0 as x+16 in
// 0..31) so that VPMADDUBSW needs no sign trick; Q5_0 then subtracts
// 16·(y0+y1) per pair. The int32 lane sums are exact for every activation
// byte, -128 included.

// Byte j of legacyBitShuf selects byte j/8 of a broadcast qh word;
// legacyBitMask has every bit set except bit j%8 in byte j, so after an OR
// a byte is all ones exactly when bit j of qh is set (bytes_from_bits_32).
DATA legacyBitShuf<>+0(SB)/8, $0x0000000000000000
DATA legacyBitShuf<>+8(SB)/8, $0x0101010101010101
DATA legacyBitShuf<>+16(SB)/8, $0x0202020202020202
DATA legacyBitShuf<>+24(SB)/8, $0x0303030303030303
GLOBL legacyBitShuf<>(SB), RODATA|NOPTR, $32

DATA legacyBitMask<>+0(SB)/8, $0x7fbfdfeff7fbfdfe
DATA legacyBitMask<>+8(SB)/8, $0x7fbfdfeff7fbfdfe
DATA legacyBitMask<>+16(SB)/8, $0x7fbfdfeff7fbfdfe
DATA legacyBitMask<>+24(SB)/8, $0x7fbfdfeff7fbfdfe
GLOBL legacyBitMask<>(SB), RODATA|NOPTR, $32

// LEGACY_CONSTS sets Y15 = int16 ones, Y14 = 0x0f bytes, Y13 = 0x10 bytes,
// Y12 = legacyBitShuf, Y11 = legacyBitMask, Y10 = all ones. Clobbers AX.
#define LEGACY_CONSTS \
	ONES16(Y15)                           \
	MOVL         $0x0f0f0f0f, AX          \
	VMOVD        AX, X14                  \
	VPBROADCASTD X14, Y14                 \
	MOVL         $0x10101010, AX          \
	VMOVD        AX, X13                  \
	VPBROADCASTD X13, Y13                 \
	VMOVDQU      legacyBitShuf<>(SB), Y12 \
	VMOVDQU      legacyBitMask<>(SB), Y11 \
	VPCMPEQB     Y10, Y10, Y10

// NIBBLES(off) sets Y2 to the 32 nibbles at off(SI), low nibbles in the low
// half and high nibbles in the high half (bytes_from_nibbles_32). Clobbers X3.
#define NIBBLES(off) \
	VMOVDQU     off(SI), X2   \
	VPSRLW      $4, X2, X3    \
	VINSERTI128 $1, X3, Y2, Y2 \
	VPAND       Y14, Y2, Y2

// FIFTHBIT(off) ORs 0x10 into byte j of Y2 where bit j of the 32-bit qh at
// off(SI) is set. Clobbers Y4.
#define FIFTHBIT(off) \
	VPBROADCASTD off(SI), Y4 \
	VPSHUFB      Y12, Y4, Y4 \
	VPOR         Y11, Y4, Y4 \
	VPCMPEQB     Y10, Y4, Y4 \
	VPAND        Y13, Y4, Y4 \
	VPOR         Y4, Y2, Y2

// SCALES_MIN sets Y1 = f16(x.d)*f16(y.d) in every lane and folds
// f16(x.m)*f16(y.s) into lane 1 of X7 with one fma (lane 0 of X7 collects
// d products nobody reads). x.d, x.m at SI; y.d, y.s at DI. Clobbers X8, X9.
#define SCALES_MIN \
	VMOVD        (SI), X8     \
	VMOVD        (DI), X9     \
	VCVTPH2PS    X8, X8       \
	VCVTPH2PS    X9, X9       \
	VMULSS       X9, X8, X1   \
	VFMADD231PS  X9, X8, X7   \
	VBROADCASTSS X1, Y1

// LANES_US sets Y6 to the eight int32 sums of four products of unsigned
// bytes Y2 with the signed bytes at off(DI).
#define LANES_US(off) \
	VPMADDUBSW off(DI), Y2, Y6 \
	VPMADDWD   Y15, Y6, Y6

// func dotQ4_1AVX2(x, y *byte, nb int) float32
TEXT ·dotQ4_1AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X7, X7, X7
	LEGACY_CONSTS
	TESTQ  CX, CX
	JZ     q41AVX2done

q41AVX2loop:
	SCALES_MIN
	NIBBLES(4)
	LANES_US(4)
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ        $20, SI
	ADDQ        $36, DI
	DECQ        CX
	JNZ         q41AVX2loop

q41AVX2done:
	HSUM8
	VMOVSHDUP X7, X7
	VADDSS    X7, X0, X0
	VZEROUPPER
	MOVSS     X0, ret+24(FP)
	RET

// func dotQ5_1AVX2(x, y *byte, nb int) float32
TEXT ·dotQ5_1AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X7, X7, X7
	LEGACY_CONSTS
	TESTQ  CX, CX
	JZ     q51AVX2done

q51AVX2loop:
	SCALES_MIN
	NIBBLES(8)
	FIFTHBIT(4)
	LANES_US(4)
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ        $24, SI
	ADDQ        $36, DI
	DECQ        CX
	JNZ         q51AVX2loop

q51AVX2done:
	HSUM8
	VMOVSHDUP X7, X7
	VADDSS    X7, X0, X0
	VZEROUPPER
	MOVSS     X0, ret+24(FP)
	RET

// func dotQ5_0AVX2(x, y *byte, nb int) float32
TEXT ·dotQ5_0AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	LEGACY_CONSTS
	TESTQ  CX, CX
	JZ     q50AVX2done

q50AVX2loop:
	BLOCKSCALE
	NIBBLES(6)
	FIFTHBIT(2)
	// Y2 = x+16; Σ x·y = Σ (x+16)·y - Σ 16·y, pairwise in int16 (|.| <= 4096).
	VMOVDQU     2(DI), Y3
	VPMADDUBSW  Y3, Y2, Y6
	VPMADDUBSW  Y3, Y13, Y5
	VPSUBW      Y5, Y6, Y6
	VPMADDWD    Y15, Y6, Y6
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ        $22, SI
	ADDQ        $34, DI
	DECQ        CX
	JNZ         q50AVX2loop

q50AVX2done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// The AVX-512 (BW/VL) kernels differ from the AVX2 ones only in how the
// fifth bits reach the bytes: qh is loaded as a byte mask and 16 is added
// under it, two instructions instead of six (about 15% faster here). The
// VNNI level adds only a Q5_0 kernel: VPDPBUSD saved nothing measurable for
// Q4_1/Q5_1, whose loops already run at the latency of the fma chain.

// FIFTHBIT_K(off) adds 0x10 to byte j of Y2 where bit j of the 32-bit qh
// at off(SI) is set. Clobbers K1.
#define FIFTHBIT_K(off) \
	KMOVD  off(SI), K1 \
	VPADDB Y13, Y2, K1, Y2

// func dotQ5_1AVX512(x, y *byte, nb int) float32
TEXT ·dotQ5_1AVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X7, X7, X7
	LEGACY_CONSTS
	TESTQ  CX, CX
	JZ     q51AVX512done

q51AVX512loop:
	SCALES_MIN
	NIBBLES(8)
	FIFTHBIT_K(4)
	LANES_US(4)
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ        $24, SI
	ADDQ        $36, DI
	DECQ        CX
	JNZ         q51AVX512loop

q51AVX512done:
	HSUM8
	VMOVSHDUP X7, X7
	VADDSS    X7, X0, X0
	VZEROUPPER
	MOVSS     X0, ret+24(FP)
	RET

// func dotQ5_0AVX512(x, y *byte, nb int) float32
TEXT ·dotQ5_0AVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	LEGACY_CONSTS
	TESTQ  CX, CX
	JZ     q50AVX512done

q50AVX512loop:
	BLOCKSCALE
	NIBBLES(6)
	FIFTHBIT_K(2)
	VMOVDQU     2(DI), Y3
	VPMADDUBSW  Y3, Y2, Y6
	VPMADDUBSW  Y3, Y13, Y5
	VPSUBW      Y5, Y6, Y6
	VPMADDWD    Y15, Y6, Y6
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ        $22, SI
	ADDQ        $34, DI
	DECQ        CX
	JNZ         q50AVX512loop

q50AVX512done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ5_0VNNI(x, y *byte, nb int) float32
TEXT ·dotQ5_0VNNI(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	LEGACY_CONSTS
	TESTQ  CX, CX
	JZ     q50VNNIdone

q50VNNIloop:
	BLOCKSCALE
	NIBBLES(6)
	FIFTHBIT_K(2)
	// Σ (x+16)·y - Σ 16·y per lane, both exact in int32.
	VMOVDQU     2(DI), Y3
	VPXOR       Y6, Y6, Y6
	VPDPBUSD    Y3, Y2, Y6
	VPXOR       Y5, Y5, Y5
	VPDPBUSD    Y3, Y13, Y5
	VPSUBD      Y5, Y6, Y6
	VCVTDQ2PS   Y6, Y6
	VFMADD231PS Y6, Y1, Y0
	ADDQ        $22, SI
	ADDQ        $34, DI
	DECQ        CX
	JNZ         q50VNNIloop

q50VNNIdone:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// Four-row kernels: one weight row times four activation rows at y,
// y+ystride, y+2*ystride, y+3*ystride. The weight block is unpacked once
// into Y8; each row keeps its own accumulator (Y0..Y3) and, for Q4_1/Q5_1,
// its own Σ m·s chain (lane 1 of X4..X7), with exactly the steps of the
// one-row kernels, so every output is bit-identical to the one-row dot.
// Registers: Y9 weight header, Y10..Y12 temporaries, Y13 = 0x10 bytes,
// Y14 = 0x0f bytes, Y15 = int16 ones.

// GEMM_SETUP, after the arguments are loaded (SI x, DI y, BX ystride, CX
// nb), points R8/R9/R10 at rows 1..3, clears the accumulators and sets
// Y13..Y15. Clobbers AX.
#define GEMM_SETUP \
	LEAQ         (DI)(BX*1), R8   \
	LEAQ         (R8)(BX*1), R9   \
	LEAQ         (R9)(BX*1), R10  \
	VXORPS       Y0, Y0, Y0       \
	VXORPS       Y1, Y1, Y1       \
	VXORPS       Y2, Y2, Y2       \
	VXORPS       Y3, Y3, Y3       \
	VXORPS       X4, X4, X4       \
	VXORPS       X5, X5, X5       \
	VXORPS       X6, X6, X6       \
	VXORPS       X7, X7, X7       \
	ONES16(Y15)                   \
	MOVL         $0x0f0f0f0f, AX  \
	VMOVD        AX, X14          \
	VPBROADCASTD X14, Y14         \
	MOVL         $0x10101010, AX  \
	VMOVD        AX, X13          \
	VPBROADCASTD X13, Y13

// GNIBBLES(off) sets Y8 to the 32 nibbles at off(SI). Clobbers X10.
#define GNIBBLES(off) \
	VMOVDQU     off(SI), X8    \
	VPSRLW      $4, X8, X10    \
	VINSERTI128 $1, X10, Y8, Y8 \
	VPAND       Y14, Y8, Y8

// GFIFTHBIT(off) ORs 0x10 into byte j of Y8 where bit j of the qh at
// off(SI) is set (FIFTHBIT with the constants from memory). Clobbers Y10,
// Y11.
#define GFIFTHBIT(off) \
	VPBROADCASTD off(SI), Y10                \
	VPSHUFB      legacyBitShuf<>(SB), Y10, Y10 \
	VPOR         legacyBitMask<>(SB), Y10, Y10 \
	VPCMPEQB     Y11, Y11, Y11               \
	VPCMPEQB     Y11, Y10, Y10               \
	VPAND        Y13, Y10, Y10               \
	VPOR         Y10, Y8, Y8

// GROW_MIN(yp, acc, sum) adds the Q8_1 block at yp to acc and sum (Q4_1,
// Q5_1), with X9 = [x.d, x.m] as float32: SCALES_MIN and LANES_US.
#define GROW_MIN(yp, acc, sum) \
	VMOVD        (yp), X10      \
	VCVTPH2PS    X10, X10       \
	VMULSS       X10, X9, X11   \
	VFMADD231PS  X10, X9, sum   \
	VBROADCASTSS X11, Y11       \
	VPMADDUBSW   4(yp), Y8, Y12 \
	VPMADDWD     Y15, Y12, Y12  \
	VCVTDQ2PS    Y12, Y12       \
	VFMADD231PS  Y12, Y11, acc

// GSTORE(yr, xr, xs, off) stores hsum_float_8(yr) + lane 1 of xs at
// off(AX). Clobbers X11.
#define GSTORE(yr, xr, xs, off) \
	VEXTRACTF128 $1, yr, X11 \
	VADDPS       xr, X11, xr \
	VMOVHLPS     xr, xr, X11 \
	VADDPS       X11, xr, xr \
	VMOVSHDUP    xr, X11     \
	VADDSS       X11, xr, xr \
	VMOVSHDUP    xs, X11     \
	VADDSS       X11, xr, xr \
	MOVSS        xr, off(AX)

#define GADVANCE(wb, ab) \
	ADDQ $wb, SI  \
	ADDQ $ab, DI  \
	ADDQ $ab, R8  \
	ADDQ $ab, R9  \
	ADDQ $ab, R10

// func gemmQ4_1x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmQ4_1x4AVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	GEMM_SETUP
	TESTQ CX, CX
	JZ    gq41done

gq41loop:
	VMOVD     (SI), X9
	VCVTPH2PS X9, X9
	GNIBBLES(4)
	GROW_MIN(DI, Y0, X4)
	GROW_MIN(R8, Y1, X5)
	GROW_MIN(R9, Y2, X6)
	GROW_MIN(R10, Y3, X7)
	GADVANCE(20, 36)
	DECQ CX
	JNZ  gq41loop

gq41done:
	MOVQ out+32(FP), AX
	GSTORE(Y0, X0, X4, 0)
	GSTORE(Y1, X1, X5, 4)
	GSTORE(Y2, X2, X6, 8)
	GSTORE(Y3, X3, X7, 12)
	VZEROUPPER
	RET

// func gemmQ5_1x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmQ5_1x4AVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	GEMM_SETUP
	TESTQ CX, CX
	JZ    gq51done

gq51loop:
	VMOVD     (SI), X9
	VCVTPH2PS X9, X9
	GNIBBLES(8)
	GFIFTHBIT(4)
	GROW_MIN(DI, Y0, X4)
	GROW_MIN(R8, Y1, X5)
	GROW_MIN(R9, Y2, X6)
	GROW_MIN(R10, Y3, X7)
	GADVANCE(24, 36)
	DECQ CX
	JNZ  gq51loop

gq51done:
	MOVQ out+32(FP), AX
	GSTORE(Y0, X0, X4, 0)
	GSTORE(Y1, X1, X5, 4)
	GSTORE(Y2, X2, X6, 8)
	GSTORE(Y3, X3, X7, 12)
	VZEROUPPER
	RET

// Q5_0 four-row kernels over extended activations (matmul_ext.go, K = 16):
// each block carries c[l] = -16·Σ q over lane l, its scale as float32 and
// its quants, so Σ x·y = Σ (x+16)·y + c costs one VPDPBUSD per row (or
// VPMADDUBSW, VPMADDWD, VPADDD on AVX2; (x+16)·y pairs fit int16).

// GXSCALE(yp) sets Y10 = x.d * y.d with Y9 = x.d in every lane.
#define GXSCALE(yp) \
	VBROADCASTSS 32(yp), Y10 \
	VMULPS       Y10, Y9, Y10

#define GXROW_AVX2(yp, acc) \
	VPMADDUBSW  36(yp), Y8, Y12 \
	VPMADDWD    Y15, Y12, Y12   \
	VPADDD      (yp), Y12, Y12  \
	VCVTDQ2PS   Y12, Y12        \
	GXSCALE(yp)                 \
	VFMADD231PS Y12, Y10, acc

#define GXROW_VNNI(yp, acc) \
	VMOVDQU     (yp), Y12        \
	VPDPBUSD    36(yp), Y8, Y12  \
	VCVTDQ2PS   Y12, Y12         \
	GXSCALE(yp)                  \
	VFMADD231PS Y12, Y10, acc

// func gemmXQ5_0x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmXQ5_0x4AVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	GEMM_SETUP
	TESTQ CX, CX
	JZ    gxq50done

gxq50loop:
	VPBROADCASTW (SI), X9
	VCVTPH2PS    X9, Y9
	GNIBBLES(6)
	GFIFTHBIT(2)
	GXROW_AVX2(DI, Y0)
	GXROW_AVX2(R8, Y1)
	GXROW_AVX2(R9, Y2)
	GXROW_AVX2(R10, Y3)
	GADVANCE(22, 68)
	DECQ CX
	JNZ  gxq50loop

gxq50done:
	MOVQ out+32(FP), AX
	HSUMTO(Y0, X0, X11, 0)
	HSUMTO(Y1, X1, X11, 4)
	HSUMTO(Y2, X2, X11, 8)
	HSUMTO(Y3, X3, X11, 12)
	VZEROUPPER
	RET

// func gemmXQ5_0x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmXQ5_0x4VNNI(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	GEMM_SETUP
	TESTQ CX, CX
	JZ    gxq50vdone

gxq50vloop:
	VPBROADCASTW (SI), X9
	VCVTPH2PS    X9, Y9
	GNIBBLES(6)
	KMOVD        2(SI), K1
	VPADDB       Y13, Y8, K1, Y8
	GXROW_VNNI(DI, Y0)
	GXROW_VNNI(R8, Y1)
	GXROW_VNNI(R9, Y2)
	GXROW_VNNI(R10, Y3)
	GADVANCE(22, 68)
	DECQ CX
	JNZ  gxq50vloop

gxq50vdone:
	MOVQ out+32(FP), AX
	HSUMTO(Y0, X0, X11, 0)
	HSUMTO(Y1, X1, X11, 4)
	HSUMTO(Y2, X2, X11, 8)
	HSUMTO(Y3, X3, X11, 12)
	VZEROUPPER
	RET

// VNNI forms of the Q4_1/Q5_1 four-row kernels: VPDPBUSD for the lane sums
// and, for Q5_1, the fifth bits through a byte mask.

// GROW_MIN_VNNI is GROW_MIN with VPDPBUSD.
#define GROW_MIN_VNNI(yp, acc, sum) \
	VMOVD        (yp), X10      \
	VCVTPH2PS    X10, X10       \
	VMULSS       X10, X9, X11   \
	VFMADD231PS  X10, X9, sum   \
	VBROADCASTSS X11, Y11       \
	VPXOR        Y12, Y12, Y12  \
	VPDPBUSD     4(yp), Y8, Y12 \
	VCVTDQ2PS    Y12, Y12       \
	VFMADD231PS  Y12, Y11, acc

// func gemmQ4_1x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmQ4_1x4VNNI(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	GEMM_SETUP
	TESTQ CX, CX
	JZ    gq41vdone

gq41vloop:
	VMOVD     (SI), X9
	VCVTPH2PS X9, X9
	GNIBBLES(4)
	GROW_MIN_VNNI(DI, Y0, X4)
	GROW_MIN_VNNI(R8, Y1, X5)
	GROW_MIN_VNNI(R9, Y2, X6)
	GROW_MIN_VNNI(R10, Y3, X7)
	GADVANCE(20, 36)
	DECQ CX
	JNZ  gq41vloop

gq41vdone:
	MOVQ out+32(FP), AX
	GSTORE(Y0, X0, X4, 0)
	GSTORE(Y1, X1, X5, 4)
	GSTORE(Y2, X2, X6, 8)
	GSTORE(Y3, X3, X7, 12)
	VZEROUPPER
	RET

// func gemmQ5_1x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmQ5_1x4VNNI(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	GEMM_SETUP
	TESTQ CX, CX
	JZ    gq51vdone

gq51vloop:
	VMOVD     (SI), X9
	VCVTPH2PS X9, X9
	GNIBBLES(8)
	KMOVD     4(SI), K1
	VPADDB    Y13, Y8, K1, Y8
	GROW_MIN_VNNI(DI, Y0, X4)
	GROW_MIN_VNNI(R8, Y1, X5)
	GROW_MIN_VNNI(R9, Y2, X6)
	GROW_MIN_VNNI(R10, Y3, X7)
	GADVANCE(24, 36)
	DECQ CX
	JNZ  gq51vloop

gq51vdone:
	MOVQ out+32(FP), AX
	GSTORE(Y0, X0, X4, 0)
	GSTORE(Y1, X1, X5, 4)
	GSTORE(Y2, X2, X6, 8)
	GSTORE(Y3, X3, X7, 12)
	VZEROUPPER
	RET
