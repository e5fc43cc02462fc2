package store

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/eddydb/eddy/attr"
)

// TestExtSorter: pairs added in random order, with a buffer small enough
// to spill many runs, come out in key order, pairs with equal keys in the
// order they were added; a lastOnly sorter read through a lastIter gives
// the last pair of each key once.
func TestExtSorter(t *testing.T) {
	db := openMem(t)
	l, err := db.newLoader()
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	r := rand.New(rand.NewSource(1))
	s := l.sorter(512)
	type kv struct{ k, v string }
	var want []kv
	for i := 0; i < 3000; i++ {
		e := kv{fmt.Sprintf("k%04d", r.Intn(1000)), fmt.Sprint(i)}
		want = append(want, e)
		if err := s.add([]byte(e.k), []byte(e.v)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.runs) < 10 {
		t.Fatalf("%d runs spilled, want many", len(s.runs))
	}
	slices.SortStableFunc(want, func(a, b kv) int { return bytes.Compare([]byte(a.k), []byte(b.k)) })
	var got []kv
	if err := s.each(func(k, v []byte) error {
		got = append(got, kv{string(k), string(v)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sorted %d pairs, want %d, or out of order", len(got), len(want))
	}

	// The last pair of each key (lastOnly, read through lastIter), with
	// and without spills.
	for _, limit := range []int{512, 1 << 20} {
		s := l.sorter(limit).lastOnly()
		last := map[string]string{}
		for i := 0; i < 3000; i++ {
			k, v := fmt.Sprintf("k%03d", r.Intn(300)), fmt.Sprint(i)
			last[k] = v
			if err := s.add([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		sorted, err := s.iter()
		if err != nil {
			t.Fatal(err)
		}
		var prev string
		n := 0
		for li := newLastIter(sorted); li.Valid(); li.Next() {
			k := string(li.Key())
			if k <= prev || last[k] != string(li.Value()) {
				t.Fatalf("limit %d: %s=%s after %s, want %s=%s in order", limit, k, li.Value(), prev, k, last[k])
			}
			prev = k
			n++
		}
		sorted.close()
		if sorted.err != nil || n != len(last) {
			t.Fatalf("limit %d: %d keys (%v), want %d", limit, n, sorted.err, len(last))
		}
	}
}

// ingests returns how many ingests Pebble has done.
func ingests(db *DB) uint64 { return db.pdb.Metrics().Ingest.Count }

// TestIngestedRestoreEqualsSource: restores from a backup and to a point in
// time, ingested as sstables (index entries sorted in a buffer small enough
// to spill runs), equal the source, indexes and statistics included, as
// restores by batches do; so does the PITR base copy; the restored keys came by ingests, not through
// the WAL, and no temporary file is left.
func TestIngestedRestoreEqualsSource(t *testing.T) {
	for _, byBatches := range []bool{false, true} {
		t.Run(fmt.Sprintf("byBatches=%v", byBatches), func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(Options{Dir: dir, NoSync: true, RestoreByBatches: byBatches, RestoreShare: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.sortMem = 4 << 10
			tables := pitrTables(t, db)
			src := tables[0] // a sort key, a local and a global index
			want := map[string]attr.Item{}
			r := rand.New(rand.NewSource(2))
			for i := 0; i < 1500; i++ {
				it := attr.Item{"pk": attr.S(fmt.Sprintf("p%d", r.Intn(300))), "sk": attr.N(fmt.Sprint(r.Intn(10))),
					"v": attr.S(fmt.Sprintf("value %d", i))}
				if r.Intn(3) > 0 {
					it["g"] = attr.S(fmt.Sprintf("g%d", r.Intn(40)))
				}
				if r.Intn(2) > 0 {
					it["l"] = attr.N(fmt.Sprint(r.Intn(50)))
				}
				if _, err := db.Write(ctx, WriteOptions{}, put(src, it)); err != nil {
					t.Fatal(err)
				}
				want[jsonOf(src.KeyOf(it))] = it
			}
			baseIngests := ingests(db)
			if _, err := db.SetPITR(ctx, "", src.Name, true, 1); err != nil {
				t.Fatal(err)
			}
			if err := db.WaitPITR(ctx, "", src.Name); err != nil {
				t.Fatal(err)
			}
			if n := ingests(db) - baseIngests; (n == 0) != byBatches {
				t.Fatalf("the PITR base copy ingested %d times", n)
			}
			bk, err := db.CreateBackup("", src.Name, "b")
			if err != nil {
				t.Fatal(err)
			}
			backedUp := maps.Clone(want)
			// History for the point-in-time restore: items changed many
			// times and deleted, more than the sort buffer holds.
			for i := 0; i < 1500; i++ {
				k := attr.Item{"pk": attr.S(fmt.Sprintf("p%d", r.Intn(300))), "sk": attr.N(fmt.Sprint(r.Intn(10)))}
				var nu attr.Item
				if r.Intn(4) > 0 {
					nu = attr.Item{"g": attr.S(fmt.Sprintf("g%d", r.Intn(40))), "l": attr.N(fmt.Sprint(r.Intn(50))), "v": attr.S(fmt.Sprint(i))}
					maps.Copy(nu, k)
				}
				if _, err := db.Write(ctx, WriteOptions{}, Mutation{Table: src, Key: k,
					Apply: func(attr.Item) (attr.Item, error) { return nu, nil }}); err != nil {
					t.Fatal(err)
				}
				if nu == nil {
					delete(want, jsonOf(k))
				} else {
					want[jsonOf(k)] = nu
				}
			}
			before, wal := ingests(db), db.pdb.Metrics().WAL.BytesIn
			if _, err := db.RestoreBackup(bk, restoreSpec(src, "fromBackup")); err != nil {
				t.Fatal(err)
			}
			checkRestored(t, db, src, waitRestored(t, db, "fromBackup"), backedUp, "from backup")
			if _, err := db.RestoreAsOf("", src.Name, time.Now(), restoreSpec(db.TableIn("", src.Name), "asOf")); err != nil {
				t.Fatal(err)
			}
			checkRestored(t, db, src, waitRestored(t, db, "asOf"), want, "to a point in time")
			_, size, _ := db.Stats(src)
			size *= 2 // two restores
			n, walIn := ingests(db)-before, db.pdb.Metrics().WAL.BytesIn-wal
			t.Logf("%d ingests; %d bytes through the WAL for two restores of %d bytes", n, walIn, size)
			if byBatches {
				if n != 0 {
					t.Fatalf("restores by batches ingested %d times", n)
				}
			} else {
				if n < 2 {
					t.Fatalf("%d ingests for two restores, want 2", n)
				}
				if walIn >= uint64(size) {
					t.Fatalf("%d bytes went through the WAL for two ingested restores of %d bytes", walIn, size)
				}
			}
			if names, _ := db.fs.List(db.fs.PathJoin(dir, ingestTmp)); len(names) != 0 {
				t.Fatalf("temporary files left: %v", names)
			}
		})
	}
}

// TestInterruptedIngestedRestoreIsDropped: a restore whose sstables were
// ingested but whose table had not left CREATING when the DB closed under
// it (as a crash would leave it) is dropped at the next Open, with every
// key it ingested; files a crash left in ingest-tmp are removed; a later
// restore under the same name works.
func TestInterruptedIngestedRestoreIsDropped(t *testing.T) {
	dir := t.TempDir()
	open := func() *DB {
		db, err := Open(Options{Dir: dir, NoSync: true, RestoreShare: 1})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	src := pitrTables(t, db)[0]
	want := map[string]attr.Item{}
	for i := 0; i < 200; i++ {
		it := attr.Item{"pk": attr.S(fmt.Sprintf("p%d", i)), "sk": attr.N("1"), "g": attr.S("g"), "l": attr.N(fmt.Sprint(i))}
		if _, err := db.Write(ctx, WriteOptions{}, put(src, it)); err != nil {
			t.Fatal(err)
		}
		want[jsonOf(src.KeyOf(it))] = it
	}
	bk, err := db.CreateBackup("", src.Name, "b")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	db.restoreHook = func(ctx context.Context) error {
		close(held)
		<-ctx.Done() // until Close
		return ctx.Err()
	}
	before := ingests(db)
	restored, err := db.RestoreBackup(bk, restoreSpec(src, "half"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the restore did not reach its end")
	}
	if ingests(db) == before {
		t.Fatal("the restore ingested nothing")
	}
	count := func(db *DB, lo, hi []byte) int {
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for it.First(); it.Valid(); it.Next() {
			n++
		}
		return n
	}
	id := restored.ID
	if n := count(db, tablePrefix(prefixItem, id), tablePrefix(prefixItem, id+1)); n != 200 {
		t.Fatalf("%d items ingested, want 200", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// What a crash before an ingest leaves.
	stray := dir + "/" + ingestTmp + "/99"
	if err := db.fs.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	if f, err := db.fs.Create(stray+"/000001.sst", vfs.WriteCategoryUnspecified); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}

	db = open()
	defer func() { db.Close() }()
	if db.TableIn("", "half") != nil {
		t.Fatal("the half-restored table survived the restart")
	}
	for _, p := range []byte{prefixItem, prefixIndex, prefixStats} {
		if n := count(db, tablePrefix(p, id), tablePrefix(p, id+1)); n != 0 {
			t.Fatalf("%d keys of space %#x of the dropped table are left", n, p)
		}
	}
	if _, err := db.fs.Stat(db.fs.PathJoin(dir, ingestTmp)); err == nil {
		t.Fatal("ingest-tmp survived the restart")
	}
	if _, err := db.RestoreBackup(bk, restoreSpec(src, "half")); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, db, src, waitRestored(t, db, "half"), want, "after the restart")
}

// TestBackupDoesNotWaitForWritesInFlight: CreateBackup takes no lock that
// writers hold: with a write in flight (the catalog lock held shared, as
// DB.Write holds it until its commit has synced), a backup completes, with
// the table's item count, and the write still can.
func TestBackupDoesNotWaitForWritesInFlight(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "src")
	putPKs(t, db, tbl, "a", "b", "c")
	db.catMu.RLock() // a write in flight
	done := make(chan error, 1)
	var bk *Backup
	go func() {
		var err error
		bk, err = db.CreateBackup("", "src", "b")
		done <- err
	}()
	select {
	case err := <-done:
		db.catMu.RUnlock()
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		db.catMu.RUnlock()
		<-done
		t.Fatal("CreateBackup waited for a write in flight")
	}
	if bk.Items != 3 {
		t.Fatalf("backup of 3 items: ItemCount %d", bk.Items)
	}
	putPKs(t, db, tbl, "d")
}
