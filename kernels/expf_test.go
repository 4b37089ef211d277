package kernels

import (
	"bufio"
	"math"
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
