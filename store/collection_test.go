package store

import (
	"testing"

	"github.com/eddydb/eddy/attr"
)

// TestCollectionSize: the size of an item collection is its items' sizes
// plus their local index entries' sizes, and nothing of other partitions
// or of global indexes.
func TestCollectionSize(t *testing.T) {
	db := openMem(t)
	tbl, err := db.CreateTable(&Table{Name: "c", BillingMode: "PAY_PER_REQUEST",
		Hash: KeyElement{Name: "pk", Type: attr.TypeS}, Range: &KeyElement{Name: "sk", Type: attr.TypeN},
		AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}, {Name: "sk", Type: attr.TypeN}, {Name: "st", Type: attr.TypeS}, {Name: "g", Type: attr.TypeS}},
		Indexes: []Index{
			{Name: "lsi", Hash: KeyElement{Name: "pk", Type: attr.TypeS}, Range: &KeyElement{Name: "st", Type: attr.TypeS}, Projection: "KEYS_ONLY"},
			{Name: "gsi", Global: true, Hash: KeyElement{Name: "g", Type: attr.TypeS}, Projection: "ALL"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !tbl.HasLocalIndexes() {
		t.Fatal("HasLocalIndexes: false")
	}
	items := []attr.Item{
		{"pk": attr.S("a"), "sk": attr.N("1"), "st": attr.S("open"), "g": attr.S("x"), "body": attr.S("some text")},
		{"pk": attr.S("a"), "sk": attr.N("2"), "body": attr.S("not in the local index")},
		{"pk": attr.S("b"), "sk": attr.N("1"), "st": attr.S("done"), "body": attr.S("another partition")},
	}
	for _, it := range items {
		if _, err := db.Write(ctx, WriteOptions{}, put(tbl, it)); err != nil {
			t.Fatal(err)
		}
	}
	lsiEntry := attr.Item{"pk": attr.S("a"), "sk": attr.N("1"), "st": attr.S("open")}
	want := int64(attr.ItemSize(items[0]) + attr.ItemSize(items[1]) + attr.ItemSize(lsiEntry))
	got, err := db.CollectionSize(tbl, attr.S("a"))
	if err != nil || got != want {
		t.Fatalf("CollectionSize(a) = %d, %v; want %d", got, err, want)
	}
	if got, err := db.CollectionSize(tbl, attr.S("none")); err != nil || got != 0 {
		t.Fatalf("CollectionSize(none) = %d, %v; want 0", got, err)
	}
}
