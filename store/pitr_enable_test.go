package store

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
)

// pauseBaseCopies holds every base copy of db before its last commit until
// release is closed (or the DB closes); entered receives once a copy is
// held.
func pauseBaseCopies(db *DB) (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 1), make(chan struct{})
	db.bases.hook = func(ctx context.Context) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return entered, release
}

func putPKs(t *testing.T, db *DB, tbl *Table, pks ...string) {
	t.Helper()
	for _, pk := range pks {
		if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S(pk)})); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPITREnableDoesNotWaitForTheBaseCopy: enabling point-in-time recovery
// answers at once, as DynamoDB's UpdateContinuousBackups does, while the
// base copy runs in the background; a restore asked meanwhile is accepted
// (CREATING) and fills once the copy is done; a crash during the copy
// (the DB closed under it) restarts it at the next Open, in the
// background too.
func TestPITREnableDoesNotWaitForTheBaseCopy(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, Init: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	tbl := newTable(t, db, "src")
	putPKs(t, db, tbl, "a", "b", "c")
	entered, release := pauseBaseCopies(db)

	done := make(chan error, 1)
	go func() {
		_, err := db.SetPITR(ctx, "", "src", true, 1)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SetPITR waits for the base copy")
	}
	<-entered // the copy is running, held before its last commit
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.WaitPITR(stopped, "", "src"); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitPITR during the copy: %v, want it still waiting", err)
	}
	if cur := db.TableIn("", "src"); !cur.PITR.Enabled || cur.PITR.Since.IsZero() {
		t.Fatalf("PITR not reported enabled during the copy: %+v", cur.PITR)
	}
	at := time.Now()
	restored, err := db.RestoreAsOf("", "src", at, restoreSpec(tbl, "during"))
	if err != nil {
		t.Fatalf("RestoreAsOf during the base copy: %v", err)
	}
	if !restored.Restoring() {
		t.Fatal("the restored table is not CREATING")
	}
	time.Sleep(2 * time.Millisecond) // the next write is stamped after at
	putPKs(t, db, tbl, "d")
	close(release)
	if n, _, err := db.Stats(waitRestored(t, db, "during")); err != nil || n != 3 {
		t.Fatalf("restore asked during the copy: %d items (%v), want 3", n, err)
	}

	// A crash during the copy: the next Open starts it over in the
	// background, and a restore then sees the table.
	t2 := newTable(t, db, "t2")
	putPKs(t, db, t2, "x", "y")
	entered, _ = pauseBaseCopies(db)
	if _, err := db.SetPITR(ctx, "", "t2", true, 1); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(Options{Dir: dir, NoSync: true}); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := db.WaitPITR(wctx, "", "t2"); err != nil {
		t.Fatalf("the interrupted base copy did not restart: %v", err)
	}
	if _, err := db.RestoreAsOf("", "t2", time.Now(), restoreSpec(db.TableIn("", "t2"), "after")); err != nil {
		t.Fatal(err)
	}
	if n, _, err := db.Stats(waitRestored(t, db, "after")); err != nil || n != 2 {
		t.Fatalf("restore after the restarted copy: %d items (%v), want 2", n, err)
	}
}

// TestChangedItems: the items changed in a period, once each, in key
// order, with their images at its start and end; the scratch ranges the
// reads use on disk are gone afterwards (restores too).
func TestChangedItems(t *testing.T) {
	clock := newFakeClock()
	db, err := Open(Options{InMemory: true, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl := newTable(t, db, "t")
	if _, err := db.SetPITR(ctx, "", "t", true, 1); err != nil {
		t.Fatal(err)
	}
	set := func(pk, v string) {
		t.Helper()
		clock.advance(time.Millisecond)
		if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S(pk), "v": attr.S(v)})); err != nil {
			t.Fatal(err)
		}
	}
	set("a", "1")
	set("b", "1")
	set("x", "1")
	clock.advance(time.Second)
	from := clock.now()
	set("a", "2")
	set("c", "1")
	set("a", "3")
	clock.advance(time.Millisecond)
	if _, err := db.Write(ctx, WriteOptions{}, Mutation{Table: tbl, Key: attr.Item{"pk": attr.S("b")},
		Apply: func(attr.Item) (attr.Item, error) { return nil, nil }}); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Second)
	to := clock.now()
	set("x", "2")
	var got []string
	if err := db.ChangedItems(ctx, "", "t", from, to, func(d ItemDiff) error {
		got = append(got, jsonOf(d.Keys)+" "+jsonOf(d.Old)+" → "+jsonOf(d.New))
		if d.Time.Before(from) || d.Time.After(to) {
			t.Errorf("%v changed at %v, outside the period", d.Keys, d.Time)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want := []string{
		jsonOf(attr.Item{"pk": attr.S("a")}) + " " + jsonOf(attr.Item{"pk": attr.S("a"), "v": attr.S("1")}) + " → " + jsonOf(attr.Item{"pk": attr.S("a"), "v": attr.S("3")}),
		jsonOf(attr.Item{"pk": attr.S("b")}) + " " + jsonOf(attr.Item{"pk": attr.S("b"), "v": attr.S("1")}) + " → " + jsonOf(attr.Item(nil)),
		jsonOf(attr.Item{"pk": attr.S("c")}) + " " + jsonOf(attr.Item(nil)) + " → " + jsonOf(attr.Item{"pk": attr.S("c"), "v": attr.S("1")}),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ChangedItems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := db.RestoreAsOf("", "t", to, restoreSpec(tbl, "r")); err != nil {
		t.Fatal(err)
	}
	waitRestored(t, db, "r")
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: scratchAll[0], UpperBound: scratchAll[1]})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if it.First() {
		t.Fatalf("a scratch range is left: %q", it.Key())
	}
}
