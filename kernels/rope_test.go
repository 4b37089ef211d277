package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// ropeRef is RoPE in float64 straight from the definition: pair i rotates by
// theta_i = pos * base^(-2i/n_dims) / ff_i, YaRN-blended when ext != 0.
func ropeRef(x []float32, nHeads, headDim, pos int, p RoPEParams) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	nd := p.NDims
	corrDim := func(beta float64) float64 {
		return float64(nd) * math.Log(float64(p.NCtxOrig)/(beta*2*math.Pi)) / (2 * math.Log(float64(p.FreqBase)))
	}
	low := math.Max(0, math.Floor(corrDim(float64(p.BetaFast))))
	high := math.Min(float64(nd-1), math.Ceil(corrDim(float64(p.BetaSlow))))
	for h := 0; h < nHeads; h++ {
		v := out[h*headDim:]
		for i := 0; i < nd/2; i++ {
			extrap := float64(pos) * math.Pow(float64(p.FreqBase), -2*float64(i)/float64(nd))
			if p.FreqFactors != nil {
				extrap /= float64(p.FreqFactors[i])
			}
			fs := float64(p.FreqScale)
			theta := fs * extrap
			mscale := float64(p.AttnFactor)
			if p.ExtFactor != 0 {
				ramp := 1 - math.Min(1, math.Max(0, (float64(i)-low)/math.Max(0.001, high-low)))
				mix := ramp * float64(p.ExtFactor)
				theta = theta*(1-mix) + extrap*mix
				mscale *= 1 + 0.1*math.Log(1/fs)
			}
			c, s := math.Cos(theta)*mscale, math.Sin(theta)*mscale
			a, b := 2*i, 2*i+1
			if p.Neox {
				a, b = i, i+nd/2
			}
			x0, x1 := v[a], v[b]
			v[a] = x0*c - x1*s
			v[b] = x0*s + x1*c
		}
	}
	return out
}

func plainRoPE(nd int, neox bool) RoPEParams {
	return RoPEParams{NDims: nd, FreqBase: 10000, FreqScale: 1, Neox: neox, AttnFactor: 1}
}

// TestRoPEAgainstFormula: the float32 angle is built by repeated float32
// multiplication (as ggml does), so its error grows like pos*i*2^-24; the
// bound allows for that.
func TestRoPEAgainstFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const nHeads, headDim = 3, 64
	ff := make([]float32, 24)
	for i := range ff {
		ff[i] = 1 + 7*r.Float32()
	}
	yarn := RoPEParams{NDims: 48, FreqBase: 500000, FreqScale: 0.25, ExtFactor: 1, AttnFactor: 1,
		BetaFast: 32, BetaSlow: 1, NCtxOrig: 4096}
	cases := map[string]RoPEParams{
		"normal":       plainRoPE(64, false),
		"neox":         plainRoPE(64, true),
		"partial":      plainRoPE(32, false),
		"partial-neox": plainRoPE(32, true),
		"freq-factors": {NDims: 48, FreqBase: 10000, FreqScale: 1, AttnFactor: 1, FreqFactors: ff},
		"yarn":         yarn,
		"linear":       {NDims: 64, FreqBase: 10000, FreqScale: 0.5, AttnFactor: 1},
	}
	for name, p := range cases {
		for _, pos := range []int{0, 1, 37, 1000} {
			x := randomFloats(r, nHeads*headDim)
			want := ropeRef(x, nHeads, headDim, pos, p)
			RoPE(x, nHeads, headDim, pos, p)
			tol := 1e-6 + float64(pos+1)*float64(p.NDims)*6e-8*4
			for i := range x {
				if d := math.Abs(float64(x[i]) - want[i]); !(d <= tol) {
					t.Errorf("%s pos=%d: x[%d] = %v, want %v (|d| %.3g > %.3g)", name, pos, i, x[i], want[i], d, tol)
					break
				}
			}
		}
	}
}

// TestRoPENeoxIsPermutedNormal: NeoX pairing is normal pairing with the
// dimensions permuted, computed with the same angles, so the results are
// bit-identical after the permutation.
func TestRoPENeoxIsPermutedNormal(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	const headDim, nd = 64, 48
	x := randomFloats(r, 2*headDim)
	perm := make([]int, headDim) // normal index -> neox index
	for i := 0; i < nd/2; i++ {
		perm[2*i], perm[2*i+1] = i, i+nd/2
	}
	for i := nd; i < headDim; i++ {
		perm[i] = i
	}
	y := make([]float32, len(x))
	for h := 0; h < 2; h++ {
		for i := 0; i < headDim; i++ {
			y[h*headDim+perm[i]] = x[h*headDim+i]
		}
	}
	orig := append([]float32(nil), x...)
	RoPE(x, 2, headDim, 123, plainRoPE(nd, false))
	RoPE(y, 2, headDim, 123, plainRoPE(nd, true))
	for h := 0; h < 2; h++ {
		for i := 0; i < headDim; i++ {
			if x[h*headDim+i] != y[h*headDim+perm[i]] {
				t.Fatalf("head %d dim %d: normal %v, neox %v", h, i, x[h*headDim+i], y[h*headDim+perm[i]])
			}
		}
		for i := nd; i < headDim; i++ {
			if x[h*headDim+i] != orig[h*headDim+i] {
				t.Fatalf("dimension %d beyond n_dims changed", i)
			}
		}
	}
}

// TestRoPEYarnOffIsPlain: with ext_factor 0 and freq_scale 1, the YaRN
// parameters must not change anything.
func TestRoPEYarnOffIsPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, neox := range []bool{false, true} {
		x := randomFloats(r, 4*64)
		y := append([]float32(nil), x...)
		RoPE(x, 4, 64, 77, plainRoPE(64, neox))
		p := plainRoPE(64, neox)
		p.BetaFast, p.BetaSlow, p.NCtxOrig = 32, 1, 8192
		RoPE(y, 4, 64, 77, p)
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("neox=%v: element %d differs: %v vs %v", neox, i, x[i], y[i])
			}
		}
	}
}

// TestRoPEMatchesLlamaCpp checks RoPE bit for bit against llama.cpp's rope
// output for 48 positions of 8 query and 4 key heads (testdata/rope).
func TestRoPEMatchesLlamaCpp(t *testing.T) {
	read := func(name string) []float32 {
		b, err := os.ReadFile("testdata/rope/" + name)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v
	}
	p := RoPEParams{NDims: 32, FreqBase: 10000, FreqScale: 1, AttnFactor: 1, BetaFast: 32, BetaSlow: 1, NCtxOrig: 2048}
	for _, c := range []struct {
		name  string
		heads int
	}{{"q", 8}, {"k", 4}} {
		in, want := read(c.name+"-in.f32"), read(c.name+"-out.f32")
		row := c.heads * 32
		if len(in) != 48*row || len(want) != len(in) {
			t.Fatalf("%s: %d and %d values, want %d", c.name, len(in), len(want), 48*row)
		}
		for pos := 0; pos < 48; pos++ {
			got := append([]float32(nil), in[pos*row:(pos+1)*row]...)
			RoPE(got, c.heads, 32, pos, p)
			for i, g := range got {
				if w := want[pos*row+i]; math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("%s pos %d [%d]: %v, llama.cpp %v", c.name, pos, i, g, w)
				}
			}
		}
	}
}
