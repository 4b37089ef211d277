package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Traits ties a format to its portable kernels, as ggml-cpu's type_traits_cpu
// does: how to dequantize it, and which activation format its dot product
// pairs with.
type Traits struct {
	Layout
	// VecDotType is the format the activations are converted to before a dot
	// product with a row of this type (ggml's vec_dot_type).
	VecDotType Type
	// Dequantize expands whole blocks of src into len(dst) float32 values.
	Dequantize func(src []byte, dst []float32)
	// VecDot returns the dot product of n elements of this type (w) with n
	// elements in VecDotType (a). Nil for the activation-only formats Q8_1
	// and Q8_K, which ggml has no dot product for either.
	VecDot func(n int, w, a []byte) float32
}

var traits = map[Type]*Traits{}

func init() {
	reg := func(t, dot Type, deq func([]byte, []float32), vd func(int, []byte, []byte) float32) {
		l, ok := LayoutOf(t)
		if !ok {
			panic(fmt.Sprintf("kernels: no layout for %d", uint32(t)))
		}
		traits[t] = &Traits{Layout: l, VecDotType: dot, Dequantize: deq, VecDot: vd}
	}
	reg(F32, F32, dequantF32, dotF32)
	reg(F16, F16, dequantF16, dotF16)
	reg(BF16, BF16, dequantBF16, dotBF16)
	reg(Q4_0, Q8_0, dequantQ4_0, dotQ4_0)
	reg(Q4_1, Q8_1, dequantQ4_1, dotQ4_1)
	reg(Q5_0, Q8_0, dequantQ5_0, dotQ5_0)
	reg(Q5_1, Q8_1, dequantQ5_1, dotQ5_1)
	reg(Q8_0, Q8_0, dequantQ8_0, dotQ8_0)
	reg(Q8_1, Q8_1, dequantQ8_1, nil)
	reg(Q2_K, Q8_K, dequantQ2_K, dotQ2_K)
	reg(Q3_K, Q8_K, dequantQ3_K, dotQ3_K)
	reg(Q4_K, Q8_K, dequantQ4_K, dotQ4_K)
	reg(Q5_K, Q8_K, dequantQ5_K, dotQ5_K)
	reg(Q6_K, Q8_K, dequantQ6_K, dotQ6_K)
	reg(Q8_K, Q8_K, dequantQ8_K, nil)
	reg(IQ4_NL, Q8_0, dequantIQ4_NL, dotIQ4_NL)
	reg(IQ4_XS, Q8_K, dequantIQ4_XS, dotIQ4_XS)
}

// TraitsOf returns the kernels of t, or false when pagoda cannot compute
// with t (it may still know its Layout).
func TraitsOf(t Type) (*Traits, bool) {
	tr, ok := traits[t]
	return tr, ok
}

// Dequantize expands len(dst) elements of type t from src. len(dst) must be a
// whole number of blocks and src must hold exactly those blocks.
func Dequantize(t Type, src []byte, dst []float32) error {
	tr, ok := traits[t]
	if !ok {
		return fmt.Errorf("kernels: cannot dequantize %s", t)
	}
	want, err := RowBytes(t, int64(len(dst)))
	if err != nil {
		return fmt.Errorf("kernels: dequantize: %w", err)
	}
	if int64(len(src)) != want {
		return fmt.Errorf("kernels: dequantize %d %s values: src has %d bytes, want %d", len(dst), t, len(src), want)
	}
	tr.Dequantize(src, dst)
	return nil
}

// VecDot returns the dot product of n elements of a row of type t (w) with n
// activations already converted to t's VecDotType (a), with the kernel of
// the current level (SetLevel); Traits.VecDot is always the reference.
//
// Like the kernels it dispatches to, it has no error result: the type and the
// sizes are the caller's invariants (checked once when a model is loaded), so
// a violation is a programming error and panics.
func VecDot(t Type, n int, w, a []byte) float32 {
	tr, ok := traits[t]
	if !ok || tr.VecDot == nil {
		panic(fmt.Sprintf("kernels: no dot product for %s", t))
	}
	if n%tr.BlockSize != 0 {
		panic(fmt.Sprintf("kernels: VecDot of %d %s elements is not a whole number of blocks", n, t))
	}
	return activeDot(t)(n, w, a)
}

// loadHalf reads a little-endian ggml_half at b[0:2] as float32.
func loadHalf(b []byte) float32 {
	return FP16ToFP32(binary.LittleEndian.Uint16(b))
}

// loadF32 reads a little-endian float32 at b[0:4].
func loadF32(b []byte) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}
