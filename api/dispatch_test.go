package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// TestDispatchLogsPanic: a handler's panic answers InternalServerError and
// is logged with its value and stack.
func TestDispatchLogsPanic(t *testing.T) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, err := streams.Open(db, streams.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var buf bytes.Buffer
	s := New(Deps{DB: db, Log: log, Logger: slog.New(slog.NewTextHandler(&buf, nil))}, Config{})
	s.ops["Boom"] = func(ctx context.Context, c *call) (any, error) { panic("kaboom") }
	_, err = s.Call(context.Background(), "Boom", []byte("{}"), "")
	if !errors.Is(err, ddberr.New(ddberr.KindInternal, "")) {
		t.Fatalf("err %v, want InternalServerError", err)
	}
	out := buf.String()
	for _, want := range []string{"level=ERROR", "kaboom", "api: Boom", "dispatch_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
