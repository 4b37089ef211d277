package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestAttendTiledMatchesRef checks AttendTiled against attendTiledRef bit
// for bit at every supported level: F16 and F32 caches, head dims 16 to
// 128, limits below, at and across tile edges, tokens with different
// limits in one call (a causal prefill chunk), 1 to 4 heads per token with
// padding between tokens, shuffled block tables, scores whose maximum
// moves often or whose weights underflow, and queries with extreme values.
func TestAttendTiledMatchesRef(t *testing.T) {
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		t.Run(l.String(), func(t *testing.T) {
			r := newRand(uint64(70 + l))
			checked := 0
			for _, kv := range []Type{F16, F32} {
				for _, hd := range []int{64, 32, 16, 128, 80} {
					for ci, base := range []int{1, 60, 63, 64, 65, 127, 190} {
						tokens := []int{1, 3, 5, 8}[ci%4]
						heads := []int{1, 4, 3, 2}[(ci+hd/16)%4]
						bs := []int{16, 7, 32}[ci%3]
						mode := ci % 3
						maxN := base + tokens - 1
						c := newPagedCase(r, kv, hd, bs, 1+ci%2, maxN, mode)
						head := ci % c.kvHeads
						stride := heads*hd + ci%3*hd
						q := randomFloats(r, tokens*stride)
						if ci == 5 {
							for i := range q {
								switch i % 4 {
								case 0:
									q[i] *= 1e4
								case 1:
									q[i] *= 1e-30
								}
							}
						}
						n := make([]int, tokens)
						for i := range n {
							n[i] = base + i
						}
						if tokens > 2 {
							n[1] = 0 // a row that sees nothing: output 0
						}
						scale := float32(1 / math.Sqrt(float64(hd)))
						got := make([]float32, len(q))
						var s TiledScratch
						if err := AttendTiled(got, q, stride, heads, hd, kv, n, scale, c.view(head), &s); err != nil {
							t.Fatal(err)
						}
						for i := range n {
							for g := range heads {
								off := i*stride + g*hd
								want := make([]float32, hd)
								attendTiledRef(want, q[off:off+hd], kv, n[i], scale, c.view(head))
								name := fmt.Sprintf("%s hd=%d n=%d bs=%d heads=%d mode=%d token %d head %d", kv, hd, n[i], bs, heads, mode, i, g)
								sameBits(t, name, got[off:off+hd], want)
								checked++
							}
						}
					}
				}
			}
			t.Logf("%d rows at %s (tiled kernels %q)", checked, l, tiledFor(l).name)
		})
	}
}

func readF32(t *testing.T, name string, want int) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tiled", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*want {
		t.Fatalf("%s: %d bytes, want %d", name, len(b), 4*want)
	}
	v := make([]float32, want)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestAttendTiledMatchesLlamaCpp feeds llama.cpp's own layer-0 Q, K and V
// of a 200-token prefill (testdata/tiled: synth256, head dim 32, 8 query
// heads over 4 KV heads, F16 cache) to AttendTiled, as the model calls it
// (causal limits, chunks of 16 tokens, a shuffled block table), and
// expects llama.cpp's attention output bit for bit at every level. The
// one-row path (AttendPagedGroup) must not match it: that is why the
// tiled order exists.
func TestAttendTiledMatchesLlamaCpp(t *testing.T) {
	defer SetLevel(LevelGeneric)
	const ntok, hd, nHead, kvHeads, bs, chunk = 200, 32, 8, 4, 16, 16
	q := readF32(t, "q.f32", ntok*nHead*hd)
	k := readF32(t, "k.f32", ntok*kvHeads*hd)
	v := readF32(t, "v.f32", ntok*kvHeads*hd)
	want := readF32(t, "kqv_out.f32", ntok*nHead*hd)
	nb := (ntok + bs - 1) / bs
	table := make([]int32, nb)
	for i := range table {
		table[i] = int32((i*5 + 3) % nb) // a permutation: 5 and 13 are coprime
	}
	slotBytes := kvHeads * hd * 2
	kb, vb := make([]byte, nb*bs*slotBytes), make([]byte, nb*bs*slotBytes)
	for j := range ntok {
		slot := int(table[j/bs])*bs + j%bs
		for i := range kvHeads * hd {
			binary.LittleEndian.PutUint16(kb[slot*slotBytes+2*i:], FP32ToFP16(k[j*kvHeads*hd+i]))
			binary.LittleEndian.PutUint16(vb[slot*slotBytes+2*i:], FP32ToFP16(v[j*kvHeads*hd+i]))
		}
	}
	scale := float32(1 / math.Sqrt(hd))
	group := nHead / kvHeads
	view := func(kvh int) PagedKV {
		return PagedKV{K: kb, V: vb, BlockSize: bs, SlotBytes: slotBytes, HeadOffset: kvh * hd * 2, Blocks: table}
	}
	for _, l := range SupportedLevels() {
		SetLevel(l)
		got := make([]float32, len(q))
		var s TiledScratch
		for lo := 0; lo < ntok; lo += chunk {
			hi := min(lo+chunk, ntok)
			n := make([]int, hi-lo)
			for i := range n {
				n[i] = lo + i + 1
			}
			for kvh := range kvHeads {
				off := (lo*nHead + kvh*group) * hd
				if err := AttendTiled(got[off:], q[off:], nHead*hd, group, hd, F16, n, scale, view(kvh), &s); err != nil {
					t.Fatal(err)
				}
			}
		}
		sameBits(t, fmt.Sprintf("%s: llama.cpp kqv_out-0", l), got, want)
	}
	oneRow := make([]float32, len(q))
	var s AttentionScratch
	for i := range ntok {
		for kvh := range kvHeads {
			off := (i*nHead + kvh*group) * hd
			if err := AttendPagedGroup(oneRow[off:off+group*hd], q[off:off+group*hd], hd, F16, i+1, scale, view(kvh), &s); err != nil {
				t.Fatal(err)
			}
		}
	}
	diff := 0
	for i := range want {
		if oneRow[i] != want[i] {
			diff++
		}
	}
	if diff == 0 {
		t.Fatal("the one-row path matches llama.cpp's tiled output exactly: the reference data does not tell the orders apart")
	}
	t.Logf("the one-row path differs from llama.cpp in %d of %d values", diff, len(want))
}

// TestAttendTiledRefIsAttention checks the reference against attention
// computed in float64 (within float32 rounding), so it is attention and
// not only self-consistent.
func TestAttendTiledRefIsAttention(t *testing.T) {
	r := newRand(7)
	for _, kv := range []Type{F16, F32} {
		hd, n := 64, 150
		c := newPagedCase(r, kv, hd, 16, 2, n, 0)
		p := c.view(1)
		rb, _ := RowBytes(kv, int64(hd))
		q := randomFloats(r, hd)
		scale := float32(0.125)
		got := make([]float32, hd)
		attendTiledRef(got, q, kv, n, scale, p)
		k, v := make([]float32, hd), make([]float32, hd)
		want := make([]float64, hd)
		xs := make([]float64, n)
		mx := math.Inf(-1)
		for j := range n {
			widen(kv, p.row(p.K, j, int(rb)), k)
			for d := range hd {
				xs[j] += float64(q[d]) * float64(k[d])
			}
			xs[j] *= float64(scale)
			mx = math.Max(mx, xs[j])
		}
		sum := 0.0
		for j := range n {
			w := math.Exp(xs[j] - mx)
			sum += w
			widen(kv, p.row(p.V, j, int(rb)), v)
			for d := range hd {
				want[d] += w * float64(v[d])
			}
		}
		for d := range hd {
			if e := math.Abs(float64(got[d]) - want[d]/sum); e > 1e-5 {
				t.Fatalf("%s: out[%d] = %g, float64 attention %g", kv, d, got[d], want[d]/sum)
			}
		}
	}
}

// TestAttendTiledErrors checks that bad shapes are reported, not indexed.
func TestAttendTiledErrors(t *testing.T) {
	r := newRand(3)
	c := newPagedCase(r, F16, 64, 16, 1, 40, 0)
	q := make([]float32, 128)
	var s TiledScratch
	for _, tc := range []struct {
		name   string
		kv     Type
		hd     int
		stride int
		n      []int
	}{
		{"q8_0", Q8_0, 64, 64, []int{1}},
		{"hd 24", F16, 24, 24, []int{1}},
		{"short q", F16, 64, 64, []int{1, 2, 3}},
		{"negative n", F16, 64, 64, []int{-1}},
		{"past the table", F16, 64, 64, []int{100}},
		{"no tokens", F16, 64, 64, nil},
	} {
		if err := AttendTiled(q, q, tc.stride, 1, tc.hd, tc.kv, tc.n, 1, c.view(0), &s); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// BenchmarkAttendPrefill512 is one layer's attention for a 512-token
// prefill of the 1b shape (head dim 64, 32 query heads over 4 KV heads,
// F16 cache), on one thread, at each supported level from avx2 up: the
// one-row path (AttendPagedGroup per token, as the model runs below 64
// tokens) against AttendTiled over chunks of 16 tokens (as the model runs
// it). One op is one KV head's share; ms/layer is for all 4.
func BenchmarkAttendPrefill512(b *testing.B) {
	defer SetLevel(LevelGeneric)
	r := newRand(9)
	const hd, ntok, group, kvHeads, chunk = 64, 512, 8, 4, 16
	c := newPagedCase(r, F16, hd, 16, kvHeads, ntok, 0)
	q := randomFloats(r, ntok*group*hd)
	out := make([]float32, len(q))
	scale := float32(0.125)
	perLayer := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*kvHeads/1e6, "ms/layer")
	}
	for _, l := range SupportedLevels() {
		if l == LevelGeneric {
			continue
		}
		b.Run(l.String()+"/one-row", func(b *testing.B) {
			SetLevel(l)
			var s AttentionScratch
			for b.Loop() {
				for i := range ntok {
					o := i * group * hd
					if err := AttendPagedGroup(out[o:o+group*hd], q[o:o+group*hd], hd, F16, i+1, scale, c.view(1), &s); err != nil {
						b.Fatal(err)
					}
				}
			}
			perLayer(b)
		})
		b.Run(l.String()+"/tiled", func(b *testing.B) {
			SetLevel(l)
			var s TiledScratch
			n := make([]int, chunk)
			for b.Loop() {
				for lo := 0; lo < ntok; lo += chunk {
					for i := range n {
						n[i] = lo + i + 1
					}
					o := lo * group * hd
					if err := AttendTiled(out[o:], q[o:], group*hd, group, hd, F16, n, scale, c.view(1), &s); err != nil {
						b.Fatal(err)
					}
				}
			}
			perLayer(b)
		})
	}
}

// TestVexpfFastMatchesVexpf checks the Go softmax's exponential against
// vexpf (one lane of ggml_v_expf) bit for bit: specials, and every float32
// from -1 down to -110, from -1 up to 0 and from 0 up to 100 with a stride, which covers
// results that are subnormal, 0, near the overflow and +Inf.
func TestVexpfFastMatchesVexpf(t *testing.T) {
	check := func(x float32) {
		got, want := vexpfFast(x), vexpf(x)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("vexpfFast(%g) = %g (%#08x), vexpf %g (%#08x)", x, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for _, x := range []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(-1)), float32(math.Inf(1)),
		float32(math.NaN()), 88.7, 88.72284, 88.73, 89, -87.33655, -87.4, -103.97, -104, -150, 1e-30, -1e-30} {
		check(x)
	}
	count := 0
	for b := math.Float32bits(-1); math.Float32frombits(b) > -110; b += 97 {
		check(math.Float32frombits(b))
		count++
	}
	for b := math.Float32bits(-1); b > 0x80000000+97; b -= 97 { // (-1, 0)
		check(math.Float32frombits(b))
		count++
	}
	for b := uint32(0); math.Float32frombits(b) < 100; b += 97 {
		check(math.Float32frombits(b))
		count++
	}
	t.Logf("%d values", count)
}

// TestTiledSoftmaxLevels checks each level's tile softmax against the Go
// one (vexpf's lanes and ggml's sum) bit for bit over arguments x - m
// from 0 down to -110 with a stride (results down to 0 through the
// subnormals), -Inf lanes (masked positions) and ties with the maximum.
func TestTiledSoftmaxLevels(t *testing.T) {
	defer SetLevel(LevelGeneric)
	ref := tiledFor(LevelGeneric)
	for _, l := range SupportedLevels() {
		im := tiledFor(l)
		x := make([]float32, TileKV)
		e, we := make([]float32, TileKV), make([]float32, TileKV)
		tiles := 0
		m := float32(3.5)
		for b := uint32(0); math.Float32frombits(b) < 110; {
			for i := range x {
				x[i] = m - math.Float32frombits(b)
				b += 1031
			}
			x[tiles%TileKV] = float32(math.Inf(-1))
			x[(tiles*7)%TileKV] = m
			got, want := im.softmax(x, m, e), ref.softmax(x, m, we)
			if got != want {
				t.Fatalf("%s: tile %d: sum %v, want %v", l, tiles, got, want)
			}
			sameBits(t, fmt.Sprintf("%s: tile %d", l, tiles), e, we)
			tiles++
		}
		t.Logf("%s (%s): %d tiles", l, im.name, tiles)
	}
}
