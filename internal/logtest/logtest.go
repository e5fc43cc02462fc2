// Package logtest captures log/slog output in tests: a Buffer that the
// goroutines of the code under test and the test itself can share.
package logtest

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// MachineIndependent wraps h to drop the records that depend on the
// machine a test runs on rather than on the code under test: Pebble's
// "low disk space" warnings, which any store on a disk under 10% free
// logs (store/events.go). Tests that count what a store logged use it so
// that they pass on a nearly full disk too.
func MachineIndependent(h slog.Handler) slog.Handler { return machineIndependent{h} }

type machineIndependent struct{ slog.Handler }

func (m machineIndependent) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "low disk space" {
		return nil
	}
	return m.Handler.Handle(ctx, r)
}

func (m machineIndependent) WithAttrs(as []slog.Attr) slog.Handler {
	return machineIndependent{m.Handler.WithAttrs(as)}
}

func (m machineIndependent) WithGroup(name string) slog.Handler {
	return machineIndependent{m.Handler.WithGroup(name)}
}
