package kernels

import (
	"fmt"
	"math"
)

// TileKV is the number of KV positions of one tile of llama.cpp's tiled
// flash attention (GGML_FA_TILE_KV); tiles start at position 0.
const TileKV = 64

// TiledMinRows is the number of query rows of a batch (llama.cpp's neq1,
// the ubatch's token count) from which ggml-cpu switches to the tiled
// flash attention (GGML_FA_TILE_Q).
const TiledMinRows = 64

// TiledSupported reports whether ggml-cpu (AVX-512 build) would run the
// tiled flash attention for a K/V cache of format kv and head dim hd,
// given enough query rows: F16 or F32 K/V and hd a multiple of 16
// (GGML_F32_EPR).
func TiledSupported(kv Type, hd int) bool {
	return (kv == F16 || kv == F32) && hd > 0 && hd%16 == 0
}

// TiledScratch holds one worker's buffers for AttendTiled.
type TiledScratch struct {
	kt   []float32 // the tile's K rows widened and transposed: kt[d*TileKV+t]
	vt   []float32 // the tile's V rows widened: vt[t*hd+d]
	acc  []float32 // per query row, its F32 output accumulator
	m, s []float32 // per query row, running maximum and sum
	x, e []float32 // two rows' scores and softmax weights over the tile
}

func (s *TiledScratch) grow(rows, hd int) {
	if len(s.kt) < hd*TileKV {
		s.kt = make([]float32, hd*TileKV)
		s.vt = make([]float32, hd*TileKV)
	}
	if len(s.acc) < rows*hd {
		s.acc = make([]float32, rows*hd)
	}
	if len(s.m) < rows {
		s.m = make([]float32, rows)
		s.s = make([]float32, rows)
	}
	if len(s.x) < 2*TileKV {
		s.x = make([]float32, 2*TileKV)
		s.e = make([]float32, 2*TileKV)
	}
}

// tiledImpl is one level's kernels for AttendTiled; every one is exact
// (the same roundings as the Go versions below).
type tiledImpl struct {
	level Level
	name  string
	// scores sets x[t] = float32(Σ_d q[d]·kt[d*TileKV+t] fused in d order
	// from 0) · scale for the TileKV positions of a tile.
	scores func(q, kt []float32, scale float32, x []float32)
	// softmax sets e[t] = ggml_v_expf(x[t] - m) for the TileKV positions
	// and returns their sum as ggml_vec_soft_max_f32 does (tileSum).
	softmax func(x []float32, m float32, e []float32) float64
	// maskMax sets x[t] = -Inf for lim <= t < TileKV and returns the
	// maximum of the TileKV values.
	maskMax func(x []float32, lim int) float32
	// acc sets acc[d] = fma(w[t], vt[t*hd+d], acc[d]) for t = 0..len(w)-1
	// in order (hd = len(acc), a multiple of 16; 1 <= len(w) <= TileKV).
	acc func(acc, w, vt []float32)
	// scores2, when set, is scores for two rows: q[:hd] to x[:TileKV] and
	// q[hd:] to x[TileKV:2*TileKV].
	scores2 func(q, kt []float32, scale float32, x []float32)
	// acc2, when set, is acc for two rows with the same count (hd a
	// multiple of 64).
	acc2 func(acc0, acc1, w0, w1, vt []float32)
	// packK sets kt[d*TileKV+t] = value d of K row t, widened, for t <
	// cnt and d < hd: the rows (format kv) start stride bytes apart in k.
	packK func(kv Type, k []byte, stride, cnt, hd int, kt []float32)
	// packV sets vt[t*hd+d] = value d of V row t, widened, likewise.
	packV func(kv Type, v []byte, stride, cnt, hd int, vt []float32)
}

var fastTiled []tiledImpl

func registerTiled(im tiledImpl) { fastTiled = append(fastTiled, im) }

func tiledFor(l Level) tiledImpl {
	best := tiledImpl{level: -1, name: "generic", scores: tiledScoresGeneric, softmax: tiledSoftmaxGeneric, maskMax: tiledMaskMaxGeneric,
		acc: tiledAccGeneric, packK: tiledPackKGeneric, packV: tiledPackVGeneric}
	for _, im := range fastTiled {
		if im.level <= l && im.level > best.level {
			best = im
		}
	}
	return best
}

func tiledScoresGeneric(q, kt []float32, scale float32, x []float32) {
	x = x[:TileKV]
	clear(x)
	for d, qd := range q {
		k := kt[d*TileKV : (d+1)*TileKV]
		for t := range x {
			x[t] = fmaf(qd, k[t], x[t])
		}
	}
	for t := range x {
		x[t] *= scale
	}
}

func tiledSoftmaxGeneric(x []float32, m float32, e []float32) float64 {
	for t := range TileKV {
		e[t] = vexpfFast(x[t] - m)
	}
	return tileSum(e)
}

// vexpfFast is vexpf with the scaling by 2^n done as a float32 multiply
// when 2^n is a normal float32: j·2^n rounded once either way (VSCALEFPS
// and vexpf's float64 Ldexp both round the exact product once), so the
// result is the same; other n (and NaN) take vexpf.
func vexpfFast(x float32) float32 {
	const r = 0x1.8p23
	z := fmaf(x, 0x1.715476p+0, r)
	n := z - r
	if !(n >= -126 && n <= 127) {
		return vexpf(x)
	}
	b := fmaf(-n, 0x1.7f7d1cp-20, fmaf(-n, 0x1.62e4p-1, x))
	u := b * b
	j := fmaf(fmaf(fmaf(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fmaf(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u,
		fmaf(0x1.ffffecp-1, b, 1))
	return j * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func tiledMaskMaxGeneric(x []float32, lim int) float32 {
	for t := lim; t < TileKV; t++ {
		x[t] = float32(math.Inf(-1))
	}
	m := float32(math.Inf(-1))
	for _, v := range x[:TileKV] {
		m = max(m, v)
	}
	return m
}

func tiledAccGeneric(acc, w, vt []float32) {
	hd := len(acc)
	for t := range w {
		v := vt[t*hd : (t+1)*hd]
		for d := range acc {
			acc[d] = fmaf(w[t], v[d], acc[d])
		}
	}
}

func tiledPackKGeneric(kv Type, k []byte, stride, cnt, hd int, kt []float32) {
	for t := range cnt {
		r := k[t*stride:]
		if kv == F16 {
			for d := range hd {
				kt[d*TileKV+t] = FP16ToFP32(uint16(r[2*d]) | uint16(r[2*d+1])<<8)
			}
		} else {
			for d := range hd {
				kt[d*TileKV+t] = math.Float32frombits(uint32(r[4*d]) | uint32(r[4*d+1])<<8 | uint32(r[4*d+2])<<16 | uint32(r[4*d+3])<<24)
			}
		}
	}
}

func tiledPackVGeneric(kv Type, v []byte, stride, cnt, hd int, vt []float32) {
	rb := hd * 2
	if kv == F32 {
		rb = hd * 4
	}
	for t := range cnt {
		widen(kv, v[t*stride:t*stride+rb], vt[t*hd:(t+1)*hd])
	}
}

// tileSum is what ggml_vec_soft_max_f32 (AVX-512) returns for a tile's
// weights: a float64 sum of the float32 _mm512_reduce_add_ps of each 16
// lanes, in order.
func tileSum(e []float32) float64 {
	sum := 0.0
	for i := 0; i < TileKV; i += 16 {
		sum += float64(reduceAdd16((*[16]float32)(e[i : i+16])))
	}
	return sum
}

// row returns position j's row (rowBytes bytes) of buf (p.K or p.V).
func (p *PagedKV) row(buf []byte, j, rowBytes int) []byte {
	off := (int(p.Blocks[j/p.BlockSize])*p.BlockSize+j%p.BlockSize)*p.SlotBytes + p.HeadOffset
	return buf[off : off+rowBytes]
}

// widen converts one F16 or F32 cache row to F32 (exact).
func widen(kv Type, src []byte, dst []float32) {
	if kv == F16 {
		for i := range dst {
			dst[i] = FP16ToFP32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
		}
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(src[4*i]) | uint32(src[4*i+1])<<8 | uint32(src[4*i+2])<<16 | uint32(src[4*i+3])<<24)
	}
}

// AttendTiled computes attention in the order of ggml-cpu's tiled flash
// attention (ggml_compute_forward_flash_attn_ext_tiled, AVX-512 build),
// which llama.cpp runs instead of the one-row path when a batch has at
// least TiledMinRows query rows (see TiledSupported). The query rows of
// len(n) tokens share p's KV head: token i's heads query heads start at
// q[i*stride], headDim values each, one after another; their outputs go to
// the same places in out; token i attends to positions [0, n[i]).
//
// Per row, everything is F32: the query is not rounded to F16; over tiles
// of TileKV positions from position 0, each score is a fused dot product
// in head-dim order, times scale, -Inf past the row's limit; a tile whose
// maximum is -Inf is skipped; a larger maximum M' rescales the accumulator
// and the sum by expf(M-M'); the weights are ggml_v_expf(x-M') and their
// sum (float64 over 16-lane float32 sums) is added to the float32 sum; the
// accumulator takes one fma per weight per element in position order
// (positions past the row's limit, weight 0, are left out: ggml's fma with
// a 0 weight changes nothing but the sign of a zero accumulator); the
// result is the accumulator times 1/S (0 when S is 0). K and V are loaded
// once per tile for all rows. The output equals attendTiledRef's bit for
// bit at every level.
func AttendTiled(out, q []float32, stride, heads, headDim int, kv Type, n []int, scale float32, p PagedKV, s *TiledScratch) error {
	if !TiledSupported(kv, headDim) {
		return fmt.Errorf("kernels: tiled attention over a %s cache with head dim %d is not supported", kv, headDim)
	}
	hd := headDim
	if heads <= 0 || len(n) == 0 || stride < heads*hd {
		return fmt.Errorf("kernels: tiled attention: %d tokens of %d heads, stride %d, head dim %d", len(n), heads, stride, hd)
	}
	if need := (len(n)-1)*stride + heads*hd; len(q) < need || len(out) < need {
		return fmt.Errorf("kernels: tiled attention: %d query and %d output values, %d needed", len(q), len(out), need)
	}
	maxN := 0
	for _, v := range n {
		if v < 0 {
			return fmt.Errorf("kernels: tiled attention over %d positions", v)
		}
		maxN = max(maxN, v)
	}
	rb, err := RowBytes(kv, int64(hd))
	if err != nil {
		return fmt.Errorf("kernels: tiled attention: %w", err)
	}
	rowBytes := int(rb)
	if err := p.check(maxN, rowBytes); err != nil {
		return err
	}
	rows := len(n) * heads
	s.grow(rows, hd)
	im := tiledFor(current().level)
	acc := s.acc[:rows*hd]
	clear(acc)
	for r := range rows {
		s.m[r], s.s[r] = float32(math.Inf(-1)), 0
	}
	kt, vt, x, e := s.kt[:hd*TileKV], s.vt[:hd*TileKV], s.x[:2*TileKV], s.e[:2*TileKV]
	for ic := 0; ic < maxN; ic += TileKV {
		cnt := min(TileKV, maxN-ic)
		// Pack the tile: K transposed (positions contiguous), V by rows;
		// positions past the tile's end are zero (their weight is 0).
		for t := 0; t < cnt; {
			// A run of slots within one block: rows SlotBytes apart.
			j := ic + t
			slot := j % p.BlockSize
			run := min(cnt-t, p.BlockSize-slot)
			base := (int(p.Blocks[j/p.BlockSize])*p.BlockSize+slot)*p.SlotBytes + p.HeadOffset
			end := base + (run-1)*p.SlotBytes + rowBytes
			im.packK(kv, p.K[base:end], p.SlotBytes, run, hd, kt[t:])
			im.packV(kv, p.V[base:end], p.SlotBytes, run, hd, vt[t*hd:])
			t += run
		}
		if cnt < TileKV {
			clear(vt[cnt*hd:])
			for d := range hd {
				clear(kt[d*TileKV+cnt : (d+1)*TileKV])
			}
		}
		for i, ni := range n {
			if ni <= ic {
				continue // every score of the tile is masked: skipped
			}
			lim := min(TileKV, ni-ic)
			for g := 0; g < heads; {
				// Two heads at a time where the level has two-row
				// kernels: the same numbers, K and V loaded once.
				np := 1
				qr := q[i*stride+g*hd : i*stride+(g+1)*hd]
				if im.scores2 != nil && g+1 < heads {
					np = 2
					im.scores2(q[i*stride+g*hd:i*stride+(g+2)*hd], kt, scale, x)
				} else {
					im.scores(qr, kt, scale, x[:TileKV])
				}
				var live [2]bool
				for j := range np {
					r := i*heads + g + j
					xj, ej := x[j*TileKV:(j+1)*TileKV], e[j*TileKV:(j+1)*TileKV]
					tmax := im.maskMax(xj, lim)
					if tmax == float32(math.Inf(-1)) {
						continue
					}
					if mnew := max(s.m[r], tmax); mnew > s.m[r] {
						ms := expf(s.m[r] - mnew)
						for d, v := range acc[r*hd : (r+1)*hd] {
							acc[r*hd+d] = v * ms
						}
						s.s[r] *= ms
						s.m[r] = mnew
					}
					s.s[r] = float32(float64(s.s[r]) + im.softmax(xj, s.m[r], ej))
					live[j] = true
				}
				r := i*heads + g
				if np == 2 && live[0] && live[1] && im.acc2 != nil && hd%64 == 0 {
					im.acc2(acc[r*hd:(r+1)*hd], acc[(r+1)*hd:(r+2)*hd], e[:lim], e[TileKV:TileKV+lim], vt)
				} else {
					for j := range np {
						if live[j] {
							im.acc(acc[(r+j)*hd:(r+j+1)*hd], e[j*TileKV:j*TileKV+lim], vt)
						}
					}
				}
				g += np
			}
		}
	}
	for i := range n {
		for g := range heads {
			r := i*heads + g
			inv := float32(0)
			if s.s[r] != 0 {
				inv = 1 / s.s[r]
			}
			o := out[i*stride+g*hd : i*stride+(g+1)*hd]
			for d, v := range acc[r*hd : (r+1)*hd] {
				o[d] = v * inv
			}
		}
	}
	return nil
}

// attendTiledRef is the tiled order for one query row over the first n
// positions of p, written as directly as possible from ggml's code (row
// tq of ggml_compute_forward_flash_attn_ext_tiled): the reference the fast
// AttendTiled is tested against. It uses only plain Go.
func attendTiledRef(out, q []float32, kv Type, n int, scale float32, p PagedKV) {
	hd := len(q)
	rb, _ := RowBytes(kv, int64(hd))
	ninf := float32(math.Inf(-1))
	m, sum := ninf, float32(0)
	acc := make([]float32, hd)
	kr := make([]float32, hd)
	v := make([][]float32, TileKV)
	var kq, w [TileKV]float32
	for ic := 0; ic < n; ic += TileKV {
		for t := range TileKV {
			kq[t] = ninf // past the row's limit, or past the cache
			v[t] = make([]float32, hd)
			if ic+t >= n {
				continue
			}
			widen(kv, p.row(p.K, ic+t, int(rb)), kr)
			x := float32(0)
			for d := range hd {
				x = fmaf(q[d], kr[d], x)
			}
			kq[t] = x * scale
			widen(kv, p.row(p.V, ic+t, int(rb)), v[t])
		}
		tmax := ninf
		for _, x := range kq {
			if x > tmax {
				tmax = x
			}
		}
		if tmax == ninf {
			continue
		}
		mnew := max(m, tmax)
		if mnew > m {
			ms := expf(m - mnew)
			for d := range acc {
				acc[d] *= ms
			}
			sum *= ms
		}
		m = mnew
		var tile float64
		for g := 0; g < TileKV; g += 16 {
			var lanes [16]float32
			for l := range lanes {
				w[g+l] = vexpf(kq[g+l] - m)
				lanes[l] = w[g+l]
			}
			tile += float64(reduceAdd16(&lanes))
		}
		sum = float32(float64(sum) + tile)
		for t := range min(TileKV, n-ic) {
			for d := range acc {
				acc[d] = fmaf(w[t], v[t][d], acc[d])
			}
		}
	}
	inv := float32(0)
	if sum != 0 {
		inv = 1 / sum
	}
	for d := range acc {
		out[d] = acc[d] * inv
	}
}
