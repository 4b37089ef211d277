package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// quantTypes are the formats Quantize supports.
var quantTypes = []Type{F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS}

// TestQuantizeGolden checks Quantize against bytes written by llama-quantize
// (testdata/quantize/golden.bin, made from ../shared/ref by quantize's
// TestUpdateKernelsGolden; see testdata/quantize/SOURCES.md).
func TestQuantizeGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "quantize", "golden.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 8 || string(data[:4]) != "PQG1" {
		t.Fatal("golden.bin: bad header")
	}
	count := int(binary.LittleEndian.Uint32(data[4:]))
	p := data[8:]
	seen := map[Type]bool{}
	for e := 0; e < count; e++ {
		typ := Type(binary.LittleEndian.Uint32(p))
		n := int(binary.LittleEndian.Uint32(p[4:]))
		p = p[8:]
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		}
		p = p[4*n:]
		size, err := RowBytes(typ, int64(n))
		if err != nil {
			t.Fatal(err)
		}
		want := p[:size]
		p = p[size:]
		got := make([]byte, size)
		if err := Quantize(typ, x, got); err != nil {
			t.Fatalf("entry %d (%s): %v", e, typ, err)
		}
		if !bytes.Equal(got, want) {
			k := 0
			for got[k] == want[k] {
				k++
			}
			t.Errorf("entry %d (%s, %d values): differs from llama.cpp at byte %d", e, typ, n, k)
		}
		seen[typ] = true
	}
	if len(p) != 0 {
		t.Errorf("%d trailing bytes", len(p))
	}
	for _, typ := range quantTypes {
		if typ != F32 && !seen[typ] {
			t.Errorf("no golden data for %s", typ)
		}
	}
}

func qRandom(seed uint64, n int, scale float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

func qRoundTrip(t *testing.T, typ Type, x []float32) []float32 {
	t.Helper()
	size, err := RowBytes(typ, int64(len(x)))
	if err != nil {
		t.Fatal(err)
	}
	q := make([]byte, size)
	if err := Quantize(typ, x, q); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, len(x))
	if err := Dequantize(typ, q, y); err != nil {
		t.Fatal(err)
	}
	return y
}

// Dequantizing what Quantize wrote gives back the input within each format's
// precision (relative RMS error), for several magnitudes.
func TestQuantizeRoundTrip(t *testing.T) {
	tol := map[Type]float64{
		F32: 0, F16: 1e-3, BF16: 5e-3, Q8_0: 0.01, Q6_K: 0.03, Q5_0: 0.05, Q5_1: 0.05, Q5_K: 0.05,
		Q4_0: 0.1, Q4_1: 0.1, Q4_K: 0.1, IQ4_NL: 0.1, IQ4_XS: 0.1, Q3_K: 0.2, Q2_K: 0.45,
	}
	for _, typ := range quantTypes {
		for k, scale := range []float64{1, 1e-3, 300} {
			x := qRandom(uint64(k)+1, 4*QK_K, scale)
			y := qRoundTrip(t, typ, x)
			var e2, x2 float64
			for i := range x {
				d := float64(x[i] - y[i])
				e2 += d * d
				x2 += float64(x[i]) * float64(x[i])
			}
			if rel := math.Sqrt(e2 / x2); rel > tol[typ] || math.IsNaN(rel) {
				t.Errorf("%s scale %g: relative RMS error %.4f > %.4f", typ, scale, rel, tol[typ])
			}
		}
	}
}

// Special blocks: all zero, constant, one spike, all negative, tiny. Every
// format must return finite values close to the input.
func TestQuantizeSpecialBlocks(t *testing.T) {
	n := 2 * QK_K
	cases := map[string]func(i int) float32{
		"zero":     func(int) float32 { return 0 },
		"constant": func(int) float32 { return 0.75 },
		"negative": func(i int) float32 { return -1 - float32(i%17)/16 },
		"spike": func(i int) float32 {
			if i%QK_K == 5 {
				return -40
			}
			return 0
		},
		"tiny": func(i int) float32 { return float32(i%7-3) * 1e-20 },
	}
	for name, f := range cases {
		x := make([]float32, n)
		var amax float32
		for i := range x {
			x[i] = f(i)
			amax = max(amax, abs32(x[i]))
		}
		for _, typ := range quantTypes {
			y := qRoundTrip(t, typ, x)
			for i := range y {
				if math.IsNaN(float64(y[i])) || math.IsInf(float64(y[i]), 0) {
					t.Fatalf("%s %s: value %d is %v", name, typ, i, y[i])
				}
				// Q2_K has 4 levels per 16 values: allow half the range.
				if d := abs32(y[i] - x[i]); d > 0.5*amax+1e-6 {
					t.Errorf("%s %s: value %d: %v -> %v", name, typ, i, x[i], y[i])
					break
				}
			}
		}
	}
}

// Hand-derived encodings of an all-zero block, following the C code.
func TestQuantizeZeroBlockBytes(t *testing.T) {
	x := make([]float32, QK_K)
	want := map[Type]func(b []byte) bool{
		// d = 0/-8 = -0 (f16 0x8000), every quant 0+8 -> nibbles 8
		Q4_0: func(b []byte) bool { return b[0] == 0 && b[1] == 0x80 && b[2] == 0x88 && b[17] == 0x88 },
		Q8_0: func(b []byte) bool { return bytes.Count(b[:34], []byte{0}) == 34 },
		Q6_K: func(b []byte) bool { return bytes.Count(b[:210], []byte{0}) == 210 },
		Q4_K: func(b []byte) bool { return bytes.Count(b[:144], []byte{0}) == 144 },
		// d = -0/32 = -0 (f16 0x8000); each 6-bit scale is 0+32: high bits
		// 2 in every slot of scales_h; index of 0 in the codebook is 8.
		IQ4_XS: func(b []byte) bool {
			return b[0] == 0x00 && b[1] == 0x80 && b[2] == 0xaa && b[3] == 0xaa && b[4] == 0 && b[8] == 0x88
		},
		IQ4_NL: func(b []byte) bool { return b[0] == 0 && b[1] == 0 && b[2] == 0x88 },
	}
	for typ, ok := range want {
		size, _ := RowBytes(typ, QK_K)
		b := make([]byte, size)
		for i := range b {
			b[i] = 0x5a // must be overwritten
		}
		if err := Quantize(typ, x, b); err != nil {
			t.Fatal(err)
		}
		if !ok(b) {
			t.Errorf("%s: zero block encodes as % x", typ, b[:min(len(b), 40)])
		}
	}
}

func TestNearestInt(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want int
	}{{0, 0}, {0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {-2.49, -2}, {3.51, 4}, {-31.5, -32}, {4194303, 4194303}} {
		if got := nearestInt(c.in); got != c.want {
			t.Errorf("nearestInt(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestQuantizeErrors(t *testing.T) {
	if err := Quantize(Q4_K, make([]float32, 100), make([]byte, 144)); err == nil {
		t.Error("100 values of Q4_K accepted")
	}
	if err := Quantize(Q4_0, make([]float32, 32), make([]byte, 17)); err == nil {
		t.Error("short dst accepted")
	}
	if err := Quantize(IQ2_XXS, make([]float32, 256), make([]byte, 66)); err == nil {
		t.Error("IQ2_XXS accepted")
	}
	if CanQuantize(Q8_K) || !CanQuantize(IQ4_XS) {
		t.Error("CanQuantize is wrong")
	}
}

func BenchmarkQuantize(b *testing.B) {
	x := qRandom(1, 64*QK_K, 1)
	for _, typ := range quantTypes {
		size, _ := RowBytes(typ, int64(len(x)))
		dst := make([]byte, size)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				if err := Quantize(typ, x, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Non-finite input must not crash any quantizer (the output is garbage, as
// in llama.cpp, whose validation then rejects it).
func TestQuantizeNonFinite(t *testing.T) {
	x := qRandom(3, 2*QK_K, 1)
	x[3], x[40], x[300] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	for _, typ := range quantTypes {
		size, _ := RowBytes(typ, int64(len(x)))
		if err := Quantize(typ, x, make([]byte, size)); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}
