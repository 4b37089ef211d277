package kernels

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// refTensorBound is, per format, the allowed RMS(dequantized - F32) /
// RMS(F32) for blk.0.attn_k.weight of synth256 as llama-quantize wrote it
// (testdata/ref, see SOURCES.md there): about 1.25x the measured value in
// the comment. A block layout that differs from llama.cpp's (nibble order,
// scale packing, bit planes) gives errors of order 1.
var refTensorBound = map[Type]float64{
	Q8_0:   0.0067, // measured 0.005382
	Q6_K:   0.022,  // measured 0.01793
	Q5_0:   0.054,  // measured 0.0429
	Q5_1:   0.048,  // measured 0.03823
	Q5_K:   0.045,  // measured 0.03616
	Q4_0:   0.11,   // measured 0.08649
	Q4_1:   0.098,  // measured 0.07859
	Q4_K:   0.09,   // measured 0.07178
	IQ4_NL: 0.096,  // measured 0.07683
	IQ4_XS: 0.097,  // measured 0.07744
	Q3_K:   0.19,   // measured 0.1514
	Q2_K:   0.37,   // measured 0.2987
}

// TestRefTensorDequantize checks that llama.cpp-quantized bytes dequantize
// to the F32 tensor they came from, within each format's measured error.
func TestRefTensorDequantize(t *testing.T) {
	const n = 256 * 128
	f32, err := os.ReadFile(filepath.Join("testdata", "ref", "blk.0.attn_k.F32.bin"))
	if err != nil {
		t.Fatal(err)
	}
	want := mustDequant(F32, f32, n)
	for typ, bound := range refTensorBound {
		b, err := os.ReadFile(filepath.Join("testdata", "ref", "blk.0.attn_k."+typ.String()+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, n)
		if err := Dequantize(typ, b, got); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var se, ss float64
		for k := range got {
			d := float64(got[k]) - float64(want[k])
			se += d * d
			ss += float64(want[k]) * float64(want[k])
		}
		rel := math.Sqrt(se / ss)
		t.Logf("%-6s relative RMS error %.4g (bound %.4g)", typ, rel, bound)
		if !(rel <= bound) {
			t.Errorf("%s: relative RMS error %.4g > %.4g", typ, rel, bound)
		}
	}
}

// TestRefTensorMatMul multiplies the real quantized weights by random
// activations through MatMul and compares with the F32 weights in float64:
// the error is the weights' quantization error plus the activations', so
// the bound is the dequantization bound plus the activation format's share.
func TestRefTensorMatMul(t *testing.T) {
	const rows, cols, n = 128, 256, 3
	f32, err := os.ReadFile(filepath.Join("testdata", "ref", "blk.0.attn_k.F32.bin"))
	if err != nil {
		t.Fatal(err)
	}
	wf := mustDequant(F32, f32, rows*cols)
	x := randomFloats(newRand(31), n*cols)
	want := make([]float64, n*rows)
	var ss float64
	for i := 0; i < n; i++ {
		for r := 0; r < rows; r++ {
			var s float64
			for c := 0; c < cols; c++ {
				s += float64(wf[r*cols+c]) * float64(x[i*cols+c])
			}
			want[i*rows+r] = s
			ss += s * s
		}
	}
	pool := NewPool(2)
	defer pool.Close()
	for typ, bound := range refTensorBound {
		b, err := os.ReadFile(filepath.Join("testdata", "ref", "blk.0.attn_k."+typ.String()+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, n*rows)
		MatMul(pool, got, Matrix{Type: typ, Rows: rows, Cols: cols, Data: b}, x, n)
		var se float64
		for k := range got {
			d := float64(got[k]) - want[k]
			se += d * d
		}
		rel := math.Sqrt(se / ss)
		t.Logf("%-6s MatMul relative RMS error %.4g", typ, rel)
		// Q8_0/Q8_1/Q8_K activations add ~0.01 relative at most.
		if lim := bound + 0.01; !(rel <= lim) {
			t.Errorf("%s: MatMul relative RMS error %.4g > %.4g", typ, rel, lim)
		}
	}
}
