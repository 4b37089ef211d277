//go:build arm64 && !noasm

package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// q8KRaw returns nb Q8_K blocks with scale d() and random quants over the
// whole int8 range (all -128 when minQ); bsums are the quants' true sums
// of 16, or arbitrary int16s when rawSums (the kernels must use the stored
// ones, as the reference does).
func q8KRaw(r *rand.Rand, nb int, d func() float32, minQ, rawSums bool) []byte {
	b := make([]byte, nb*q8KBytes)
	for i := 0; i < nb; i++ {
		blk := b[i*q8KBytes : (i+1)*q8KBytes]
		binary.LittleEndian.PutUint32(blk, math.Float32bits(d()))
		for k := 4; k < 260; k++ {
			if minQ {
				blk[k] = 0x80
			} else {
				blk[k] = byte(r.IntN(256))
			}
		}
		for j := 0; j < 16; j++ {
			s := int16(r.IntN(1 << 16))
			if !rawSums {
				s = 0
				for k := 0; k < 16; k++ {
					s += int16(int8(blk[4+16*j+k]))
				}
			}
			binary.LittleEndian.PutUint16(blk[260+2*j:], uint16(s))
		}
	}
	return b
}

// kquantTrial returns a weight row of typ (random quants and scales) and a
// Q8_K activation row for n values, trial choosing the data's kind.
func kquantTrial(r *rand.Rand, typ Type, n, trial int) (w, a []byte) {
	nb := n / QK_K
	w = randomRow(r, typ, nb*QK_K)
	quant := func(scale func() float32) []byte {
		x := randomFloats(r, nb*QK_K)
		for i := range x {
			x[i] *= scale()
		}
		if trial%8 == 3 && len(x) > 0 {
			x[r.IntN(len(x))] = 1e4 // one spike
		}
		return quantized(Q8_K, x)
	}
	normal := func() float32 { return float32(1e-3 + r.Float64()/50) }
	switch trial % 8 {
	case 0:
		a = quant(func() float32 { return 1 })
	case 1: // huge weight scales, activations over a wide range
		scaleRow(r, typ, w, 4, 12)
		a = quant(func() float32 { return float32(math.Exp2(16*r.Float64() - 8)) })
	case 2: // tiny weight scales and activations: subnormal products
		scaleRow(r, typ, w, -12, -4)
		a = quant(func() float32 { return 1e-34 })
	case 3:
		a = quant(func() float32 { return 1 })
	case 4: // extreme quants on both sides
		l, _ := LayoutOf(typ)
		for blk := 0; blk < nb; blk++ {
			for _, qr := range quantRanges[typ] {
				for i := qr[0]; i < qr[1]; i++ {
					w[blk*l.BlockBytes+i] = 0xff
				}
			}
		}
		a = q8KRaw(r, nb, normal, true, false)
	case 5: // arbitrary stored bsums
		a = q8KRaw(r, nb, normal, false, true)
	case 6: // activation scales from 2^-40 to 2^20
		a = q8KRaw(r, nb, func() float32 { return float32(math.Exp2(60*r.Float64() - 40)) }, false, false)
	default:
		a = q8KRaw(r, nb, normal, false, false)
	}
	return w, a
}

// kquantSizes are the row lengths tried: 0 to 65 super-blocks and one with
// a partial super-block, which both sides ignore.
var kquantSizes = []int{0, 256, 512, 768, 5 * 256, 8 * 256, 17 * 256, 65 * 256, 2*256 + 100}

// kquantTrials covers each of kquantTrial's eight kinds of data three
// times.
const kquantTrials = 24

func kSameBits(got, want float32) bool {
	return math.Float32bits(got) == math.Float32bits(want)
}

// TestNEONQ6_KBitIdentical compares both Q6_K kernels (SDOT when the CPU
// has it, plain NEON always) with the reference dotQ6_K bit for bit.
func TestNEONQ6_KBitIdentical(t *testing.T) {
	kernels := []struct {
		name  string
		fn    func(n int, w, a []byte) float32
		needs bool
	}{
		{"neon", laneBlocks(q6KBytes, q8KBytes, QK_K, dotQ6_KNEON), true},
		{"sdot", laneBlocks(q6KBytes, q8KBytes, QK_K, dotQ6_KSDOT), hasDotProd},
	}
	for _, k := range kernels {
		if !k.needs {
			t.Logf("Q6_K/%s: not supported by this CPU, skipped", k.name)
			continue
		}
		r := rand.New(rand.NewPCG(61, 62))
		compared, nonzero := 0, 0
		for _, n := range kquantSizes {
			for trial := 0; trial < kquantTrials; trial++ {
				w, a := kquantTrial(r, Q6_K, n, trial)
				want := dotQ6_K(n, w, a)
				got := k.fn(n, w, a)
				if !kSameBits(got, want) {
					t.Errorf("Q6_K/%s n=%d trial %d: %v (%#08x), reference %v (%#08x)",
						k.name, n, trial, got, math.Float32bits(got), want, math.Float32bits(want))
				}
				compared++
				if want != 0 {
					nonzero++
				}
			}
		}
		if nonzero < compared/2 {
			t.Errorf("Q6_K/%s: only %d of %d reference results nonzero", k.name, nonzero, compared)
		}
		t.Logf("Q6_K/%s: %d rows compared", k.name, compared)
	}
}

// TestNEONQ4_KRepackedBitIdentical compares both repacked-order Q4_K
// kernels with dotQ4_KRepacked bit for bit in the gemv (1 group) and gemm
// (4 groups) orders, and checks that another group count (2) falls back
// to the reference.
func TestNEONQ4_KRepackedBitIdentical(t *testing.T) {
	kernels := []struct {
		name  string
		fn    func(n int, w, a []byte, groups int) float32
		needs bool
	}{
		{"neon", q4KRepacked(dotQ4_KRepackedNEON), true},
		{"sdot", q4KRepacked(dotQ4_KRepackedSDOT), hasDotProd},
	}
	for _, k := range kernels {
		if !k.needs {
			t.Logf("Q4_K/%s: not supported by this CPU, skipped", k.name)
			continue
		}
		r := rand.New(rand.NewPCG(63, 64))
		compared, nonzero := 0, 0
		for _, n := range kquantSizes {
			for trial := 0; trial < kquantTrials; trial++ {
				w, a := kquantTrial(r, Q4_K, n, trial)
				for _, groups := range []int{gemvGroups, gemmQ4KGroups, 2} {
					want := dotQ4_KRepacked(n, w, a, groups)
					got := k.fn(n, w, a, groups)
					if !kSameBits(got, want) {
						t.Errorf("Q4_K/%s n=%d trial %d groups %d: %v (%#08x), reference %v (%#08x)",
							k.name, n, trial, groups, got, math.Float32bits(got), want, math.Float32bits(want))
					}
					compared++
					if want != 0 {
						nonzero++
					}
				}
			}
		}
		if nonzero < compared/2 {
			t.Errorf("Q4_K/%s: only %d of %d reference results nonzero", k.name, nonzero, compared)
		}
		t.Logf("Q4_K/%s: %d rows compared", k.name, compared)
	}
}

// TestNEONKQuantDispatch checks that at the NEON level MatMul takes these
// kernels and gives the reference's numbers: Q6_K through VecDot's order,
// and a repacked Q4_K matrix (Rows % 8 == 0) with the gemm order for the
// first four tokens and the gemv order for the rest.
func TestNEONKQuantDispatch(t *testing.T) {
	defer SetLevel(LevelGeneric)
	if got := SetLevel(LevelNEON); got != LevelNEON {
		t.Fatalf("SetLevel(neon) = %s", got)
	}
	want := "neon"
	if hasDotProd {
		want = "neon+dotprod"
	}
	if got := current().names[Q6_K]; got != want {
		t.Errorf("Q6_K at neon uses %q, want %q", got, want)
	}
	if im, _ := kRepackedFor(Q4_K, LevelNEON); im.level != LevelNEON {
		t.Errorf("repacked Q4_K at neon uses the level %d kernel, want neon", im.level)
	}
	r := newRand(65)
	const cols = 3 * QK_K
	cases := []struct {
		typ  Type
		rows int
		ref  func(w, a []byte, token int) float32
	}{
		{Q6_K, 5, func(w, a []byte, _ int) float32 { return dotQ6_K(cols, w, a) }},
		{Q4_K, 8, func(w, a []byte, token int) float32 {
			groups := gemvGroups
			if token < 4 {
				groups = gemmQ4KGroups
			}
			return dotQ4_KRepacked(cols, w, a, groups)
		}},
	}
	for _, c := range cases {
		m := Matrix{Type: c.typ, Rows: c.rows, Cols: cols, Data: randomRow(r, c.typ, c.rows*cols)}
		const n = 6
		x := randomFloats(r, n*cols)
		got := make([]float32, n*c.rows)
		MatMul(nil, got, m, x, n)
		for i := 0; i < n; i++ {
			a := quantized(Q8_K, x[i*cols:(i+1)*cols])
			for row := 0; row < c.rows; row++ {
				ref := c.ref(m.Row(row), a, i)
				if g := got[i*c.rows+row]; !kSameBits(g, ref) {
					t.Errorf("%s MatMul[%d][%d] = %v, reference %v", c.typ, i, row, g, ref)
				}
			}
		}
	}
}

// BenchmarkNEONKQuants times the kernels this CPU dispatches to against
// the reference on one 4096-value row (a 7B model's hidden size).
func BenchmarkNEONKQuants(b *testing.B) {
	r := newRand(66)
	const n = 16 * QK_K
	q6 := laneBlocks(q6KBytes, q8KBytes, QK_K, dotQ6_KNEON)
	q4 := q4KRepacked(dotQ4_KRepackedNEON)
	if hasDotProd {
		q6 = laneBlocks(q6KBytes, q8KBytes, QK_K, dotQ6_KSDOT)
		q4 = q4KRepacked(dotQ4_KRepackedSDOT)
	}
	w6, a := kquantTrial(r, Q6_K, n, 0)
	w4, _ := kquantTrial(r, Q4_K, n, 0)
	var sink float32
	for _, c := range []struct {
		name string
		fn   func() float32
	}{
		{"Q6_K/asm", func() float32 { return q6(n, w6, a) }},
		{"Q6_K/ref", func() float32 { return dotQ6_K(n, w6, a) }},
		{"Q4_K-repacked/asm", func() float32 { return q4(n, w4, a, gemvGroups) }},
		{"Q4_K-repacked/ref", func() float32 { return dotQ4_KRepacked(n, w4, a, gemvGroups) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(n)
			for b.Loop() {
				sink += c.fn()
			}
		})
	}
	_ = sink
}
