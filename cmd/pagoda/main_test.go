package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
)

func pagoda(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// `pagoda generate --temp 0 --json` reproduces llama.cpp's greedy ids and
// prompt ids for every stories260K F32 reference prompt.
func TestGenerateGreedyMatchesLlamaCpp(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "testdata", "ref", "stories260K", "greedy-F32.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []struct {
		Prompt    string  `json:"prompt"`
		PromptIDs []int32 `json:"prompt_ids"`
		IDs       []int32 `json:"ids"`
		Text      string  `json:"text"`
	}
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		out, stderr, code := pagoda(t, "generate", "-p", ref.Prompt, "-n", "64", "--temp", "0", "--json", "-t", "1")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got struct {
			PromptIDs []int32 `json:"prompt_ids"`
			IDs       []int32 `json:"ids"`
			Text      string  `json:"text"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if !slices.Equal(got.PromptIDs, ref.PromptIDs) || !slices.Equal(got.IDs, ref.IDs) {
			t.Errorf("prompt %q:\nprompt ids %v, want %v\nids %v\nwant %v", ref.Prompt, got.PromptIDs, ref.PromptIDs, got.IDs, ref.IDs)
		}
		if got.Text != ref.Text {
			t.Errorf("prompt %q: text %q, llama-server %q", ref.Prompt, got.Text, ref.Text)
		}
	}
	// Plain mode prints only the text (and a newline) on stdout.
	out, _, code := pagoda(t, "generate", "-p", "Once upon a time", "-n", "16", "--temp", "0")
	if code != 0 || out != refs[1].Text[:len(strings.TrimRight(out, "\n"))]+"\n" {
		t.Errorf("plain output %q", out)
	}
}

func TestTokenizeMatchesLlamaTokenize(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "testdata", "ref", "tokenize-stories260K.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Text       string  `json:"text"`
		IDsNoBOS   []int32 `json:"ids_no_bos"`
		IDsWithBOS []int32 `json:"ids_with_bos"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, withBOS := range []bool{false, true} {
			args := []string{"tokenize"}
			want := c.IDsWithBOS
			if !withBOS {
				args, want = append(args, "--no-bos"), c.IDsNoBOS
			}
			out, stderr, code := pagoda(t, append(args, "--", c.Text)...)
			var got []int32
			if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
				t.Fatalf("%q: exit %d %s %s", c.Text, code, out, stderr)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q (bos %v): %v, want %v", c.Text, withBOS, got, want)
			}
		}
	}
	// --no-parse-special keeps "<s>" as text.
	out, _, _ := pagoda(t, "tokenize", "--no-bos", "--no-parse-special", "<s>")
	if strings.TrimSpace(out) == "[1]" {
		t.Error("--no-parse-special still parsed <s>")
	}
	out, _, _ = pagoda(t, "tokenize", "--no-bos", "<s>")
	if strings.TrimSpace(out) != "[1]" {
		t.Errorf("<s> with special parsing: %s", out)
	}
}

// The llama-spm test vectors through the CLI (the tokenizer package runs
// every vocabulary; this checks the command's defaults and -m).
func TestTokenizeLlamaSPMVectors(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "tokenizer", "testdata")
	vocab := filepath.Join(dir, "ggml-vocab-llama-spm.gguf")
	inp, err := os.ReadFile(vocab + ".inp")
	if err != nil {
		t.Fatal(err)
	}
	outp, _ := os.ReadFile(vocab + ".out")
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	lines := strings.Split(string(outp), "\n")
	for i, text := range texts[:len(texts)-1] {
		out, stderr, code := pagoda(t, "tokenize", "-m", vocab, "--no-bos", "--no-parse-special", "--", text)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got []int32
		json.Unmarshal([]byte(out), &got)
		var want []int32
		for _, f := range strings.Fields(lines[i]) {
			var v int32
			json.Unmarshal([]byte(f), &v)
			want = append(want, v)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
}

func TestDetokenize(t *testing.T) {
	out, _, code := pagoda(t, "detokenize", "1", "403", "407", "261", "378")
	if code != 0 || strings.TrimSpace(out) != "<s> Once upon a time" {
		t.Errorf("detokenize: %q", out)
	}
	if _, _, code := pagoda(t, "detokenize", "99999"); code == 0 {
		t.Error("an id outside the vocabulary was accepted")
	}
}

func TestInfo(t *testing.T) {
	out, _, code := pagoda(t, "info")
	for _, want := range []string{"architecture", "llama", "blk.4.ffn_down.weight", "[172,64]", "292800", "bits per weight", "32.00"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q", want)
		}
	}
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	os.WriteFile(bad, []byte("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x0f"), 0o644)
	_, stderr, code := pagoda(t, "info", bad)
	if code == 0 || !strings.Contains(stderr, "tensor count") {
		t.Errorf("bad file: exit %d, %q", code, stderr)
	}
	if _, _, code := pagoda(t, "nonsense"); code != 2 {
		t.Errorf("unknown command exit %d", code)
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("PAGODA_N", "3")
	out, _, code := pagoda(t, "generate", "-p", "Once upon a time", "--temp", "0", "--json")
	var got struct{ IDs []int32 }
	json.Unmarshal([]byte(out), &got)
	if code != 0 || len(got.IDs) != 3 {
		t.Errorf("PAGODA_N=3 gave %d tokens", len(got.IDs))
	}
}
