package lifecycle

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

func TestGroupStopWaitsAndCancels(t *testing.T) {
	g := New(context.Background(), "test", nil)
	var ended atomic.Int32
	for range 3 {
		g.Go("loop", func(ctx context.Context) { <-ctx.Done(); ended.Add(1) })
	}
	g.Stop()
	if n := ended.Load(); n != 3 {
		t.Fatalf("after Stop %d of 3 goroutines ended", n)
	}
	if g.Go("late", func(context.Context) { t.Error("ran after Stop") }) {
		t.Fatal("Go after Stop reported true")
	}
	g.Stop() // idempotent
}

func TestGroupLogsPanicWithStack(t *testing.T) {
	var buf bytes.Buffer
	g := New(context.Background(), "unit", slog.New(slog.NewTextHandler(&buf, nil)))
	g.Go("boom", func(context.Context) { panic("kaboom") })
	g.Stop()
	out := buf.String()
	for _, want := range []string{"recovered panic", "unit: boom", "kaboom", "lifecycle_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
