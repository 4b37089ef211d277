//go:build arm64 && !noasm

#include "textflag.h"

// Dot products of one weight row with one activation row in NEON. The
// integer part of each 32-value block gives eight exact int32 lanes (lane l
// = sum of the products of elements 4l..4l+3, as ggml's x86 kernels form
// them); the float part is per lane acc = fma(d, float(lane), acc), with d
// = f16(x.d)*f16(y.d) rounded to float32, in the reference's order. The
// lanes go back to Go for hsum_float_8, so the result is the reference's
// bit for bit.
//
// Go's assembler has no SDOT, SMULL, SADDLP, SCVTF or FCVTL vector forms:
// they are encoded by hand below (operands are vector register numbers; the
// encodings were checked with llvm-mc). ADDP is too, so that which source
// fills which lanes is spelled out.

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
// fcvtl vd.4s, vn.4h (lanes 0-3 of vn)
#define FCVTL(n, d) WORD $(0x0E217800 | (n)<<5 | (d))
// fcvtl2 vd.4s, vn.8h (lanes 4-7 of vn)
#define FCVTL2(n, d) WORD $(0x4E217800 | (n)<<5 | (d))

// BLOCKSCALE reads the f16 scales at R0 and R1 (advancing both by 2) and
// leaves d = f16(x.d)*f16(y.d), one float32 product, in every lane of V7.
#define BLOCKSCALE \
	MOVHU.P 2(R0), R4     \
	MOVHU.P 2(R1), R5     \
	FMOVS   R4, F16       \
	FMOVS   R5, F17       \
	FCVTHS  F16, F16      \
	FCVTHS  F17, F17      \
	FMULS   F17, F16, F16 \
	VDUP    V16.S[0], V7.S4

// LANES_SDOT: V3 = lanes 0-3 from x bytes V1 and y bytes V5, V4 = lanes
// 4-7 from V2 and V6.
#define LANES_SDOT \
	VEOR V3.B16, V3.B16, V3.B16 \
	VEOR V4.B16, V4.B16, V4.B16 \
	SDOT(5, 1, 3)               \ // sdot v3.4s, v1.16b, v5.16b
	SDOT(6, 2, 4)                 // sdot v4.4s, v2.16b, v6.16b

// LANES_NEON: the same lanes without the dot product extension: int16
// products (exact: |x*y| <= 128*128), pairs widened to int32, then pairs of
// pairs. Clobbers V16-V19.
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

// ACCUMULATE: acc lanes 0-3 (V30) and 4-7 (V31) += d (V7) * float(lanes),
// each lane one fused multiply-add as ggml's _mm256_fmadd_ps.
#define ACCUMULATE \
	SCVTF4S(3, 3)               \ // scvtf v3.4s, v3.4s
	SCVTF4S(4, 4)               \ // scvtf v4.4s, v4.4s
	VFMLA   V7.S4, V3.S4, V30.S4 \
	VFMLA   V7.S4, V4.S4, V31.S4

// Q8_0 weights: 32 signed bytes after the scale.
#define LOAD_Q8_0 \
	VLD1.P 32(R0), [V1.B16, V2.B16] \
	VLD1.P 32(R1), [V5.B16, V6.B16]

// Q4_0 weights: 16 bytes of nibbles, the low ones elements 0-15, the high
// ones 16-31, each minus 8 (V28 = 0x0f bytes, V27 = 8s).
#define LOAD_Q4_0 \
	VLD1.P 16(R0), [V0.B16]          \
	VLD1.P 32(R1), [V5.B16, V6.B16]  \
	VAND   V28.B16, V0.B16, V1.B16   \
	VUSHR  $4, V0.B16, V2.B16        \
	VSUB   V27.B16, V1.B16, V1.B16   \
	VSUB   V27.B16, V2.B16, V2.B16

#define PROLOGUE \
	MOVD x+0(FP), R0                \
	MOVD y+8(FP), R1                \
	MOVD nb+16(FP), R2              \
	MOVD acc+24(FP), R3             \
	VEOR V30.B16, V30.B16, V30.B16  \
	VEOR V31.B16, V31.B16, V31.B16  \
	VMOVI $15, V28.B16              \
	VMOVI $8, V27.B16

#define EPILOGUE \
	VST1 [V30.S4, V31.S4], (R3) \
	RET

// func dotQ8_0SDOT(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ8_0SDOT(SB), NOSPLIT, $0-32
	PROLOGUE
	CBZ R2, q80sdotdone

q80sdotloop:
	BLOCKSCALE
	LOAD_Q8_0
	LANES_SDOT
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q80sdotloop

q80sdotdone:
	EPILOGUE

// func dotQ8_0NEON(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ8_0NEON(SB), NOSPLIT, $0-32
	PROLOGUE
	CBZ R2, q80neondone

q80neonloop:
	BLOCKSCALE
	LOAD_Q8_0
	LANES_NEON
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q80neonloop

q80neondone:
	EPILOGUE

// func dotQ4_0SDOT(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ4_0SDOT(SB), NOSPLIT, $0-32
	PROLOGUE
	CBZ R2, q40sdotdone

q40sdotloop:
	BLOCKSCALE
	LOAD_Q4_0
	LANES_SDOT
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q40sdotloop

q40sdotdone:
	EPILOGUE

// func dotQ4_0NEON(x, y *byte, nb int, acc *x86Lanes)
TEXT ·dotQ4_0NEON(SB), NOSPLIT, $0-32
	PROLOGUE
	CBZ R2, q40neondone

q40neonloop:
	BLOCKSCALE
	LOAD_Q4_0
	LANES_NEON
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q40neonloop

q40neondone:
	EPILOGUE

// F16STEP widens eight halves of x (vector xr) and of y (yr) and adds their
// products (exact in float32) to the accumulators a0 (elements 0-3) and a1
// (4-7): one rounding per lane, as the reference's acc += x*y.
#define F16STEP(xr, yr, a0, a1) \
	FCVTL(xr, 8)                  \ // fcvtl v8.4s, v{xr}.4h
	FCVTL2(xr, 9)                 \ // fcvtl2 v9.4s, v{xr}.8h
	FCVTL(yr, 10)                 \ // fcvtl v10.4s, v{yr}.4h
	FCVTL2(yr, 11)                \ // fcvtl2 v11.4s, v{yr}.8h
	VFMLA V10.S4, V8.S4, a0.S4    \
	VFMLA V11.S4, V9.S4, a1.S4

// func dotF16Lanes(x, y *byte, n int, acc *[4][16]float32)
//
// Element e of each 64 goes to acc[e/16][e%16], i.e. float e of acc: V16
// holds floats 0-3, V17 4-7, ... V31 60-63.
TEXT ·dotF16Lanes(SB), NOSPLIT, $0-32
	MOVD x+0(FP), R0
	MOVD y+8(FP), R1
	MOVD n+16(FP), R2
	MOVD acc+24(FP), R3
	LSR  $6, R2, R2
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	CBZ  R2, f16done

f16loop:
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P 64(R1), [V4.B16, V5.B16, V6.B16, V7.B16]
	F16STEP(0, 4, V16, V17)
	F16STEP(1, 5, V18, V19)
	F16STEP(2, 6, V20, V21)
	F16STEP(3, 7, V22, V23)
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P 64(R1), [V4.B16, V5.B16, V6.B16, V7.B16]
	F16STEP(0, 4, V24, V25)
	F16STEP(1, 5, V26, V27)
	F16STEP(2, 6, V28, V29)
	F16STEP(3, 7, V30, V31)
	SUBS $1, R2, R2
	BNE  f16loop

f16done:
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R3)
	VST1.P [V20.S4, V21.S4, V22.S4, V23.S4], 64(R3)
	VST1.P [V24.S4, V25.S4, V26.S4, V27.S4], 64(R3)
	VST1   [V28.S4, V29.S4, V30.S4, V31.S4], (R3)
	RET
