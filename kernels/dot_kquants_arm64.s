//go:build arm64 && !noasm

#include "textflag.h"

// K-quant dot products in NEON, in the reference's summation order:
//
//   - Q6_K · Q8_K as dotQ6_K (ggml's x86 AVX2 order): eight exact int32
//     lanes per super-block, lane l = the products of elements 4l..4l+3 of
//     every 32, with the unsigned quants (q+32) and minus 32·Σ bsum·scale of
//     sub-blocks 2l and 2l+1; then per lane acc = fma(d, float(lane), acc).
//     The lanes go back to Go for hsum_float_8.
//   - Q4_K · Q8_K in the repacked order (dotQ4_KRepacked): per super-block
//     the exact Σ scale·Σ q·a and Σ min·(bsum pair) of each group of
//     sub-blocks, one scalar fused multiply-add per group into acc and
//     accMin, acc - accMin at the end.
//
// Integer sums are exact (and wrap like the reference's int32 where they
// could not be), so only the float steps need the reference's order; each
// of its fmaf is one fused FMLA here, and nothing else is fused.
//
// Go's assembler lacks these vector forms; they are encoded by hand
// (register numbers as operands; every encoding checked with llvm-mc).

// sdot vd.4s, vn.16b, vm.16b
#define SDOT(m, n, d) WORD $(0x4E809400 | (m)<<16 | (n)<<5 | (d))
// smull vd.8h, vn.8b, vm.8b
#define SMULL(m, n, d) WORD $(0x0E20C000 | (m)<<16 | (n)<<5 | (d))
// smull2 vd.8h, vn.16b, vm.16b
#define SMULL2(m, n, d) WORD $(0x4E20C000 | (m)<<16 | (n)<<5 | (d))
// smull vd.4s, vn.4h, vm.4h
#define SMULLH(m, n, d) WORD $(0x0E60C000 | (m)<<16 | (n)<<5 | (d))
// smull2 vd.4s, vn.8h, vm.8h
#define SMULLH2(m, n, d) WORD $(0x4E60C000 | (m)<<16 | (n)<<5 | (d))
// saddlp vd.4s, vn.8h
#define SADDLP(n, d) WORD $(0x4E602800 | (n)<<5 | (d))
// sadalp vd.4s, vn.8h (vd += pair sums of vn)
#define SADALP(n, d) WORD $(0x4E606800 | (n)<<5 | (d))
// addp vd.4s, vn.4s, vm.4s: pair sums of vn in lanes 0-1, of vm in 2-3
#define ADDP4S(m, n, d) WORD $(0x4EA0BC00 | (m)<<16 | (n)<<5 | (d))
// addv sd, vn.4s
#define ADDV4S(n, d) WORD $(0x4EB1B800 | (n)<<5 | (d))
// mul vd.4s, vn.4s, vm.4s
#define MUL4S(m, n, d) WORD $(0x4EA09C00 | (m)<<16 | (n)<<5 | (d))
// mla vd.4s, vn.4s, vm.s[i] (i = 2h+l)
#define MLAE(m, h, l, n, d) WORD $(0x6F800000 | (l)<<21 | (m)<<16 | (h)<<11 | (n)<<5 | (d))
// fmla sd, sn, vm.s[i] (i = 2h+l): one fused multiply-add
#define FMLAE(m, h, l, n, d) WORD $(0x5F801000 | (l)<<21 | (m)<<16 | (h)<<11 | (n)<<5 | (d))
// scvtf vd.4s, vn.4s
#define SCVTF4S(n, d) WORD $(0x4E21D800 | (n)<<5 | (d))
// scvtf sd, sn
#define SCVTFS(n, d) WORD $(0x5E21D800 | (n)<<5 | (d))
// sshll vd.8h, vn.8b, #0 and sshll2 vd.8h, vn.16b, #0
#define SXTL8H(n, d) WORD $(0x0F08A400 | (n)<<5 | (d))
#define SXTL28H(n, d) WORD $(0x4F08A400 | (n)<<5 | (d))
// sshll vd.4s, vn.4h, #0 and sshll2 vd.4s, vn.8h, #0
#define SXTL4S(n, d) WORD $(0x0F10A400 | (n)<<5 | (d))
#define SXTL24S(n, d) WORD $(0x4F10A400 | (n)<<5 | (d))
// ushll vd.8h, vn.8b, #0; ushll vd.4s, vn.4h, #0; ushll2 vd.4s, vn.8h, #0
#define UXTL8H(n, d) WORD $(0x2F08A400 | (n)<<5 | (d))
#define UXTL4S(n, d) WORD $(0x2F10A400 | (n)<<5 | (d))
#define UXTL24S(n, d) WORD $(0x6F10A400 | (n)<<5 | (d))

// ---- Q6_K ----
//
// Registers: R0 weight block, R1 activation block, R2 blocks left, R3 acc;
// R6/R7/R8 cursors into ql, qh and the activation quants. V23-V26 the
// sixteen scales as int32, V8/V9 the integer lanes 0-3/4-7, V10/V11 the
// 32·Σ bsum·scale lanes, V12/V13 one chunk's 32 quants, V14/V15 its
// activations, V27 = 0x30s, V28 = 0x0fs, V30/V31 the float lanes.

// Q6_K chunks of a half (128 values): ql bytes 0-31 in V0/V1, 32-63 in
// V2/V3, qh in V4/V5. Chunk 0 = low nibbles of ql 0-31 | qh bits 0-1 << 4,
// chunk 1 = low nibbles of ql 32-63 | bits 2-3, chunk 2 = high nibbles of
// ql 0-31 | bits 4-5, chunk 3 = high nibbles of ql 32-63 | bits 6-7.
#define Q6Q0 \
	VAND V28.B16, V0.B16, V12.B16   \
	VAND V28.B16, V1.B16, V13.B16   \
	VSHL $4, V4.B16, V14.B16        \
	VSHL $4, V5.B16, V15.B16        \
	VAND V27.B16, V14.B16, V14.B16  \
	VAND V27.B16, V15.B16, V15.B16  \
	VORR V14.B16, V12.B16, V12.B16  \
	VORR V15.B16, V13.B16, V13.B16

#define Q6Q1 \
	VAND V28.B16, V2.B16, V12.B16   \
	VAND V28.B16, V3.B16, V13.B16   \
	VSHL $2, V4.B16, V14.B16        \
	VSHL $2, V5.B16, V15.B16        \
	VAND V27.B16, V14.B16, V14.B16  \
	VAND V27.B16, V15.B16, V15.B16  \
	VORR V14.B16, V12.B16, V12.B16  \
	VORR V15.B16, V13.B16, V13.B16

#define Q6Q2 \
	VUSHR $4, V0.B16, V12.B16       \
	VUSHR $4, V1.B16, V13.B16       \
	VAND V27.B16, V4.B16, V14.B16   \
	VAND V27.B16, V5.B16, V15.B16   \
	VORR V14.B16, V12.B16, V12.B16  \
	VORR V15.B16, V13.B16, V13.B16

#define Q6Q3 \
	VUSHR $4, V2.B16, V12.B16       \
	VUSHR $4, V3.B16, V13.B16       \
	VUSHR $2, V4.B16, V14.B16       \
	VUSHR $2, V5.B16, V15.B16       \
	VAND V27.B16, V14.B16, V14.B16  \
	VAND V27.B16, V15.B16, V15.B16  \
	VORR V14.B16, V12.B16, V12.B16  \
	VORR V15.B16, V13.B16, V13.B16

// Q6DOT_*: the chunk's lanes 0-3 (elements 0-15, scale vector s lane 2h)
// into V8 and lanes 4-7 (elements 16-31, lane 2h+1) into V9.
#define Q6DOT_SDOT(s, h) \
	VLD1.P 32(R8), [V14.B16, V15.B16] \
	VEOR   V6.B16, V6.B16, V6.B16     \
	VEOR   V7.B16, V7.B16, V7.B16     \
	SDOT(14, 12, 6)                   \ // sdot v6.4s, v12.16b, v14.16b
	SDOT(15, 13, 7)                   \ // sdot v7.4s, v13.16b, v15.16b
	MLAE(s, h, 0, 6, 8)               \ // mla v8.4s, v6.4s, v{s}.s[2h]
	MLAE(s, h, 1, 7, 9)                 // mla v9.4s, v7.4s, v{s}.s[2h+1]

// Without SDOT: int16 products (|q·a| <= 63·128), pairs widened to int32,
// pairs of pairs. Clobbers V16-V19.
#define Q6DOT_NEON(s, h) \
	VLD1.P 32(R8), [V14.B16, V15.B16] \
	SMULL(14, 12, 16)                 \ // smull v16.8h, v12.8b, v14.8b
	SMULL2(14, 12, 17)                \ // smull2 v17.8h, v12.16b, v14.16b
	SMULL(15, 13, 18)                 \ // smull v18.8h, v13.8b, v15.8b
	SMULL2(15, 13, 19)                \ // smull2 v19.8h, v13.16b, v15.16b
	SADDLP(16, 16)                    \
	SADDLP(17, 17)                    \
	SADDLP(18, 18)                    \
	SADDLP(19, 19)                    \
	ADDP4S(17, 16, 6)                 \ // addp v6.4s, v16.4s, v17.4s
	ADDP4S(19, 18, 7)                 \ // addp v7.4s, v18.4s, v19.4s
	MLAE(s, h, 0, 6, 8)               \
	MLAE(s, h, 1, 7, 9)

// Q6LOADHALF reads a half's 64 ql and 32 qh bytes.
#define Q6LOADHALF \
	VLD1.P 64(R6), [V0.B16, V1.B16, V2.B16, V3.B16] \
	VLD1.P 32(R7), [V4.B16, V5.B16]

// Q6SCALES: the scales as int32 in V23-V26 and 32·(bsum[2l]·sc[2l] +
// bsum[2l+1]·sc[2l+1]) in V10 (l = 0-3) and V11 (l = 4-7); zeroes V8/V9
// and sets the cursors.
#define Q6SCALES \
	ADD    $192, R0, R9               \
	VLD1   (R9), [V20.B16]            \
	SXTL8H(20, 21)                    \ // scales 0-7 as int16
	SXTL28H(20, 22)                   \ // scales 8-15
	SXTL4S(21, 23)                    \
	SXTL24S(21, 24)                   \
	SXTL4S(22, 25)                    \
	SXTL24S(22, 26)                   \
	ADD    $260, R1, R9               \
	VLD1   (R9), [V16.H8, V17.H8]     \
	SMULLH(21, 16, 18)                \ // bsum·scale 0-3
	SMULLH2(21, 16, 19)               \ // 4-7
	SMULLH(22, 17, 12)                \ // 8-11
	SMULLH2(22, 17, 13)               \ // 12-15
	ADDP4S(19, 18, 10)                \
	ADDP4S(13, 12, 11)                \
	VSHL   $5, V10.S4, V10.S4         \
	VSHL   $5, V11.S4, V11.S4         \
	VEOR   V8.B16, V8.B16, V8.B16     \
	VEOR   V9.B16, V9.B16, V9.B16     \
	MOVD   R0, R6                     \
	ADD    $128, R0, R7               \
	ADD    $4, R1, R8

// Q6FINISH: lanes minus the offsets, then acc = fma(d, float(lane), acc)
// with d = y.d·f16(x.d) rounded to float32; next block.
#define Q6FINISH \
	VSUB    V10.S4, V8.S4, V8.S4 \
	VSUB    V11.S4, V9.S4, V9.S4 \
	SCVTF4S(8, 8)                \
	SCVTF4S(9, 9)                \
	FMOVS   (R1), F16            \
	MOVHU   208(R0), R4          \
	FMOVS   R4, F17              \
	FCVTHS  F17, F17             \
	FMULS   F17, F16, F16        \
	VDUP    V16.S[0], V7.S4      \
	VFMLA   V7.S4, V8.S4, V30.S4 \
	VFMLA   V7.S4, V9.S4, V31.S4 \
	ADD     $210, R0             \
	ADD     $292, R1

#define Q6PROLOGUE \
	MOVD x+0(FP), R0               \
	MOVD y+8(FP), R1               \
	MOVD nb+16(FP), R2             \
	MOVD acc+24(FP), R3            \
	VEOR V30.B16, V30.B16, V30.B16 \
	VEOR V31.B16, V31.B16, V31.B16 \
	VMOVI $15, V28.B16             \
	VMOVI $48, V27.B16

// ---- Q4_K, repacked order ----
//
// Registers: R0 weight block, R1 activation block, R2 blocks left, R3
// groups (1 or 4), R6/R8 cursors into the quants. V16-V23 the eight
// sub-blocks' Σ q·a as four partial lanes each, V8/V9 the sums of
// sub-blocks 0-3/4-7, V28 = 0x0fs, S30 acc, S31 accMin.

// Q4LOAD reads chunk j: 32 quant bytes, low nibbles (sub-block 2j) to
// V2/V3, high nibbles (2j+1) to V0/V1, and the 64 activations of both
// sub-blocks to V4-V7. Q4SUB_* then leave sub-block 2j's four partial
// lanes in register number e (also named En, for the assembler's own
// mnemonics) and 2j+1's in o (On).
#define Q4LOAD \
	VLD1.P 32(R6), [V0.B16, V1.B16]                 \
	VLD1.P 64(R8), [V4.B16, V5.B16, V6.B16, V7.B16] \
	VAND   V28.B16, V0.B16, V2.B16                  \
	VAND   V28.B16, V1.B16, V3.B16                  \
	VUSHR  $4, V0.B16, V0.B16                       \
	VUSHR  $4, V1.B16, V1.B16

#define Q4SUB_SDOT(e, En, o, On) \
	Q4LOAD                        \
	VEOR En.B16, En.B16, En.B16   \
	VEOR On.B16, On.B16, On.B16   \
	SDOT(4, 2, e)                 \ // sdot v{e}.4s, v2.16b, v4.16b
	SDOT(5, 3, e)                 \
	SDOT(6, 0, o)                 \
	SDOT(7, 1, o)

// Without SDOT: products are at most 15·128 in magnitude, so int16 holds
// them; their pairs are widened and accumulated in int32. Clobbers V10-V13.
#define Q4SUB_NEON(e, En, o, On) \
	Q4LOAD             \
	SMULL(4, 2, 10)    \ // smull v10.8h, v2.8b, v4.8b
	SMULL2(4, 2, 11)   \
	SMULL(5, 3, 12)    \
	SMULL2(5, 3, 13)   \
	SADDLP(10, e)      \
	SADALP(11, e)      \
	SADALP(12, e)      \
	SADALP(13, e)      \
	SMULL(6, 0, 10)    \
	SMULL2(6, 0, 11)   \
	SMULL(7, 1, 12)    \
	SMULL2(7, 1, 13)   \
	SADDLP(10, o)      \
	SADALP(11, o)      \
	SADALP(12, o)      \
	SADALP(13, o)

// Q4REDUCE: V8 = the totals of V16-V19, V9 of V20-V23.
#define Q4REDUCE \
	ADDP4S(17, 16, 24) \
	ADDP4S(19, 18, 25) \
	ADDP4S(25, 24, 8)  \
	ADDP4S(21, 20, 24) \
	ADDP4S(23, 22, 25) \
	ADDP4S(25, 24, 9)

// Q4FINISH: the scales and mins (get_scale_min_k4 on three words), the
// per-sub-block products scale·sum (V8/V9) and min·(bsum pair) (V10/V11),
// then the groups' fused multiply-adds in order; next block.
#define Q4FINISH \
	MOVWU  4(R0), R4                      \
	MOVWU  8(R0), R5                      \
	MOVWU  12(R0), R7                     \
	ANDW   $0x3f3f3f3f, R4, R9            \ // scales 0-3
	LSRW   $6, R4, R10                    \
	ANDW   $0x03030303, R10, R10          \
	ANDW   $0x0f0f0f0f, R7, R11           \
	ORRW   R10<<4, R11, R11               \ // scales 4-7
	ORR    R11<<32, R9, R9                \
	ANDW   $0x3f3f3f3f, R5, R12           \ // mins 0-3
	LSRW   $6, R5, R10                    \
	ANDW   $0x03030303, R10, R10          \
	LSRW   $4, R7, R11                    \
	ANDW   $0x0f0f0f0f, R11, R11          \
	ORRW   R10<<4, R11, R11               \ // mins 4-7
	ORR    R11<<32, R12, R12              \
	VMOV   R9, V12.D[0]                   \
	VMOV   R12, V13.D[0]                  \
	UXTL8H(12, 12)                        \
	UXTL4S(12, 14)                        \
	UXTL24S(12, 15)                       \
	UXTL8H(13, 13)                        \
	UXTL4S(13, 26)                        \
	UXTL24S(13, 27)                       \
	ADD    $260, R1, R9                   \
	VLD1   (R9), [V10.H8, V11.H8]         \
	SADDLP(10, 10)                        \ // bsum pairs 0-3 as int32
	SADDLP(11, 11)                        \ // 4-7
	MUL4S(14, 8, 8)                       \
	MUL4S(15, 9, 9)                       \
	MUL4S(26, 10, 10)                     \
	MUL4S(27, 11, 11)                     \
	FMOVS  (R1), F1                       \
	MOVHU  (R0), R4                       \
	FMOVS  R4, F2                         \
	FCVTHS F2, F2                         \
	FMULS  F1, F2, F2                     \ // d = f16(x.d)·y.d
	MOVHU  2(R0), R4                      \
	FMOVS  R4, F3                         \
	FCVTHS F3, F3                         \
	FMULS  F1, F3, F3                       // dmin = f16(x.dmin)·y.d

// Q4ONE: groups = 1, one fused multiply-add each per super-block.
#define Q4ONE \
	VADD V9.S4, V8.S4, V8.S4     \
	ADDV4S(8, 8)                 \
	VADD V11.S4, V10.S4, V10.S4  \
	ADDV4S(10, 10)               \
	SCVTFS(8, 8)                 \
	SCVTFS(10, 10)               \
	FMLAE(8, 0, 0, 2, 30)        \ // fmla s30, s2, v8.s[0]
	FMLAE(10, 0, 0, 3, 31)         // fmla s31, s3, v10.s[0]

// Q4FOUR: groups = 4 of two sub-blocks each, in order.
#define Q4FOUR \
	ADDP4S(9, 8, 8)         \
	ADDP4S(11, 10, 10)      \
	SCVTF4S(8, 8)           \
	SCVTF4S(10, 10)         \
	FMLAE(8, 0, 0, 2, 30)   \
	FMLAE(10, 0, 0, 3, 31)  \
	FMLAE(8, 0, 1, 2, 30)   \
	FMLAE(10, 0, 1, 3, 31)  \
	FMLAE(8, 1, 0, 2, 30)   \
	FMLAE(10, 1, 0, 3, 31)  \
	FMLAE(8, 1, 1, 2, 30)   \
	FMLAE(10, 1, 1, 3, 31)

#define Q4PROLOGUE \
	MOVD x+0(FP), R0               \
	MOVD y+8(FP), R1               \
	MOVD nb+16(FP), R2             \
	MOVD groups+24(FP), R3         \
	VEOR V30.B16, V30.B16, V30.B16 \
	VEOR V31.B16, V31.B16, V31.B16 \
	VMOVI $15, V28.B16

// func dotQ6_KSDOT(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ6_KSDOT(SB), NOSPLIT, $0-32
	Q6PROLOGUE
	CBZ R2, q6sdotdone

q6sdotloop:
	Q6SCALES
	Q6LOADHALF
	Q6Q0
	Q6DOT_SDOT(23, 0)
	Q6Q1
	Q6DOT_SDOT(23, 1)
	Q6Q2
	Q6DOT_SDOT(24, 0)
	Q6Q3
	Q6DOT_SDOT(24, 1)
	Q6LOADHALF
	Q6Q0
	Q6DOT_SDOT(25, 0)
	Q6Q1
	Q6DOT_SDOT(25, 1)
	Q6Q2
	Q6DOT_SDOT(26, 0)
	Q6Q3
	Q6DOT_SDOT(26, 1)
	Q6FINISH
	SUBS $1, R2, R2
	BNE  q6sdotloop

q6sdotdone:
	VST1 [V30.S4, V31.S4], (R3)
	RET

// func dotQ6_KNEON(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ6_KNEON(SB), NOSPLIT, $0-32
	Q6PROLOGUE
	CBZ R2, q6neondone

q6neonloop:
	Q6SCALES
	Q6LOADHALF
	Q6Q0
	Q6DOT_NEON(23, 0)
	Q6Q1
	Q6DOT_NEON(23, 1)
	Q6Q2
	Q6DOT_NEON(24, 0)
	Q6Q3
	Q6DOT_NEON(24, 1)
	Q6LOADHALF
	Q6Q0
	Q6DOT_NEON(25, 0)
	Q6Q1
	Q6DOT_NEON(25, 1)
	Q6Q2
	Q6DOT_NEON(26, 0)
	Q6Q3
	Q6DOT_NEON(26, 1)
	Q6FINISH
	SUBS $1, R2, R2
	BNE  q6neonloop

q6neondone:
	VST1 [V30.S4, V31.S4], (R3)
	RET

// func dotQ4_KRepackedSDOT(x, y *byte, nb, groups int) float32
TEXT ·dotQ4_KRepackedSDOT(SB), NOSPLIT, $0-36
	Q4PROLOGUE
	CBZ R2, q4sdotdone

q4sdotloop:
	MOVD R0, R6
	ADD  $16, R6
	ADD  $4, R1, R8
	Q4SUB_SDOT(16, V16, 17, V17)
	Q4SUB_SDOT(18, V18, 19, V19)
	Q4SUB_SDOT(20, V20, 21, V21)
	Q4SUB_SDOT(22, V22, 23, V23)
	Q4REDUCE
	Q4FINISH
	CMP  $1, R3
	BNE  q4sdotfour
	Q4ONE
	B    q4sdotnext

q4sdotfour:
	Q4FOUR

q4sdotnext:
	ADD  $144, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q4sdotloop

q4sdotdone:
	FSUBS F31, F30, F0
	FMOVS F0, ret+32(FP)
	RET

// func dotQ4_KRepackedNEON(x, y *byte, nb, groups int) float32
TEXT ·dotQ4_KRepackedNEON(SB), NOSPLIT, $0-36
	Q4PROLOGUE
	CBZ R2, q4neondone

q4neonloop:
	MOVD R0, R6
	ADD  $16, R6
	ADD  $4, R1, R8
	Q4SUB_NEON(16, V16, 17, V17)
	Q4SUB_NEON(18, V18, 19, V19)
	Q4SUB_NEON(20, V20, 21, V21)
	Q4SUB_NEON(22, V22, 23, V23)
	Q4REDUCE
	Q4FINISH
	CMP  $1, R3
	BNE  q4neonfour
	Q4ONE
	B    q4neonnext

q4neonfour:
	Q4FOUR

q4neonnext:
	ADD  $144, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q4neonloop

q4neondone:
	FSUBS F31, F30, F0
	FMOVS F0, ret+32(FP)
	RET
