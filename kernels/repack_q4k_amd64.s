//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// Q4_K rows times Q8_K rows in llama.cpp's repacked orders
// (repack_kquants.go, dotQ4_KRepacked): the integer work of dotQ4_KAVX2,
// then exact horizontal sums and fused multiply-adds with the sums in
// lane 0 and the minimum terms in lane 1 of one accumulator.
//
// Stack frame: 0 the block's 8 scales (int16), 16 its 8 mins (int16).
// X12 holds [f16(x.d), f16(x.dmin), 0, 0] as float32 (kept in a register:
// a 16-byte reload of an 8-byte store would miss store forwarding).

// Q4KR_HEAD unpacks the block at SI into the frame and X12. Clobbers AX,
// BX, DX, R8-R11, X6, X7.
#define Q4KR_HEAD \
	MOVL      (SI), AX                \
	VMOVD     AX, X7                  \
	VCVTPH2PS X7, X12                 \
	MOVL      4(SI), AX               \
	MOVL      8(SI), BX               \
	MOVL      12(SI), DX              \
	MOVL      DX, R8                  \
	SHRL      $4, R8                  \
	ANDL      $0x0f0f0f0f, R8         \
	MOVL      BX, R9                  \
	SHRL      $6, R9                  \
	ANDL      $0x03030303, R9         \
	SHLL      $4, R9                  \
	ORL       R9, R8                  \
	MOVL      BX, R10                 \
	ANDL      $0x3f3f3f3f, R10        \
	MOVL      DX, R11                 \
	ANDL      $0x0f0f0f0f, R11        \
	MOVL      AX, R9                  \
	SHRL      $6, R9                  \
	ANDL      $0x03030303, R9         \
	SHLL      $4, R9                  \
	ORL       R9, R11                 \
	ANDL      $0x3f3f3f3f, AX         \
	SHLQ      $32, R11                \
	ORQ       R11, AX                 \
	SHLQ      $32, R8                 \
	ORQ       R8, R10                 \
	VMOVQ     AX, X6                  \
	VPMOVZXBW X6, X6                  \
	VMOVDQU   X6, 0(SP)               \
	VMOVQ     R10, X6                 \
	VPMOVZXBW X6, X6                  \
	VMOVDQU   X6, 16(SP)

// Q4KR_PAIR computes the int32 lanes of Σ sc·q4·q8 for the 64 weights at
// qoff(SI) and activations at aoff(a) (scales at soff(SP), soff+2(SP)) into
// dst. Clobbers Y6-Y9.
#define Q4KR_PAIR(a, qoff, aoff, soff, dst) \
	VMOVDQU      qoff(SI), Y6         \
	VPSRLW       $4, Y6, Y7           \
	VPAND        Y14, Y6, Y6          \
	VPAND        Y14, Y7, Y7          \
	VPMADDUBSW   aoff(a), Y6, Y6      \
	VPMADDUBSW   aoff+32(a), Y7, Y7   \
	VPBROADCASTW soff(SP), Y8         \
	VPBROADCASTW soff+2(SP), Y9       \
	VPMADDWD     Y8, Y6, Y6           \
	VPMADDWD     Y9, Y7, Y7           \
	VPADDD       Y7, Y6, dst

// Q4KR_TOKEN computes, for the activation block at a: X3 = [d_w·d_a,
// dmin_w·d_a, 0, 0], X13 = the four groups' minimum terms m·(bsum pair),
// and the four groups' int32 lanes in Y10, Y11, Y15, Y5. Clobbers X7, X8.
#define Q4KR_TOKEN(a) \
	VBROADCASTSS (a), X3             \
	VMULPS       X12, X3, X3         \
	VMOVDQU      260(a), X7          \
	VMOVDQU      276(a), X8          \
	VPHADDW      X8, X7, X7          \
	VPMADDWD     16(SP), X7, X13     \
	Q4KR_PAIR(a, 16, 4, 0, Y10)      \
	Q4KR_PAIR(a, 48, 68, 4, Y11)     \
	Q4KR_PAIR(a, 80, 132, 8, Y15)    \
	Q4KR_PAIR(a, 112, 196, 12, Y5)

// Q4KR_GEMV folds the whole super-block: acc += [Σ sums, Σ mins]·X3.
#define Q4KR_GEMV(acc) \
	VPADDD       Y11, Y10, Y10       \
	VPADDD       Y5, Y15, Y15        \
	VPADDD       Y15, Y10, Y10       \
	VEXTRACTI128 $1, Y10, X7         \
	VPADDD       X7, X10, X10        \
	VPUNPCKLQDQ  X13, X10, X7        \
	VPUNPCKHQDQ  X13, X10, X8        \
	VPADDD       X8, X7, X7          \
	VPSHUFD      $0xb1, X7, X8       \
	VPADDD       X8, X7, X7          \
	VPSHUFD      $0x08, X7, X7       \
	VCVTDQ2PS    X7, X7              \
	VFMADD231PS  X3, X7, acc

// Q4KR_GEMM folds the four groups of 64 one after the other.
#define Q4KR_GEMM(acc) \
	VPHADDD      Y11, Y10, Y10       \
	VPHADDD      Y5, Y15, Y15        \
	VPHADDD      Y15, Y10, Y10       \
	VEXTRACTI128 $1, Y10, X7         \
	VPADDD       X7, X10, X10        \
	VCVTDQ2PS    X10, X10            \
	VCVTDQ2PS    X13, X13            \
	VUNPCKLPS    X13, X10, X7        \
	VUNPCKHPS    X13, X10, X8        \
	VFMADD231PS  X3, X7, acc         \
	VMOVHLPS     X7, X7, X7          \
	VFMADD231PS  X3, X7, acc         \
	VFMADD231PS  X3, X8, acc         \
	VMOVHLPS     X8, X8, X8          \
	VFMADD231PS  X3, X8, acc

// Q4KR_RESULT leaves acc[0] - acc[1] in acc[0]. Clobbers X7.
#define Q4KR_RESULT(acc) \
	VMOVSHDUP acc, X7  \
	VSUBSS    X7, acc, acc

// func dotQ4_KRepackedAVX2(x, y *byte, nb, groups int) float32
//
// groups is 1 (gemv order: one fma per super-block) or 4 (gemm order: one
// per 64 elements).
TEXT ·dotQ4_KRepackedAVX2(SB), NOSPLIT, $32-36
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   nb+16(FP), CX
	MOVQ   groups+24(FP), R12
	VXORPS X0, X0, X0
	BYTES(0x0f0f0f0f, Y14)
	TESTQ  CX, CX
	JZ     q4krdone
	CMPQ   R12, $1
	JNE    q4krgemm

q4krgemv:
	Q4KR_HEAD
	Q4KR_TOKEN(DI)
	Q4KR_GEMV(X0)
	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4krgemv
	JMP  q4krdone

q4krgemm:
	Q4KR_HEAD
	Q4KR_TOKEN(DI)
	Q4KR_GEMM(X0)
	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4krgemm

q4krdone:
	Q4KR_RESULT(X0)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// Q4KR_X4TOK adds, for one token (activations at a), the int32 lanes of
// the pair whose unpacked weights are in Y6/Y7 and scales in Y8/Y9 into
// dst. Clobbers Y10, Y11.
#define Q4KR_X4TOK(a, aoff, dst) \
	VPMADDUBSW aoff(a), Y6, Y10     \
	VPMADDWD   Y8, Y10, Y10         \
	VPMADDUBSW aoff+32(a), Y7, Y11  \
	VPMADDWD   Y9, Y11, Y11         \
	VPADDD     Y11, Y10, dst

// Q4KR_X4PAIR folds the 64 weights at qoff(SI) (scales at soff(SP)) for
// the four tokens: X10 = their four exact sums, then acc (one lane per
// token) = fma(float(sums), X15, acc).
#define Q4KR_X4PAIR(qoff, aoff, soff) \
	VMOVDQU      qoff(SI), Y6       \
	VPSRLW       $4, Y6, Y7         \
	VPAND        Y14, Y6, Y6        \
	VPAND        Y14, Y7, Y7        \
	VPBROADCASTW soff(SP), Y8       \
	VPBROADCASTW soff+2(SP), Y9     \
	Q4KR_X4TOK(DI, aoff, Y0)        \
	Q4KR_X4TOK(R8, aoff, Y1)        \
	Q4KR_X4TOK(R9, aoff, Y2)        \
	Q4KR_X4TOK(R10, aoff, Y3)       \
	VPHADDD      Y1, Y0, Y10        \
	VPHADDD      Y3, Y2, Y11        \
	VPHADDD      Y11, Y10, Y10      \
	VEXTRACTI128 $1, Y10, X11       \
	VPADDD       X11, X10, X10      \
	VCVTDQ2PS    X10, X10           \
	VFMADD231PS  X15, X10, X4

// Q4KR_X4MINS leaves one token's four groups' minimum terms in dst.
#define Q4KR_X4MINS(a, dst) \
	VMOVDQU  260(a), X10      \
	VMOVDQU  276(a), X11      \
	VPHADDW  X11, X10, X10    \
	VPMADDWD 16(SP), X10, dst

// func gemmQ4_KRepackedx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
//
// One weight row times the four activation rows at y, y+ystride, ... in
// the gemm order. The weights are unpacked once for the four tokens, and
// the accumulators hold one token per lane: X4 the sums, X5 the minimum
// terms, each lane fused in the one-token order.
TEXT ·gemmQ4_KRepackedx4AVX2(SB), NOSPLIT, $32-40
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   ystride+16(FP), R12
	MOVQ   nb+24(FP), CX
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	BYTES(0x0f0f0f0f, Y14)
	TESTQ  CX, CX
	JZ     gq4krdone

gq4krloop:
	Q4KR_HEAD
	LEAQ (DI)(R12*1), R8
	LEAQ (R8)(R12*1), R9
	LEAQ (R9)(R12*1), R10
	// X15 = d_w·d_a and X13 = dmin_w·d_a, one token per lane.
	VMOVSS       (DI), X11
	VINSERTPS    $0x10, (R8), X11, X11
	VINSERTPS    $0x20, (R9), X11, X11
	VINSERTPS    $0x30, (R10), X11, X11
	VBROADCASTSS X12, X15
	VMULPS       X11, X15, X15
	VMOVSHDUP    X12, X13
	VBROADCASTSS X13, X13
	VMULPS       X11, X13, X13

	Q4KR_X4PAIR(16, 4, 0)
	Q4KR_X4PAIR(48, 68, 4)
	Q4KR_X4PAIR(80, 132, 8)
	Q4KR_X4PAIR(112, 196, 12)

	// The minimum terms, transposed to one vector per group.
	Q4KR_X4MINS(DI, X0)
	Q4KR_X4MINS(R8, X1)
	Q4KR_X4MINS(R9, X2)
	Q4KR_X4MINS(R10, X3)
	VPUNPCKLDQ  X1, X0, X6
	VPUNPCKHDQ  X1, X0, X7
	VPUNPCKLDQ  X3, X2, X8
	VPUNPCKHDQ  X3, X2, X9
	VPUNPCKLQDQ X8, X6, X0
	VPUNPCKHQDQ X8, X6, X1
	VPUNPCKLQDQ X9, X7, X2
	VPUNPCKHQDQ X9, X7, X3
	VCVTDQ2PS   X0, X0
	VCVTDQ2PS   X1, X1
	VCVTDQ2PS   X2, X2
	VCVTDQ2PS   X3, X3
	VFMADD231PS X13, X0, X5
	VFMADD231PS X13, X1, X5
	VFMADD231PS X13, X2, X5
	VFMADD231PS X13, X3, X5

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  gq4krloop

gq4krdone:
	MOVQ    out+32(FP), AX
	VSUBPS  X5, X4, X4
	VMOVUPS X4, (AX)
	VZEROUPPER
	RET
