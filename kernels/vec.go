package kernels

// vecImpl holds the vector versions of the element-wise activation kernels
// for one level. A nil function means the reference runs; every one gives
// the reference's bytes exactly.
type vecImpl struct {
	level Level
	name  string
	// quantQ8_0 converts whole 32-value blocks of x to Q8_0 in dst, as
	// quantizeBlockQ8 does block by block.
	quantQ8_0 func(x []float32, dst []byte)
	// quantQ8Sum and quantQ8Ext128 quantize to Q8_0 and write the packed
	// kernels' activation forms (q8Sum; q8Ext with K = 128) directly.
	quantQ8Sum, quantQ8Ext128 func(x []float32, dst []byte)
	// swiglu computes SwiGLU's vector part: the first len(dst)/16*16
	// elements (ggml's AVX-512 loop; the tail stays scalar).
	swiglu func(dst, gate, up []float32)
}

var fastVecs []vecImpl

func registerVec(v vecImpl) { fastVecs = append(fastVecs, v) }

// vecFor picks the best vector kernels at level l.
func vecFor(l Level) vecImpl {
	best := vecImpl{level: -1, name: "generic"}
	for _, v := range fastVecs {
		if v.level <= l && v.level > best.level {
			best = v
		}
	}
	return best
}
