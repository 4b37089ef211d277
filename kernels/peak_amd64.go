//go:build amd64 && !noasm

package kernels

// int8PeakVNNI runs iters rounds of eight independent 512-bit VPDPBUSD; it
// exists for BenchmarkInt8Peak (the pp ceiling) and is not used otherwise.
//
//go:noescape
func int8PeakVNNI(iters int)
