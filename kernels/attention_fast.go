package kernels

// Attend's F16 accumulator updates, dispatched like the dot products. The
// generic versions are the reference: every step converts to float32,
// computes, and rounds back to F16 (nearest even), as ggml's flash
// attention does with an F16 V cache; the vector versions do the same
// steps per lane with hardware FMA, which rounds once (the generic fmaf
// goes through float64 and may differ in the last bit on rare ties).

// scaleF16Generic sets h[i] = f16(f32(h[i]) * s).
func scaleF16Generic(h []uint16, s float32) {
	for d := range h {
		h[d] = FP32ToFP16(FP16ToFP32(h[d]) * s)
	}
}

// madF16Generic sets h[i] = f16(fma(f32(v[i]), s, f32(h[i]))), where v holds
// len(h) little-endian F16 values.
func madF16Generic(h []uint16, v []byte, s float32) {
	for d := range h {
		vd := FP16ToFP32(uint16(v[2*d]) | uint16(v[2*d+1])<<8)
		h[d] = FP32ToFP16(fmaf(vd, s, FP16ToFP32(h[d])))
	}
}

type f16AccImpl struct {
	level Level
	name  string
	scale func(h []uint16, s float32)
	mad   func(h []uint16, v []byte, s float32)
}

var fastF16Acc []f16AccImpl

func registerF16Acc(level Level, name string, scale func([]uint16, float32), mad func([]uint16, []byte, float32)) {
	fastF16Acc = append(fastF16Acc, f16AccImpl{level, name, scale, mad})
}

// f16AccFor picks the accumulator kernels for level l.
func f16AccFor(l Level) f16AccImpl {
	best := f16AccImpl{level: -1, name: "generic", scale: scaleF16Generic, mad: madF16Generic}
	for _, im := range fastF16Acc {
		if im.level <= l && im.level > best.level {
			best = im
		}
	}
	return best
}
