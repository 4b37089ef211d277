package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

const eps32 = 1.0 / (1 << 24) // float32 unit roundoff

// TestVecDotMatchesDequantized checks each format's integer-sum dot product
// against the float64 dot of the dequantized weights and the dequantized
// quantized activations.
//
// Bound: |VecDot - ref| <= (blocks + 16) * 2^-24 * M, where M = sum_k
// (|w_k| + |z_k|) * |a_k| and z is the row dequantized with its quants zeroed
// (the size of any minimum term that cancels against the scaled quants). The
// only differences are float32 roundings of the per-block scales, the
// dequantized values and the float32 accumulation over the blocks. For the
// Q8_1 partners ggml uses the stored f16 s = d*sum(q) for the minimum term
// instead of the exact d*sum(q); the reference adds that same correction.
func TestVecDotMatchesDequantized(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range computable {
		tr, _ := TraitsOf(typ)
		worst := 0.0 // largest |diff| / bound, logged to show how tight the bound is
		for _, blocks := range []int{1, 3, 16} {
			n := blocks * max(tr.BlockSize, 32)
			if tr.BlockSize == 1 {
				n = 32 * blocks
			}
			nb := n / tr.BlockSize
			for trial := 0; trial < 4; trial++ {
				w := randomRow(r, typ, n)
				x := randomFloats(r, n)
				if trial == 3 {
					// Large dynamic range, within what Q8_1's f16 s = d*sum(q)
					// can hold (ggml's s overflows to Inf beyond 65504).
					for i := range x {
						x[i] *= float32(math.Exp2(12*r.Float64() - 6))
					}
				}
				a := quantized(tr.VecDotType, x)
				wd := mustDequant(typ, w, n)
				ad := mustDequant(tr.VecDotType, a, n)

				var zd []float32
				if qr, ok := quantRanges[typ]; ok {
					wz := append([]byte(nil), w...)
					for blk := 0; blk < len(wz)/tr.BlockBytes; blk++ {
						for _, rg := range qr {
							clear(wz[blk*tr.BlockBytes+rg[0] : blk*tr.BlockBytes+rg[1]])
						}
					}
					zd = mustDequant(typ, wz, n)
				} else {
					zd = make([]float32, n)
				}
				var ref, mag float64
				for k := 0; k < n; k++ {
					ref += float64(wd[k]) * float64(ad[k])
					mag += (math.Abs(float64(wd[k])) + math.Abs(float64(zd[k]))) * math.Abs(float64(ad[k]))
				}
				if tr.VecDotType == Q8_1 {
					// min * (s - d*sum(q)) per block; z holds the block minimum.
					for blk := 0; blk < n/32; blk++ {
						ab := a[36*blk:]
						var sum int
						for j := 0; j < 32; j++ {
							sum += int(int8(ab[4+j]))
						}
						s := float64(loadHalf(ab[2:]))
						ref += float64(zd[32*blk]) * (s - float64(loadHalf(ab))*float64(sum))
					}
				}
				got := float64(VecDot(typ, n, w, a))
				tol := float64(nb+16) * eps32 * mag
				worst = max(worst, math.Abs(got-ref)/tol)
				if !(math.Abs(got-ref) <= tol) { // also fails on NaN
					t.Errorf("%s n=%d trial %d: VecDot = %g, dequantized dot = %g, |diff| %.3g > bound %.3g",
						typ, n, trial, got, ref, math.Abs(got-ref), tol)
				}
			}
		}
		t.Logf("%-6s worst |diff|/bound %.3f", typ, worst)
	}
}

// TestVecDotExactFloat checks the float formats against a float64 dot of the
// exact products (F16 and BF16 products are exact in float32): they differ
// only by the float32 additions of ggml's lane order, each off by at most
// half an ulp of a partial sum, so by far less than 2^-24·64·Σ|products|.
func TestVecDotExactFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range []Type{F16, BF16} {
		n := 1000
		w := randomRow(r, typ, n)
		x := randomFloats(r, n)
		a := quantized(typ, x)
		var ref, mag float64
		for i := 0; i < n; i++ {
			wv, av := binary.LittleEndian.Uint16(w[2*i:]), binary.LittleEndian.Uint16(a[2*i:])
			var p float64
			if typ == F16 {
				p = float64(FP16ToFP32(wv)) * float64(FP16ToFP32(av))
			} else {
				p = float64(BF16ToFP32(wv)) * float64(BF16ToFP32(av))
			}
			ref += p
			mag += math.Abs(p)
		}
		got := float64(VecDot(typ, n, w, a))
		if bound := 64 * mag / (1 << 24); !(math.Abs(got-ref) <= bound) {
			t.Errorf("%s: VecDot = %v, exact %v, |diff| %.3g > %.3g", typ, got, ref, math.Abs(got-ref), bound)
		}
	}
}

func TestTraitsTable(t *testing.T) {
	want := map[Type]Type{
		F32: F32, F16: F16, BF16: BF16, Q4_0: Q8_0, Q4_1: Q8_1, Q5_0: Q8_0, Q5_1: Q8_1, Q8_0: Q8_0,
		Q2_K: Q8_K, Q3_K: Q8_K, Q4_K: Q8_K, Q5_K: Q8_K, Q6_K: Q8_K, IQ4_NL: Q8_0, IQ4_XS: Q8_K,
	}
	for typ, vd := range want {
		tr, ok := TraitsOf(typ)
		if !ok || tr.VecDotType != vd || tr.VecDot == nil || tr.Dequantize == nil {
			t.Errorf("TraitsOf(%s) = %+v, %v; want VecDotType %s with kernels", typ, tr, ok, vd)
			continue
		}
		if l, _ := LayoutOf(typ); l != tr.Layout {
			t.Errorf("%s: layout %+v, want %+v", typ, tr.Layout, l)
		}
	}
	for _, typ := range []Type{Q8_1, Q8_K} {
		if tr, ok := TraitsOf(typ); !ok || tr.Dequantize == nil || tr.VecDot != nil {
			t.Errorf("TraitsOf(%s): want dequantize only", typ)
		}
	}
	for _, typ := range []Type{IQ2_XXS, TQ1_0, I32, Type(99)} {
		if _, ok := TraitsOf(typ); ok {
			t.Errorf("TraitsOf(%s) should be false", typ)
		}
		if err := Dequantize(typ, make([]byte, 1024), make([]float32, 256)); err == nil {
			t.Errorf("Dequantize(%s) should fail", typ)
		}
	}
	if err := Dequantize(Q4_0, make([]byte, 18), make([]float32, 31)); err == nil {
		t.Error("Dequantize of a partial block should fail")
	}
	if err := Dequantize(Q4_0, make([]byte, 17), make([]float32, 32)); err == nil {
		t.Error("Dequantize with a short source should fail")
	}
}

func BenchmarkVecDot(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range computable {
		tr, _ := TraitsOf(typ)
		w := randomRow(r, typ, n)
		a := quantized(tr.VecDotType, randomFloats(r, n))
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				VecDot(typ, n, w, a)
			}
		})
	}
}
