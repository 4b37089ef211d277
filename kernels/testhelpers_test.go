package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// computable lists the weight formats with a dot product.
var computable = []Type{F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS}

// halfFields are the byte offsets of each format's f16 scale fields.
var halfFields = map[Type][]int{
	Q4_0: {0}, Q4_1: {0, 2}, Q5_0: {0}, Q5_1: {0, 2}, Q8_0: {0},
	Q2_K: {80, 82}, Q3_K: {108}, Q4_K: {0, 2}, Q5_K: {0, 2}, Q6_K: {208},
	IQ4_NL: {0}, IQ4_XS: {0},
}

// quantRanges are the byte ranges holding quants (not scales) per block.
var quantRanges = map[Type][][2]int{
	Q4_0: {{2, 18}}, Q4_1: {{4, 20}}, Q5_0: {{2, 22}}, Q5_1: {{4, 24}}, Q8_0: {{2, 34}},
	Q2_K: {{16, 80}}, Q3_K: {{0, 96}}, Q4_K: {{16, 144}}, Q5_K: {{16, 176}}, Q6_K: {{0, 192}},
	IQ4_NL: {{2, 18}}, IQ4_XS: {{8, 136}},
}

// randomHalf returns a finite f16 of magnitude in [lo, hi) with random sign.
func randomHalf(r *rand.Rand, lo, hi float32) uint16 {
	v := lo + (hi-lo)*r.Float32()
	if r.IntN(2) == 0 {
		v = -v
	}
	return FP32ToFP16(v)
}

// randomRow returns n elements of type t: random bytes with every f16 scale
// field replaced by a sane finite value (float types get random finite
// values).
func randomRow(r *rand.Rand, t Type, n int) []byte {
	l, _ := LayoutOf(t)
	b := make([]byte, n/l.BlockSize*l.BlockBytes)
	switch t {
	case F32:
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(r.NormFloat64())))
		}
		return b
	case F16:
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint16(b[2*i:], FP32ToFP16(float32(r.NormFloat64())))
		}
		return b
	case BF16:
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint16(b[2*i:], FP32ToBF16(float32(r.NormFloat64())))
		}
		return b
	}
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	for blk := 0; blk < len(b)/l.BlockBytes; blk++ {
		for _, off := range halfFields[t] {
			binary.LittleEndian.PutUint16(b[blk*l.BlockBytes+off:], randomHalf(r, 1e-3, 0.1))
		}
	}
	return b
}

func randomFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func mustDequant(t Type, b []byte, n int) []float32 {
	y := make([]float32, n)
	if err := Dequantize(t, b, y); err != nil {
		panic(err)
	}
	return y
}

func quantized(t Type, x []float32) []byte {
	want, err := RowBytes(t, int64(len(x)))
	if err != nil {
		panic(err)
	}
	b := make([]byte, want)
	QuantizeActivations(t, x, b)
	return b
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }

// The kinds of input every dot-product test tries: the same trouble for
// every format.
const (
	inputRandom      = iota
	inputHugeWeights // huge weight scales, tiny activations
	inputTinyWeights // tiny weight scales, wide-ranging activations
	inputSpike       // one activation far above the rest
	inputZeros       // all-zero activations
	inputKinds
)

var inputKindNames = [inputKinds]string{"random", "huge weight scales, tiny activations",
	"tiny weight scales, wide activations", "one spike", "zero activations"}

// dotInputs returns a random weight row of typ and an activation row of n
// values of the given input kind.
func dotInputs(r *rand.Rand, typ Type, n, kind int) ([]byte, []float32) {
	w := randomRow(r, typ, n)
	x := randomFloats(r, n)
	switch kind {
	case inputHugeWeights:
		scaleRow(r, typ, w, 4, 12)
		for i := range x {
			x[i] *= 1e-3
		}
	case inputTinyWeights:
		scaleRow(r, typ, w, -12, -4)
		for i := range x {
			x[i] *= float32(math.Exp2(16*r.Float64() - 8))
		}
	case inputSpike:
		x[r.IntN(n)] = 1e4
	case inputZeros:
		clear(x)
	}
	return w, x
}
