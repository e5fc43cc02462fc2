package triggers

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// limitedMemory backs one instance's linear memory and refuses to grow it
// past the function's MemorySize. A refused memory.grow returns -1 to the
// guest; a Go guest then dies with "out of memory", which the host reports
// as Runtime.OutOfMemory because refused is set.
type limitedMemory struct {
	limit   uint64
	buf     []byte
	refused bool
}

var _ experimental.LinearMemory = (*limitedMemory)(nil)

func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size > m.limit && m.buf != nil {
		m.refused = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	c := max(size, 2*uint64(cap(m.buf)))
	c = min(c, max(m.limit, size))
	nb := make([]byte, size, c)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *limitedMemory) Free() { m.buf = nil }

// memoryAllocator hands out one limitedMemory per instantiation and lets the
// instantiating code pick it up.
type memoryAllocator struct {
	limit uint64
	mu    sync.Mutex
	last  *limitedMemory
}

func (a *memoryAllocator) Allocate(_, _ uint64) experimental.LinearMemory {
	m := &limitedMemory{limit: a.limit}
	a.mu.Lock()
	a.last = m
	a.mu.Unlock()
	return m
}
