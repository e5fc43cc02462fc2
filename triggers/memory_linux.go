package triggers

import (
	"syscall"
	"unsafe"
)

// reserveMemory maps limit bytes of private anonymous memory, reserved but
// not committed (MAP_NORESERVE): an instance's linear memory then grows in
// place up to its MemorySize, without copying what it already holds and
// without a Go heap allocation per growth. The kernel hands out zeroed
// pages on first touch, which is the zero memory wasm requires. It
// returns nil when the mapping is refused (a strict overcommit policy, a
// 32-bit address space); the caller then allocates on the Go heap.
func reserveMemory(limit uint64) []byte {
	if limit == 0 || unsafe.Sizeof(uintptr(0)) < 8 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, int(limit), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return b
}

// releaseMemory unmaps what reserveMemory mapped.
func releaseMemory(b []byte) error { return syscall.Munmap(b) }
