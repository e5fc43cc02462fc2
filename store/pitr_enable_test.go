package store

import (
	"context"
	"errors"
	"testing"
	"time"

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
