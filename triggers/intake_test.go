package triggers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/triggers"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// TestInitTrapIsInitError: a module whose _initialize traps fails its
// invocations at once with the init error, not with a timeout (issue 13,
// finding 7: "Task timed out after 10.00 seconds" after 0.2 ms).
func TestInitTrapIsInitError(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	code := triggerstest.Module{MemoryMin: 1, Init: triggerstest.Unreachable}.Bytes()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "trapinit", Code: code}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // every cold start, not only the first
		start := time.Now()
		res, err := h.Invoke(ctx, "trapinit", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		p := string(res.Payload)
		if res.FunctionError != "Unhandled" || !strings.Contains(p, `"errorType":"Runtime.InitError"`) ||
			strings.Contains(p, "timed out") || !strings.Contains(p, "unreachable") {
			t.Fatalf("init trap reported as: %s", p)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("init trap took %v", el)
		}
	}
}

// TestImportsEddyDoesNotProvide: CreateFunction refuses a module importing
// a function no host module exports, or one with another signature,
// naming the import, instead of accepting it and failing every invocation.
func TestImportsEddyDoesNotProvide(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	for i, tc := range []struct {
		imp  triggerstest.Import
		want string
	}{
		{triggerstest.Import{Module: "wasi_snapshot_preview1", Name: "sock_open"}, "wasi_snapshot_preview1.sock_open"},
		{triggerstest.Import{Module: "wasi_snapshot_preview1", Name: "fd_write"}, "wasi_snapshot_preview1.fd_write"},
		{triggerstest.Import{Module: "eddy", Name: "input_len"}, "eddy.input_len"},
		{triggerstest.Import{Module: "env", Name: "abort"}, "env"},
	} {
		code := triggerstest.Module{MemoryMin: 1, Imports: []triggerstest.Import{tc.imp}}.Bytes()
		_, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: fmt.Sprintf("imp%d", i), Code: code})
		if !errors.Is(err, triggers.ErrInvalidParameter) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("import %v: %v", tc.imp, err)
		}
	}
	// The tiny module itself is fine.
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "ok", Code: triggerstest.Module{MemoryMin: 1}.Bytes()}); err != nil {
		t.Fatal(err)
	}
	if res, err := h.Invoke(ctx, "ok", "", nil); err != nil || res.FunctionError != "" {
		t.Fatalf("tiny module: %v %s", err, res.Payload)
	}
}
