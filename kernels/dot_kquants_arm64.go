//go:build arm64 && !noasm

package kernels

// Go declarations of dot_kquants_arm64.s: NEON K-quant dot products with
// the reference's summation order (dotQ6_K, dotQ4_KRepacked), so their
// results are the reference's bit for bit. The *SDOT kernels need the dot
// product extension (hasDotProd), the *NEON ones only Advanced SIMD. The
// wrappers check the slice lengths, so the assembly reads exactly nb
// blocks of each row.

// dotQ6_K* leave the eight float lanes of dotQ6_K's accumulation in acc.
//
//go:noescape
func dotQ6_KSDOT(x, y *byte, nb int, acc *x86Lanes)

//go:noescape
func dotQ6_KNEON(x, y *byte, nb int, acc *x86Lanes)

// dotQ4_KRepacked* return dotQ4_KRepacked(n, w, a, groups) for groups 1
// or 4.
//
//go:noescape
func dotQ4_KRepackedSDOT(x, y *byte, nb, groups int) float32

//go:noescape
func dotQ4_KRepackedNEON(x, y *byte, nb, groups int) float32

func init() {
	q6, q4, name := dotQ6_KNEON, dotQ4_KRepackedNEON, "neon"
	if hasDotProd {
		q6, q4, name = dotQ6_KSDOT, dotQ4_KRepackedSDOT, "neon+dotprod"
	}
	registerDot(Q6_K, LevelNEON, name, laneBlocks(q6KBytes, q8KBytes, QK_K, q6))
	registerKRepacked(Q4_K, LevelNEON, q4KRepacked(q4), nil)
}

// q4KRepacked wraps a repacked-order Q4_K kernel; the assembly knows the
// two orders MatMul uses (gemv and gemm), any other group count takes the
// reference.
func q4KRepacked(k func(x, y *byte, nb, groups int) float32) func(n int, w, a []byte, groups int) float32 {
	return func(n int, w, a []byte, groups int) float32 {
		if groups != gemvGroups && groups != gemmQ4KGroups {
			return dotQ4_KRepacked(n, w, a, groups)
		}
		nb := n / QK_K
		if nb == 0 {
			return 0
		}
		_ = w[nb*q4KBytes-1]
		_ = a[nb*q8KBytes-1]
		return k(&w[0], &a[0], nb, groups)
	}
}
