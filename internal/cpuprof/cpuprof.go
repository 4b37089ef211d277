// Package cpuprof starts a pprof CPU profile for the benchmark commands'
// -cpuprofile flags.
package cpuprof

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// Start begins writing a CPU profile to path and returns the function that
// stops it and closes the file. An empty path profiles nothing.
func Start(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
