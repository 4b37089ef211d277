//go:build amd64 && !noasm

package kernels

import "encoding/binary"

//go:noescape
func gemmF16x4AVX512(x *byte, y *float32, ystride, n int, out *[4]float32)

//go:noescape
func gemvF16AVX512(x *byte, rowBytes int, y *float32, n, rows int, out *float32)

//go:noescape
func f16ToF32AVX2(dst *float32, src *byte, n int)

//go:noescape
func f32ToF16AVX2(dst *byte, src *float32, n int)

func init() {
	registerGemmF32(F16, LevelAVX512, "avx512 4-row", gemmF16Fast, gemvF16Fast)
	registerConv(LevelAVX2, "avx2", f32ToF16Fast, f16ToF32Fast)
}

// gemmF16Fast multiplies the F16 weight row w (n elements) by four float32
// activation rows stride elements apart; the n%64 tail is added in float64
// as ggml_vec_dot_f16 does, so each output equals dotF16Fast's.
func gemmF16Fast(n int, w []byte, a []float32, stride int, out *[gemmRows]float32) {
	head := n &^ 63
	_ = w[2*n-1]
	_ = a[3*stride+n-1]
	if head > 0 {
		gemmF16x4AVX512(&w[0], &a[0], 4*stride, head, out)
	} else {
		*out = [gemmRows]float32{}
	}
	if head == n {
		return
	}
	for k := range gemmRows {
		out[k] = addF16Tail(out[k], w, a[k*stride:], head, n)
	}
}

// addF16Tail adds the products of elements [head, n) of the F16 row w and
// the float32 row a to the vector head's sum s in float64, as
// ggml_vec_dot_f16 adds its leftovers (s is 0 when head is).
func addF16Tail(s float32, w []byte, a []float32, head, n int) float32 {
	sum := float64(s)
	for i := head; i < n; i++ {
		sum += float64(FP16ToFP32(binary.LittleEndian.Uint16(w[2*i:])) * a[i])
	}
	return float32(sum)
}

// gemvF16Fast sets out[r] to the dot of the F16 weight row r (rows
// rowBytes apart in w, n elements each) with the float32 activation row a,
// each equal to dotF16Fast's.
func gemvF16Fast(n int, w []byte, rowBytes int, a []float32, out []float32) {
	rows := len(out)
	if rows == 0 {
		return
	}
	head := n &^ 63
	_ = w[(rows-1)*rowBytes+2*n-1]
	_ = a[n-1]
	if head > 0 {
		gemvF16AVX512(&w[0], rowBytes, &a[0], head, rows, &out[0])
	} else {
		clear(out)
	}
	if head == n {
		return
	}
	for r := range out {
		out[r] = addF16Tail(out[r], w[r*rowBytes:], a, head, n)
	}
}

func f32ToF16Fast(dst []byte, src []float32) {
	head := len(src) &^ 7
	if head > 0 {
		_ = dst[2*head-1]
		f32ToF16AVX2(&dst[0], &src[0], head)
	}
	for i := head; i < len(src); i++ {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(src[i]))
	}
}

func f16ToF32Fast(dst []float32, src []byte) {
	head := len(dst) &^ 7
	if head > 0 {
		_ = src[2*head-1]
		f16ToF32AVX2(&dst[0], &src[0], head)
	}
	for i := head; i < len(dst); i++ {
		dst[i] = FP16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}
