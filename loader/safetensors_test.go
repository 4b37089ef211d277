package loader

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagoda-llm/pagoda/kernels"
)

func f32Bytes(xs ...float32) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func sampleSt(t *testing.T) ([]byte, []StTensor) {
	t.Helper()
	var f16, bf16 []byte
	vals := []float32{1, -2.5, 0.125, 256, -0.0, 3}
	for _, v := range vals {
		f16 = binary.LittleEndian.AppendUint16(f16, kernels.FP32ToFP16(v))
		bf16 = binary.LittleEndian.AppendUint16(bf16, kernels.FP32ToBF16(v))
	}
	ts := []StTensor{
		{Name: "b.weight", DType: "F32", Shape: []int64{2, 3}, Data: f32Bytes(vals...)},
		{Name: "a.half", DType: "F16", Shape: []int64{3, 2}, Data: f16},
		{Name: "c.bf", DType: "BF16", Shape: []int64{6}, Data: bf16},
		{Name: "d.scalar", DType: "F32", Shape: []int64{}, Data: f32Bytes(7)},
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ts
}

func TestSafetensorsRoundTrip(t *testing.T) {
	data, ts := sampleSt(t)
	if (8+binary.LittleEndian.Uint64(data))%8 != 0 {
		t.Errorf("data section not 8-byte aligned")
	}
	f, err := ParseSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata = %v", f.Metadata)
	}
	var names []string
	for _, x := range f.Tensors {
		names = append(names, x.Name)
	}
	if got := strings.Join(names, ","); got != "a.half,b.weight,c.bf,d.scalar" {
		t.Errorf("tensor order %s, want sorted by name", got)
	}
	want := []float32{1, -2.5, 0.125, 256, 0, 3}
	for _, src := range ts {
		got, ok := f.Tensor(src.Name)
		if !ok {
			t.Fatalf("missing %s", src.Name)
		}
		if !bytes.Equal(got.Data, src.Data) || got.DType != src.DType || len(got.Shape) != len(src.Shape) {
			t.Errorf("%s: got %+v", src.Name, got)
		}
		if got.Elements() != 6 {
			continue
		}
		dst := make([]float32, 6)
		if err := got.Float32s(dst); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if dst[i] != want[i] {
				t.Errorf("%s[%d] = %g, want %g", src.Name, i, dst[i], want[i])
			}
		}
	}
	if err := f.Tensors[0].Float32s(make([]float32, 5)); err == nil {
		t.Error("Float32s with a short destination succeeded")
	}
}

// header builds a file from a raw JSON header and body.
func stRaw(header string, body []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), body...)
}

func TestSafetensorsBadFiles(t *testing.T) {
	good, _ := sampleSt(t)
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"short", "at least 8", []byte{1, 2, 3}},
		{"huge header length", "limit", binary.LittleEndian.AppendUint64(nil, 1<<62)},
		{"truncated header", "truncated", good[:20]},
		{"not json", "not a JSON object", stRaw("hello", nil)},
		{"bad json", "header", stRaw(`{"a":`, nil)},
		{"unknown dtype", "unknown dtype", stRaw(`{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"offsets outside", "outside", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 4))},
		{"size mismatch", "needs", stRaw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"overflowing shape", "too large", stRaw(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"negative dim", "negative", stRaw(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"bad offsets", "data_offsets", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, make([]byte, 4))},
		{"gap", "contiguous", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8))},
		{"overlap", "contiguous", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"trailing bytes", "cover", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8))},
		{"bad metadata", "__metadata__", stRaw(`{"__metadata__":{"x":1}}`, nil)},
	}
	for _, c := range cases {
		_, err := ParseSafetensors(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	f, err := ParseSafetensors(stRaw(`{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Tensors[0].Float32s(make([]float32, 1)); err == nil || !strings.Contains(err.Error(), "I32") {
		t.Errorf("decoding I32: err = %v", err)
	}
}

func writeStFile(t *testing.T, path string, ts []StTensor) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSafetensorsDir(t *testing.T) {
	one := func(name string, v float32) StTensor {
		return StTensor{Name: name, DType: "F32", Shape: []int64{1}, Data: f32Bytes(v)}
	}
	// Single file.
	dir := t.TempDir()
	writeStFile(t, filepath.Join(dir, "model.safetensors"), []StTensor{one("y", 2), one("x", 1)})
	c, err := OpenSafetensorsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Names, ",") != "x,y" {
		t.Errorf("names %v", c.Names)
	}
	c.Close()

	// Sharded with an index.
	dir = t.TempDir()
	writeStFile(t, filepath.Join(dir, "model-00002-of-00002.safetensors"), []StTensor{one("a", 1), one("d", 4)})
	writeStFile(t, filepath.Join(dir, "model-00001-of-00002.safetensors"), []StTensor{one("c", 3), one("b", 2)})
	index := func(m map[string]string) {
		b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 16}, "weight_map": m})
		os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), b, 0o644)
	}
	good := map[string]string{"a": "model-00002-of-00002.safetensors", "d": "model-00002-of-00002.safetensors",
		"b": "model-00001-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}
	index(good)
	c, err = OpenSafetensorsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Names, ",") != "b,c,a,d" {
		t.Errorf("names %v, want shard order then name order", c.Names)
	}
	x, ok := c.Tensor("d")
	if !ok || x.File != "model-00002-of-00002.safetensors" || math.Float32frombits(binary.LittleEndian.Uint32(x.Data)) != 4 {
		t.Errorf("tensor d = %+v", x)
	}
	c.Close()

	bad := []struct {
		name string
		m    map[string]string
		want string
	}{
		{"missing shard", map[string]string{"a": "model-00002-of-00002.safetensors", "d": "model-00002-of-00002.safetensors", "z": "model-00003-of-00003.safetensors"}, "no such file"},
		{"missing tensor", map[string]string{"a": "model-00002-of-00002.safetensors", "d": "model-00002-of-00002.safetensors", "e": "model-00002-of-00002.safetensors"}, "missing from the shards: e"},
		{"unlisted tensor", map[string]string{"a": "model-00002-of-00002.safetensors"}, `"d"`},
		{"path escape", map[string]string{"a": "../model-00002-of-00002.safetensors"}, "not a plain file name"},
		{"empty", map[string]string{}, "no weight_map"},
	}
	for _, b := range bad {
		index(b.m)
		_, err := OpenSafetensorsDir(dir)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: err = %v, want it to mention %q", b.name, err, b.want)
		}
	}
	if _, err := OpenSafetensorsDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("empty dir: err = %v", err)
	}
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("garbage!garbage!"), 0o644)
	if _, err := OpenSafetensorsDir(dir); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("corrupt file: err = %v", err)
	}
}

func FuzzParseSafetensors(f *testing.F) {
	data, _ := (func() ([]byte, []StTensor) {
		var buf bytes.Buffer
		WriteSafetensors(&buf, []StTensor{
			{Name: "w", DType: "F16", Shape: []int64{2, 2}, Data: make([]byte, 8)},
			{Name: "n", DType: "F32", Shape: []int64{2}, Data: f32Bytes(1, 2)},
		}, map[string]string{"format": "pt"})
		return buf.Bytes(), nil
	})()
	f.Add(data)
	f.Add(stRaw(`{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, make([]byte, 2)))
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := ParseSafetensors(data)
		if err != nil {
			return
		}
		for i := range sf.Tensors {
			x := &sf.Tensors[i]
			if n := x.Elements(); n <= 1<<16 {
				x.Float32s(make([]float32, n))
			}
		}
	})
}
