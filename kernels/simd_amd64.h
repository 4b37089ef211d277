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

// VEXPF_CONSTS loads ggml_v_expf's AVX-512 constants (ARM optimized-routines'
// expf): Z18 = 0, Z19 = +Inf, Z20 = 0x1.8p23, Z21 = log2(e), Z22/Z23 = ln2
// hi/lo, Z24..Z28 the polynomial, Z29 = 1, Z30 = 192, Z31 = abs mask.
// Clobbers AX.
#define VEXPF_CONSTS \
	MOVL         $0x4b400000, AX \
	VPBROADCASTD AX, Z20         \
	MOVL         $0x3fb8aa3b, AX \
	VPBROADCASTD AX, Z21         \
	MOVL         $0x3f317200, AX \
	VPBROADCASTD AX, Z22         \
	MOVL         $0x35bfbe8e, AX \
	VPBROADCASTD AX, Z23         \
	MOVL         $0x3c072010, AX \
	VPBROADCASTD AX, Z24         \
	MOVL         $0x3d2b9f17, AX \
	VPBROADCASTD AX, Z25         \
	MOVL         $0x3e2aaf33, AX \
	VPBROADCASTD AX, Z26         \
	MOVL         $0x3efffedb, AX \
	VPBROADCASTD AX, Z27         \
	MOVL         $0x3f7ffff6, AX \
	VPBROADCASTD AX, Z28         \
	MOVL         $0x3f800000, AX \
	VPBROADCASTD AX, Z29         \
	MOVL         $0x43400000, AX \
	VPBROADCASTD AX, Z30         \
	MOVL         $0x7fffffff, AX \
	VPBROADCASTD AX, Z31         \
	MOVL         $0x7f800000, AX \
	VPBROADCASTD AX, Z19         \
	VXORPS       Z18, Z18, Z18

// VEXPF sets Z10 = ggml_v_expf(Z1) exactly as ggml computes it: the same
// FMAs in the same order, VSCALEFPS for 2^n, and lanes with |n| > 192
// replaced by 0 (n <= 0) or +Inf. Needs VEXPF_CONSTS; clobbers Z2..Z9,
// Z11, K1, K2.
#define VEXPF \
	VMOVAPS      Z20, Z2            \
	VFMADD231PS  Z21, Z1, Z2        \
	VSUBPS       Z20, Z2, Z3        \
	VMOVAPS      Z1, Z4             \
	VFNMADD231PS Z22, Z3, Z4        \
	VFNMADD231PS Z23, Z3, Z4        \
	VANDPS       Z31, Z3, Z5        \
	VCMPPS       $0x1e, Z30, Z5, K1 \
	VCMPPS       $0x12, Z18, Z3, K2 \
	VMULPS       Z4, Z4, Z6         \
	VMOVAPS      Z25, Z7            \
	VFMADD231PS  Z24, Z4, Z7        \
	VMOVAPS      Z27, Z8            \
	VFMADD231PS  Z26, Z4, Z8        \
	VFMADD231PS  Z7, Z6, Z8         \
	VMOVAPS      Z29, Z9            \
	VFMADD231PS  Z28, Z4, Z9        \
	VFMADD231PS  Z8, Z6, Z9         \
	VSCALEFPS    Z3, Z9, Z10        \
	VBLENDMPS    Z18, Z19, K2, Z11  \
	VMOVAPS      Z11, K1, Z10

// REDUCE8 folds accumulators a0..a7 (lane l of a row each) into a0 in
// hsum_float_8's order: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
#define REDUCE8(a0, a1, a2, a3, a4, a5, a6, a7) \
	VADDPS a4, a0, a0 \
	VADDPS a5, a1, a1 \
	VADDPS a6, a2, a2 \
	VADDPS a7, a3, a3 \
	VADDPS a2, a0, a0 \
	VADDPS a3, a1, a1 \
	VADDPS a1, a0, a0
