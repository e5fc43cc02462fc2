//go:build unix

package store

import (
	"os"
	"syscall"
)

// removed reports whether f's file has no name left (or cannot be
// inspected).
func removed(f *os.File) bool {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return true
	}
	return st.Nlink == 0
}
