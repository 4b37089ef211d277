//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// Kernels over packed Q8_0 (packed_q8.go): accumulator Z(l) holds lane l
// (quants 4l..4l+3 of every block) of sixteen rows, exactly as vec_dot's
// eight lanes per row; c_l (q8Ext) undoes the +128 of the weights, so each
// lane's block sum is exact, then acc_l = fma(float(isum_l), d_w·d_a, acc_l),
// and hsum_float_8's tree ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) at the end.

// LANE(l, w, R, scale, acc, t): lane l of one token (q8Ext at R+AX) with
// the packed chunk in Z(w). Clobbers Z(t).
#define LANE(coff, aoff, w, R, scale, acc, t) \
	VPBROADCASTD  coff(R)(AX*1), t \
	VPDPBUSD.BCST aoff(R)(AX*1), w, t \
	VCVTDQ2PS     t, t \
	VFMADD231PS   t, scale, acc

#define LOADW \
	VMOVDQU64 32(SI), Z8   \
	VMOVDQU64 96(SI), Z9   \
	VMOVDQU64 160(SI), Z10 \
	VMOVDQU64 224(SI), Z11 \
	VMOVDQU64 288(SI), Z12 \
	VMOVDQU64 352(SI), Z13 \
	VMOVDQU64 416(SI), Z14 \
	VMOVDQU64 480(SI), Z15

// TOKEN8(R, scale, a0..a7, t): all eight lanes of one token.
#define TOKEN8(R, scale, a0, a1, a2, a3, a4, a5, a6, a7, t) \
	VCVTPH2PS     (SI), Z16 \
	VMULPS.BCST   32(R)(AX*1), Z16, scale \
	LANE(0, 36, Z8, R, scale, a0, t)  \
	LANE(4, 40, Z9, R, scale, a1, t)  \
	LANE(8, 44, Z10, R, scale, a2, t) \
	LANE(12, 48, Z11, R, scale, a3, t) \
	LANE(16, 52, Z12, R, scale, a4, t) \
	LANE(20, 56, Z13, R, scale, a5, t) \
	LANE(24, 60, Z14, R, scale, a6, t) \
	LANE(28, 64, Z15, R, scale, a7, t)

// func gemvQ8_0x16VNNI(w, a *byte, nb int, out *[8][16]float32)
TEXT ·gemvQ8_0x16VNNI(SB), NOSPLIT, $0-32
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ nb+16(FP), CX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

q8gemvloop:
	PREFETCHT0 2176(SI)
	PREFETCHT0 2240(SI)
	PREFETCHT0 2304(SI)
	PREFETCHT0 2368(SI)
	PREFETCHT0 2432(SI)
	PREFETCHT0 2496(SI)
	PREFETCHT0 2560(SI)
	PREFETCHT0 2624(SI)
	PREFETCHT0 2688(SI)
	LOADW
	TOKEN8(DI, Z17, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z18)
	ADDQ $544, SI
	ADDQ $68, AX
	DECQ CX
	JNZ  q8gemvloop

	REDUCE8(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	MOVQ    out+24(FP), AX
	VMOVUPS Z0, (AX)
	VZEROUPPER
	RET

// func gemmQ8_0x16x2VNNI(w, a *byte, stride, nb int, out *[8][16]float32)
TEXT ·gemmQ8_0x16x2VNNI(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ stride+16(FP), R8
	ADDQ DI, R8
	MOVQ nb+24(FP), CX
	XORQ AX, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27

q8gemm2loop:
	LOADW
	TOKEN8(DI, Z17, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z18)
	TOKEN8(R8, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28)
	ADDQ $544, SI
	ADDQ $68, AX
	DECQ CX
	JNZ  q8gemm2loop

	REDUCE8(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	REDUCE8(Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27)
	MOVQ    out+32(FP), AX
	VMOVUPS Z0, (AX)
	VMOVUPS Z20, 64(AX)
	VZEROUPPER
	RET
