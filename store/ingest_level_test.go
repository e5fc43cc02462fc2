package store

import (
	"fmt"
	"testing"

	"github.com/eddydb/eddy/attr"
)

// TestIngestedRestoreLandsBelowL0: a restore's sstables, a fresh key range,
// go below L0 even when an L6 file's bounds span that range and the
// writers' flushed data sits in L0: in L0 they would be compacted with the
// writers' data, rewriting it (the writers' cost that bench/backups
// measured, issue 17).
func TestIngestedRestoreLandsBelowL0(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir(), NoSync: true, RestoreShare: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := pitrTables(t, db)[0]
	for i := 0; i < 200; i++ {
		it := attr.Item{"pk": attr.S(fmt.Sprintf("p%d", i)), "sk": attr.N("1"), "g": attr.S("g"), "v": attr.S("v")}
		if _, err := db.Write(ctx, WriteOptions{}, put(src, it)); err != nil {
			t.Fatal(err)
		}
	}
	bk, err := db.CreateBackup("", src.Name, "b")
	if err != nil {
		t.Fatal(err)
	}
	// Compacted, the writers' data (catalog, items, history) is one L6
	// file whose bounds span the restored table's fresh key ranges (a
	// small database's base level is L6: there is no level between).
	if err := db.pdb.Compact(ctx, []byte{0}, []byte{0xff}, false); err != nil {
		t.Fatal(err)
	}
	// The writers go on: their data is flushed to L0 and more is in the memtable.
	for i := 0; i < 50; i++ {
		if _, err := db.Write(ctx, WriteOptions{}, put(src, attr.Item{"pk": attr.S(fmt.Sprintf("w%d", i)), "sk": attr.N("1")})); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.pdb.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := db.Write(ctx, WriteOptions{}, put(src, attr.Item{"pk": attr.S(fmt.Sprintf("x%d", i)), "sk": attr.N("1")})); err != nil {
			t.Fatal(err)
		}
	}
	var before [7]uint64
	m := db.pdb.Metrics()
	for i := range before {
		before[i] = m.Levels[i].TablesIngested
	}
	if _, err := db.RestoreBackup(bk, restoreSpec(src, "fromBackup")); err != nil {
		t.Fatal(err)
	}
	waitRestored(t, db, "fromBackup")
	m = db.pdb.Metrics()
	var got [7]uint64
	for i := range got {
		got[i] = m.Levels[i].TablesIngested - before[i]
	}
	t.Logf("tables ingested into L0..L6: %v; L0 files %d", got, m.Levels[0].TablesCount)
	if got[0] != 0 {
		t.Fatalf("a restore ingested %d tables into L0 (by level: %v)", got[0], got)
	}
	// The split left virtual sstables: a backup's checkpoint of them, and
	// a restore from it, still hold every item.
	if m.Levels[6].VirtualTablesCount == 0 {
		t.Fatalf("no virtual sstable in L6 after an ingest-time split")
	}
	bk2, err := db.CreateBackup("", src.Name, "b2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RestoreBackup(bk2, restoreSpec(src, "again")); err != nil {
		t.Fatal(err)
	}
	again := waitRestored(t, db, "again")
	for _, tb := range []*Table{src, db.TableIn("", "fromBackup"), again} {
		want := int64(300)
		if tb.Name == "fromBackup" {
			want = 200
		}
		n, _, err := db.Stats(tb)
		if err != nil || n != want {
			t.Fatalf("%s: %d items (%v), want %d", tb.Name, n, err, want)
		}
		count := int64(0)
		if err := db.ScanAll(ctx, tb, func([]byte) error { count++; return nil }); err != nil || count != want {
			t.Fatalf("%s: scanned %d items (%v), want %d", tb.Name, count, err, want)
		}
	}
}
