//go:build amd64 && !noasm

#include "textflag.h"

// func int8PeakVNNI(iters int)
//
// iters rounds of eight independent 512-bit VPDPBUSD (64 multiply-adds
// each): the int8 multiply-add peak of a core, for BenchmarkInt8Peak.
TEXT ·int8PeakVNNI(SB), NOSPLIT, $0-8
	MOVQ iters+0(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPTERNLOGD $0xff, Z8, Z8, Z8
	VPTERNLOGD $0xff, Z9, Z9, Z9

peakloop:
	VPDPBUSD Z9, Z8, Z0
	VPDPBUSD Z9, Z8, Z1
	VPDPBUSD Z9, Z8, Z2
	VPDPBUSD Z9, Z8, Z3
	VPDPBUSD Z9, Z8, Z4
	VPDPBUSD Z9, Z8, Z5
	VPDPBUSD Z9, Z8, Z6
	VPDPBUSD Z9, Z8, Z7
	DECQ CX
	JNZ  peakloop
	VZEROUPPER
	RET
