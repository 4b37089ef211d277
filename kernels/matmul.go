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
	// packed is the interleaved copy Pack makes for the fast kernels.
	packed []byte
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

// actBufs and f32Bufs recycle MatMul's activation scratch between calls.
var actBufs, f32Bufs, extBufs sync.Pool

func byteScratch(p *sync.Pool, n int) []byte {
	if b, ok := p.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

func f32Scratch(n int) []float32 {
	if b, ok := f32Bufs.Get().(*[]float32); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]float32, n)
}

// MatMul computes dst[i*w.Rows + r] = dot(row r of w, row i of x) for the n
// rows of x (each w.Cols float32 values), the way ggml-cpu's mul_mat does:
// every activation row is converted once to w's VecDotType, then the weight
// rows are split between the pool's threads and each thread computes all n
// activation rows for its weight rows, so each weight block is read once per
// call however large n is. p may be nil (single-threaded).
//
// At a fast level (SetLevel) each thread walks its weight rows in tiles of
// weightTile rows; four activation rows at a time go through a multi-row
// kernel (one weight row × four tokens) where the format has one. (A
// four-weight-row kernel for one token was faster in cache but slower
// streaming from memory than the one-row kernel, so decode uses the latter.)
// Every multi-row kernel gives each output exactly the one-row kernel's
// result, so MatMul agrees with VecDot at every level whatever n is —
// except for the Q4_0 matrices llama.cpp repacks (Rows a multiple of 8),
// which get its repacked kernels' summation order (repack.go) at every
// level, and so do Q4_K, Q2_K and IQ4_NL matrices with Rows a multiple of
// 8 (repack_kquants.go). Matrices Pack prepared run on 16-row interleaved
// kernels (packed.go) with the same numbers. F32, F16 and BF16 matrices with
// n >= 2, Cols a multiple of 16 and Rows a multiple of 4 take llama.cpp's
// tinyBLAS order instead of VecDot's at every level (tinyblas.go).
//
// Like VecDot, it panics on a type without a dot product or on slices too
// short for the shapes; callers check shapes when a model is loaded.
func MatMul(p *Pool, dst []float32, w Matrix, x []float32, n int) {
	tr := checkMatMul(dst, w, x, n)
	if n <= 0 || w.Rows == 0 {
		return
	}
	if w.packed != nil {
		// A format with only a one-token kernel (Q6_K) packs for decode.
		if ks := current().packed[w.Type]; ks != nil && (n == 1 || len(ks) > 1) {
			matMulPacked(p, dst, w, x, n, ks)
			return
		}
	}
	if usesTinyBLAS(w, n) {
		matMulTinyBLAS(p, dst, w, x, n) // llamafile's order (tinyblas.go)
		return
	}
	if repacksQ4_0(w) {
		matMulQ4_0Reference(p, dst, w, x, n)
		return
	}
	if repacksKQuant(w) {
		matMulKRepacked(p, dst, w, x, n)
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
	d := current()
	dot, cols, rows := d.dot[w.Type], w.Cols, w.Rows
	gemm, tiled := d.gemm[w.Type]
	tiled = tiled && n >= gemmRows
	var xf []float32 // activations widened back from F16 for fnF32 kernels
	if gemm.fnF32 != nil && (tiled || gemm.rowsF32 != nil) {
		xf = f32Scratch(n * cols)
		defer f32Bufs.Put(&xf)
	}
	// Extended activations (q8Ext) for the kernels that take them: the
	// four-token tiles and/or the one-token dot of the same K.
	xdot, hasX := d.xdot[w.Type]
	extK := 0
	switch {
	case tiled && gemm.ext > 0:
		extK = gemm.ext
	case hasX:
		extK = xdot.ext
	}
	hasX = hasX && xdot.ext == extK
	var ext []byte
	nb := cols / vl.BlockSize
	erb := nb * q8ExtBytes
	if extK > 0 {
		ext = byteScratch(&extBufs, n*erb)
		defer extBufs.Put(&ext)
	}
	quant := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xr, ar := x[i*cols:(i+1)*cols], buf[i*arb:(i+1)*arb]
			if ext != nil {
				QuantizeActivations(vt, xr, ar)
				q8Ext(ext[i*erb:(i+1)*erb], ar, nb, extK)
				continue
			}
			if vt == F16 {
				d.conv.toF16(ar, xr) // same bytes as QuantizeActivations
				if xf != nil {
					d.conv.fromF16(xf[i*cols:(i+1)*cols], ar)
				}
				continue
			}
			QuantizeActivations(vt, xr, ar)
		}
	}
	p.Run(n, quant) // a single row runs on the caller
	wrb := w.rowBytes()
	p.Run(rows, func(lo, hi int) {
		var out [gemmRows]float32
		// Weight rows in tiles that stay in L1 while every activation row
		// passes over them, four at a time where a multi-row kernel exists.
		for r0 := lo; r0 < hi; r0 += weightTile {
			r1 := min(r0+weightTile, hi)
			i := 0
			if tiled {
				for ; i+gemmRows <= n; i += gemmRows {
					a := buf[i*arb:]
					for r := r0; r < r1; r++ {
						if xf != nil {
							gemm.fnF32(cols, w.Data[r*wrb:(r+1)*wrb], xf[i*cols:], cols, &out)
						} else if gemm.ext > 0 {
							gemm.fn(cols, w.Data[r*wrb:(r+1)*wrb], ext[i*erb:], erb, gemmRows, &out)
						} else {
							gemm.fn(cols, w.Data[r*wrb:(r+1)*wrb], a, arb, gemmRows, &out)
						}
						for k := range gemmRows {
							dst[(i+k)*rows+r] = out[k]
						}
					}
				}
			}
			for ; i < n; i++ {
				if xf != nil && gemm.rowsF32 != nil {
					gemm.rowsF32(cols, w.Data[r0*wrb:r1*wrb], wrb, xf[i*cols:(i+1)*cols], dst[i*rows+r0:i*rows+r1])
					continue
				}
				if hasX {
					a := ext[i*erb : (i+1)*erb]
					for r := r0; r < r1; r++ {
						dst[i*rows+r] = xdot.fn(cols, w.Data[r*wrb:(r+1)*wrb], a)
					}
					continue
				}
				a := buf[i*arb : (i+1)*arb]
				for r := r0; r < r1; r++ {
					dst[i*rows+r] = dot(cols, w.Data[r*wrb:(r+1)*wrb], a)
				}
			}
		}
	})
}

// checkMatMul panics unless MatMul can multiply w by n rows of x into dst
// (the shapes are the caller's invariants) and returns w's traits.
func checkMatMul(dst []float32, w Matrix, x []float32, n int) *Traits {
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
	return tr
}

// weightTile is how many weight rows MatMul keeps hot while the activation
// rows pass over them (16 rows of 2048 Q4_0 values are 18 KiB).
const weightTile = 16
