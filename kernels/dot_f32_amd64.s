//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// func dotF32AVX2(x, y *byte, n int) float32
//
// n is a positive multiple of 64. The order is ggml_vec_dot_f32's on
// AVX-512 (GGML_F32_STEP 64, four 16-lane FMA accumulators, each here two
// 8-lane halves Y(2j), Y(2j+1)), then acc0+acc2, acc1+acc3, their sum, and
// _mm512_reduce_add_ps (high half + low half, then hsum_float_8's order) —
// bit-identical to the portable dotF32.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
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

f32loop:
	VMOVUPS     (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	VMOVUPS     32(SI), Y9
	VFMADD231PS 32(DI), Y9, Y1
	VMOVUPS     64(SI), Y10
	VFMADD231PS 64(DI), Y10, Y2
	VMOVUPS     96(SI), Y11
	VFMADD231PS 96(DI), Y11, Y3
	VMOVUPS     128(SI), Y12
	VFMADD231PS 128(DI), Y12, Y4
	VMOVUPS     160(SI), Y13
	VFMADD231PS 160(DI), Y13, Y5
	VMOVUPS     192(SI), Y14
	VFMADD231PS 192(DI), Y14, Y6
	VMOVUPS     224(SI), Y15
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JNZ  f32loop

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
