package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// pagedCase is a random paged cache: kvHeads heads per slot, numBlocks
// blocks of bs slots, and a shuffled block table over them.
type pagedCase struct {
	kv        Type
	hd, bs    int
	kvHeads   int
	rowBytes  int
	k, v      []byte
	table     []int32
	numBlocks int
}

func newPagedCase(r *rand.Rand, kv Type, hd, bs, kvHeads, n int, mode int) *pagedCase {
	rb, err := RowBytes(kv, int64(hd))
	if err != nil {
		panic(err)
	}
	nb := (n + bs - 1) / bs
	c := &pagedCase{kv: kv, hd: hd, bs: bs, kvHeads: kvHeads, rowBytes: int(rb), numBlocks: nb + 3}
	slots := c.numBlocks * bs
	c.k = make([]byte, slots*kvHeads*c.rowBytes)
	c.v = make([]byte, slots*kvHeads*c.rowBytes)
	for s := range slots {
		for h := range kvHeads {
			kx := randomFloats(r, hd)
			switch mode {
			case 1: // scores rising along the positions: the maximum moves often
				for i := range kx {
					kx[i] = float32(s%97)*0.05 + kx[i]*0.01
				}
			case 2: // wide score range: many weights underflow to 0
				for i := range kx {
					kx[i] *= 30
				}
			}
			off := (s*kvHeads + h) * c.rowBytes
			QuantizeActivations(kv, kx, c.k[off:off+c.rowBytes])
			QuantizeActivations(kv, randomFloats(r, hd), c.v[off:off+c.rowBytes])
		}
	}
	perm := r.Perm(c.numBlocks)
	for _, b := range perm[:nb] {
		c.table = append(c.table, int32(b))
	}
	return c
}

func (c *pagedCase) view(head int) PagedKV {
	return PagedKV{K: c.k, V: c.v, BlockSize: c.bs, SlotBytes: c.kvHeads * c.rowBytes,
		HeadOffset: head * c.rowBytes, Blocks: c.table}
}

// attendRef is Attend over the case's cache with per-position closures.
func (c *pagedCase) attendRef(out, q []float32, n, head int, scale float32) {
	c.attendRefScratch(out, q, n, head, scale, &AttentionScratch{})
}

func (c *pagedCase) attendRefScratch(out, q []float32, n, head int, scale float32, s *AttentionScratch) {
	row := func(buf []byte, j int) []byte {
		slot := int(c.table[j/c.bs])*c.bs + j%c.bs
		off := (slot*c.kvHeads + head) * c.rowBytes
		return buf[off : off+c.rowBytes]
	}
	Attend(out, q, c.kv, n, scale,
		func(j int) []byte { return row(c.k, j) },
		func(j int) []byte { return row(c.v, j) }, s)
}

// TestAttendPagedMatchesAttend checks AttendPaged and AttendPagedGroup
// against Attend bit for bit at every supported level (generic included):
// F16, F32 and Q8_0 caches, head dims 64, 128 and odd ones, n not a
// multiple of the block size, shuffled tables, several KV heads per slot,
// groups of 1 to 4 query heads, and scores whose maximum moves often or
// whose weights underflow.
func TestAttendPagedMatchesAttend(t *testing.T) {
	defer SetLevel(LevelGeneric)
	hds := map[Type][]int{F16: {64, 128, 48, 72, 13}, F32: {64, 128, 52, 3}, Q8_0: {64, 128, 96}}
	for _, l := range SupportedLevels() {
		SetLevel(l)
		t.Run(l.String(), func(t *testing.T) {
			r := newRand(uint64(40 + l))
			checked := 0
			for _, kv := range []Type{F16, F32, Q8_0} {
				for _, hd := range hds[kv] {
					for ci, n := range []int{1, 15, 16, 17, 50, 130} {
						bs := []int{16, 7, 32}[ci%3]
						mode := ci % 3
						kvHeads, group := 2, []int{1, 4, 3, 8, 5, 4}[ci] // 4, 8 and 5: the four-head kernel (and one left over)
						c := newPagedCase(r, kv, hd, bs, kvHeads, n, mode)
						scale := float32(1 / math.Sqrt(float64(hd)))
						for head := range kvHeads {
							q := randomFloats(r, group*hd)
							if ci == 4 {
								// Queries at the edges of F16: overflow, subnormals, ties.
								for i := range q {
									switch i % 5 {
									case 0:
										q[i] *= 1e5
									case 1:
										q[i] *= 1e-6
									case 2:
										q[i] = FP16ToFP32(uint16(r.IntN(0x7c00))) + FP16ToFP32(1)/2
									}
								}
							}
							want := make([]float32, group*hd)
							for g := range group {
								c.attendRef(want[g*hd:(g+1)*hd], q[g*hd:(g+1)*hd], n, head, scale)
							}
							got := make([]float32, group*hd)
							var s AttentionScratch
							if err := AttendPagedGroup(got, q, hd, kv, n, scale, c.view(head), &s); err != nil {
								t.Fatal(err)
							}
							name := fmt.Sprintf("%s hd=%d n=%d bs=%d head=%d group=%d mode=%d", kv, hd, n, bs, head, group, mode)
							sameBits(t, name+" group", got, want)
							// One head alone, reusing the (now larger) scratch.
							one := make([]float32, hd)
							if err := AttendPaged(one, q[:hd], kv, n, scale, c.view(head), &s); err != nil {
								t.Fatal(err)
							}
							sameBits(t, name+" single", one, want[:hd])
							checked++
						}
					}
				}
			}
			t.Logf("%d cases at %s (paged kernels %q)", checked, l, current().attn.name)
		})
	}
}

func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: out[%d] = %v (%#08x), Attend %v (%#08x)", name, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestAttendPagedEmptyAndZeros covers n = 0 (all zeros, as Attend) and a
// rescale by a factor that rounds to exactly 1 (a score above the maximum
// by less than float32 can tell apart after exp).
func TestAttendPagedEmptyAndZeros(t *testing.T) {
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		r := newRand(3)
		c := newPagedCase(r, F16, 64, 16, 1, 40, 0)
		// Keys equal but for one element nudged up by one F16 ulp every
		// other position, and a tiny query: the maximum rises by so little
		// that expf(old-m) is exactly 1.
		base := randomFloats(r, 64)
		base[0] = float32(math.Abs(float64(base[0]))) + 0.5
		q := randomFloats(r, 64)
		for i := range q {
			q[i] *= 1e-4
		}
		q[0] = 1e-4
		qh := quantized(F16, q)
		m, ones := float32(math.Inf(-1)), 0
		for j := range 40 {
			kx := append([]float32(nil), base...)
			kx[0] = FP16ToFP32(FP32ToFP16(kx[0]) + uint16(j/2))
			slot := int(c.table[j/16])*16 + j%16
			QuantizeActivations(F16, kx, c.k[slot*128:(slot+1)*128])
			if x := dotF16(64, c.k[slot*128:(slot+1)*128], qh) * 0.125; x > m {
				if expf(m-x) == 1 {
					ones++
				}
				m = x
			}
		}
		if ones == 0 {
			t.Fatal("no rescale by exactly 1 in the test data")
		}
		want := make([]float32, 64)
		c.attendRef(want, q, 40, 0, 0.125)
		got := make([]float32, 64)
		if err := AttendPaged(got, q, F16, 40, 0.125, c.view(0), &AttentionScratch{}); err != nil {
			t.Fatal(err)
		}
		sameBits(t, l.String()+" tiny rises", got, want)
		c.attendRef(want, q, 0, 0, 0.125)
		if err := AttendPaged(got, q, F16, 0, 0.125, c.view(0), &AttentionScratch{}); err != nil {
			t.Fatal(err)
		}
		sameBits(t, l.String()+" n=0", got, want)
	}
}

// TestAttendPagedRejectsBadViews checks that malformed views and arguments
// give errors instead of out-of-range panics.
func TestAttendPagedRejectsBadViews(t *testing.T) {
	r := newRand(4)
	c := newPagedCase(r, F16, 64, 16, 2, 40, 0)
	q := randomFloats(r, 64)
	out := make([]float32, 64)
	good := c.view(1)
	cases := map[string]func(p *PagedKV) (Type, int, []float32){
		"short table":      func(p *PagedKV) (Type, int, []float32) { p.Blocks = p.Blocks[:2]; return F16, 40, q },
		"block too large":  func(p *PagedKV) (Type, int, []float32) { p.Blocks = []int32{0, 99, 1}; return F16, 40, q },
		"negative block":   func(p *PagedKV) (Type, int, []float32) { p.Blocks = []int32{0, -1, 1}; return F16, 40, q },
		"head past slot":   func(p *PagedKV) (Type, int, []float32) { p.HeadOffset = 200; return F16, 40, q },
		"zero block size":  func(p *PagedKV) (Type, int, []float32) { p.BlockSize = 0; return F16, 40, q },
		"short V":          func(p *PagedKV) (Type, int, []float32) { p.V = p.V[:100]; return F16, 40, q },
		"negative n":       func(p *PagedKV) (Type, int, []float32) { return F16, -1, q },
		"Q8_0 head dim 48": func(p *PagedKV) (Type, int, []float32) { return Q8_0, 4, q[:48] },
		"unknown type":     func(p *PagedKV) (Type, int, []float32) { return Type(99), 4, q },
	}
	for name, f := range cases {
		p := good
		kv, n, qq := f(&p)
		if err := AttendPaged(out[:len(qq)], qq, kv, n, 0.125, p, &AttentionScratch{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := AttendPagedGroup(out, q, 48, F16, 40, 0.125, good, &AttentionScratch{}); err == nil {
		t.Errorf("64 query values for head dim 48: no error")
	}
	if err := AttendPagedGroup(out[:32], q, 64, F16, 40, 0.125, good, &AttentionScratch{}); err == nil {
		t.Errorf("short output: no error")
	}
	if err := AttendPaged(out, q, F16, 40, 0.125, good, &AttentionScratch{}); err != nil {
		t.Errorf("good view: %v", err)
	}
}

// BenchmarkAttend compares Attend with per-position closures (as the model
// called it) with AttendPaged and AttendPagedGroup (4 query heads per KV
// head, reported per head) over an F16 cache at the detected level, for
// head dims 64 and 128 and the bundled stories260K's 8.
func BenchmarkAttend(b *testing.B) {
	defer SetLevel(LevelGeneric)
	SetLevel(DetectedLevel())
	r := newRand(8)
	for _, hd := range []int{8, 64, 128} { // 8: the bundled stories260K
		for _, n := range []int{64, 512, 2048} {
			if hd == 8 && n > 512 {
				continue
			}
			const bs, kvHeads, group = 16, 4, 4
			c := newPagedCase(r, F16, hd, bs, kvHeads, n, 0)
			q := randomFloats(r, group*hd)
			out := make([]float32, group*hd)
			scale := float32(0.125)
			name := fmt.Sprintf("hd=%d/n=%d", hd, n)
			b.Run(name+"/closures", func(b *testing.B) {
				var s AttentionScratch
				table := c.table
				for b.Loop() {
					Attend(out[:hd], q[:hd], F16, n, scale,
						func(j int) []byte {
							off := ((int(table[j/bs])*bs+j%bs)*kvHeads + 1) * c.rowBytes
							return c.k[off : off+c.rowBytes]
						},
						func(j int) []byte {
							off := ((int(table[j/bs])*bs+j%bs)*kvHeads + 1) * c.rowBytes
							return c.v[off : off+c.rowBytes]
						}, &s)
				}
			})
			b.Run(name+"/paged", func(b *testing.B) {
				var s AttentionScratch
				for b.Loop() {
					_ = AttendPaged(out[:hd], q[:hd], F16, n, scale, c.view(1), &s)
				}
			})
			b.Run(name+"/paged-group4-per-head", func(b *testing.B) {
				var s AttentionScratch
				for b.Loop() {
					_ = AttendPagedGroup(out, q, hd, F16, n, scale, c.view(1), &s)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/group, "ns/head")
			})
		}
	}
}

// TestAttendExpsMatchExpf checks each level's batched exponential against
// expf bit for bit: special values, random arguments, and every float32
// from 0 down to -700 with a stride (PAGODA_EXP_EXHAUSTIVE=1 tries all of
// them, about 1.1e9 values, and all positive ones up to 700, at the
// detected level only).
func TestAttendExpsMatchExpf(t *testing.T) {
	defer SetLevel(LevelGeneric)
	step := uint32(1009)
	levels := SupportedLevels()
	if os.Getenv("PAGODA_EXP_EXHAUSTIVE") == "1" {
		step = 1
		levels = []Level{DetectedLevel()}
	}
	special := []float32{0, float32(math.Copysign(0, -1)), -1e-30, -1e-8, -0.5, -1, -87.3, -103.9, -104,
		-110, -699.9, -700, -700.1, -708.5, -745, -1e30, float32(math.Inf(-1)), float32(math.NaN()),
		88.7, 88.8, 100, 700, 700.1, 1e30, float32(math.Inf(1))}
	for _, l := range levels {
		SetLevel(l)
		exps := current().attn.exps
		r := newRand(11)
		x := append([]float32(nil), special...)
		for range 4000 {
			x = append(x, -float32(r.ExpFloat64()*20))
		}
		checkExps(t, l, exps, x)
		for _, sign := range []uint32{1 << 31, 0} {
			limit := math.Float32bits(700)
			if sign == 0 && step != 1 {
				limit = math.Float32bits(90)
			}
			x = x[:0]
			for b := uint32(0); b <= limit; b += step {
				x = append(x, math.Float32frombits(sign|b))
				if len(x) == 1<<16 {
					checkExps(t, l, exps, x)
					x = x[:0]
				}
			}
			checkExps(t, l, exps, x)
		}
	}
}

func checkExps(t *testing.T, l Level, exps func(x, y []float32), x []float32) {
	t.Helper()
	if len(x) == 0 {
		return
	}
	y := make([]float32, len(x))
	for _, n := range []int{len(x), 7} { // 7: the tail after whole vectors
		n = min(n, len(x))
		exps(x[:n], y[:n])
		for i, v := range x[:n] {
			want := expf(v)
			if math.Float32bits(y[i]) != math.Float32bits(want) {
				t.Fatalf("%s: exp(%v [%#08x]) = %v, expf %v", l, v, math.Float32bits(v), y[i], want)
			}
		}
	}
}

// TestAttendBlockKernels checks each level's block kernels one by one
// against what Attend uses per row at that level, bit for bit: the F16
// dots against VecDot (including values from F16's subnormals to its
// largest, so that the float64 tail sum's order shows), the F16 and F32
// accumulator updates against the per-row kernels, the in-place F32 update
// and the Q8_0 row dequantization against the generic code.
func TestAttendBlockKernels(t *testing.T) {
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		d := current()
		r := newRand(uint64(60 + l))
		for _, n := range []int{1, 5, 8, 13, 48, 64, 72, 100, 128, 136} {
			for trial := range 6 {
				rows, stride := 1+r.IntN(20), 2*n+2*r.IntN(9)
				k := make([]byte, rows*stride)
				q := make([]byte, 2*n)
				half := func() uint16 {
					if trial >= 3 { // any finite F16, subnormals included
						return uint16(r.IntN(0x7c00)) | uint16(r.IntN(2))<<15
					}
					return FP32ToFP16(float32(r.NormFloat64()))
				}
				for i := range n {
					binary.LittleEndian.PutUint16(q[2*i:], half())
					for row := range rows {
						binary.LittleEndian.PutUint16(k[row*stride+2*i:], half())
					}
				}
				if head := n &^ 63; trial == 5 && n-head >= 5 {
					// Products 1, 2^-24, 2^-48, 2^24, -2^24 at random places
					// after the vector head, zeros elsewhere: the float64 sum
					// lands on or off a float32 tie depending on its order.
					clear(k)
					clear(q)
					pairs := [][2]float32{{1, 1}, {0x1p-12, 0x1p-12}, {0x1p-24, 0x1p-24}, {0x1p12, 0x1p12}, {-0x1p12, 0x1p12}}
					pos := r.Perm(n - head)
					for row := range rows {
						for j, pr := range pairs {
							i := head + pos[j]
							binary.LittleEndian.PutUint16(k[row*stride+2*i:], FP32ToFP16(pr[0]))
							binary.LittleEndian.PutUint16(q[2*i:], FP32ToFP16(pr[1]))
						}
					}
				}
				name := fmt.Sprintf("%s n=%d rows=%d trial %d", l, n, rows, trial)
				if d.attn.dotsF16 != nil {
					x := make([]float32, rows)
					d.attn.dotsF16(n, k, stride, q, x)
					for row := range rows {
						want := d.dot[F16](n, k[row*stride:row*stride+2*n], q)
						if math.Float32bits(x[row]) != math.Float32bits(want) {
							t.Fatalf("%s: dot row %d = %v, VecDot %v", name, row, x[row], want)
						}
					}
				}
				// Accumulators: rows of V, rescales now and then (some by 1).
				ms, vs := make([]float32, rows), make([]float32, rows)
				for i := range ms {
					ms[i], vs[i] = 1, r.Float32()
					switch r.IntN(4) {
					case 0:
						ms[i], vs[i] = r.Float32(), 1
					case 1:
						ms[i], vs[i] = 1, 1
					}
				}
				h := make([]uint16, n)
				for i := range h {
					h[i] = FP32ToFP16(float32(r.NormFloat64() * 4))
				}
				want16 := append([]uint16(nil), h...)
				accF16Rows(d.f16, want16, k, stride, ms, vs)
				got16 := append([]uint16(nil), h...)
				if d.attn.accF16 != nil {
					d.attn.accF16(got16, k, stride, ms, vs)
				} else {
					accF16Rows(d.f16, got16, k, stride, ms, vs)
				}
				for i := range want16 {
					if got16[i] != want16[i] {
						t.Fatalf("%s: F16 acc[%d] = %#04x, per row %#04x", name, i, got16[i], want16[i])
					}
				}
				v := randomFloats(r, rows*n)
				acc := randomFloats(r, n)
				want32 := append([]float32(nil), acc...)
				accF32Generic(want32, v, ms, vs)
				got32 := append([]float32(nil), acc...)
				d.attn.accF32(got32, v, ms, vs)
				sameBits(t, name+" F32 acc", got32, want32)
				if d.attn.accF32Raw != nil {
					// The same rows as an F32 cache, padded apart.
					rs := 4*n + 4*r.IntN(5)
					raw := make([]byte, rows*rs)
					for row := range rows {
						for i := range n {
							binary.LittleEndian.PutUint32(raw[row*rs+4*i:], math.Float32bits(v[row*n+i]))
						}
					}
					got32 = append(got32[:0], acc...)
					d.attn.accF32Raw(got32, raw, rs, ms, vs)
					sameBits(t, name+" F32 raw acc", got32, want32)
				}
				if d.attn.dequantQ8_0 != nil && n%32 == 0 {
					rb := n / 32 * 34
					qs := rb + r.IntN(40)
					qv := make([]byte, rows*qs)
					for row := range rows {
						b := randomRow(r, Q8_0, n)
						if trial >= 3 {
							scaleRow(r, Q8_0, b, -12, 12)
						}
						copy(qv[row*qs:], b)
					}
					wantQ := make([]float32, rows*n)
					for row := range rows {
						dequantQ8_0(qv[row*qs:row*qs+rb], wantQ[row*n:(row+1)*n])
					}
					gotQ := make([]float32, rows*n)
					d.attn.dequantQ8_0(qv, qs, n, gotQ)
					sameBits(t, name+" Q8_0 dequant", gotQ, wantQ)
				}
			}
		}
	}
}

// BenchmarkAttendCacheTypes compares the closure path with AttendPaged for
// the F32 and Q8_0 caches (head dim 64, 512 positions).
func BenchmarkAttendCacheTypes(b *testing.B) {
	defer SetLevel(LevelGeneric)
	SetLevel(DetectedLevel())
	r := newRand(9)
	const hd, n, bs = 64, 512, 16
	for _, kv := range []Type{F32, Q8_0} {
		c := newPagedCase(r, kv, hd, bs, 1, n, 0)
		q := randomFloats(r, hd)
		out := make([]float32, hd)
		b.Run(kv.String()+"/closures", func(b *testing.B) {
			var s AttentionScratch
			for b.Loop() {
				c.attendRefScratch(out, q, n, 0, 0.125, &s)
			}
		})
		b.Run(kv.String()+"/paged", func(b *testing.B) {
			var s AttentionScratch
			for b.Loop() {
				_ = AttendPaged(out, q, kv, n, 0.125, c.view(0), &s)
			}
		})
	}
}
