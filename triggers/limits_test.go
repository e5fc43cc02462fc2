package triggers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/eddydb/eddy/triggers"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// TestMemorySizeCoversDeclaredMemory: a module whose declared initial
// memory is larger than its MemorySize is refused (issue 13, finding 2: a
// module declaring 16,384 pages ran with 1 GiB under MemorySize 128),
// whether the code or the MemorySize changes.
func TestMemorySizeCoversDeclaredMemory(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	huge := triggerstest.Module{MemoryMin: 16384}.Bytes()
	_, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "huge", Code: huge, MemoryMB: 128})
	if !errors.Is(err, triggers.ErrInvalidParameter) || !strings.Contains(err.Error(), "16384 pages") {
		t.Fatalf("CreateFunction: %v", err)
	}
	two := triggerstest.Module{MemoryMin: 32}.Bytes() // 2 MiB
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "f", Code: two, MemoryMB: 2}); err != nil {
		t.Fatal(err)
	}
	one := 1
	if _, err := h.UpdateFunctionConfiguration(ctx, "f", triggers.ConfigUpdate{MemoryMB: &one}); !errors.Is(err, triggers.ErrInvalidParameter) {
		t.Fatalf("UpdateFunctionConfiguration to 1 MB: %v", err)
	}
	if _, err := h.UpdateFunctionCode(ctx, "f", huge, false); !errors.Is(err, triggers.ErrInvalidParameter) {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	if res, err := h.Invoke(ctx, "f", "", nil); err != nil || res.FunctionError != "" {
		t.Fatalf("f: %v %s", err, res.Payload)
	}
}
