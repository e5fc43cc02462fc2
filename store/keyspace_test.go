package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/kv"
)

// TestKeySpaceCannotEscape fills three neighbouring spaces (and an item)
// and checks that a handle reads and writes only its own prefix: Get looks
// up only its keys, iterators with nil or extreme bounds stay in the space,
// and a whole-space DeleteRange leaves the neighbours alone.
func TestKeySpaceCannotEscape(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("a")})); err != nil {
		t.Fatal(err)
	}
	below, ks, above := db.KeySpace(SpaceMappings), db.KeySpace(SpaceCheckpoints), db.KeySpace(SpaceWindows)
	for _, s := range []KeySpace{below, ks, above} {
		if err := s.Write(true, func(w kv.Writer) error {
			for _, k := range []string{"", "\x00", "a", "b", "\xff", "\xff\xff"} {
				if err := w.Set([]byte(k), []byte(s.Space().String())); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(s KeySpace, lo, hi []byte) []string {
		t.Helper()
		var out []string
		if err := s.Scan(lo, hi, func(k, v []byte) error {
			if string(v) != s.Space().String() {
				return fmt.Errorf("key %q of %v holds %q", k, s.Space(), v)
			}
			out = append(out, string(k))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := fmt.Sprint([]string{"", "\x00", "a", "b", "\xff", "\xff\xff"})
	if got := fmt.Sprint(keys(ks, nil, nil)); got != all {
		t.Fatalf("whole space: %q", got)
	}
	if got := fmt.Sprint(keys(ks, []byte{}, []byte{0xff, 0xff, 0xff})); got != all {
		t.Fatalf("extreme bounds: %q", got)
	}
	if got := keys(ks, []byte("a"), []byte("b")); len(got) != 1 || got[0] != "a" {
		t.Fatalf("[a, b): %q", got)
	}
	// Backwards from the end, too.
	it, err := ks.NewIter(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !it.Last() || !bytes.Equal(it.Key(), []byte("\xff\xff")) {
		t.Fatalf("Last: %q", it.Key())
	}
	it.Close()

	// Get finds only keys of its space: the full key of a neighbour's entry
	// is just another (absent) key here.
	if v, ok, err := ks.Get([]byte("a")); err != nil || !ok || string(v) != "checkpoints" {
		t.Fatalf("Get a: %q %v %v", v, ok, err)
	}
	for _, k := range [][]byte{{byte(SpaceWindows)}, {byte(SpaceWindows), 'a'}, {byte(SpaceMappings), 'a'}, []byte("zz")} {
		if _, ok, err := ks.Get(k); err != nil || ok {
			t.Fatalf("Get %q: found %v, %v", k, ok, err)
		}
	}

	// Deleting the whole space leaves the neighbours and the item.
	b := ks.NewBatch()
	if err := ks.DeleteRange(b, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if got := keys(ks, nil, nil); len(got) != 0 {
		t.Fatalf("left after DeleteRange: %q", got)
	}
	for _, s := range []KeySpace{below, above} {
		if got := fmt.Sprint(keys(s, nil, nil)); got != all {
			t.Fatalf("%v after its neighbour's DeleteRange: %q", s.Space(), got)
		}
	}
	if it, err := db.Get(tbl, attr.Item{"pk": attr.S("a")}); err != nil || it == nil {
		t.Fatalf("item after DeleteRange: %v %v", it, err)
	}
}

// TestKeySpaceRegistry: store's own spaces and unregistered prefixes are
// not handed out, and no two spaces share a name.
func TestKeySpaceRegistry(t *testing.T) {
	db := openMem(t)
	for _, s := range []Space{spaceCatalog, spaceItems, spaceStats, spaceIndexes, spaceTokens, 0x00, 0x14, 0xff} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("KeySpace(%v) did not panic", s)
				}
			}()
			db.KeySpace(s)
		}()
	}
	names := map[string]Space{}
	for i, e := range spaces {
		if e.name == "" {
			continue
		}
		if o, dup := names[e.name]; dup {
			t.Errorf("spaces %#x and %#x are both %q", o, i, e.name)
		}
		names[e.name] = Space(i)
		if i == 0xff {
			t.Errorf("prefix 0xff cannot be registered: a space's end is prefix+1")
		}
	}
}

// TestWriteBatchAcrossSpaces: Extra's writes through handles commit with
// the item, and not at all when the write fails.
func TestWriteBatchAcrossSpaces(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "t1")
	ks := db.KeySpace(SpaceDLQ)
	extra := func(b *Batch) error { return ks.Set(b, []byte("k"), []byte("v")) }
	fail := Mutation{Table: tbl, Key: attr.Item{"pk": attr.S("a")}, Apply: func(attr.Item) (attr.Item, error) {
		return nil, fmt.Errorf("no")
	}}
	if _, err := db.Write(ctx, WriteOptions{Extra: extra}, fail); err == nil {
		t.Fatal("write did not fail")
	}
	if _, ok, _ := ks.Get([]byte("k")); ok {
		t.Fatal("Extra committed without its write")
	}
	if _, err := db.Write(ctx, WriteOptions{Extra: extra}, put(tbl, attr.Item{"pk": attr.S("a")})); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := ks.Get([]byte("k")); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Extra not committed: %q %v %v", v, ok, err)
	}
}
