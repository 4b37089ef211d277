// Package testutil finds reference data for tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, searching up from the
// working directory (a package directory under go test).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testutil: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Shared returns the path of rel inside the shared reference folder that sits
// beside the repository (PAGODA_SHARED overrides it). When it is missing the
// test is skipped, except in CI (CI=true), where wider sweeps must not be
// silently lost, so it fails.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	base := os.Getenv("PAGODA_SHARED")
	if base == "" {
		base = filepath.Join(RepoRoot(t), "..", "shared")
	}
	p := filepath.Join(base, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("reference data %s is missing (CI=true): %v", p, err)
		}
		t.Skipf("reference data %s is missing: %v", p, err)
	}
	return p
}
