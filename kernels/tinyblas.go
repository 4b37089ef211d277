package kernels

// llama.cpp (GGML_USE_LLAMAFILE, the default) sends every F32, F16 and
// BF16 mul_mat with at least two activation rows to llamafile's tinyBLAS
// when K is a multiple of the vector width and the weight rows a multiple
// of 4 (tinyBLAS::matmul; llamafile_sgemm returns false for n < 2). On the
// AVX-512 reference machine that is tinyBLAS<16, __m512, ...>: each output
// has one 16-lane float accumulator that takes one FMA per 16 columns, in
// order, and is reduced with _mm512_reduce_add_ps at the end. F16 and BF16
// weights only run there against activations of their own type (llamafile
// refuses F16×F32 and BF16×F32, and ggml-cpu then retries with src1
// converted to the vec_dot type), so both operands are widened halves and
// every product is exact; F32 weights multiply the float32 activations as
// they are. The reference build has no AVX512_BF16, so BF16 takes that
// plain FMA path, not VDPBF16PS. How tinyBLAS splits the outputs between
// threads changes no output's arithmetic, so MatMul tiles its own way.
//
// pagoda mirrors that order at every level: the reference below, and
// register-tiled kernels bit-identical to it (tinyblas_amd64.s at AVX-512,
// tinyblas_avx2_amd64.s with the same 16-lane order at AVX2).

// tinyBLASLanes is the accumulator width of the reference build's tinyBLAS
// (KN = 16 floats of a __m512).
const tinyBLASLanes = 16

// usesTinyBLAS reports whether llama.cpp computes w times n activation rows
// with tinyBLAS: F32, F16 or BF16 weights, n >= 2 (one row, decode, stays
// on vec_dot), Cols a multiple of 16 and Rows a multiple of 4.
func usesTinyBLAS(w Matrix, n int) bool {
	return (w.Type == F32 || w.Type == F16 || w.Type == BF16) && n >= 2 &&
		w.Cols > 0 && w.Cols%tinyBLASLanes == 0 && w.Rows%4 == 0
}

// tinyDotF32 is one tinyBLAS<16> output for F32 operands: k float32 weights
// (little-endian bytes) against k activations.
func tinyDotF32(k int, w []byte, x []float32) float32 {
	var acc [tinyBLASLanes]float32
	for l := 0; l < k; l += tinyBLASLanes {
		for j := range acc {
			acc[j] = fmaf(loadF32(w[4*(l+j):]), x[l+j], acc[j])
		}
	}
	return reduceAdd16(&acc)
}

// tinyDotF16 is one tinyBLAS<16> output for F16 operands: k halves of
// weights against k halves of activations. The product of two halves is
// exact in float32, so the FMA is a rounded add.
func tinyDotF16(k int, w, a []byte) float32 {
	var acc [tinyBLASLanes]float32
	for l := 0; l < k; l += tinyBLASLanes {
		for j := range acc {
			acc[j] += loadHalf(w[2*(l+j):]) * loadHalf(a[2*(l+j):])
		}
	}
	return reduceAdd16(&acc)
}

// tinyDotBF16 is tinyDotF16 for bfloat16 operands (products exact too).
func tinyDotBF16(k int, w, a []byte) float32 {
	var acc [tinyBLASLanes]float32
	for l := 0; l < k; l += tinyBLASLanes {
		for j := range acc {
			acc[j] += bf16At(w, l+j) * bf16At(a, l+j)
		}
	}
	return reduceAdd16(&acc)
}

// matMulTinyBLASReference is MatMul for matrices usesTinyBLAS accepts, one
// output at a time in tinyBLAS's order.
func matMulTinyBLASReference(p *Pool, dst []float32, w Matrix, x []float32, n int) {
	cols, rows, wrb := w.Cols, w.Rows, w.rowBytes()
	if w.Type == F32 {
		p.Run(rows, func(lo, hi int) {
			for i := 0; i < n; i++ {
				for r := lo; r < hi; r++ {
					dst[i*rows+r] = tinyDotF32(cols, w.Data[r*wrb:(r+1)*wrb], x[i*cols:(i+1)*cols])
				}
			}
		})
		return
	}
	dot := tinyDotF16
	if w.Type == BF16 {
		dot = tinyDotBF16
	}
	arb := 2 * cols
	buf := byteScratch(&actBufs, n*arb)
	defer actBufs.Put(&buf)
	p.Run(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			QuantizeActivations(w.Type, x[i*cols:(i+1)*cols], buf[i*arb:(i+1)*arb])
		}
	})
	p.Run(rows, func(lo, hi int) {
		for i := 0; i < n; i++ {
			a := buf[i*arb : (i+1)*arb]
			for r := lo; r < hi; r++ {
				dst[i*rows+r] = dot(cols, w.Data[r*wrb:(r+1)*wrb], a)
			}
		}
	})
}

// tinyImpl is a register-tiled kernel in tinyBLAS's order. Its tiles
// compute the 4×rn outputs c[j*ldc+i] = tinyDot(row i of a, row j of b)
// for i < 4, j < rn (1 <= rn <= tinyTokens): a holds weight rows (f32:
// little-endian float32, f16: halves, bf16: bfloat16s) lda elements apart,
// b float32 rows ldb apart, each k long, k a positive multiple of 16.
// F16/BF16 activations arrive rounded to their type and widened back
// (exactly). A tile also prefetches pf (part of the next weight block) into
// L2, so the block after this one is in cache when its turn comes.
type tinyImpl struct {
	level          Level
	name           string
	f32, f16, bf16 tinyTile
}

type tinyTile func(k int, a []byte, lda int, b []float32, ldb int, rn int, c []float32, ldc int, pf []byte)

// tinyTokens is the most activation rows one tile call takes.
const tinyTokens = 6

var fastTiny []tinyImpl

func registerTiny(im tinyImpl) { fastTiny = append(fastTiny, im) }

// tinyFor returns the best tiled kernel at level l; nil tiles mean the
// reference.
func tinyFor(l Level) tinyImpl {
	best := tinyImpl{level: -1, name: "generic"}
	for _, im := range fastTiny {
		if im.level <= l && im.level > best.level {
			best = im
		}
	}
	return best
}

// matMulTinyBLAS runs MatMul for a matrix usesTinyBLAS accepts: the level's
// tiled kernel, or the reference.
func matMulTinyBLAS(p *Pool, dst []float32, w Matrix, x []float32, n int) {
	d := current()
	if d.tiny.f32 == nil {
		matMulTinyBLASReference(p, dst, w, x, n)
		return
	}
	matMulTinyTiled(p, dst, w, x, n, d)
}

// tinyBlockBytes bounds the weight rows one thread keeps hot (in L2)
// while every activation row passes over them.
const tinyBlockBytes = 384 << 10

// matMulTinyTiled computes with d.tiny. Activations: F32 as given, F16
// and BF16 rounded to the weights' type and widened back. Threads take
// weight rows in groups of 4 (Rows is a multiple of 4); each walks its rows
// in blocks of about tinyBlockBytes and passes all activation rows,
// tinyTokens at a time, over each block's 4-row tiles, so every weight is
// read from memory once per call, while the tiles prefetch the next block.
func matMulTinyTiled(p *Pool, dst []float32, w Matrix, x []float32, n int, d *dispatch) {
	cols, rows, wrb := w.Cols, w.Rows, w.rowBytes()
	tile := d.tiny.f32
	b := x
	if w.Type != F32 {
		tile = d.tiny.f16
		if w.Type == BF16 {
			tile = d.tiny.bf16
		}
		xf := f32Scratch(n * cols)
		defer f32Bufs.Put(&xf)
		half := byteScratch(&actBufs, n*2*cols)
		defer actBufs.Put(&half)
		p.Run(n, func(lo, hi int) {
			h, xr, f := half[lo*2*cols:hi*2*cols], x[lo*cols:hi*cols], xf[lo*cols:hi*cols]
			if w.Type == F16 {
				d.conv.toF16(h, xr) // same bytes as QuantizeActivations
				d.conv.fromF16(f, h)
				return
			}
			QuantizeActivations(BF16, xr, h)
			for i := range f {
				f[i] = bf16At(h, i)
			}
		})
		b = xf
	}
	blockRows := max(4, min(64, tinyBlockBytes/wrb)&^3)
	p.Run(rows/4, func(lo, hi int) {
		for r0 := 4 * lo; r0 < 4*hi; r0 += blockRows {
			r1 := min(r0+blockRows, 4*hi)
			// The next block's bytes, shared out between this block's tiles.
			next := w.Data[r1*wrb : min(r1+blockRows, 4*hi)*wrb]
			calls := (n + tinyTokens - 1) / tinyTokens * ((r1 - r0) / 4)
			share := ((len(next)+63)/64 + calls - 1) / calls * 64
			for j := 0; j < n; j += tinyTokens {
				rn := min(tinyTokens, n-j)
				bj := b[j*cols:]
				for r := r0; r < r1; r += 4 {
					pf := next[:min(share, len(next))]
					next = next[len(pf):]
					tile(cols, w.Data[r*wrb:], cols, bj, cols, rn, dst[j*rows+r:], rows, pf)
				}
			}
		}
	})
}
