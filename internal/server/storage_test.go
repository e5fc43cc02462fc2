package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/logtest"
	"github.com/eddydb/eddy/store"
)

func post(t *testing.T, url, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	c := &http.Client{Timeout: 10 * time.Second} // a hang fails the test
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String()
}

// TestDataDirRemovedWhileServing: after rm -rf of the data directory,
// PutItem answers InternalServerError (500) instead of an acknowledgement,
// GetItem still answers, /healthz answers 503 with the reason, the store
// logs the failure once, and the next start refuses the missing directory
// instead of creating an empty database.
func TestDataDirRemovedWhileServing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var logs logtest.Buffer
	if _, err := New(Options{Addr: "127.0.0.1:0", DataDir: dir}); !errors.Is(err, store.ErrDataDir) {
		t.Fatalf("New on a missing data directory without Init: %v, want store.ErrDataDir", err)
	}
	s, err := New(Options{Addr: "127.0.0.1:0", DataDir: dir, Init: true, TTLSweepInterval: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	u := s.URL()
	if code, body := post(t, u, "CreateTable", `{"TableName":"tbl","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],`+
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`); code != 200 {
		t.Fatalf("CreateTable: %d %s", code, body)
	}
	if code, body := post(t, u, "PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"acked"}}}`); code != 200 {
		t.Fatalf("PutItem: %d %s", code, body)
	}
	if code, _ := get(t, u+"/healthz"); code != 200 {
		t.Fatalf("/healthz before: %d", code)
	}
	if v := metric(t, s, "eddy_storage_failed"); v != 0 {
		t.Fatalf("eddy_storage_failed = %v on a healthy store", v)
	}

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		code, body := post(t, u, "PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"lost"}}}`)
		if code != 500 || !strings.Contains(body, "InternalServerError") {
			t.Fatalf("PutItem after the removal: %d %s, want 500 InternalServerError", code, body)
		}
	}
	if code, body := post(t, u, "GetItem", `{"TableName":"tbl","Key":{"pk":{"S":"acked"}}}`); code != 200 || !strings.Contains(body, "acked") {
		t.Fatalf("GetItem after the removal: %d %s", code, body)
	}
	if code, body := get(t, u+"/healthz"); code != 503 || !strings.Contains(body, "data directory vanished") {
		t.Fatalf("/healthz after the removal: %d %q, want 503 with the reason", code, body)
	}
	if v := metric(t, s, "eddy_storage_failed"); v != 1 {
		t.Fatalf("eddy_storage_failed = %v in the failed state, want 1", v)
	}
	if _, body := get(t, u+"/metrics"); !strings.Contains(body, "eddy_storage_failed 1") || !strings.Contains(body, "eddy_storage_commit_stall_seconds") {
		t.Fatalf("/metrics lacks the storage gauges:\n%.2000s", body)
	}
	if n := strings.Count(logs.String(), `msg="storage failed: writes refused until restart"`); n != 1 {
		t.Fatalf("%d failed-state lines, want 1:\n%s", n, logs.String())
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Logf("shutdown after the removal: %v", err) // closing Pebble may fail there
	}
	if _, err := New(Options{Addr: "127.0.0.1:0", DataDir: dir}); !errors.Is(err, store.ErrDataDir) {
		t.Fatalf("restart on the removed directory: %v, want store.ErrDataDir", err)
	}
}
