package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRMSNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{1, 7, 64, 300} {
		x, w := randomFloats(r, n), randomFloats(r, n)
		const eps = 1e-5
		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		scale := 1 / math.Sqrt(ss/float64(n)+eps)
		got := make([]float32, n)
		RMSNorm(got, x, w, eps)
		plain := append([]float32(nil), x...)
		RMSNorm(plain, plain, nil, eps) // in place, no weight
		for i := range x {
			want := float64(x[i]) * scale * float64(w[i])
			if d := math.Abs(float64(got[i]) - want); !(d <= 4e-7*math.Abs(want)+1e-30) {
				t.Errorf("n=%d: RMSNorm[%d] = %v, want %v", n, i, got[i], want)
			}
			wantPlain := float64(x[i]) * scale
			if d := math.Abs(float64(plain[i]) - wantPlain); !(d <= 4e-7*math.Abs(wantPlain)) {
				t.Errorf("n=%d: plain RMSNorm[%d] = %v, want %v", n, i, plain[i], wantPlain)
			}
		}
	}
}

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, n := range []int{1, 5, 100, 1000} {
		x := randomFloats(r, n)
		for i := range x {
			x[i] *= 10
		}
		x[n/2] = float32(math.Inf(-1)) // a masked entry
		if n == 1 {
			x[0] = 3
		}
		m := math.Inf(-1)
		for _, v := range x {
			m = max(m, float64(v))
		}
		want := make([]float64, n)
		var sum float64
		for i, v := range x {
			want[i] = math.Exp(float64(v) - m)
			sum += want[i]
		}
		Softmax(x)
		var total float64
		for i := range x {
			want[i] /= sum
			total += float64(x[i])
			if d := math.Abs(float64(x[i]) - want[i]); !(d <= 5e-7*want[i]+1e-12) {
				t.Errorf("n=%d: softmax[%d] = %v, want %v", n, i, x[i], want[i])
			}
		}
		if !(math.Abs(total-1) <= 1e-5) {
			t.Errorf("n=%d: softmax sums to %v", n, total)
		}
		if n > 1 && x[n/2] != 0 {
			t.Errorf("n=%d: masked entry = %v", n, x[n/2])
		}
	}
}

func TestSwiGLU(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	g, u := randomFloats(r, 500), randomFloats(r, 500)
	for i := range g {
		g[i] *= 8
	}
	g[0], g[1] = -100, 100 // exp overflow / underflow ends
	got := make([]float32, len(g))
	SwiGLU(got, g, u)
	for i := range g {
		gv := float64(g[i])
		want := gv / (1 + math.Exp(-gv)) * float64(u[i])
		if d := math.Abs(float64(got[i]) - want); !(d <= 4e-7*math.Abs(want)+1e-30) {
			t.Errorf("SwiGLU[%d] (gate %v) = %v, want %v", i, g[i], got[i], want)
		}
	}
	if s := SiLU(0); s != 0 {
		t.Errorf("SiLU(0) = %v", s)
	}
}
