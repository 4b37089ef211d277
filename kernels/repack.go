package kernels

import (
	"encoding/binary"
	"math"
	"sort"
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
// Layout: rows in groups of packRows (the last group padded with zero
// rows). For group g and block b, q4Pack bytes at (g·nb + b)·q4Pack:
//
//	[0:32)    the 16 rows' f16 scales
//	[32:288)  four chunks of 64 bytes; chunk j holds, for row r, the four
//	          bytes qs[4j:4j+4] of its block: low nibbles are quants 4j..4j+3,
//	          high nibbles quants 16+4j..16+4j+3
//
// so one 64-byte load gives sixteen rows × four quants, the shape of one
// VPDPBUSD against four broadcast activation bytes.
const (
	packRows = 16
	q4Pack   = packRows * 18
)

// repacksQ4_0 reports whether m gets llama.cpp's repacked summation order.
func repacksQ4_0(m Matrix) bool { return m.Type == Q4_0 && m.Rows%8 == 0 }

// Pack returns m ready for MatMul's fastest kernels: a Q4_0 matrix that
// llama.cpp repacks is interleaved into a copy (the plain rows stay in
// Data for Row and the reference) when this build has a kernel for the
// layout at the detected CPU level. Other matrices are returned as they are.
// MatMul gives the same numbers with or without Pack.
func Pack(m Matrix) Matrix {
	if !repacksQ4_0(m) || !hasPackedKernel(DetectedLevel()) || m.packed != nil {
		return m
	}
	nb := m.Cols / 32
	groups := (m.Rows + packRows - 1) / packRows
	out := make([]byte, groups*nb*q4Pack)
	rb := m.rowBytes()
	for r := 0; r < m.Rows; r++ {
		g, lane := r/packRows, r%packRows
		row := m.Data[r*rb : (r+1)*rb]
		for b := 0; b < nb; b++ {
			dst := out[(g*nb+b)*q4Pack:]
			src := row[18*b : 18*b+18]
			copy(dst[2*lane:2*lane+2], src[:2])
			for j := 0; j < 4; j++ {
				copy(dst[32+64*j+4*lane:32+64*j+4*lane+4], src[2+4*j:6+4*j])
			}
		}
	}
	m.packed = out
	return m
}

// Packed reports whether Pack interleaved m.
func (m Matrix) Packed() bool { return m.packed != nil }

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

// packedImpl is a kernel over packed Q4_0: one group of packRows rows
// (nb blocks at w) times `tokens` activation rows in the q8Sum form at a,
// a+stride, ..., writing out[t][r].
type packedImpl struct {
	level  Level
	name   string
	tokens int // activation rows per call (1 is the one-token form)
	fn     func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32)
}

// packedTokens is the most activation rows a packed kernel takes at once.
const packedTokens = 8

var fastPacked []packedImpl

func registerPacked(level Level, name string, tokens int, fn func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32)) {
	fastPacked = append(fastPacked, packedImpl{level, name, tokens, fn})
}

// packedFor returns the packed kernels level l runs, one per token count
// (the best level for each), most tokens first; nil unless there is a
// one-token kernel to finish any remainder with.
func packedFor(l Level) []packedImpl {
	best := map[int]packedImpl{}
	for _, k := range fastPacked {
		if b, ok := best[k.tokens]; k.level <= l && (!ok || k.level > b.level) {
			best[k.tokens] = k
		}
	}
	if _, ok := best[1]; !ok {
		return nil
	}
	var out []packedImpl
	for _, k := range best {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].tokens > out[j].tokens })
	return out
}

func hasPackedKernel(l Level) bool { return packedFor(l) != nil }

// matMulQ4_0Repacked is MatMul for a matrix repacksQ4_0 accepts.
func matMulQ4_0Repacked(p *Pool, dst []float32, w Matrix, x []float32, n int) {
	cols, rows, nb := w.Cols, w.Rows, w.Cols/32
	arb := nb * 34
	buf := byteScratch(&actBufs, n*arb)
	defer actBufs.Put(&buf)
	d := current()
	if w.packed == nil || d.packed == nil {
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
		return
	}
	srb := nb * q8SumBytes
	sums := byteScratch(&extBufs, n*srb)
	defer extBufs.Put(&sums)
	p.Run(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			a := buf[i*arb : (i+1)*arb]
			QuantizeActivations(Q8_0, x[i*cols:(i+1)*cols], a)
			q8Sum(sums[i*srb:(i+1)*srb], a, nb)
		}
	})
	groups := (rows + packRows - 1) / packRows
	gb := nb * q4Pack // bytes of one group
	// Groups in tiles that stay in L2 while every token passes over them.
	tile := max(1, packTileBytes/gb)
	kernels := d.packed
	p.Run(groups, func(lo, hi int) {
		var out [packedTokens][packRows]float32
		for g0 := lo; g0 < hi; g0 += tile {
			g1 := min(g0+tile, hi)
			// The widest kernel that fits the tokens left, down to one.
			for i := 0; i < n; {
				k := kernels[len(kernels)-1]
				for _, c := range kernels {
					if c.tokens <= n-i {
						k = c
						break
					}
				}
				for g := g0; g < g1; g++ {
					k.fn(w.packed[g*gb:(g+1)*gb], sums[i*srb:], srb, nb, &out)
					r0 := g * packRows
					for t := range k.tokens {
						copy(dst[(i+t)*rows+r0:(i+t)*rows+min(r0+packRows, rows)], out[t][:])
					}
				}
				i += k.tokens
			}
		}
	})
}

// packTileBytes bounds the packed weights one thread keeps hot while the
// tokens pass over them.
const packTileBytes = 256 << 10
