package kernels

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// crossArchBits are FNV-64a hashes of the reference kernels' outputs on
// testdata/ref's tensor (see TestReferenceBitsAcrossArchitectures), taken
// on amd64. Any platform must reproduce them bit for bit: a difference means
// the compiler fused a multiply and an add somewhere (arm64, or amd64 built
// with GOAMD64=v3) that llama.cpp's reference build rounds separately.
var crossArchBits = map[string]uint64{
	"BF16/activations BF16":   0x3fab4d9460594177,
	"BF16/dequantize":         0x55997fd81d236456,
	"BF16/dot":                0xd91b4a0ff209cf31,
	"F16/activations F16":     0xdbc4ac6ada75eb81,
	"F16/dequantize":          0xcb23b8537130bec2,
	"F16/dot":                 0x4077b87d0d2e65ab,
	"F32/activations F32":     0x499b1b54bdd62e6f,
	"F32/dequantize":          0x4d987b4f78333af2,
	"F32/dot":                 0xcbe4f577464b7d83,
	"IQ4_NL/activations Q8_0": 0x3714cb29e499b30a,
	"IQ4_NL/dequantize":       0x293ac10df792d939,
	"IQ4_NL/dot":              0xf5335e3ae32b5a30,
	"IQ4_NL/quantize":         0x1a9faad68ad6fa59,
	"IQ4_XS/activations Q8_K": 0xf6d0eee5ca178e7d,
	"IQ4_XS/dequantize":       0x4e5c05761ccbef4b,
	"IQ4_XS/dot":              0xddaa12e4b5ea9be6,
	"IQ4_XS/quantize":         0xce602642f8ec91ce,
	"Q3_K/activations Q8_K":   0xf6d0eee5ca178e7d,
	"Q3_K/dequantize":         0x01b0215d21284701,
	"Q3_K/dot":                0x60d290dda143d45e,
	"Q3_K/quantize":           0x5650d51e3706defc,
	"Q4_0/activations Q8_0":   0x3714cb29e499b30a,
	"Q4_0/dequantize":         0x4b377b16b35292d0,
	"Q4_0/dot":                0x74429c40dcee4fa6,
	"Q4_0/quantize":           0x33375aec74545e61,
	"Q4_1/activations Q8_1":   0x5cb3ab7bbb8941af,
	"Q4_1/dequantize":         0xea8e99253d9e80d3,
	"Q4_1/dot":                0xa51b2e90e4c0cab8,
	"Q4_1/quantize":           0x7b265d8ed8916b05,
	"Q4_K/activations Q8_K":   0xf6d0eee5ca178e7d,
	"Q4_K/dequantize":         0xaf7474f517c46a14,
	"Q4_K/dot":                0x046ad0a0d54ee7aa,
	"Q4_K/quantize":           0xc80514f674c354e5,
	"Q5_0/activations Q8_0":   0x3714cb29e499b30a,
	"Q5_0/dequantize":         0x480a528069541ebd,
	"Q5_0/dot":                0xdf97348735d095a9,
	"Q5_0/quantize":           0x822d24f14236d3dd,
	"Q5_1/activations Q8_1":   0x5cb3ab7bbb8941af,
	"Q5_1/dequantize":         0x7d5dc5c28d99912a,
	"Q5_1/dot":                0xf4a2fbede8e94bbf,
	"Q5_1/quantize":           0x630cca68086321d1,
	"Q5_K/activations Q8_K":   0xf6d0eee5ca178e7d,
	"Q5_K/dequantize":         0xdcfc4dcb18156fb4,
	"Q5_K/dot":                0x86c1ada38ff27a4c,
	"Q5_K/quantize":           0xcd386272ff58d9ec,
	"Q6_K/activations Q8_K":   0xf6d0eee5ca178e7d,
	"Q6_K/dequantize":         0xace3526b27246671,
	"Q6_K/dot":                0x7e3f5ef26274c399,
	"Q6_K/quantize":           0xccd4f3a5c2e7dda9,
	"Q8_0/activations Q8_0":   0x3714cb29e499b30a,
	"Q8_0/dequantize":         0x23726841b5b01b31,
	"Q8_0/dot":                0xb44d7e24bf2d0915,
	"Q8_0/quantize":           0xcc74eec31994bf9c,
}

// exactActivations returns n floats in [-2, 2) times a power of two per
// 32-value run, drawn from PCG's integers so that producing them involves
// no float rounding on any platform.
func exactActivations(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 99))
	x := make([]float32, n)
	var s float32
	for i := range x {
		if i%32 == 0 {
			s = float32(math.Ldexp(1, int(r.Uint32()%16)-8))
		}
		// A 24-bit integer over 2^22 times a power of two: exact.
		x[i] = float32(int32(r.Uint32()>>8)-1<<23) / (1 << 22) * s
	}
	return x
}

func hashFloats(v []float32) uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, f := range v {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(f))
		h.Write(b[:])
	}
	return h.Sum64()
}

func hashBytes(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// TestReferenceBitsAcrossArchitectures runs the reference (generic) kernels
// over testdata/ref's 128×256 tensor in every format it is stored in (plus
// F16 and BF16 made from the F32 one): dequantization, quantization of the
// F32 tensor to each format, activation quantization and the reference dot
// product of every row with two activation rows. It compares hashes of the
// results with those taken on amd64, so that `GOARCH=arm64 go test -exec
// qemu-aarch64` (or GOAMD64=v3) shows any floating-point contraction that
// changes a result.
func TestReferenceBitsAcrossArchitectures(t *testing.T) {
	const rows, cols = 128, 256
	f32raw, err := os.ReadFile(filepath.Join("testdata", "ref", "blk.0.attn_k.F32.bin"))
	if err != nil {
		t.Fatal(err)
	}
	src := mustDequant(F32, f32raw, rows*cols)
	acts := exactActivations(7, 2*cols)
	got := map[string]uint64{}
	for _, typ := range []Type{F32, F16, BF16, Q8_0, Q6_K, Q5_0, Q5_1, Q5_K, Q4_0, Q4_1, Q4_K, IQ4_NL, IQ4_XS, Q3_K} {
		name := typ.String()
		var w []byte
		switch typ {
		case F32:
			w = f32raw
		case F16, BF16:
			size, _ := RowBytes(typ, rows*cols)
			w = make([]byte, size)
			if err := Quantize(typ, src, w); err != nil {
				t.Fatal(err)
			}
		default:
			if w, err = os.ReadFile(filepath.Join("testdata", "ref", "blk.0.attn_k."+name+".bin")); err != nil {
				t.Fatal(err)
			}
			q := make([]byte, len(w))
			if err := Quantize(typ, src, q); err != nil {
				t.Fatal(err)
			}
			got[name+"/quantize"] = hashBytes(q)
		}
		got[name+"/dequantize"] = hashFloats(mustDequant(typ, w, rows*cols))
		tr, _ := TraitsOf(typ)
		wrb := len(w) / rows
		var dots []float32
		var ab []byte
		for i := 0; i < 2; i++ {
			a := quantized(tr.VecDotType, acts[i*cols:(i+1)*cols])
			ab = append(ab, a...)
			for r := 0; r < rows; r++ {
				dots = append(dots, tr.VecDot(cols, w[r*wrb:(r+1)*wrb], a))
			}
		}
		got[name+"/activations "+tr.VecDotType.String()] = hashBytes(ab)
		got[name+"/dot"] = hashFloats(dots)
	}
	for k, h := range got {
		want, ok := crossArchBits[k]
		switch {
		case !ok:
			t.Errorf("%s: no expected hash (got %#016x)", k, h)
		case h != want:
			t.Errorf("%s: hash %#016x, want %#016x (taken on amd64)", k, h, want)
		}
	}
	if len(got) != len(crossArchBits) {
		t.Errorf("%d results, %d expected hashes", len(got), len(crossArchBits))
	}
}
