package quality

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/quantize"
)

func TestChunks(t *testing.T) {
	toks := make([]int32, 300)
	for i := range toks {
		toks[i] = int32(i + 10)
	}
	cs, err := Chunks(toks, 128, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d chunks, want floor(300/128) = 2", len(cs))
	}
	for i, c := range cs {
		if len(c) != 128 || c[0] != 1 || c[1] != int32(i*128+11) || c[127] != int32(i*128+137) {
			t.Errorf("chunk %d: len %d, starts %v, ends %d", i, len(c), c[:2], c[127])
		}
	}
	if toks[0] != 10 || toks[128] != 138 {
		t.Error("Chunks changed its input")
	}
	cs, _ = Chunks(toks, 128, 1, false)
	if cs[1][0] != 138 {
		t.Errorf("without BOS the first token must stay, got %d", cs[1][0])
	}
	if _, err := Chunks(toks[:255], 128, 1, true); err == nil {
		t.Error("255 tokens with a context of 128: want an error (llama-perplexity needs 2 × ctx)")
	}
	if _, err := Chunks(toks, 2, 1, true); err == nil {
		t.Error("context 2: want an error")
	}
	if Scored(128) != 63 || Scored(512) != 255 {
		t.Errorf("Scored(128) = %d, Scored(512) = %d; want 63, 255", Scored(128), Scored(512))
	}
}

// logits returns a logits row whose softmax is p (up to a shift).
func logits(p ...float64) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(math.Log(v) + 3)
	}
	return out
}

func TestScorerOneRow(t *testing.T) {
	// ctx 4: position 2 predicts token 3 (= chunk[3]).
	chunk := []int32{1, 0, 0, 2}
	sc := NewScorer(3)
	model := logits(0.25, 0.5, 0.25)
	base := logits(0.5, 0.25, 0.25)
	if err := sc.Add(chunk, model, base); err != nil {
		t.Fatal(err)
	}
	st := sc.Stats
	if st.Count != 1 || st.SameTop != 0 {
		t.Fatalf("count %d, same top %d; want 1, 0 (argmax 1 vs 0)", st.Count, st.SameTop)
	}
	ppl, _ := st.PPL()
	if want := 4.0; math.Abs(ppl-want) > 1e-5 { // -ln q(2) = ln 4
		t.Errorf("PPL %v, want %v", ppl, want)
	}
	kld, _ := st.KLD()
	if want := 0.25 * math.Ln2; math.Abs(kld-want) > 1e-6 { // 0.5 ln 2 + 0.25 ln 0.5 + 0
		t.Errorf("KLD %v, want %v", kld, want)
	}
	bp, _ := st.BasePPL()
	if math.Abs(bp-4) > 1e-5 {
		t.Errorf("base PPL %v, want 4", bp)
	}
	if err := sc.Add([]int32{1, 0, 0, 7}, model, base); err == nil {
		t.Error("a target outside the vocabulary must be an error")
	}
	if err := sc.Add(chunk, model[:2], nil); err == nil {
		t.Error("a short logits slice must be an error")
	}
}

// TestStatsUncertainties checks the ± values against an independent
// computation: the standard error of the mean, and the binomial error.
func TestStatsUncertainties(t *testing.T) {
	sc := NewScorer(4)
	var nlls, klds []float64
	same := 0
	for i := 0; i < 40; i++ {
		a := 0.1 + 0.02*float64(i%7)
		q := []float64{a, 0.3, 0.6 - a, 0.1}
		p := []float64{0.25, 0.25 + 0.01*float64(i%5), 0.4 - 0.01*float64(i%5), 0.1}
		tgt := int32(i % 4)
		if err := sc.Add([]int32{1, 0, 0, tgt}, logits(q...), logits(p...)); err != nil {
			t.Fatal(err)
		}
		nlls = append(nlls, -math.Log(q[tgt]))
		var k float64
		for j := range p {
			k += p[j] * math.Log(p[j]/q[j])
		}
		klds = append(klds, k)
		if slices.Index(q, slices.Max(q)) == slices.Index(p, slices.Max(p)) {
			same++
		}
	}
	sem := func(x []float64) (float64, float64) {
		var m float64
		for _, v := range x {
			m += v
		}
		m /= float64(len(x))
		var ss float64
		for _, v := range x {
			ss += (v - m) * (v - m)
		}
		return m, math.Sqrt(ss / float64(len(x)-1) / float64(len(x)))
	}
	st := sc.Stats
	m, e := sem(nlls)
	ppl, pplErr := st.PPL()
	if math.Abs(ppl-math.Exp(m)) > 1e-5*ppl || math.Abs(pplErr-math.Exp(m)*e) > 1e-4*pplErr {
		t.Errorf("PPL %v ± %v, want %v ± %v", ppl, pplErr, math.Exp(m), math.Exp(m)*e)
	}
	m, e = sem(klds)
	kld, kldErr := st.KLD()
	if math.Abs(kld-m) > 1e-6 || math.Abs(kldErr-e) > 1e-4*e {
		t.Errorf("KLD %v ± %v, want %v ± %v", kld, kldErr, m, e)
	}
	if st.SameTop != same {
		t.Errorf("same top %d, want %d", st.SameTop, same)
	}
	p := float64(same) / 40
	top, topErr := st.SameTopPercent()
	if math.Abs(top-100*p) > 1e-9 || math.Abs(topErr-100*math.Sqrt(p*(1-p)/39)) > 1e-9 {
		t.Errorf("same top %v ± %v", top, topErr)
	}
}

func bundledPath(t *testing.T) string {
	return filepath.Join(testutil.RepoRoot(t), "model", "bundled", "stories260K.gguf")
}

// TestRowOverridesReproduceReference checks that the automatic F16
// override for stories260K's ffn_down (rows of 172) gives exactly the
// reference file llama-quantize made with --tensor-type ffn_down=f16, and
// that types with a fallback get no override.
func TestRowOverridesReproduceReference(t *testing.T) {
	l, err := openModel(bundledPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, c := range []struct {
		typ  string
		want []string
	}{{"Q4_0", []string{"ffn_down"}}, {"IQ4_NL", []string{"ffn_down"}}, {"F16", nil}, {"Q4_K_M", nil}, {"Q2_K", nil}} {
		ft, _ := quantize.ParseFtype(c.typ)
		_, added, err := withRowOverrides(l.f, quantize.Options{Ftype: ft})
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if !slices.Equal(added, c.want) {
			t.Errorf("%s: overrides %v, want %v", c.typ, added, c.want)
		}
	}
	o, _, err := withRowOverrides(l.f, quantize.Options{Ftype: quantize.FtypeQ4_0})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "q4_0.gguf")
	if _, err := quantize.File(bundledPath(t), out, o, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	// stories260K-Q4_0.gguf in ref/stories260K/TYPES.md
	if got := hex.EncodeToString(sum[:]); got != "fd93abd9957992763c863e7e3f30934baf1e7a2e31b6c911a720cd109daed40d" {
		t.Errorf("Q4_0 with the override: sha256 %s, not llama-quantize's", got)
	}
}

// TestQuantTableSmall runs the table on a few chunks and levels.
func TestQuantTableSmall(t *testing.T) {
	rows, err := QuantTable(bundledPath(t), corpusPath(t), TableOptions{
		Ctx: 128, MaxChunks: 6, Threads: 2, Types: []string{"Q8_0", "Q4_K_M"}, TGTokens: 8, TGReps: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	f32, q8, q4 := rows[0], rows[1], rows[2]
	if f32.Type != "F32" || f32.BitsPerWeight != 32 || f32.KLD != 0 || f32.Top != 100 || f32.PctOfBase != 100 {
		t.Errorf("F32 row: %+v", f32)
	}
	// Same file as the reference Q8_0 (379,168 bytes, 9.97 BPW; ffn_down F16).
	if q8.Type != "Q8_0" || q8.FileSize != 379168 || math.Abs(q8.BitsPerWeight-9.97) > 0.005 || !slices.Equal(q8.Overrides, []string{"ffn_down"}) {
		t.Errorf("Q8_0 row: %+v", q8)
	}
	if q4.Type != "Q4_K_M" || q4.Fallbacks == 0 || len(q4.Overrides) != 0 {
		t.Errorf("Q4_K_M row: %+v (stories260K's rows of 64 and 172 need fallbacks)", q4)
	}
	if !(q8.KLD > 0 && q4.KLD > q8.KLD && q8.Top > q4.Top) {
		t.Errorf("KLD must grow and same-top fall with fewer bits: Q8_0 %v/%v, Q4_K_M %v/%v", q8.KLD, q8.Top, q4.KLD, q4.Top)
	}
	for _, r := range rows {
		if !(r.PPL > 1 && r.PPLErr > 0 && r.TGTokensPerS > 0) {
			t.Errorf("%s: PPL %v ± %v, tg %v", r.Type, r.PPL, r.PPLErr, r.TGTokensPerS)
		}
	}
	var buf bytes.Buffer
	WriteTable(&buf, rows)
	writeNotes(&buf, rows)
	out := buf.String()
	for _, want := range []string{"| type | bits/weight |", "| F32 | 32.00 | 1,185,376 | 100.0 |", "| Q8_0 | 9.97 | 379,168 | 32.0 |",
		"Q8_0: `ffn_down` kept as F16", "Q4_K_M "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	pngPath := filepath.Join(t.TempDir(), "chart.png")
	if err := WriteChart(rows, "stories260K", pngPath); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 300 {
		t.Errorf("chart is %v", b)
	}
}

func TestQualityMain(t *testing.T) {
	var out, errb bytes.Buffer
	bundled := bundledPath(t)
	if code := QualityMain([]string{"-m", bundled, "--base", bundled, "-f", corpusPath(t), "-c", "128", "--chunks", "3"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"20084 tokens, 3 chunks of 128, 189 scored positions", "Final estimate: PPL = ", "Mean KLD:       0.000000 +/- 0.000000", "Same top:       100.000 +/- 0.000 %"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, args := range [][]string{
		{},
		{"-m", bundled},
		{"-m", bundled, "-f", corpusPath(t), "extra"},
		{"-m", bundled, "-f", corpusPath(t), "-t", "0"},
	} {
		if code := QualityMain(args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code := QualityMain([]string{"-m", "/nonexistent.gguf", "-f", corpusPath(t)}, &out, &errb); code != 1 {
		t.Errorf("missing model: exit %d, want 1", code)
	}
	// Too short a text for the context.
	if code := QualityMain([]string{"-m", bundled, "-f", corpusPath(t), "-c", "16384"}, &out, &errb); code != 1 {
		t.Errorf("text shorter than 2 × ctx: exit %d, want 1", code)
	}
	if code := QuantTableMain([]string{"-m", bundled, "-f", corpusPath(t), "--types", "Q4_0,Q9_9"}, &out, &errb); code != 2 {
		t.Errorf("unknown type: exit %d, want 2", code)
	}
}
