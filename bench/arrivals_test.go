package bench

import (
	"math"
	"testing"
	"time"
)

// The gap generator directly, many samples: mean 1/rate and coefficient of
// variation 1/sqrt(burstiness).
func TestGapGeneratorMoments(t *testing.T) {
	const n = 200_000
	for _, c := range []struct{ rate, burst, wantCV float64 }{
		{4, 1, 1},
		{4, 0.5, math.Sqrt2},
		{10, 0.25, 2},
		{2, 4, 0.5},
	} {
		g, err := NewGapGenerator(c.rate, c.burst, 7)
		if err != nil {
			t.Fatal(err)
		}
		var sum, sum2 float64
		for range n {
			x := g.Next()
			if x < 0 || math.IsNaN(x) {
				t.Fatalf("bad gap %v", x)
			}
			sum += x
			sum2 += x * x
		}
		m := sum / n
		sd := math.Sqrt(sum2/n - m*m)
		cv := sd / m
		if math.Abs(m*c.rate-1) > 0.015 {
			t.Errorf("rate %v burstiness %v: mean gap %v, want %v", c.rate, c.burst, m, 1/c.rate)
		}
		if math.Abs(cv/c.wantCV-1) > 0.03 {
			t.Errorf("rate %v burstiness %v: CV %v, want %v", c.rate, c.burst, cv, c.wantCV)
		}
	}
}

func TestGapGeneratorEdges(t *testing.T) {
	g, _ := NewGapGenerator(math.Inf(1), 1, 0)
	if g.Next() != 0 {
		t.Error("infinite rate must give zero gaps")
	}
	g, _ = NewGapGenerator(5, math.Inf(1), 0)
	if g.Next() != 0.2 {
		t.Error("infinite burstiness must give constant 1/rate gaps")
	}
	for _, bad := range [][2]float64{{0, 1}, {-1, 1}, {1, 0}, {math.NaN(), 1}, {1, -2}} {
		if _, err := NewGapGenerator(bad[0], bad[1], 0); err == nil {
			t.Errorf("NewGapGenerator(%v, %v) accepted", bad[0], bad[1])
		}
	}
}

func TestArrivalOffsetsSeededAndNormalized(t *testing.T) {
	a, err := ArrivalOffsets(200, 4, 0.5, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ArrivalOffsets(200, 4, 0.5, 42)
	c, _ := ArrivalOffsets(200, 4, 0.5, 43)
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
		if i > 0 && a[i] < a[i-1] {
			t.Fatalf("offsets not increasing at %d", i)
		}
	}
	if !same || !differ {
		t.Errorf("seed: same=%v differ=%v", same, differ)
	}
	// Like vLLM, the last arrival is rescaled to n/rate = 50 s.
	if d := a[len(a)-1] - 50*time.Second; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("last offset %v, want 50s", a[len(a)-1])
	}
	inf, _ := ArrivalOffsets(5, math.Inf(1), 1, 0)
	for _, o := range inf {
		if o != 0 {
			t.Fatal("rate inf must send everything at once")
		}
	}
}
