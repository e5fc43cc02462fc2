package triggers

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
)

// An instance's linear memory grows in place on Linux (memory_linux.go):
// growing it never copies what the guest holds, the new pages read as
// zero, and the limit and the budget still refuse what they refused.
func TestMemoryGrowsInPlace(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the reservation is Linux's (memory_other.go)")
	}
	budget := &memBudget{limit: 64 << 20, gauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})}
	m := &limitedMemory{limit: 32 << 20, budget: budget}
	buf := m.Reallocate(1 << 16)
	if len(buf) != 1<<16 {
		t.Fatalf("len %d, want %d", len(buf), 1<<16)
	}
	base := unsafe.SliceData(buf)
	buf[100] = 7
	for size := uint64(2 << 16); size <= 32<<20; size *= 2 {
		b := m.Reallocate(size)
		if uint64(len(b)) != size {
			t.Fatalf("len %d, want %d", len(b), size)
		}
		if unsafe.SliceData(b) != base {
			t.Fatalf("memory moved when it grew to %d bytes", size)
		}
		if b[100] != 7 || b[size-1] != 0 {
			t.Fatalf("grown to %d bytes: kept byte %d, new byte %d", size, b[100], b[size-1])
		}
		b[size-1] = 1
	}
	if m.Reallocate(32<<20+1<<16) != nil || !m.refused {
		t.Fatal("grew past its limit")
	}
	if budget.used != 32<<20 {
		t.Fatalf("budget charged %d, want %d", budget.used, 32<<20)
	}
	m.Free()
	m.Free() // wazero's close and a failed instantiation may both free
	if budget.used != 0 || m.mapped != nil {
		t.Fatalf("after Free: budget %d, mapped %v", budget.used, m.mapped != nil)
	}
	// Over the runtime-wide budget: refused as before.
	small := &memBudget{limit: 1 << 20, gauge: budget.gauge}
	m = &limitedMemory{limit: 32 << 20, budget: small}
	if m.Reallocate(1<<16) == nil || m.Reallocate(2<<20) != nil || !m.overBudget {
		t.Fatal("grew past the budget")
	}
	m.Free()
}
