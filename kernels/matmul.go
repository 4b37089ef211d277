package kernels

import (
	"fmt"
	"sync"
)

// Matrix is a 2-D tensor of Rows rows of Cols elements each, row-major, in
// format Type. A GGUF tensor of shape [Cols, Rows] (ne0 first) is one.
type Matrix struct {
	Type       Type
	Rows, Cols int
	Data       []byte
}

// rowBytes is the size of one row; Cols must be a whole number of blocks.
func (m Matrix) rowBytes() int {
	l, _ := LayoutOf(m.Type)
	return m.Cols / l.BlockSize * l.BlockBytes
}

// Row returns the bytes of row i.
func (m Matrix) Row(i int) []byte {
	rb := m.rowBytes()
	return m.Data[i*rb : (i+1)*rb]
}

// actBufs recycles the activation scratch of MatMul between calls.
var actBufs sync.Pool

// MatMul computes dst[i*w.Rows + r] = dot(row r of w, row i of x) for the n
// rows of x (each w.Cols float32 values), the way ggml-cpu's mul_mat does:
// every activation row is converted once to w's VecDotType, then the weight
// rows are split between the pool's threads and each thread computes all n
// activation rows for its weight rows, so each weight block is read once per
// call however large n is. p may be nil (single-threaded).
//
// Like VecDot, it panics on a type without a dot product or on slices too
// short for the shapes; callers check shapes when a model is loaded.
func MatMul(p *Pool, dst []float32, w Matrix, x []float32, n int) {
	tr, ok := TraitsOf(w.Type)
	if !ok || tr.VecDot == nil {
		panic(fmt.Sprintf("kernels: MatMul: no dot product for %s", w.Type))
	}
	if w.Cols%tr.BlockSize != 0 {
		panic(fmt.Sprintf("kernels: MatMul: %d columns is not a whole number of %s blocks", w.Cols, w.Type))
	}
	if len(x) < n*w.Cols || len(dst) < n*w.Rows || len(w.Data) < w.Rows*w.rowBytes() {
		panic(fmt.Sprintf("kernels: MatMul: %dx%d %s by %d rows: slices too short (x %d, dst %d, w %d bytes)",
			w.Rows, w.Cols, w.Type, n, len(x), len(dst), len(w.Data)))
	}
	if n <= 0 || w.Rows == 0 {
		return
	}
	vl, _ := LayoutOf(tr.VecDotType)
	arb := w.Cols / vl.BlockSize * vl.BlockBytes // bytes per activation row
	need := n * arb
	var buf []byte
	if b, ok := actBufs.Get().(*[]byte); ok && cap(*b) >= need {
		buf = (*b)[:need]
	} else {
		buf = make([]byte, need)
	}
	defer actBufs.Put(&buf)
	vt := tr.VecDotType
	quant := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			QuantizeActivations(vt, x[i*w.Cols:(i+1)*w.Cols], buf[i*arb:(i+1)*arb])
		}
	}
	p.Run(n, quant) // a single row runs on the caller
	wrb := w.rowBytes()
	dot, cols, rows := activeDot(w.Type), w.Cols, w.Rows
	p.Run(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			wr := w.Data[r*wrb : (r+1)*wrb]
			for i := 0; i < n; i++ {
				dst[i*rows+r] = dot(cols, wr, buf[i*arb:(i+1)*arb])
			}
		}
	})
}
