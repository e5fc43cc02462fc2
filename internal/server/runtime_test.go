package server

import (
	"runtime/debug"
	"testing"
)

func TestTuneRuntime(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	defer func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}()
	TuneRuntime()
	if p := debug.SetGCPercent(100); p != serveGCPercent {
		t.Errorf("GC percent %d, want %d", p, serveGCPercent)
	}
	if l := debug.SetMemoryLimit(-1); l != serveMemoryLimit {
		t.Errorf("memory limit %d, want %d", l, serveMemoryLimit)
	}

	// The environment wins.
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	TuneRuntime()
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("with GOGC=150 set: GC percent %d", p)
	}
}
