package quality

import (
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/kernels"
)

// refRow is one row of ref/QUALITY.md (llama-perplexity -c 128 on
// stories-gen-a.txt, build 10587).
type refRow struct {
	typ         string
	ppl, pplErr float64
	kld, kldErr float64
	top, topErr float64 // percent
}

var stories260KRows = []refRow{
	{"F32", 3.0185, 0.0465, 0.000000, 0.000000, 100.000, 0.000},
	{"F16", 3.0186, 0.0465, 0.000003, 0.000000, 99.908, 0.031},
	{"BF16", 3.0200, 0.0465, 0.000069, 0.000001, 99.440, 0.075},
	{"Q8_0", 3.0206, 0.0466, 0.000654, 0.000009, 98.443, 0.125},
	{"Q4_0", 3.2348, 0.0503, 0.070898, 0.001220, 86.874, 0.341},
	{"Q4_1", 3.1857, 0.0495, 0.054366, 0.000874, 88.238, 0.325},
	{"Q5_0", 3.0694, 0.0474, 0.015101, 0.000251, 93.559, 0.248},
	{"Q5_1", 3.0720, 0.0473, 0.013031, 0.000214, 94.109, 0.238},
}

var synth256Rows = []refRow{
	{"F32", 40655.1308, 1295.4270, 0.000000, 0.000000, 99.990, 0.010},
	{"Q8_0", 40895.3164, 1303.9408, 0.005011, 0.000031, 94.444, 0.231},
	{"Q4_0", 41935.8068, 1344.3888, 0.681809, 0.003757, 44.444, 0.501},
	{"Q4_K_M", 42649.4758, 1364.0646, 0.445362, 0.002542, 53.205, 0.503},
	{"Q2_K", 36868.4052, 1181.1676, 3.513360, 0.013047, 7.519, 0.266},
	{"Q6_K", 40226.2152, 1279.2618, 0.035734, 0.000215, 85.175, 0.358},
}

// checkRow applies ref/README.md's tolerances: PPL within 0.5% relative,
// mean KLD within 10% relative (or its ± plus 0.001 for near-zero rows),
// same top within 1.5 percentage points.
func checkRow(t *testing.T, want refRow, st Stats) {
	t.Helper()
	ppl, pplErr := st.PPL()
	kld, kldErr := st.KLD()
	top, topErr := st.SameTopPercent()
	t.Logf("%-6s PPL %.4f ± %.4f (ref %.4f ± %.4f)  KLD %.6f ± %.6f (ref %.6f ± %.6f)  top %.3f ± %.3f (ref %.3f ± %.3f)",
		want.typ, ppl, pplErr, want.ppl, want.pplErr, kld, kldErr, want.kld, want.kldErr, top, topErr, want.top, want.topErr)
	if d := math.Abs(ppl/want.ppl - 1); d > 0.005 {
		t.Errorf("%s: PPL %.4f, reference %.4f (%.2f%% off, tolerance 0.5%%)", want.typ, ppl, want.ppl, 100*d)
	}
	// The PPL's own uncertainty must come out the same (same formula).
	if d := math.Abs(pplErr/want.pplErr - 1); d > 0.02 {
		t.Errorf("%s: PPL error %.4f, reference %.4f", want.typ, pplErr, want.pplErr)
	}
	if tol := math.Max(0.10*want.kld, want.kldErr+0.001); math.Abs(kld-want.kld) > tol {
		t.Errorf("%s: mean KLD %.6f, reference %.6f (tolerance %.6f)", want.typ, kld, want.kld, tol)
	}
	if math.Abs(top-want.top) > 1.5 {
		t.Errorf("%s: same top %.3f%%, reference %.3f%% (tolerance 1.5 points)", want.typ, top, want.top)
	}
}

func corpusPath(t *testing.T) string {
	t.Helper()
	return filepath.Join("testdata", "stories-gen-a.txt")
}

func storiesPath(t *testing.T, typ string) string {
	root := testutil.RepoRoot(t)
	if typ == "F32" {
		return filepath.Join(root, "model", "bundled", "stories260K.gguf")
	}
	return filepath.Join(root, "testdata", "ref", "stories260K", "stories260K-"+typ+".gguf")
}

// shortRows are the rows checked with -short: the types whose kernels are
// fast today (F32 is the base and is evaluated anyway).
var shortRows = map[string]bool{"F32": true, "F16": true, "Q8_0": true, "Q4_0": true, "Q4_K_M": true, "Q6_K": true}

// compareRows evaluates every row's model against the F32 base's recorded
// logits with -c 128 on the corpus and checks it against the reference.
func compareRows(t *testing.T, rows []refRow, path func(typ string) string, wantTokens int) {
	base, err := openModel(path("F32"))
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	chunks, nTok, err := corpusChunks(base.tok, corpusPath(t), 128, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 20,083 tokens without BOS (llama-tokenize), so 156 chunks, 9,828 scored.
	if nTok != wantTokens || len(chunks) != 156 {
		t.Fatalf("%d tokens in %d chunks, want %d tokens in 156 chunks", nTok, len(chunks), wantTokens)
	}
	pool := kernels.NewPool(runtime.NumCPU())
	defer pool.Close()
	be, err := NewEvaluator(base.m, pool, 128)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Record(be, chunks)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if testing.Short() && !shortRows[row.typ] {
			continue
		}
		t.Run(row.typ, func(t *testing.T) {
			var st Stats
			if row.typ == "F32" {
				// The base against its own recorded logits (the same
				// evaluation; a second pass would only cost time).
				sc := NewScorer(be.Vocab())
				for i, c := range chunks {
					l, _ := rec.Chunk(i, c)
					if err := sc.Add(c, l, l); err != nil {
						t.Fatal(err)
					}
				}
				st = sc.Stats
			} else {
				m, err := openModel(path(row.typ))
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				e, err := NewEvaluator(m.m, pool, 128)
				if err != nil {
					t.Fatal(err)
				}
				if st, err = Run(e, chunks, rec, nil); err != nil {
					t.Fatal(err)
				}
			}
			if st.Count != 9828 {
				t.Fatalf("%d scored positions, want 9828", st.Count)
			}
			checkRow(t, row, st)
		})
	}
}

func TestStories260KMatchesLlamaPerplexity(t *testing.T) {
	compareRows(t, stories260KRows, func(typ string) string { return storiesPath(t, typ) }, 20084)
}

func TestSynth256MatchesLlamaPerplexity(t *testing.T) {
	dir := filepath.Dir(testutil.Shared(t, "ref/synth256/synth256-F32.gguf"))
	if testing.Short() {
		t.Skip("synth256 (13 MB F32 model) is slow; runs without -short")
	}
	compareRows(t, synth256Rows, func(typ string) string {
		return filepath.Join(dir, "synth256-"+typ+".gguf")
	}, 20084)
}
