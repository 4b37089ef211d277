package model_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pagoda-llm/pagoda/engine"
	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
	"github.com/pagoda-llm/pagoda/model"
	"github.com/pagoda-llm/pagoda/model/bundled"
)

// greedyRef is one record of a llama.cpp greedy reference file.
type greedyRef struct {
	Prompt      string    `json:"prompt"`
	PromptIDs   []int32   `json:"prompt_ids"`
	IDs         []int32   `json:"ids"`
	TopLogprobs [][]topLP `json:"top_logprobs"`
}

type topLP struct {
	ID      int32   `json:"id"`
	Logprob float64 `json:"logprob"`
}

func readRefs(t *testing.T, path string) []greedyRef {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var refs []greedyRef
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	return refs
}

func openFile(t *testing.T, path string) *loader.File {
	t.Helper()
	if path == "" {
		f, err := loader.Parse(bundled.Stories260K)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f, err := loader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func logSoftmax(logits []float32) []float64 {
	maxL := math.Inf(-1)
	for _, x := range logits {
		maxL = math.Max(maxL, float64(x))
	}
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - maxL)
	}
	lse := maxL + math.Log(sum)
	out := make([]float64, len(logits))
	for i, x := range logits {
		out[i] = float64(x) - lse
	}
	return out
}

// tolerance is ../shared/ref/README.md's contract for one file: every
// top-5 entry within tol, the top-1 entry within top1.
type tolerance struct{ all, top1 float64 }

// checkTeacherForced feeds prompt_ids, then the reference ids one by one, and
// compares the log-softmax of the reference top-5 at every step. It also
// requires the argmax to be the reference id wherever the reference gap
// between first and second exceeds 2 × tol. It returns the worst error seen.
func checkTeacherForced(t *testing.T, m *model.Model, refs []greedyRef, tol tolerance) float64 {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	worst := 0.0
	for ri, ref := range refs {
		sess, err := engine.NewSession(m, pool, len(ref.PromptIDs)+len(ref.IDs), kernels.F16)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := sess.Eval(ref.PromptIDs, false)
		for step := range ref.IDs {
			if err != nil {
				t.Fatal(err)
			}
			lp := logSoftmax(logits)
			top := ref.TopLogprobs[step]
			for k, e := range top {
				d := math.Abs(lp[e.ID] - e.Logprob)
				worst = math.Max(worst, d)
				limit := tol.all
				if k == 0 {
					limit = tol.top1
				}
				if d > limit {
					t.Errorf("prompt %d %q step %d: logprob of %d is %.5f, llama.cpp %.5f (|Δ| %.4f > %.3f)", ri, ref.Prompt, step, e.ID, lp[e.ID], e.Logprob, d, limit)
				}
			}
			if gap := top[0].Logprob - top[1].Logprob; gap > 2*tol.all {
				if got := engine.Argmax(logits); got != ref.IDs[step] {
					t.Errorf("prompt %d step %d: argmax %d, llama.cpp %d (gap %.3f)", ri, step, got, ref.IDs[step], gap)
				}
			}
			if step+1 < len(ref.IDs) {
				logits, err = sess.Eval(ref.IDs[step:step+1], false)
			}
		}
	}
	return worst
}

// checkGreedy runs free greedy generation and requires llama.cpp's ids up to
// the first step whose reference top1−top2 gap is below 2 × tol (all of
// them when wantAll). It returns how many ids were compared.
func checkGreedy(t *testing.T, m *model.Model, refs []greedyRef, tol float64, wantAll bool) int {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	compared := 0
	for ri, ref := range refs {
		sess, err := engine.NewSession(m, pool, len(ref.PromptIDs)+len(ref.IDs), kernels.F16)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := sess.Eval(ref.PromptIDs, false)
		for step := range ref.IDs {
			if err != nil {
				t.Fatal(err)
			}
			top := ref.TopLogprobs[step]
			if !wantAll && top[0].Logprob-top[1].Logprob < 2*tol {
				break
			}
			id := engine.Argmax(logits)
			compared++
			if id != ref.IDs[step] {
				t.Errorf("prompt %d %q: greedy id %d at step %d, llama.cpp %d", ri, ref.Prompt, id, step, ref.IDs[step])
				break
			}
			logits, err = sess.Eval([]int32{id}, false)
		}
	}
	return compared
}

func TestStories260KReferences(t *testing.T) {
	for _, typ := range []string{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"} {
		t.Run(typ, func(t *testing.T) {
			path := ""
			if typ != "F32" {
				path = filepath.Join(testutil.RepoRoot(t), "testdata", "ref", "stories260K", "stories260K-"+typ+".gguf")
			}
			m, err := model.Load(openFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			refs := readRefs(t, filepath.Join(testutil.RepoRoot(t), "testdata", "ref", "stories260K", "greedy-"+typ+".json"))
			// ../shared/ref/README.md's tolerances are 0.03 (top-1 0.01) on
			// F32/F16/BF16 and 0.15 on the quantized files; pagoda holds the
			// quantized files to the tight 0.03 too. It mirrors llama.cpp's
			// x86 arithmetic (F16 KV with F16 V accumulation, ggml's SIMD
			// summation orders, the repacked Q4_0 kernels' order, glibc's
			// expf, ggml's vector exp in SwiGLU, gcc's FMA contractions in
			// RoPE and the softmax), so every quantized stories260K file
			// matches llama.cpp's log-probs to the last digit at every step.
			// With identical logits the free-running greedy ids match all
			// 64 steps of every prompt, quantized files included. F16 and
			// BF16 match to the last digit too (prompt batches take
			// llamafile's tinyBLAS order, as in llama.cpp); F32 differs by
			// 0.004 in its one-token F32 steps.
			tol := tolerance{0.03, 0.01}
			if typ != "F32" && typ != "F16" && typ != "BF16" {
				tol = tolerance{0.03, 0.03}
			}
			worst := checkTeacherForced(t, m, refs, tol)
			n := checkGreedy(t, m, refs, tol.all, true)
			t.Logf("%s: worst |Δ logprob| %.4f; %d greedy ids compared", typ, worst, n)
		})
	}
}

// The 128-token story from BOS alone (../shared/models/SOURCES.md), which
// also matches llama2.c's documented temperature-0 output.
func TestStories260KStoryFromBOS(t *testing.T) {
	want := []int32{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
		410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352,
		266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415,
		426, 13, 438, 310, 439, 419, 357, 336, 432, 313, 438, 310, 432, 278, 316, 439, 419, 298, 414, 267,
		265, 282, 295, 433, 426, 436, 317, 286, 296, 418, 269, 279, 292, 416, 439, 413, 409, 416, 327, 263,
		415, 294, 267, 400, 426, 338, 336, 432, 313, 442, 391, 267, 337, 335, 364, 420, 268, 388, 432, 398,
		359, 280, 303, 439, 413, 272, 417, 264}
	m, err := model.Load(openFile(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := engine.NewSession(m, nil, 129, kernels.F16)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := sess.Eval([]int32{1}, false)
	for i, w := range want {
		if err != nil {
			t.Fatal(err)
		}
		id := engine.Argmax(logits)
		if id != w {
			t.Fatalf("step %d: %d, want %d", i, id, w)
		}
		logits, err = sess.Eval([]int32{id}, false)
	}
}

// synth256Types are the files of ../shared/ref/synth256 whose types pagoda
// computes with.
var synth256Types = []string{"F32", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
	"Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"}

func TestSynth256References(t *testing.T) {
	dir := testutil.Shared(t, "ref/synth256")
	for _, typ := range synth256Types {
		t.Run(typ, func(t *testing.T) {
			m, err := model.Load(openFile(t, filepath.Join(dir, fmt.Sprintf("synth256-%s.gguf", typ))))
			if err != nil {
				t.Fatal(err)
			}
			refs := readRefs(t, filepath.Join(dir, "greedy-"+typ+".json"))
			// The README suggests 0.5 for the quantized files; pagoda
			// mirrors llama.cpp's x86 K-quant and IQ4 dot products and its
			// repacked Q4_0/Q4_K/Q2_K/IQ4_NL kernels, so every quantized
			// file matches to the last digit: the tight 0.03 holds, and so
			// do all greedy ids, and for F32 too since prompt batches take
			// llamafile's tinyBLAS order as in llama.cpp.
			tol := tolerance{0.03, 0.03}
			if typ == "F32" {
				tol = tolerance{0.03, 0.01}
			}
			worst := checkTeacherForced(t, m, refs, tol)
			n := checkGreedy(t, m, refs, tol.all, true)
			t.Logf("%s: worst |Δ logprob| %.4f; %d greedy ids compared", typ, worst, n)
		})
	}
}
