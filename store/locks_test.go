package store

import (
	"fmt"
	"strconv"
	"testing"
	"time"

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

func (h *holdLog) Prepare(*Batch, []Change) (func(bool), error) {
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
					_, err = db.Read(ctx, &ReadSpec{Table: tbl}, func(r Row) error {
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

// TestReadersAndWritersConcurrently: writers increment counters on a few
// hot items while point, consistent and range readers read them. What it
// tests is liveness: the read locks and write fences must not deadlock with
// the writers' locks (a deadlock fails it by timeout; CI runs it under
// -race too). That counters never go back is a sanity check of the readers,
// which Pebble's ordered visibility guarantees with or without the locks.
func TestReadersAndWritersConcurrently(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "hot")
	const items = 4
	key := func(i int) attr.Item { return attr.Item{"pk": attr.S(string(rune('a' + i)))} }
	incr := func(old attr.Item) (attr.Item, error) {
		n := 0
		if old != nil {
			n, _ = strconv.Atoi(old["n"].Str())
		}
		return attr.Item{"pk": old["pk"], "n": attr.N(strconv.Itoa(n + 1))}, nil
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	if testing.Short() {
		deadline = time.Now().Add(100 * time.Millisecond)
	}
	done := make(chan error, 16)
	for w := range 4 {
		go func() {
			var err error
			for i := 0; time.Now().Before(deadline) && err == nil; i++ {
				k := key((w + i) % items)
				_, err = db.Write(ctx, WriteOptions{}, Mutation{Table: tbl, Key: k, Apply: func(old attr.Item) (attr.Item, error) {
					if old == nil {
						old = attr.Item{"pk": k["pk"]}
					}
					return incr(old)
				}})
			}
			done <- err
		}()
	}
	num := func(it attr.Item) int64 {
		n, _ := strconv.ParseInt(it["n"].Str(), 10, 64)
		return n
	}
	type reader func() (map[string]int64, error)
	readers := []reader{
		func() (map[string]int64, error) { // point reads
			out := map[string]int64{}
			for i := range items {
				it, err := db.Get(tbl, key(i))
				if err != nil || it == nil {
					continue
				}
				out[it["pk"].Str()] = num(it)
			}
			return out, nil
		},
		func() (map[string]int64, error) { // one consistent read of all
			refs := make([]ItemRef, items)
			for i := range refs {
				refs[i] = ItemRef{Table: tbl, Key: key(i)}
			}
			its, err := db.GetConsistent(refs)
			out := map[string]int64{}
			for _, it := range its {
				if it != nil {
					out[it["pk"].Str()] = num(it)
				}
			}
			return out, err
		},
		func() (map[string]int64, error) { // a scan
			out := map[string]int64{}
			_, err := db.Read(ctx, &ReadSpec{Table: tbl}, func(r Row) error {
				out[r.Item["pk"].Str()] = num(r.Item)
				return nil
			})
			return out, err
		},
	}
	for _, read := range readers {
		go func() {
			last := map[string]int64{}
			for time.Now().Before(deadline) {
				got, err := read()
				if err != nil {
					done <- err
					return
				}
				for k, n := range got {
					if n < last[k] {
						done <- fmt.Errorf("item %s went back from %d to %d", k, last[k], n)
						return
					}
					last[k] = n
				}
			}
			done <- nil
		}()
	}
	for range 4 + len(readers) {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("readers and writers did not finish: deadlock?")
		}
	}
}
