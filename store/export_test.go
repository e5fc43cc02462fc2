package store

import (
	"context"
	"errors"
	"testing"

	"github.com/eddydb/eddy/attr"
)

// TestNoChangeLogWritesNoRecord: a write with NoChangeLog (ImportTable's)
// changes the item and the statistics but shows the change logs nothing.
func TestNoChangeLogWritesNoRecord(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	log := &recLog{ks: db.KeySpace(SpaceStreamRecords)}
	db.RegisterChangeLog(log)
	it := attr.Item{"pk": attr.S("a"), "v": attr.N("1")}
	if _, err := db.Write(ctx, WriteOptions{NoChangeLog: true}, put(tbl, it)); err != nil {
		t.Fatal(err)
	}
	if len(log.prepared) != 0 {
		t.Fatalf("a NoChangeLog write was shown to the change log: %v", log.prepared)
	}
	if got, err := db.Get(tbl, attr.Item{"pk": attr.S("a")}); err != nil || !attr.ItemsEqual(got, it) {
		t.Fatalf("item %v %v", got, err)
	}
	if n, _, err := db.Stats(tbl); err != nil || n != 1 {
		t.Fatalf("ItemCount %d %v", n, err)
	}
	if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("b")})); err != nil {
		t.Fatal(err)
	}
	if len(log.prepared) != 1 {
		t.Fatalf("an ordinary write was not logged")
	}
}

// TestScanAllReadsOneView: ScanAll hands over every item of its table
// only, and a write made while it runs is not seen.
func TestScanAllReadsOneView(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	other := newTable(t, db, "t2")
	for _, k := range []string{"a", "b", "c"} {
		if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S(k)}), put(other, attr.Item{"pk": attr.S(k)})); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	err := db.ScanAll(ctx, tbl, func(raw []byte) error {
		it, err := attr.DecodeBinary(raw)
		if err != nil {
			return err
		}
		seen = append(seen, it["pk"].Str())
		if len(seen) == 1 { // written after the view was fixed
			if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("d")})); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Fatalf("ScanAll saw %v, want a b c", seen)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.ScanAll(cctx, tbl, func([]byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("ScanAll with a canceled context: %v", err)
	}
}
