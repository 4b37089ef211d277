//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// Four-token kernels over "extended" Q8_0 activations (see q8ext in
// matmul_ext.go): per block 32 bytes of int32 lanes c = -K·(sum of each
// four quants), the float32 scale, then the 32 quants. Weights are made
// unsigned (Q4_0: the raw nibbles, K = 8; Q8_0: x+128, K = 128), so one
// VPDPBUSD on top of c gives the same int32 lanes as the sign trick of the
// one-row kernels, and each output is bit-identical to them.

// func gemmXQ4_0x4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmXQ4_0x4AVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15
	BYTES(0x0f0f0f0f, Y13)
	BYTES(0x80808080, Y12)
	TESTQ CX, CX
	JZ    gemmXQ4_0x4AVX2done

gemmXQ4_0x4AVX2loop:
	VMOVDQU      2(SI), X4
	VPSRLW       $4, X4, X5
	VINSERTI128  $1, X5, Y4, Y4
	VPAND        Y13, Y4, Y4
	VPBROADCASTW (SI), X6
	VCVTPH2PS    X6, Y6
	VPMADDUBSW   36(DI), Y4, Y8
	VPMADDWD     Y15, Y8, Y8
	VPADDD       (DI), Y8, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(DI), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y0
	VPMADDUBSW   36(R8), Y4, Y8
	VPMADDWD     Y15, Y8, Y8
	VPADDD       (R8), Y8, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R8), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y1
	VPMADDUBSW   36(R9), Y4, Y8
	VPMADDWD     Y15, Y8, Y8
	VPADDD       (R9), Y8, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R9), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y2
	VPMADDUBSW   36(R10), Y4, Y8
	VPMADDWD     Y15, Y8, Y8
	VPADDD       (R10), Y8, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R10), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y3
	ADDQ $18, SI
	ADDQ $68, DI
	ADDQ $68, R8
	ADDQ $68, R9
	ADDQ $68, R10
	DECQ CX
	JNZ  gemmXQ4_0x4AVX2loop

gemmXQ4_0x4AVX2done:
	MOVQ out+32(FP), AX
	HSUMTO(Y0, X0, X4, 0)
	HSUMTO(Y1, X1, X4, 4)
	HSUMTO(Y2, X2, X4, 8)
	HSUMTO(Y3, X3, X4, 12)
	VZEROUPPER
	RET

// func gemmXQ4_0x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmXQ4_0x4VNNI(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15
	BYTES(0x0f0f0f0f, Y13)
	BYTES(0x80808080, Y12)
	TESTQ CX, CX
	JZ    gemmXQ4_0x4VNNIdone

gemmXQ4_0x4VNNIloop:
	VMOVDQU      2(SI), X4
	VPSRLW       $4, X4, X5
	VINSERTI128  $1, X5, Y4, Y4
	VPAND        Y13, Y4, Y4
	VPBROADCASTW (SI), X6
	VCVTPH2PS    X6, Y6
	VMOVDQU      (DI), Y8
	VPDPBUSD     36(DI), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(DI), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y0
	VMOVDQU      (R8), Y8
	VPDPBUSD     36(R8), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R8), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y1
	VMOVDQU      (R9), Y8
	VPDPBUSD     36(R9), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R9), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y2
	VMOVDQU      (R10), Y8
	VPDPBUSD     36(R10), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R10), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y3
	ADDQ $18, SI
	ADDQ $68, DI
	ADDQ $68, R8
	ADDQ $68, R9
	ADDQ $68, R10
	DECQ CX
	JNZ  gemmXQ4_0x4VNNIloop

gemmXQ4_0x4VNNIdone:
	MOVQ out+32(FP), AX
	HSUMTO(Y0, X0, X4, 0)
	HSUMTO(Y1, X1, X4, 4)
	HSUMTO(Y2, X2, X4, 8)
	HSUMTO(Y3, X3, X4, 12)
	VZEROUPPER
	RET

// func gemmXQ8_0x4VNNI(x, y *byte, ystride, nb int, out *[4]float32)
TEXT ·gemmXQ8_0x4VNNI(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15
	BYTES(0x0f0f0f0f, Y13)
	BYTES(0x80808080, Y12)
	TESTQ CX, CX
	JZ    gemmXQ8_0x4VNNIdone

gemmXQ8_0x4VNNIloop:
	VMOVDQU      2(SI), Y4
	VPXOR        Y12, Y4, Y4
	VPBROADCASTW (SI), X6
	VCVTPH2PS    X6, Y6
	VMOVDQU      (DI), Y8
	VPDPBUSD     36(DI), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(DI), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y0
	VMOVDQU      (R8), Y8
	VPDPBUSD     36(R8), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R8), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y1
	VMOVDQU      (R9), Y8
	VPDPBUSD     36(R9), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R9), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y2
	VMOVDQU      (R10), Y8
	VPDPBUSD     36(R10), Y4, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS 32(R10), Y9
	VMULPS       Y9, Y6, Y9
	VFMADD231PS  Y8, Y9, Y3
	ADDQ $34, SI
	ADDQ $68, DI
	ADDQ $68, R8
	ADDQ $68, R9
	ADDQ $68, R10
	DECQ CX
	JNZ  gemmXQ8_0x4VNNIloop

gemmXQ8_0x4VNNIdone:
	MOVQ out+32(FP), AX
	HSUMTO(Y0, X0, X4, 0)
	HSUMTO(Y1, X1, X4, 4)
	HSUMTO(Y2, X2, X4, 8)
	HSUMTO(Y3, X3, X4, 12)
	VZEROUPPER
	RET

// func dotXQ4_0AVX2(x, y *byte, nb int) float32
//
// One Q4_0 row times one extended activation row: bit-identical to
// dotQ4_0AVX2, in fewer instructions (the activations' block sums are
// precomputed).
TEXT ·dotXQ4_0AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15
	BYTES(0x0f0f0f0f, Y14)
	TESTQ CX, CX
	JZ    dotXQ4_0AVX2done

dotXQ4_0AVX2loop:
	VMOVDQU      2(SI), X2
	VPSRLW       $4, X2, X3
	VINSERTI128  $1, X3, Y2, Y2
	VPAND        Y14, Y2, Y2
	VPMADDUBSW   36(DI), Y2, Y6
	VPMADDWD     Y15, Y6, Y6
	VPADDD       (DI), Y6, Y6
	VCVTDQ2PS    Y6, Y6
	VPBROADCASTW (SI), X1
	VCVTPH2PS    X1, Y1
	VBROADCASTSS 32(DI), Y3
	VMULPS       Y3, Y1, Y1
	VFMADD231PS  Y6, Y1, Y0
	ADDQ $18, SI
	ADDQ $68, DI
	DECQ CX
	JNZ  dotXQ4_0AVX2loop

dotXQ4_0AVX2done:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X0, X1, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotXQ4_0VNNI(x, y *byte, nb int) float32
//
// One Q4_0 row times one extended activation row: bit-identical to
// dotQ4_0VNNI, in fewer instructions (the activations' block sums are
// precomputed).
TEXT ·dotXQ4_0VNNI(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15
	BYTES(0x0f0f0f0f, Y14)
	TESTQ CX, CX
	JZ    dotXQ4_0VNNIdone

dotXQ4_0VNNIloop:
	VMOVDQU      2(SI), X2
	VPSRLW       $4, X2, X3
	VINSERTI128  $1, X3, Y2, Y2
	VPAND        Y14, Y2, Y2
	VMOVDQU      (DI), Y6
	VPDPBUSD     36(DI), Y2, Y6
	VCVTDQ2PS    Y6, Y6
	VPBROADCASTW (SI), X1
	VCVTPH2PS    X1, Y1
	VBROADCASTSS 32(DI), Y3
	VMULPS       Y3, Y1, Y1
	VFMADD231PS  Y6, Y1, Y0
	ADDQ $18, SI
	ADDQ $68, DI
	DECQ CX
	JNZ  dotXQ4_0VNNIloop

dotXQ4_0VNNIdone:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X0, X1, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET
