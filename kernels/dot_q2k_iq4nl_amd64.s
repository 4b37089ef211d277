//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// Q2_K and IQ4_NL dot products, AVX2 (+FMA, F16C), in the orders of
// dot_kquants.go / dot_iq4.go (plain) and repack_kquants.go (repacked).
// The integer sums are exact in any order; the float steps are the
// reference's, one for one.
//
// IQ4_NL products use maddubs(|a|, v·sign(a)): |a| fits a u8 even for
// a = -128 and the codebook value v (-127..113) negates within an i8, so
// the sums are exact for any activation bytes.

// kvalues_iq4nl, twice (one copy per 128-bit lane for VPSHUFB).
DATA q2nl_iq4<>+0(SB)/8, $0xf6eaddcfbfad9881
DATA q2nl_iq4<>+8(SB)/8, $0x7159453526190d01
DATA q2nl_iq4<>+16(SB)/8, $0xf6eaddcfbfad9881
DATA q2nl_iq4<>+24(SB)/8, $0x7159453526190d01
GLOBL q2nl_iq4<>(SB), RODATA|NOPTR, $32

// VPSHUFB masks for Q2_K chunk k of a 128-value half: the low lane
// broadcasts int16 scale 2k, the high lane scale 2k+1 (the two sub-blocks
// of 16 in the chunk of 32).
DATA q2nl_shuf<>+0(SB)/8, $0x0100010001000100
DATA q2nl_shuf<>+8(SB)/8, $0x0100010001000100
DATA q2nl_shuf<>+16(SB)/8, $0x0302030203020302
DATA q2nl_shuf<>+24(SB)/8, $0x0302030203020302
DATA q2nl_shuf<>+32(SB)/8, $0x0504050405040504
DATA q2nl_shuf<>+40(SB)/8, $0x0504050405040504
DATA q2nl_shuf<>+48(SB)/8, $0x0706070607060706
DATA q2nl_shuf<>+56(SB)/8, $0x0706070607060706
DATA q2nl_shuf<>+64(SB)/8, $0x0908090809080908
DATA q2nl_shuf<>+72(SB)/8, $0x0908090809080908
DATA q2nl_shuf<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q2nl_shuf<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q2nl_shuf<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q2nl_shuf<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q2nl_shuf<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA q2nl_shuf<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL q2nl_shuf<>(SB), RODATA|NOPTR, $128

DATA q2nl_m0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA q2nl_m0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL q2nl_m0f<>(SB), RODATA|NOPTR, $16

// ---------------------------------------------------------------- IQ4_NL

// IQ4_VALUES sets Y2 to the 32 codebook values of the block whose quants
// are at qoff(SI): low nibbles in the low lane, high nibbles in the high
// one. Needs Y13 = codebook, Y14 = 0x0f bytes. Clobbers Y3.
#define IQ4_VALUES(qoff) \
	VMOVDQU     qoff(SI), X2     \
	VPSRLW      $4, X2, X3       \
	VINSERTI128 $1, X3, Y2, Y2   \
	VPAND       Y14, Y2, Y2      \
	VPSHUFB     Y2, Y13, Y2

// IQ4_TOKEN sets dst to the eight int32 lanes (lane l: elements 4l..4l+3)
// of the values in Y2 times the 32 activations at aoff. Needs Y15 = int16
// ones. Clobbers Y3-Y5.
#define IQ4_TOKEN(aoff, dst) \
	VMOVDQU    aoff, Y3      \
	VPSIGNB    Y3, Y3, Y4    \
	VPSIGNB    Y3, Y2, Y5    \
	VPMADDUBSW Y5, Y4, Y5    \
	VPMADDWD   Y15, Y5, dst

// IQ4_CONSTS loads Y13, Y14, Y15. Clobbers AX, X11.
#define IQ4_CONSTS \
	VMOVDQU q2nl_iq4<>(SB), Y13 \
	BYTES(0x0f0f0f0f, Y14)      \
	ONES16(Y15)

// HALFPROD sets X1[0] (and every lane) to f16(xoff(SI))·f16(yoff(DI)).
// Clobbers X2.
#define HALFPROD(xoff, yoff) \
	VPBROADCASTW xoff(SI), X1 \
	VCVTPH2PS    X1, X1       \
	VPBROADCASTW yoff(DI), X2 \
	VCVTPH2PS    X2, X2       \
	VMULPS       X2, X1, X1

// HSUMI32 leaves the sum of the eight int32 lanes of Y(r) in X(r)[0] (and
// every lane). Clobbers X(t).
#define HSUMI32(yr, xr, xt) \
	VEXTRACTI128 $1, yr, xt \
	VPADDD       xt, xr, xr \
	VPSHUFD      $0x4e, xr, xt \
	VPADDD       xt, xr, xr \
	VPSHUFD      $0xb1, xr, xt \
	VPADDD       xt, xr, xr

// func dotIQ4_NLAVX2(x, y *byte, nb int) float32
//
// dotIQ4_NL: even blocks fused into Y8, odd ones into Y9, lane by lane;
// Y8+Y9 reduced as hsum_float_8; an unpaired last block added in scalar,
// its product d·float(Σ) rounded before the add.
TEXT ·dotIQ4_NLAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   nb+16(FP), CX
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	IQ4_CONSTS
	CMPQ   CX, $2
	JLT    iq4nlpaired

iq4nlpair:
	IQ4_VALUES(2)
	IQ4_TOKEN(2(DI), Y6)
	HALFPROD(0, 0)
	VBROADCASTSS X1, Y1
	VCVTDQ2PS    Y6, Y6
	VFMADD231PS  Y6, Y1, Y8
	IQ4_VALUES(20)
	IQ4_TOKEN(36(DI), Y6)
	HALFPROD(18, 34)
	VBROADCASTSS X1, Y1
	VCVTDQ2PS    Y6, Y6
	VFMADD231PS  Y6, Y1, Y9
	ADDQ $36, SI
	ADDQ $68, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  iq4nlpair

iq4nlpaired:
	VADDPS Y9, Y8, Y0
	HSUM8
	TESTQ  CX, CX
	JZ     iq4nldone
	IQ4_VALUES(2)
	IQ4_TOKEN(2(DI), Y6)
	HSUMI32(Y6, X6, X7)
	VCVTDQ2PS X6, X6
	HALFPROD(0, 0)
	VMULSS    X6, X1, X1
	VADDSS    X1, X0, X0

iq4nldone:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// IQ4R_QUAD sets X8 to the exact sums of the four blocks at SI (18 bytes
// apart) times the activation blocks at DI (34 apart), as float32, and X7
// to their scales f16(x.d)·f16(y.d). Clobbers Y2-Y6, Y9-Y11.
#define IQ4R_QUAD \
	IQ4_VALUES(2)                  \
	IQ4_TOKEN(2(DI), Y8)           \
	IQ4_VALUES(20)                 \
	IQ4_TOKEN(36(DI), Y9)          \
	IQ4_VALUES(38)                 \
	IQ4_TOKEN(70(DI), Y10)         \
	IQ4_VALUES(56)                 \
	IQ4_TOKEN(104(DI), Y11)        \
	VPHADDD      Y9, Y8, Y8        \
	VPHADDD      Y11, Y10, Y10     \
	VPHADDD      Y10, Y8, Y8       \
	VEXTRACTI128 $1, Y8, X9        \
	VPADDD       X9, X8, X8        \
	VCVTDQ2PS    X8, X8            \
	VPXOR        X7, X7, X7        \
	VPINSRW      $0, (SI), X7, X7  \
	VPINSRW      $1, 18(SI), X7, X7 \
	VPINSRW      $2, 36(SI), X7, X7 \
	VPINSRW      $3, 54(SI), X7, X7 \
	VPXOR        X6, X6, X6        \
	VPINSRW      $0, (DI), X6, X6  \
	VPINSRW      $1, 34(DI), X6, X6 \
	VPINSRW      $2, 68(DI), X6, X6 \
	VPINSRW      $3, 102(DI), X6, X6 \
	VCVTPH2PS    X7, X7            \
	VCVTPH2PS    X6, X6            \
	VMULPS       X6, X7, X7

// func dotIQ4_NLRepackedAVX2(x, y *byte, nb int) float32
//
// dotIQ4_NLRepacked: acc = fma(float(Σ), d, acc) once per block, in block
// order. Four blocks' sums are made together; only the fmas are serial.
TEXT ·dotIQ4_NLRepackedAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   nb+16(FP), CX
	VXORPS X0, X0, X0
	IQ4_CONSTS
	CMPQ   CX, $4
	JLT    iq4rtail

iq4rquad:
	IQ4R_QUAD
	VFMADD231SS X7, X8, X0
	VMOVSHDUP   X8, X9
	VMOVSHDUP   X7, X10
	VFMADD231SS X10, X9, X0
	VMOVHLPS    X8, X8, X9
	VMOVHLPS    X7, X7, X10
	VFMADD231SS X10, X9, X0
	VPERMILPS   $0xff, X8, X9
	VPERMILPS   $0xff, X7, X10
	VFMADD231SS X10, X9, X0
	ADDQ $72, SI
	ADDQ $136, DI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  iq4rquad

iq4rtail:
	TESTQ CX, CX
	JZ    iq4rdone

iq4rone:
	IQ4_VALUES(2)
	IQ4_TOKEN(2(DI), Y6)
	HSUMI32(Y6, X6, X7)
	VCVTDQ2PS   X6, X6
	HALFPROD(0, 0)
	VFMADD231SS X1, X6, X0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  iq4rone

iq4rdone:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func gemmIQ4_NLRepackedx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
//
// One row times four tokens (y, y+ystride, ...) in dotIQ4_NLRepacked's
// order, one token per lane of X0: each block's values are unpacked once.
TEXT ·gemmIQ4_NLRepackedx4AVX2(SB), NOSPLIT, $0-40
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   ystride+16(FP), R12
	MOVQ   nb+24(FP), CX
	LEAQ   (R12)(R12*2), R13
	VXORPS X0, X0, X0
	IQ4_CONSTS
	TESTQ  CX, CX
	JZ     giq4rdone

giq4rloop:
	IQ4_VALUES(2)
	IQ4_TOKEN(2(DI), Y8)
	IQ4_TOKEN(2(DI)(R12*1), Y9)
	IQ4_TOKEN(2(DI)(R12*2), Y10)
	IQ4_TOKEN(2(DI)(R13*1), Y11)
	VPHADDD      Y9, Y8, Y8
	VPHADDD      Y11, Y10, Y10
	VPHADDD      Y10, Y8, Y8
	VEXTRACTI128 $1, Y8, X9
	VPADDD       X9, X8, X8
	VCVTDQ2PS    X8, X8
	// X7 = f16(x.d)·f16(y_t.d), one token per lane.
	VPXOR        X6, X6, X6
	VPINSRW      $0, (DI), X6, X6
	VPINSRW      $1, (DI)(R12*1), X6, X6
	VPINSRW      $2, (DI)(R12*2), X6, X6
	VPINSRW      $3, (DI)(R13*1), X6, X6
	VCVTPH2PS    X6, X6
	VPBROADCASTW (SI), X7
	VCVTPH2PS    X7, X7
	VMULPS       X6, X7, X7
	VFMADD231PS  X7, X8, X0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  giq4rloop

giq4rdone:
	MOVQ    out+32(FP), AX
	VMOVUPS X0, (AX)
	VZEROUPPER
	RET

// ------------------------------------------------------------------ Q2_K

// Q2K_HEAD reads the scale/min bytes of the block at SI: Y7 = the sixteen
// mins as int16, Y11 = scales 0..7 as int16 in both lanes, Y12 = scales
// 8..15 likewise. Clobbers X6, X8.
#define Q2K_HEAD \
	VMOVDQU   (SI), X6               \
	VPAND     q2nl_m0f<>(SB), X6, X8 \
	VPSRLW    $4, X6, X6             \
	VPAND     q2nl_m0f<>(SB), X6, X6 \
	VPMOVZXBW X6, Y7                 \
	VPMOVZXBW X8, Y8                 \
	VPERMQ    $0x44, Y8, Y11         \
	VPERMQ    $0xee, Y8, Y12

// Q2K_CHUNK adds to dst the int32 lanes of chunk k (2-bit quants: Y6
// shifted right by sh, masked with Y14) times the 32 activations at aoff,
// each pair of products scaled by its sub-block's scale (from sc with
// mask k). Clobbers Y8, Y10.
#define Q2K_CHUNK(sh, aoff, sc, moff, dst) \
	VPSRLW     $sh, Y6, Y8                 \
	VPAND      Y14, Y8, Y8                 \
	VPMADDUBSW aoff, Y8, Y8                \
	VPSHUFB    q2nl_shuf<>+moff(SB), sc, Y10 \
	VPMADDWD   Y10, Y8, Y8                 \
	VPADDD     Y8, dst, dst

// Q2K_HALF sets dst to the int32 lanes of the 128 values of half h (quants
// at qoff(SI), activations at aoff(a), scales sc): lane l sums elements
// 4l..4l+3 of each chunk of 32 times their scale. Clobbers Y6, Y8, Y10.
#define Q2K_HALF(a, qoff, aoff, sc, dst) \
	VMOVDQU    qoff(SI), Y6                \
	VPXOR      dst, dst, dst               \
	Q2K_CHUNK(0, aoff(a), sc, 0, dst)      \
	Q2K_CHUNK(2, aoff+32(a), sc, 32, dst)  \
	Q2K_CHUNK(4, aoff+64(a), sc, 64, dst)  \
	Q2K_CHUNK(6, aoff+96(a), sc, 96, dst)

// func dotQ2_KAVX2(x, y *byte, nb int) float32
//
// dotQ2_K: per super-block acc = fma(dmin, float(madd(mins, bsums)), acc)
// with dmin = -(y.d·x.dmin), then acc = fma(d, float(lanes), acc) with
// d = y.d·x.d; hsum_float_8 at the end.
TEXT ·dotQ2_KAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	BYTES(0x03030303, Y14)
	BYTES(0x80000000, Y15)
	TESTQ  CX, CX
	JZ     q2kdone

q2kloop:
	Q2K_HEAD
	VBROADCASTSS (DI), Y2
	VPBROADCASTW 80(SI), X4
	VCVTPH2PS    X4, Y4
	VMULPS       Y2, Y4, Y4
	VPBROADCASTW 82(SI), X5
	VCVTPH2PS    X5, Y5
	VMULPS       Y2, Y5, Y5
	VXORPS       Y15, Y5, Y5
	VPMADDWD     260(DI), Y7, Y9
	VCVTDQ2PS    Y9, Y9
	VFMADD231PS  Y9, Y5, Y0
	Q2K_HALF(DI, 16, 4, Y11, Y1)
	Q2K_HALF(DI, 48, 132, Y12, Y3)
	VPADDD       Y3, Y1, Y1
	VCVTDQ2PS    Y1, Y1
	VFMADD231PS  Y1, Y4, Y0
	ADDQ $84, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q2kloop

q2kdone:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ2_KRepackedAVX2(x, y *byte, nb, groups int) float32
//
// dotQ2_KRepacked with groups 1 or 2: X0 = [acc, accMin, -, -], each
// group fused as fma([Σ sc·q·a, Σ m·bsum], [d, dmin], X0) with
// d = x.d·y.d, dmin = x.dmin·y.d; acc - accMin at the end.
TEXT ·dotQ2_KRepackedAVX2(SB), NOSPLIT, $0-36
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   nb+16(FP), CX
	MOVQ   groups+24(FP), R12
	VXORPS X0, X0, X0
	BYTES(0x03030303, Y14)
	TESTQ  CX, CX
	JZ     q2krdone

q2krloop:
	Q2K_HEAD
	// X5 = [d, dmin, 0, 0].
	VMOVD        80(SI), X5
	VCVTPH2PS    X5, X5
	VBROADCASTSS (DI), X2
	VMULPS       X2, X5, X5
	VPMADDWD     260(DI), Y7, Y9
	Q2K_HALF(DI, 16, 4, Y11, Y1)
	Q2K_HALF(DI, 48, 132, Y12, Y3)
	CMPQ         R12, $1
	JNE          q2krtwo
	// One group: X1 = [Σ sums, Σ mins, ...].
	VPADDD       Y3, Y1, Y1
	VEXTRACTI128 $1, Y1, X8
	VPADDD       X8, X1, X1
	VEXTRACTI128 $1, Y9, X8
	VPADDD       X8, X9, X9
	VPHADDD      X9, X1, X1
	VPHADDD      X1, X1, X1
	VCVTDQ2PS    X1, X1
	VFMADD231PS  X5, X1, X0
	JMP          q2krnext

q2krtwo:
	// X1 = [half 0 sums, mins 0..7, half 1 sums, mins 8..15].
	VEXTRACTI128 $1, Y1, X8
	VPADDD       X8, X1, X1
	VEXTRACTI128 $1, Y3, X8
	VPADDD       X8, X3, X3
	VEXTRACTI128 $1, Y9, X8
	VPHADDD      X9, X1, X1
	VPHADDD      X8, X3, X3
	VPHADDD      X3, X1, X1
	VCVTDQ2PS    X1, X1
	VFMADD231PS  X5, X1, X0
	VMOVHLPS     X1, X1, X1
	VFMADD231PS  X5, X1, X0

q2krnext:
	ADDQ $84, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q2krloop

q2krdone:
	VMOVSHDUP X0, X7
	VSUBSS    X7, X0, X0
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// Q2KX4_CHUNK adds chunk k (shift sh, activations at aoff of each token,
// scale mask moff from sc) to the four token accumulators Y0-Y3.
// Clobbers Y8-Y10.
#define Q2KX4_CHUNK(sh, aoff, sc, moff) \
	VPSRLW     $sh, Y6, Y8                   \
	VPAND      Y14, Y8, Y8                   \
	VPSHUFB    q2nl_shuf<>+moff(SB), sc, Y10 \
	VPMADDUBSW aoff(DI), Y8, Y9              \
	VPMADDWD   Y10, Y9, Y9                   \
	VPADDD     Y9, Y0, Y0                    \
	VPMADDUBSW aoff(R8), Y8, Y9       \
	VPMADDWD   Y10, Y9, Y9                   \
	VPADDD     Y9, Y1, Y1                    \
	VPMADDUBSW aoff(R9), Y8, Y9       \
	VPMADDWD   Y10, Y9, Y9                   \
	VPADDD     Y9, Y2, Y2                    \
	VPMADDUBSW aoff(R10), Y8, Y9       \
	VPMADDWD   Y10, Y9, Y9                   \
	VPADDD     Y9, Y3, Y3

// Q2KX4_HALF folds half h (quants at qoff(SI), activations at aoff) for
// the four tokens: acc (one token per lane) = fma(float(Σ), X15, X4).
#define Q2KX4_HALF(qoff, aoff, sc) \
	VMOVDQU      qoff(SI), Y6         \
	VPXOR        Y0, Y0, Y0           \
	VPXOR        Y1, Y1, Y1           \
	VPXOR        Y2, Y2, Y2           \
	VPXOR        Y3, Y3, Y3           \
	Q2KX4_CHUNK(0, aoff, sc, 0)       \
	Q2KX4_CHUNK(2, aoff+32, sc, 32)   \
	Q2KX4_CHUNK(4, aoff+64, sc, 64)   \
	Q2KX4_CHUNK(6, aoff+96, sc, 96)   \
	VPHADDD      Y1, Y0, Y0           \
	VPHADDD      Y3, Y2, Y2           \
	VPHADDD      Y2, Y0, Y0           \
	VEXTRACTI128 $1, Y0, X9           \
	VPADDD       X9, X0, X0           \
	VCVTDQ2PS    X0, X0               \
	VFMADD231PS  X15, X0, X4

// func gemmQ2_KRepackedx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
//
// One row times four tokens in dotQ2_KRepacked's gemm order (two groups
// of 128 per super-block), one token per lane: X4 the sums, X5 the
// minimum terms; the weights are unpacked once for the four tokens.
TEXT ·gemmQ2_KRepackedx4AVX2(SB), NOSPLIT, $0-40
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   ystride+16(FP), R12
	MOVQ   nb+24(FP), CX
	LEAQ   (R12)(R12*2), R13
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	BYTES(0x03030303, Y14)
	TESTQ  CX, CX
	JZ     gq2krdone

gq2krloop:
	Q2K_HEAD
	// Plain base registers: indexed memory operands of the VEX
	// arithmetic would split into two uops each.
	LEAQ (DI)(R12*1), R8
	LEAQ (DI)(R12*2), R9
	LEAQ (DI)(R13*1), R10
	// X15 = x.d·y_t.d and X13 = x.dmin·y_t.d, one token per lane.
	VMOVSS       (DI), X9
	VINSERTPS    $0x10, (DI)(R12*1), X9, X9
	VINSERTPS    $0x20, (DI)(R12*2), X9, X9
	VINSERTPS    $0x30, (DI)(R13*1), X9, X9
	VMOVD        80(SI), X10
	VCVTPH2PS    X10, X10
	VBROADCASTSS X10, X15
	VMULPS       X9, X15, X15
	VMOVSHDUP    X10, X10
	VBROADCASTSS X10, X13
	VMULPS       X9, X13, X13

	// Minimum terms: the low lane of Y0 gets group 0 (sub-blocks 0..7) of
	// each token, the high lane group 1.
	VPMADDWD     260(DI), Y7, Y0
	VPMADDWD     260(R8), Y7, Y1
	VPMADDWD     260(R9), Y7, Y2
	VPMADDWD     260(R10), Y7, Y3
	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y2, Y0, Y0
	VCVTDQ2PS    Y0, Y0
	VFMADD231PS  X13, X0, X5
	VEXTRACTF128 $1, Y0, X0
	VFMADD231PS  X13, X0, X5

	Q2KX4_HALF(16, 4, Y11)
	Q2KX4_HALF(48, 132, Y12)

	ADDQ $84, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  gq2krloop

gq2krdone:
	MOVQ    out+32(FP), AX
	VSUBPS  X5, X4, X4
	VMOVUPS X4, (AX)
	VZEROUPPER
	RET
