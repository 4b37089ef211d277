//go:build arm64 && !noasm

package kernels

import "github.com/klauspost/cpuid/v2"

// hasDotProd reports the Armv8.2 dot product instructions (SDOT), which the
// NEON kernels use for their integer sums when present; without them they
// use SMULL and pairwise adds, with the same results.
var hasDotProd = cpuid.CPU.Supports(cpuid.ASIMD, cpuid.ASIMDDP)

// The arm64 level. Advanced SIMD is part of every Armv8-A Linux system, but
// the kernel's HWCAP is asked anyway so that an odd platform falls back to
// the reference rather than faulting.
func init() {
	archLevels = append(archLevels, levelSupport{LevelNEON, cpuid.CPU.Supports(cpuid.ASIMD)})
}
