package kernels

import "encoding/binary"

// Float formats: one element per "block", stored little-endian.

func dequantF32(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = loadF32(src[4*i:])
	}
}

func dequantF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = FP16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func dequantBF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = BF16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}
