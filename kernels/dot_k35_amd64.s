//go:build amd64 && !noasm

#include "textflag.h"
#include "simd_amd64.h"

// Q5_K and Q3_K dot products with Q8_K activations, AVX2 (+FMA, F16C) and
// AVX-512 BW (at the end of the file), in the order of the references
// dotQ5_K and dotQ3_K (dot_kquants.go), which follow ggml-cpu's AVX2
// ggml_vec_dot_q5_K_q8_K / ggml_vec_dot_q3_K_q8_K: per super-block eight
// exact int32 lanes (lane l = elements 4l..4l+3 of every 32),
// acc = fma(d, float(lane), acc), hsum_float_8 at the end.

// Q5K_CHUNK adds 64 elements of a Q5_K block to the int32 lanes in Y10:
// the low nibbles of the 32 quant bytes at qs(SI) with the fifth bits
// already placed at 0x10 in Y8 (against q8 at qa(DI), scale word sa(SP)),
// and the high nibbles with theirs in Y9 (q8 at qb(DI), scale sb(SP)).
// Needs Y14 = 0x0f bytes; clobbers Y6..Y9.
#define Q5K_CHUNK(qs, qa, qb, sa, sb) \
	VMOVDQU      qs(SI), Y6     \
	VPSRLW       $4, Y6, Y7     \
	VPAND        Y14, Y6, Y6    \
	VPAND        Y14, Y7, Y7    \
	VPOR         Y8, Y6, Y6     \
	VPOR         Y9, Y7, Y7     \
	VPMADDUBSW   qa(DI), Y6, Y6 \
	VPMADDUBSW   qb(DI), Y7, Y7 \
	VPBROADCASTW sa(SP), Y8     \
	VPBROADCASTW sb(SP), Y9     \
	VPMADDWD     Y8, Y6, Y6     \
	VPMADDWD     Y9, Y7, Y7     \
	VPADDD       Y7, Y6, Y6     \
	VPADDD       Y6, Y10, Y10

// func dotQ5_KAVX2(x, y *byte, nb int) float32
//
// The minimum terms are one scalar per super-block, as in the reference:
// summs = fma(dmin, float(Σ mins·pair sums of bsums), summs), added to the
// lane sum after hsum_float_8.
TEXT ·dotQ5_KAVX2(SB), NOSPLIT, $16-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X12, X12, X12
	BYTES(0x0f0f0f0f, Y14)
	BYTES(0x10101010, Y13)
	MOVL  $0x80000000, AX
	VMOVD AX, X11
	TESTQ CX, CX
	JZ    q5kdone

q5kloop:
	// d = y.d*x.d broadcast in Y3; dmin = -(y.d*x.dmin) in X4[0].
	MOVL         (SI), AX
	VMOVD        AX, X1
	VCVTPH2PS    X1, X1
	VBROADCASTSS (DI), X2
	VMULPS       X1, X2, X1
	VBROADCASTSS X1, Y3
	VMOVSHDUP    X1, X4
	VXORPS       X11, X4, X4

	// The 12 scale bytes: scales 0..7 in AX, mins 0..7 in R10
	// (get_scale_min_k4 for four pairs at a time).
	MOVL 4(SI), AX
	MOVL 8(SI), BX
	MOVL 12(SI), DX
	MOVL DX, R8
	SHRL $4, R8
	ANDL $0x0f0f0f0f, R8
	MOVL BX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, R8
	MOVL BX, R10
	ANDL $0x3f3f3f3f, R10
	MOVL DX, R11
	ANDL $0x0f0f0f0f, R11
	MOVL AX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, R11
	ANDL $0x3f3f3f3f, AX
	SHLQ $32, R11
	ORQ  R11, AX
	SHLQ $32, R8
	ORQ  R8, R10
	MOVQ AX, X5
	VPMOVZXBW X5, X5
	VMOVDQU   X5, 0(SP)
	MOVQ R10, X6
	VPMOVZXBW X6, X6

	// Minimum term: madd(mins, hadd(bsums)), its four lanes summed.
	VMOVDQU     260(DI), X7
	VMOVDQU     276(DI), X8
	VPHADDW     X8, X7, X7
	VPMADDWD    X7, X6, X6
	VPSHUFD     $0x4e, X6, X7
	VPADDD      X7, X6, X6
	VPSHUFD     $0xb1, X6, X7
	VPADDD      X7, X6, X6
	VCVTDQ2PS   X6, X6
	VFMADD231SS X6, X4, X12

	// Quants: nibble | fifth bit (qh bit 2j for the low nibbles of chunk
	// j, bit 2j+1 for the high ones) moved to bit 4 of each byte. Word
	// shifts are safe: the bit taken into bit 4 of a byte never comes
	// from the other byte of the word for these shift counts.
	VMOVDQU 16(SI), Y15
	VPXOR   Y10, Y10, Y10
	VPSLLW  $4, Y15, Y8
	VPSLLW  $3, Y15, Y9
	VPAND   Y13, Y8, Y8
	VPAND   Y13, Y9, Y9
	Q5K_CHUNK(48, 4, 36, 0, 2)
	VPSLLW  $2, Y15, Y8
	VPSLLW  $1, Y15, Y9
	VPAND   Y13, Y8, Y8
	VPAND   Y13, Y9, Y9
	Q5K_CHUNK(80, 68, 100, 4, 6)
	VPAND   Y13, Y15, Y8
	VPSRLW  $1, Y15, Y9
	VPAND   Y13, Y9, Y9
	Q5K_CHUNK(112, 132, 164, 8, 10)
	VPSRLW  $2, Y15, Y8
	VPSRLW  $3, Y15, Y9
	VPAND   Y13, Y8, Y8
	VPAND   Y13, Y9, Y9
	Q5K_CHUNK(144, 196, 228, 12, 14)

	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y3, Y0
	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q5kloop

q5kdone:
	HSUM8
	VADDSS X12, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// q3kPair spreads a broadcast dword (scales 2c, 2c+1 as int16) to scale
// 2c in the low 128 bits and 2c+1 in the high 128 bits: the two 16-element
// sub-blocks of a 32-element chunk.
DATA q3kPair<>+0(SB)/8, $0x0100010001000100
DATA q3kPair<>+8(SB)/8, $0x0100010001000100
DATA q3kPair<>+16(SB)/8, $0x0302030203020302
DATA q3kPair<>+24(SB)/8, $0x0302030203020302
GLOBL q3kPair<>(SB), RODATA|NOPTR, $32

// Q3K_CHUNK adds the 32-element chunk c of a Q3_K block to Y10: the 2-bit
// quants in Y7 (0..3) and the high-bit correction in Y8 (4 where the hmask
// bit is clear, else 0) against q8 at qa(DI), with scales from sa(SP).
// The two maddubs are exact in int16, so their difference is q·y exactly.
// Clobbers Y5, Y7..Y9.
#define Q3K_CHUNK(qa, sa) \
	VMOVDQU      qa(DI), Y5  \
	VPMADDUBSW   Y5, Y7, Y7  \
	VPMADDUBSW   Y5, Y8, Y8  \
	VPSUBW       Y8, Y7, Y7  \
	VPBROADCASTD sa(SP), Y9  \
	VPSHUFB      Y11, Y9, Y9 \
	VPMADDWD     Y9, Y7, Y7  \
	VPADDD       Y7, Y10, Y10

// func dotQ3_KAVX2(x, y *byte, nb int) float32
TEXT ·dotQ3_KAVX2(SB), NOSPLIT, $32-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	BYTES(0x03030303, Y14)
	BYTES(0x04040404, Y13)
	BYTES(0x00200020, Y12)
	VMOVDQU q3kPair<>(SB), Y11
	MOVQ    $0x0f0f0f0f0f0f0f0f, R12
	TESTQ   CX, CX
	JZ      q3kdone

q3kloop:
	MOVWLZX      108(SI), AX
	VMOVD        AX, X1
	VCVTPH2PS    X1, X1
	VMULSS       (DI), X1, X1
	VBROADCASTSS X1, Y1

	// The 16 6-bit scales: low nibbles from bytes 0..7 (scale j<8 the low
	// nibble of byte j, j>=8 the high nibble of byte j-8), top two bits
	// from bytes 8..11 (bits 2(j/4)..+1 of byte 8+j%4); then minus 32, as
	// int16 on the stack.
	MOVQ 96(SI), AX
	MOVL 104(SI), BX
	MOVQ AX, DX
	SHRQ $4, DX
	ANDQ R12, AX
	ANDQ R12, DX
	MOVL BX, R8
	ANDL $0x03030303, R8
	MOVL BX, R9
	SHRL $2, R9
	ANDL $0x03030303, R9
	SHLQ $32, R9
	ORQ  R9, R8
	SHLQ $4, R8
	ORQ  R8, AX
	MOVL BX, R8
	SHRL $4, R8
	ANDL $0x03030303, R8
	MOVL BX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLQ $32, R9
	ORQ  R9, R8
	SHLQ $4, R8
	ORQ  R8, DX
	MOVQ      AX, X2
	VPINSRQ   $1, DX, X2, X2
	VPMOVZXBW X2, Y2
	VPSUBW    Y12, Y2, Y2
	VMOVDQU   Y2, 0(SP)

	// Inverted hmask: bit c of byte l set when element 32c+l needs -4.
	// Each chunk shifts it so bit c lands at bit 2 (0x04 per byte, word
	// shifts never carry that bit across bytes for these counts).
	VPCMPEQB Y15, Y15, Y15
	VPXOR    (SI), Y15, Y15
	VPXOR    Y10, Y10, Y10

	// First 128 elements: 2-bit quants from bytes 32..63, hmask bits 0..3.
	VMOVDQU 32(SI), Y6
	VPAND   Y14, Y6, Y7
	VPSLLW  $2, Y15, Y8
	VPAND   Y13, Y8, Y8
	Q3K_CHUNK(4, 0)
	VPSRLW  $2, Y6, Y7
	VPAND   Y14, Y7, Y7
	VPSLLW  $1, Y15, Y8
	VPAND   Y13, Y8, Y8
	Q3K_CHUNK(36, 4)
	VPSRLW  $4, Y6, Y7
	VPAND   Y14, Y7, Y7
	VPAND   Y13, Y15, Y8
	Q3K_CHUNK(68, 8)
	VPSRLW  $6, Y6, Y7
	VPAND   Y14, Y7, Y7
	VPSRLW  $1, Y15, Y8
	VPAND   Y13, Y8, Y8
	Q3K_CHUNK(100, 12)

	// Last 128: bytes 64..95, hmask bits 4..7.
	VMOVDQU 64(SI), Y6
	VPAND   Y14, Y6, Y7
	VPSRLW  $2, Y15, Y8
	VPAND   Y13, Y8, Y8
	Q3K_CHUNK(132, 16)
	VPSRLW  $2, Y6, Y7
	VPAND   Y14, Y7, Y7
	VPSRLW  $3, Y15, Y8
	VPAND   Y13, Y8, Y8
	Q3K_CHUNK(164, 20)
	VPSRLW  $4, Y6, Y7
	VPAND   Y14, Y7, Y7
	VPSRLW  $4, Y15, Y8
	VPAND   Y13, Y8, Y8
	Q3K_CHUNK(196, 24)
	VPSRLW  $6, Y6, Y7
	VPAND   Y14, Y7, Y7
	VPSRLW  $5, Y15, Y8
	VPAND   Y13, Y8, Y8
	Q3K_CHUNK(228, 28)

	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y1, Y0
	ADDQ $110, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q3kloop

q3kdone:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// The four-token kernels: one weight row times the activation rows at DI,
// R8, R9, R10 (ystride apart). Each super-block is unpacked once and
// multiplied into four int32 lane sets Y0..Y3; each row's float lanes
// (Y4..Y7) and minimum term take the same operations in the same order as
// the one-row kernels above, so every output equals that row's dot.

DATA k35Sign<>+0(SB)/8, $0x80000000
DATA k35Sign<>+8(SB)/8, $0x0
GLOBL k35Sign<>(SB), RODATA|NOPTR, $16

// G5ROW adds one row's products with the Q5_K chunk in Y8 (low nibbles,
// scales Y10) and Y9 (high nibbles, scales Y11) to acc. Clobbers Y12.
#define G5ROW(p, qa, qb, acc) \
	VPMADDUBSW qa(p), Y8, Y12 \
	VPMADDWD   Y10, Y12, Y12  \
	VPADDD     Y12, acc, acc  \
	VPMADDUBSW qb(p), Y9, Y12 \
	VPMADDWD   Y11, Y12, Y12  \
	VPADDD     Y12, acc, acc

// G5CHUNK unpacks the 64 elements of chunk j (quant bytes at qs(SI)) into
// Y8/Y9 with their fifth bits, already masked to 0x10, in Y10/Y11, then
// loads the two scales from sa(SP), sb(SP) into Y10/Y11.
#define G5CHUNK(qs, sa, sb) \
	VMOVDQU      qs(SI), Y8  \
	VPSRLW       $4, Y8, Y9  \
	VPAND        Y14, Y8, Y8 \
	VPAND        Y14, Y9, Y9 \
	VPOR         Y10, Y8, Y8 \
	VPOR         Y11, Y9, Y9 \
	VPBROADCASTW sa(SP), Y10 \
	VPBROADCASTW sb(SP), Y11

// G5FIN folds one row's block into its float lanes facc (d = y.d*x.d with
// x.d in X15) and its scalar minimum term at soff(SP) (dmin from x.dmin in
// X9), as the one-row kernel does. Per row, not across rows: VPHADDD and
// VPINSRD to do four rows at once measured slower here. Clobbers Y10..Y12.
#define G5FIN(p, acc, facc, soff) \
	VMULSS       (p), X15, X10           \
	VBROADCASTSS X10, Y10                \
	VCVTDQ2PS    acc, acc                \
	VFMADD231PS  acc, Y10, facc          \
	VMOVDQU      260(p), X11             \
	VPHADDW      276(p), X11, X11        \
	VPMADDWD     16(SP), X11, X11        \
	VPSHUFD      $0x4e, X11, X12         \
	VPADDD       X12, X11, X11           \
	VPSHUFD      $0xb1, X11, X12         \
	VPADDD       X12, X11, X11           \
	VCVTDQ2PS    X11, X11                \
	VMULSS       (p), X9, X10            \
	VXORPS       k35Sign<>(SB), X10, X10 \
	VMOVSS       soff(SP), X12           \
	VFMADD231SS  X11, X10, X12           \
	VMOVSS       X12, soff(SP)

// KOUT reduces float lanes yf/xf as hsum_float_8 into X0 and stores it at
// ooff(AX). Clobbers X1.
#define KOUT(yf, xf, ooff) \
	VEXTRACTF128 $1, yf, X1 \
	VADDPS       xf, X1, X0 \
	VMOVHLPS     X0, X0, X1 \
	VADDPS       X1, X0, X0 \
	VMOVSHDUP    X0, X1     \
	VADDSS       X1, X0, X0 \
	VMOVSS       X0, ooff(AX)

// func gemmQ5_Kx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
//
// Stack: 0 scales (8 int16), 16 mins (8 int16), 32+4r row r's minimum
// term.
TEXT ·gemmQ5_Kx4AVX2(SB), NOSPLIT, $48-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	VMOVUPS X4, 32(SP)
	BYTES(0x0f0f0f0f, Y14)
	BYTES(0x10101010, Y13)
	TESTQ CX, CX
	JZ    gq5kdone

gq5kloop:
	// Scales and mins as in dotQ5_KAVX2.
	MOVL 4(SI), AX
	MOVL 8(SI), BX
	MOVL 12(SI), DX
	MOVL DX, R11
	SHRL $4, R11
	ANDL $0x0f0f0f0f, R11
	MOVL BX, R12
	SHRL $6, R12
	ANDL $0x03030303, R12
	SHLL $4, R12
	ORL  R12, R11
	MOVL BX, R13
	ANDL $0x3f3f3f3f, R13
	MOVL DX, BX
	ANDL $0x0f0f0f0f, BX
	MOVL AX, R12
	SHRL $6, R12
	ANDL $0x03030303, R12
	SHLL $4, R12
	ORL  R12, BX
	ANDL $0x3f3f3f3f, AX
	SHLQ $32, BX
	ORQ  BX, AX
	SHLQ $32, R11
	ORQ  R11, R13
	MOVQ      AX, X8
	VPMOVZXBW X8, X8
	VMOVDQU   X8, 0(SP)
	MOVQ      R13, X8
	VPMOVZXBW X8, X8
	VMOVDQU   X8, 16(SP)

	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	VPXOR   Y2, Y2, Y2
	VPXOR   Y3, Y3, Y3
	VMOVDQU 16(SI), Y15
	VPSLLW  $4, Y15, Y10
	VPSLLW  $3, Y15, Y11
	VPAND   Y13, Y10, Y10
	VPAND   Y13, Y11, Y11
	G5CHUNK(48, 0, 2)
	G5ROW(DI, 4, 36, Y0)
	G5ROW(R8, 4, 36, Y1)
	G5ROW(R9, 4, 36, Y2)
	G5ROW(R10, 4, 36, Y3)
	VPSLLW  $2, Y15, Y10
	VPSLLW  $1, Y15, Y11
	VPAND   Y13, Y10, Y10
	VPAND   Y13, Y11, Y11
	G5CHUNK(80, 4, 6)
	G5ROW(DI, 68, 100, Y0)
	G5ROW(R8, 68, 100, Y1)
	G5ROW(R9, 68, 100, Y2)
	G5ROW(R10, 68, 100, Y3)
	VPAND   Y13, Y15, Y10
	VPSRLW  $1, Y15, Y11
	VPAND   Y13, Y11, Y11
	G5CHUNK(112, 8, 10)
	G5ROW(DI, 132, 164, Y0)
	G5ROW(R8, 132, 164, Y1)
	G5ROW(R9, 132, 164, Y2)
	G5ROW(R10, 132, 164, Y3)
	VPSRLW  $2, Y15, Y10
	VPSRLW  $3, Y15, Y11
	VPAND   Y13, Y10, Y10
	VPAND   Y13, Y11, Y11
	G5CHUNK(144, 12, 14)
	G5ROW(DI, 196, 228, Y0)
	G5ROW(R8, 196, 228, Y1)
	G5ROW(R9, 196, 228, Y2)
	G5ROW(R10, 196, 228, Y3)

	// X15 = [x.d, x.dmin], X9[0] = x.dmin.
	MOVL      (SI), AX
	VMOVD     AX, X15
	VCVTPH2PS X15, X15
	VMOVSHDUP X15, X9
	G5FIN(DI, Y0, Y4, 32)
	G5FIN(R8, Y1, Y5, 36)
	G5FIN(R9, Y2, Y6, 40)
	G5FIN(R10, Y3, Y7, 44)
	ADDQ $176, SI
	ADDQ $292, DI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	DECQ CX
	JNZ  gq5kloop

gq5kdone:
	MOVQ out+32(FP), AX
	KOUT(Y4, X4, 0)
	KOUT(Y5, X5, 4)
	KOUT(Y6, X6, 8)
	KOUT(Y7, X7, 12)
	VMOVSS 0(AX), X0
	VADDSS 32(SP), X0, X0
	VMOVSS X0, 0(AX)
	VMOVSS 4(AX), X0
	VADDSS 36(SP), X0, X0
	VMOVSS X0, 4(AX)
	VMOVSS 8(AX), X0
	VADDSS 40(SP), X0, X0
	VMOVSS X0, 8(AX)
	VMOVSS 12(AX), X0
	VADDSS 44(SP), X0, X0
	VMOVSS X0, 12(AX)
	VZEROUPPER
	RET

// G3ROW adds one row's products with the Q3_K chunk (2-bit quants Y8,
// high-bit correction Y9, scale pair Y10) to acc. Clobbers Y11, Y12.
#define G3ROW(p, qa, acc) \
	VMOVDQU    qa(p), Y11    \
	VPMADDUBSW Y11, Y8, Y12  \
	VPMADDUBSW Y11, Y9, Y11  \
	VPSUBW     Y11, Y12, Y12 \
	VPMADDWD   Y10, Y12, Y12 \
	VPADDD     Y12, acc, acc

// G3CHUNK loads chunk c's 2-bit quants (bytes qs(SI) shifted right by sh)
// into Y8, masks the high-bit correction already shifted into Y9, and
// spreads the scale pair at sa(SP) into Y10.
#define G3CHUNK(qs, sh, sa) \
	VMOVDQU      qs(SI), Y8  \
	VPSRLW       $sh, Y8, Y8 \
	VPAND        Y14, Y8, Y8 \
	VPAND        Y13, Y9, Y9 \
	VPBROADCASTD sa(SP), Y10 \
	VPSHUFB      q3kPair<>(SB), Y10, Y10

// G3FIN folds one row's block into its float lanes (x.d in X15).
#define G3FIN(p, acc, facc) \
	VMULSS       (p), X15, X10 \
	VBROADCASTSS X10, Y10      \
	VCVTDQ2PS    acc, acc      \
	VFMADD231PS  acc, Y10, facc

// func gemmQ3_Kx4AVX2(x, y *byte, ystride, nb int, out *[4]float32)
//
// Stack: 0 the 16 scales minus 32 (int16).
TEXT ·gemmQ3_Kx4AVX2(SB), NOSPLIT, $32-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	BYTES(0x03030303, Y14)
	BYTES(0x04040404, Y13)
	MOVQ  $0x0f0f0f0f0f0f0f0f, R12
	TESTQ CX, CX
	JZ    gq3kdone

gq3kloop:
	// Scales as in dotQ3_KAVX2.
	MOVQ 96(SI), AX
	MOVL 104(SI), BX
	MOVQ AX, DX
	SHRQ $4, DX
	ANDQ R12, AX
	ANDQ R12, DX
	MOVL BX, R11
	ANDL $0x03030303, R11
	MOVL BX, R13
	SHRL $2, R13
	ANDL $0x03030303, R13
	SHLQ $32, R13
	ORQ  R13, R11
	SHLQ $4, R11
	ORQ  R11, AX
	MOVL BX, R11
	SHRL $4, R11
	ANDL $0x03030303, R11
	MOVL BX, R13
	SHRL $6, R13
	ANDL $0x03030303, R13
	SHLQ $32, R13
	ORQ  R13, R11
	SHLQ $4, R11
	ORQ  R11, DX
	MOVQ         AX, X8
	VPINSRQ      $1, DX, X8, X8
	VPMOVZXBW    X8, Y8
	MOVL         $0x00200020, AX
	VMOVD        AX, X9
	VPBROADCASTD X9, Y9
	VPSUBW       Y9, Y8, Y8
	VMOVDQU      Y8, 0(SP)

	VPCMPEQB Y15, Y15, Y15
	VPXOR    (SI), Y15, Y15
	VPXOR    Y0, Y0, Y0
	VPXOR    Y1, Y1, Y1
	VPXOR    Y2, Y2, Y2
	VPXOR    Y3, Y3, Y3

	VPSLLW $2, Y15, Y9
	G3CHUNK(32, 0, 0)
	G3ROW(DI, 4, Y0)
	G3ROW(R8, 4, Y1)
	G3ROW(R9, 4, Y2)
	G3ROW(R10, 4, Y3)
	VPSLLW $1, Y15, Y9
	G3CHUNK(32, 2, 4)
	G3ROW(DI, 36, Y0)
	G3ROW(R8, 36, Y1)
	G3ROW(R9, 36, Y2)
	G3ROW(R10, 36, Y3)
	VMOVDQA Y15, Y9
	G3CHUNK(32, 4, 8)
	G3ROW(DI, 68, Y0)
	G3ROW(R8, 68, Y1)
	G3ROW(R9, 68, Y2)
	G3ROW(R10, 68, Y3)
	VPSRLW $1, Y15, Y9
	G3CHUNK(32, 6, 12)
	G3ROW(DI, 100, Y0)
	G3ROW(R8, 100, Y1)
	G3ROW(R9, 100, Y2)
	G3ROW(R10, 100, Y3)
	VPSRLW $2, Y15, Y9
	G3CHUNK(64, 0, 16)
	G3ROW(DI, 132, Y0)
	G3ROW(R8, 132, Y1)
	G3ROW(R9, 132, Y2)
	G3ROW(R10, 132, Y3)
	VPSRLW $3, Y15, Y9
	G3CHUNK(64, 2, 20)
	G3ROW(DI, 164, Y0)
	G3ROW(R8, 164, Y1)
	G3ROW(R9, 164, Y2)
	G3ROW(R10, 164, Y3)
	VPSRLW $4, Y15, Y9
	G3CHUNK(64, 4, 24)
	G3ROW(DI, 196, Y0)
	G3ROW(R8, 196, Y1)
	G3ROW(R9, 196, Y2)
	G3ROW(R10, 196, Y3)
	VPSRLW $5, Y15, Y9
	G3CHUNK(64, 6, 28)
	G3ROW(DI, 228, Y0)
	G3ROW(R8, 228, Y1)
	G3ROW(R9, 228, Y2)
	G3ROW(R10, 228, Y3)

	MOVWLZX   108(SI), AX
	VMOVD     AX, X15
	VCVTPH2PS X15, X15
	G3FIN(DI, Y0, Y4)
	G3FIN(R8, Y1, Y5)
	G3FIN(R9, Y2, Y6)
	G3FIN(R10, Y3, Y7)
	ADDQ $110, SI
	ADDQ $292, DI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	DECQ CX
	JNZ  gq3kloop

gq3kdone:
	MOVQ out+32(FP), AX
	KOUT(Y4, X4, 0)
	KOUT(Y5, X5, 4)
	KOUT(Y6, X6, 8)
	KOUT(Y7, X7, 12)
	VZEROUPPER
	RET

// The AVX-512 (BW) one-row kernels: the same integer lanes, float steps and
// order as the AVX2 ones, with two 32-element chunks per 512-bit register
// (their dword lanes folded into eight with one exact integer add per
// super-block). Variable word shifts (VPSRLVW/VPSLLVW) give each 256-bit
// half its own shift count.

// k35W(name, a, b) is 64 bytes: 16 words a, then 16 words b.
#define k35W(name, a, b) \
	DATA name+0(SB)/8, $(a*0x0001000100010001)  \
	DATA name+8(SB)/8, $(a*0x0001000100010001)  \
	DATA name+16(SB)/8, $(a*0x0001000100010001) \
	DATA name+24(SB)/8, $(a*0x0001000100010001) \
	DATA name+32(SB)/8, $(b*0x0001000100010001) \
	DATA name+40(SB)/8, $(b*0x0001000100010001) \
	DATA name+48(SB)/8, $(b*0x0001000100010001) \
	DATA name+56(SB)/8, $(b*0x0001000100010001) \
	GLOBL name(SB), RODATA|NOPTR, $64

k35W(k35Cnt04<>, 0, 4)
k35W(k35Cnt43<>, 4, 3)
k35W(k35Cnt21<>, 2, 1)
k35W(k35Cnt01<>, 0, 1)
k35W(k35Cnt23<>, 2, 3)
k35W(k35Cnt02<>, 0, 2)
k35W(k35Cnt46<>, 4, 6)
k35W(k35Cnt45<>, 4, 5)

// k35Shuf2 spreads a broadcast dword (two int16) as word 0 over the low
// 256 bits and word 1 over the high 256 bits; k35Shuf4 spreads a broadcast
// qword (four int16) as word i over 128-bit lane i.
DATA k35Shuf2<>+0(SB)/8, $0x0100010001000100
DATA k35Shuf2<>+8(SB)/8, $0x0100010001000100
DATA k35Shuf2<>+16(SB)/8, $0x0100010001000100
DATA k35Shuf2<>+24(SB)/8, $0x0100010001000100
DATA k35Shuf2<>+32(SB)/8, $0x0302030203020302
DATA k35Shuf2<>+40(SB)/8, $0x0302030203020302
DATA k35Shuf2<>+48(SB)/8, $0x0302030203020302
DATA k35Shuf2<>+56(SB)/8, $0x0302030203020302
GLOBL k35Shuf2<>(SB), RODATA|NOPTR, $64

DATA k35Shuf4<>+0(SB)/8, $0x0100010001000100
DATA k35Shuf4<>+8(SB)/8, $0x0100010001000100
DATA k35Shuf4<>+16(SB)/8, $0x0302030203020302
DATA k35Shuf4<>+24(SB)/8, $0x0302030203020302
DATA k35Shuf4<>+32(SB)/8, $0x0504050405040504
DATA k35Shuf4<>+40(SB)/8, $0x0504050405040504
DATA k35Shuf4<>+48(SB)/8, $0x0706070607060706
DATA k35Shuf4<>+56(SB)/8, $0x0706070607060706
GLOBL k35Shuf4<>(SB), RODATA|NOPTR, $64

// Q5K512(qs, ya, sa, shift, cnt) adds chunk j of a Q5_K block to Z10: its
// 32 quant bytes at qs(SI) broadcast to both halves, low nibbles in the low
// half and high nibbles in the high half (Z16 = shift counts 0|4), fifth
// bits from qh (Z15) moved to bit 4 by shift/cnt and merged with
// (Z6 | Z7&0x10); 64 q8 bytes at ya(DI); scales 2j|2j+1 at sa(SP).
#define Q5K512(qs, ya, sa, shift, cnt) \
	VBROADCASTI64X4 qs(SI), Z6         \
	VPSRLVW         Z16, Z6, Z6        \
	VPANDD          Z14, Z6, Z6        \
	shift           cnt, Z15, Z7       \
	VPTERNLOGD      $0xf8, Z13, Z7, Z6 \
	VPMADDUBSW      ya(DI), Z6, Z6     \
	VPBROADCASTD    sa(SP), Z9         \
	VPSHUFB         Z21, Z9, Z9        \
	VPMADDWD        Z9, Z6, Z6         \
	VPADDD          Z6, Z10, Z10

// func dotQ5_KAVX512(x, y *byte, nb int) float32
TEXT ·dotQ5_KAVX512(SB), NOSPLIT, $16-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X12, X12, X12
	BYTES(0x0f0f0f0f, Z14)
	BYTES(0x10101010, Z13)
	MOVL  $0x80000000, AX
	VMOVD AX, X11
	VMOVDQU64 k35Cnt04<>(SB), Z16
	VMOVDQU64 k35Cnt43<>(SB), Z17
	VMOVDQU64 k35Cnt21<>(SB), Z18
	VMOVDQU64 k35Cnt01<>(SB), Z19
	VMOVDQU64 k35Cnt23<>(SB), Z20
	VMOVDQU64 k35Shuf2<>(SB), Z21
	TESTQ CX, CX
	JZ    q5k512done

q5k512loop:
	MOVL         (SI), AX
	VMOVD        AX, X1
	VCVTPH2PS    X1, X1
	VBROADCASTSS (DI), X2
	VMULPS       X1, X2, X1
	VBROADCASTSS X1, Y3
	VMOVSHDUP    X1, X4
	VXORPS       X11, X4, X4

	MOVL 4(SI), AX
	MOVL 8(SI), BX
	MOVL 12(SI), DX
	MOVL DX, R8
	SHRL $4, R8
	ANDL $0x0f0f0f0f, R8
	MOVL BX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, R8
	MOVL BX, R10
	ANDL $0x3f3f3f3f, R10
	MOVL DX, R11
	ANDL $0x0f0f0f0f, R11
	MOVL AX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLL $4, R9
	ORL  R9, R11
	ANDL $0x3f3f3f3f, AX
	SHLQ $32, R11
	ORQ  R11, AX
	SHLQ $32, R8
	ORQ  R8, R10
	MOVQ AX, X5
	VPMOVZXBW X5, X5
	VMOVDQU   X5, 0(SP)
	MOVQ R10, X6
	VPMOVZXBW X6, X6

	VMOVDQU     260(DI), X7
	VMOVDQU     276(DI), X8
	VPHADDW     X8, X7, X7
	VPMADDWD    X7, X6, X6
	VPSHUFD     $0x4e, X6, X7
	VPADDD      X7, X6, X6
	VPSHUFD     $0xb1, X6, X7
	VPADDD      X7, X6, X6
	VCVTDQ2PS   X6, X6
	VFMADD231SS X6, X4, X12

	VBROADCASTI64X4 16(SI), Z15
	VPXORD          Z10, Z10, Z10
	Q5K512(48, 4, 0, VPSLLVW, Z17)
	Q5K512(80, 68, 4, VPSLLVW, Z18)
	Q5K512(112, 132, 8, VPSRLVW, Z19)
	Q5K512(144, 196, 12, VPSRLVW, Z20)
	VEXTRACTI64X4 $1, Z10, Y9
	VPADDD        Y9, Y10, Y10

	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y3, Y0
	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q5k512loop

q5k512done:
	HSUM8
	VADDSS X12, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// Q3K512(ya, sa) adds chunks 2P, 2P+1 of a Q3_K block to Z10: 2-bit quants
// in Z7, high-bit corrections (4 or 0) in Z8, 64 q8 bytes at ya(DI),
// scales 4P..4P+3 at sa(SP) spread one per 128-bit lane.
#define Q3K512(ya, sa) \
	VMOVDQU64    ya(DI), Z5  \
	VPMADDUBSW   Z5, Z7, Z7  \
	VPMADDUBSW   Z5, Z8, Z8  \
	VPSUBW       Z8, Z7, Z7  \
	VPBROADCASTQ sa(SP), Z9  \
	VPSHUFB      Z22, Z9, Z9 \
	VPMADDWD     Z9, Z7, Z7  \
	VPADDD       Z7, Z10, Z10

// func dotQ3_KAVX512(x, y *byte, nb int) float32
TEXT ·dotQ3_KAVX512(SB), NOSPLIT, $32-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y0, Y0, Y0
	BYTES(0x03030303, Z14)
	BYTES(0x04040404, Z13)
	BYTES(0x00200020, Y12)
	VMOVDQU64 k35Cnt02<>(SB), Z16
	VMOVDQU64 k35Cnt46<>(SB), Z17
	VMOVDQU64 k35Cnt21<>(SB), Z18
	VMOVDQU64 k35Cnt01<>(SB), Z19
	VMOVDQU64 k35Cnt23<>(SB), Z20
	VMOVDQU64 k35Cnt45<>(SB), Z21
	VMOVDQU64 k35Shuf4<>(SB), Z22
	MOVQ      $0x0f0f0f0f0f0f0f0f, R12
	TESTQ     CX, CX
	JZ        q3k512done

q3k512loop:
	MOVWLZX      108(SI), AX
	VMOVD        AX, X1
	VCVTPH2PS    X1, X1
	VMULSS       (DI), X1, X1
	VBROADCASTSS X1, Y1

	MOVQ 96(SI), AX
	MOVL 104(SI), BX
	MOVQ AX, DX
	SHRQ $4, DX
	ANDQ R12, AX
	ANDQ R12, DX
	MOVL BX, R8
	ANDL $0x03030303, R8
	MOVL BX, R9
	SHRL $2, R9
	ANDL $0x03030303, R9
	SHLQ $32, R9
	ORQ  R9, R8
	SHLQ $4, R8
	ORQ  R8, AX
	MOVL BX, R8
	SHRL $4, R8
	ANDL $0x03030303, R8
	MOVL BX, R9
	SHRL $6, R9
	ANDL $0x03030303, R9
	SHLQ $32, R9
	ORQ  R9, R8
	SHLQ $4, R8
	ORQ  R8, DX
	MOVQ      AX, X2
	VPINSRQ   $1, DX, X2, X2
	VPMOVZXBW X2, Y2
	VPSUBW    Y12, Y2, Y2
	VMOVDQU   Y2, 0(SP)

	// hmask in both halves; a clear bit c gives 4 (VPANDND: ~bits & 4)
	// once bit c is shifted to bit 2.
	VBROADCASTI64X4 (SI), Z15
	VPXORD          Z10, Z10, Z10
	VBROADCASTI64X4 32(SI), Z6
	VPSRLVW         Z16, Z6, Z7
	VPANDD          Z14, Z7, Z7
	VPSLLVW         Z18, Z15, Z8
	VPANDND         Z13, Z8, Z8
	Q3K512(4, 0)
	VPSRLVW         Z17, Z6, Z7
	VPANDD          Z14, Z7, Z7
	VPSRLVW         Z19, Z15, Z8
	VPANDND         Z13, Z8, Z8
	Q3K512(68, 8)
	VBROADCASTI64X4 64(SI), Z6
	VPSRLVW         Z16, Z6, Z7
	VPANDD          Z14, Z7, Z7
	VPSRLVW         Z20, Z15, Z8
	VPANDND         Z13, Z8, Z8
	Q3K512(132, 16)
	VPSRLVW         Z17, Z6, Z7
	VPANDD          Z14, Z7, Z7
	VPSRLVW         Z21, Z15, Z8
	VPANDND         Z13, Z8, Z8
	Q3K512(196, 24)
	VEXTRACTI64X4   $1, Z10, Y11
	VPADDD          Y11, Y10, Y10

	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y1, Y0
	ADDQ $110, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q3k512loop

q3k512done:
	HSUM8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// The AVX-512 four-token kernels: the AVX2 ones' structure with the chunk
// pairs of the one-row AVX-512 kernels; each row's zmm lanes are folded
// into eight (exact) before the same float steps (G5FIN, G3FIN, KOUT).

// G5P512 unpacks chunk j of a Q5_K block into Z24 and its two scales into
// Z27, as Q5K512 does (Y4..Y7 hold the float lanes here, so the temps
// are Z24..Z27).
#define G5P512(qs, sa, shift, cnt) \
	VBROADCASTI64X4 qs(SI), Z24          \
	VPSRLVW         Z16, Z24, Z24        \
	VPANDD          Z14, Z24, Z24        \
	shift           cnt, Z15, Z25        \
	VPTERNLOGD      $0xf8, Z13, Z25, Z24 \
	VPBROADCASTD    sa(SP), Z27          \
	VPSHUFB         Z21, Z27, Z27

// G5R512 adds one row's products with chunk Z24 (scales Z27) to acc.
#define G5R512(p, ya, acc) \
	VPMADDUBSW ya(p), Z24, Z12 \
	VPMADDWD   Z27, Z12, Z12   \
	VPADDD     Z12, acc, acc

// K35FOLD adds the high 256 bits of zmm lanes z into their low half y.
#define K35FOLD(z, y) \
	VEXTRACTI64X4 $1, z, Y12 \
	VPADDD        Y12, y, y

// func gemmQ5_Kx4AVX512(x, y *byte, ystride, nb int, out *[4]float32)
//
// Stack as gemmQ5_Kx4AVX2.
TEXT ·gemmQ5_Kx4AVX512(SB), NOSPLIT, $48-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	VMOVUPS X4, 32(SP)
	BYTES(0x0f0f0f0f, Z14)
	BYTES(0x10101010, Z13)
	VMOVDQU64 k35Cnt04<>(SB), Z16
	VMOVDQU64 k35Cnt43<>(SB), Z17
	VMOVDQU64 k35Cnt21<>(SB), Z18
	VMOVDQU64 k35Cnt01<>(SB), Z19
	VMOVDQU64 k35Cnt23<>(SB), Z20
	VMOVDQU64 k35Shuf2<>(SB), Z21
	TESTQ CX, CX
	JZ    gq5k512done

gq5k512loop:
	MOVL 4(SI), AX
	MOVL 8(SI), BX
	MOVL 12(SI), DX
	MOVL DX, R11
	SHRL $4, R11
	ANDL $0x0f0f0f0f, R11
	MOVL BX, R12
	SHRL $6, R12
	ANDL $0x03030303, R12
	SHLL $4, R12
	ORL  R12, R11
	MOVL BX, R13
	ANDL $0x3f3f3f3f, R13
	MOVL DX, BX
	ANDL $0x0f0f0f0f, BX
	MOVL AX, R12
	SHRL $6, R12
	ANDL $0x03030303, R12
	SHLL $4, R12
	ORL  R12, BX
	ANDL $0x3f3f3f3f, AX
	SHLQ $32, BX
	ORQ  BX, AX
	SHLQ $32, R11
	ORQ  R11, R13
	MOVQ      AX, X8
	VPMOVZXBW X8, X8
	VMOVDQU   X8, 0(SP)
	MOVQ      R13, X8
	VPMOVZXBW X8, X8
	VMOVDQU   X8, 16(SP)

	VPXORD          Z0, Z0, Z0
	VPXORD          Z1, Z1, Z1
	VPXORD          Z2, Z2, Z2
	VPXORD          Z3, Z3, Z3
	VBROADCASTI64X4 16(SI), Z15
	G5P512(48, 0, VPSLLVW, Z17)
	G5R512(DI, 4, Z0)
	G5R512(R8, 4, Z1)
	G5R512(R9, 4, Z2)
	G5R512(R10, 4, Z3)
	G5P512(80, 4, VPSLLVW, Z18)
	G5R512(DI, 68, Z0)
	G5R512(R8, 68, Z1)
	G5R512(R9, 68, Z2)
	G5R512(R10, 68, Z3)
	G5P512(112, 8, VPSRLVW, Z19)
	G5R512(DI, 132, Z0)
	G5R512(R8, 132, Z1)
	G5R512(R9, 132, Z2)
	G5R512(R10, 132, Z3)
	G5P512(144, 12, VPSRLVW, Z20)
	G5R512(DI, 196, Z0)
	G5R512(R8, 196, Z1)
	G5R512(R9, 196, Z2)
	G5R512(R10, 196, Z3)
	K35FOLD(Z0, Y0)
	K35FOLD(Z1, Y1)
	K35FOLD(Z2, Y2)
	K35FOLD(Z3, Y3)

	MOVL      (SI), AX
	VMOVD     AX, X15
	VCVTPH2PS X15, X15
	VMOVSHDUP X15, X9
	G5FIN(DI, Y0, Y4, 32)
	G5FIN(R8, Y1, Y5, 36)
	G5FIN(R9, Y2, Y6, 40)
	G5FIN(R10, Y3, Y7, 44)
	ADDQ $176, SI
	ADDQ $292, DI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	DECQ CX
	JNZ  gq5k512loop

gq5k512done:
	MOVQ out+32(FP), AX
	KOUT(Y4, X4, 0)
	KOUT(Y5, X5, 4)
	KOUT(Y6, X6, 8)
	KOUT(Y7, X7, 12)
	VMOVSS 0(AX), X0
	VADDSS 32(SP), X0, X0
	VMOVSS X0, 0(AX)
	VMOVSS 4(AX), X0
	VADDSS 36(SP), X0, X0
	VMOVSS X0, 4(AX)
	VMOVSS 8(AX), X0
	VADDSS 40(SP), X0, X0
	VMOVSS X0, 8(AX)
	VMOVSS 12(AX), X0
	VADDSS 44(SP), X0, X0
	VMOVSS X0, 12(AX)
	VZEROUPPER
	RET

// G3P512 sets Z25 (2-bit quants of chunks 2P, 2P+1 from Z24 shifted by the
// counts qc), Z26 (their corrections from hmask Z15 by shift/hc) and Z27
// (scales at sa(SP), one per 128-bit lane).
#define G3P512(qc, shift, hc, sa) \
	VPSRLVW      qc, Z24, Z25  \
	VPANDD       Z14, Z25, Z25 \
	shift        hc, Z15, Z26  \
	VPANDND      Z13, Z26, Z26 \
	VPBROADCASTQ sa(SP), Z27   \
	VPSHUFB      Z22, Z27, Z27

// G3R512 adds one row's products with the chunk pair to acc.
#define G3R512(p, ya, acc) \
	VMOVDQU64  ya(p), Z28      \
	VPMADDUBSW Z28, Z25, Z12   \
	VPMADDUBSW Z28, Z26, Z11   \
	VPSUBW     Z11, Z12, Z12   \
	VPMADDWD   Z27, Z12, Z12   \
	VPADDD     Z12, acc, acc

// func gemmQ3_Kx4AVX512(x, y *byte, ystride, nb int, out *[4]float32)
//
// Stack: 0 the 16 scales minus 32 (int16).
TEXT ·gemmQ3_Kx4AVX512(SB), NOSPLIT, $32-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ ystride+16(FP), BX
	MOVQ nb+24(FP), CX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	BYTES(0x03030303, Z14)
	BYTES(0x04040404, Z13)
	BYTES(0x00200020, Y10)
	VMOVDQU64 k35Cnt02<>(SB), Z16
	VMOVDQU64 k35Cnt46<>(SB), Z17
	VMOVDQU64 k35Cnt21<>(SB), Z18
	VMOVDQU64 k35Cnt01<>(SB), Z19
	VMOVDQU64 k35Cnt23<>(SB), Z20
	VMOVDQU64 k35Cnt45<>(SB), Z21
	VMOVDQU64 k35Shuf4<>(SB), Z22
	VMOVDQU64 Z10, Z23
	MOVQ      $0x0f0f0f0f0f0f0f0f, R12
	TESTQ     CX, CX
	JZ        gq3k512done

gq3k512loop:
	MOVQ 96(SI), AX
	MOVL 104(SI), BX
	MOVQ AX, DX
	SHRQ $4, DX
	ANDQ R12, AX
	ANDQ R12, DX
	MOVL BX, R11
	ANDL $0x03030303, R11
	MOVL BX, R13
	SHRL $2, R13
	ANDL $0x03030303, R13
	SHLQ $32, R13
	ORQ  R13, R11
	SHLQ $4, R11
	ORQ  R11, AX
	MOVL BX, R11
	SHRL $4, R11
	ANDL $0x03030303, R11
	MOVL BX, R13
	SHRL $6, R13
	ANDL $0x03030303, R13
	SHLQ $32, R13
	ORQ  R13, R11
	SHLQ $4, R11
	ORQ  R11, DX
	MOVQ      AX, X8
	VPINSRQ   $1, DX, X8, X8
	VPMOVZXBW X8, Y8
	VPSUBW    Y23, Y8, Y8
	VMOVDQU   Y8, 0(SP)

	VPXORD          Z0, Z0, Z0
	VPXORD          Z1, Z1, Z1
	VPXORD          Z2, Z2, Z2
	VPXORD          Z3, Z3, Z3
	VBROADCASTI64X4 (SI), Z15
	VBROADCASTI64X4 32(SI), Z24
	G3P512(Z16, VPSLLVW, Z18, 0)
	G3R512(DI, 4, Z0)
	G3R512(R8, 4, Z1)
	G3R512(R9, 4, Z2)
	G3R512(R10, 4, Z3)
	G3P512(Z17, VPSRLVW, Z19, 8)
	G3R512(DI, 68, Z0)
	G3R512(R8, 68, Z1)
	G3R512(R9, 68, Z2)
	G3R512(R10, 68, Z3)
	VBROADCASTI64X4 64(SI), Z24
	G3P512(Z16, VPSRLVW, Z20, 16)
	G3R512(DI, 132, Z0)
	G3R512(R8, 132, Z1)
	G3R512(R9, 132, Z2)
	G3R512(R10, 132, Z3)
	G3P512(Z17, VPSRLVW, Z21, 24)
	G3R512(DI, 196, Z0)
	G3R512(R8, 196, Z1)
	G3R512(R9, 196, Z2)
	G3R512(R10, 196, Z3)
	K35FOLD(Z0, Y0)
	K35FOLD(Z1, Y1)
	K35FOLD(Z2, Y2)
	K35FOLD(Z3, Y3)

	MOVWLZX   108(SI), AX
	VMOVD     AX, X15
	VCVTPH2PS X15, X15
	G3FIN(DI, Y0, Y4)
	G3FIN(R8, Y1, Y5)
	G3FIN(R9, Y2, Y6)
	G3FIN(R10, Y3, Y7)
	ADDQ $110, SI
	ADDQ $292, DI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	DECQ CX
	JNZ  gq3k512loop

gq3k512done:
	MOVQ out+32(FP), AX
	KOUT(Y4, X4, 0)
	KOUT(Y5, X5, 4)
	KOUT(Y6, X6, 8)
	KOUT(Y7, X7, 12)
	VZEROUPPER
	RET
