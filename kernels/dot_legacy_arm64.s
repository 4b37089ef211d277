//go:build arm64 && !noasm

#include "textflag.h"

// Q4_1, Q5_0 and Q5_1 dot products in NEON, in dot_legacy.go's order: per
// 32-value block, eight exact int32 lanes (lane l = the products of
// elements 4l..4l+3, as ggml's x86 kernels form them), then per lane
// acc = fma(d, float(lane), acc) with d = f16(x.d)*f16(y.d) rounded to
// float32. Q4_1/Q5_1 also fold summs = fma(f16(x.m), f16(y.s), summs) per
// block. The lanes and summs go back to Go for hsum_float_8 and the final
// add, so the result is the reference's bit for bit.
//
// The weights fit in a signed byte (Q4_1 0..15, Q5_0 -16..15, Q5_1 0..31),
// so SDOT, and SMULL's int16 products (|x·y| <= 31·128), are exact.
// Go's assembler lacks SDOT, SMULL, SADDLP, SCVTF and CMTST: they are
// encoded by hand (operands are vector register numbers); ADDP is too, to
// spell out which source fills which lanes.

// sdot vd.4s, vn.16b, vm.16b
#define SDOT(m, n, d) WORD $(0x4E809400 | (m)<<16 | (n)<<5 | (d))
// smull vd.8h, vn.8b, vm.8b
#define SMULL(m, n, d) WORD $(0x0E20C000 | (m)<<16 | (n)<<5 | (d))
// smull2 vd.8h, vn.16b, vm.16b
#define SMULL2(m, n, d) WORD $(0x4E20C000 | (m)<<16 | (n)<<5 | (d))
// saddlp vd.4s, vn.8h
#define SADDLP(n, d) WORD $(0x4E602800 | (n)<<5 | (d))
// addp vd.4s, vn.4s, vm.4s: pair sums of vn in lanes 0-1, of vm in 2-3
#define ADDP4S(m, n, d) WORD $(0x4EA0BC00 | (m)<<16 | (n)<<5 | (d))
// scvtf vd.4s, vn.4s
#define SCVTF4S(n, d) WORD $(0x4E21D800 | (n)<<5 | (d))
// cmtst vd.16b, vn.16b, vm.16b: all ones where vn & vm is not zero
#define CMTST(m, n, d) WORD $(0x4E208C00 | (m)<<16 | (n)<<5 | (d))

// Register use: R0 weights, R1 activations, R2 blocks left, R3 acc; V30
// and V31 the float lanes 0-3 and 4-7, F29 summs; constants V28 (0x0f
// bytes), V23 (0x10 bytes), V26 (bit i%8 in byte i), V25 and V24 (TBL
// indexes spreading qh bytes 0,1 and 2,3 over eight bytes each).
#define PROLOGUE \
	MOVD  x+0(FP), R0                \
	MOVD  y+8(FP), R1                \
	MOVD  nb+16(FP), R2              \
	MOVD  acc+24(FP), R3             \
	VEOR  V30.B16, V30.B16, V30.B16  \
	VEOR  V31.B16, V31.B16, V31.B16  \
	VEOR  V29.B16, V29.B16, V29.B16  \
	VMOVI $15, V28.B16               \
	VMOVI $16, V23.B16               \
	MOVD  $0x8040201008040201, R8    \
	VMOV  R8, V26.D[0]               \
	VMOV  R8, V26.D[1]               \
	MOVD  $0x0101010101010101, R8    \
	VMOV  ZR, V25.D[0]               \
	VMOV  R8, V25.D[1]               \
	LSL   $1, R8, R9                 \ // 0x0202...
	VMOV  R9, V24.D[0]               \
	ADD   R8, R9, R9                 \ // 0x0303...
	VMOV  R9, V24.D[1]

// BLOCKSCALE reads the f16 scales d at R0 and R1 (advancing both by 2)
// and leaves d = f16(x.d)*f16(y.d), one float32 product, in every lane of
// V7.
#define BLOCKSCALE \
	MOVHU.P 2(R0), R4     \
	MOVHU.P 2(R1), R5     \
	FMOVS   R4, F16       \
	FMOVS   R5, F17       \
	FCVTHS  F16, F16      \
	FCVTHS  F17, F17      \
	FMULS   F17, F16, F16 \
	VDUP    V16.S[0], V7.S4

// MINSUM reads the weight minimum m at R0 and the activation sum s at R1
// (advancing both by 2) and folds F29 = fma(m, s, F29).
#define MINSUM \
	MOVHU.P 2(R0), R4          \
	MOVHU.P 2(R1), R5          \
	FMOVS   R4, F18            \
	FMOVS   R5, F19            \
	FCVTHS  F18, F18           \
	FCVTHS  F19, F19           \
	FMADDS  F19, F29, F18, F29

// FIFTH reads qh at R0 (advancing it by 4) and leaves 0x10 in byte j of
// V9 where bit j of qh is set (elements 0-15) and in byte j of V10 where
// bit 16+j is (elements 16-31), else 0.
#define FIFTH \
	MOVWU.P 4(R0), R6                \
	VMOV    R6, V8.S[0]              \
	VTBL    V25.B16, [V8.B16], V9.B16  \
	VTBL    V24.B16, [V8.B16], V10.B16 \
	CMTST(26, 9, 9)                  \ // cmtst v9.16b, v9.16b, v26.16b
	CMTST(26, 10, 10)                \ // cmtst v10.16b, v10.16b, v26.16b
	VAND    V23.B16, V9.B16, V9.B16  \
	VAND    V23.B16, V10.B16, V10.B16

// NIBBLES reads the 16 quant bytes at R0 and the 32 activation quants at
// R1: V1 = low nibbles (elements 0-15), V2 = high ones (16-31), V5 and V6
// the activations of elements 0-15 and 16-31.
#define NIBBLES \
	VLD1.P 16(R0), [V0.B16]         \
	VLD1.P 32(R1), [V5.B16, V6.B16] \
	VAND   V28.B16, V0.B16, V1.B16  \
	VUSHR  $4, V0.B16, V2.B16

// ADD_FIFTH ors the fifth bits into the nibbles.
#define ADD_FIFTH \
	VORR V9.B16, V1.B16, V1.B16 \
	VORR V10.B16, V2.B16, V2.B16

// MINUS16 is Q5_0's offset: values 0..31 become -16..15.
#define MINUS16 \
	VSUB V23.B16, V1.B16, V1.B16 \
	VSUB V23.B16, V2.B16, V2.B16

// LANES_SDOT: V3 = lanes 0-3 from x bytes V1 and y bytes V5, V4 = lanes
// 4-7 from V2 and V6.
#define LANES_SDOT \
	VEOR V3.B16, V3.B16, V3.B16 \
	VEOR V4.B16, V4.B16, V4.B16 \
	SDOT(5, 1, 3)               \ // sdot v3.4s, v1.16b, v5.16b
	SDOT(6, 2, 4)                 // sdot v4.4s, v2.16b, v6.16b

// LANES_NEON: the same lanes with int16 products, pairs widened to int32,
// then pairs of pairs. Clobbers V16-V19.
#define LANES_NEON \
	SMULL(5, 1, 16)    \ // smull v16.8h, v1.8b, v5.8b
	SMULL2(5, 1, 17)   \ // smull2 v17.8h, v1.16b, v5.16b
	SMULL(6, 2, 18)    \ // smull v18.8h, v2.8b, v6.8b
	SMULL2(6, 2, 19)   \ // smull2 v19.8h, v2.16b, v6.16b
	SADDLP(16, 16)     \ // saddlp v16.4s, v16.8h
	SADDLP(17, 17)     \ // saddlp v17.4s, v17.8h
	SADDLP(18, 18)     \ // saddlp v18.4s, v18.8h
	SADDLP(19, 19)     \ // saddlp v19.4s, v19.8h
	ADDP4S(17, 16, 3)  \ // addp v3.4s, v16.4s, v17.4s
	ADDP4S(19, 18, 4)    // addp v4.4s, v18.4s, v19.4s

// ACCUMULATE: V30/V31 += d (V7) * float(lanes), one fused multiply-add per
// lane as ggml's _mm256_fmadd_ps.
#define ACCUMULATE \
	SCVTF4S(3, 3)                \ // scvtf v3.4s, v3.4s
	SCVTF4S(4, 4)                \ // scvtf v4.4s, v4.4s
	VFMLA   V7.S4, V3.S4, V30.S4 \
	VFMLA   V7.S4, V4.S4, V31.S4

#define STORE_LANES \
	VST1 [V30.S4, V31.S4], (R3)

#define STORE_SUMMS \
	MOVD  summs+32(FP), R7 \
	FMOVS F29, (R7)

// func dotQ5_0SDOT(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ5_0SDOT(SB), NOSPLIT, $0-32
	PROLOGUE
	CBZ R2, q50sdotdone

q50sdotloop:
	BLOCKSCALE
	FIFTH
	NIBBLES
	ADD_FIFTH
	MINUS16
	LANES_SDOT
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q50sdotloop

q50sdotdone:
	STORE_LANES
	RET

// func dotQ5_0NEON(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ5_0NEON(SB), NOSPLIT, $0-32
	PROLOGUE
	CBZ R2, q50neondone

q50neonloop:
	BLOCKSCALE
	FIFTH
	NIBBLES
	ADD_FIFTH
	MINUS16
	LANES_NEON
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q50neonloop

q50neondone:
	STORE_LANES
	RET

// func dotQ4_1SDOT(x, y *byte, nb int, acc *x86Lanes, summs *float32)
TEXT ·dotQ4_1SDOT(SB), NOSPLIT, $0-40
	PROLOGUE
	CBZ R2, q41sdotdone

q41sdotloop:
	BLOCKSCALE
	MINSUM
	NIBBLES
	LANES_SDOT
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q41sdotloop

q41sdotdone:
	STORE_LANES
	STORE_SUMMS
	RET

// func dotQ4_1NEON(x, y *byte, nb int, acc *x86Lanes, summs *float32)
TEXT ·dotQ4_1NEON(SB), NOSPLIT, $0-40
	PROLOGUE
	CBZ R2, q41neondone

q41neonloop:
	BLOCKSCALE
	MINSUM
	NIBBLES
	LANES_NEON
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q41neonloop

q41neondone:
	STORE_LANES
	STORE_SUMMS
	RET

// func dotQ5_1SDOT(x, y *byte, nb int, acc *x86Lanes, summs *float32)
TEXT ·dotQ5_1SDOT(SB), NOSPLIT, $0-40
	PROLOGUE
	CBZ R2, q51sdotdone

q51sdotloop:
	BLOCKSCALE
	MINSUM
	FIFTH
	NIBBLES
	ADD_FIFTH
	LANES_SDOT
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q51sdotloop

q51sdotdone:
	STORE_LANES
	STORE_SUMMS
	RET

// func dotQ5_1NEON(x, y *byte, nb int, acc *x86Lanes, summs *float32)
TEXT ·dotQ5_1NEON(SB), NOSPLIT, $0-40
	PROLOGUE
	CBZ R2, q51neondone

q51neonloop:
	BLOCKSCALE
	MINSUM
	FIFTH
	NIBBLES
	ADD_FIFTH
	LANES_NEON
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q51neonloop

q51neondone:
	STORE_LANES
	STORE_SUMMS
	RET
