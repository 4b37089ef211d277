package modelbench

import (
	"sync"
	"time"

	"github.com/klauspost/cpuid/v2"
)

func cpuName() string { return cpuid.CPU.BrandName }

// ReadBandwidth returns the memory read bandwidth in bytes per second:
// workers goroutines sum disjoint parts of a buffer of size bytes (which
// should be far larger than the caches), best of reps passes. It is the
// bound that the tg figures are compared with: a token reads every weight
// once, so tokens/s can be at most bandwidth / bytes of weights.
func ReadBandwidth(size int64, workers, reps int) float64 {
	words := make([]uint64, size/8)
	for i := range words { // touch every page so the pass measures reads
		words[i] = uint64(i)
	}
	best := 0.0
	var sink uint64
	for r := 0; r < reps; r++ {
		var wg sync.WaitGroup
		sums := make([]uint64, workers*8) // padded against false sharing
		t0 := time.Now()
		for w := 0; w < workers; w++ {
			lo, hi := len(words)*w/workers, len(words)*(w+1)/workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				sums[8*w] = sumWords(words[lo:hi])
			}()
		}
		wg.Wait()
		bw := float64(size) / time.Since(t0).Seconds()
		best = max(best, bw)
		for _, s := range sums {
			sink += s
		}
	}
	sinkVar = sink
	return best
}

var sinkVar uint64

// sumWords adds 64-bit words with four independent sums, so the loop is
// bound by loads rather than by the add latency.
func sumWords(w []uint64) uint64 {
	var a, b, c, d uint64
	for len(w) >= 4 {
		a += w[0]
		b += w[1]
		c += w[2]
		d += w[3]
		w = w[4:]
	}
	for _, x := range w {
		a += x
	}
	return a + b + c + d
}
