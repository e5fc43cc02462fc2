package triggers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

func guardHost(t *testing.T, opts Options) *Host {
	t.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Deps{DB: db.KeySpace(store.SpaceFunctions)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(); _ = db.Close() })
	return h
}

// simdSpin is a handler body the guard rewrite does not understand (a
// SIMD v128.const), then a spin: such a module runs on wazero's guard.
var simdSpin = append(append([]byte{0xfd, 0x0c}, make([]byte, 16)...), append([]byte{0x1a}, triggerstest.Spin...)...)

// TestGuardStopsRunaways: with the default settings a handler or an
// _initialize that never returns is stopped at its timeout, whether the
// module carries eddy's guard global (a Go guest, a hand-made loop) or
// falls back to wazero's guard (an opcode the rewrite does not know).
func TestGuardStopsRunaways(t *testing.T) {
	h := guardHost(t, Options{InitTimeout: time.Second})
	ctx := context.Background()
	kitchen, err := triggerstest.Build("kitchen")
	if err != nil {
		t.Fatal(err)
	}
	spin := append(append([]byte{}, triggerstest.Spin...), triggerstest.ReturnOK...)
	for _, tc := range []struct {
		name    string
		code    []byte
		payload string
		guarded bool
		want    string
	}{
		{"go", kitchen, `{"action":"loop"}`, true, "Sandbox.Timedout"},
		{"spin", triggerstest.Module{MemoryMin: 1, Handle: spin}.Bytes(), "", true, "Sandbox.Timedout"},
		{"spininit", triggerstest.Module{MemoryMin: 1, Init: triggerstest.Spin}.Bytes(), "", true, "Init error: Task timed out after 1.00 seconds"},
		{"simd", triggerstest.Module{MemoryMin: 1, Handle: append(simdSpin, triggerstest.ReturnOK...)}.Bytes(), "", false, "Sandbox.Timedout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.CreateFunction(ctx, FunctionSpec{Name: tc.name, Code: tc.code, Timeout: time.Second}); err != nil {
				t.Fatal(err)
			}
			c, err := h.GetFunction(tc.name, "")
			if err != nil {
				t.Fatal(err)
			}
			cc, err := h.compiledFor(ctx, c.CodeHash, nil)
			if err != nil {
				t.Fatal(err)
			}
			if cc.guarded != tc.guarded || (cc.rt == h.rt) == tc.guarded {
				t.Fatalf("guarded %v (want %v)", cc.guarded, tc.guarded)
			}
			start := time.Now()
			res, err := h.Invoke(ctx, tc.name, "", []byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > 20*time.Second {
				t.Fatalf("runaway ran %v", el)
			}
			if res.FunctionError != "Unhandled" || !strings.Contains(string(res.Payload), tc.want) || !strings.Contains(string(res.Payload), "timed out") {
				t.Fatalf("runaway reported as %s", res.Payload)
			}
		})
	}
	// After a timeout the function still serves: a fresh instance, its
	// guard clear.
	res, err := h.Invoke(ctx, "go", "", []byte(`{"action":"echo"}`))
	if err != nil || res == nil || res.FunctionError != "" {
		t.Fatalf("after a timeout: %v %s", err, res.Payload)
	}
}

// TestGuardRewriteRefuses: modules the rewrite must leave to wazero's
// guard.
func TestGuardRewriteRefuses(t *testing.T) {
	for name, code := range map[string][]byte{
		"simd":       triggerstest.Module{MemoryMin: 1, Handle: append(simdSpin, triggerstest.ReturnOK...)}.Bytes(),
		"global.set": triggerstest.Module{MemoryMin: 1, Handle: []byte{0x41, 0x01, 0x24, 0x00, 0x41, 0x00}}.Bytes(), // global 0: the guard's index
		"truncated":  triggerstest.Module{MemoryMin: 1, Handle: spin()}.Bytes()[:40],
		"not wasm":   []byte("hello, world"),
	} {
		if _, err := instrumentGuard(code); err == nil {
			t.Errorf("%s: instrumented", name)
		}
	}
	if _, err := instrumentGuard(triggerstest.Module{MemoryMin: 1, Handle: spin()}.Bytes()); err != nil {
		t.Fatal(err)
	}
}

func spin() []byte { return append(append([]byte{}, triggerstest.Spin...), triggerstest.ReturnOK...) }
