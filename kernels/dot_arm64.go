//go:build arm64 && !noasm

package kernels

// Go declarations of dot_arm64.s. The block kernels take pointers to the
// first block of the weight row (x) and the activation row (y) and a block
// count, and leave the eight float lanes of ggml's x86 accumulation in acc;
// the wrappers check the slice lengths first, so the assembly never reads
// past them, and finish with the same horizontal sum as the reference.
// The *SDOT kernels need the dot product extension (hasDotProd), the *NEON
// ones only Advanced SIMD; both give the reference's result bit for bit.

//go:noescape
func dotQ8_0NEON(x, y *byte, nb int, acc *x86Lanes)

//go:noescape
func dotQ8_0SDOT(x, y *byte, nb int, acc *x86Lanes)

//go:noescape
func dotQ4_0NEON(x, y *byte, nb int, acc *x86Lanes)

//go:noescape
func dotQ4_0SDOT(x, y *byte, nb int, acc *x86Lanes)

// dotF16Lanes accumulates n (a multiple of 64) F16 products into the 64
// float lanes of dotF16's acc, in its order.
//
//go:noescape
func dotF16Lanes(x, y *byte, n int, acc *[4][16]float32)

func init() {
	q8, q4, name := dotQ8_0NEON, dotQ4_0NEON, "neon"
	if hasDotProd {
		q8, q4, name = dotQ8_0SDOT, dotQ4_0SDOT, "neon+dotprod"
	}
	registerDot(Q8_0, LevelNEON, name, laneBlocks(34, 34, qkLegacy, q8))
	registerDot(Q4_0, LevelNEON, name, laneBlocks(18, 34, qkLegacy, q4))
	registerDot(F16, LevelNEON, "neon", dotF16NEON)
}

// laneBlocks wraps a kernel that leaves the eight x86 lanes of bs-value
// blocks (weight blocks of wb bytes, activation blocks of ab bytes) in acc.
func laneBlocks(wb, ab, bs int, k func(x, y *byte, nb int, acc *x86Lanes)) func(n int, w, a []byte) float32 {
	return func(n int, w, a []byte) float32 {
		nb := n / bs
		if nb == 0 {
			return 0
		}
		_ = w[nb*wb-1]
		_ = a[nb*ab-1]
		var acc x86Lanes
		k(&w[0], &a[0], nb, &acc)
		return acc.hsum()
	}
}

// dotF16NEON is dotF16 with its 64-lane accumulation in NEON; the fold,
// reduction and float64 tail are the reference's own code.
func dotF16NEON(n int, w, a []byte) float32 {
	if n == 0 {
		return 0
	}
	_ = w[2*n-1]
	_ = a[2*n-1]
	np := n &^ 63
	var acc [4][16]float32
	if np > 0 {
		dotF16Lanes(&w[0], &a[0], np, &acc)
	}
	sum := float64(fold4x16(&acc))
	for i := np; i < n; i++ {
		sum += float64(loadHalf(w[2*i:]) * loadHalf(a[2*i:]))
	}
	return float32(sum)
}
