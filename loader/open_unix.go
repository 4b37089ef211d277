//go:build unix

package loader

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps path read-only, so weights are paged in from the file on
// demand and never copied into the Go heap.
func mapFile(path string) ([]byte, func() error, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size == 0 {
		return nil, nil, fmt.Errorf("gguf: %s is empty", path)
	}
	if int64(int(size)) != size {
		return nil, nil, fmt.Errorf("gguf: %s is too large to map (%d bytes)", path, size)
	}
	data, err := syscall.Mmap(int(fd.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("gguf: mmap %s: %w", path, err)
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
