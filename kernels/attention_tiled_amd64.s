//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// AttendTiled's AVX-512 and AVX2 kernels: ggml's simd_gemm micro-kernel order (one
// FMA per element per step, in step order, from the stored accumulator)
// and ggml_v_expf, lane for lane the Go versions in attention_tiled.go.

// func tiledScoresAVX512(q *float32, kt *float32, hd int, scale float32, x *float32)
// x[t] = (Σ_d q[d]·kt[d*64+t], fused in d order from 0) · scale, t < 64.
TEXT ·tiledScoresAVX512(SB), NOSPLIT, $0-40
	MOVQ         q+0(FP), SI
	MOVQ         kt+8(FP), DI
	MOVQ         hd+16(FP), CX
	VBROADCASTSS scale+24(FP), Z8
	MOVQ         x+32(FP), DX
	VXORPS       Z0, Z0, Z0
	VXORPS       Z1, Z1, Z1
	VXORPS       Z2, Z2, Z2
	VXORPS       Z3, Z3, Z3

scores1loop:
	VBROADCASTSS (SI), Z4
	VFMADD231PS  (DI), Z4, Z0
	VFMADD231PS  64(DI), Z4, Z1
	VFMADD231PS  128(DI), Z4, Z2
	VFMADD231PS  192(DI), Z4, Z3
	ADDQ         $4, SI
	ADDQ         $256, DI
	DECQ         CX
	JNZ          scores1loop
	VMULPS       Z8, Z0, Z0
	VMULPS       Z8, Z1, Z1
	VMULPS       Z8, Z2, Z2
	VMULPS       Z8, Z3, Z3
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z1, 64(DX)
	VMOVUPS      Z2, 128(DX)
	VMOVUPS      Z3, 192(DX)
	VZEROUPPER
	RET

// func tiledScores2AVX512(q *float32, kt *float32, hd int, scale float32, x *float32)
// tiledScoresAVX512 for two query rows at once: q[0:hd] to x[0:64] and
// q[hd:2hd] to x[64:128], sharing the K loads.
TEXT ·tiledScores2AVX512(SB), NOSPLIT, $0-40
	MOVQ         q+0(FP), SI
	MOVQ         kt+8(FP), DI
	MOVQ         hd+16(FP), CX
	VBROADCASTSS scale+24(FP), Z14
	MOVQ         x+32(FP), DX
	LEAQ         (SI)(CX*4), R9
	VXORPS       Z0, Z0, Z0
	VXORPS       Z1, Z1, Z1
	VXORPS       Z2, Z2, Z2
	VXORPS       Z3, Z3, Z3
	VXORPS       Z4, Z4, Z4
	VXORPS       Z5, Z5, Z5
	VXORPS       Z6, Z6, Z6
	VXORPS       Z7, Z7, Z7

scores2loop:
	VMOVUPS      (DI), Z8
	VMOVUPS      64(DI), Z9
	VMOVUPS      128(DI), Z10
	VMOVUPS      192(DI), Z11
	VBROADCASTSS (SI), Z12
	VBROADCASTSS (R9), Z13
	VFMADD231PS  Z8, Z12, Z0
	VFMADD231PS  Z9, Z12, Z1
	VFMADD231PS  Z10, Z12, Z2
	VFMADD231PS  Z11, Z12, Z3
	VFMADD231PS  Z8, Z13, Z4
	VFMADD231PS  Z9, Z13, Z5
	VFMADD231PS  Z10, Z13, Z6
	VFMADD231PS  Z11, Z13, Z7
	ADDQ         $4, SI
	ADDQ         $4, R9
	ADDQ         $256, DI
	DECQ         CX
	JNZ          scores2loop
	VMULPS       Z14, Z0, Z0
	VMULPS       Z14, Z1, Z1
	VMULPS       Z14, Z2, Z2
	VMULPS       Z14, Z3, Z3
	VMULPS       Z14, Z4, Z4
	VMULPS       Z14, Z5, Z5
	VMULPS       Z14, Z6, Z6
	VMULPS       Z14, Z7, Z7
	VMOVUPS      Z0, (DX)
	VMOVUPS      Z1, 64(DX)
	VMOVUPS      Z2, 128(DX)
	VMOVUPS      Z3, 192(DX)
	VMOVUPS      Z4, 256(DX)
	VMOVUPS      Z5, 320(DX)
	VMOVUPS      Z6, 384(DX)
	VMOVUPS      Z7, 448(DX)
	VZEROUPPER
	RET

// func tiledSoftmaxAVX512(x *float32, m float32, e *float32) float64
// e[t] = ggml_v_expf(x[t] - m) for t < 64 (the constants and FMAs of
// swigluAVX512's exponential, lanes with |n| > 192 set to 0 (n <= 0) or
// +Inf), and returns ggml_vec_soft_max_f32's sum: each 16 lanes summed as
// gcc's _mm512_reduce_add_ps (halves of 8, then 4, then (0+2)+(1+3)),
// widened and added in order to a float64 from 0.
TEXT ·tiledSoftmaxAVX512(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	VBROADCASTSS m+8(FP), Z17
	MOVQ         e+16(FP), DI
	MOVQ         $4, CX
	VEXPF_CONSTS
	VXORPD       X15, X15, X15      // the float64 sum

expsloop:
	VMOVUPS      (SI), Z0
	VSUBPS       Z17, Z0, Z1        // x - m
	VEXPF                           // Z10 = ggml_v_expf(x - m)
	VMOVUPS      Z10, (DI)
	VEXTRACTF32X8 $1, Z10, Y11
	VADDPS       Y11, Y10, Y11      // t8[i] = v[i+8] + v[i]
	VEXTRACTF128 $1, Y11, X12
	VADDPS       X12, X11, X12      // t4[i] = t8[i+4] + t8[i]
	VMOVHLPS     X12, X12, X13
	VADDPS       X13, X12, X13      // t4[0]+t4[2], t4[1]+t4[3]
	VMOVSHDUP    X13, X14
	VADDSS       X14, X13, X14
	VCVTSS2SD    X14, X14, X14
	VADDSD       X14, X15, X15
	ADDQ         $64, SI
	ADDQ         $64, DI
	DECQ         CX
	JNZ          expsloop
	VMOVSD       X15, ret+24(FP)
	VZEROUPPER
	RET

// func tiledMaskMaxAVX512(x *float32, lim int) float32
// Sets x[t] = -Inf for lim <= t < 64 and returns the maximum of x[:64]
// (order does not matter: no NaN reaches it).
TEXT ·tiledMaskMaxAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         lim+8(FP), AX
	VPBROADCASTD AX, Z16
	VMOVDQU32    tiledIdx<>(SB), Z17
	VPSRLD       $6, Z17, Z17       // 0, 1, ..., 15
	MOVL         $16, AX
	VPBROADCASTD AX, Z18
	MOVL         $0xff800000, AX    // -Inf
	VPBROADCASTD AX, Z19
	VMOVUPS      (SI), Z0
	VMOVUPS      64(SI), Z1
	VMOVUPS      128(SI), Z2
	VMOVUPS      192(SI), Z3
	VPCMPD       $5, Z16, Z17, K1   // t >= lim
	VMOVAPS      Z19, K1, Z0
	VPADDD       Z18, Z17, Z17
	VPCMPD       $5, Z16, Z17, K1
	VMOVAPS      Z19, K1, Z1
	VPADDD       Z18, Z17, Z17
	VPCMPD       $5, Z16, Z17, K1
	VMOVAPS      Z19, K1, Z2
	VPADDD       Z18, Z17, Z17
	VPCMPD       $5, Z16, Z17, K1
	VMOVAPS      Z19, K1, Z3
	VMOVUPS      Z0, (SI)
	VMOVUPS      Z1, 64(SI)
	VMOVUPS      Z2, 128(SI)
	VMOVUPS      Z3, 192(SI)
	VMAXPS       Z1, Z0, Z0
	VMAXPS       Z3, Z2, Z2
	VMAXPS       Z2, Z0, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VMAXSS       X1, X0, X0
	VMOVSS       X0, ret+16(FP)
	VZEROUPPER
	RET

// func tiledAccAVX512(acc *float32, w *float32, vt *float32, hd int, cnt int)
// acc[d] = fma(w[t], vt[t*hd+d], acc[d]) for t < cnt in order (cnt >= 1,
// hd a multiple of 16): 64 columns at a time, then 16.
TEXT ·tiledAccAVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ vt+16(FP), R8
	MOVQ hd+24(FP), R9
	MOVQ cnt+32(FP), R10
	MOVQ R9, R11
	SHLQ $2, R11        // bytes between V rows

acc1blk64:
	CMPQ    R9, $64
	JLT     acc1blk16
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	MOVQ    SI, AX
	MOVQ    R8, BX
	MOVQ    R10, CX

acc1loop64:
	VBROADCASTSS (AX), Z4
	VFMADD231PS  (BX), Z4, Z0
	VFMADD231PS  64(BX), Z4, Z1
	VFMADD231PS  128(BX), Z4, Z2
	VFMADD231PS  192(BX), Z4, Z3
	ADDQ         $4, AX
	ADDQ         R11, BX
	DECQ         CX
	JNZ          acc1loop64
	VMOVUPS      Z0, (DI)
	VMOVUPS      Z1, 64(DI)
	VMOVUPS      Z2, 128(DI)
	VMOVUPS      Z3, 192(DI)
	ADDQ         $256, DI
	ADDQ         $256, R8
	SUBQ         $64, R9
	JMP          acc1blk64

acc1blk16:
	CMPQ    R9, $16
	JLT     acc1done
	VMOVUPS (DI), Z0
	MOVQ    SI, AX
	MOVQ    R8, BX
	MOVQ    R10, CX

acc1loop16:
	VBROADCASTSS (AX), Z4
	VFMADD231PS  (BX), Z4, Z0
	ADDQ         $4, AX
	ADDQ         R11, BX
	DECQ         CX
	JNZ          acc1loop16
	VMOVUPS      Z0, (DI)
	ADDQ         $64, DI
	ADDQ         $64, R8
	SUBQ         $16, R9
	JMP          acc1blk16

acc1done:
	VZEROUPPER
	RET

// func tiledAcc2AVX512(acc0, acc1, w0, w1, vt *float32, hd int, cnt int)
// tiledAccAVX512 for two rows sharing the V loads: acc0 with weights w0,
// acc1 with w1 (hd a multiple of 64).
TEXT ·tiledAcc2AVX512(SB), NOSPLIT, $0-56
	MOVQ acc0+0(FP), DI
	MOVQ acc1+8(FP), DX
	MOVQ w0+16(FP), SI
	MOVQ w1+24(FP), R12
	MOVQ vt+32(FP), R8
	MOVQ hd+40(FP), R9
	MOVQ cnt+48(FP), R10
	MOVQ R9, R11
	SHLQ $2, R11

acc2blk:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS (DX), Z4
	VMOVUPS 64(DX), Z5
	VMOVUPS 128(DX), Z6
	VMOVUPS 192(DX), Z7
	MOVQ    SI, AX
	MOVQ    R12, R13
	MOVQ    R8, BX
	MOVQ    R10, CX

acc2loop:
	VMOVUPS      (BX), Z10
	VMOVUPS      64(BX), Z11
	VMOVUPS      128(BX), Z12
	VMOVUPS      192(BX), Z13
	VBROADCASTSS (AX), Z8
	VBROADCASTSS (R13), Z9
	VFMADD231PS  Z10, Z8, Z0
	VFMADD231PS  Z11, Z8, Z1
	VFMADD231PS  Z12, Z8, Z2
	VFMADD231PS  Z13, Z8, Z3
	VFMADD231PS  Z10, Z9, Z4
	VFMADD231PS  Z11, Z9, Z5
	VFMADD231PS  Z12, Z9, Z6
	VFMADD231PS  Z13, Z9, Z7
	ADDQ         $4, AX
	ADDQ         $4, R13
	ADDQ         R11, BX
	DECQ         CX
	JNZ          acc2loop
	VMOVUPS      Z0, (DI)
	VMOVUPS      Z1, 64(DI)
	VMOVUPS      Z2, 128(DI)
	VMOVUPS      Z3, 192(DI)
	VMOVUPS      Z4, (DX)
	VMOVUPS      Z5, 64(DX)
	VMOVUPS      Z6, 128(DX)
	VMOVUPS      Z7, 192(DX)
	ADDQ         $256, DI
	ADDQ         $256, DX
	ADDQ         $256, R8
	SUBQ         $64, R9
	JNZ          acc2blk
	VZEROUPPER
	RET

// Lane i holds i·64: the float offsets of one K value's 16 head-dim
// neighbours in the transposed tile.
DATA tiledIdx<>+0(SB)/4, $0
DATA tiledIdx<>+4(SB)/4, $64
DATA tiledIdx<>+8(SB)/4, $128
DATA tiledIdx<>+12(SB)/4, $192
DATA tiledIdx<>+16(SB)/4, $256
DATA tiledIdx<>+20(SB)/4, $320
DATA tiledIdx<>+24(SB)/4, $384
DATA tiledIdx<>+28(SB)/4, $448
DATA tiledIdx<>+32(SB)/4, $512
DATA tiledIdx<>+36(SB)/4, $576
DATA tiledIdx<>+40(SB)/4, $640
DATA tiledIdx<>+44(SB)/4, $704
DATA tiledIdx<>+48(SB)/4, $768
DATA tiledIdx<>+52(SB)/4, $832
DATA tiledIdx<>+56(SB)/4, $896
DATA tiledIdx<>+60(SB)/4, $960
GLOBL tiledIdx<>(SB), RODATA|NOPTR, $64

// func tiledPackKF16AVX512(k *byte, stride, cnt, hd int, kt *float32)
// kt[d*64+t] = the F16 value d of the row at k + t*stride, widened, for
// t < cnt (>= 1) and d < hd (a multiple of 16).
TEXT ·tiledPackKF16AVX512(SB), NOSPLIT, $0-40
	MOVQ      k+0(FP), SI
	MOVQ      stride+8(FP), R8
	MOVQ      cnt+16(FP), CX
	MOVQ      hd+24(FP), R9
	MOVQ      kt+32(FP), DI
	VMOVDQU32 tiledIdx<>(SB), Z5

packkh:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R9, DX

packkhd:
	VCVTPH2PS   (AX), Z0
	KXNORW      K1, K1, K1
	VSCATTERDPS Z0, K1, (BX)(Z5*4)
	ADDQ        $32, AX
	ADDQ        $4096, BX
	SUBQ        $16, DX
	JNZ         packkhd
	ADDQ        R8, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         packkh
	VZEROUPPER
	RET

// func tiledPackKF32AVX512(k *byte, stride, cnt, hd int, kt *float32)
// tiledPackKF16AVX512 for F32 rows.
TEXT ·tiledPackKF32AVX512(SB), NOSPLIT, $0-40
	MOVQ      k+0(FP), SI
	MOVQ      stride+8(FP), R8
	MOVQ      cnt+16(FP), CX
	MOVQ      hd+24(FP), R9
	MOVQ      kt+32(FP), DI
	VMOVDQU32 tiledIdx<>(SB), Z5

packkf:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R9, DX

packkfd:
	VMOVUPS     (AX), Z0
	KXNORW      K1, K1, K1
	VSCATTERDPS Z0, K1, (BX)(Z5*4)
	ADDQ        $64, AX
	ADDQ        $4096, BX
	SUBQ        $16, DX
	JNZ         packkfd
	ADDQ        R8, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         packkf
	VZEROUPPER
	RET

// func tiledPackVF16AVX512(v *byte, stride, cnt, hd int, vt *float32)
// vt[t*hd+d] = the F16 value d of the row at v + t*stride, widened, for
// t < cnt (>= 1) and d < hd (a multiple of 16).
TEXT ·tiledPackVF16AVX512(SB), NOSPLIT, $0-40
	MOVQ v+0(FP), SI
	MOVQ stride+8(FP), R8
	MOVQ cnt+16(FP), CX
	MOVQ hd+24(FP), R9
	MOVQ vt+32(FP), DI

packvh:
	MOVQ SI, AX
	MOVQ R9, DX

packvhd:
	VCVTPH2PS (AX), Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $32, AX
	ADDQ      $64, DI
	SUBQ      $16, DX
	JNZ       packvhd
	ADDQ      R8, SI
	DECQ      CX
	JNZ       packvh
	VZEROUPPER
	RET

// func tiledScoresAVX2(q *float32, kt *float32, hd int, scale float32, x *float32)
// tiledScoresAVX512 with eight 8-lane accumulators.
TEXT ·tiledScoresAVX2(SB), NOSPLIT, $0-40
	MOVQ         q+0(FP), SI
	MOVQ         kt+8(FP), DI
	MOVQ         hd+16(FP), CX
	VBROADCASTSS scale+24(FP), Y9
	MOVQ         x+32(FP), DX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7

scoresavx2loop:
	VBROADCASTSS (SI), Y8
	VFMADD231PS  (DI), Y8, Y0
	VFMADD231PS  32(DI), Y8, Y1
	VFMADD231PS  64(DI), Y8, Y2
	VFMADD231PS  96(DI), Y8, Y3
	VFMADD231PS  128(DI), Y8, Y4
	VFMADD231PS  160(DI), Y8, Y5
	VFMADD231PS  192(DI), Y8, Y6
	VFMADD231PS  224(DI), Y8, Y7
	ADDQ         $4, SI
	ADDQ         $256, DI
	DECQ         CX
	JNZ          scoresavx2loop
	VMULPS       Y9, Y0, Y0
	VMULPS       Y9, Y1, Y1
	VMULPS       Y9, Y2, Y2
	VMULPS       Y9, Y3, Y3
	VMULPS       Y9, Y4, Y4
	VMULPS       Y9, Y5, Y5
	VMULPS       Y9, Y6, Y6
	VMULPS       Y9, Y7, Y7
	VMOVUPS      Y0, (DX)
	VMOVUPS      Y1, 32(DX)
	VMOVUPS      Y2, 64(DX)
	VMOVUPS      Y3, 96(DX)
	VMOVUPS      Y4, 128(DX)
	VMOVUPS      Y5, 160(DX)
	VMOVUPS      Y6, 192(DX)
	VMOVUPS      Y7, 224(DX)
	VZEROUPPER
	RET

// func tiledAccAVX2(acc *float32, w *float32, vt *float32, hd int, cnt int)
// tiledAccAVX512 with 8-lane vectors: 32 columns at a time, then 16.
TEXT ·tiledAccAVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ vt+16(FP), R8
	MOVQ hd+24(FP), R9
	MOVQ cnt+32(FP), R10
	MOVQ R9, R11
	SHLQ $2, R11

accavx2blk32:
	CMPQ    R9, $32
	JLT     accavx2blk16
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ    SI, AX
	MOVQ    R8, BX
	MOVQ    R10, CX

accavx2loop32:
	VBROADCASTSS (AX), Y4
	VFMADD231PS  (BX), Y4, Y0
	VFMADD231PS  32(BX), Y4, Y1
	VFMADD231PS  64(BX), Y4, Y2
	VFMADD231PS  96(BX), Y4, Y3
	ADDQ         $4, AX
	ADDQ         R11, BX
	DECQ         CX
	JNZ          accavx2loop32
	VMOVUPS      Y0, (DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	ADDQ         $128, DI
	ADDQ         $128, R8
	SUBQ         $32, R9
	JMP          accavx2blk32

accavx2blk16:
	CMPQ    R9, $16
	JLT     accavx2done
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	MOVQ    SI, AX
	MOVQ    R8, BX
	MOVQ    R10, CX

accavx2loop16:
	VBROADCASTSS (AX), Y4
	VFMADD231PS  (BX), Y4, Y0
	VFMADD231PS  32(BX), Y4, Y1
	ADDQ         $4, AX
	ADDQ         R11, BX
	DECQ         CX
	JNZ          accavx2loop16
	VMOVUPS      Y0, (DI)
	VMOVUPS      Y1, 32(DI)
	ADDQ         $64, DI
	ADDQ         $64, R8
	SUBQ         $16, R9
	JMP          accavx2blk16

accavx2done:
	VZEROUPPER
	RET

// ggml_v_expf's constants as 8-lane vectors, 32 bytes apart, and the ones
// tiledSoftmaxAVX2 scales by: r, log2(e), ln2hi, ln2lo, c5..c1, 1, 192,
// |x| mask, -126, 100, 2^-100, int 127.
DATA tiledExpC<>+0(SB)/4, $0x4b400000
DATA tiledExpC<>+4(SB)/4, $0x4b400000
DATA tiledExpC<>+8(SB)/4, $0x4b400000
DATA tiledExpC<>+12(SB)/4, $0x4b400000
DATA tiledExpC<>+16(SB)/4, $0x4b400000
DATA tiledExpC<>+20(SB)/4, $0x4b400000
DATA tiledExpC<>+24(SB)/4, $0x4b400000
DATA tiledExpC<>+28(SB)/4, $0x4b400000
DATA tiledExpC<>+32(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+36(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+40(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+44(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+48(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+52(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+56(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+60(SB)/4, $0x3fb8aa3b
DATA tiledExpC<>+64(SB)/4, $0x3f317200
DATA tiledExpC<>+68(SB)/4, $0x3f317200
DATA tiledExpC<>+72(SB)/4, $0x3f317200
DATA tiledExpC<>+76(SB)/4, $0x3f317200
DATA tiledExpC<>+80(SB)/4, $0x3f317200
DATA tiledExpC<>+84(SB)/4, $0x3f317200
DATA tiledExpC<>+88(SB)/4, $0x3f317200
DATA tiledExpC<>+92(SB)/4, $0x3f317200
DATA tiledExpC<>+96(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+100(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+104(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+108(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+112(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+116(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+120(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+124(SB)/4, $0x35bfbe8e
DATA tiledExpC<>+128(SB)/4, $0x3c072010
DATA tiledExpC<>+132(SB)/4, $0x3c072010
DATA tiledExpC<>+136(SB)/4, $0x3c072010
DATA tiledExpC<>+140(SB)/4, $0x3c072010
DATA tiledExpC<>+144(SB)/4, $0x3c072010
DATA tiledExpC<>+148(SB)/4, $0x3c072010
DATA tiledExpC<>+152(SB)/4, $0x3c072010
DATA tiledExpC<>+156(SB)/4, $0x3c072010
DATA tiledExpC<>+160(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+164(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+168(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+172(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+176(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+180(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+184(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+188(SB)/4, $0x3d2b9f17
DATA tiledExpC<>+192(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+196(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+200(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+204(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+208(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+212(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+216(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+220(SB)/4, $0x3e2aaf33
DATA tiledExpC<>+224(SB)/4, $0x3efffedb
DATA tiledExpC<>+228(SB)/4, $0x3efffedb
DATA tiledExpC<>+232(SB)/4, $0x3efffedb
DATA tiledExpC<>+236(SB)/4, $0x3efffedb
DATA tiledExpC<>+240(SB)/4, $0x3efffedb
DATA tiledExpC<>+244(SB)/4, $0x3efffedb
DATA tiledExpC<>+248(SB)/4, $0x3efffedb
DATA tiledExpC<>+252(SB)/4, $0x3efffedb
DATA tiledExpC<>+256(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+260(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+264(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+268(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+272(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+276(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+280(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+284(SB)/4, $0x3f7ffff6
DATA tiledExpC<>+288(SB)/4, $0x3f800000
DATA tiledExpC<>+292(SB)/4, $0x3f800000
DATA tiledExpC<>+296(SB)/4, $0x3f800000
DATA tiledExpC<>+300(SB)/4, $0x3f800000
DATA tiledExpC<>+304(SB)/4, $0x3f800000
DATA tiledExpC<>+308(SB)/4, $0x3f800000
DATA tiledExpC<>+312(SB)/4, $0x3f800000
DATA tiledExpC<>+316(SB)/4, $0x3f800000
DATA tiledExpC<>+320(SB)/4, $0x43400000
DATA tiledExpC<>+324(SB)/4, $0x43400000
DATA tiledExpC<>+328(SB)/4, $0x43400000
DATA tiledExpC<>+332(SB)/4, $0x43400000
DATA tiledExpC<>+336(SB)/4, $0x43400000
DATA tiledExpC<>+340(SB)/4, $0x43400000
DATA tiledExpC<>+344(SB)/4, $0x43400000
DATA tiledExpC<>+348(SB)/4, $0x43400000
DATA tiledExpC<>+352(SB)/4, $0x7fffffff
DATA tiledExpC<>+356(SB)/4, $0x7fffffff
DATA tiledExpC<>+360(SB)/4, $0x7fffffff
DATA tiledExpC<>+364(SB)/4, $0x7fffffff
DATA tiledExpC<>+368(SB)/4, $0x7fffffff
DATA tiledExpC<>+372(SB)/4, $0x7fffffff
DATA tiledExpC<>+376(SB)/4, $0x7fffffff
DATA tiledExpC<>+380(SB)/4, $0x7fffffff
DATA tiledExpC<>+384(SB)/4, $0xc2fc0000
DATA tiledExpC<>+388(SB)/4, $0xc2fc0000
DATA tiledExpC<>+392(SB)/4, $0xc2fc0000
DATA tiledExpC<>+396(SB)/4, $0xc2fc0000
DATA tiledExpC<>+400(SB)/4, $0xc2fc0000
DATA tiledExpC<>+404(SB)/4, $0xc2fc0000
DATA tiledExpC<>+408(SB)/4, $0xc2fc0000
DATA tiledExpC<>+412(SB)/4, $0xc2fc0000
DATA tiledExpC<>+416(SB)/4, $0x42c80000
DATA tiledExpC<>+420(SB)/4, $0x42c80000
DATA tiledExpC<>+424(SB)/4, $0x42c80000
DATA tiledExpC<>+428(SB)/4, $0x42c80000
DATA tiledExpC<>+432(SB)/4, $0x42c80000
DATA tiledExpC<>+436(SB)/4, $0x42c80000
DATA tiledExpC<>+440(SB)/4, $0x42c80000
DATA tiledExpC<>+444(SB)/4, $0x42c80000
DATA tiledExpC<>+448(SB)/4, $0x0d800000
DATA tiledExpC<>+452(SB)/4, $0x0d800000
DATA tiledExpC<>+456(SB)/4, $0x0d800000
DATA tiledExpC<>+460(SB)/4, $0x0d800000
DATA tiledExpC<>+464(SB)/4, $0x0d800000
DATA tiledExpC<>+468(SB)/4, $0x0d800000
DATA tiledExpC<>+472(SB)/4, $0x0d800000
DATA tiledExpC<>+476(SB)/4, $0x0d800000
DATA tiledExpC<>+480(SB)/4, $0x0000007f
DATA tiledExpC<>+484(SB)/4, $0x0000007f
DATA tiledExpC<>+488(SB)/4, $0x0000007f
DATA tiledExpC<>+492(SB)/4, $0x0000007f
DATA tiledExpC<>+496(SB)/4, $0x0000007f
DATA tiledExpC<>+500(SB)/4, $0x0000007f
DATA tiledExpC<>+504(SB)/4, $0x0000007f
DATA tiledExpC<>+508(SB)/4, $0x0000007f
GLOBL tiledExpC<>(SB), RODATA|NOPTR, $512

// EXP8 sets e[off:off+32] to ggml_v_expf(x - m) for 8 lanes at x+off (SI),
// m in Y15: ggml_v_expf's FMAs, then j·2^n as a multiply by 2^n (n >= -126)
// or by 2^(n+100) and then 2^-100 (n < -126), each rounding once, as
// VSCALEFPS does; |n| > 192 gives 0. x - m <= 0 here, so n <= 0.
#define EXP8(off) \
	VMOVUPS      off(SI), Y0          \
	VSUBPS       Y15, Y0, Y1          \
	VMOVUPS      tiledExpC<>+0(SB), Y2 \
	VFMADD231PS  tiledExpC<>+32(SB), Y1, Y2 \
	VSUBPS       tiledExpC<>+0(SB), Y2, Y3 \
	VMOVAPS      Y1, Y4               \
	VFNMADD231PS tiledExpC<>+64(SB), Y3, Y4 \
	VFNMADD231PS tiledExpC<>+96(SB), Y3, Y4 \
	VMULPS       Y4, Y4, Y6           \
	VMOVUPS      tiledExpC<>+160(SB), Y7 \
	VFMADD231PS  tiledExpC<>+128(SB), Y4, Y7 \
	VMOVUPS      tiledExpC<>+224(SB), Y8 \
	VFMADD231PS  tiledExpC<>+192(SB), Y4, Y8 \
	VFMADD231PS  Y7, Y6, Y8           \
	VMOVUPS      tiledExpC<>+288(SB), Y9 \
	VFMADD231PS  tiledExpC<>+256(SB), Y4, Y9 \
	VFMADD231PS  Y8, Y6, Y9           \
	VCMPPS       $1, tiledExpC<>+384(SB), Y3, Y10 \
	VANDPS       tiledExpC<>+416(SB), Y10, Y11 \
	VADDPS       Y11, Y3, Y11         \
	VCVTPS2DQ    Y11, Y11             \
	VPADDD       tiledExpC<>+480(SB), Y11, Y11 \
	VPSLLD       $23, Y11, Y11        \
	VMULPS       Y11, Y9, Y12         \
	VMULPS       tiledExpC<>+448(SB), Y12, Y13 \
	VBLENDVPS    Y10, Y13, Y12, Y12   \
	VANDPS       tiledExpC<>+352(SB), Y3, Y14 \
	VCMPPS       $0x1e, tiledExpC<>+320(SB), Y14, Y14 \
	VANDNPS      Y12, Y14, Y12        \
	VMOVUPS      Y12, off(DI)

// func tiledSoftmaxAVX2(x *float32, m float32, e *float32) float64
// tiledSoftmaxAVX512 with 8-lane vectors: the same exponentials and the
// same sums (each 16 lanes: t8 = upper 8 + lower 8, then as
// _mm512_reduce_add_ps).
TEXT ·tiledSoftmaxAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	VBROADCASTSS m+8(FP), Y15
	MOVQ         e+16(FP), DI
	MOVQ         $4, CX
	VXORPD       X5, X5, X5

smavx2loop:
	EXP8(0)
	EXP8(32)
	VMOVUPS   (DI), Y0
	VADDPS    32(DI), Y0, Y0   // t8[i] = v[i+8] + v[i]
	VEXTRACTF128 $1, Y0, X1
	VADDPS    X1, X0, X1       // t4
	VMOVHLPS  X1, X1, X2
	VADDPS    X2, X1, X2
	VMOVSHDUP X2, X3
	VADDSS    X3, X2, X3
	VCVTSS2SD X3, X3, X3
	VADDSD    X3, X5, X5
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       smavx2loop
	VMOVSD    X5, ret+24(FP)
	VZEROUPPER
	RET
