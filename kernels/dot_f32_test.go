package kernels

import (
	"math/rand/v2"
	"testing"
)

// The F32 fast path sums in exactly the reference's order, so it must agree
// bit for bit (the F32 model tests compare with llama.cpp through it).
func TestF32DotBitIdenticalToReference(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(uint64(l), 32))
		for _, n := range []int{1, 63, 64, 65, 128, 172, 1000, 2053} {
			w := randomRow(r, F32, n)
			a := quantized(F32, randomFloats(r, n))
			if got, want := VecDot(F32, n, w, a), dotF32(n, w, a); got != want {
				t.Errorf("n=%d: %v, reference %v", n, got, want)
			}
		}
	})
}
