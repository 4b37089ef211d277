//go:build arm64 && !noasm

package kernels

// Go declarations of dot_legacy_arm64.s: NEON dot products of Q4_1, Q5_0
// and Q5_1 with their Q8_0 / Q8_1 activations, in the reference's order
// (dot_legacy.go), so the results are its own bit for bit. The kernels
// leave the eight float lanes of the x86 accumulation in acc; the Q4_1 and
// Q5_1 ones also leave Σ m·s (one fused multiply-add per block, in block
// order) in summs, which the wrapper adds after hsum_float_8 as the
// reference does. The *SDOT kernels need the dot product extension
// (hasDotProd), the *NEON ones only Advanced SIMD.

//go:noescape
func dotQ5_0NEON(x, y *byte, nb int, acc *x86Lanes)

//go:noescape
func dotQ5_0SDOT(x, y *byte, nb int, acc *x86Lanes)

//go:noescape
func dotQ4_1NEON(x, y *byte, nb int, acc *x86Lanes, summs *float32)

//go:noescape
func dotQ4_1SDOT(x, y *byte, nb int, acc *x86Lanes, summs *float32)

//go:noescape
func dotQ5_1NEON(x, y *byte, nb int, acc *x86Lanes, summs *float32)

//go:noescape
func dotQ5_1SDOT(x, y *byte, nb int, acc *x86Lanes, summs *float32)

func init() {
	q50, q41, q51, name := dotQ5_0NEON, dotQ4_1NEON, dotQ5_1NEON, "neon"
	if hasDotProd {
		q50, q41, q51, name = dotQ5_0SDOT, dotQ4_1SDOT, dotQ5_1SDOT, "neon+dotprod"
	}
	registerDot(Q5_0, LevelNEON, name, laneBlocks(22, 34, qkLegacy, q50))
	registerDot(Q4_1, LevelNEON, name, minBlocks(20, q41))
	registerDot(Q5_1, LevelNEON, name, minBlocks(24, q51))
}

// minBlocks wraps a kernel of a format with a block minimum (weight blocks
// of wb bytes, Q8_1 activations): hsum_float_8 of the lanes, then + Σ m·s.
func minBlocks(wb int, k func(x, y *byte, nb int, acc *x86Lanes, summs *float32)) func(n int, w, a []byte) float32 {
	return func(n int, w, a []byte) float32 {
		nb := n / qkLegacy
		if nb == 0 {
			return 0
		}
		_ = w[nb*wb-1]
		_ = a[nb*36-1]
		var acc x86Lanes
		var summs float32
		k(&w[0], &a[0], nb, &acc, &summs)
		return acc.hsum() + summs
	}
}
