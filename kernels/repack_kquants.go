package kernels

// Repacked K-quant and IQ4_NL matrices.
//
// Like Q4_0 (repack.go), llama.cpp's x86 CPU backend copies the Q4_K and
// IQ4_NL weight matrices whose row count is a multiple of 8 into an
// interleaved layout at load (ggml-cpu/repack.cpp,
// ggml_repack_get_optimal_repack_type; Q2_K too when the CPU has AVX-512)
// and multiplies them with kernels (arch/x86/repack.cpp) that sum in their
// own order: exact integer sums, then one fused multiply-add per group of
// elements into a single float per output, with the minimum terms in a
// second float subtracted at the end. How many elements a group holds
// depends on the kernel: the one-token gemv folds a whole super-block, the
// four-token gemm (which llama.cpp runs on the first n - n%4 tokens of a
// batch of n) folds 64 (Q4_K) or 128 (Q2_K) elements at a time. IQ4_NL
// folds each 32-value block in both, as Q4_0 does.
//
// pagoda computes the same numbers from the plain rows (the functions
// below; Q4_K also has AVX2 kernels, repack_q4k_amd64.s); which order a
// matrix gets depends only on its type and shape (and, through MatMul, on
// a token's position in the batch), never on the CPU level. The Q2_K rule
// matches llama.cpp on AVX-512 machines, where the references were made.

// repacksKQuant reports whether m gets one of the repacked orders below.
func repacksKQuant(m Matrix) bool {
	switch m.Type {
	case Q4_K, Q2_K, IQ4_NL:
		return m.Rows%8 == 0
	}
	return false
}

// Fused groups per super-block: one in every gemv order; in the gemm
// orders four of 64 elements (Q4_K) or two of 128 (Q2_K).
const (
	gemvGroups    = 1
	gemmQ4KGroups = 4
	gemmQ2KGroups = 2
)

// dotQ4_KRepacked is a Q4_K row times a Q8_K row in the repacked order with
// groups fused groups per super-block:
//
//	acc    = fma(float(Σ_sub sc·Σ q·a),       d_w·d_a,    acc)
//	accMin = fma(float(Σ_sub m·(bsum pair)),  dmin_w·d_a, accMin)
//
// and acc - accMin at the end.
func dotQ4_KRepacked(n int, w, a []byte, groups int) float32 {
	var acc, accMin float32
	var q [QK_K]int8
	per := 8 / groups // sub-blocks of 32 per group
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q4KBytes : (i+1)*q4KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		yd := loadF32(y)
		d, dmin := loadHalf(x)*yd, loadHalf(x[2:])*yd
		scales, mins := q4KScalesMins(x)
		unpackQ4_K(x, &q)
		qa := y[4:260]
		for g := 0; g < groups; g++ {
			var isum, imin int32
			for s := g * per; s < (g+1)*per; s++ {
				var sub int32
				for k := 32 * s; k < 32*s+32; k++ {
					sub += int32(q[k]) * int32(int8(qa[k]))
				}
				isum += scales[s] * sub
				imin += mins[s] * (q8KBsum(y, 2*s) + q8KBsum(y, 2*s+1))
			}
			acc = fmaf(float32(isum), d, acc)
			accMin = fmaf(float32(imin), dmin, accMin)
		}
	}
	return acc - accMin
}

// dotQ2_KRepacked is dotQ4_KRepacked's order for Q2_K: sixteen sub-blocks of
// 16 with 4-bit scales and mins, groups fused groups per super-block.
func dotQ2_KRepacked(n int, w, a []byte, groups int) float32 {
	var acc, accMin float32
	var q [QK_K]int8
	per := 16 / groups
	for i := 0; i < n/QK_K; i++ {
		x := w[i*q2KBytes : (i+1)*q2KBytes]
		y := a[i*q8KBytes : (i+1)*q8KBytes]
		yd := loadF32(y)
		d, dmin := loadHalf(x[80:])*yd, loadHalf(x[82:])*yd
		unpackQ2_K(x, &q)
		qa := y[4:260]
		for g := 0; g < groups; g++ {
			var isum, imin int32
			for s := g * per; s < (g+1)*per; s++ {
				var sub int32
				for k := 16 * s; k < 16*s+16; k++ {
					sub += int32(q[k]) * int32(int8(qa[k]))
				}
				isum += int32(x[s]&0x0f) * sub
				imin += int32(x[s]>>4) * q8KBsum(y, s)
			}
			acc = fmaf(float32(isum), d, acc)
			accMin = fmaf(float32(imin), dmin, accMin)
		}
	}
	return acc - accMin
}

// dotIQ4_NLRepacked is an IQ4_NL row times a Q8_0 row in the order of
// ggml_gemv/gemm_iq4_nl_8x8_q8_0 (the Q4_0 kernels with the codebook as
// lookup table): per block acc = fma(float(Σ v·a), d_w·d_a, acc).
func dotIQ4_NLRepacked(n int, w, a []byte) float32 {
	var acc float32
	for b := 0; b < n/qkLegacy; b++ {
		x, y := w[b*iq4NLBytes:(b+1)*iq4NLBytes], a[34*b:34*b+34]
		var lanes [8]int32
		iq4Lanes(&lanes, x[2:18], y[2:34], 1)
		var isum int32
		for _, v := range lanes {
			isum += v
		}
		acc = fmaf(float32(isum), loadHalf(x)*loadHalf(y), acc)
	}
	return acc
}

// kRepackedImpl is a fast kernel set for a repacked order: fn takes one
// row and one token (groups as for dotQ4_KRepacked); gemm4, when set, one
// row and four tokens (a, a+stride, ...) in the gemm order.
type kRepackedImpl struct {
	level Level
	fn    func(n int, w, a []byte, groups int) float32
	gemm4 func(n int, w, a []byte, stride int, out *[4]float32)
}

var fastKRepacked = map[Type][]kRepackedImpl{}

func registerKRepacked(t Type, level Level, fn func(n int, w, a []byte, groups int) float32, gemm4 func(n int, w, a []byte, stride int, out *[4]float32)) {
	fastKRepacked[t] = append(fastKRepacked[t], kRepackedImpl{level, fn, gemm4})
}

// kRepackedFor returns the kernels level l uses for repacked matrices of
// type t (the reference, with no gemm4, when there is no fast one) and how
// many groups the gemm order fuses per super-block.
func kRepackedFor(t Type, l Level) (im kRepackedImpl, gemmGroups int) {
	switch t {
	case Q4_K:
		im.fn, gemmGroups = dotQ4_KRepacked, gemmQ4KGroups
	case Q2_K:
		im.fn, gemmGroups = dotQ2_KRepacked, gemmQ2KGroups
	default:
		im.fn, gemmGroups = func(n int, w, a []byte, _ int) float32 { return dotIQ4_NLRepacked(n, w, a) }, 1
	}
	im.level = -1
	for _, f := range fastKRepacked[t] {
		if f.level <= l && f.level > im.level {
			im = f
		}
	}
	return im, gemmGroups
}

// matMulKRepacked is MatMul for a matrix repacksKQuant accepts. Tokens
// [0, n - n%4) get the gemm order and the rest the gemv order, as
// llama.cpp's forward_mul_mat splits a batch. (The first ones' activations
// come from ggml_quantize_mat_q8_K_4x8 there, which picks the sign of d
// differently from quantize_row_q8_K only when +max and -max tie; the
// quants and d then both change sign and every product is the same, so
// one quantizer serves both.)
func matMulKRepacked(p *Pool, dst []float32, w Matrix, x []float32, n int) {
	tr, _ := TraitsOf(w.Type)
	vl, _ := LayoutOf(tr.VecDotType)
	cols, rows := w.Cols, w.Rows
	arb := cols / vl.BlockSize * vl.BlockBytes
	buf := byteScratch(&actBufs, n*arb)
	defer actBufs.Put(&buf)
	p.Run(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			QuantizeActivations(tr.VecDotType, x[i*cols:(i+1)*cols], buf[i*arb:(i+1)*arb])
		}
	})
	k, gemmGroups := kRepackedFor(w.Type, CurrentLevel())
	tiled := n - n%4
	wrb := w.rowBytes()
	p.Run(rows, func(lo, hi int) {
		var out [4]float32
		for r0 := lo; r0 < hi; r0 += weightTile {
			r1 := min(r0+weightTile, hi)
			for i := 0; i < n; i++ {
				if i < tiled && k.gemm4 != nil {
					// Four tokens per pass over the weight row.
					a := buf[i*arb:]
					for r := r0; r < r1; r++ {
						k.gemm4(cols, w.Data[r*wrb:(r+1)*wrb], a, arb, &out)
						for t := range 4 {
							dst[(i+t)*rows+r] = out[t]
						}
					}
					i += 3
					continue
				}
				groups := gemvGroups
				if i < tiled {
					groups = gemmGroups
				}
				a := buf[i*arb : (i+1)*arb]
				for r := r0; r < r1; r++ {
					dst[i*rows+r] = k.fn(cols, w.Data[r*wrb:(r+1)*wrb], a, groups)
				}
			}
		}
	})
}
