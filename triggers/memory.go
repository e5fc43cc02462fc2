package triggers

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// limitedMemory backs one instance's linear memory and refuses to grow it
// past the function's MemorySize, or past what the runtime-wide budget
// (Options.MaxTotalMemoryMB) has left. A refused memory.grow returns -1 to
// the guest; a Go guest then dies with "out of memory", which the host
// reports as Runtime.OutOfMemory because refused is set.
//
// The initial allocation is held to the same limit: the host checks the
// module's declared minimum against MemorySize when the code or MemorySize
// changes and again before it instantiates, and charges that minimum to the
// budget up front (pool.instantiateModule), so the first Reallocate never
// has to refuse.
type limitedMemory struct {
	limit   uint64
	budget  *memBudget
	charged uint64 // bytes charged to budget
	buf     []byte
	refused bool
	// overBudget: the refusal was the runtime-wide budget's, not
	// MemorySize's.
	overBudget bool
	// mapped is the whole reservation buf grows in (reserveMemory: limit
	// bytes, mapped when the instance is created, unmapped by Free); nil
	// when buf is on the Go heap. Growing a Go heap buffer copied it
	// whole at each doubling and faulted in a fresh one: about 30% of the
	// CPU of a short mapping drain (issue 18, mappings/doc.go).
	mapped   []byte
	unmapped bool // the reservation was tried (and failed) or released
}

var _ experimental.LinearMemory = (*limitedMemory)(nil)

func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused = true
		return nil
	}
	if size > m.charged {
		if !m.budget.take(size - m.charged) {
			m.refused, m.overBudget = true, true
			return nil
		}
		m.charged = size
	}
	if m.mapped == nil && !m.unmapped {
		if m.mapped = reserveMemory(m.limit); m.mapped == nil {
			m.unmapped = true
		} else {
			m.buf = m.mapped[:len(m.buf)] // empty: wazero asks for the minimum first
		}
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	c := max(size, 2*uint64(cap(m.buf)))
	c = min(c, m.limit)
	nb := make([]byte, size, c)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

// Free releases the memory and its charge. It may be called more than once.
func (m *limitedMemory) Free() {
	m.buf = nil
	if m.mapped != nil {
		// Only wazero's close of the module (or a failed instantiation)
		// frees: no guest code runs in it any more, and the host keeps
		// no slice of guest memory past a host call (abi.go copies).
		_ = releaseMemory(m.mapped)
		m.mapped = nil
	}
	m.unmapped = true
	if m.charged > 0 {
		m.budget.give(m.charged)
		m.charged = 0
	}
}

// memoryAllocator hands out one limitedMemory per instantiation and lets the
// instantiating code pick it up. precharged is what the instantiating code
// already took from the budget for the module's declared minimum.
type memoryAllocator struct {
	limit      uint64
	budget     *memBudget
	precharged uint64
	mu         sync.Mutex
	last       *limitedMemory
}

func (a *memoryAllocator) Allocate(_, _ uint64) experimental.LinearMemory {
	m := &limitedMemory{limit: a.limit, budget: a.budget, charged: a.precharged}
	a.mu.Lock()
	a.precharged = 0
	a.last = m
	a.mu.Unlock()
	return m
}
