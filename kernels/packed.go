package kernels

import (
	"fmt"
	"sort"
)

// Packed (interleaved) weights for the fast matmul kernels.
//
// Pack copies a matrix into groups of packRows rows whose blocks are
// interleaved, so one vector load gives the same four bytes of sixteen rows
// and one VPDPBUSD against four broadcast activation bytes advances sixteen
// outputs (llama.cpp's repack does the same with eight rows). The last
// group is padded with zero rows. Group g's block b lives at
// (g·nb + b)·blockBytes. Each format keeps its own summation order, so a
// packed matrix gives exactly the numbers of the unpacked one: Q4_0 the
// order of llama.cpp's repacked kernels (repack.go), Q8_0 vec_dot's eight
// lanes per row (packed_q8.go).

// packRows is how many rows a packed group interleaves.
const packRows = 16

// packedFormat is one type's packed layout and activation form.
type packedFormat struct {
	blockBytes int  // bytes of one block of a group
	actType    Type // the activations' format before act rewrites them
	actBytes   int  // bytes of one block of activations in the kernels' form
	// packBlock writes src (one block of a row) as lane `lane` of the
	// packed block dst.
	packBlock func(dst, src []byte, lane int)
	// act rewrites the actType row q (nb blocks) into the kernels' form.
	act func(dst, q []byte, nb int)
	// splitOrders: like llama.cpp's repacked K-quant kernels, the first
	// n - n%4 tokens of a batch get the multi-token (gemm) order and the
	// rest the one-token (gemv) order, which differ.
	splitOrders bool
	// fused returns the level's kernel that quantizes float32 activations
	// straight into that form (nil: QuantizeActivations, then act).
	fused func(v vecImpl) func(x []float32, dst []byte)
}

var packedFormats = map[Type]packedFormat{
	Q4_0: {blockBytes: q4Pack, actType: Q8_0, actBytes: q8SumBytes, packBlock: packQ4_0, act: q8Sum,
		fused: func(v vecImpl) func([]float32, []byte) { return v.quantQ8Sum }},
	Q8_0: {blockBytes: q8Pack, actType: Q8_0, actBytes: q8ExtBytes, packBlock: packQ8_0, act: func(dst, q8 []byte, nb int) { q8Ext(dst, q8, nb, 128) },
		fused: func(v vecImpl) func([]float32, []byte) { return v.quantQ8Ext128 }},
	Q4_K: {blockBytes: q4KPack, actType: Q8_K, actBytes: q8KPackBytes, packBlock: packQ4_K, act: q8KPack, splitOrders: true},
	Q6_K: {blockBytes: q6KPack, actType: Q8_K, actBytes: q8K6Bytes, packBlock: packQ6_K, act: q8K6},
}

// packs reports whether Pack interleaves m.
func packs(m Matrix) bool {
	switch m.Type {
	case Q4_0:
		return repacksQ4_0(m)
	case Q8_0:
		return true
	case Q4_K:
		return repacksKQuant(m)
	case Q6_K:
		return true
	}
	return false
}

// Pack returns m ready for MatMul's fastest kernels: a matrix whose format
// has packed kernels at the detected CPU level is interleaved into a copy
// (the plain rows stay in Data for Row and the reference). Other matrices
// are returned as they are. MatMul gives the same numbers either way.
func Pack(m Matrix) Matrix {
	f, ok := packedFormats[m.Type]
	if !ok || !packs(m) || packedFor(m.Type, DetectedLevel()) == nil || m.packed != nil {
		return m
	}
	l, _ := LayoutOf(m.Type)
	nb, bb := m.Cols/l.BlockSize, l.BlockBytes
	groups := (m.Rows + packRows - 1) / packRows
	out := make([]byte, groups*nb*f.blockBytes)
	rb := m.rowBytes()
	for r := 0; r < m.Rows; r++ {
		g, lane := r/packRows, r%packRows
		row := m.Data[r*rb : (r+1)*rb]
		for b := 0; b < nb; b++ {
			f.packBlock(out[(g*nb+b)*f.blockBytes:(g*nb+b+1)*f.blockBytes], row[b*bb:(b+1)*bb], lane)
		}
	}
	m.packed = out
	return m
}

// Packed reports whether Pack interleaved m.
func (m Matrix) Packed() bool { return m.packed != nil }

// packedImpl is a kernel over one packed group (nb blocks at w) times
// `tokens` activation rows (in the format's act form) at a, a+stride, ...,
// writing out[t][r].
type packedImpl struct {
	level  Level
	name   string
	tokens int // activation rows per call (1 is the one-token form)
	fn     func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32)
}

// packedTokens is the most activation rows a packed kernel takes at once.
const packedTokens = 8

var fastPacked = map[Type][]packedImpl{}

func registerPacked(t Type, level Level, name string, tokens int, fn func(w, a []byte, stride, nb int, out *[packedTokens][packRows]float32)) {
	fastPacked[t] = append(fastPacked[t], packedImpl{level, name, tokens, fn})
}

// packedFor returns the packed kernels for t at level l, one per token
// count (the best level for each), most tokens first; nil unless there is
// a one-token kernel to finish any remainder with.
func packedFor(t Type, l Level) []packedImpl {
	best := map[int]packedImpl{}
	for _, k := range fastPacked[t] {
		if b, ok := best[k.tokens]; k.level <= l && (!ok || k.level > b.level) {
			best[k.tokens] = k
		}
	}
	if _, ok := best[1]; !ok {
		return nil
	}
	if _, ok := best[4]; !ok && packedFormats[t].splitOrders {
		return nil // the gemm order needs a four-token kernel to cover it
	}
	var out []packedImpl
	for _, k := range best {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].tokens > out[j].tokens })
	return out
}

// matMulPacked is MatMul over a packed matrix with the level's kernels.
func matMulPacked(p *Pool, dst []float32, w Matrix, x []float32, n int, kernels []packedImpl) {
	acts := packedActs(p, w, x, n)
	defer extBufs.Put(acts)
	groups := (w.Rows + packRows - 1) / packRows
	p.Run(groups, func(lo, hi int) { packedGroups(dst, w, *acts, n, kernels, lo, hi) })
}

// packedActs quantizes the n activation rows x into w's packed format's
// activation form (a scratch buffer for extBufs).
func packedActs(p *Pool, w Matrix, x []float32, n int) *[]byte {
	f := packedFormats[w.Type]
	cols, nb := w.Cols, packedBlocks(w)
	arb, srb := nb*layouts[f.actType].BlockBytes, nb*f.actBytes
	acts := byteScratch(&extBufs, n*srb)
	if q := f.fusedFor(current().vec); q != nil {
		p.Run(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				q(x[i*cols:(i+1)*cols], acts[i*srb:(i+1)*srb])
			}
		})
		return &acts
	}
	buf := byteScratch(&actBufs, n*arb)
	defer actBufs.Put(&buf)
	l := layouts[f.actType]
	quant := func(i, b0, b1 int) { // blocks [b0, b1) of row i
		a := buf[i*arb+b0*l.BlockBytes : i*arb+b1*l.BlockBytes]
		QuantizeActivations(f.actType, x[i*cols+b0*l.BlockSize:i*cols+b1*l.BlockSize], a)
		f.act(acts[i*srb+b0*f.actBytes:i*srb+b1*f.actBytes], a, b1-b0)
	}
	if n == 1 {
		// Decode: the one row's blocks are independent, so the threads
		// share them instead of one thread quantizing while the rest wait.
		p.Run(nb, func(lo, hi int) { quant(0, lo, hi) })
		return &acts
	}
	p.Run(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			quant(i, 0, nb)
		}
	})
	return &acts
}

// packedGroups computes groups [lo, hi) of the packed w for the n
// activation rows acts into dst, the widest kernel that fits the tokens
// left first, over tiles of groups that stay in L2 while the tokens pass.
func packedGroups(dst []float32, w Matrix, acts []byte, n int, kernels []packedImpl, lo, hi int) {
	f := packedFormats[w.Type]
	rows, nb := w.Rows, packedBlocks(w)
	srb := nb * f.actBytes
	gb := nb * f.blockBytes // bytes of one group
	tile := max(1, packTileBytes/gb)
	tiled := 0 // tokens that must take the multi-token order
	if f.splitOrders {
		tiled = n - n%4
	}
	var out [packedTokens][packRows]float32
	for g0 := lo; g0 < hi; g0 += tile {
		g1 := min(g0+tile, hi)
		for i := 0; i < n; {
			// The widest kernel that fits the tokens left (of the tiled
			// part when the orders differ), down to one.
			k := kernels[len(kernels)-1]
			for _, c := range kernels {
				if i < tiled && c.tokens > 1 && c.tokens <= tiled-i || i >= tiled && c.tokens <= n-i && (!f.splitOrders || c.tokens == 1) {
					k = c
					break
				}
			}
			for g := g0; g < g1; g++ {
				k.fn(w.packed[g*gb:(g+1)*gb], acts[i*srb:], srb, nb, &out)
				r0 := g * packRows
				if r0+packRows <= rows {
					// A full group: array copies, no memmove call each.
					for t := range k.tokens {
						o := (i+t)*rows + r0
						*(*[packRows]float32)(dst[o : o+packRows]) = out[t]
					}
				} else {
					for t := range k.tokens {
						copy(dst[(i+t)*rows+r0:(i+t)*rows+rows], out[t][:])
					}
				}
			}
			i += k.tokens
		}
	}
}

// MatMuls computes MatMul(p, dsts[j], ws[j], x, n) for every j, as one job
// when all of ws are packed in one format with the same Cols (a layer's
// q/k/v or gate/up): the activations are quantized once and the threads
// split the groups of all the matrices together, one barrier instead of
// one per matrix. Otherwise it calls MatMul for each.
func MatMuls(p *Pool, dsts [][]float32, ws []Matrix, x []float32, n int) {
	if len(ws) != len(dsts) {
		panic(fmt.Sprintf("kernels: MatMuls: %d matrices, %d outputs", len(ws), len(dsts)))
	}
	kernels := current().packed[ws[0].Type]
	one := kernels != nil && n > 0 && (n == 1 || len(kernels) > 1)
	for _, w := range ws {
		one = one && w.packed != nil && w.Type == ws[0].Type && w.Cols == ws[0].Cols
	}
	if !one {
		for j, w := range ws {
			MatMul(p, dsts[j], w, x, n)
		}
		return
	}
	starts := make([]int, len(ws)+1) // first group of each matrix in the joint range
	for j, w := range ws {
		checkMatMul(dsts[j], w, x, n)
		starts[j+1] = starts[j] + (w.Rows+packRows-1)/packRows
	}
	acts := packedActs(p, ws[0], x, n)
	defer extBufs.Put(acts)
	p.Run(starts[len(ws)], func(lo, hi int) {
		for j, w := range ws {
			a, b := max(lo, starts[j]), min(hi, starts[j+1])
			if a < b {
				packedGroups(dsts[j], w, *acts, n, kernels, a-starts[j], b-starts[j])
			}
		}
	})
}

// packedBlocks is how many blocks one row of w has.
func packedBlocks(w Matrix) int {
	l, _ := LayoutOf(w.Type)
	return w.Cols / l.BlockSize
}

// fusedFor is f.fused for the level's vector kernels, nil when there is none.
func (f packedFormat) fusedFor(v vecImpl) func([]float32, []byte) {
	if f.fused == nil {
		return nil
	}
	return f.fused(v)
}

// packTileBytes bounds the packed weights one thread keeps hot while the
// tokens pass over them.
const packTileBytes = 256 << 10
