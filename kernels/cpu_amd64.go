//go:build amd64 && !noasm

package kernels

import "github.com/klauspost/cpuid/v2"

// The amd64 levels. cpuid checks that the OS saves the vector registers
// (XCR0), so a supported level is usable.
func init() {
	c := &cpuid.CPU
	avx2 := c.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C, cpuid.BMI2)
	avx512 := avx2 && c.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512DQ)
	vnni := avx512 && c.Supports(cpuid.AVX512VNNI)
	archLevels = append(archLevels,
		levelSupport{LevelAVX2, avx2},
		levelSupport{LevelAVX512, avx512},
		levelSupport{LevelAVX512VNNI, vnni})
}
