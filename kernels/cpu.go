package kernels

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Level is a set of CPU instructions the fast kernels may use. Levels of one
// architecture are ordered: each includes the ones below it.
type Level int

// The levels, generic first. Generic is the portable Go reference and runs
// everywhere.
const (
	LevelGeneric    Level = iota
	LevelAVX2             // amd64: AVX2 + FMA + F16C
	LevelAVX512           // amd64: AVX-512 F/BW/VL/DQ
	LevelAVX512VNNI       // amd64: AVX-512 with VNNI
	LevelNEON             // arm64: Advanced SIMD
	numLevels
)

var levelNames = [numLevels]string{"generic", "avx2", "avx512", "avx512vnni", "neon"}

// String returns the level's name as PAGODA_CPU spells it.
func (l Level) String() string {
	if l >= 0 && l < numLevels {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// ParseLevel reads a level name (generic, avx2, avx512, avx512vnni, neon).
func ParseLevel(s string) (Level, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for l, name := range levelNames {
		if s == name {
			return Level(l), nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown CPU level %q (want one of %s)", s, strings.Join(levelNames[:], ", "))
}

// archLevels are this build's levels in increasing order, each with whether
// the CPU supports it. They are filled once at init from the CPU features
// (cpu_amd64.go, cpu_arm64.go); the generic level is always first and
// supported.
var archLevels = []levelSupport{{LevelGeneric, true}}

type levelSupport struct {
	level     Level
	supported bool
}

// DetectedLevel returns the best level this CPU and build support.
func DetectedLevel() Level {
	best := LevelGeneric
	for _, ls := range archLevels {
		if ls.supported {
			best = ls.level
		}
	}
	return best
}

// SupportedLevels lists the levels this CPU and build can run, lowest first.
// Tests run every one of them against the reference.
func SupportedLevels() []Level {
	var out []Level
	for _, ls := range archLevels {
		if ls.supported {
			out = append(out, ls.level)
		}
	}
	return out
}

// clampLevel returns the best supported level of this build that is not
// above want. A level of another architecture (avx2 on arm64) gives generic.
func clampLevel(want Level) Level {
	best := LevelGeneric
	for _, ls := range archLevels {
		if ls.supported && ls.level <= want {
			best = ls.level
		}
	}
	return best
}

// dotImpl is one fast dot product: the level it needs and its function.
type dotImpl struct {
	level Level
	name  string // what Describe prints, e.g. "avx2"
	fn    func(n int, w, a []byte) float32
}

// fastDots holds every fast dot product of this build by weight type,
// registered at init by the architecture files.
var fastDots = map[Type][]dotImpl{}

// registerDot adds a fast dot product for weight type t, usable at level
// and above.
func registerDot(t Type, level Level, name string, fn func(n int, w, a []byte) float32) {
	fastDots[t] = append(fastDots[t], dotImpl{level, name, fn})
}

// dispatch is the table of kernels chosen for one level.
type dispatch struct {
	level Level
	dot   map[Type]func(n int, w, a []byte) float32
	names map[Type]string
	gemm  map[Type]gemmImpl
	xdot  map[Type]extDotImpl
	f16   f16AccImpl // Attend's F16 accumulator updates
	attn  attnImpl   // AttendPaged's block kernels
	conv  convImpl
	// packed multiply packed matrices (packed.go) by several tokens at
	// once, most tokens first, the last taking one; by type.
	packed map[Type][]packedImpl
	vec    vecImpl  // activation quantization, SwiGLU
	tiny   tinyImpl // F32/F16/BF16 prompt batches in tinyBLAS order
}

var (
	active       atomic.Pointer[dispatch]
	setLevelMu   sync.Mutex
	envErr       error
	dispatchOnce sync.Once
)

// current returns the active table, choosing it on first use (after every
// init of the package has registered its kernels).
func current() *dispatch {
	if d := active.Load(); d != nil {
		return d
	}
	dispatchOnce.Do(initDispatch)
	return active.Load()
}

// build fills a dispatch table for level l: for each type the fast kernel
// with the highest level not above l, or the reference.
func build(l Level) *dispatch {
	d := &dispatch{
		level: l,
		dot:   map[Type]func(int, []byte, []byte) float32{},
		names: map[Type]string{},
		gemm:  map[Type]gemmImpl{},
		xdot:  map[Type]extDotImpl{},
		f16:   f16AccFor(l),
		attn:  attnFor(l),
		conv:  convFor(l),
	}
	d.packed = map[Type][]packedImpl{}
	for t := range fastPacked {
		if ks := packedFor(t, l); ks != nil {
			d.packed[t] = ks
		}
	}
	d.vec = vecFor(l)
	d.tiny = tinyFor(l)
	for t, tr := range traits {
		if tr.VecDot == nil {
			continue
		}
		d.dot[t], d.names[t] = tr.VecDot, "generic"
		best := Level(-1)
		for _, im := range fastDots[t] {
			if im.level <= l && im.level > best {
				best = im.level
				d.dot[t], d.names[t] = im.fn, im.name
			}
		}
		bestX := Level(-1)
		for _, x := range fastExtDots[t] {
			if x.level <= l && x.level > bestX {
				bestX = x.level
				d.xdot[t] = x
			}
		}
		bestG := Level(-1)
		for _, g := range fastGemms[t] {
			if g.level <= l && g.level > bestG {
				bestG = g.level
				d.gemm[t] = g
			}
		}
	}
	return d
}

// SetLevel makes the kernels use at most level l (the best supported level
// not above it) and returns the level chosen. It is meant for start-up (a
// --cpu flag) and tests; kernels running concurrently finish with the
// table they started with.
func SetLevel(l Level) Level {
	current() // the first choice (PAGODA_CPU) happens before any override
	return setLevel(l)
}

func setLevel(l Level) Level {
	setLevelMu.Lock()
	defer setLevelMu.Unlock()
	c := clampLevel(l)
	active.Store(build(c))
	return c
}

// CurrentLevel returns the level the kernels run at.
func CurrentLevel() Level { return current().level }

// EnvError reports an unusable PAGODA_CPU value found at start (nil when it
// was unset or valid); the detected level is used instead.
func EnvError() error { return envErr }

func initDispatch() {
	l := DetectedLevel()
	if s := os.Getenv("PAGODA_CPU"); s != "" {
		want, err := ParseLevel(s)
		if err != nil {
			envErr = fmt.Errorf("PAGODA_CPU: %w", err)
		} else {
			l = want
		}
	}
	setLevel(l)
}

// OpChoice is the implementation chosen for one operation.
type OpChoice struct {
	Op   string // e.g. "dot Q4_0·Q8_0"
	Impl string // e.g. "avx2", "avx512vnni", "generic"
}

// Describe lists, for each operation with a fast path in this build, the
// implementation the current level uses; pagoda info prints it.
func Describe() []OpChoice {
	d := current()
	var out []OpChoice
	for t, name := range d.names {
		tr := traits[t]
		out = append(out, OpChoice{Op: fmt.Sprintf("dot %s·%s", t, tr.VecDotType), Impl: name})
		if g, ok := d.gemm[t]; ok {
			out = append(out, OpChoice{Op: fmt.Sprintf("gemm %s·%s (1 weight row × 4 tokens)", t, tr.VecDotType), Impl: g.name})
			if g.rowsF32 != nil {
				out = append(out, OpChoice{Op: fmt.Sprintf("gemv %s·%s widened to F32 (rows × 1 token)", t, tr.VecDotType), Impl: g.level.String()})
			}
		}
	}
	for t, ks := range d.packed {
		for _, k := range ks {
			out = append(out, OpChoice{Op: fmt.Sprintf("matmul %s·%s (packed, 16 rows × %d tokens)", t, packedFormats[t].actType, k.tokens), Impl: k.name})
		}
	}
	for _, t := range []Type{Q4_K, Q2_K, IQ4_NL} {
		impl := "generic"
		if im, _ := kRepackedFor(t, d.level); im.level >= 0 {
			impl = im.level.String()
		}
		out = append(out, OpChoice{Op: fmt.Sprintf("matmul %s (llama.cpp's repacked order, rows %% 8 == 0)", t), Impl: impl})
	}
	out = append(out, OpChoice{Op: "matmul F32/F16/BF16, 2+ tokens (tinyBLAS order)", Impl: d.tiny.name})
	out = append(out, OpChoice{Op: "attention F16 V accumulate", Impl: d.f16.name})
	out = append(out, OpChoice{Op: "paged attention blocks", Impl: d.attn.name})
	out = append(out, OpChoice{Op: "activations F32→F16", Impl: d.conv.name},
		OpChoice{Op: "activations F32→Q8_0", Impl: d.vec.name},
		OpChoice{Op: "SwiGLU", Impl: d.vec.name})
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// activeDot returns the dot product the current level uses for t (nil when
// t has none).
func activeDot(t Type) func(n int, w, a []byte) float32 {
	return current().dot[t]
}

// gemmImpl multiplies one weight row by up to gemmRows activation rows at
// once, so the weight block is loaded and unpacked once for all of them:
// out[i] = dot(w, a[i*stride:]) for i < k.
type gemmImpl struct {
	level Level
	name  string
	fn    func(n int, w, a []byte, stride, k int, out *[gemmRows]float32)
	// fnF32, when set instead of fn, takes the activations widened back to
	// float32 (stride in elements), for the float formats.
	fnF32 func(n int, w []byte, a []float32, stride int, out *[gemmRows]float32)
	// rowsF32, with fnF32, is its one-token form over len(out) consecutive
	// weight rows rowBytes apart: decode and the tokens left over from the
	// four-token tiles.
	rowsF32 func(n int, w []byte, rowBytes int, a []float32, out []float32)
	// ext > 0: fn takes extended Q8_0 activations (q8Ext) built with K = ext.
	ext int
}

// gemmRows is the most activation rows a gemm kernel handles per call.
const gemmRows = 4

var fastGemms = map[Type][]gemmImpl{}

func registerGemm(t Type, level Level, name string, fn func(n int, w, a []byte, stride, k int, out *[gemmRows]float32)) {
	fastGemms[t] = append(fastGemms[t], gemmImpl{level: level, name: name, fn: fn})
}

func registerGemmExt(t Type, level Level, name string, k int, fn func(n int, w, a []byte, stride, k int, out *[gemmRows]float32)) {
	fastGemms[t] = append(fastGemms[t], gemmImpl{level: level, name: name, fn: fn, ext: k})
}

// extDotImpl is a one-row dot over extended activations (q8Ext with K =
// ext), bit-identical to the level's dot; MatMul uses it for the tokens
// left over from the four-token tiles, and for decode.
type extDotImpl struct {
	level Level
	ext   int
	fn    func(n int, w, a []byte) float32
}

var fastExtDots = map[Type][]extDotImpl{}

func registerExtDot(t Type, level Level, k int, fn func(n int, w, a []byte) float32) {
	fastExtDots[t] = append(fastExtDots[t], extDotImpl{level, k, fn})
}

func registerGemmF32(t Type, level Level, name string, fn func(n int, w []byte, a []float32, stride int, out *[gemmRows]float32),
	rows func(n int, w []byte, rowBytes int, a []float32, out []float32)) {
	fastGemms[t] = append(fastGemms[t], gemmImpl{level: level, name: name, fnF32: fn, rowsF32: rows})
}

// convImpl converts activations between float32 and F16 (round to nearest
// even, as FP32ToFP16).
type convImpl struct {
	level   Level
	name    string
	toF16   func(dst []byte, src []float32)
	fromF16 func(dst []float32, src []byte)
}

var fastConvs []convImpl

func registerConv(level Level, name string, toF16 func([]byte, []float32), fromF16 func([]float32, []byte)) {
	fastConvs = append(fastConvs, convImpl{level, name, toF16, fromF16})
}

func toF16Generic(dst []byte, src []float32) { QuantizeActivations(F16, src, dst) }

func fromF16Generic(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = FP16ToFP32(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
	}
}

func convFor(l Level) convImpl {
	best := convImpl{level: -1, name: "generic", toF16: toF16Generic, fromF16: fromF16Generic}
	for _, im := range fastConvs {
		if im.level <= l && im.level > best.level {
			best = im
		}
	}
	return best
}
