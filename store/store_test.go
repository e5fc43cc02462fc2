package store

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

var ctx = context.Background()

func openMem(t *testing.T) *DB {
	t.Helper()
	db, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newTable(t *testing.T, db *DB, name string) *Table {
	t.Helper()
	tbl, err := db.CreateTable(&Table{Name: name, Hash: KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func put(tbl *Table, it attr.Item) Mutation {
	return Mutation{Table: tbl, Key: tbl.KeyOf(it), Apply: func(attr.Item) (attr.Item, error) { return it, nil }}
}

// recLog records the changes it is shown and whether each commit happened.
type recLog struct {
	ks        KeySpace
	mu        sync.Mutex
	prepared  [][]Change
	committed []bool
	fail      error
}

func (l *recLog) Prepare(b *Batch, ch []Change) (func(bool), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prepared = append(l.prepared, ch)
	i := len(l.committed)
	l.committed = append(l.committed, false)
	// a record in the same batch, as the streams package writes one
	if err := l.ks.Set(b, []byte{byte(i)}, []byte("rec")); err != nil {
		return nil, err
	}
	return func(ok bool) { l.mu.Lock(); l.committed[i] = ok; l.mu.Unlock() }, l.fail
}

func TestWriteEmitsChangesInTheBatch(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	log := &recLog{ks: db.KeySpace(SpaceStreamRecords)}
	db.RegisterChangeLog(log)
	it := attr.Item{"pk": attr.S("a"), "v": attr.N("1")}
	if _, err := db.Write(ctx, WriteOptions{Principal: Principal{Type: "User", ID: "AK"}}, put(tbl, it)); err != nil {
		t.Fatal(err)
	}
	if len(log.prepared) != 1 || !log.committed[0] {
		t.Fatalf("prepared %d committed %v", len(log.prepared), log.committed)
	}
	c := log.prepared[0][0]
	if c.Old != nil || !attr.ItemsEqual(c.New, it) || c.Principal.ID != "AK" || !attr.ItemsEqual(c.Keys, attr.Item{"pk": attr.S("a")}) {
		t.Fatalf("change: %+v", c)
	}
	if v, ok, err := log.ks.Get([]byte{0}); err != nil || !ok || string(v) != "rec" {
		t.Fatalf("record not committed with the item: %v", err)
	}

	// The same item again (equal under DynamoDB semantics, set order
	// differs) changes nothing and emits no change.
	if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("a"), "v": attr.N("1")})); err != nil {
		t.Fatal(err)
	}
	if len(log.prepared) != 1 {
		t.Fatalf("a no-op write emitted a change")
	}
	// Deleting a missing item changes nothing either.
	del := Mutation{Table: tbl, Key: attr.Item{"pk": attr.S("zz")}, Apply: func(attr.Item) (attr.Item, error) { return nil, nil }}
	if res, err := db.Write(ctx, WriteOptions{}, del); err != nil || res[0].Changed {
		t.Fatalf("delete of missing item: %+v %v", res, err)
	}
	if len(log.prepared) != 1 {
		t.Fatalf("deleting nothing emitted a change")
	}
}

func TestFailedPrepareWritesNothing(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	log := &recLog{ks: db.KeySpace(SpaceStreamRecords), fail: errors.New("log full")}
	db.RegisterChangeLog(log)
	_, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("a")}))
	if err == nil {
		t.Fatal("write succeeded although its change record could not be prepared")
	}
	if log.committed[0] {
		t.Fatal("done(true) after a failed write")
	}
	if got, _ := db.Get(tbl, attr.Item{"pk": attr.S("a")}); got != nil {
		t.Fatal("item written without its change record")
	}
}

func TestMultiMutationIsAllOrNothing(t *testing.T) {
	db := openMem(t)
	t1, t2 := newTable(t, db, "t1"), newTable(t, db, "t2")
	cond := errors.New("condition failed")
	_, err := db.Write(ctx, WriteOptions{},
		put(t1, attr.Item{"pk": attr.S("a")}),
		Mutation{Table: t2, Key: attr.Item{"pk": attr.S("b")}, Apply: func(attr.Item) (attr.Item, error) { return nil, cond }},
		put(t2, attr.Item{"pk": attr.S("c")}),
	)
	var ce *CanceledError
	if !errors.As(err, &ce) || ce.Errs[0] != nil || ce.Errs[1] != cond || ce.Errs[2] != nil {
		t.Fatalf("want CanceledError with the second reason, got %v", err)
	}
	for _, k := range []struct {
		t *Table
		k string
	}{{t1, "a"}, {t2, "c"}} {
		if got, _ := db.Get(k.t, attr.Item{"pk": attr.S(k.k)}); got != nil {
			t.Fatalf("canceled write left %s", k.k)
		}
	}
	if n, _, _ := db.Stats(t1); n != 0 {
		t.Fatalf("stats changed by a canceled write: %d", n)
	}
}

func TestConcurrentIncrementsSerialize(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	key := attr.Item{"pk": attr.S("counter")}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				_, err := db.Write(ctx, WriteOptions{}, Mutation{Table: tbl, Key: key, Apply: func(old attr.Item) (attr.Item, error) {
					n := attr.MustNumber("0")
					if old != nil {
						n = old["n"].Number()
					}
					n, _ = n.Add(attr.MustNumber("1"))
					return attr.Item{"pk": attr.S("counter"), "n": attr.NumberValue(n)}, nil
				}})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, _ := db.Get(tbl, key)
	if got["n"].Str() != "400" {
		t.Fatalf("lost updates: n = %s, want 400", got["n"].Str())
	}
}

func TestDeleteTableDropsItemsAndRejectsLateWrites(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("a"), "x": attr.S("y")})); err != nil {
		t.Fatal(err)
	}
	if n, b, _ := db.Stats(tbl); n != 1 || b != int64(attr.ItemSize(attr.Item{"pk": attr.S("a"), "x": attr.S("y")})) {
		t.Fatalf("stats %d %d", n, b)
	}
	if _, err := db.DeleteTable("t1"); err != nil {
		t.Fatal(err)
	}
	// A writer holding the old descriptor is refused, not resurrected.
	_, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("b")}))
	if !errors.Is(err, ddberr.ResourceNotFound) {
		t.Fatalf("write to deleted table: %v", err)
	}
	again := newTable(t, db, "t1")
	if again.ID == tbl.ID {
		t.Fatal("table ID reused")
	}
	if got, _ := db.Get(again, attr.Item{"pk": attr.S("a")}); got != nil {
		t.Fatal("old item visible in the new table")
	}
}

func TestValidation(t *testing.T) {
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}, Range: &KeyElement{Name: "sk", Type: attr.TypeN}}
	cases := []struct {
		it   attr.Item
		want string
	}{
		{attr.Item{"sk": attr.N("1")}, "One or more parameter values were invalid: Missing the key pk in the item"},
		{attr.Item{"pk": attr.N("1"), "sk": attr.N("1")}, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
		{attr.Item{"pk": attr.S(""), "sk": attr.N("1")}, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{attr.Item{"pk": attr.S(string(make([]byte, 2049))), "sk": attr.N("1")}, "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"},
		{attr.Item{"pk": attr.S("a"), "sk": attr.N("1"), "big": attr.S(string(make([]byte, attr.MaxItemSize)))}, "Item size has exceeded the maximum allowed size"},
	}
	for _, c := range cases {
		err := tbl.ValidateItem(c.it)
		var de *ddberr.Error
		if !errors.As(err, &de) || de.Message != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if err := tbl.ValidateKey(attr.Item{"pk": attr.S("a")}); err == nil {
		t.Error("key without sort key accepted")
	}
}

// TestInMemoryIgnoresDir: eddy serve passes its default --data path even
// with --in-memory; the in-memory DB must open and leave the disk alone.
func TestInMemoryIgnoresDir(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := "./eddy-data" // eddy serve's default, relative
	db, err := Open(Options{InMemory: true, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	newTable(t, db, "t1")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("in-memory DB touched %s: %v", dir, err)
	}
}

// A table created on demand reports its creation time as the time it became
// PAY_PER_REQUEST, to the millisecond: DynamoDB's DescribeTable answers
// LastUpdateToPayPerRequestDateTime == CreationDateTime for it (scylla
// test_describe_table.py::test_describe_table_billing, validated against
// DynamoDB). The API layer stamps the billing mode before the catalog stamps
// the creation, so the catalog must align them.
func TestOnDemandSinceIsCreationTime(t *testing.T) {
	db := openMem(t)
	tbl, err := db.CreateTable(&Table{Name: "ondemand", Hash: KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST",
		PayPerRequestSince: time.Unix(1, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if !tbl.PayPerRequestSince.Equal(tbl.CreatedAt) {
		t.Fatalf("PayPerRequestSince %v, CreatedAt %v: want equal", tbl.PayPerRequestSince, tbl.CreatedAt)
	}
	prov, err := db.CreateTable(&Table{Name: "provisioned", Hash: KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PROVISIONED",
		Throughput: Throughput{Read: 1, Write: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !prov.PayPerRequestSince.IsZero() {
		t.Fatalf("a provisioned table got PayPerRequestSince %v", prov.PayPerRequestSince)
	}
}
