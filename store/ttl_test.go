package store

import (
	"bytes"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
)

// TestSweepRechecksAtDeleteTime: the scan decides with its own clock, but
// the delete re-checks the item current at delete time with the real one,
// so an item whose expiry lies in the future is never deleted, even when a
// (slow) scan thought it expired; the deletion is a ServiceTTL change.
func TestSweepRechecksAtDeleteTime(t *testing.T) {
	db := openMem(t)
	log := &recLog{ks: db.KeySpace(SpaceStreamRecords)}
	db.RegisterChangeLog(log)
	tbl := newTable(t, db, "ttl")
	tbl, err := db.UpdateTable("ttl", func(t *Table) error {
		t.TTL = TTLSpec{Enabled: true, AttributeName: "exp"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	num := func(i int64) attr.Value { return attr.N(strconv.FormatInt(i, 10)) }
	for _, it := range []attr.Item{
		{"pk": attr.S("gone"), "exp": num(now - 10)},
		{"pk": attr.S("later"), "exp": num(now + 3600)},
	} {
		if _, err := db.Write(ctx, WriteOptions{}, put(tbl, it)); err != nil {
			t.Fatal(err)
		}
	}
	log.prepared = nil
	// The scan's clock is two hours ahead: both look expired to it.
	r, err := db.SweepExpired(ctx, tbl, nil, 10, time.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.Scanned != 2 || r.Deleted != 1 || r.Next != nil {
		t.Fatalf("sweep %+v", r)
	}
	if it, _ := db.Get(tbl, attr.Item{"pk": attr.S("later")}); it == nil {
		t.Fatal("item with a future expiry deleted")
	}
	if len(log.prepared) != 1 || log.prepared[0][0].Principal != ServiceTTL || log.prepared[0][0].New != nil {
		t.Fatalf("changes %+v", log.prepared)
	}
	// Bounded passes resume where the last one stopped.
	for i := 0; i < 5; i++ {
		if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S(strconv.Itoa(i)), "exp": num(now - 1)})); err != nil {
			t.Fatal(err)
		}
	}
	var from []byte
	deleted, passes := 0, 0
	for {
		r, err := db.SweepExpired(ctx, tbl, from, 2, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		deleted += r.Deleted
		passes++
		if from = r.Next; from == nil {
			break
		}
	}
	if deleted != 5 || passes != 3 {
		t.Fatalf("deleted %d in %d passes", deleted, passes)
	}
}

// TestTTLSweeperReportsStateChanges: a sweeper that keeps failing logs one
// warning, not one per pass, and one line when it recovers.
func TestTTLSweeperReportsStateChanges(t *testing.T) {
	var buf bytes.Buffer
	db, err := Open(Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &TTLSweeper{db: db, interval: time.Second}
	fail := errors.New("disk on fire")
	for _, err := range []error{fail, fail, fail, nil, nil, fail} {
		w.report(err)
	}
	out := buf.String()
	if n := strings.Count(out, "level=WARN"); n != 2 {
		t.Errorf("%d warnings, want 2 (one per failing streak):\n%s", n, out)
	}
	if n := strings.Count(out, "ttl sweep recovered"); n != 1 {
		t.Errorf("%d recoveries, want 1:\n%s", n, out)
	}
	if s := db.StartTTLSweeper(0); s != nil {
		t.Errorf("interval 0 started a sweeper")
	}
	db.StartTTLSweeper(time.Millisecond).Stop()
}
