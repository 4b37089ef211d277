// Package quantize turns a GGUF model into a quantized GGUF model the way
// llama.cpp's llama-quantize does: the same per-tensor type choices for each
// file type (the _S/_M/_L mixes, fallbacks for rows that do not divide the
// block size, the output and token-embedding rules), the same quantized bytes
// (kernels.Quantize), the same metadata, tensor order and alignment, so the
// output file is byte-identical to llama-quantize's.
package quantize

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pagoda-llm/pagoda/kernels"
)

// Ftype is a whole-file quantization preset, with llama.cpp's llama_ftype
// numbers (stored in general.file_type).
type Ftype uint32

// The presets pagoda can produce (llama_ftype values).
const (
	FtypeF32   Ftype = 0
	FtypeF16   Ftype = 1
	FtypeQ4_0  Ftype = 2
	FtypeQ4_1  Ftype = 3
	FtypeQ8_0  Ftype = 7
	FtypeQ5_0  Ftype = 8
	FtypeQ5_1  Ftype = 9
	FtypeQ2_K  Ftype = 10
	FtypeQ3_KS Ftype = 11
	FtypeQ3_KM Ftype = 12
	FtypeQ3_KL Ftype = 13
	FtypeQ4_KS Ftype = 14
	FtypeQ4_KM Ftype = 15
	FtypeQ5_KS Ftype = 16
	FtypeQ5_KM Ftype = 17
	FtypeQ6_K  Ftype = 18
	FtypeIQ4NL Ftype = 25
	FtypeIQ4XS Ftype = 30
	FtypeBF16  Ftype = 32
)

// ftypeInfo is one preset: its llama-quantize name and base tensor type.
type ftypeInfo struct {
	name string
	ft   Ftype
	base kernels.Type
}

// ftypes lists the presets in llama-quantize's QUANT_OPTIONS order (the
// aliases Q3_K, Q4_K, Q5_K map to the _M mixes, as there).
var ftypes = []ftypeInfo{
	{"Q4_0", FtypeQ4_0, kernels.Q4_0},
	{"Q4_1", FtypeQ4_1, kernels.Q4_1},
	{"Q5_0", FtypeQ5_0, kernels.Q5_0},
	{"Q5_1", FtypeQ5_1, kernels.Q5_1},
	{"Q2_K", FtypeQ2_K, kernels.Q2_K},
	{"Q3_K", FtypeQ3_KM, kernels.Q3_K},
	{"Q3_K_S", FtypeQ3_KS, kernels.Q3_K},
	{"Q3_K_M", FtypeQ3_KM, kernels.Q3_K},
	{"Q3_K_L", FtypeQ3_KL, kernels.Q3_K},
	{"IQ4_NL", FtypeIQ4NL, kernels.IQ4_NL},
	{"IQ4_XS", FtypeIQ4XS, kernels.IQ4_XS},
	{"Q4_K", FtypeQ4_KM, kernels.Q4_K},
	{"Q4_K_S", FtypeQ4_KS, kernels.Q4_K},
	{"Q4_K_M", FtypeQ4_KM, kernels.Q4_K},
	{"Q5_K", FtypeQ5_KM, kernels.Q5_K},
	{"Q5_K_S", FtypeQ5_KS, kernels.Q5_K},
	{"Q5_K_M", FtypeQ5_KM, kernels.Q5_K},
	{"Q6_K", FtypeQ6_K, kernels.Q6_K},
	{"Q8_0", FtypeQ8_0, kernels.Q8_0},
	{"F16", FtypeF16, kernels.F16},
	{"BF16", FtypeBF16, kernels.BF16},
	{"F32", FtypeF32, kernels.F32},
}

// ParseFtype accepts a preset name (case-insensitive, aliases included) or
// its number, as llama-quantize does.
func ParseFtype(s string) (Ftype, bool) {
	for _, f := range ftypes {
		if strings.EqualFold(f.name, s) {
			return f.ft, true
		}
	}
	if n, err := strconv.Atoi(s); err == nil {
		for _, f := range ftypes {
			if int(f.ft) == n {
				return f.ft, true
			}
		}
	}
	return 0, false
}

// FtypeNames lists the accepted preset names.
func FtypeNames() []string {
	names := make([]string, len(ftypes))
	for i, f := range ftypes {
		names[i] = f.name
	}
	return names
}

// String returns the preset's canonical name ("Q4_K_M").
func (f Ftype) String() string {
	for _, x := range ftypes {
		// skip the aliases, which come before their canonical names
		if x.ft == f && x.name != "Q3_K" && x.name != "Q4_K" && x.name != "Q5_K" {
			return x.name
		}
	}
	return fmt.Sprintf("ftype(%d)", uint32(f))
}

// BaseType returns the tensor type most tensors of the preset get
// (llama_ftype_get_default_type), or false for an unknown preset.
func (f Ftype) BaseType() (kernels.Type, bool) {
	for _, x := range ftypes {
		if x.ft == f {
			return x.base, true
		}
	}
	return 0, false
}

// ParseType parses a ggml tensor type name case-insensitively ("q4_k",
// "f16"), as llama-quantize's --tensor-type and --output-tensor-type do.
func ParseType(s string) (kernels.Type, bool) {
	return kernels.ParseType(strings.ToUpper(s))
}

// isQuantized reports whether t is a block-quantized format (ggml_is_quantized:
// everything except the plain float and integer types).
func isQuantized(t kernels.Type) bool {
	switch t {
	case kernels.F32, kernels.F16, kernels.BF16, kernels.F64,
		kernels.I8, kernels.I16, kernels.I32, kernels.I64:
		return false
	}
	return true
}

// blockSize returns t's block size (1 for unknown types, which then fail
// later with a clear error when sized).
func blockSize(t kernels.Type) int64 {
	if l, ok := kernels.LayoutOf(t); ok {
		return int64(l.BlockSize)
	}
	return 1
}

// lowerName is ggml's lowercase type name as llama-quantize prints it
// ("q4_K", "f32").
func lowerName(t kernels.Type) string {
	s := strings.ToLower(t.String())
	// ggml spells the K-quants with a capital K.
	if strings.HasSuffix(s, "_k") {
		s = s[:len(s)-1] + "K"
	}
	return s
}
