//go:build amd64 && !noasm

#include "textflag.h"

// F16 kernels at AVX-512: one F16 weight row times four activation rows
// held as float32 (the F16-rounded activations widened, so the products
// are those of the F16 dot). Each row has four 16-lane accumulators over
// 64 elements, ggml_vec_dot_f16's AVX-512 layout, reduced as it does:
// bit-identical to dotF16AVX2.

// func gemmF16x4AVX512(x *byte, y *float32, ystride, n int, out *[4]float32)
TEXT ·gemmF16x4AVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ n+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15

gf16loop:
	VCVTPH2PS 0(SI), Z16
	VCVTPH2PS 32(SI), Z17
	VCVTPH2PS 64(SI), Z18
	VCVTPH2PS 96(SI), Z19
	VFMADD231PS 0(DI), Z16, Z0
	VFMADD231PS 64(DI), Z17, Z1
	VFMADD231PS 128(DI), Z18, Z2
	VFMADD231PS 192(DI), Z19, Z3
	VFMADD231PS 0(R8), Z16, Z4
	VFMADD231PS 64(R8), Z17, Z5
	VFMADD231PS 128(R8), Z18, Z6
	VFMADD231PS 192(R8), Z19, Z7
	VFMADD231PS 0(R9), Z16, Z8
	VFMADD231PS 64(R9), Z17, Z9
	VFMADD231PS 128(R9), Z18, Z10
	VFMADD231PS 192(R9), Z19, Z11
	VFMADD231PS 0(R10), Z16, Z12
	VFMADD231PS 64(R10), Z17, Z13
	VFMADD231PS 128(R10), Z18, Z14
	VFMADD231PS 192(R10), Z19, Z15
	ADDQ $128, SI
	ADDQ $256, DI
	ADDQ $256, R8
	ADDQ $256, R9
	ADDQ $256, R10
	SUBQ $64, CX
	JNZ  gf16loop

	MOVQ out+32(FP), AX
	VADDPS        Z2, Z0, Z0
	VADDPS        Z3, Z1, Z1
	VADDPS        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y0, Y1, Y1
	VEXTRACTF128  $1, Y1, X2
	VADDPS        X1, X2, X1
	VMOVHLPS      X1, X1, X2
	VADDPS        X2, X1, X1
	VMOVSHDUP     X1, X2
	VADDSS        X2, X1, X1
	MOVSS         X1, 0(AX)
	VADDPS        Z6, Z4, Z4
	VADDPS        Z7, Z5, Z5
	VADDPS        Z5, Z4, Z4
	VEXTRACTF64X4 $1, Z4, Y5
	VADDPS        Y4, Y5, Y5
	VEXTRACTF128  $1, Y5, X6
	VADDPS        X5, X6, X5
	VMOVHLPS      X5, X5, X6
	VADDPS        X6, X5, X5
	VMOVSHDUP     X5, X6
	VADDSS        X6, X5, X5
	MOVSS         X5, 4(AX)
	VADDPS        Z10, Z8, Z8
	VADDPS        Z11, Z9, Z9
	VADDPS        Z9, Z8, Z8
	VEXTRACTF64X4 $1, Z8, Y9
	VADDPS        Y8, Y9, Y9
	VEXTRACTF128  $1, Y9, X10
	VADDPS        X9, X10, X9
	VMOVHLPS      X9, X9, X10
	VADDPS        X10, X9, X9
	VMOVSHDUP     X9, X10
	VADDSS        X10, X9, X9
	MOVSS         X9, 8(AX)
	VADDPS        Z14, Z12, Z12
	VADDPS        Z15, Z13, Z13
	VADDPS        Z13, Z12, Z12
	VEXTRACTF64X4 $1, Z12, Y13
	VADDPS        Y12, Y13, Y13
	VEXTRACTF128  $1, Y13, X14
	VADDPS        X13, X14, X13
	VMOVHLPS      X13, X13, X14
	VADDPS        X14, X13, X13
	VMOVSHDUP     X13, X14
	VADDSS        X14, X13, X13
	MOVSS         X13, 12(AX)
	VZEROUPPER
	RET

// func gemvF16AVX512(x *byte, rowBytes int, y *float32, n, rows int, out *float32)
//
// The one-token case: out[r] = dot(row r of x, y) for rows consecutive
// weight rows rowBytes apart, each summed as gemmF16x4AVX512 sums one
// activation row. n is a positive multiple of 64.
TEXT ·gemvF16AVX512(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ rowBytes+8(FP), R11
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), DX
	MOVQ rows+32(FP), BX
	MOVQ out+40(FP), AX

gvrowloop:
	MOVQ   SI, R8
	MOVQ   DI, R9
	MOVQ   DX, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

gvloop:
	// Decode streams the weights from memory: fetch 1 KiB ahead (into
	// the next row at a row's end).
	PREFETCHT0  1024(R8)
	PREFETCHT0  1088(R8)
	VCVTPH2PS   0(R8), Z16
	VCVTPH2PS   32(R8), Z17
	VCVTPH2PS   64(R8), Z18
	VCVTPH2PS   96(R8), Z19
	VFMADD231PS 0(R9), Z16, Z0
	VFMADD231PS 64(R9), Z17, Z1
	VFMADD231PS 128(R9), Z18, Z2
	VFMADD231PS 192(R9), Z19, Z3
	ADDQ        $128, R8
	ADDQ        $256, R9
	SUBQ        $64, CX
	JNZ         gvloop

	VADDPS        Z2, Z0, Z0
	VADDPS        Z3, Z1, Z1
	VADDPS        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y0, Y1, Y1
	VEXTRACTF128  $1, Y1, X2
	VADDPS        X1, X2, X1
	VMOVHLPS      X1, X1, X2
	VADDPS        X2, X1, X1
	VMOVSHDUP     X1, X2
	VADDSS        X2, X1, X1
	MOVSS         X1, 0(AX)
	ADDQ          $4, AX
	ADDQ          R11, SI
	DECQ          BX
	JNZ           gvrowloop
	VZEROUPPER
	RET

// func f16ToF32AVX2(dst *float32, src *byte, n int)
// n is a positive multiple of 8.
TEXT ·f16ToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

h2floop:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  h2floop
	VZEROUPPER
	RET

// func f32ToF16AVX2(dst *byte, src *float32, n int)
// n is a positive multiple of 8; rounds to nearest even like FP32ToFP16.
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f2hloop:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	SUBQ $8, CX
	JNZ  f2hloop
	VZEROUPPER
	RET
