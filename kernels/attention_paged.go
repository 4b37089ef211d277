package kernels

import (
	"fmt"
	"math"
)

// PagedKV is one KV head's view of one layer of a paged K/V cache: rows are
// found by walking the block table, with no per-position function calls.
// Position j lives in block Blocks[j/BlockSize], slot j%BlockSize; its K row
// starts at byte (Blocks[j/BlockSize]*BlockSize + j%BlockSize)*SlotBytes +
// HeadOffset of K (V likewise), and is one head row in the cache format.
type PagedKV struct {
	K, V       []byte  // the layer's K and V storage
	BlockSize  int     // slots per block
	SlotBytes  int     // bytes of one slot (every KV head of one token)
	HeadOffset int     // byte offset of this KV head's row within a slot
	Blocks     []int32 // the sequence's block table
}

// check validates the view for n positions of rowBytes-byte rows, so the
// kernels below never index out of range.
func (p *PagedKV) check(n, rowBytes int) error {
	if p.BlockSize <= 0 || p.SlotBytes <= 0 || p.HeadOffset < 0 || p.HeadOffset+rowBytes > p.SlotBytes {
		return fmt.Errorf("kernels: paged KV: block size %d, slot %d bytes, head at byte %d: a %d-byte row does not fit",
			p.BlockSize, p.SlotBytes, p.HeadOffset, rowBytes)
	}
	nb := (n + p.BlockSize - 1) / p.BlockSize
	if nb > len(p.Blocks) {
		return fmt.Errorf("kernels: paged KV: %d positions need %d blocks, the table has %d", n, nb, len(p.Blocks))
	}
	blockBytes := p.BlockSize * p.SlotBytes
	for _, b := range p.Blocks[:nb] {
		if b < 0 || (int(b)+1)*blockBytes > min(len(p.K), len(p.V)) {
			return fmt.Errorf("kernels: paged KV: block %d outside storage of %d/%d bytes (%d bytes a block)",
				b, len(p.K), len(p.V), blockBytes)
		}
	}
	return nil
}

// AttendPaged is Attend over a paged cache: one query head q (len(q) =
// head dim) against the first n positions of p. Its output equals Attend's
// bit for bit at every level.
func AttendPaged(out, q []float32, kv Type, n int, scale float32, p PagedKV, s *AttentionScratch) error {
	return AttendPagedGroup(out, q, len(q), kv, n, scale, p, s)
}

// AttendPagedGroup runs Attend for len(q)/headDim query heads that share
// p's KV head (grouped-query attention): q and out hold the heads one after
// another. It walks the block table once, so each K and V row is loaded
// once for the whole group; each head's numbers are exactly those of
// Attend on that head alone.
//
// For each block it computes the block's scores, then the running maximum
// and the softmax weights in position order as Attend does, then applies
// the V updates of the whole block at once (one pass over the accumulator
// per block instead of per position). A position whose score raises the
// maximum rescales the accumulator by ms (an exact no-op when ms rounds to
// 1, so ms = 1 stands for "no rescale").
func AttendPagedGroup(out, q []float32, headDim int, kv Type, n int, scale float32, p PagedKV, s *AttentionScratch) error {
	tr, ok := traits[kv]
	if !ok || tr.VecDot == nil || tr.Dequantize == nil {
		return fmt.Errorf("kernels: attention over a %s cache is not supported", kv)
	}
	if headDim <= 0 || len(q) == 0 || len(q)%headDim != 0 || len(out) != len(q) {
		return fmt.Errorf("kernels: attention: %d query and %d output values for head dim %d", len(q), len(out), headDim)
	}
	if n < 0 {
		return fmt.Errorf("kernels: attention over %d positions", n)
	}
	hd, heads := headDim, len(q)/headDim
	rb, err := RowBytes(kv, int64(hd))
	if err != nil {
		return fmt.Errorf("kernels: attention: %w", err)
	}
	qb, err := RowBytes(tr.VecDotType, int64(hd))
	if err != nil {
		return fmt.Errorf("kernels: attention: %w", err)
	}
	rowBytes, qBytes := int(rb), int(qb)
	if err := p.check(n, rowBytes); err != nil {
		return err
	}
	s.growPaged(heads, hd, qBytes, p.BlockSize)
	f16 := kv == F16
	d := current()
	for g := range heads {
		if tr.VecDotType == F16 {
			// The level's vector conversion rounds as QuantizeActivations.
			d.conv.toF16(s.pq[g*qBytes:(g+1)*qBytes], q[g*hd:(g+1)*hd])
		} else {
			QuantizeActivations(tr.VecDotType, q[g*hd:(g+1)*hd], s.pq[g*qBytes:(g+1)*qBytes])
		}
		s.pm[g] = float32(math.Inf(-1))
		s.psum[g] = 0
	}
	if f16 {
		clear(s.ph16[:heads*hd])
	} else {
		clear(s.pacc[:heads*hd])
	}
	dot := d.dot[kv]
	a := d.attn
	sb := p.SlotBytes
	xs, ms, vs := s.px[:p.BlockSize], s.pms[:p.BlockSize], s.pvs[:p.BlockSize]
	es, up := s.pe[:p.BlockSize], s.pup[:p.BlockSize]
	for bi := 0; bi*p.BlockSize < n; bi++ {
		cnt := min(p.BlockSize, n-bi*p.BlockSize)
		base := int(p.Blocks[bi])*p.BlockSize*sb + p.HeadOffset
		kb := p.K[base : base+(cnt-1)*sb+rowBytes]
		vb := p.V[base : base+(cnt-1)*sb+rowBytes]
		var vf []float32
		raw := kv == F32 && a.accF32Raw != nil
		if !f16 && !raw {
			// Dequantize the block's V rows once for the whole group.
			vf = s.pv[:cnt*hd]
			if kv == Q8_0 && a.dequantQ8_0 != nil {
				a.dequantQ8_0(vb, sb, hd, vf)
			} else {
				for r := range cnt {
					tr.Dequantize(vb[r*sb:r*sb+rowBytes], vf[r*hd:(r+1)*hd])
				}
			}
		}
		for g := range heads {
			// Four heads share one pass of the F16 accumulator kernel
			// when it has one: their updates wait in mv.
			four := f16 && a.accF16x4 != nil && hd%64 == 0 && g-g%4+4 <= heads
			qg := s.pq[g*qBytes : (g+1)*qBytes]
			if f16 && a.dotsF16 != nil {
				a.dotsF16(hd, kb, sb, qg, xs[:cnt])
			} else {
				for r := range cnt {
					xs[r] = dot(hd, kb[r*sb:r*sb+rowBytes], qg)
				}
			}
			// The online softmax in position order, as Attend: a score
			// above the running maximum rescales by exp(old-new), any other
			// is weighted by exp(x-max). The exponentials go in one batch.
			m, sum := s.pm[g], s.psum[g]
			for r := range cnt {
				x := float32(xs[r] * scale) // rounded: never fused into x - m
				if x > m {
					old := m
					m = x
					xs[r], up[r] = old-m, true
				} else {
					xs[r], up[r] = x-m, false
				}
			}
			a.exps(xs[:cnt], es[:cnt])
			for r := range cnt {
				msr, vsr := float32(1), es[r]
				if up[r] {
					msr, vsr = es[r], 1
				}
				ms[r], vs[r] = msr, vsr
				if msr == 1 {
					// Attend's fmaf(sum, 1, vs): a sum rounded to float64
					// and then to float32 rounds as a float32 sum does
					// (double rounding is harmless for + with 53 >= 2*24+2
					// bits), and the plain add is shorter on this chain.
					sum += vsr
				} else {
					sum = fmaf(sum, msr, vsr) // as Attend
				}
			}
			s.pm[g], s.psum[g] = m, sum
			if four {
				for r := range cnt {
					s.pmv[8*r+2*(g%4)], s.pmv[8*r+2*(g%4)+1] = ms[r], vs[r]
				}
				if g%4 == 3 {
					a.accF16x4(s.ph16[(g-3)*hd:(g+1)*hd], hd, vb, sb, s.pmv[:8*cnt])
				}
			} else if f16 {
				h := s.ph16[g*hd : (g+1)*hd]
				if a.accF16 != nil {
					a.accF16(h, vb, sb, ms[:cnt], vs[:cnt])
				} else {
					accF16Rows(d.f16, h, vb, sb, ms[:cnt], vs[:cnt])
				}
			} else if raw {
				a.accF32Raw(s.pacc[g*hd:(g+1)*hd], vb, sb, ms[:cnt], vs[:cnt])
			} else {
				a.accF32(s.pacc[g*hd:(g+1)*hd], vf, ms[:cnt], vs[:cnt])
			}
		}
	}
	for g := range heads {
		inv := float32(0)
		if s.psum[g] != 0 {
			inv = 1 / s.psum[g]
		}
		o := out[g*hd : (g+1)*hd]
		if f16 {
			for i, h := range s.ph16[g*hd : (g+1)*hd] {
				o[i] = FP16ToFP32(h) * inv
			}
		} else {
			for i, v := range s.pacc[g*hd : (g+1)*hd] {
				o[i] = v * inv
			}
		}
	}
	return nil
}

// growPaged sizes the scratch for heads query heads of hd values, queries
// of qBytes bytes and blocks of bs slots.
func (s *AttentionScratch) growPaged(heads, hd, qBytes, bs int) {
	if len(s.pq) < heads*qBytes {
		s.pq = make([]byte, heads*qBytes)
	}
	if len(s.pacc) < heads*hd {
		s.pacc = make([]float32, heads*hd)
		s.ph16 = make([]uint16, heads*hd)
	}
	if len(s.pm) < heads {
		s.pm = make([]float32, heads)
		s.psum = make([]float32, heads)
	}
	if len(s.px) < bs {
		s.px = make([]float32, bs)
		s.pms = make([]float32, bs)
		s.pvs = make([]float32, bs)
		s.pe = make([]float32, bs)
		s.pup = make([]bool, bs)
		s.pmv = make([]float32, 8*bs)
	}
	if len(s.pv) < bs*hd {
		s.pv = make([]float32, bs*hd)
	}
}

// accF16Rows applies a block's updates to an F16 accumulator with the
// level's per-row kernels, exactly as Attend does position by position:
// for row r, h = f16(h·ms[r]) unless ms[r] is 1, then h = f16(fma(v_r,
// vs[r], h)), where v_r is the F16 row at v[r*stride:].
func accF16Rows(f f16AccImpl, h []uint16, v []byte, stride int, ms, vs []float32) {
	for r := range ms {
		if ms[r] != 1 {
			f.scale(h, ms[r])
		}
		f.mad(h, v[r*stride:r*stride+2*len(h)], vs[r])
	}
}

// expsGeneric sets y[i] = expf(x[i]).
func expsGeneric(x, y []float32) {
	for i, v := range x {
		y[i] = expf(v)
	}
}

// accF32Generic applies a block's updates to an F32 accumulator as Attend
// does: v holds len(ms) dequantized rows of len(acc) values.
func accF32Generic(acc, v, ms, vs []float32) { accF32Rows(acc, v, len(acc), ms, vs) }

// accF32Rows is Attend's F32 accumulator update over a block: for row r,
// acc = acc·ms[r] in float32 unless ms[r] is 1, then one fmaf per element
// with the row at v[r*stride:].
func accF32Rows(acc, v []float32, stride int, ms, vs []float32) {
	for r := range ms {
		if ms[r] != 1 {
			for i := range acc {
				acc[i] *= ms[r]
			}
		}
		vr := v[r*stride : r*stride+len(acc)]
		for i := range acc {
			acc[i] = fmaf(vr[i], vs[r], acc[i])
		}
	}
}

// attnImpl holds AttendPaged's block kernels for one level. A nil dotsF16
// or accF16 means the level's per-row dot and F16 accumulator kernels are
// used; exps and accF32 are always set (their fast versions are exact at
// every level: Attend's exponentials and F32 accumulator are plain Go at
// all levels).
type attnImpl struct {
	level Level
	name  string
	// exps sets y[i] = expf(x[i]) for len(x) values.
	exps func(x, y []float32)
	// dotsF16 sets x[r] = dot(K row r, q) for len(x) F16 rows stride bytes
	// apart, equal to the level's F16 dot product.
	dotsF16 func(n int, k []byte, stride int, q []byte, x []float32)
	// accF16 is accF16Rows fused over the block.
	accF16 func(h []uint16, v []byte, stride int, ms, vs []float32)
	accF32 func(acc, v, ms, vs []float32)
	// accF32Raw, when set, is accF32 over an F32 cache's rows in place
	// (stride bytes apart), skipping the dequantized copy.
	accF32Raw func(acc []float32, v []byte, stride int, ms, vs []float32)
	// dequantQ8_0, when set, is dequantQ8_0 over len(out)/hd rows of hd
	// values stride bytes apart, written one after another to out.
	dequantQ8_0 func(v []byte, stride, hd int, out []float32)
	// accF16x4, when set, is accF16 for four heads at once (hd a multiple
	// of 64): h holds their accumulators one after another and mv, per V
	// row, (ms, vs) of head 0, 1, 2, 3.
	accF16x4 func(h []uint16, hd int, v []byte, stride int, mv []float32)
}

var fastAttn []attnImpl

func registerAttn(im attnImpl) { fastAttn = append(fastAttn, im) }

// attnFor picks AttendPaged's kernels for level l.
func attnFor(l Level) attnImpl {
	best := attnImpl{level: -1, name: "generic", exps: expsGeneric, accF32: accF32Generic}
	for _, im := range fastAttn {
		if im.level <= l && im.level > best.level {
			best = im
		}
	}
	return best
}
