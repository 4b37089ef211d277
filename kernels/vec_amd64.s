//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// func quantizeQ8_0AVX512(x *float32, dst *byte, nb int)
// One Q8_0 block per iteration, as quantize_row_q8_0's AVX path: amax =
// max|x|, d = amax/127 stored as f16 (nearest even), id = 127/amax (0 for
// an all-zero block), q = x·id rounded to nearest even (MXCSR default).
TEXT ·quantizeQ8_0AVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ nb+16(FP), CX
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z31
	MOVL $0x42fe0000, AX // 127.0
	VMOVD AX, X30
	VXORPS X29, X29, X29

q8loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VANDPS  Z31, Z0, Z2
	VANDPS  Z31, Z1, Z3
	VMAXPS  Z3, Z2, Z2
	VEXTRACTF32X8 $1, Z2, Y3
	VMAXPS  Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VMAXPS  X3, X2, X2
	VMOVHLPS X2, X2, X3
	VMAXPS  X3, X2, X2
	VMOVSHDUP X2, X3
	VMAXSS  X3, X2, X2        // amax
	VDIVSS  X30, X2, X4       // d = amax/127
	VCVTPS2PH $0, X4, X5
	VPEXTRW $0, X5, AX
	MOVW    AX, (DI)
	VXORPS  X6, X6, X6
	VUCOMISS X29, X2
	JE      q8zero
	VDIVSS  X2, X30, X6       // id = 127/amax

q8zero:
	VBROADCASTSS X6, Z6
	VMULPS  Z6, Z0, Z0
	VMULPS  Z6, Z1, Z1
	VCVTPS2DQ Z0, Z0
	VCVTPS2DQ Z1, Z1
	VPMOVDB Z0, X0
	VPMOVDB Z1, X1
	VMOVDQU X0, 2(DI)
	VMOVDQU X1, 18(DI)
	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q8loop
	VZEROUPPER
	RET

// QUANTQ8 quantizes the 32 floats at SI as quantizeQ8_0AVX512 does: the f16
// scale in X5, the quants as bytes in X0 (0..15) and X1 (16..31). Needs
// Z31 = abs mask, X30 = 127, X29 = 0.
#define QUANTQ8(zlabel) \
	VMOVUPS (SI), Z0              \
	VMOVUPS 64(SI), Z1            \
	VANDPS  Z31, Z0, Z2           \
	VANDPS  Z31, Z1, Z3           \
	VMAXPS  Z3, Z2, Z2            \
	VEXTRACTF32X8 $1, Z2, Y3      \
	VMAXPS  Y3, Y2, Y2            \
	VEXTRACTF128 $1, Y2, X3       \
	VMAXPS  X3, X2, X2            \
	VMOVHLPS X2, X2, X3           \
	VMAXPS  X3, X2, X2            \
	VMOVSHDUP X2, X3              \
	VMAXSS  X3, X2, X2            \
	VDIVSS  X30, X2, X4           \
	VCVTPS2PH $0, X4, X5          \
	VXORPS  X6, X6, X6            \
	VUCOMISS X29, X2              \
	JE      zlabel                \
	VDIVSS  X2, X30, X6           \
zlabel:                       \
	VBROADCASTSS X6, Z6           \
	VMULPS  Z6, Z0, Z0            \
	VMULPS  Z6, Z1, Z1            \
	VCVTPS2DQ Z0, Z0              \
	VCVTPS2DQ Z1, Z1              \
	VPMOVDB Z0, X0                \
	VPMOVDB Z1, X1

// LANESUMS sets Y9 to the eight int32 sums of four quants of X0:X1 (as
// Y8), using Y14 = 0x01 bytes and Y13 = int16 ones.
#define LANESUMS \
	VINSERTI128  $1, X1, Y0, Y8   \
	VPMADDUBSW   Y8, Y14, Y9      \
	VPMADDWD     Y13, Y9, Y9

#define QSETUP \
	MOVL $0x7fffffff, AX          \
	VPBROADCASTD AX, Z31          \
	MOVL $0x42fe0000, AX          \
	VMOVD AX, X30                 \
	VXORPS X29, X29, X29          \
	MOVL $0x01010101, AX          \
	VMOVD AX, X14                 \
	VPBROADCASTD X14, Y14         \
	VPCMPEQW Y13, Y13, Y13        \
	VPSRLW $15, Y13, Y13

// func quantizeQ8SumAVX512(x *float32, dst *byte, nb int)
// Q8_0 quantization straight into the q8Sum form (repack.go): per block
// c = -8·Σq (int32), the f16-rounded scale as float32, the 32 quants.
TEXT ·quantizeQ8SumAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ nb+16(FP), CX
	QSETUP

qsumloop:
	QUANTQ8(qsumzero)
	LANESUMS
	VEXTRACTI128 $1, Y9, X10
	VPADDD       X10, X9, X9
	VPSHUFD      $0x4e, X9, X10
	VPADDD       X10, X9, X9
	VPSHUFD      $0xb1, X9, X10
	VPADDD       X10, X9, X9
	VMOVD        X9, AX
	NEGL         AX
	SHLL         $3, AX
	MOVL         AX, (DI)
	VCVTPH2PS    X5, X7
	VMOVSS       X7, 4(DI)
	VMOVDQU      Y8, 8(DI)
	ADDQ $128, SI
	ADDQ $40, DI
	DECQ CX
	JNZ  qsumloop
	VZEROUPPER
	RET

// func quantizeQ8Ext128AVX512(x *float32, dst *byte, nb int)
// Q8_0 quantization straight into the q8Ext form with K = 128
// (matmul_ext.go): c_l = -128·(sum of quants 4l..4l+3), the f16-rounded
// scale as float32, the 32 quants.
TEXT ·quantizeQ8Ext128AVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ nb+16(FP), CX
	QSETUP
	VPXOR Y12, Y12, Y12

qextloop:
	QUANTQ8(qextzero)
	LANESUMS
	VPSLLD       $7, Y9, Y9
	VPSUBD       Y9, Y12, Y9
	VMOVDQU      Y9, (DI)
	VCVTPH2PS    X5, X7
	VMOVSS       X7, 32(DI)
	VMOVDQU      Y8, 36(DI)
	ADDQ $128, SI
	ADDQ $68, DI
	DECQ CX
	JNZ  qextloop
	VZEROUPPER
	RET

// func swigluAVX512(dst, gate, up *float32, n int)
// dst[i] = silu(gate[i]) * up[i] for n a multiple of 16, as ggml's
// ggml_vec_swiglu_f32 on AVX-512: silu(g) = g / (1 + v_expf(0 - g)) with
// ggml_v_expf (ARM optimized-routines' expf): the same constants, the same
// FMAs in the same order, VSCALEFPS for the 2^n scaling, and lanes with
// |n| > 192 replaced by 0 (n <= 0) or +Inf.
TEXT ·swigluAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ gate+8(FP), SI
	MOVQ up+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JZ   swigludone
	VEXPF_CONSTS

swigluloop:
	VMOVUPS      (SI), Z0      // g
	VSUBPS       Z0, Z18, Z1   // x = 0 - g
	VEXPF                      // Z10 = e^-g
	VADDPS       Z29, Z10, Z10 // 1 + e^-g
	VDIVPS       Z10, Z0, Z10  // silu(g)
	VMULPS       (DX), Z10, Z10
	VMOVUPS      Z10, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ  swigluloop

swigludone:
	VZEROUPPER
	RET
