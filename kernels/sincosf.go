package kernels

import "math"

// sinf and cosf compute sin and cos in float32 exactly as glibc's sinf and
// cosf (2.28 and later, from ARM's optimized-routines), which ggml's rope
// calls for its angle cache. Like expf they are not correctly rounded —
// about 1 in 80 results differs in the last bit from float32(math.Sin(x))
// — and one such bit changes a rotated query or key, so pagoda reproduces
// the algorithm: reduce x by π/2 (one multiply-subtract below 120, a
// 4/π bit table above), then an even or odd polynomial in float64 with FMAs
// (the variant x86-64 glibc selects on FMA CPUs), rounded once.
func sinf(y float32) float32 { return sinCosf(y, 0) }

func cosf(y float32) float32 { return sinCosf(y, 1) }

// sinCosf is sinf (c = 0) or cosf (c = 1).
func sinCosf(y float32, c int) float32 {
	x := float64(y)
	p := &sinCosTab[0]
	top := abstop12(y)
	switch {
	case top < abstop12(0x1.921FB6p-1): // |y| < 0.75 (π/4 to 12 bits)
		if top < abstop12(0x1p-12) {
			if c == 1 {
				return 1
			}
			return y
		}
		return sinCosPoly(x, x*x, p, c)
	case top < abstop12(120):
		r := x * p.hpiInv // 2/π scaled by 2^24: the quadrant lands in bits 24..31
		n := (int32(r) + 0x800000) >> 24
		x = math.FMA(-float64(n), p.hpi, x)
		if n&2 != 0 {
			p = &sinCosTab[1]
		}
		return sinCosPoly(x*p.sign[n&3], x*x, p, int(n)^c)
	case top < abstop12(float32(math.Inf(1))):
		xi := math.Float32bits(y)
		x, n := reducePio4Large(xi)
		q := n + int(xi>>31)
		if q&2 != 0 {
			p = &sinCosTab[1]
		}
		return sinCosPoly(x*p.sign[q&3], x*x, p, n^c)
	}
	return float32(math.NaN())
}

func abstop12(x float32) uint32 { return math.Float32bits(x) >> 20 & 0x7ff }

// sinCosPoly evaluates sin (n even) or cos (n odd) of a reduced x, x2 = x².
func sinCosPoly(x, x2 float64, p *sinCosConsts, n int) float32 {
	if n&1 == 0 {
		x3 := x * x2
		s1 := math.FMA(x2, p.s3, p.s2)
		x7 := x3 * x2
		s := math.FMA(x3, p.s1, x)
		return float32(math.FMA(x7, s1, s))
	}
	x4 := x2 * x2
	c2 := math.FMA(x2, p.c4, p.c3)
	c1 := math.FMA(x2, p.c1, p.c0)
	x6 := x4 * x2
	c := math.FMA(x4, p.c2, c1)
	return float32(math.FMA(x6, c2, c))
}

// reducePio4Large reduces |x| >= 120 (bits xi) modulo π/2 with 2/π's bits
// (invPio4) in 64-bit fixed point, returning the remainder and quadrant.
func reducePio4Large(xi uint32) (float64, int) {
	arr := invPio4[(xi>>26)&15:]
	shift := (xi >> 23) & 7
	m := (xi&0xffffff | 0x800000) << shift
	res0 := uint64(m * arr[0])
	res1 := uint64(m) * uint64(arr[4])
	res2 := uint64(m) * uint64(arr[8])
	res0 = res2>>32 | res0<<32
	res0 += res1
	n := (res0 + 1<<61) >> 62
	res0 -= n << 62
	return float64(int64(res0)) * 0x1.921FB54442D18p-62, int(n)
}

type sinCosConsts struct {
	sign                           [4]float64
	hpiInv, hpi                    float64
	c0, c1, c2, c3, c4, s1, s2, s3 float64
}

// sinCosTab is glibc's __sincosf_table: the second entry serves quadrants
// 2 and 3, with the cos coefficients negated.
var sinCosTab = [2]sinCosConsts{
	{[4]float64{1, -1, -1, 1}, 0x1.45F306DC9C883p+23, 0x1.921FB54442D18p0,
		0x1p0, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5, -0x1.6c087e89a359dp-10, 0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
	{[4]float64{1, -1, -1, 1}, 0x1.45F306DC9C883p+23, 0x1.921FB54442D18p0,
		-0x1p0, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5, 0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
}

// invPio4 holds overlapping 32-bit windows of 2/π's bits
// (0.a2f9836e4e441529fc2757d1f534ddc0db6295993c439041...).
var invPio4 = [24]uint32{
	0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e,
	0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529,
	0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
	0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
	0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599,
	0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
}
