package loader

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/internal/testutil"
	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/model/bundled"
)

func TestParseBundled(t *testing.T) {
	f, err := Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || len(f.Tensors) != 48 || len(f.KV) != 19 || f.DataOffset != 14176 {
		t.Fatalf("version %d tensors %d kv %d data %d", f.Version, len(f.Tensors), len(f.KV), f.DataOffset)
	}
	// The tokenizer keys come before general.architecture in this file.
	if f.KV[0].Key == "general.architecture" {
		t.Fatalf("unexpected key order: %v", f.KV[0].Key)
	}
	arch, _ := f.Get("general.architecture")
	if s, _ := arch.Str(); s != "llama" {
		t.Fatalf("arch %v", arch)
	}
	toks, ok := mustGet(t, f, "tokenizer.ggml.tokens").Strings()
	if !ok || len(toks) != 512 || toks[1] != "<s>" || toks[259] != "▁t" {
		t.Fatalf("tokens %d %q", len(toks), toks[:4])
	}
	scores, ok := mustGet(t, f, "tokenizer.ggml.scores").Float32s()
	if !ok || len(scores) != 512 {
		t.Fatal("scores")
	}
	types, ok := mustGet(t, f, "tokenizer.ggml.token_type").Int32s()
	if !ok || len(types) != 512 || types[1] != 3 {
		t.Fatalf("token types %v", types[:4])
	}
	eps, _ := mustGet(t, f, "llama.attention.layer_norm_rms_epsilon").Float()
	if float32(eps) != 1e-5 {
		t.Fatalf("eps %v", eps)
	}
	if u, _ := mustGet(t, f, "tokenizer.ggml.padding_token_id").Uint(); u != 4294967295 {
		t.Fatalf("padding id %d", u)
	}
	emb, ok := f.Tensor("token_embd.weight")
	if !ok || emb.Type != kernels.F32 || emb.Shape[0] != 64 || emb.Shape[1] != 512 || emb.Size != 64*512*4 {
		t.Fatalf("token_embd %+v", emb)
	}
	out, _ := f.Tensor("output.weight")
	if !bytes.Equal(f.TensorData(emb), f.TensorData(out)) {
		t.Fatal("llama2.c shares the classifier: token_embd and output must be identical")
	}
}

func mustGet(t *testing.T, f *File, key string) Value {
	t.Helper()
	v, ok := f.Get(key)
	if !ok {
		t.Fatalf("missing %s", key)
	}
	return v
}

// Reading then writing every shipped file reproduces it byte for byte.
func TestRoundTripSharedFiles(t *testing.T) {
	var paths []string
	for _, dir := range []string{"models", "models/vocab", "ref/stories260K", "ref/synth256"} {
		m, _ := filepath.Glob(filepath.Join(testutil.Shared(t, dir), "*.gguf"))
		paths = append(paths, m...)
	}
	if len(paths) < 40 {
		t.Fatalf("only %d files found", len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var buf bytes.Buffer
			if err := f.Save(&buf); err != nil {
				t.Fatal(err)
			}
			orig, _ := os.ReadFile(p)
			if sha256.Sum256(buf.Bytes()) != sha256.Sum256(orig) {
				t.Fatalf("rewritten file differs: %d vs %d bytes", buf.Len(), len(orig))
			}
		})
	}
}

func TestLayoutTensorsMatchesFile(t *testing.T) {
	f, err := Parse(bundled.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	ts := append([]TensorInfo(nil), f.Tensors...)
	for i := range ts {
		ts[i].Offset, ts[i].Size = 0, 0
	}
	if err := LayoutTensors(ts, f.Alignment); err != nil {
		t.Fatal(err)
	}
	for i := range ts {
		if ts[i].Offset != f.Tensors[i].Offset || ts[i].Size != f.Tensors[i].Size {
			t.Fatalf("%s: %d/%d vs %d/%d", ts[i].Name, ts[i].Offset, ts[i].Size, f.Tensors[i].Offset, f.Tensors[i].Size)
		}
	}
}

// builder makes small GGUF files, valid or broken on purpose.
type builder struct{ bytes.Buffer }

func (b *builder) u32(x uint32) *builder { binary.Write(b, binary.LittleEndian, x); return b }
func (b *builder) u64(x uint64) *builder { binary.Write(b, binary.LittleEndian, x); return b }
func (b *builder) str(s string) *builder { b.u64(uint64(len(s))); b.WriteString(s); return b }

func header(version uint32, nTensors, nKV uint64) *builder {
	b := &builder{}
	b.WriteString("GGUF")
	return b.u32(version).u64(nTensors).u64(nKV)
}

// tensorFile builds a file with one KV and the given F32 tensors [n] at offsets.
func tensorFile(align uint32, dataLen int, tensors ...struct {
	name string
	n    uint64
	typ  uint32
	off  uint64
}) []byte {
	b := header(3, uint64(len(tensors)), 1)
	b.str("general.alignment").u32(uint32(TypeUint32)).u32(align)
	for _, t := range tensors {
		b.str(t.name).u32(1).u64(t.n).u32(t.typ).u64(t.off)
	}
	for b.Len()%int(align) != 0 {
		b.WriteByte(0)
	}
	b.Write(make([]byte, dataLen))
	return b.Bytes()
}

type tdesc = struct {
	name string
	n    uint64
	typ  uint32
	off  uint64
}

func TestBadFiles(t *testing.T) {
	good := tensorFile(32, 64, tdesc{"a", 8, 0, 0}, tdesc{"b", 8, 0, 32})
	if _, err := Parse(good); err != nil {
		t.Fatalf("good file rejected: %v", err)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"wrong magic", append([]byte("GGUX"), good[4:]...), "bad magic"},
		{"version 1", header(1, 0, 0).Bytes(), "unsupported GGUF version 1"},
		{"version 4", header(4, 0, 0).Bytes(), "unsupported GGUF version 4"},
		{"big endian", append([]byte("GGUF\x00\x00\x00\x03"), make([]byte, 16)...), "big-endian"},
		{"2^60 tensors", header(3, 1<<60, 0).Bytes(), "tensor count 1152921504606846976 is impossible"},
		{"2^60 kvs", header(3, 0, 1<<60).Bytes(), "metadata count"},
		{"10 GB string", pad(header(3, 0, 1).u64(10 << 30).Bytes()), "length 10737418240 exceeds"},
		{"10 GB array", header(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint32)).u64(10 << 30).Bytes(), "length of array \"k\""},
		{"truncated kv", header(3, 0, 1).str("k").u32(uint32(TypeUint32)).Bytes(), "truncated"},
		{"unknown value type", header(3, 0, 1).str("k").u32(99).Bytes(), "unknown value type 99"},
		{"nested array", header(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeArray)).u64(1).Bytes(), "array of arrays"},
		{"duplicate key", header(3, 0, 2).str("k").u32(uint32(TypeUint8)).u32(0).Bytes()[:0], ""},
		{"bad alignment", header(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(24).Bytes(), "power of two"},
		{"data past end", tensorFile(32, 32, tdesc{"a", 8, 0, 0}, tdesc{"b", 8, 0, 32}), "past the end"},
		{"misaligned", tensorFile(32, 96, tdesc{"a", 8, 0, 0}, tdesc{"b", 8, 0, 40}), "not a multiple of the alignment"},
		{"overlap", tensorFile(16, 64, tdesc{"a", 8, 0, 0}, tdesc{"b", 8, 0, 16}), "overlap"},
		{"unknown tensor type", tensorFile(32, 64, tdesc{"a", 8, 77, 0}), "unknown type 77"},
		{"partial block", tensorFile(32, 64, tdesc{"a", 16, uint32(kernels.Q4_0), 0}), "not a multiple of the Q4_0 block size"},
		{"duplicate tensor", tensorFile(32, 64, tdesc{"a", 8, 0, 0}, tdesc{"a", 8, 0, 32}), "duplicate tensor"},
		{"huge dims", header(3, 1, 0).str("a").u32(2).u64(1 << 62).u64(1 << 62).u32(0).u64(0).Bytes(), "overflows"},
		{"too many dims", pad(header(3, 1, 0).str("a").u32(5).Bytes()), "5 dimensions"},
	}
	dup := header(3, 0, 2)
	dup.str("k").u32(uint32(TypeUint8)).WriteByte(1)
	dup.str("k").u32(uint32(TypeUint8)).WriteByte(2)
	cases[12].data, cases[12].want = dup.Bytes(), "duplicate metadata key"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.data)
			if err == nil {
				t.Fatal("accepted a bad file")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
	if _, err := Parse([]byte("GGUX")); !errors.Is(err, ErrNotGGUF) {
		t.Fatalf("wrong magic should wrap ErrNotGGUF: %v", err)
	}
}

// pad appends bytes so that count checks pass and the case reaches its fault.
func pad(b []byte) []byte { return append(b, make([]byte, 64)...) }

func TestTruncatedEverywhere(t *testing.T) {
	data := bundled.Stories260K
	f, _ := Parse(data)
	// Cutting the file anywhere before its end is an error, never a panic.
	for cut := 0; cut < int(f.DataOffset)+64; cut += 7 {
		if _, err := Parse(data[:cut]); err == nil {
			t.Fatalf("file cut at %d accepted", cut)
		}
	}
	if _, err := Parse(data[:len(data)-1]); err == nil {
		t.Fatal("file missing its last byte accepted")
	}
}

func TestVocabOnlyFile(t *testing.T) {
	p := filepath.Join("testdata", "tiny-vocab.gguf")
	b := header(3, 0, 2)
	b.str("general.architecture").u32(uint32(TypeString)).str("llama")
	b.str("tokenizer.ggml.tokens").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(2).str("a").str("b")
	os.MkdirAll("testdata", 0o755)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.DataOffset != int64(b.Len()) {
		t.Fatalf("vocab-only data offset %d, file %d", f.DataOffset, b.Len())
	}
	var out bytes.Buffer
	if err := f.Save(&out); err != nil || !bytes.Equal(out.Bytes(), b.Bytes()) {
		t.Fatalf("vocab-only round trip: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(bundled.Stories260K[:16000])
	f.Add(tensorFile(32, 64, tdesc{"a", 8, 0, 0}, tdesc{"b", 8, 0, 32}))
	f.Add(header(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(2).str("x").str("y").Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			return
		}
		for i := range g.Tensors {
			_ = g.TensorData(&g.Tensors[i])
		}
		for _, kv := range g.KV {
			_ = kv.Value.String()
			kv.Value.Strings()
			kv.Value.Float32s()
			kv.Value.Int32s()
		}
		var buf bytes.Buffer
		if err := g.Save(&buf); err != nil {
			t.Fatalf("a parsed file failed to write: %v", err)
		}
		if _, err := Parse(buf.Bytes()); err != nil {
			t.Fatalf("a rewritten file failed to parse: %v", err)
		}
	})
}
