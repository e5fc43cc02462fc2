package store

import (
	"errors"
	"testing"

	"github.com/eddydb/eddy/attr"
)

// appendV is a replayable mutation: the new item is a pure function of the
// current one (v gets suffix appended; a missing item starts from "").
func appendV(tbl *Table, pk, suffix string) Mutation {
	return Mutation{Table: tbl, Key: attr.Item{"pk": attr.S(pk)}, Apply: func(old attr.Item) (attr.Item, error) {
		v := ""
		if old != nil {
			v = old["v"].Str()
		}
		return attr.Item{"pk": attr.S(pk), "v": attr.S(v + suffix)}, nil
	}}
}

// TestMutationReplay: a buffered mutation runs once when buffered and
// again at commit; replaying it on the same item gives the same result, so
// the committed item is what Apply answered when the write was buffered.
func TestMutationReplay(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t")
	if _, err := db.Write(ctx, WriteOptions{}, appendV(tbl, "a", "0")); err != nil {
		t.Fatal(err)
	}
	b := NewWriteBuffer(db)
	var answered []string
	for _, s := range []string{"1", "2"} {
		r, err := b.Apply(appendV(tbl, "a", s))
		if err != nil {
			t.Fatal(err)
		}
		answered = append(answered, r.New["v"].Str())
	}
	if answered[0] != "01" || answered[1] != "012" {
		t.Fatalf("buffered results %v, want [01 012]", answered)
	}
	if got, _ := db.Get(tbl, attr.Item{"pk": attr.S("a")}); got["v"].Str() != "0" {
		t.Fatalf("a buffered write was committed early: %v", got)
	}
	ms := b.Mutations()
	if len(ms) != 1 {
		t.Fatalf("%d mutations for one item, want 1 (writes to an item collapse)", len(ms))
	}
	// Replay: the same mutation on the same item, twice, gives the same item.
	cur, _ := db.Get(tbl, attr.Item{"pk": attr.S("a")})
	x, err1 := ms[0].Apply(cur)
	y, err2 := ms[0].Apply(cur)
	if err1 != nil || err2 != nil || !attr.ItemsEqual(x, y) || x["v"].Str() != "012" {
		t.Fatalf("replays differ: %v %v (%v %v)", x, y, err1, err2)
	}
	// On an item someone else wrote meanwhile, the writes are replayed
	// (on the unchanged item the buffer's result stands).
	if z, err := ms[0].Apply(attr.Item{"pk": attr.S("a"), "v": attr.S("9")}); err != nil || z["v"].Str() != "912" {
		t.Fatalf("replay on a changed item: %v %v, want v=912", z, err)
	}
	if z, err := ms[0].Apply(nil); err != nil || z["v"].Str() != "12" {
		t.Fatalf("replay on a deleted item: %v %v, want v=12", z, err)
	}
	// Commit, as a mapping commits with its checkpoint: the committed item
	// is what the buffer answered.
	if _, err := db.Write(ctx, WriteOptions{}, ms...); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Get(tbl, attr.Item{"pk": attr.S("a")}); got["v"].Str() != "012" {
		t.Fatalf("committed %v, want v=012", got)
	}
	if b.Empty() || !(*WriteBuffer)(nil).Empty() || NewWriteBuffer(db).Empty() == false {
		t.Fatal("Empty is wrong")
	}
}

// TestBufferConditionRecheckedAtCommit: a buffered mutation whose
// condition held when buffered but not at commit fails the commit.
func TestBufferConditionRecheckedAtCommit(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t")
	errExists := errors.New("exists")
	createOnly := Mutation{Table: tbl, Key: attr.Item{"pk": attr.S("a")}, Apply: func(old attr.Item) (attr.Item, error) {
		if old != nil {
			return nil, errExists
		}
		return attr.Item{"pk": attr.S("a"), "v": attr.S("new")}, nil
	}}
	b := NewWriteBuffer(db)
	if _, err := b.Apply(createOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write(ctx, WriteOptions{}, appendV(tbl, "a", "other")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write(ctx, WriteOptions{}, b.Mutations()...); !errors.Is(err, errExists) {
		t.Fatalf("commit after a concurrent write: %v, want the condition's error", err)
	}
	if BufferFrom(WithBuffer(ctx, b)) != b || BufferFrom(ctx) != nil {
		t.Fatal("WithBuffer/BufferFrom")
	}
}

// TestBufferCommitReusesItsRead: the commit takes the item the buffer read
// instead of reading it again when nothing was written through its lock
// stripe since; a write through DB.Write in between makes it read again.
func TestBufferCommitReusesItsRead(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t")
	key := attr.Item{"pk": attr.S("a")}
	if _, err := db.Write(ctx, WriteOptions{}, appendV(tbl, "a", "0")); err != nil {
		t.Fatal(err)
	}
	b := NewWriteBuffer(db)
	if _, err := b.Apply(appendV(tbl, "a", "1")); err != nil {
		t.Fatal(err)
	}
	// Behind the store's back (no write through DB.Write, so no stripe
	// count moves): only a commit that reads again would see it gone.
	if err := db.pdb.Delete(tbl.itemKey(key), nil); err != nil {
		t.Fatal(err)
	}
	res, err := db.Write(ctx, WriteOptions{}, b.Mutations()...)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Old["v"].Str() != "0" || res[0].New["v"].Str() != "01" {
		t.Fatalf("commit of an item nobody wrote since the buffer read it: old %v new %v, want the buffer's read (v=0) and result", res[0].Old, res[0].New)
	}

	b = NewWriteBuffer(db)
	if _, err := b.Apply(appendV(tbl, "a", "2")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write(ctx, WriteOptions{}, appendV(tbl, "a", "x")); err != nil {
		t.Fatal(err)
	}
	res, err = db.Write(ctx, WriteOptions{}, b.Mutations()...)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Old["v"].Str() != "01x" || res[0].New["v"].Str() != "01x2" {
		t.Fatalf("commit after another write: old %v new %v, want v=01x read again and v=01x2 replayed", res[0].Old, res[0].New)
	}
}
