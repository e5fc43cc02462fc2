package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/eddydb/eddy/internal/logtest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServerRoutesAndLifecycle: one mux serves /healthz, /metrics, the
// Lambda API and DynamoDB's GET /; startup and shutdown are logged once
// each at info; Shutdown is idempotent.
func TestServerRoutesAndLifecycle(t *testing.T) {
	var logs logtest.Buffer
	s, err := New(Options{Addr: "127.0.0.1:0", InMemory: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/healthz": "ok\n", "/": "healthy: eddy\n"} {
		if code, body := get(t, s.URL()+path); code != 200 || body != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, code, body, want)
		}
	}
	if code, _ := get(t, s.URL()+"/metrics"); code != 200 {
		t.Errorf("GET /metrics: %d", code)
	}
	if code, body := get(t, s.URL()+"/2015-03-31/functions/"); code != 200 || !strings.Contains(body, "Functions") {
		t.Errorf("GET /2015-03-31/functions/: %d %s", code, body)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	out := logs.String()
	for _, line := range []string{`level=INFO msg="eddy serving"`, `level=INFO msg="eddy stopped cleanly"`} {
		if n := strings.Count(out, line); n != 1 {
			t.Errorf("%d lines with %s, want 1:\n%s", n, line, out)
		}
	}
	if !strings.Contains(out, "fsync=true") || !strings.Contains(out, "data=memory") {
		t.Errorf("startup line lacks data dir or fsync:\n%s", out)
	}
}

// TestNewFailureClosesWhatItOpened: a bad option fails New, and what was
// opened before is closed again (the data directory can be opened anew).
func TestNewFailureClosesWhatItOpened(t *testing.T) {
	dir := t.TempDir()
	o := Options{Addr: "127.0.0.1:0", DataDir: dir}
	o.DLQ.Retention = -1
	if _, err := New(o); err == nil {
		t.Fatal("negative DLQ retention accepted")
	}
	s, err := New(Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatalf("reopen after a failed New: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
