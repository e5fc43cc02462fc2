package streams

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/logtest"
	"github.com/eddydb/eddy/store"
)

// TestMaintenanceFailureLoggedOnce: a maintenance round that keeps failing
// is logged once when it starts failing and once when it recovers, not at
// every round.
func TestMaintenanceFailureLoggedOnce(t *testing.T) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf logtest.Buffer
	l, err := Open(db, Options{MaintenanceInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	trimFails := errors.New("trim: disk full")
	failing := func(time.Duration) error { return trimFails }
	for i := 0; i < 10; i++ {
		l.maintainRound(failing, time.Second)
	}
	l.maintainRound(l.Maintain, time.Second) // recovers
	l.maintainRound(l.Maintain, time.Second)
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=WARN msg="streams maintenance failing" err="trim: disk full"`,
		`level=INFO msg="streams maintenance recovered" failures=10`,
	}
	if len(got) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(got[i], w) {
			t.Errorf("line %d = %q, want suffix %q", i, got[i], w)
		}
	}
}
