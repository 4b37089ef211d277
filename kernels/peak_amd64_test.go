//go:build amd64 && !noasm

package kernels

import "testing"

// BenchmarkInt8Peak reports one core's int8 multiply-add peak with 512-bit
// VPDPBUSD (GMAC/s), the ceiling pp is compared with.
func BenchmarkInt8Peak(b *testing.B) {
	if !hasLevel(LevelAVX512VNNI) {
		b.Skip("no AVX-512 VNNI")
	}
	const iters = 1 << 20
	for b.Loop() {
		int8PeakVNNI(iters)
	}
	b.ReportMetric(float64(iters)*8*64*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

func hasLevel(l Level) bool {
	for _, s := range SupportedLevels() {
		if s == l {
			return true
		}
	}
	return false
}
