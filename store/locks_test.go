package store

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
)

// holdLog is a ChangeLog whose done callback (run after the commit, with
// the item still locked by Write) starts a point read of the item and then
// holds the writer for a while.
type holdLog struct {
	read  func() attr.Item
	got   chan attr.Item
	early bool // the read returned while the writer held the item
}

func (h *holdLog) Prepare(*pebble.Batch, []Change) (func(bool), error) {
	return func(bool) {
		go func() { h.got <- h.read() }()
		time.Sleep(50 * time.Millisecond)
		h.early = len(h.got) > 0
	}, nil
}

// TestReadWaitsForWriteInProgress: a read of an item that a write has
// applied but not yet finished (in eddy serve: not yet synced) waits for
// that write, then sees it; it never returns the write early. Point reads
// wait on the item's lock, range reads (Query, Scan) on the table's write
// fence.
func TestReadWaitsForWriteInProgress(t *testing.T) {
	for _, name := range []string{"Get", "GetRaw", "GetConsistent", "Read"} {
		t.Run(name, func(t *testing.T) {
			db := openMem(t)
			tbl := newTable(t, db, "t1")
			key := attr.Item{"pk": attr.S("a")}
			h := &holdLog{got: make(chan attr.Item, 2)}
			h.read = func() attr.Item {
				var it attr.Item
				var err error
				switch name {
				case "Get":
					it, err = db.Get(tbl, key)
				case "GetRaw":
					var raw []byte
					if raw, err = db.GetRaw(tbl, key); err == nil && raw != nil {
						it, err = attr.DecodeBinary(raw)
					}
				case "GetConsistent":
					var its []attr.Item
					its, err = db.GetConsistent([]ItemRef{{Table: tbl, Key: key}})
					if err == nil {
						it = its[0]
					}
				case "Read":
					_, err = db.Read(&ReadSpec{Table: tbl}, func(r Row) error {
						it = r.Item
						return nil
					})
				}
				if err != nil {
					t.Error(err)
				}
				return it
			}
			db.RegisterChangeLog(h)
			start := time.Now()
			if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("a"), "v": attr.N("1")})); err != nil {
				t.Fatal(err)
			}
			wrote := time.Since(start)
			it := <-h.got
			if h.early || wrote < 50*time.Millisecond {
				t.Fatalf("the read returned while the write held the item (write took %v)", wrote)
			}
			if it == nil || !attr.Equal(it["v"], attr.N("1")) {
				t.Fatalf("read after the write: %v, want the new item", it)
			}
		})
	}
}
