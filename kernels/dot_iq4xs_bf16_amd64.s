//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// IQ4_XS·Q8_K and BF16·BF16 dot products (AVX2, AVX-512) and IQ4_XS
// four-token kernels, bit-identical to the references dotIQ4_XS and
// dotBF16: the same integer lanes and the same float operations in the
// same order.

// iq4xsTab is kvalues_iq4nl, the 16 codebook values, for VPSHUFB.
DATA iq4xsTab<>+0(SB)/8, $0xf6eaddcfbfad9881
DATA iq4xsTab<>+8(SB)/8, $0x7159453526190d01
GLOBL iq4xsTab<>(SB), RODATA|NOPTR, $16

// iq4xsNib shifts the upper 128-bit half right by 4 so that, after a
// broadcast of 16 quant bytes, the low half keeps the low nibbles and the
// high half the high ones (ggml's element order: j and j+16).
DATA iq4xsNib<>+0(SB)/8, $0
DATA iq4xsNib<>+8(SB)/8, $0
DATA iq4xsNib<>+16(SB)/8, $0x0000000400000004
DATA iq4xsNib<>+24(SB)/8, $0x0000000400000004
GLOBL iq4xsNib<>(SB), RODATA|NOPTR, $32

// iq4xsShL / iq4xsShH bring sub-block ib's low scale nibble (bits 4ib of
// scales_l read as one uint32) and its two high bits (bits 2ib of scales_h)
// down to bit 0 of dword ib.
DATA iq4xsShL<>+0(SB)/8, $0x0000000400000000
DATA iq4xsShL<>+8(SB)/8, $0x0000000c00000008
DATA iq4xsShL<>+16(SB)/8, $0x0000001400000010
DATA iq4xsShL<>+24(SB)/8, $0x0000001c00000018
GLOBL iq4xsShL<>(SB), RODATA|NOPTR, $32

DATA iq4xsShH<>+0(SB)/8, $0x0000000200000000
DATA iq4xsShH<>+8(SB)/8, $0x0000000600000004
DATA iq4xsShH<>+16(SB)/8, $0x0000000a00000008
DATA iq4xsShH<>+24(SB)/8, $0x0000000e0000000c
GLOBL iq4xsShH<>(SB), RODATA|NOPTR, $32

// iq4xsK holds the dword constants 15, 3 and 32.
DATA iq4xsK<>+0(SB)/4, $15
DATA iq4xsK<>+4(SB)/4, $3
DATA iq4xsK<>+8(SB)/4, $32
GLOBL iq4xsK<>(SB), RODATA|NOPTR, $12

// iq4xsBc: VPSHUFB masks, mask ib copies int16 word ib of each 128-bit
// half into all eight words of that half.
DATA iq4xsBc<>+0(SB)/8, $0x0100010001000100
DATA iq4xsBc<>+8(SB)/8, $0x0100010001000100
DATA iq4xsBc<>+16(SB)/8, $0x0100010001000100
DATA iq4xsBc<>+24(SB)/8, $0x0100010001000100
DATA iq4xsBc<>+32(SB)/8, $0x0302030203020302
DATA iq4xsBc<>+40(SB)/8, $0x0302030203020302
DATA iq4xsBc<>+48(SB)/8, $0x0302030203020302
DATA iq4xsBc<>+56(SB)/8, $0x0302030203020302
DATA iq4xsBc<>+64(SB)/8, $0x0504050405040504
DATA iq4xsBc<>+72(SB)/8, $0x0504050405040504
DATA iq4xsBc<>+80(SB)/8, $0x0504050405040504
DATA iq4xsBc<>+88(SB)/8, $0x0504050405040504
DATA iq4xsBc<>+96(SB)/8, $0x0706070607060706
DATA iq4xsBc<>+104(SB)/8, $0x0706070607060706
DATA iq4xsBc<>+112(SB)/8, $0x0706070607060706
DATA iq4xsBc<>+120(SB)/8, $0x0706070607060706
DATA iq4xsBc<>+128(SB)/8, $0x0908090809080908
DATA iq4xsBc<>+136(SB)/8, $0x0908090809080908
DATA iq4xsBc<>+144(SB)/8, $0x0908090809080908
DATA iq4xsBc<>+152(SB)/8, $0x0908090809080908
DATA iq4xsBc<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA iq4xsBc<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA iq4xsBc<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA iq4xsBc<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA iq4xsBc<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA iq4xsBc<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA iq4xsBc<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA iq4xsBc<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA iq4xsBc<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA iq4xsBc<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA iq4xsBc<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA iq4xsBc<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL iq4xsBc<>(SB), RODATA|NOPTR, $256

// IQ4XS_SCALES leaves the eight scales minus 32 as int16 words 0..7 of
// both halves of Y9. Clobbers Y2..Y5.
#define IQ4XS_SCALES \
	VPBROADCASTD 4(SI), Y2                 \
	VPSRLVD      iq4xsShL<>(SB), Y2, Y2    \
	VPBROADCASTD iq4xsK<>+0(SB), Y4        \
	VPAND        Y4, Y2, Y2                \
	VPBROADCASTW 2(SI), Y3                 \
	VPSRLVD      iq4xsShH<>(SB), Y3, Y3    \
	VPBROADCASTD iq4xsK<>+4(SB), Y4        \
	VPAND        Y4, Y3, Y3                \
	VPSLLD       $4, Y3, Y3                \
	VPOR         Y3, Y2, Y2                \
	VPBROADCASTD iq4xsK<>+8(SB), Y4        \
	VPSUBD       Y4, Y2, Y2                \
	VEXTRACTI128 $1, Y2, X3                \
	VPACKSSDW    X3, X2, X2                \
	VINSERTI128  $1, X2, Y2, Y9

// IQ4XS_SUB adds sub-block ib (16 quant bytes at qoff(SI), 32 activations
// at yoff(DI)) times its scale into the int32 lanes Y8. Lane l sums four
// adjacent products as ggml's mul_add_epi8 + madd by the scale, but with
// the sign moved onto the codebook value (|y| unsigned, x·sign(y) signed):
// exact for every int8 activation, -128 included, with no int16 overflow
// (|x| <= 127, so each pair is at most 2·127·128).
#define IQ4XS_SUB(qoff, yoff, boff) \
	VBROADCASTI128 qoff(SI), Y2         \
	VPSRLVD        Y13, Y2, Y2          \
	VPAND          Y14, Y2, Y2          \
	VPSHUFB        Y2, Y12, Y2          \
	VMOVDQU        yoff(DI), Y3         \
	VPABSB         Y3, Y4               \
	VPSIGNB        Y3, Y2, Y5           \
	VPMADDUBSW     Y5, Y4, Y6           \
	VPSHUFB        iq4xsBc<>+boff(SB), Y9, Y7 \
	VPMADDWD       Y7, Y6, Y6           \
	VPADDD         Y6, Y8, Y8

// func dotIQ4XSAVX2(x, y *byte, nb int) float32
TEXT ·dotIQ4XSAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS         Y0, Y0, Y0
	VBROADCASTI128 iq4xsTab<>(SB), Y12
	VMOVDQU        iq4xsNib<>(SB), Y13
	BYTES(0x0f0f0f0f, Y14)
	TESTQ CX, CX
	JZ    iq4xsDone

iq4xsLoop:
	IQ4XS_SCALES

	VPXOR Y8, Y8, Y8
	IQ4XS_SUB(8, 4, 0)
	IQ4XS_SUB(24, 36, 32)
	IQ4XS_SUB(40, 68, 64)
	IQ4XS_SUB(56, 100, 96)
	IQ4XS_SUB(72, 132, 128)
	IQ4XS_SUB(88, 164, 160)
	IQ4XS_SUB(104, 196, 192)
	IQ4XS_SUB(120, 228, 224)

	// acc = fma(f16(x.d)·y.d, float(lanes), acc)
	VPBROADCASTW (SI), X1
	VCVTPH2PS    X1, Y1
	VBROADCASTSS (DI), Y2
	VMULPS       Y2, Y1, Y1
	VCVTDQ2PS    Y8, Y8
	VFMADD231PS  Y8, Y1, Y0
	ADDQ $136, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  iq4xsLoop

iq4xsDone:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// iq4xsNib512 is iq4xsNib for two sub-blocks per ZMM: 128-bit lanes 1
// and 3 take the high nibbles.
DATA iq4xsNib512<>+0(SB)/8, $0
DATA iq4xsNib512<>+8(SB)/8, $0
DATA iq4xsNib512<>+16(SB)/8, $0x0000000400000004
DATA iq4xsNib512<>+24(SB)/8, $0x0000000400000004
DATA iq4xsNib512<>+32(SB)/8, $0
DATA iq4xsNib512<>+40(SB)/8, $0
DATA iq4xsNib512<>+48(SB)/8, $0x0000000400000004
DATA iq4xsNib512<>+56(SB)/8, $0x0000000400000004
GLOBL iq4xsNib512<>(SB), RODATA|NOPTR, $64

// IQ4XS_PAIR512 is IQ4XS_SUB for sub-blocks 2p and 2p+1 (32 quant bytes at
// qoff(SI), 64 activations at yoff(DI)): the low 256 bits hold 2p in
// IQ4XS_SUB's layout, the high 256 bits 2p+1. AVX-512 has no VPSIGNB, so
// x·sign(y) negates x where y < 0 (where y = 0, |y| = 0 zeroes the
// product anyway). The mask for the scale words 2p | 2p+1 is iq4xsBc's
// two 32-byte masks side by side.
#define IQ4XS_PAIR512(qoff, yoff, boff) \
	VMOVDQU        qoff(SI), Y2                \
	VSHUFI64X2     $0x50, Z2, Z2, Z2           \
	VPSRLVD        Z13, Z2, Z2                 \
	VPANDD         Z14, Z2, Z2                 \
	VPSHUFB        Z2, Z12, Z2                 \
	VMOVDQU64      yoff(DI), Z3                \
	VPABSB         Z3, Z4                      \
	VPMOVB2M       Z3, K1                      \
	VPSUBB         Z2, Z15, K1, Z2             \
	VPMADDUBSW     Z2, Z4, Z6                  \
	VPSHUFB        iq4xsBc<>+boff(SB), Z9, Z7  \
	VPMADDWD       Z7, Z6, Z6                  \
	VPADDD         Z6, Z8, Z8

// func dotIQ4XSAVX512(x, y *byte, nb int) float32
TEXT ·dotIQ4XSAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS          Y0, Y0, Y0
	VPXORD          Z15, Z15, Z15
	VBROADCASTI32X4 iq4xsTab<>(SB), Z12
	VMOVDQU64       iq4xsNib512<>(SB), Z13
	MOVL            $0x0f0f0f0f, AX
	VPBROADCASTD    AX, Z14
	TESTQ CX, CX
	JZ    iq4xs512Done

iq4xs512Loop:
	// The scale words in every 128-bit lane of Z9.
	IQ4XS_SCALES
	VSHUFI32X4 $0, Z9, Z9, Z9

	VPXORD Z8, Z8, Z8
	IQ4XS_PAIR512(8, 4, 0)
	IQ4XS_PAIR512(40, 68, 64)
	IQ4XS_PAIR512(72, 132, 128)
	IQ4XS_PAIR512(104, 196, 192)
	VEXTRACTI64X4 $1, Z8, Y1
	VPADDD        Y1, Y8, Y8

	VPBROADCASTW (SI), X1
	VCVTPH2PS    X1, Y1
	VBROADCASTSS (DI), Y2
	VMULPS       Y2, Y1, Y1
	VCVTDQ2PS    Y8, Y8
	VFMADD231PS  Y8, Y1, Y0
	ADDQ $136, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  iq4xs512Loop

iq4xs512Done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// BF16: a dword of a bfloat16 row holds elements 2k (low word) and 2k+1
// (high word), so dword<<16 is the even element as float32 and dword &
// 0xffff0000 the odd one. The accumulators therefore hold ggml's 16-lane
// accumulators c1 (elements 0..15 of each 32) and c2 (16..31) with their
// lanes split by parity: E = c[0], c[2], ..., c[14] and O = c[1], ..., c[15].
// Each lane adds the same products in the same order as ggml's, as a
// multiply then an add like the Go reference (the products of two
// bfloat16s are exact unless they underflow).

// BF16RED reduces one 16-lane accumulator given as E (ye) and O (yo) with
// _mm512_reduce_add_ps's tree into xr's low float: t8 = c[0:8]+c[8:16],
// t4 = t8[0:4]+t8[4:8], then (t4[0]+t4[2]) + (t4[1]+t4[3]). Unpacking E
// and O gives L = c[0:4] | c[8:12] and H = c[4:8] | c[12:16]. Clobbers
// Y14, Y15, xe, xo and xt.
#define BF16RED(ye, yo, xe, xo, xt, xr) \
	VUNPCKLPS    yo, ye, Y14 \
	VUNPCKHPS    yo, ye, Y15 \
	VEXTRACTF128 $1, Y14, xt \
	VADDPS       xt, X14, xe \
	VEXTRACTF128 $1, Y15, xt \
	VADDPS       xt, X15, xo \
	VADDPS       xo, xe, xr  \
	VMOVHLPS     xr, xr, xt  \
	VADDPS       xt, xr, xr  \
	VMOVSHDUP    xr, xt      \
	VADDSS       xt, xr, xr

// func dotBF16AVX2(x, y *byte, n int) (s1, s2 float32)
// n > 0 is a multiple of 32.
TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVL         $0xffff0000, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	VXORPS Y0, Y0, Y0 // c1 even lanes
	VXORPS Y1, Y1, Y1 // c1 odd lanes
	VXORPS Y2, Y2, Y2 // c2 even lanes
	VXORPS Y3, Y3, Y3 // c2 odd lanes

bf16AVX2Loop:
	VMOVDQU     (SI), Y4
	VMOVDQU     (DI), Y6
	VPSLLD      $16, Y4, Y5
	VPSLLD      $16, Y6, Y7
	VPAND       Y15, Y4, Y4
	VPAND       Y15, Y6, Y6
	VMULPS      Y7, Y5, Y5
	VADDPS      Y5, Y0, Y0
	VMULPS      Y6, Y4, Y4
	VADDPS      Y4, Y1, Y1
	VMOVDQU     32(SI), Y8
	VMOVDQU     32(DI), Y10
	VPSLLD      $16, Y8, Y9
	VPSLLD      $16, Y10, Y11
	VPAND       Y15, Y8, Y8
	VPAND       Y15, Y10, Y10
	VMULPS      Y11, Y9, Y9
	VADDPS      Y9, Y2, Y2
	VMULPS      Y10, Y8, Y8
	VADDPS      Y8, Y3, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $32, CX
	JNZ  bf16AVX2Loop

	BF16RED(Y0, Y1, X4, X5, X6, X7)
	BF16RED(Y2, Y3, X4, X5, X6, X8)
	VZEROUPPER
	MOVSS X7, s1+24(FP)
	MOVSS X8, s2+28(FP)
	RET

// func dotBF16AVX512(x, y *byte, n int) (s1, s2 float32)
// n > 0 is a multiple of 32. Z0 holds E of c1 (low half) and c2 (high
// half), Z1 their O.
TEXT ·dotBF16AVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVL         $0xffff0000, AX
	VPBROADCASTD AX, Z15
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1

bf16AVX512Loop:
	VMOVDQU32 (SI), Z4
	VMOVDQU32 (DI), Z6
	VPSLLD    $16, Z4, Z5
	VPSLLD    $16, Z6, Z7
	VPANDD    Z15, Z4, Z4
	VPANDD    Z15, Z6, Z6
	VMULPS    Z7, Z5, Z5
	VADDPS    Z5, Z0, Z0
	VMULPS    Z6, Z4, Z4
	VADDPS    Z4, Z1, Z1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $32, CX
	JNZ  bf16AVX512Loop

	VEXTRACTF64X4 $1, Z0, Y2
	VEXTRACTF64X4 $1, Z1, Y3
	BF16RED(Y0, Y1, X4, X5, X6, X7)
	BF16RED(Y2, Y3, X4, X5, X6, X8)
	VZEROUPPER
	MOVSS X7, s1+24(FP)
	MOVSS X8, s2+28(FP)
	RET

// IQ4_XS four-token kernels: one weight row times four Q8_K rows (at DI,
// R8, R9, R10), each token's lanes and float sums exactly as the one-row
// dot; the codebook lookup and the scales are done once for all four.

DATA iq4xsLo<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA iq4xsLo<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA iq4xsLo<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA iq4xsLo<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL iq4xsLo<>(SB), RODATA|NOPTR, $32

// IQ4XS_TOK adds one token's products with the codebook values Y2, times
// the scale words Y7, into its int32 lanes acc. Clobbers Y3..Y5.
#define IQ4XS_TOK(yaddr, acc) \
	VMOVDQU    yaddr, Y3    \
	VPABSB     Y3, Y4       \
	VPSIGNB    Y3, Y2, Y5   \
	VPMADDUBSW Y5, Y4, Y4   \
	VPMADDWD   Y7, Y4, Y4   \
	VPADDD     Y4, acc, acc

#define IQ4XS_SUB4(qoff, yoff, boff) \
	VBROADCASTI128 qoff(SI), Y2              \
	VPSRLVD        Y13, Y2, Y2               \
	VPAND          iq4xsLo<>(SB), Y2, Y2     \
	VPSHUFB        Y2, Y12, Y2               \
	VPSHUFB        iq4xsBc<>+boff(SB), Y9, Y7 \
	IQ4XS_TOK(yoff(DI), Y8)                  \
	IQ4XS_TOK(yoff(R8), Y10)                 \
	IQ4XS_TOK(yoff(R9), Y11)                 \
	IQ4XS_TOK(yoff(R10), Y15)

// IQ4XS_FIN: facc = fma(xd·y.d, float(iacc), facc), xd in Y2.
#define IQ4XS_FIN(yp, iacc, facc) \
	VBROADCASTSS (yp), Y3         \
	VMULPS       Y3, Y2, Y3       \
	VCVTDQ2PS    iacc, iacc       \
	VFMADD231PS  iacc, Y3, facc

// func gemmIQ4XSx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
// Float sums: Y0, Y1, Y6, Y14; int32 lanes: Y8, Y10, Y11, Y15.
TEXT ·gemmIQ4XSx4AVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS         Y0, Y0, Y0
	VXORPS         Y1, Y1, Y1
	VXORPS         Y6, Y6, Y6
	VXORPS         Y14, Y14, Y14
	VBROADCASTI128 iq4xsTab<>(SB), Y12
	VMOVDQU        iq4xsNib<>(SB), Y13

iq4xsG4Loop:
	IQ4XS_SCALES
	VPXOR Y8, Y8, Y8
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	VPXOR Y15, Y15, Y15
	IQ4XS_SUB4(8, 4, 0)
	IQ4XS_SUB4(24, 36, 32)
	IQ4XS_SUB4(40, 68, 64)
	IQ4XS_SUB4(56, 100, 96)
	IQ4XS_SUB4(72, 132, 128)
	IQ4XS_SUB4(88, 164, 160)
	IQ4XS_SUB4(104, 196, 192)
	IQ4XS_SUB4(120, 228, 224)
	VPBROADCASTW (SI), X2
	VCVTPH2PS    X2, Y2
	IQ4XS_FIN(DI, Y8, Y0)
	IQ4XS_FIN(R8, Y10, Y1)
	IQ4XS_FIN(R9, Y11, Y6)
	IQ4XS_FIN(R10, Y15, Y14)
	ADDQ $136, SI
	ADDQ $292, DI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	DECQ CX
	JNZ  iq4xsG4Loop

	MOVQ out+32(FP), AX
	HSUMTO(Y0, X0, X2, 0)
	HSUMTO(Y1, X1, X2, 4)
	HSUMTO(Y6, X6, X2, 8)
	HSUMTO(Y14, X14, X2, 12)
	VZEROUPPER
	RET

// IQ4XS_TOK512 is IQ4XS_TOK for a sub-block pair (values Z20, negated
// values Z25, scale words Z21) into acc (16 lanes). Clobbers Z22..Z24, K1.
#define IQ4XS_TOK512(yaddr, acc) \
	VMOVDQU64  yaddr, Z22          \
	VPABSB     Z22, Z23            \
	VPMOVB2M   Z22, K1             \
	VPBLENDMB  Z25, Z20, K1, Z24   \
	VPMADDUBSW Z24, Z23, Z23       \
	VPMADDWD   Z21, Z23, Z23       \
	VPADDD     Z23, acc, acc

#define IQ4XS_PAIR4(qoff, yoff, boff) \
	VMOVDQU64      qoff(SI), Y20               \
	VSHUFI64X2     $0x50, Z20, Z20, Z20        \
	VPSRLVD        Z13, Z20, Z20               \
	VPANDD         Z26, Z20, Z20               \
	VPSHUFB        Z20, Z12, Z20               \
	VPSUBB         Z20, Z15, Z25               \
	VPSHUFB        iq4xsBc<>+boff(SB), Z9, Z21 \
	IQ4XS_TOK512(yoff(DI), Z16)                \
	IQ4XS_TOK512(yoff(R8), Z17)                \
	IQ4XS_TOK512(yoff(R9), Z18)                \
	IQ4XS_TOK512(yoff(R10), Z19)

// IQ4XS_FIN512 folds the 16 lanes of iacc to ggml's 8 and adds them as
// IQ4XS_FIN.
#define IQ4XS_FIN512(yp, iacc, yacc, facc) \
	VEXTRACTI64X4 $1, iacc, Y3 \
	VPADDD        Y3, yacc, yacc \
	IQ4XS_FIN(yp, yacc, facc)

// func gemmIQ4XSx4AVX512(x, y *byte, ystride, nb int, out *[4]float32)
// Float sums: Y0, Y1, Y6, Y14; int32 lanes: Z16..Z19; 0x0f bytes: Z26.
TEXT ·gemmIQ4XSx4AVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS          Y0, Y0, Y0
	VXORPS          Y1, Y1, Y1
	VXORPS          Y6, Y6, Y6
	VXORPS          Y14, Y14, Y14
	VPXORD          Z15, Z15, Z15
	VBROADCASTI32X4 iq4xsTab<>(SB), Z12
	VMOVDQU64       iq4xsNib512<>(SB), Z13
	VPBROADCASTD    iq4xsLo<>(SB), Z26

iq4xsG4x512Loop:
	IQ4XS_SCALES
	VSHUFI32X4 $0, Z9, Z9, Z9
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	IQ4XS_PAIR4(8, 4, 0)
	IQ4XS_PAIR4(40, 68, 64)
	IQ4XS_PAIR4(72, 132, 128)
	IQ4XS_PAIR4(104, 196, 192)
	VPBROADCASTW (SI), X2
	VCVTPH2PS    X2, Y2
	IQ4XS_FIN512(DI, Z16, Y16, Y0)
	IQ4XS_FIN512(R8, Z17, Y17, Y1)
	IQ4XS_FIN512(R9, Z18, Y18, Y6)
	IQ4XS_FIN512(R10, Z19, Y19, Y14)
	ADDQ $136, SI
	ADDQ $292, DI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	DECQ CX
	JNZ  iq4xsG4x512Loop

	MOVQ out+32(FP), AX
	HSUMTO(Y0, X0, X2, 0)
	HSUMTO(Y1, X1, X2, 4)
	HSUMTO(Y6, X6, X2, 8)
	HSUMTO(Y14, X14, X2, 12)
	VZEROUPPER
	RET
