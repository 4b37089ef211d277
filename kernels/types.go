// Package kernels holds pagoda's tensor formats and numerical operations:
// GGML block formats, (de)quantization, dot products, matmul, norms, RoPE,
// softmax and activations. It imports nothing else from the project.
package kernels

import "fmt"

// Type is a tensor element format. The values are GGUF's (= ggml's) type ids,
// so a Type read from a file needs no translation.
type Type uint32

// GGML type ids. Gaps are ids that ggml retired.
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
	MXFP4   Type = 39
	NVFP4   Type = 40
	Q1_0    Type = 41
	Q2_0    Type = 42
)

// QK_K is the super-block size of the K-quants and IQ formats.
const QK_K = 256

// Layout is the storage shape of a format: BlockSize elements are stored in
// BlockBytes bytes. Every format pagoda knows the size of has a Layout, even
// those it cannot compute with (so files holding them can still be read and
// described).
type Layout struct {
	Name       string
	BlockSize  int
	BlockBytes int
}

var layouts = map[Type]Layout{
	F32:     {"F32", 1, 4},
	F16:     {"F16", 1, 2},
	Q4_0:    {"Q4_0", 32, 18},
	Q4_1:    {"Q4_1", 32, 20},
	Q5_0:    {"Q5_0", 32, 22},
	Q5_1:    {"Q5_1", 32, 24},
	Q8_0:    {"Q8_0", 32, 34},
	Q8_1:    {"Q8_1", 32, 36},
	Q2_K:    {"Q2_K", QK_K, 84},
	Q3_K:    {"Q3_K", QK_K, 110},
	Q4_K:    {"Q4_K", QK_K, 144},
	Q5_K:    {"Q5_K", QK_K, 176},
	Q6_K:    {"Q6_K", QK_K, 210},
	Q8_K:    {"Q8_K", QK_K, 292},
	IQ2_XXS: {"IQ2_XXS", QK_K, 66},
	IQ2_XS:  {"IQ2_XS", QK_K, 74},
	IQ3_XXS: {"IQ3_XXS", QK_K, 98},
	IQ1_S:   {"IQ1_S", QK_K, 50},
	IQ4_NL:  {"IQ4_NL", 32, 18},
	IQ3_S:   {"IQ3_S", QK_K, 110},
	IQ2_S:   {"IQ2_S", QK_K, 82},
	IQ4_XS:  {"IQ4_XS", QK_K, 136},
	I8:      {"I8", 1, 1},
	I16:     {"I16", 1, 2},
	I32:     {"I32", 1, 4},
	I64:     {"I64", 1, 8},
	F64:     {"F64", 1, 8},
	IQ1_M:   {"IQ1_M", QK_K, 56},
	BF16:    {"BF16", 1, 2},
	TQ1_0:   {"TQ1_0", QK_K, 54},
	TQ2_0:   {"TQ2_0", QK_K, 66},
	MXFP4:   {"MXFP4", 32, 17},
	NVFP4:   {"NVFP4", 64, 36},
	Q1_0:    {"Q1_0", 128, 18},
	Q2_0:    {"Q2_0", 64, 18},
}

// LayoutOf returns the storage layout of t, or false if t is not a format
// pagoda knows.
func LayoutOf(t Type) (Layout, bool) {
	l, ok := layouts[t]
	return l, ok
}

// String returns ggml's name for t ("Q4_K"), or "type(N)" for unknown ids.
func (t Type) String() string {
	if l, ok := layouts[t]; ok {
		return l.Name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// ParseType returns the Type whose ggml name is s (case-sensitive, e.g. "Q4_K").
func ParseType(s string) (Type, bool) {
	for t, l := range layouts {
		if l.Name == s {
			return t, true
		}
	}
	return 0, false
}

// RowBytes returns the bytes needed to store n elements of type t. It fails
// when t is unknown or n is not a whole number of blocks.
func RowBytes(t Type, n int64) (int64, error) {
	l, ok := layouts[t]
	if !ok {
		return 0, fmt.Errorf("kernels: unknown tensor type %d", uint32(t))
	}
	if n < 0 || n%int64(l.BlockSize) != 0 {
		return 0, fmt.Errorf("kernels: %d elements is not a whole number of %s blocks of %d", n, l.Name, l.BlockSize)
	}
	return n / int64(l.BlockSize) * int64(l.BlockBytes), nil
}
