package quantize

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagoda-llm/pagoda/kernels"
	"github.com/pagoda-llm/pagoda/loader"
)

// ggmlQuantVersion is GGML_QNT_VERSION, written as general.quantization_version.
const ggmlQuantVersion = 2

// outVersion is the GGUF version llama.cpp writes.
const outVersion = 3

// chunkElems bounds the float32 scratch of one worker (4 MiB), so memory
// stays near the size of the largest output tensor.
const chunkElems = 1 << 20

// Summary describes a finished quantization.
type Summary struct {
	Tensors     int
	Quantized   int // tensors whose type changed
	Fallbacks   int // tensors that got a fallback type for their row length
	Elements    int64
	InBytes     int64 // tensor data of the input
	OutBytes    int64 // tensor data of the output
	OutFileSize int64
	Duration    time.Duration
}

// BitsPerWeight returns the input's and output's average bits per weight.
func (s Summary) BitsPerWeight() (in, out float64) {
	if s.Elements == 0 {
		return 0, 0
	}
	return float64(s.InBytes) * 8 / float64(s.Elements), float64(s.OutBytes) * 8 / float64(s.Elements)
}

// Progress receives one call per tensor, after it is written.
type Progress func(i, n int, c Choice, inBytes, outBytes int64)

// OutputKV returns the output metadata: the input's, without split keys, and
// with general.quantization_version and general.file_type moved to the end
// (llama-quantize removes and re-adds them, in that order).
func OutputKV(in []loader.KV, ft Ftype) []loader.KV {
	drop := map[string]bool{
		"general.quantization_version": true, "general.file_type": true,
		"split.no": true, "split.count": true, "split.tensors.count": true,
	}
	var out []loader.KV
	for _, kv := range in {
		if drop[kv.Key] {
			continue
		}
		// gguf_set_kv replaces a repeated key and moves it to the end.
		for i := range out {
			if out[i].Key == kv.Key {
				out = append(out[:i], out[i+1:]...)
				break
			}
		}
		out = append(out, kv)
	}
	return append(out,
		loader.KV{Key: "general.quantization_version", Value: loader.Uint32Value(ggmlQuantVersion)},
		loader.KV{Key: "general.file_type", Value: loader.Uint32Value(uint32(ft))})
}

// File quantizes the GGUF file at inPath into outPath. Tensors are read with
// pread and processed one at a time, split by rows over o.Threads
// goroutines, so memory stays near the size of the largest output tensor.
// The output is written to a temporary file renamed into place at the end.
func File(inPath, outPath string, o Options, progress Progress) (Summary, error) {
	start := time.Now()
	var sum Summary
	in, err := loader.Open(inPath)
	if err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	defer in.Close()
	fd, err := os.Open(inPath)
	if err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	defer fd.Close()

	plan, err := Plan(ModelInfoFrom(in.KV), in.Tensors, o)
	if err != nil {
		return sum, err
	}
	for _, c := range plan {
		if c.From == c.To {
			continue
		}
		if isQuantized(c.From) && !o.AllowRequantize {
			return sum, fmt.Errorf("quantize: tensor %q: requantizing from type %s is disabled (use --allow-requantize)", c.Name, lowerName(c.From))
		}
		if _, ok := kernels.TraitsOf(c.From); !ok {
			return sum, fmt.Errorf("quantize: tensor %q: pagoda cannot read type %s", c.Name, c.From)
		}
		if !kernels.CanQuantize(c.To) {
			return sum, fmt.Errorf("quantize: tensor %q: pagoda cannot quantize to %s", c.Name, c.To)
		}
		if _, err := kernels.RowBytes(c.To, c.Shape[0]); err != nil {
			return sum, fmt.Errorf("quantize: tensor %q: %w", c.Name, err)
		}
	}

	kvs := OutputKV(in.KV, o.Ftype)
	infos := make([]loader.TensorInfo, len(plan))
	for i, c := range plan {
		infos[i] = loader.TensorInfo{Name: c.Name, Type: c.To, Shape: c.Shape[:nDims(c.Shape)]}
	}
	if err := loader.LayoutTensors(infos, loader.AlignmentOf(kvs)); err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}

	tmp := outPath + ".tmp"
	of, err := os.Create(tmp)
	if err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			of.Close()
			os.Remove(tmp)
		}
	}()
	w, err := loader.NewWriter(of, outVersion, kvs, infos)
	if err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	var buf []byte
	for i, c := range plan {
		src, _ := in.Tensor(c.Name)
		size := infos[i].Size
		if int64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		out := buf[:size]
		if err := convertTensor(fd, in.DataOffset+int64(src.Offset), src, c, out, threads); err != nil {
			return sum, fmt.Errorf("quantize: tensor %q: %w", c.Name, err)
		}
		if err := w.WriteTensor(out); err != nil {
			return sum, fmt.Errorf("quantize: %w", err)
		}
		sum.Tensors++
		if c.From != c.To {
			sum.Quantized++
		}
		if c.Fallback {
			sum.Fallbacks++
		}
		sum.Elements += src.Elements()
		sum.InBytes += src.Size
		sum.OutBytes += size
		if progress != nil {
			progress(i, len(plan), c, src.Size, size)
		}
	}
	if err := w.Close(); err != nil {
		return sum, fmt.Errorf("quantize: writing %s: %w", outPath, err)
	}
	if err := of.Sync(); err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	st, err := of.Stat()
	if err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	if err := of.Close(); err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	if err := os.Rename(tmp, outPath); err != nil {
		return sum, fmt.Errorf("quantize: %w", err)
	}
	ok = true
	sum.OutFileSize = st.Size()
	sum.Duration = time.Since(start)
	return sum, nil
}

// convertTensor fills out with tensor c converted to c.To. Work is handed out
// in chunks of whole rows; each worker preads its rows of the source.
func convertTensor(r io.ReaderAt, off int64, src *loader.TensorInfo, c Choice, out []byte, threads int) error {
	ne0, rows := int64(1), src.Rows()
	if len(src.Shape) > 0 {
		ne0 = src.Shape[0]
	}
	if ne0 == 0 || rows == 0 {
		return nil
	}
	inRow, err := kernels.RowBytes(src.Type, ne0)
	if err != nil {
		return err
	}
	outRow, err := kernels.RowBytes(c.To, ne0)
	if err != nil {
		return err
	}
	if c.From == c.To {
		// A copy: one pread of the whole tensor.
		_, err := r.ReadAt(out, off)
		return err
	}
	// Chunks small enough that every thread gets several (load balance),
	// and no larger than chunkElems (memory).
	chunkRows := max(1, min(chunkElems/ne0, (rows+int64(4*threads)-1)/int64(4*threads)))
	nChunks := (rows + chunkRows - 1) / chunkRows
	threads = int(min(int64(threads), nChunks))
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var raw []byte
			var f32 []float32
			for {
				k := next.Add(1) - 1
				if k >= nChunks {
					return
				}
				r0 := k * chunkRows
				nr := min(chunkRows, rows-r0)
				n := nr * ne0
				if int64(cap(raw)) < nr*inRow {
					raw = make([]byte, nr*inRow)
				}
				if int64(cap(f32)) < n {
					f32 = make([]float32, n)
				}
				rb, fb := raw[:nr*inRow], f32[:n]
				err := func() error {
					if _, err := r.ReadAt(rb, off+r0*inRow); err != nil {
						return err
					}
					if err := toFloat32(src.Type, rb, fb); err != nil {
						return err
					}
					return kernels.Quantize(c.To, fb, out[r0*outRow:(r0+nr)*outRow])
				}()
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(nChunks) // stop the others early
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// toFloat32 expands src of type t into dst.
func toFloat32(t kernels.Type, src []byte, dst []float32) error {
	if t == kernels.F32 {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
		return nil
	}
	if err := kernels.Dequantize(t, src, dst); err != nil {
		return errors.Join(fmt.Errorf("cannot convert from %s", t), err)
	}
	return nil
}
