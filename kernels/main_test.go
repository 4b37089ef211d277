package kernels

import (
	"os"
	"testing"
)

// TestMain runs the package's tests at the generic level, so the tests of
// the reference kernels (exact float sums, bit-identical matmuls) check the
// reference; the tests in fast_test.go switch to every supported level
// themselves and compare against it.
func TestMain(m *testing.M) {
	SetLevel(LevelGeneric)
	os.Exit(m.Run())
}
