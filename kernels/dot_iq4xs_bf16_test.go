//go:build amd64 && !noasm

package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// The IQ4_XS and BF16 kernels of dot_iq4xs_bf16_amd64.s must equal the
// references dotIQ4_XS and dotBF16 bit for bit (llama.cpp's x86 float
// order) on every input. The file is amd64-only: it calls the kernels
// directly and knows which level registers which.

// xsbfWantImpl is the implementation the dispatcher must pick at level l,
// so that a missing registration cannot pass as a reference-vs-reference
// comparison.
func xsbfWantImpl(l Level) string {
	switch {
	case l >= LevelAVX512:
		return "avx512"
	case l >= LevelAVX2:
		return "avx2"
	}
	return "generic"
}

// xsbfCheck compares VecDot at the current level with the reference,
// float32 bits included (so +0 and -0 differ).
func xsbfCheck(t *testing.T, typ Type, n int, w, a []byte, what string) {
	t.Helper()
	tr, _ := TraitsOf(typ)
	ref := tr.VecDot(n, w, a)
	got := VecDot(typ, n, w, a)
	if math.Float32bits(got) != math.Float32bits(ref) {
		t.Errorf("%s n=%d %s: %s = %v (%#08x), reference %v (%#08x)", typ, n, what,
			current().names[typ], got, math.Float32bits(got), ref, math.Float32bits(ref))
	}
}

func TestIQ4XSDotExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		if got, want := current().names[IQ4_XS], xsbfWantImpl(l); got != want {
			t.Fatalf("IQ4_XS dot at %s is %q, want %q", l, got, want)
		}
		r := newRand(uint64(100 + l))
		tr, _ := TraitsOf(IQ4_XS)
		for _, nb := range []int{1, 2, 3, 7, 9, 33} {
			n := nb * QK_K
			for trial := range 6 {
				w, x := dotInputs(r, IQ4_XS, n, trial%inputKinds)
				what := inputKindNames[trial%inputKinds]
				switch trial {
				case 5:
					what = "extreme sub-block scales"
					// Every sub-block scale at -32 or +31, quants at the
					// codebook's ends: the largest integer sums.
					for b := 0; b < nb; b++ {
						blk := w[b*iq4XSBytes : (b+1)*iq4XSBytes]
						hi := uint16(0)
						for ib := range 8 {
							lo := byte(0)
							if r.IntN(2) == 0 {
								lo, hi = 0x0f, hi|3<<(2*ib)
							}
							blk[4+ib/2] = blk[4+ib/2]&^(0x0f<<(4*(ib%2))) | lo<<(4*(ib%2))
						}
						binary.LittleEndian.PutUint16(blk[2:], hi)
						for j := 8; j < iq4XSBytes; j++ {
							blk[j] = []byte{0x00, 0xff, 0x0f, 0xf0}[r.IntN(4)]
						}
					}
				}
				xsbfCheck(t, IQ4_XS, n, w, quantized(tr.VecDotType, x), what)
			}
		}
	})
}

// TestIQ4XSDotRawActivations feeds Q8_K rows of arbitrary bytes (quants
// -128 included, which the quantizer never writes but a fast kernel must
// still multiply exactly) and random finite scales.
func TestIQ4XSDotRawActivations(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := newRand(uint64(200 + l))
		for _, nb := range []int{1, 2, 5} {
			n := nb * QK_K
			for trial := range 4 {
				w := randomRow(r, IQ4_XS, n)
				a := make([]byte, nb*q8KBytes)
				for i := range a {
					a[i] = byte(r.IntN(256))
				}
				for b := 0; b < nb; b++ {
					qs := a[b*q8KBytes+4 : b*q8KBytes+260]
					if trial == 1 {
						for j := range qs {
							qs[j] = 0x80 // all -128
						}
					}
					d := float32(r.NormFloat64()) * float32(math.Exp2(float64(r.IntN(40)-20)))
					binary.LittleEndian.PutUint32(a[b*q8KBytes:], math.Float32bits(d))
				}
				xsbfCheck(t, IQ4_XS, n, w, a, "raw Q8_K bytes")
			}
		}
	})
}

// xsbfBF16Row returns a row of n random normal bfloat16 values, each times 2^e
// with e uniform in [lo, hi].
func xsbfBF16Row(r *rand.Rand, n, lo, hi int) []byte {
	b := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := float32(r.NormFloat64() * math.Exp2(float64(lo+r.IntN(hi-lo+1))))
		binary.LittleEndian.PutUint16(b[2*i:], FP32ToBF16(v))
	}
	return b
}

func TestBF16DotExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		if got, want := current().names[BF16], xsbfWantImpl(l); got != want {
			t.Fatalf("BF16 dot at %s is %q, want %q", l, got, want)
		}
		r := newRand(uint64(300 + l))
		tr, _ := TraitsOf(BF16)
		for _, n := range []int{1, 7, 31, 32, 33, 63, 64, 65, 96, 257, 1001, 2048 + 5, 4096} {
			for trial := range 6 {
				var w, a []byte
				what := "random"
				switch trial {
				case 0:
					w = randomRow(r, BF16, n)
					a = quantized(tr.VecDotType, randomFloats(r, n))
				case 1:
					what = "huge weights, tiny activations"
					w = xsbfBF16Row(r, n, 4, 12)
					a = xsbfBF16Row(r, n, -12, -8)
				case 2:
					// Wide exponent ranges make every partial sum round,
					// so any change of order shows.
					what = "wide magnitudes"
					w = xsbfBF16Row(r, n, -40, 40)
					a = xsbfBF16Row(r, n, -40, 40)
				case 3:
					what = "one spike"
					w = randomRow(r, BF16, n)
					x := randomFloats(r, n)
					x[r.IntN(n)] = 1e4
					a = quantized(tr.VecDotType, x)
				case 4:
					what = "cancelling halves"
					w = randomRow(r, BF16, n)
					x := randomFloats(r, n)
					for i := n / 2; i < n; i++ {
						x[i] = -x[i-n/2] * float32(math.Exp2(float64(r.IntN(3)-1)))
						copy(w[2*i:2*i+2], w[2*(i-n/2):])
					}
					a = quantized(tr.VecDotType, x)
				case 5:
					what = "underflowing products"
					w = xsbfBF16Row(r, n, -70, -60)
					a = xsbfBF16Row(r, n, -75, -60)
				}
				xsbfCheck(t, BF16, n, w, a, what)
			}
		}
	})
}

// TestIQ4XSDotKernels runs both IQ4_XS kernels the CPU supports directly
// (VecDot reaches only the best one), on random rows and scales.
func TestIQ4XSDotKernels(t *testing.T) {
	kernels := map[string]func(x, y *byte, nb int) float32{}
	for _, l := range SupportedLevels() {
		switch l {
		case LevelAVX2:
			kernels["avx2"] = dotIQ4XSAVX2
		case LevelAVX512:
			kernels["avx512"] = dotIQ4XSAVX512
		}
	}
	if len(kernels) == 0 {
		t.Skip("no AVX2 on this CPU")
	}
	r := newRand(500)
	for name, k := range kernels {
		for _, nb := range []int{1, 4, 17} {
			n := nb * QK_K
			for trial := range 3 {
				w := randomRow(r, IQ4_XS, n)
				x := randomFloats(r, n)
				if trial == 1 {
					scaleRow(r, IQ4_XS, w, -12, 12)
				}
				if trial == 2 {
					x[r.IntN(n)] = 1e4
				}
				a := quantized(Q8_K, x)
				ref := dotIQ4_XS(n, w, a)
				got := dotIQ4XSFast(k, n, w, a)
				if math.Float32bits(got) != math.Float32bits(ref) {
					t.Errorf("%s n=%d trial %d: %v, reference %v", name, n, trial, got, ref)
				}
			}
		}
	}
}

// TestIQ4XSGemmExact checks the four-token kernels: each of the four
// results must equal the one-row reference, for rows at a stride larger
// than a row, with extreme scales, a spike, raw -128 quants and a zero row.
func TestIQ4XSGemmExact(t *testing.T) {
	kernels := map[string]func(x, y *byte, ystride, nb int, out *[4]float32){}
	for _, l := range SupportedLevels() {
		switch l {
		case LevelAVX2:
			kernels["avx2"] = gemmIQ4XSx4AVX2
		case LevelAVX512:
			kernels["avx512"] = gemmIQ4XSx4AVX512
		}
	}
	if len(kernels) == 0 {
		t.Skip("no AVX2 on this CPU")
	}
	forEachLevel(t, func(t *testing.T, l Level) {
		if g := current().gemm[IQ4_XS]; g.fn == nil || g.level != min(l, LevelAVX512) {
			t.Fatalf("IQ4_XS four-token kernel at %s: %q (level %s)", l, g.name, g.level)
		}
	})
	r := newRand(600)
	for name, k := range kernels {
		for _, nb := range []int{1, 2, 3, 7, 9, 33} {
			n := nb * QK_K
			for rep := range 3 {
				w := randomRow(r, IQ4_XS, n)
				switch rep {
				case 1:
					scaleRow(r, IQ4_XS, w, 4, 12)
				case 2:
					scaleRow(r, IQ4_XS, w, -12, -4)
				}
				stride := nb*q8KBytes + q8KBytes*r.IntN(3)
				a := make([]byte, 3*stride+nb*q8KBytes)
				for row := range 4 {
					x := randomFloats(r, n)
					switch row {
					case 1:
						for i := range x {
							x[i] *= float32(math.Exp2(16*r.Float64() - 8))
						}
					case 2:
						x[r.IntN(n)] = 1e4
					case 3:
						if rep == 2 {
							clear(x)
						}
					}
					q := quantized(Q8_K, x)
					if row == 3 && rep == 1 {
						for b := 0; b < nb; b++ {
							for j := 4; j < 260; j += 1 + r.IntN(4) {
								q[b*q8KBytes+j] = 0x80
							}
						}
					}
					copy(a[row*stride:], q)
				}
				var out [4]float32
				gemm4(iq4XSBytes, q8KBytes, QK_K, k)(n, w, a, stride, 4, &out)
				for row := range 4 {
					ref := dotIQ4_XS(n, w, a[row*stride:row*stride+nb*q8KBytes])
					if math.Float32bits(out[row]) != math.Float32bits(ref) {
						t.Errorf("%s nb=%d rep %d row %d: %v, reference %v", name, nb, rep, row, out[row], ref)
					}
				}
			}
		}
	}
}

// TestBF16DotKernels runs both BF16 kernels the CPU supports directly
// (VecDot at the AVX-512 level reaches only the AVX-512 one), on rows with
// every element sitting in a different lane of the accumulators.
func TestBF16DotKernels(t *testing.T) {
	kernels := map[string]func(x, y *byte, n int) (float32, float32){}
	for _, l := range SupportedLevels() {
		switch l {
		case LevelAVX2:
			kernels["avx2"] = dotBF16AVX2
		case LevelAVX512:
			kernels["avx512"] = dotBF16AVX512
		}
	}
	if len(kernels) == 0 {
		t.Skip("no AVX2 on this CPU")
	}
	r := newRand(400)
	for name, k := range kernels {
		for _, n := range []int{32, 64, 160, 4096 + 17} {
			for trial := range 3 {
				w := xsbfBF16Row(r, n, -30, 30)
				a := xsbfBF16Row(r, n, -30, 30)
				if trial == 2 {
					// One lane alone non-zero: a lane mix-up moves it.
					clear(w)
					i := r.IntN(n)
					binary.LittleEndian.PutUint16(w[2*i:], FP32ToBF16(3))
				}
				ref := dotBF16(n, w, a)
				got := dotBF16Fast(k, n, w, a)
				if math.Float32bits(got) != math.Float32bits(ref) {
					t.Errorf("%s n=%d trial %d: %v, reference %v", name, n, trial, got, ref)
				}
			}
		}
	}
}

// BenchmarkIQ4XSBF16Dots times one n = 4096 dot: the reference and the
// fast path at every supported level.
func BenchmarkIQ4XSBF16Dots(b *testing.B) {
	const n = 4096
	r := newRand(9)
	for _, typ := range []Type{IQ4_XS, BF16} {
		tr, _ := TraitsOf(typ)
		w := randomRow(r, typ, n)
		a := quantized(tr.VecDotType, randomFloats(r, n))
		b.Run(typ.String()+"/generic", func(b *testing.B) {
			for b.Loop() {
				tr.VecDot(n, w, a)
			}
		})
		for _, l := range SupportedLevels()[1:] {
			SetLevel(l)
			b.Run(typ.String()+"/"+l.String(), func(b *testing.B) {
				for b.Loop() {
					VecDot(typ, n, w, a)
				}
			})
		}
		SetLevel(LevelGeneric)
	}
}

// BenchmarkIQ4XSGemm times one n = 4096 weight row against four tokens:
// four one-row dots versus the four-token kernel, at every level.
func BenchmarkIQ4XSGemm(b *testing.B) {
	const n = 4096
	r := newRand(10)
	w := randomRow(r, IQ4_XS, n)
	arb := n / QK_K * q8KBytes
	a := quantized(Q8_K, randomFloats(r, 4*n))
	defer SetLevel(LevelGeneric)
	for _, l := range SupportedLevels()[1:] {
		SetLevel(l)
		d := current()
		b.Run("4dots/"+l.String(), func(b *testing.B) {
			for b.Loop() {
				for k := range 4 {
					d.dot[IQ4_XS](n, w, a[k*arb:(k+1)*arb])
				}
			}
		})
		g := d.gemm[IQ4_XS]
		b.Run("gemm4/"+l.String(), func(b *testing.B) {
			var out [gemmRows]float32
			for b.Loop() {
				g.fn(n, w, a, arb, gemmRows, &out)
			}
		})
	}
}
