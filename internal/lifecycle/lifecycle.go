// Package lifecycle is eddy's one way to start and stop long-lived
// goroutines: a Group runs functions under one context that Stop cancels,
// waits for all of them, and logs (never drops) a panic that escapes one.
//
// Every background loop in eddy (stream maintenance, TTL sweeps, index
// backfills, mapping runners, outbox deliveries) is started with Group.Go
// and ends when its context is done. Stop is idempotent and safe to call
// from any goroutine except one the group started.
package lifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Group owns a set of goroutines. The zero value is not usable: build one
// with New.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	name   string

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// New returns a Group whose goroutines run under a child of parent. name
// appears in the log line of an escaped panic; log may be nil (discard).
func New(parent context.Context, name string, log *slog.Logger) *Group {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(parent)
	return &Group{ctx: ctx, cancel: cancel, log: log, name: name}
}

// Context is the group's context, done once Stop is called.
func (g *Group) Context() context.Context { return g.ctx }

// Go runs f in a new goroutine with the group's context. A panic in f is
// logged at error level with its stack (the process keeps running; the
// goroutine ends). After Stop, Go does nothing and reports false.
func (g *Group) Go(what string, f func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				LogPanic(g.log, g.name+": "+what, p)
			}
		}()
		f(g.ctx)
	}()
	return true
}

// Stop cancels the group's context and waits for every goroutine started
// by Go to return. Later calls wait too and return at once once done.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
}

// LogPanic logs a recovered panic value with the stack of the goroutine
// that recovered it. Call it from the deferred function that called
// recover, so the stack still shows where the panic happened.
func LogPanic(log *slog.Logger, where string, p any) {
	if log == nil {
		log = slog.Default()
	}
	log.Error("recovered panic", "where", where, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// Discard is a logger that drops everything: the default of every
// subsystem's Options.Logger, so libraries used alone stay quiet.
var Discard = slog.New(slog.DiscardHandler)

// Or returns l, or Discard when l is nil.
func Or(l *slog.Logger) *slog.Logger {
	if l == nil {
		return Discard
	}
	return l
}

// Sleep waits d or until ctx is done, and reports whether the whole d
// passed (false: ctx ended first).
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
