package kernels_test

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// relRMSBound is, per tensor type, the largest allowed RMS(dequantized -
// F32) / RMS(F32) over the tensors of llama.cpp's quantized reference files.
// The bounds are about 1.25x the worst value measured on those files (see
// the comment beside each); a wrong block layout gives errors of order 1.
var relRMSBound = map[kernels.Type]float64{
	kernels.F16:    0.00026, // measured 0.000209 (and every value is the exact f16 rounding)
	kernels.BF16:   0.0025,  // measured 0.00197
	kernels.Q8_0:   0.0078,  // measured 0.00617
	kernels.Q6_K:   0.023,   // measured 0.0179
	kernels.Q5_0:   0.063,   // measured 0.0498
	kernels.Q5_1:   0.053,   // measured 0.0418
	kernels.Q5_K:   0.046,   // measured 0.0363
	kernels.Q4_0:   0.12,    // measured 0.0960
	kernels.Q4_1:   0.11,    // measured 0.0881
	kernels.Q4_K:   0.09,    // measured 0.0718
	kernels.IQ4_NL: 0.097,   // measured 0.0768
	kernels.IQ4_XS: 0.097,   // measured 0.0774
	kernels.Q3_K:   0.19,    // measured 0.152
	kernels.Q2_K:   0.375,   // measured 0.299
}

// TestReferenceFilesDequantize dequantizes every tensor of llama.cpp's
// quantized synth256 and stories260K files whose type pagoda computes, and
// compares it with the same tensor of the F32 file they were made from.
func TestReferenceFilesDequantize(t *testing.T) {
	pairs := map[string]string{} // quantized file -> its F32 source
	synthF32 := testutil.Shared(t, "ref/synth256/synth256-F32.gguf")
	storiesF32 := testutil.Shared(t, "models/stories260K.gguf")
	for _, glob := range []struct{ pattern, src string }{
		{"ref/synth256/synth256-*.gguf", synthF32},
		{"ref/stories260K/stories260K-*.gguf", storiesF32},
	} {
		dir := filepath.Dir(filepath.Dir(filepath.Dir(synthF32))) // the shared folder
		files, err := filepath.Glob(filepath.Join(dir, glob.pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f != glob.src {
				pairs[f] = glob.src
			}
		}
	}
	if len(pairs) < 20 {
		t.Fatalf("found only %d reference files", len(pairs))
	}

	worst := map[kernels.Type]float64{}
	worstName := map[kernels.Type]string{}
	sources := map[string]*loader.File{}
	for q, src := range pairs {
		ref, ok := sources[src]
		if !ok {
			var err error
			if ref, err = loader.Open(src); err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			sources[src] = ref
		}
		f, err := loader.Open(q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Tensors {
			ti := &f.Tensors[i]
			if _, ok := kernels.TraitsOf(ti.Type); !ok || ti.Type == kernels.F32 {
				continue
			}
			ri, ok := ref.Tensor(ti.Name)
			if !ok || ri.Type != kernels.F32 || ri.Elements() != ti.Elements() {
				t.Errorf("%s: tensor %s has no F32 counterpart of the same size", filepath.Base(q), ti.Name)
				continue
			}
			got := make([]float32, ti.Elements())
			if err := kernels.Dequantize(ti.Type, f.TensorData(ti), got); err != nil {
				t.Errorf("%s: %s: %v", filepath.Base(q), ti.Name, err)
				continue
			}
			want := make([]float32, ri.Elements())
			if err := kernels.Dequantize(kernels.F32, ref.TensorData(ri), want); err != nil {
				t.Fatal(err)
			}
			// llama-quantize converts to F16/BF16 by rounding to nearest even:
			// those tensors must match the rounding exactly.
			exact := map[kernels.Type]func(float32) float32{
				kernels.F16:  func(v float32) float32 { return kernels.FP16ToFP32(kernels.FP32ToFP16(v)) },
				kernels.BF16: func(v float32) float32 { return kernels.BF16ToFP32(kernels.FP32ToBF16(v)) },
			}[ti.Type]
			var se, ss float64
			for k := range got {
				if exact != nil && got[k] != exact(want[k]) {
					t.Errorf("%s: %s[%d] = %v, want %s rounding of %v", filepath.Base(q), ti.Name, k, got[k], ti.Type, want[k])
					break
				}
				d := float64(got[k]) - float64(want[k])
				se += d * d
				ss += float64(want[k]) * float64(want[k])
			}
			rel := math.Sqrt(se / ss)
			if rel > worst[ti.Type] || math.IsNaN(rel) {
				worst[ti.Type] = rel
				worstName[ti.Type] = filepath.Base(q) + ":" + ti.Name
			}
		}
		f.Close()
	}
	var types []kernels.Type
	for typ := range worst {
		types = append(types, typ)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	var report strings.Builder
	for _, typ := range types {
		fmt.Fprintf(&report, "\n%-7s worst relative RMS %.4g (%s)", typ, worst[typ], worstName[typ])
		bound, ok := relRMSBound[typ]
		if !ok {
			t.Errorf("%s: no bound", typ)
			continue
		}
		if !(worst[typ] <= bound) {
			t.Errorf("%s: relative RMS error %.4g in %s exceeds %.4g", typ, worst[typ], worstName[typ], bound)
		}
	}
	for typ := range relRMSBound {
		if _, ok := worst[typ]; !ok {
			t.Errorf("no reference tensor of type %s was checked", typ)
		}
	}
	t.Log(report.String())
}
