//go:build arm64 && !noasm

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// neonLegacyKernel is one arm64 legacy dot kernel, called directly so that
// both the SDOT and the plain NEON integer paths are checked whichever one
// the dispatcher picked on this CPU.
type neonLegacyKernel struct {
	name  string
	typ   Type
	fn    func(n int, w, a []byte) float32
	needs bool
}

var neonLegacyKernels = []neonLegacyKernel{
	{"Q5_0/neon", Q5_0, laneBlocks(22, 34, qkLegacy, dotQ5_0NEON), true},
	{"Q5_0/sdot", Q5_0, laneBlocks(22, 34, qkLegacy, dotQ5_0SDOT), hasDotProd},
	{"Q4_1/neon", Q4_1, minBlocks(20, dotQ4_1NEON), true},
	{"Q4_1/sdot", Q4_1, minBlocks(20, dotQ4_1SDOT), hasDotProd},
	{"Q5_1/neon", Q5_1, minBlocks(24, dotQ5_1NEON), true},
	{"Q5_1/sdot", Q5_1, minBlocks(24, dotQ5_1SDOT), hasDotProd},
}

// neonActQuants returns the byte range of the quants in one activation
// block of type t (Q8_0: after d; Q8_1: after d and s) and the block size.
func neonActQuants(t Type) (lo, hi, size int) {
	if t == Q8_1 {
		return 4, 36, 36
	}
	return 2, 34, 34
}

// checkNEONLegacy asserts that k's result is the reference's bit for bit.
func checkNEONLegacy(t *testing.T, k neonLegacyKernel, n int, w, a []byte, what string) {
	t.Helper()
	tr, _ := TraitsOf(k.typ)
	want := tr.VecDot(n, w, a)
	got := k.fn(n, w, a)
	if math.Float32bits(got) != math.Float32bits(want) {
		t.Errorf("%s n=%d %s: %v (%#08x), reference %v (%#08x)",
			k.name, n, what, got, math.Float32bits(got), want, math.Float32bits(want))
	}
}

// TestNEONLegacyDotsExact compares each kernel with the reference bit for
// bit: rows of 0 to 65 blocks (and a partial block, ignored by both), every
// standard input kind, and raw random activation bytes (-128 included,
// which quantization never makes).
func TestNEONLegacyDotsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, k := range neonLegacyKernels {
		if !k.needs {
			t.Logf("%s: not supported by this CPU, skipped", k.name)
			continue
		}
		tr, _ := TraitsOf(k.typ)
		compared := 0
		for _, n := range []int{32, 64, 96, 224, 288, 32 * 33, 32 * 65, 32*5 + 17} {
			for trial := range 4 * (inputKinds + 1) { // each kind of input, four rows
				kind := trial % (inputKinds + 1)
				raw := kind == inputKinds
				if raw {
					kind = inputRandom
				}
				w, x := dotInputs(r, k.typ, n/32*32, kind)
				a := quantized(tr.VecDotType, x)
				what := inputKindNames[kind]
				if raw {
					what = "raw activation bytes"
					lo, hi, size := neonActQuants(tr.VecDotType)
					for b := 0; b < n/32; b++ {
						for i := b*size + lo; i < b*size+hi; i++ {
							a[i] = byte(r.IntN(256))
						}
					}
				}
				checkNEONLegacy(t, k, n, w, a, what)
				compared++
			}
		}
		if got := k.fn(0, nil, nil); math.Float32bits(got) != 0 {
			t.Errorf("%s: empty row = %v", k.name, got)
		}
		t.Logf("%s: %d rows compared", k.name, compared)
	}
}

// TestNEONLegacyDotsExtremeBytes fills weights and activations with the
// extreme quant values (every nibble 0 or 15, every fifth bit 0 or 1, and
// both mixed per element; activations all -128, -127 or 127), where a wrong
// bit spread or an int16 overflow would show.
func TestNEONLegacyDotsExtremeBytes(t *testing.T) {
	r := newRand(53)
	const nb = 5
	const n = nb * 32
	for _, k := range neonLegacyKernels {
		if !k.needs {
			continue
		}
		tr, _ := TraitsOf(k.typ)
		lay, _ := LayoutOf(k.typ)
		qlo := quantRanges[k.typ][0][0]
		for _, wq := range []byte{0x00, 0xff, 0x0f, 0xf0, 0x5a} {
			for _, aq := range []byte{0x80, 0x81, 0x7f} {
				w := randomRow(r, k.typ, n)
				for b := 0; b < nb; b++ {
					blk := w[b*lay.BlockBytes : (b+1)*lay.BlockBytes]
					for i := qlo; i < len(blk); i++ {
						blk[i] = wq // qh (for Q5) and qs alike
					}
				}
				a := quantized(tr.VecDotType, randomFloats(r, n))
				lo, hi, size := neonActQuants(tr.VecDotType)
				for b := 0; b < nb; b++ {
					for i := b*size + lo; i < b*size+hi; i++ {
						a[i] = aq
					}
				}
				checkNEONLegacy(t, k, n, w, a, "extreme bytes")
			}
		}
	}
}

// TestNEONLegacyFifthBits sets one qh bit at a time in otherwise zero
// weights, with distinct activations per element, so that a fifth bit
// landing on the wrong element changes the result.
func TestNEONLegacyFifthBits(t *testing.T) {
	r := newRand(54)
	for _, k := range neonLegacyKernels {
		if !k.needs || k.typ == Q4_1 {
			continue
		}
		tr, _ := TraitsOf(k.typ)
		lay, _ := LayoutOf(k.typ)
		qhOff := quantRanges[k.typ][0][0] // qh comes first in the quant bytes
		lo, _, _ := neonActQuants(tr.VecDotType)
		for bit := range 32 {
			w := randomRow(r, k.typ, 32)
			clear(w[qhOff:lay.BlockBytes])
			w[qhOff+bit/8] = 1 << (bit % 8)
			a := quantized(tr.VecDotType, randomFloats(r, 32))
			for j := range 32 {
				a[lo+j] = byte(j + 1) // element j weighs j+1
			}
			checkNEONLegacy(t, k, 32, w, a, "one fifth bit")
		}
	}
}

// TestNEONLegacyDispatch checks that the NEON level uses these kernels for
// VecDot and MatMul, with the reference's results bit for bit.
func TestNEONLegacyDispatch(t *testing.T) {
	defer SetLevel(LevelGeneric)
	if got := SetLevel(LevelNEON); got != LevelNEON {
		t.Fatalf("SetLevel(neon) = %s", got)
	}
	name := "neon"
	if hasDotProd {
		name = "neon+dotprod"
	}
	r := newRand(55)
	for _, typ := range []Type{Q5_0, Q4_1, Q5_1} {
		if got := current().names[typ]; got != name {
			t.Errorf("%s at neon uses %q, want %q", typ, got, name)
		}
		tr, _ := TraitsOf(typ)
		const rows, cols = 5, 256 + 64
		m := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
		x := randomFloats(r, 3*cols)
		got := make([]float32, 3*rows)
		MatMul(nil, got, m, x, 3)
		for i := 0; i < 3; i++ {
			a := quantized(tr.VecDotType, x[i*cols:(i+1)*cols])
			for row := 0; row < rows; row++ {
				ref := tr.VecDot(cols, m.Row(row), a)
				if g := got[i*rows+row]; math.Float32bits(g) != math.Float32bits(ref) {
					t.Errorf("%s MatMul[%d][%d] = %v, reference %v", typ, i, row, g, ref)
				}
			}
		}
	}
}
