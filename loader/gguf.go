// Package loader reads and writes GGUF files (mmap, zero-copy tensor data)
// and derives model configuration from their metadata.
package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/pagoda-llm/pagoda/kernels"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the tensor data alignment when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the most dimensions a tensor may have (GGML_MAX_DIMS).
const MaxDims = 4

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Type   kernels.Type
	Shape  []int64 // ne0 first: Shape[0] is the row length
	Offset uint64  // from File.DataOffset
	Size   int64   // bytes
}

// Elements returns the number of elements of t.
func (t *TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Rows returns the number of rows (all dimensions after the first).
func (t *TensorInfo) Rows() int64 {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Elements() / max(t.Shape[0], 1)
}

// File is a parsed GGUF file. Tensor data stays in the file's mapping.
type File struct {
	Version    uint32
	KV         []KV
	Tensors    []TensorInfo
	Alignment  uint64
	DataOffset int64

	data    []byte
	kvIndex map[string]int
	tIndex  map[string]int
	unmap   func() error
}

// Get returns the metadata value stored under key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns t's bytes: a slice of the file's mapping that must not be
// modified, valid until Close.
func (f *File) TensorData(t *TensorInfo) []byte {
	start := f.DataOffset + int64(t.Offset)
	return f.data[start : start+t.Size : start+t.Size]
}

// Size returns the file's length in bytes.
func (f *File) Size() int64 { return int64(len(f.data)) }

// Close releases the file's mapping. Tensor data must not be used after.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap, f.data = nil, nil
	return err
}

// A ParseError says what is wrong with a file and at which byte offset.
type ParseError struct {
	Offset int64
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("gguf: at byte %d: %s", e.Offset, e.Msg)
}

// ErrNotGGUF is wrapped by errors about a file that does not start with "GGUF".
var ErrNotGGUF = errors.New("not a GGUF file")

// Parse reads a GGUF file held in data. The File refers to data; it is not copied.
func Parse(data []byte) (*File, error) {
	p := &parser{b: data}
	f, err := p.file()
	if err != nil {
		return nil, err
	}
	return f, nil
}

type parser struct {
	b   []byte
	off int64
}

func (p *parser) fail(format string, args ...any) error {
	return &ParseError{Offset: p.off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) remaining() int64 { return int64(len(p.b)) - p.off }

func (p *parser) bytes(n int64, what string) ([]byte, error) {
	if n < 0 || n > p.remaining() {
		return nil, p.fail("truncated file: %s needs %d bytes, %d remain", what, n, p.remaining())
	}
	s := p.b[p.off : p.off+n : p.off+n]
	p.off += n
	return s, nil
}

func (p *parser) u32(what string) (uint32, error) {
	b, err := p.bytes(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (p *parser) u64(what string) (uint64, error) {
	b, err := p.bytes(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (p *parser) str(what string) (string, error) {
	n, err := p.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > uint64(p.remaining()) {
		p.off -= 8
		return "", p.fail("%s length %d exceeds the %d bytes left in the file", what, n, p.remaining()-8)
	}
	b, err := p.bytes(int64(n), what)
	return string(b), err
}

// count reads a 64-bit element count and checks that count elements of at
// least minSize bytes each can fit in the rest of the file, so no allocation
// is ever sized by an untrusted number beyond what the file can hold.
func (p *parser) count(what string, minSize int64) (int, error) {
	n, err := p.u64(what)
	if err != nil {
		return 0, err
	}
	if n > uint64(p.remaining()/minSize) {
		p.off -= 8
		return 0, p.fail("%s %d is impossible: the %d bytes left in the file hold at most %d", what, n, p.remaining()-8, (p.remaining()-8)/minSize)
	}
	return int(n), nil
}

func (p *parser) file() (*File, error) {
	magic, err := p.bytes(4, "magic")
	if err != nil {
		return nil, err
	}
	if string(magic) != Magic {
		p.off = 0
		return nil, fmt.Errorf("%w: %v", ErrNotGGUF, p.fail("bad magic %q, want %q", magic, Magic))
	}
	f := &File{data: p.b, kvIndex: map[string]int{}, tIndex: map[string]int{}, Alignment: DefaultAlignment}
	if f.Version, err = p.u32("version"); err != nil {
		return nil, err
	}
	switch {
	case f.Version == 2 || f.Version == 3:
	case f.Version&0xffff == 0 && f.Version>>16 != 0:
		p.off -= 4
		return nil, p.fail("big-endian GGUF (version %d byte-swapped) is not supported", f.Version>>24|f.Version>>8&0xff00)
	default:
		p.off -= 4
		return nil, p.fail("unsupported GGUF version %d (supported: 2, 3)", f.Version)
	}
	// A tensor info needs at least 8 (name len) + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
	nTensors, err := p.count("tensor count", 24)
	if err != nil {
		return nil, err
	}
	// A KV needs at least 8 (key len) + 4 (type) + 1 byte.
	nKV, err := p.count("metadata count", 13)
	if err != nil {
		return nil, err
	}
	f.KV = make([]KV, 0, nKV)
	for i := 0; i < nKV; i++ {
		start := p.off
		key, err := p.str(fmt.Sprintf("metadata key #%d", i))
		if err != nil {
			return nil, err
		}
		if _, dup := f.kvIndex[key]; dup {
			p.off = start
			return nil, p.fail("duplicate metadata key %q", key)
		}
		v, err := p.value(key)
		if err != nil {
			return nil, err
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{key, v})
	}
	if v, ok := f.Get("general.alignment"); ok {
		a, isU32 := v.Uint()
		if v.Type != TypeUint32 || !isU32 || a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("gguf: general.alignment must be a uint32 power of two, got %s %v", v.Type, v)
		}
		f.Alignment = a
	}
	f.Tensors = make([]TensorInfo, 0, nTensors)
	for i := 0; i < nTensors; i++ {
		t, err := p.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.tIndex[t.Name]; dup {
			return nil, p.fail("duplicate tensor name %q", t.Name)
		}
		f.tIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = p.off
	if nTensors > 0 {
		f.DataOffset = alignUp(p.off, int64(f.Alignment))
		if f.DataOffset > int64(len(p.b)) {
			return nil, p.fail("truncated file: tensor data would start at %d but the file has %d bytes", f.DataOffset, len(p.b))
		}
	}
	if err := f.checkTensorData(); err != nil {
		return nil, err
	}
	return f, nil
}

func alignUp(x, a int64) int64 { return (x + a - 1) / a * a }

func (p *parser) value(key string) (Value, error) {
	t, err := p.u32(fmt.Sprintf("type of %q", key))
	if err != nil {
		return Value{}, err
	}
	vt := ValueType(t)
	switch {
	case vt == TypeString:
		s, err := p.str(fmt.Sprintf("value of %q", key))
		return Value{Type: vt, str: s}, err
	case vt == TypeArray:
		return p.array(key)
	case vt.size() > 0:
		b, err := p.bytes(int64(vt.size()), fmt.Sprintf("value of %q", key))
		return Value{Type: vt, raw: b}, err
	}
	p.off -= 4
	return Value{}, p.fail("metadata %q has unknown value type %d", key, t)
}

func (p *parser) array(key string) (Value, error) {
	et, err := p.u32(fmt.Sprintf("element type of %q", key))
	if err != nil {
		return Value{}, err
	}
	v := Value{Type: TypeArray, ElemType: ValueType(et)}
	switch {
	case v.ElemType == TypeString:
		if v.n, err = p.count(fmt.Sprintf("length of array %q", key), 8); err != nil {
			return Value{}, err
		}
		v.strs = make([]string, v.n)
		for k := range v.strs {
			if v.strs[k], err = p.str(fmt.Sprintf("%q[%d]", key, k)); err != nil {
				return Value{}, err
			}
		}
	case v.ElemType.size() > 0:
		sz := int64(v.ElemType.size())
		if v.n, err = p.count(fmt.Sprintf("length of array %q", key), sz); err != nil {
			return Value{}, err
		}
		if v.raw, err = p.bytes(int64(v.n)*sz, fmt.Sprintf("array %q", key)); err != nil {
			return Value{}, err
		}
	case v.ElemType == TypeArray:
		p.off -= 4
		return Value{}, p.fail("metadata %q is an array of arrays, which is not supported", key)
	default:
		p.off -= 4
		return Value{}, p.fail("metadata %q is an array of unknown element type %d", key, et)
	}
	return v, nil
}

func (p *parser) tensorInfo(i int) (TensorInfo, error) {
	var t TensorInfo
	var err error
	if t.Name, err = p.str(fmt.Sprintf("name of tensor #%d", i)); err != nil {
		return t, err
	}
	nd, err := p.u32(fmt.Sprintf("dimension count of tensor %q", t.Name))
	if err != nil {
		return t, err
	}
	if nd > MaxDims {
		p.off -= 4
		return t, p.fail("tensor %q has %d dimensions, at most %d are supported", t.Name, nd, MaxDims)
	}
	t.Shape = make([]int64, nd)
	elems := int64(1)
	for d := range t.Shape {
		n, err := p.u64(fmt.Sprintf("dimension %d of tensor %q", d, t.Name))
		if err != nil {
			return t, err
		}
		if n > math.MaxInt64 || (n > 0 && elems > math.MaxInt64/int64(n)) {
			p.off -= 8
			return t, p.fail("tensor %q: shape overflows (dimension %d is %d)", t.Name, d, n)
		}
		t.Shape[d] = int64(n)
		elems *= int64(n)
	}
	typ, err := p.u32(fmt.Sprintf("type of tensor %q", t.Name))
	if err != nil {
		return t, err
	}
	t.Type = kernels.Type(typ)
	l, ok := kernels.LayoutOf(t.Type)
	if !ok {
		p.off -= 4
		return t, p.fail("tensor %q has unknown type %d", t.Name, typ)
	}
	if nd > 0 && t.Shape[0]%int64(l.BlockSize) != 0 {
		return t, p.fail("tensor %q: row length %d is not a multiple of the %s block size %d", t.Name, t.Shape[0], l.Name, l.BlockSize)
	}
	if elems/int64(l.BlockSize) > math.MaxInt64/int64(l.BlockBytes) {
		return t, p.fail("tensor %q: byte size overflows", t.Name)
	}
	t.Size, _ = kernels.RowBytes(t.Type, elems)
	if t.Offset, err = p.u64(fmt.Sprintf("offset of tensor %q", t.Name)); err != nil {
		return t, err
	}
	return t, nil
}

// checkTensorData verifies that every tensor is aligned, inside the file, and
// does not overlap another.
func (f *File) checkTensorData() error {
	avail := uint64(int64(len(f.data)) - f.DataOffset)
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	for _, i := range order {
		t := &f.Tensors[i]
		if t.Offset%f.Alignment != 0 {
			return fmt.Errorf("gguf: tensor %q: data offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		if t.Offset > avail || uint64(t.Size) > avail-t.Offset {
			return fmt.Errorf("gguf: tensor %q: data [%d, %d) relative to byte %d runs past the end of the file (%d bytes of data)",
				t.Name, t.Offset, t.Offset+uint64(t.Size), f.DataOffset, avail)
		}
	}
	sort.Slice(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		prev, cur := &f.Tensors[order[k-1]], &f.Tensors[order[k]]
		if prev.Offset+uint64(prev.Size) > cur.Offset {
			return fmt.Errorf("gguf: tensors %q and %q overlap (data [%d, %d) and [%d, %d))",
				prev.Name, cur.Name, prev.Offset, prev.Offset+uint64(prev.Size), cur.Offset, cur.Offset+uint64(cur.Size))
		}
	}
	return nil
}
