package kernels

import (
	"encoding/binary"
	"math"
)

// Repacked Q4_0 matrices.
//
// llama.cpp's CPU backend copies every Q4_0 weight matrix whose row count is
// a multiple of 8 into an interleaved layout when it loads a model
// (ggml-cpu/repack.cpp, block_q4_0x8) and multiplies it with kernels that
// sum each output block after block as
//
//	acc = fma(float(Σ q·a over the block), d_w·d_a, acc)
//
// instead of vec_dot's eight float lanes. pagoda does the same for the same
// matrices so that its logits match llama.cpp's to the bit: which order a
// matrix gets depends only on its shape, never on the CPU level. The packed
// layout below only serves the fast kernels; the reference computes the
// same numbers from the plain rows.
//
// Packed layout (packed.go): for group g and block b, q4Pack bytes:
//
//	[0:32)    the 16 rows' f16 scales
//	[32:288)  four chunks of 64 bytes; chunk j holds, for row r, the four
//	          bytes qs[4j:4j+4] of its block: low nibbles are quants 4j..4j+3,
//	          high nibbles quants 16+4j..16+4j+3
//
// so one 64-byte load gives sixteen rows × four quants, the shape of one
// VPDPBUSD against four broadcast activation bytes.
const q4Pack = packRows * 18

// repacksQ4_0 reports whether m gets llama.cpp's repacked summation order.
func repacksQ4_0(m Matrix) bool { return m.Type == Q4_0 && m.Rows%8 == 0 }

// packQ4_0 writes one Q4_0 block (18 bytes) as lane `lane` of a packed
// block (scales, then four chunks of four bytes per row).
func packQ4_0(dst, src []byte, lane int) {
	copy(dst[2*lane:2*lane+2], src[:2])
	for j := 0; j < 4; j++ {
		copy(dst[32+64*j+4*lane:32+64*j+4*lane+4], src[2+4*j:6+4*j])
	}
}

// dotQ4_0Repacked is the reference dot product of a Q4_0 row with a Q8_0
// row in the order of llama.cpp's repacked kernels
// (ggml_gemv_q4_0_8x8_q8_0 / ggml_gemm_q4_0_8x8_q8_0): an exact integer sum
// per block, then one fused multiply-add per block into a single float.
func dotQ4_0Repacked(n int, w, a []byte) float32 {
	acc := float32(0)
	for b := 0; b < n/32; b++ {
		x, y := w[18*b:18*b+18], a[34*b:34*b+34]
		isum := int32(0)
		for j := 0; j < 16; j++ {
			isum += (int32(x[2+j]&15)-8)*int32(int8(y[2+j])) + (int32(x[2+j]>>4)-8)*int32(int8(y[18+j]))
		}
		scale := float32(loadHalf(x) * loadHalf(y)) // rounded before the fma, as _mm256_mul_ps
		acc = fmaf(float32(isum), scale, acc)
	}
	return acc
}

// q8SumBytes is the size of one block of the activations the packed
// kernels read: int32 c = -8·Σq (so unsigned nibbles need no sign fix),
// the scale as float32, then the 32 quants.
const q8SumBytes = 40

// q8Sum rewrites the Q8_0 row a (nb blocks) in that form into dst.
func q8Sum(dst, a []byte, nb int) {
	for b := 0; b < nb; b++ {
		src, out := a[34*b:34*b+34], dst[q8SumBytes*b:q8SumBytes*(b+1)]
		s := int32(0)
		for _, q := range src[2:] {
			s += int32(int8(q))
		}
		binary.LittleEndian.PutUint32(out[0:], uint32(-8*s))
		binary.LittleEndian.PutUint32(out[4:], math.Float32bits(loadHalf(src)))
		copy(out[8:40], src[2:34])
	}
}

// matMulQ4_0Reference is MatMul for a matrix repacksQ4_0 accepts when
// no packed kernel runs it: dotQ4_0Repacked row by row.
func matMulQ4_0Reference(p *Pool, dst []float32, w Matrix, x []float32, n int) {
	cols, rows, arb := w.Cols, w.Rows, w.Cols/32*34
	buf := byteScratch(&actBufs, n*arb)
	defer actBufs.Put(&buf)
	p.Run(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			QuantizeActivations(Q8_0, x[i*cols:(i+1)*cols], buf[i*arb:(i+1)*arb])
		}
	})
	wrb := w.rowBytes()
	p.Run(rows, func(lo, hi int) {
		for i := 0; i < n; i++ {
			a := buf[i*arb : (i+1)*arb]
			for r := lo; r < hi; r++ {
				dst[i*rows+r] = dotQ4_0Repacked(cols, w.Data[r*wrb:(r+1)*wrb], a)
			}
		}
	})
}
