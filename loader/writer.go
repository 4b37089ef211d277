package loader

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/pagoda-llm/pagoda/kernels"
)

// Writer writes a GGUF file: the header, metadata and tensor table at once,
// then each tensor's data in order, so a file can be produced tensor by
// tensor without holding the model in memory.
type Writer struct {
	w         *bufio.Writer
	n         int64        // bytes written
	tensors   []TensorInfo // in offset order
	alignment uint64
	next      int   // index of the next tensor to write
	pos       int64 // bytes written since the start of the data section
	dataStart int64
}

// AlignmentOf returns general.alignment from kvs, or the default.
func AlignmentOf(kvs []KV) uint64 {
	for _, kv := range kvs {
		if kv.Key == "general.alignment" {
			if a, ok := kv.Value.Uint(); ok && a > 0 && a&(a-1) == 0 {
				return a
			}
		}
	}
	return DefaultAlignment
}

// LayoutTensors sets each tensor's Size from its type and shape and places
// the tensors one after another, each at the next multiple of alignment.
func LayoutTensors(tensors []TensorInfo, alignment uint64) error {
	off := uint64(0)
	for i := range tensors {
		t := &tensors[i]
		size, err := kernels.RowBytes(t.Type, t.Elements())
		if err != nil {
			return fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		t.Size = size
		t.Offset = off
		off = uint64(alignUp(int64(off)+size, int64(alignment)))
	}
	return nil
}

// NewWriter writes the header, metadata kvs and the table of tensors (whose
// Offset and Size must already be set, e.g. by LayoutTensors) to w. Tensor
// data follows with WriteTensor, in order of offset (table order for tables
// made by LayoutTensors).
func NewWriter(w io.Writer, version uint32, kvs []KV, tensors []TensorInfo) (*Writer, error) {
	if version != 2 && version != 3 {
		return nil, fmt.Errorf("gguf: cannot write version %d", version)
	}
	wr := &Writer{w: bufio.NewWriterSize(w, 1<<20), alignment: AlignmentOf(kvs)}
	wr.tensors = append([]TensorInfo(nil), tensors...)
	sort.SliceStable(wr.tensors, func(a, b int) bool { return wr.tensors[a].Offset < wr.tensors[b].Offset })
	var prevEnd uint64
	for i := range wr.tensors {
		t := &wr.tensors[i]
		if t.Offset%wr.alignment != 0 || t.Offset < prevEnd {
			return nil, fmt.Errorf("gguf: tensor %q: offset %d is not aligned or overlaps the previous tensor", t.Name, t.Offset)
		}
		prevEnd = t.Offset + uint64(t.Size)
	}
	wr.write([]byte(Magic))
	wr.u32(version)
	wr.u64(uint64(len(tensors)))
	wr.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		wr.str(kv.Key)
		wr.u32(uint32(kv.Value.Type))
		if err := wr.value(kv.Value); err != nil {
			return nil, fmt.Errorf("gguf: metadata %q: %w", kv.Key, err)
		}
	}
	for _, t := range tensors {
		wr.str(t.Name)
		wr.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			wr.u64(uint64(d))
		}
		wr.u32(uint32(t.Type))
		wr.u64(t.Offset)
	}
	header := wr.n
	wr.dataStart = header
	if len(tensors) > 0 {
		wr.dataStart = alignUp(header, int64(wr.alignment))
		wr.zeros(wr.dataStart - header)
	}
	return wr, nil
}

// write buffers b; the first write error is reported by Close (bufio keeps it).
func (wr *Writer) write(b []byte) {
	wr.w.Write(b)
	wr.n += int64(len(b))
}
func (wr *Writer) u32(x uint32) { wr.write(binary.LittleEndian.AppendUint32(nil, x)) }
func (wr *Writer) u64(x uint64) { wr.write(binary.LittleEndian.AppendUint64(nil, x)) }
func (wr *Writer) str(s string) { wr.u64(uint64(len(s))); wr.write([]byte(s)) }

var zeroPad [4096]byte

func (wr *Writer) zeros(n int64) {
	for n > 0 {
		k := min(n, int64(len(zeroPad)))
		wr.write(zeroPad[:k])
		n -= k
	}
}

func (wr *Writer) value(v Value) error {
	switch {
	case v.Type == TypeString:
		wr.str(v.str)
	case v.Type == TypeArray:
		wr.u32(uint32(v.ElemType))
		wr.u64(uint64(v.n))
		if v.ElemType == TypeString {
			for _, s := range v.strs {
				wr.str(s)
			}
		} else if len(v.raw) == v.n*v.ElemType.size() && v.ElemType.size() > 0 {
			wr.write(v.raw)
		} else {
			return fmt.Errorf("malformed array of %s", v.ElemType)
		}
	case v.Type.size() > 0 && len(v.raw) == v.Type.size():
		wr.write(v.raw)
	default:
		return fmt.Errorf("malformed value of type %s", v.Type)
	}
	return nil
}

// WriteTensor writes the data of the next tensor in offset order.
func (wr *Writer) WriteTensor(data []byte) error {
	if wr.next >= len(wr.tensors) {
		return fmt.Errorf("gguf: all %d tensors already written", len(wr.tensors))
	}
	t := &wr.tensors[wr.next]
	if int64(len(data)) != t.Size {
		return fmt.Errorf("gguf: tensor %q: got %d bytes, want %d", t.Name, len(data), t.Size)
	}
	wr.zeros(int64(t.Offset) - wr.pos)
	wr.write(data)
	wr.pos = int64(t.Offset) + t.Size
	wr.next++
	return nil
}

// Close pads the data section to the alignment and flushes. It fails if a
// tensor was not written.
func (wr *Writer) Close() error {
	if wr.next != len(wr.tensors) {
		return fmt.Errorf("gguf: only %d of %d tensors written", wr.next, len(wr.tensors))
	}
	if len(wr.tensors) > 0 {
		wr.zeros(alignUp(wr.pos, int64(wr.alignment)) - wr.pos)
	}
	return wr.w.Flush()
}

// Save writes f back out: same metadata, tensor table and data.
func (f *File) Save(w io.Writer) error {
	wr, err := NewWriter(w, f.Version, f.KV, f.Tensors)
	if err != nil {
		return err
	}
	for i := range wr.tensors {
		t, _ := f.Tensor(wr.tensors[i].Name)
		if err := wr.WriteTensor(f.TensorData(t)); err != nil {
			return err
		}
	}
	return wr.Close()
}
