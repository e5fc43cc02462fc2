package store

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/logtest"
)

// TestEventLogOncePerState feeds Pebble's events to the listener Open
// installs and checks that each change of state is logged once.
func TestEventLogOncePerState(t *testing.T) {
	var buf bytes.Buffer
	e := newEventLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})))
	clock := time.Unix(0, 0)
	e.now = func() time.Time { return clock }
	l := e.listener()

	for i := 0; i < 5; i++ {
		l.BackgroundError(errors.New("compaction: disk full"))
	}
	l.FlushEnd(pebble.FlushInfo{Done: true, Err: errors.New("still failing")}) // not a recovery
	l.CompactionEnd(pebble.CompactionInfo{Done: true})
	l.FlushEnd(pebble.FlushInfo{Done: true})

	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "L0 file count limit exceeded"})
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "L0 file count limit exceeded"})
	l.WriteStallEnd()
	l.WriteStallEnd()

	slow := pebble.DiskSlowInfo{Path: "000001.log", OpType: vfs.OpTypeSync, Duration: 6 * time.Second}
	for i := 0; i < 4; i++ {
		l.DiskSlow(slow)
		clock = clock.Add(10 * time.Second)
	}
	clock = clock.Add(diskSlowQuiet)
	l.DiskSlow(slow)

	want := []string{
		`level=ERROR msg="pebble background work failing" component=store err="compaction: disk full"`,
		`level=INFO msg="pebble background work recovered" component=store failures=5`,
		`level=WARN msg="write stall began: writes wait for flushes or compactions" component=store reason="L0 file count limit exceeded"`,
		`level=INFO msg="write stall ended" component=store`,
		`level=WARN msg="disk slow" component=store path=000001.log op=sync duration=6s`,
		`level=WARN msg="disk slow" component=store path=000001.log op=sync duration=6s unlogged_before=3`,
	}
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(got) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// TestOpenWithLogger: a DB with a Logger opens, writes and closes on disk
// (the disk-health wrapper is in place) and logs nothing when healthy but
// the line that names the database it opened.
func TestOpenWithLogger(t *testing.T) {
	var buf bytes.Buffer
	db, err := Open(Options{Dir: t.TempDir(), Logger: slog.New(logtest.MachineIndependent(slog.NewTextHandler(&buf, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	tbl := newTable(t, db, "t")
	if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("a")})); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `msg="store opened"`) || !strings.Contains(lines[0], "id="+db.ID()) {
		t.Fatalf("a healthy DB logged:\n%s", buf.String())
	}
}

// TestPebbleLogger: Pebble's errors are logged (they were dropped), at
// debug once the store has failed (its failed-state line says why), and
// Fatalf logs, then panics with a pebbleFatal for DB.commit to recover.
func TestPebbleLogger(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := &health{log: log}
	l := pebbleLogger{log: log, h: h}
	l.Infof("compaction %d done", 7)
	l.Errorf("cleaner: %s", "boom")
	h.fail(true, "WAL write failed", errors.New("no space"))
	l.Errorf("after: %s", "boom")
	func() {
		defer func() {
			if p, ok := recover().(pebbleFatal); !ok || string(p) != "pebble: fatal commit error: x" {
				t.Errorf("Fatalf panicked with %v", p)
			}
		}()
		l.Fatalf("pebble: fatal commit error: %s", "x")
	}()
	for _, want := range []string{`level=DEBUG msg="compaction 7 done"`, `level=ERROR msg="cleaner: boom"`,
		`level=DEBUG msg="after: boom"`, `level=DEBUG msg="fatal: pebble: fatal commit error: x"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, buf.String())
		}
	}
}
