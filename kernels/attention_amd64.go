//go:build amd64 && !noasm

package kernels

// Go declarations of attention_amd64.s. The wrappers check slice lengths
// before the assembly runs and leave the lanes past the last whole vector
// to the reference code the per-row kernels also use for them.

//go:noescape
func attnDotsF16AVX2(k *byte, stride, rows int, q *byte, n int, x *float32)

//go:noescape
func attnDots64F16AVX2(k *byte, stride, rows int, q *byte, x *float32)

//go:noescape
func attnDotsTailF16AVX2(k *byte, stride, rows int, q *byte, n int, x *float32, head bool)

//go:noescape
func attnAccF16AVX2(h *uint16, n int, v *byte, stride, rows int, ms, vs *float32)

//go:noescape
func attnAccF32AVX2(acc *float32, n int, v *float32, stride, rows int, ms, vs *float32)

//go:noescape
func attnAccF32BytesAVX2(acc *float32, n int, v *byte, stride, rows int, ms, vs *float32)

//go:noescape
func attnExpAVX2(x, y *float32, n int)

//go:noescape
func attnDequantQ8_0AVX2(v *byte, stride, rows, nb int, out *float32)

// attnAVX2 is the AVX2 kernel set; higher levels start from it.
var attnAVX2 = attnImpl{level: LevelAVX2, name: "avx2", exps: attnExpFast,
	dotsF16: attnDotsF16Fast, accF16: attnAccF16Fast, accF32: attnAccF32Fast, accF32Raw: attnAccF32RawFast,
	dequantQ8_0: attnDequantQ8_0Fast}

func init() { registerAttn(attnAVX2) }

// attnExpFast is expsGeneric with whole groups of four in assembly; lanes
// outside the kernel's range (glibc's special cases: |x| >= 88, NaN) and
// the last len%4 are redone with expf.
func attnExpFast(x, y []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	_ = y[n-1]
	head := n &^ 3
	if head > 0 {
		attnExpAVX2(&x[0], &y[0], head)
	}
	for i, v := range x {
		if i >= head || !(v > -88 && v < 88) {
			y[i] = expf(v)
		}
	}
}

// attnDotsF16Fast is dotF16Fast for len(x) rows stride bytes apart: the
// multiple-of-64 head in the vector kernel, the rest added in float64 one
// by one.
func attnDotsF16Fast(n int, k []byte, stride int, q []byte, x []float32) {
	rows := len(x)
	if rows == 0 || n == 0 {
		clear(x)
		return
	}
	_ = k[(rows-1)*stride+2*n-1]
	_ = q[2*n-1]
	head := n &^ 63
	if head == 64 {
		attnDots64F16AVX2(&k[0], stride, rows, &q[0], &x[0])
	} else if head > 0 {
		attnDotsF16AVX2(&k[0], stride, rows, &q[0], head, &x[0])
	}
	if head < n {
		attnDotsTailF16AVX2(&k[2*head], stride, rows, &q[2*head], n-head, &x[0], head > 0)
	}
}

// genericF16Acc is the reference F16 accumulator update, which the fast
// per-row kernels also use past their last whole vector.
var genericF16Acc = f16AccImpl{scale: scaleF16Generic, mad: madF16Generic}

// attnAccF16Fast is accF16Rows with scaleF16Fast and madF16Fast fused over
// the block.
func attnAccF16Fast(h []uint16, v []byte, stride int, ms, vs []float32) {
	rows := len(ms)
	if rows == 0 || len(h) == 0 {
		return
	}
	_ = vs[rows-1]
	_ = v[(rows-1)*stride+2*len(h)-1]
	head := len(h) &^ 7
	if head > 0 {
		attnAccF16AVX2(&h[0], head, &v[0], stride, rows, &ms[0], &vs[0])
	}
	if head < len(h) {
		accF16Rows(genericF16Acc, h[head:], v[2*head:], stride, ms, vs)
	}
}

// attnAccF32Fast is accF32Generic with the vector lanes in assembly (the
// float64 FMA there rounds exactly as fmaf does).
func attnAccF32Fast(acc, v, ms, vs []float32) {
	rows, n := len(ms), len(acc)
	if rows == 0 || n == 0 {
		return
	}
	_ = vs[rows-1]
	_ = v[rows*n-1]
	head := n &^ 3
	if head > 0 {
		attnAccF32AVX2(&acc[0], head, &v[0], 4*n, rows, &ms[0], &vs[0])
	}
	if head < n {
		accF32Rows(acc[head:], v[head:], n, ms, vs)
	}
}

// attnAccF32RawFast is attnAccF32Fast over the F32 rows of the cache
// itself, stride bytes apart, with no dequantized copy.
func attnAccF32RawFast(acc []float32, v []byte, stride int, ms, vs []float32) {
	rows, n := len(ms), len(acc)
	if rows == 0 || n == 0 {
		return
	}
	_ = vs[rows-1]
	_ = v[(rows-1)*stride+4*n-1]
	head := n &^ 3
	if head > 0 {
		attnAccF32BytesAVX2(&acc[0], head, &v[0], stride, rows, &ms[0], &vs[0])
	}
	for r := range rows {
		if ms[r] != 1 {
			for i := head; i < n; i++ {
				acc[i] *= ms[r]
			}
		}
		row := v[r*stride:]
		for i := head; i < n; i++ {
			acc[i] = fmaf(loadF32(row[4*i:]), vs[r], acc[i])
		}
	}
}

// attnDequantQ8_0Fast dequantizes len(out)/hd Q8_0 rows of hd values,
// stride bytes apart, into consecutive rows of out.
func attnDequantQ8_0Fast(v []byte, stride, hd int, out []float32) {
	rows, nb := len(out)/hd, hd/32
	if rows == 0 || nb == 0 {
		return
	}
	_ = v[(rows-1)*stride+nb*34-1]
	_ = out[rows*nb*32-1]
	attnDequantQ8_0AVX2(&v[0], stride, rows, nb, &out[0])
}
