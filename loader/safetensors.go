package loader

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pagoda-llm/pagoda/kernels"
)

// Safetensors files (Hugging Face): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
// then the tensor bytes, row-major, little-endian, offsets relative to the
// end of the header.

// MaxSafetensorsHeader is the largest JSON header accepted, the same limit
// as the reference implementation (100 MB), so a corrupt length cannot make
// us read or allocate gigabytes.
const MaxSafetensorsHeader = 100 << 20

// StTensor is one tensor of a safetensors file.
type StTensor struct {
	Name  string
	DType string  // "F32", "F16", "BF16", ... as in the file
	Shape []int64 // outermost dimension first (PyTorch order); Shape[len-1] is the row length
	Data  []byte  // the tensor's bytes inside the file's mapping
	File  string  // the file it came from (base name), for messages
}

// Elements returns the number of elements of t.
func (t *StTensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// stDTypeSizes are the element sizes of the dtypes the format defines.
var stDTypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// Float32s decodes t (F32, F16 or BF16) into dst, which must hold
// t.Elements() values.
func (t *StTensor) Float32s(dst []float32) error {
	n := t.Elements()
	if int64(len(dst)) != n {
		return fmt.Errorf("safetensors: tensor %q: %d elements, destination holds %d", t.Name, n, len(dst))
	}
	switch t.DType {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case "F16":
		for i := range dst {
			dst[i] = kernels.FP16ToFP32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	case "BF16":
		for i := range dst {
			dst[i] = kernels.BF16ToFP32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	default:
		return fmt.Errorf("safetensors: tensor %q: dtype %s is not supported (F32, F16, BF16)", t.Name, t.DType)
	}
	return nil
}

// StFile is a parsed safetensors file. Tensor data stays in the file's
// mapping.
type StFile struct {
	Metadata map[string]string
	Tensors  []StTensor // sorted by name
	index    map[string]int
	unmap    func() error
}

// Tensor returns the tensor called name.
func (f *StFile) Tensor(name string) (*StTensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// Close releases the file's mapping; tensor data must not be used after.
func (f *StFile) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap = nil
	for i := range f.Tensors {
		f.Tensors[i].Data = nil
	}
	return err
}

// ErrNotSafetensors is wrapped by errors about data that is not a
// safetensors file at all (too short, or a header that is not JSON).
var ErrNotSafetensors = errors.New("not a safetensors file")

type stEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// ParseSafetensors reads a safetensors file held in data; the tensors refer
// to data, which is not copied. Every offset and size is checked against
// len(data), and the tensors must tile the data section exactly (as the
// reference implementation requires), so a file that parses is safe to read.
func ParseSafetensors(data []byte) (*StFile, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: %w: %d bytes, need at least 8", ErrNotSafetensors, len(data))
	}
	hlen := binary.LittleEndian.Uint64(data)
	if hlen > MaxSafetensorsHeader {
		return nil, fmt.Errorf("safetensors: %w: header length %d exceeds the %d-byte limit", ErrNotSafetensors, hlen, MaxSafetensorsHeader)
	}
	if hlen > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: truncated file: header length %d, but only %d bytes follow", hlen, len(data)-8)
	}
	header := data[8 : 8+hlen]
	body := data[8+hlen:]
	if len(bytes.TrimSpace(header)) == 0 || bytes.TrimSpace(header)[0] != '{' {
		return nil, fmt.Errorf("safetensors: %w: header is not a JSON object", ErrNotSafetensors)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: %w: header: %v", ErrNotSafetensors, err)
	}
	f := &StFile{index: make(map[string]int, len(raw))}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &f.Metadata); err != nil {
			return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %v", err)
		}
		delete(raw, "__metadata__")
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	f.Tensors = make([]StTensor, 0, len(names))
	type span struct{ begin, end int64 }
	spans := make([]span, 0, len(names))
	for _, name := range names {
		var e stEntry
		if err := json.Unmarshal(raw[name], &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: bad entry: %v", name, err)
		}
		size, ok := stDTypeSizes[e.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets must be [begin, end], got %v", name, e.DataOffsets)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(body)) {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] outside the %d-byte data section", name, begin, end, len(body))
		}
		// The element count times the dtype size must equal the span; compute
		// it without overflow so huge dimensions are rejected, not wrapped.
		n := uint64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, e.Shape)
			}
			hi, lo := bits.Mul64(n, uint64(d))
			if hi != 0 || lo > math.MaxInt64 {
				return nil, fmt.Errorf("safetensors: tensor %q: shape %v is too large", name, e.Shape)
			}
			n = lo
		}
		hi, nbytes := bits.Mul64(n, uint64(size))
		if hi != 0 || nbytes != uint64(end-begin) {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d×%d bytes, data_offsets give %d", name, e.Shape, e.DType, n, size, end-begin)
		}
		f.index[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, StTensor{Name: name, DType: e.DType, Shape: e.Shape, Data: body[begin:end:end]})
		spans = append(spans, span{begin, end})
	}
	// The tensors must cover the data section without gaps or overlaps.
	sort.Slice(spans, func(a, b int) bool { return spans[a].begin < spans[b].begin })
	pos := int64(0)
	for _, s := range spans {
		if s.begin != pos {
			return nil, fmt.Errorf("safetensors: tensor data is not contiguous: a tensor starts at %d, expected %d (gap or overlap)", s.begin, pos)
		}
		pos = s.end
	}
	if pos != int64(len(body)) {
		return nil, fmt.Errorf("safetensors: tensors cover %d bytes of the %d-byte data section", pos, len(body))
	}
	return f, nil
}

// OpenSafetensors maps and parses the safetensors file at path.
func OpenSafetensors(path string) (*StFile, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := ParseSafetensors(data)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	base := filepath.Base(path)
	for i := range f.Tensors {
		f.Tensors[i].File = base
	}
	f.unmap = unmap
	return f, nil
}

// StCheckpoint is the set of safetensors files of one model: a single
// model.safetensors, or the shards listed by model.safetensors.index.json.
type StCheckpoint struct {
	Files   []*StFile
	Names   []string // all tensor names: files in name order, tensors by name within each file (llama.cpp's order)
	tensors map[string]*StTensor
}

// Tensor returns the tensor called name from whichever shard holds it.
func (c *StCheckpoint) Tensor(name string) (*StTensor, bool) {
	t, ok := c.tensors[name]
	return t, ok
}

// Close releases every shard.
func (c *StCheckpoint) Close() error {
	var first error
	for _, f := range c.Files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// OpenSafetensorsDir opens the safetensors checkpoint in dir. With
// model.safetensors.index.json the shards are those its weight_map names,
// and the tensors found must be exactly those it lists; otherwise every
// model*.safetensors file is read.
func OpenSafetensorsDir(dir string) (*StCheckpoint, error) {
	var parts []string
	var weightMap map[string]string
	indexPath := filepath.Join(dir, "model.safetensors.index.json")
	if b, err := os.ReadFile(indexPath); err == nil {
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(b, &idx); err != nil {
			return nil, fmt.Errorf("safetensors: %s: %w", indexPath, err)
		}
		if len(idx.WeightMap) == 0 {
			return nil, fmt.Errorf("safetensors: %s has no weight_map", indexPath)
		}
		weightMap = idx.WeightMap
		seen := map[string]bool{}
		for name, part := range weightMap {
			// Shards live beside the index; a path could read any file.
			if part == "" || part != filepath.Base(part) || part == "." || part == ".." || strings.ContainsAny(part, `/\`) {
				return nil, fmt.Errorf("safetensors: %s: tensor %q names shard %q, which is not a plain file name", indexPath, name, part)
			}
			if !seen[part] {
				seen[part] = true
				parts = append(parts, part)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("safetensors: %w", err)
	} else {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			if !e.IsDir() && strings.HasPrefix(n, "model") && strings.HasSuffix(n, ".safetensors") {
				parts = append(parts, n)
			}
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("safetensors: no model*.safetensors files in %s", dir)
		}
	}
	sort.Strings(parts)
	c := &StCheckpoint{tensors: map[string]*StTensor{}}
	for _, part := range parts {
		f, err := OpenSafetensors(filepath.Join(dir, part))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Files = append(c.Files, f)
		for i := range f.Tensors {
			t := &f.Tensors[i]
			if prev, dup := c.tensors[t.Name]; dup {
				c.Close()
				return nil, fmt.Errorf("safetensors: tensor %q is in both %s and %s", t.Name, prev.File, part)
			}
			if weightMap != nil && weightMap[t.Name] != part {
				c.Close()
				if weightMap[t.Name] == "" {
					return nil, fmt.Errorf("safetensors: tensor %q in %s is not in model.safetensors.index.json", t.Name, part)
				}
				return nil, fmt.Errorf("safetensors: tensor %q is in %s, but the index puts it in %s", t.Name, part, weightMap[t.Name])
			}
			c.tensors[t.Name] = t
			c.Names = append(c.Names, t.Name)
		}
	}
	if weightMap != nil {
		var missing []string
		for name, part := range weightMap {
			if _, ok := c.tensors[name]; !ok {
				missing = append(missing, fmt.Sprintf("%s (in %s)", name, part))
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			c.Close()
			if len(missing) > 5 {
				missing = append(missing[:5], fmt.Sprintf("and %d more", len(missing)-5))
			}
			return nil, fmt.Errorf("safetensors: tensors listed in the index are missing from the shards: %s", strings.Join(missing, ", "))
		}
	}
	return c, nil
}

// WriteSafetensors writes tensors (in the given order) as a safetensors file:
// the inverse of ParseSafetensors, used by tests and tools that make
// checkpoints. Data of each tensor must match its dtype and shape.
func WriteSafetensors(w interface{ Write([]byte) (int, error) }, tensors []StTensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	off := int64(0)
	for _, t := range tensors {
		size, ok := stDTypeSizes[t.DType]
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if t.Elements()*size != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int64{}
		}
		header[t.Name] = stEntry{DType: t.DType, Shape: shape, DataOffsets: []int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	h, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	// Pad the header with spaces so the data starts 8-byte aligned, as the
	// reference writer does.
	for (8+len(h))%8 != 0 {
		h = append(h, ' ')
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(h)))); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}
