package kernels

import (
	"math"
)

// AttentionScratch holds one worker's buffers for Attend.
type AttentionScratch struct {
	q   []byte    // the query converted to the K format's VecDotType
	acc []float32 // F32 accumulator
	h16 []uint16  // F16 accumulator (F16 V)
	v   []float32 // one dequantized V row

	// AttendPagedGroup's buffers, per query head of the group or per slot
	// of a block.
	pq       []byte    // converted queries
	pacc     []float32 // F32 accumulators
	ph16     []uint16  // F16 accumulators
	pm, psum []float32 // running maximum and sum
	px, pms  []float32 // scores and rescale factors of a block
	pvs      []float32 // softmax weights of a block
	pe       []float32 // exponentials of a block
	pup      []bool    // which positions of a block raised the maximum
	pmv      []float32 // four heads' (ms, vs) per slot of a block
	pv       []float32 // a block's dequantized V rows (F32, Q8_0 caches)
}

// Attend computes one query head's attention over n cached positions:
// out = Σ_j softmax_j(scale·q·k_j) v_j, where k(j) and v(j) return the K and
// V rows (headDim elements in format kv) of position j, in order.
//
// It mirrors ggml-cpu's flash attention (ggml_compute_forward_flash_attn_ext,
// one query row at a time) so pagoda's numbers track llama.cpp's: q is
// converted to the K format's dot partner (F16 for an F16 cache), the
// softmax is computed online with a running maximum, and with an F16 cache
// the V accumulator itself is kept in F16, rounded after every update, as
// ggml does. The final division is a multiplication by 1/S.
func Attend(out, q []float32, kv Type, n int, scale float32, k, v func(j int) []byte, s *AttentionScratch) {
	tr := traits[kv]
	hd := len(q)
	qBytes, _ := RowBytes(tr.VecDotType, int64(hd))
	if int64(cap(s.q)) < qBytes {
		s.q = make([]byte, qBytes)
		s.acc = make([]float32, hd)
		s.h16 = make([]uint16, hd)
		s.v = make([]float32, hd)
	}
	qc := s.q[:qBytes]
	QuantizeActivations(tr.VecDotType, q, qc)
	f16 := kv == F16
	acc, h16, vr := s.acc[:hd], s.h16[:hd], s.v[:hd]
	clear(acc)
	clear(h16)
	sum := float32(0)
	m := float32(math.Inf(-1))
	d := current() // the level's kernels: reference at LevelGeneric
	dot := d.dot[kv]
	for j := range n {
		x := float32(dot(hd, k(j), qc) * scale) // rounded: never fused into x - m
		ms, vs := float32(1), float32(1)
		if x > m {
			old := m
			m = x
			ms = expf(old - m)
			if f16 {
				d.f16.scale(h16, ms)
			} else {
				for d := range acc {
					acc[d] *= ms
				}
			}
		} else {
			vs = expf(x - m)
		}
		if f16 {
			d.f16.mad(h16, v(j), vs)
		} else {
			tr.Dequantize(v(j), vr)
			for d := range acc {
				acc[d] = fmaf(vr[d], vs, acc[d])
			}
		}
		sum = fmaf(sum, ms, vs) // gcc contracts ggml's S*ms + vs
	}
	inv := float32(0)
	if sum != 0 {
		inv = 1 / sum
	}
	for d := range out {
		if f16 {
			out[d] = FP16ToFP32(h16[d]) * inv
		} else {
			out[d] = acc[d] * inv
		}
	}
}

// fmaf is a fused multiply-add rounded once to float32, like the FMA
// instructions ggml's SIMD loops (and gcc's contracted scalar loops) use.
// x·y is exact in float64, but rounding x·y + z to float64 and then to
// float32 could round twice the wrong way (when the float64 sum lands
// exactly halfway between two float32s), so the float64 sum is rounded
// to odd instead: its last bit is set whenever it is inexact, which makes
// the one rounding to float32 correct (53 >= 24 + 2 bits).
func fmaf(x, y, z float32) float32 {
	p, c := float64(x)*float64(y), float64(z)
	s := p + c
	b := s - p
	e := (p - (s - b)) + (c - b) // s + e == p + c exactly (TwoSum)
	if e != 0 && !math.IsInf(s, 0) && !math.IsNaN(e) {
		if bits := math.Float64bits(s); bits&1 == 0 {
			// Step to the neighbour on e's side: the odd one of the two.
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}
