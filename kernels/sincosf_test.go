package kernels

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSinCosfMatchGlibc checks sinf and cosf bit for bit against glibc's on
// the recorded inputs, 3,000 of which glibc does not round correctly (so
// float32(math.Sin(x)) fails this test), across both reduction paths.
func TestSinCosfMatchGlibc(t *testing.T) {
	f, err := os.Open("testdata/sincosf/glibc-sincosf.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, notRounded, large := 0, 0, 0
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		var v [3]uint32
		for i := range v {
			u, err := strconv.ParseUint(p[i], 16, 32)
			if len(p) != 3 || err != nil {
				t.Fatalf("bad line %q", sc.Text())
			}
			v[i] = uint32(u)
		}
		x := math.Float32frombits(v[0])
		if s := sinf(x); math.Float32bits(s) != v[1] {
			t.Fatalf("sinf(%v) = %v, glibc %v", x, s, math.Float32frombits(v[1]))
		}
		if c := cosf(x); math.Float32bits(c) != v[2] {
			t.Fatalf("cosf(%v) = %v, glibc %v", x, c, math.Float32frombits(v[2]))
		}
		if math.Float32bits(float32(math.Sin(float64(x)))) != v[1] || math.Float32bits(float32(math.Cos(float64(x)))) != v[2] {
			notRounded++
		}
		if math.Abs(float64(x)) >= 120 {
			large++
		}
		n++
	}
	if n < 5000 || notRounded < 2500 || large < 300 {
		t.Fatalf("%d lines, %d not correctly rounded, %d large: not the expected data file", n, notRounded, large)
	}
}
