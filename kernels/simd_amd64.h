// Macros shared by the amd64 kernels (dot_amd64.s, gemm_amd64.s,
// gemm_ext_amd64.s).

// HSUM8 adds the eight lanes of Y0 into X0[0] in hsum_float_8's order:
// (hi+lo), then (0+2, 1+3), then their sum. Clobbers X1.
#define HSUM8 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X0, X1, X0 \
	VMOVHLPS     X0, X0, X1 \
	VADDPS       X1, X0, X0 \
	VMOVSHDUP    X0, X1     \
	VADDSS       X1, X0, X0

// BLOCKSCALE broadcasts f16(x.d)*f16(y.d) (first two bytes at SI and DI)
// into Y1: both halves widened in every lane, one float32 product.
// Clobbers X2.
#define BLOCKSCALE \
	VPBROADCASTW (SI), X1 \
	VCVTPH2PS    X1, Y1   \
	VPBROADCASTW (DI), X2 \
	VCVTPH2PS    X2, Y2   \
	VMULPS       Y2, Y1, Y1

// MULSUM_AVX2 turns signed bytes Y2 (x) and Y3 (y) into eight int32 lanes
// in Y6, each the sum of four adjacent products (mul_sum_i8_pairs), using
// Y15 = int16 ones.
#define MULSUM_AVX2 \
	VPSIGNB    Y2, Y2, Y4 \
	VPSIGNB    Y2, Y3, Y5 \
	VPMADDUBSW Y5, Y4, Y6 \
	VPMADDWD   Y15, Y6, Y6

#define MULSUM_VNNI \
	VPSIGNB    Y2, Y2, Y4 \
	VPSIGNB    Y2, Y3, Y5 \
	VPXOR      Y6, Y6, Y6 \
	VPDPBUSD   Y5, Y4, Y6

#define ONES16(r) \
	VPCMPEQW r, r, r \
	VPSRLW   $15, r, r

// BYTES(c, r) broadcasts the byte c into every byte of r. Clobbers AX.
#define BYTES(c, r) \
	MOVL         $c, AX \
	VMOVD        AX, X11 \
	VPBROADCASTD X11, r

// HSUMTO reduces the eight lanes of Y(r) as hsum_float_8 and stores the sum
// at off(AX). Clobbers X(t).
#define HSUMTO(yr, xr, xt, off) \
	VEXTRACTF128 $1, yr, xt \
	VADDPS       xr, xt, xr \
	VMOVHLPS     xr, xr, xt \
	VADDPS       xt, xr, xr \
	VMOVSHDUP    xr, xt     \
	VADDSS       xt, xr, xr \
	MOVSS        xr, off(AX)
