package bench

import (
	"math"
	"slices"
	"strconv"
)

// Percentile is numpy's default ("linear") percentile of xs for p in
// [0, 100]: the value at rank p/100*(n-1), interpolated between neighbours.
// It returns 0 for no values, as vLLM does (np.percentile of 0).
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return percentileSorted(s, p)
}

func percentileSorted(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	lo = min(max(lo, 0), len(s)-1)
	hi = min(max(hi, 0), len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// stddev is the population standard deviation (numpy's np.std, ddof=0).
func stddev(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := mean(xs)
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)))
}

// PercentileValue is one requested percentile of a metric.
type PercentileValue struct {
	P     float64 // e.g. 99
	Value float64 // in the metric's unit (ms in Stats)
}

// Stats summarises one latency metric in milliseconds.
type Stats struct {
	Mean, Median, Std float64
	Percentiles       []PercentileValue
}

// summarize converts seconds to milliseconds and computes the summary.
func summarize(secs []float64, ps []float64) Stats {
	s := make([]float64, len(secs))
	for i, v := range secs {
		s[i] = v * 1000
	}
	slices.Sort(s)
	st := Stats{Mean: mean(s), Median: percentileSorted(s, 50), Std: stddev(s)}
	for _, p := range ps {
		st.Percentiles = append(st.Percentiles, PercentileValue{P: p, Value: percentileSorted(s, p)})
	}
	return st
}

// percentileWord names a percentile the way vLLM does in its keys: "99",
// "99.9".
func percentileWord(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64)
}
