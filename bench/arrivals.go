package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Seed streams: each consumer of randomness gets its own PCG stream so that
// changing the dataset does not move the arrival times and vice versa.
const (
	streamArrivals uint64 = 1
	streamDataset  uint64 = 2
	streamPrompt   uint64 = 1 << 32 // + prompt index
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// GapGenerator draws the gaps between request arrivals: gamma distributed
// with shape = burstiness and scale = 1/(rate*burstiness), so the mean gap is
// 1/rate and the coefficient of variation is 1/sqrt(burstiness). Burstiness
// 1 is a Poisson process; infinite burstiness gives evenly spaced arrivals
// and an infinite rate gives zero gaps (everything at once).
type GapGenerator struct {
	rate, burstiness float64
	r                *rand.Rand
}

// NewGapGenerator checks the parameters and seeds the generator.
func NewGapGenerator(rate, burstiness float64, seed int64) (*GapGenerator, error) {
	if !(rate > 0) {
		return nil, fmt.Errorf("bench: request rate must be > 0 (or inf), got %v", rate)
	}
	if !(burstiness > 0) {
		return nil, fmt.Errorf("bench: burstiness must be > 0, got %v", burstiness)
	}
	return &GapGenerator{rate: rate, burstiness: burstiness, r: newRand(seed, streamArrivals)}, nil
}

// Next returns the next gap in seconds.
func (g *GapGenerator) Next() float64 {
	switch {
	case math.IsInf(g.rate, 1):
		return 0
	case math.IsInf(g.burstiness, 1):
		return 1 / g.rate
	}
	scale := 1 / (g.rate * g.burstiness)
	return sampleGamma(g.r, g.burstiness) * scale
}

// sampleGamma draws from Gamma(shape, 1) with Marsaglia and Tsang's method;
// shapes below 1 use the boost Gamma(a) = Gamma(a+1) * U^(1/a).
func sampleGamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := 1 - r.Float64() // (0, 1]
		return sampleGamma(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		var x, v float64
		for {
			x = r.NormFloat64()
			v = 1 + c*x
			if v > 0 {
				break
			}
		}
		v = v * v * v
		u := r.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 {
			return d * v
		}
		if math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// ArrivalOffsets returns when each of n requests is sent, relative to the
// start of the run. Like vLLM, the cumulative offsets are rescaled so the
// last request arrives at exactly n/rate: the random sum of n gaps is off by
// a few percent, which would otherwise move throughput between seeds.
func ArrivalOffsets(n int, rate, burstiness float64, seed int64) ([]time.Duration, error) {
	g, err := NewGapGenerator(rate, burstiness, seed)
	if err != nil {
		return nil, err
	}
	cum := make([]float64, n)
	t := 0.0
	for i := range cum {
		t += g.Next()
		cum[i] = t
	}
	if n > 0 && t > 0 && !math.IsInf(rate, 1) {
		f := float64(n) / rate / t
		for i := range cum {
			cum[i] *= f
		}
	}
	out := make([]time.Duration, n)
	for i, s := range cum {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out, nil
}
