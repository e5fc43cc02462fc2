//go:build unix

package store

import (
	"os"
	"syscall"
)

// removed reports whether f's file has no name left. An fstat that fails
// (f closed with its DB) is no evidence of removal.
func removed(f *os.File) bool {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return st.Nlink == 0
}
