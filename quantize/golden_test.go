package quantize

import (
	"bytes"
	"encoding/binary"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/kernels"
)

var updateGolden = flag.Bool("update-kernels-golden", false,
	"rewrite kernels/testdata/quantize/golden.bin from ../shared/ref (llama-quantize outputs)")

// goldenSources names, per type, a llama-quantize output holding tensors of
// that type and the source file they were quantized from.
var goldenSources = []struct {
	typ      kernels.Type
	src, ref string // relative to ../shared
}{
	{kernels.F16, "models/stories260K.gguf", "ref/stories260K/stories260K-F16.gguf"},
	{kernels.BF16, "models/stories260K.gguf", "ref/stories260K/stories260K-BF16.gguf"},
	{kernels.Q8_0, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q8_0.gguf"},
	{kernels.Q4_0, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q4_0.gguf"},
	{kernels.Q4_1, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q4_1.gguf"},
	{kernels.Q5_0, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q5_0.gguf"},
	{kernels.Q5_1, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q5_1.gguf"},
	{kernels.Q2_K, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q2_K.gguf"},
	{kernels.Q3_K, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q3_K_S.gguf"},
	{kernels.Q4_K, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q4_K_S.gguf"},
	{kernels.Q5_K, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q5_K_S.gguf"},
	{kernels.Q6_K, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-Q6_K.gguf"},
	{kernels.IQ4_NL, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-IQ4_NL.gguf"},
	{kernels.IQ4_XS, "ref/synth256/synth256-F32.gguf", "ref/synth256/synth256-IQ4_XS.gguf"},
}

// goldenRows are the rows taken from each reference: the first rows of an
// attention and of an FFN matrix (the base type in every preset).
var goldenRows = []struct {
	tensor string
	rows   int
}{{"blk.0.attn_q.weight", 3}, {"blk.3.ffn_up.weight", 3}}

// TestUpdateKernelsGolden writes kernels' golden file: for each type, input
// float32 rows and llama-quantize's bytes for them. Format (little endian):
// "PQG1", count u32, then per entry: type u32, n u32, n float32, the
// quantized bytes (kernels.RowBytes(type, n)).
func TestUpdateKernelsGolden(t *testing.T) {
	if !*updateGolden {
		t.Skip("run with -update-kernels-golden to rewrite the golden file")
	}
	var buf bytes.Buffer
	buf.WriteString("PQG1")
	binary.Write(&buf, binary.LittleEndian, uint32(len(goldenSources)*len(goldenRows)))
	for _, g := range goldenSources {
		src := open(t, testutil.Shared(t, g.src))
		ref := open(t, testutil.Shared(t, g.ref))
		for _, gr := range goldenRows {
			rt, ok := ref.Tensor(gr.tensor)
			st, ok2 := src.Tensor(gr.tensor)
			if !ok || !ok2 || rt.Type != g.typ || st.Type != kernels.F32 {
				t.Fatalf("%s: %s is not %s in the reference", g.ref, gr.tensor, g.typ)
			}
			ne0 := rt.Shape[0]
			n := ne0 * int64(gr.rows)
			qb, err := kernels.RowBytes(g.typ, n)
			if err != nil {
				t.Fatal(err)
			}
			x := f32s(src.TensorData(st)[:4*n])
			binary.Write(&buf, binary.LittleEndian, uint32(g.typ))
			binary.Write(&buf, binary.LittleEndian, uint32(n))
			for _, v := range x {
				binary.Write(&buf, binary.LittleEndian, math.Float32bits(v))
			}
			buf.Write(ref.TensorData(rt)[:qb])
		}
	}
	path := filepath.Join(testutil.RepoRoot(t), "kernels", "testdata", "quantize", "golden.bin")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, buf.Len())
}
