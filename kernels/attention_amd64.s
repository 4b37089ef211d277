//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// AttendPaged's block kernels, AVX2 (+FMA, F16C). Each works on the rows of
// one KV block and gives exactly what the per-row kernels of the same level
// give (dotF16AVX2, scaleF16AVX2 + madF16AVX2, and Attend's float64 fmaf).

// func attnDotsF16AVX2(k *byte, stride, rows int, q *byte, n int, x *float32)
//
// x[r] = dotF16AVX2(k + r*stride, q, n) for r < rows (rows >= 1, n a
// positive multiple of 64), in the same order: eight 8-lane accumulators
// over 64 values, folded as GGML_F32x16_REDUCE, then HSUM8.
TEXT ·attnDotsF16AVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), R8
	MOVQ stride+8(FP), R9
	MOVQ rows+16(FP), R10
	MOVQ q+24(FP), R11
	MOVQ n+32(FP), R12
	MOVQ x+40(FP), AX

dotsrow:
	MOVQ   R8, SI
	MOVQ   R11, DI
	MOVQ   R12, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

dotsloop:
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
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $64, CX
	JNZ         dotsloop

	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y0, Y1, Y0
	HSUM8
	MOVSS  X0, (AX)
	ADDQ   $4, AX
	ADDQ   R9, R8
	DECQ   R10
	JNZ    dotsrow
	VZEROUPPER
	RET

// func attnDots64F16AVX2(k *byte, stride, rows int, q *byte, x *float32)
//
// attnDotsF16AVX2 for n = 64 with q held in Y8-Y15. With one step, each
// accumulator of dotF16AVX2 is 0 + k_j*q_j, an exact product (halves have
// 11-bit significands), so the first fold acc_j + acc_(j+4) is one FMA on
// top of it, rounded exactly as the sum of the two; the rest of the fold
// is the same.
TEXT ·attnDots64F16AVX2(SB), NOSPLIT, $0-40
	MOVQ      k+0(FP), SI
	MOVQ      stride+8(FP), R9
	MOVQ      rows+16(FP), R10
	MOVQ      q+24(FP), DI
	MOVQ      x+32(FP), AX
	VCVTPH2PS (DI), Y8
	VCVTPH2PS 16(DI), Y9
	VCVTPH2PS 32(DI), Y10
	VCVTPH2PS 48(DI), Y11
	VCVTPH2PS 64(DI), Y12
	VCVTPH2PS 80(DI), Y13
	VCVTPH2PS 96(DI), Y14
	VCVTPH2PS 112(DI), Y15

dots64row:
	VXORPS      Y0, Y0, Y0
	VXORPS      Y1, Y1, Y1
	VXORPS      Y2, Y2, Y2
	VXORPS      Y3, Y3, Y3
	VCVTPH2PS   (SI), Y4
	VCVTPH2PS   16(SI), Y5
	VCVTPH2PS   32(SI), Y6
	VCVTPH2PS   48(SI), Y7
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y9, Y5, Y1
	VFMADD231PS Y10, Y6, Y2
	VFMADD231PS Y11, Y7, Y3
	VCVTPH2PS   64(SI), Y4
	VCVTPH2PS   80(SI), Y5
	VCVTPH2PS   96(SI), Y6
	VCVTPH2PS   112(SI), Y7
	VFMADD231PS Y12, Y4, Y0
	VFMADD231PS Y13, Y5, Y1
	VFMADD231PS Y14, Y6, Y2
	VFMADD231PS Y15, Y7, Y3
	VADDPS      Y2, Y0, Y0
	VADDPS      Y3, Y1, Y1
	VADDPS      Y0, Y1, Y0
	HSUM8
	MOVSS       X0, (AX)
	ADDQ        $4, AX
	ADDQ        R9, SI
	DECQ        R10
	JNZ         dots64row
	VZEROUPPER
	RET

// ROUND16 rounds the float32 lanes of y to F16 precision (nearest even),
// as storing them to an F16 accumulator and loading them back does.
#define ROUND16(y, x) \
	VCVTPS2PH $0, y, x \
	VCVTPH2PS x, y

// func attnAccF16AVX2(h *uint16, n int, v *byte, stride, rows int, ms, vs *float32)
//
// For r < rows (rows >= 1): unless ms[r] == 1, h = f16(h*ms[r]); then h =
// f16(fma(v_r, vs[r], h)), with v_r the F16 row at v + r*stride; n is a
// positive multiple of 8. Each lane sees exactly scaleF16AVX2's and
// madF16AVX2's operations; the accumulator stays in registers, rounded to
// F16 after every step, for a whole block. Eight (then four, then one)
// 8-lane chunks go together so their dependency chains overlap.
TEXT ·attnAccF16AVX2(SB), NOSPLIT, $0-56
	MOVQ  h+0(FP), SI
	MOVQ  n+8(FP), CX
	MOVQ  v+16(FP), DI
	MOVQ  stride+24(FP), R9
	MOVQ  rows+32(FP), R10
	MOVQ  ms+40(FP), R11
	MOVQ  vs+48(FP), R12
	MOVL  $0x3f800000, AX
	VMOVD AX, X15

acc64:
	CMPQ      CX, $64
	JLT       acc32
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VCVTPH2PS 32(SI), Y2
	VCVTPH2PS 48(SI), Y3
	VCVTPH2PS 64(SI), Y4
	VCVTPH2PS 80(SI), Y5
	VCVTPH2PS 96(SI), Y6
	VCVTPH2PS 112(SI), Y7
	MOVQ      DI, R8
	MOVQ      R11, R13
	MOVQ      R12, DX
	MOVQ      R10, BX

acc64row:
	VMOVSS   (R13), X13
	VUCOMISS X15, X13
	JNE      acc64scale
	JPS      acc64scale

acc64mad:
	VBROADCASTSS (DX), Y8
	VCVTPH2PS    (R8), Y9
	VCVTPH2PS    16(R8), Y10
	VCVTPH2PS    32(R8), Y11
	VCVTPH2PS    48(R8), Y12
	VFMADD231PS  Y8, Y9, Y0
	VFMADD231PS  Y8, Y10, Y1
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y8, Y12, Y3
	VCVTPH2PS    64(R8), Y9
	VCVTPH2PS    80(R8), Y10
	VCVTPH2PS    96(R8), Y11
	VCVTPH2PS    112(R8), Y12
	VFMADD231PS  Y8, Y9, Y4
	VFMADD231PS  Y8, Y10, Y5
	VFMADD231PS  Y8, Y11, Y6
	VFMADD231PS  Y8, Y12, Y7
	ROUND16(Y0, X9)
	ROUND16(Y1, X10)
	ROUND16(Y2, X11)
	ROUND16(Y3, X12)
	ROUND16(Y4, X9)
	ROUND16(Y5, X10)
	ROUND16(Y6, X11)
	ROUND16(Y7, X12)
	ADDQ         R9, R8
	ADDQ         $4, R13
	ADDQ         $4, DX
	DECQ         BX
	JNZ          acc64row

	VCVTPS2PH $0, Y0, (SI)
	VCVTPS2PH $0, Y1, 16(SI)
	VCVTPS2PH $0, Y2, 32(SI)
	VCVTPS2PH $0, Y3, 48(SI)
	VCVTPS2PH $0, Y4, 64(SI)
	VCVTPS2PH $0, Y5, 80(SI)
	VCVTPS2PH $0, Y6, 96(SI)
	VCVTPS2PH $0, Y7, 112(SI)
	ADDQ      $128, SI
	ADDQ      $128, DI
	SUBQ      $64, CX
	JMP       acc64

acc64scale:
	VBROADCASTSS X13, Y13
	VMULPS       Y13, Y0, Y0
	VMULPS       Y13, Y1, Y1
	VMULPS       Y13, Y2, Y2
	VMULPS       Y13, Y3, Y3
	VMULPS       Y13, Y4, Y4
	VMULPS       Y13, Y5, Y5
	VMULPS       Y13, Y6, Y6
	VMULPS       Y13, Y7, Y7
	ROUND16(Y0, X9)
	ROUND16(Y1, X10)
	ROUND16(Y2, X11)
	ROUND16(Y3, X12)
	ROUND16(Y4, X9)
	ROUND16(Y5, X10)
	ROUND16(Y6, X11)
	ROUND16(Y7, X12)
	JMP          acc64mad

acc32:
	CMPQ      CX, $32
	JLT       acc8
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VCVTPH2PS 32(SI), Y2
	VCVTPH2PS 48(SI), Y3
	MOVQ      DI, R8
	MOVQ      R11, R13
	MOVQ      R12, DX
	MOVQ      R10, BX

acc32row:
	VMOVSS   (R13), X4
	VUCOMISS X15, X4
	JNE      acc32scale
	JPS      acc32scale

acc32mad:
	VBROADCASTSS (DX), Y4
	VCVTPH2PS    (R8), Y5
	VCVTPH2PS    16(R8), Y6
	VCVTPH2PS    32(R8), Y7
	VCVTPH2PS    48(R8), Y8
	VFMADD231PS  Y4, Y5, Y0
	VFMADD231PS  Y4, Y6, Y1
	VFMADD231PS  Y4, Y7, Y2
	VFMADD231PS  Y4, Y8, Y3
	ROUND16(Y0, X5)
	ROUND16(Y1, X6)
	ROUND16(Y2, X7)
	ROUND16(Y3, X8)
	ADDQ         R9, R8
	ADDQ         $4, R13
	ADDQ         $4, DX
	DECQ         BX
	JNZ          acc32row

	VCVTPS2PH $0, Y0, (SI)
	VCVTPS2PH $0, Y1, 16(SI)
	VCVTPS2PH $0, Y2, 32(SI)
	VCVTPS2PH $0, Y3, 48(SI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $32, CX
	JMP       acc32

acc32scale:
	VBROADCASTSS X4, Y4
	VMULPS       Y4, Y0, Y0
	VMULPS       Y4, Y1, Y1
	VMULPS       Y4, Y2, Y2
	VMULPS       Y4, Y3, Y3
	ROUND16(Y0, X5)
	ROUND16(Y1, X6)
	ROUND16(Y2, X7)
	ROUND16(Y3, X8)
	JMP          acc32mad

acc8:
	TESTQ     CX, CX
	JZ        accdone
	VCVTPH2PS (SI), Y0
	MOVQ      DI, R8
	MOVQ      R11, R13
	MOVQ      R12, DX
	MOVQ      R10, BX

acc8row:
	VMOVSS   (R13), X4
	VUCOMISS X15, X4
	JNE      acc8scale
	JPS      acc8scale

acc8mad:
	VBROADCASTSS (DX), Y4
	VCVTPH2PS    (R8), Y5
	VFMADD231PS  Y4, Y5, Y0
	ROUND16(Y0, X5)
	ADDQ         R9, R8
	ADDQ         $4, R13
	ADDQ         $4, DX
	DECQ         BX
	JNZ          acc8row

	VCVTPS2PH $0, Y0, (SI)
	ADDQ      $16, SI
	ADDQ      $16, DI
	SUBQ      $8, CX
	JMP       acc8

acc8scale:
	VBROADCASTSS X4, Y4
	VMULPS       Y4, Y0, Y0
	ROUND16(Y0, X5)
	JMP          acc8mad

accdone:
	VZEROUPPER
	RET

// func attnAccF32AVX2(acc *float32, n int, v *float32, stride, rows int, ms, vs *float32)
//
// For r < rows (rows >= 1): unless ms[r] == 1, acc = acc*ms[r] in float32;
// then acc = float32(fma(v_r, vs[r], acc)) computed in float64, exactly
// the reference's fmaf; v_r is the row at v + r*stride (bytes); n is a
// positive multiple of 4. Sixteen lanes at a time while they last, then four.
TEXT ·attnAccF32AVX2(SB), NOSPLIT, $0-56
	MOVQ  acc+0(FP), SI
	MOVQ  n+8(FP), CX
	MOVQ  v+16(FP), DI
	MOVQ  stride+24(FP), R9
	MOVQ  rows+32(FP), R10
	MOVQ  ms+40(FP), R11
	MOVQ  vs+48(FP), R12
	MOVL  $0x3f800000, AX
	VMOVD AX, X15

f32acc16:
	CMPQ    CX, $16
	JLT     f32acc4
	VMOVUPS (SI), X0
	VMOVUPS 16(SI), X1
	VMOVUPS 32(SI), X2
	VMOVUPS 48(SI), X3
	MOVQ    DI, R8
	MOVQ    R11, R13
	MOVQ    R12, DX
	MOVQ    R10, BX

f32acc16row:
	VMOVSS   (R13), X4
	VUCOMISS X15, X4
	JNE      f32acc16scale
	JPS      f32acc16scale

f32acc16mad:
	VMOVSS       (DX), X4
	VCVTSS2SD    X4, X4, X4
	VBROADCASTSD X4, Y4
	VCVTPS2PD    X0, Y5
	VCVTPS2PD    X1, Y6
	VCVTPS2PD    X2, Y7
	VCVTPS2PD    X3, Y8
	VCVTPS2PD    (R8), Y9
	VCVTPS2PD    16(R8), Y10
	VCVTPS2PD    32(R8), Y11
	VCVTPS2PD    48(R8), Y12
	VFMADD231PD  Y4, Y9, Y5
	VFMADD231PD  Y4, Y10, Y6
	VFMADD231PD  Y4, Y11, Y7
	VFMADD231PD  Y4, Y12, Y8
	VCVTPD2PSY   Y5, X0
	VCVTPD2PSY   Y6, X1
	VCVTPD2PSY   Y7, X2
	VCVTPD2PSY   Y8, X3
	ADDQ         R9, R8
	ADDQ         $4, R13
	ADDQ         $4, DX
	DECQ         BX
	JNZ          f32acc16row

	VMOVUPS X0, (SI)
	VMOVUPS X1, 16(SI)
	VMOVUPS X2, 32(SI)
	VMOVUPS X3, 48(SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     f32acc16

f32acc16scale:
	VBROADCASTSS X4, X4
	VMULPS       X4, X0, X0
	VMULPS       X4, X1, X1
	VMULPS       X4, X2, X2
	VMULPS       X4, X3, X3
	JMP          f32acc16mad

f32acc4:
	TESTQ   CX, CX
	JZ      f32done
	VMOVUPS (SI), X0
	MOVQ    DI, R8
	MOVQ    R11, R13
	MOVQ    R12, DX
	MOVQ    R10, BX

f32acc4row:
	VMOVSS   (R13), X4
	VUCOMISS X15, X4
	JNE      f32acc4scale
	JPS      f32acc4scale

f32acc4mad:
	VMOVSS       (DX), X4
	VCVTSS2SD    X4, X4, X4
	VBROADCASTSD X4, Y4
	VCVTPS2PD    X0, Y5
	VCVTPS2PD    (R8), Y9
	VFMADD231PD  Y4, Y9, Y5
	VCVTPD2PSY   Y5, X0
	ADDQ         R9, R8
	ADDQ         $4, R13
	ADDQ         $4, DX
	DECQ         BX
	JNZ          f32acc4row

	VMOVUPS X0, (SI)
	ADDQ    $16, SI
	ADDQ    $16, DI
	SUBQ    $4, CX
	JMP     f32acc4

f32acc4scale:
	VBROADCASTSS X4, X4
	VMULPS       X4, X0, X0
	JMP          f32acc4mad

f32done:
	VZEROUPPER
	RET

// Constants of Go's math.Exp on amd64 (src/math/exp_amd64.s, after Naoki
// Shibata's SLEEF), spelled as there so they parse to the same float64s.
DATA attnexp<>+0(SB)/8, $0x40471547652b82fe  // 32/ln 2
DATA attnexp<>+8(SB)/8, $0x4338000000000000  // 0x1.8p52, rounds to an integer
DATA attnexp<>+16(SB)/8, $0x3ebc6af84b912394 // c0
DATA attnexp<>+24(SB)/8, $0x3f2ebfce50fac4f3 // c1
DATA attnexp<>+32(SB)/8, $0x3f962e42ff0c52d6 // c2
DATA attnexp<>+40(SB)/8, $0x3ff0000000000000 // 1
DATA attnexp<>+48(SB)/8, $31
GLOBL attnexp<>(SB), RODATA, $56

// func attnAccF32BytesAVX2(acc *float32, n int, v *byte, stride, rows int, ms, vs *float32)
//
// attnAccF32AVX2 reading the V rows straight from an F32 cache.
TEXT ·attnAccF32BytesAVX2(SB), NOSPLIT, $0-56
	JMP ·attnAccF32AVX2(SB)

// func attnExpAVX2(x, y *float32, n int)
//
// y[i] = expf(x[i]) (expf.go: glibc's algorithm) for n a positive multiple
// of 4 and every x[i] in (-88, 88), where glibc takes its main path: four
// float64 lanes at a time with the same operations in the same order —
// z = x·32/ln2, k = round(z) via the 0x1.8p52 shift, r = z - k, 2^(k/32)
// from exp2fTab (gathered) with k<<47 added to its bits, the cubic with
// FMAs — so each lane rounds exactly as the scalar code. The caller
// computes the other lanes itself.
TEXT ·attnExpAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	LEAQ ·exp2fTab(SB), AX
	VBROADCASTSD attnexp<>+0(SB), Y10
	VBROADCASTSD attnexp<>+8(SB), Y11
	VBROADCASTSD attnexp<>+16(SB), Y12
	VBROADCASTSD attnexp<>+24(SB), Y13
	VBROADCASTSD attnexp<>+32(SB), Y14
	VBROADCASTSD attnexp<>+40(SB), Y15
	VPBROADCASTQ attnexp<>+48(SB), Y9

exploop:
	VCVTPS2PD   (SI), Y0
	VMULPD      Y10, Y0, Y1       // z
	VADDPD      Y11, Y1, Y2       // kd = z + shift: k in the low bits
	VSUBPD      Y11, Y2, Y3       // kd - shift
	VSUBPD      Y3, Y1, Y1        // r = z - kd
	VPAND       Y9, Y2, Y4        // k mod 32
	VPSLLQ      $47, Y2, Y5       // k << 47
	VPCMPEQQ    Y6, Y6, Y6
	VPGATHERQQ  Y6, (AX)(Y4*8), Y7
	VPADDQ      Y5, Y7, Y7        // s = 2^(k/32)
	VMOVAPD     Y13, Y8
	VFMADD231PD Y12, Y1, Y8       // p = c0·r + c1
	VMOVAPD     Y15, Y0
	VFMADD231PD Y14, Y1, Y0       // y = c2·r + 1
	VMULPD      Y1, Y1, Y1        // r²
	VFMADD231PD Y8, Y1, Y0        // y = p·r² + y
	VMULPD      Y7, Y0, Y0        // y·s
	VCVTPD2PSY  Y0, X0
	VMOVUPS     X0, (DI)
	ADDQ        $16, SI
	ADDQ        $16, DI
	SUBQ        $4, CX
	JNZ         exploop
	VZEROUPPER
	RET

// ADDLANES4 adds the four float64 lanes of y (its low half in x) to X0
// one after another, lane 0 first. Clobbers X14 and X13.
#define ADDLANES4(y, x) \
	VADDSD       x, X0, X0   \
	VPERMILPD    $1, x, X14  \
	VADDSD       X14, X0, X0 \
	VEXTRACTF128 $1, y, X13  \
	VADDSD       X13, X0, X0 \
	VPERMILPD    $1, X13, X14 \
	VADDSD       X14, X0, X0

// func attnDotsTailF16AVX2(k *byte, stride, rows int, q *byte, n int, x *float32, head bool)
//
// The part of dotF16Fast after the vector head, for rows rows stride bytes
// apart: s = float64(x[r]) if head, else 0; then s += float64(k_i*q_i) for
// i < n in order (the float32 products of two halves are exact), and x[r]
// = float32(s). k and q point at the first element after the head.
TEXT ·attnDotsTailF16AVX2(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), R8
	MOVQ stride+8(FP), R9
	MOVQ rows+16(FP), R10
	MOVQ q+24(FP), R11
	MOVQ n+32(FP), R12
	MOVQ x+40(FP), AX
	MOVB head+48(FP), DX

tailrow:
	VXORPD X0, X0, X0
	TESTB  DL, DL
	JZ     tailstart
	VMOVSS    (AX), X0
	VCVTSS2SD X0, X0, X0

tailstart:
	MOVQ R8, SI
	MOVQ R11, DI
	MOVQ R12, CX

tail8:
	CMPQ        CX, $8
	JLT         tail1
	VCVTPH2PS   (SI), Y1
	VCVTPH2PS   (DI), Y2
	VMULPS      Y2, Y1, Y1
	VCVTPS2PD   X1, Y3
	VEXTRACTF128 $1, Y1, X1
	VCVTPS2PD   X1, Y4
	ADDLANES4(Y3, X3)
	ADDLANES4(Y4, X4)
	ADDQ        $16, SI
	ADDQ        $16, DI
	SUBQ        $8, CX
	JMP         tail8

tail1:
	TESTQ     CX, CX
	JZ        tailstore
	MOVWLZX   (SI), BX
	VMOVD     BX, X1
	VCVTPH2PS X1, X1
	MOVWLZX   (DI), BX
	VMOVD     BX, X2
	VCVTPH2PS X2, X2
	VMULSS    X2, X1, X1
	VCVTSS2SD X1, X1, X1
	VADDSD    X1, X0, X0
	ADDQ      $2, SI
	ADDQ      $2, DI
	DECQ      CX
	JMP       tail1

tailstore:
	VCVTSD2SS X0, X0, X0
	VMOVSS    X0, (AX)
	ADDQ      $4, AX
	ADDQ      R9, R8
	DECQ      R10
	JNZ       tailrow
	VZEROUPPER
	RET

// func attnDequantQ8_0AVX2(v *byte, stride, rows, nb int, out *float32)
//
// Dequantizes rows Q8_0 rows of nb blocks, stride bytes apart, into
// consecutive float32 rows: out = float32(q) * f32(d) per value, as
// dequantQ8_0.
TEXT ·attnDequantQ8_0AVX2(SB), NOSPLIT, $0-40
	MOVQ v+0(FP), R8
	MOVQ stride+8(FP), R9
	MOVQ rows+16(FP), R10
	MOVQ nb+24(FP), R11
	MOVQ out+32(FP), DI

dq8row:
	MOVQ R8, SI
	MOVQ R11, CX

dq8block:
	VPBROADCASTW (SI), X0
	VCVTPH2PS    X0, Y0
	VPMOVSXBD    2(SI), Y1
	VPMOVSXBD    10(SI), Y2
	VPMOVSXBD    18(SI), Y3
	VPMOVSXBD    26(SI), Y4
	VCVTDQ2PS    Y1, Y1
	VCVTDQ2PS    Y2, Y2
	VCVTDQ2PS    Y3, Y3
	VCVTDQ2PS    Y4, Y4
	VMULPS       Y0, Y1, Y1
	VMULPS       Y0, Y2, Y2
	VMULPS       Y0, Y3, Y3
	VMULPS       Y0, Y4, Y4
	VMOVUPS      Y1, (DI)
	VMOVUPS      Y2, 32(DI)
	VMOVUPS      Y3, 64(DI)
	VMOVUPS      Y4, 96(DI)
	ADDQ         $34, SI
	ADDQ         $128, DI
	DECQ         CX
	JNZ          dq8block
	ADDQ         R9, R8
	DECQ         R10
	JNZ          dq8row
	VZEROUPPER
	RET
