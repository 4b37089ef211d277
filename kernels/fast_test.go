package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// forEachLevel runs f at every level this CPU supports above generic, and
// restores the generic level afterwards.
func forEachLevel(t *testing.T, f func(t *testing.T, l Level)) {
	t.Helper()
	defer SetLevel(LevelGeneric)
	levels := SupportedLevels()
	if len(levels) == 1 {
		t.Logf("only the generic level on this CPU/build")
	}
	for _, l := range levels[1:] {
		if got := SetLevel(l); got != l {
			t.Fatalf("SetLevel(%s) = %s", l, got)
		}
		t.Run(l.String(), func(t *testing.T) { f(t, l) })
	}
}

// scaleRow rescales every f16 scale field of a quantized row by a random
// power of two in [2^lo, 2^hi] (kept finite), for extreme-scale inputs.
func scaleRow(r *rand.Rand, typ Type, b []byte, lo, hi int) {
	l, _ := LayoutOf(typ)
	for blk := 0; blk < len(b)/l.BlockBytes; blk++ {
		for _, off := range halfFields[typ] {
			p := b[blk*l.BlockBytes+off:]
			v := FP16ToFP32(binary.LittleEndian.Uint16(p))
			v *= float32(math.Exp2(float64(lo + r.IntN(hi-lo+1))))
			binary.LittleEndian.PutUint16(p, FP32ToFP16(max(-6e4, min(6e4, v))))
		}
	}
}

// TestFastDotsMatchReference compares each level's dot products with the
// reference (Traits.VecDot) on random rows: block counts with odd tails,
// normal and extreme scales. They must be bit-identical: the reference
// follows llama.cpp's summation order, and so must every fast path.
func TestFastDotsMatchReference(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(uint64(l), 77))
		for _, typ := range computable {
			tr, _ := TraitsOf(typ)
			if current().names[typ] == "generic" {
				continue
			}
			bs := tr.BlockSize
			for _, blocks := range []int{1, 2, 3, 7, 9, 33} {
				n := blocks * bs
				if bs == 1 {
					n = []int{1, 7, 8, 31, 33, 1001}[blocks%6]
					if blocks == 33 {
						n = 2048 + 5
					}
				}
				for kind := range inputKinds {
					w, x := dotInputs(r, typ, n, kind)
					a := quantized(tr.VecDotType, x)
					ref := tr.VecDot(n, w, a)
					got := VecDot(typ, n, w, a)
					if math.Float32bits(got) != math.Float32bits(ref) {
						t.Errorf("%s n=%d %s: %s = %v, reference %v: not bit-identical",
							typ, n, inputKindNames[kind], current().names[typ], got, ref)
					}
				}
			}
		}
	})
}

// TestFastDotsOnZeros checks that the fast paths give exactly zero for zero
// weights and for zero activations (no stray reads of garbage past a row).
func TestFastDotsOnZeros(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(5)
		for _, typ := range computable {
			tr, _ := TraitsOf(typ)
			n := 3 * max(tr.BlockSize, 32)
			w := randomRow(r, typ, n)
			a := quantized(tr.VecDotType, make([]float32, n))
			if got := VecDot(typ, n, w, a); got != 0 {
				t.Errorf("%s: dot with zero activations = %v", typ, got)
			}
		}
	})
}

// TestFastMatMulAgreesWithVecDot checks MatMul at each level (with and
// without a pool, n = 1..9 so the multi-row tiles and their tails run)
// against that level's VecDot, bit for bit — or, for the F16 matrices
// llama.cpp hands to tinyBLAS (Rows a multiple of 4, n >= 2), against the
// tinyBLAS reference (tinyblas.go).
func TestFastMatMulAgreesWithVecDot(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(100 + l))
		for _, typ := range []Type{F16, Q4_0, Q8_0, Q4_K, Q6_K, Q5_0, IQ4_XS} {
			tr, _ := TraitsOf(typ)
			colsList := []int{3 * max(tr.BlockSize, 32)}
			if typ == F16 { // F16 kernels run 64 at a time: no head, several, a tail
				colsList = append(colsList, 40, 200)
			}
			for _, cols := range colsList {
				for _, rows := range []int{1, 5, 12, 13} { // 12: tinyBLAS for F16, not a repacked Q4_0
					w := Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)}
					for _, n := range []int{1, 2, 3, 4, 5, 9} {
						x := randomFloats(r, n*cols)
						want := matMulWant(w, x, n)
						for _, p := range []*Pool{nil, pool} {
							got := make([]float32, n*rows)
							MatMul(p, got, w, x, n)
							for k := range want {
								if got[k] != want[k] {
									t.Fatalf("%s rows=%d cols=%d n=%d threads=%d: dst[%d] = %v, want %v",
										typ, rows, cols, n, p.Threads(), k, got[k], want[k])
								}
							}
						}
					}
				}
			}
		}
	})
}

func TestLevels(t *testing.T) {
	defer SetLevel(LevelGeneric)
	if got := SetLevel(LevelGeneric); got != LevelGeneric || CurrentLevel() != LevelGeneric {
		t.Fatalf("SetLevel(generic) = %s, current %s", got, CurrentLevel())
	}
	for _, d := range Describe() {
		if d.Impl != "generic" {
			t.Errorf("generic level uses %s for %s", d.Impl, d.Op)
		}
	}
	best := DetectedLevel()
	if got := SetLevel(numLevels - 1); got != clampLevel(numLevels-1) {
		t.Errorf("SetLevel(max) = %s", got)
	}
	if got := SetLevel(best); got != best {
		t.Errorf("SetLevel(%s) = %s", best, got)
	}
	for _, s := range []string{"generic", "AVX2", "avx512", "avx512vnni", "neon"} {
		if _, err := ParseLevel(s); err != nil {
			t.Errorf("ParseLevel(%q): %v", s, err)
		}
	}
	if _, err := ParseLevel("sse9"); err == nil {
		t.Error("ParseLevel(sse9) succeeded")
	}
}

// BenchmarkFastDot times each type's dot product over a 4096-element row
// (in L1) at every supported level.
func BenchmarkFastDot(b *testing.B) {
	const n = 4096
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels() {
		SetLevel(l)
		r := rand.New(rand.NewPCG(5, 6))
		for _, typ := range []Type{F16, Q4_0, Q8_0, Q4_K, Q6_K} {
			tr, _ := TraitsOf(typ)
			w := randomRow(r, typ, n)
			a := quantized(tr.VecDotType, randomFloats(r, n))
			b.Run(l.String()+"/"+typ.String(), func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				for b.Loop() {
					VecDot(typ, n, w, a)
				}
			})
		}
	}
}

// TestFastF16Accumulate compares the vector F16 accumulator updates with
// the reference element by element: equal, except for at most one F16 ulp
// where float64-then-float32 rounding (the reference's fmaf) and a single
// hardware FMA rounding differ, which must be rare.
func TestFastF16Accumulate(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(9)
		acc := current().f16
		diffs, total := 0, 0
		for _, n := range []int{1, 7, 8, 9, 64, 67, 128} {
			for trial := 0; trial < 50; trial++ {
				h := make([]uint16, n)
				v := make([]byte, 2*n)
				for i := range h {
					h[i] = FP32ToFP16(float32(r.NormFloat64()) * float32(math.Exp2(float64(r.IntN(20)-10))))
					binary.LittleEndian.PutUint16(v[2*i:], FP32ToFP16(float32(r.NormFloat64())))
				}
				s := float32(r.Float64() * 2)
				want := append([]uint16(nil), h...)
				got := append([]uint16(nil), h...)
				if trial%2 == 0 {
					scaleF16Generic(want, s)
					acc.scale(got, s)
				} else {
					madF16Generic(want, v, s)
					acc.mad(got, v, s)
				}
				for i := range want {
					total++
					if got[i] == want[i] {
						continue
					}
					diffs++
					if d := int(got[i]) - int(want[i]); d > 1 || d < -1 {
						t.Fatalf("n=%d trial %d [%d]: %#04x, want %#04x", n, trial, i, got[i], want[i])
					}
				}
			}
		}
		if diffs*1000 > total {
			t.Errorf("%d of %d values differ from the reference", diffs, total)
		}
	})
}

// TestFastAttendMatchesReference runs Attend over an F16 cache at each
// level and compares with the generic level: the K·q dots differ only in
// float32 summation order and the F16 updates at most by rare ulps.
func TestFastAttendMatchesReference(t *testing.T) {
	r := newRand(21)
	const hd = 64
	for _, n := range []int{1, 5, 40, 300} {
		kc := make([][]byte, n)
		vc := make([][]byte, n)
		for j := range kc {
			kc[j] = quantized(F16, randomFloats(r, hd))
			vc[j] = quantized(F16, randomFloats(r, hd))
		}
		q := randomFloats(r, hd)
		kf := func(j int) []byte { return kc[j] }
		vf := func(j int) []byte { return vc[j] }
		want := make([]float32, hd)
		SetLevel(LevelGeneric)
		Attend(want, q, F16, n, 0.125, kf, vf, &AttentionScratch{})
		forEachLevel(t, func(t *testing.T, l Level) {
			got := make([]float32, hd)
			Attend(got, q, F16, n, 0.125, kf, vf, &AttentionScratch{})
			for d := range want {
				if math.Abs(float64(got[d]-want[d])) > 4e-3*(1+math.Abs(float64(want[d]))) {
					t.Fatalf("n=%d: out[%d] = %v, reference %v", n, d, got[d], want[d])
				}
			}
		})
	}
}

// BenchmarkFastMatVec times a 2048x2048 Q4_0 matrix times one and eight
// activation rows on one thread at the detected level.
func BenchmarkFastMatVec(b *testing.B) {
	defer SetLevel(LevelGeneric)
	SetLevel(DetectedLevel())
	r := newRand(3)
	for _, typ := range []Type{Q4_0, Q8_0, Q4_K, Q6_K, F16} {
		const rows, cols = 2048, 2048
		w := Pack(Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)})
		for _, n := range []int{1, 8} {
			x := randomFloats(r, n*cols)
			dst := make([]float32, n*rows)
			b.Run(typ.String()+"/n="+string(rune('0'+n)), func(b *testing.B) {
				b.SetBytes(int64(len(w.Data)))
				for b.Loop() {
					MatMul(nil, dst, w, x, n)
				}
			})
		}
	}
}

// BenchmarkAttendF16 times one query head over 256 cached F16 positions
// (head dim 64) at the generic and the detected level.
func BenchmarkAttendF16(b *testing.B) {
	defer SetLevel(LevelGeneric)
	r := newRand(8)
	const hd, n = 64, 256
	kc := quantized(F16, randomFloats(r, n*hd))
	vc := quantized(F16, randomFloats(r, n*hd))
	q := randomFloats(r, hd)
	out := make([]float32, hd)
	kf := func(j int) []byte { return kc[2*hd*j : 2*hd*(j+1)] }
	vf := func(j int) []byte { return vc[2*hd*j : 2*hd*(j+1)] }
	for _, l := range []Level{LevelGeneric, DetectedLevel()} {
		SetLevel(l)
		b.Run(l.String(), func(b *testing.B) {
			var s AttentionScratch
			for b.Loop() {
				Attend(out, q, F16, n, 0.125, kf, vf, &s)
			}
		})
	}
}

// waitParked waits until every worker of an idle p has parked: an idle
// pool must stop spinning soon after spinTime.
func waitParked(t *testing.T, p *Pool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		parked := 0
		for _, w := range p.workers {
			if w.parked.Load() {
				parked++
			}
		}
		if parked == len(p.workers) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d idle workers still spinning after 2 s", len(p.workers)-parked, len(p.workers))
		}
	}
}

// TestPoolBacksOffWhenShared: workers that fall a whole spin behind an
// even share twice in a row mean their cores are taken by other work, so
// the pool's waits spin only briefly for a while, then long again.
func TestPoolBacksOffWhenShared(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	if s := p.spinner(); s.limit != maxSpin {
		t.Fatalf("fresh pool spins %v, want %v", s.limit, maxSpin)
	}
	late := func(lo, hi int) {
		if lo > 0 {
			time.Sleep(3 * maxSpin) // the worker is late, as if descheduled
		}
	}
	waitParked(t, p)       // nothing spins: no signs but ours
	time.Sleep(signWindow) // no earlier sign counts
	p.markShared()
	if s := p.spinner(); s.limit != maxSpin {
		t.Fatalf("one sign (a hiccup) made the pool spin %v, want %v", s.limit, maxSpin)
	}
	time.Sleep(signWindow)
	start := time.Now()
	p.Run(2, late)
	p.Run(2, late)
	if p.sharedUntil.Load() < start.Add(sharedHold).UnixNano() {
		t.Fatal("two late workers in a row did not make the pool back off")
	}
	if s := p.spinner(); time.Since(start) < sharedHold && s.limit != minSpin {
		t.Fatalf("after a late worker the pool spins %v, want %v", s.limit, minSpin)
	}
	waitParked(t, p) // no spinning left to see a preemption
	time.Sleep(sharedHold + 10*time.Millisecond)
	if s := p.spinner(); s.limit != maxSpin {
		t.Fatalf("%v after a late worker the pool spins %v, want %v", sharedHold, s.limit, maxSpin)
	}
}

// TestPoolParkAndWake runs jobs back to back (workers spinning) and after
// pauses (workers parked), checking every index is visited exactly once,
// then closes the pool while its workers are parked.
func TestPoolParkAndWake(t *testing.T) {
	p := NewPool(3)
	for it := 0; it < 300; it++ {
		if it%50 == 0 {
			waitParked(t, p)
		}
		n := 1 + it%7
		hits := make([]atomic.Int32, n)
		p.Run(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("run %d (n=%d): index %d visited %d times", it, n, i, h)
			}
		}
	}
	waitParked(t, p)
	p.Close()
	ran := false
	p.Run(2, func(lo, hi int) { ran = lo == 0 && hi == 2 })
	if !ran {
		t.Error("Run after Close did not run the whole range on the caller")
	}
}

// BenchmarkMatVecDRAM streams a 64 MiB-plus matrix (far beyond the caches)
// through MatMul with one token on a two-thread pool: the tg situation.
// MB/s here is the weight bandwidth a decode step reaches.
func BenchmarkMatVecDRAM(b *testing.B) {
	defer SetLevel(LevelGeneric)
	SetLevel(DetectedLevel())
	pool := NewPool(2)
	defer pool.Close()
	r := newRand(4)
	for _, typ := range []Type{Q4_0, Q8_0, Q4_K, Q6_K, F16} {
		const rows, cols = 16384, 4096
		w := Pack(Matrix{Type: typ, Rows: rows, Cols: cols, Data: randomRow(r, typ, rows*cols)})
		x := randomFloats(r, cols)
		dst := make([]float32, rows)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(len(w.Data)))
			for b.Loop() {
				MatMul(pool, dst, w, x, 1)
			}
		})
	}
}
