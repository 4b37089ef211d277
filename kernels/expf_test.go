package kernels

import (
	"bufio"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestExpfMatchesGlibc checks expf bit for bit against glibc's expf on the
// recorded inputs, including 2,500 where glibc is not correctly rounded
// (so float32(math.Exp(x)) fails this test).
func TestExpfMatchesGlibc(t *testing.T) {
	f, err := os.Open("testdata/expf/glibc-expf.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, notRounded := 0, 0
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		xb, err1 := strconv.ParseUint(p[0], 16, 32)
		yb, err2 := strconv.ParseUint(p[1], 16, 32)
		if len(p) != 2 || err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		x, want := math.Float32frombits(uint32(xb)), math.Float32frombits(uint32(yb))
		got := expf(x)
		if math.Float32bits(got) != uint32(yb) && !(math.IsNaN(float64(got)) && math.IsNaN(float64(want))) {
			t.Fatalf("expf(%v [%08x]) = %v [%08x], glibc %v [%08x]", x, xb, got, math.Float32bits(got), want, yb)
		}
		if float32(math.Exp(float64(x))) != want {
			notRounded++
		}
		n++
	}
	if n < 10000 || notRounded < 2000 {
		t.Fatalf("%d pairs, %d not correctly rounded: the data file is not the expected one", n, notRounded)
	}
}

func BenchmarkExpf(b *testing.B) {
	x := float32(-3.7)
	var s float32
	for b.Loop() {
		s += expf(x)
		x -= 1e-6
	}
	_ = s
}

// TestFmafRoundsOnce checks fmaf against x·y + z computed exactly and
// rounded once to float32 (math/big): random values of all magnitudes,
// and sums built to fall exactly halfway between two float32s in float64,
// where rounding to float64 first would round twice.
func TestFmafRoundsOnce(t *testing.T) {
	exact := func(x, y, z float32) float32 {
		prod := new(big.Float).SetPrec(200).Mul(big.NewFloat(float64(x)).SetPrec(200), big.NewFloat(float64(y)).SetPrec(200))
		sum := new(big.Float).SetPrec(200).Add(prod, big.NewFloat(float64(z)).SetPrec(200))
		f, _ := sum.Float32()
		return f
	}
	// The case that double rounding gets wrong: 3·(1+2⁻²³) is halfway
	// between two float32s; a tiny z below it must round down.
	if got, want := fmaf(3, 1+0x1p-23, -0x1p-60), exact(3, 1+0x1p-23, -0x1p-60); got != want || math.Float32bits(got) != 0x40400001 {
		t.Fatalf("fmaf(3, 1+2^-23, -2^-60) = %#x, want %#x", math.Float32bits(got), math.Float32bits(want))
	}
	r := newRand(31)
	rnd := func() float32 {
		return float32(math.Ldexp(r.Float64()*2-1, r.IntN(80)-40))
	}
	for i := 0; i < 200000; i++ {
		x, y, z := rnd(), rnd(), rnd()
		switch i % 3 {
		case 1: // x·y halfway between float32s, z a tiny push either way
			x = float32(1 + float64(r.IntN(1<<22))*0x1p-22 + 0x1p-23)
			y = 3
			z = float32(math.Ldexp(r.Float64()*2-1, -30-r.IntN(60)))
		case 2: // cancellation
			z = -x * y
		}
		got, want := fmaf(x, y, z), exact(x, y, z)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fmaf(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
	}
	if got := fmaf(float32(math.Inf(1)), 2, 1); !math.IsInf(float64(got), 1) {
		t.Errorf("fmaf(+Inf, 2, 1) = %v", got)
	}
	if got := fmaf(float32(math.NaN()), 2, 1); got == got {
		t.Errorf("fmaf(NaN, 2, 1) = %v", got)
	}
}
