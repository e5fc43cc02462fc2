package store

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// TestRegionsAreNamespaces: the same name in two regions is two tables,
// each visible only in its own region.
func TestRegionsAreNamespaces(t *testing.T) {
	db := openMem(t)
	spec := func(region string) *Table {
		return &Table{Name: "t", Region: region, Hash: KeyElement{Name: "pk", Type: attr.TypeS},
			AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"}
	}
	a, err := db.CreateTable(spec("us-east-2"))
	if err != nil {
		t.Fatal(err)
	}
	if db.TableIn("us-east-1", "t") != nil || db.Table("t") != nil {
		t.Fatal("a us-east-2 table is visible in us-east-1")
	}
	if _, err := db.CreateTable(spec("us-east-2")); !errors.Is(err, ddberr.ResourceInUse) {
		t.Fatalf("second create in us-east-2: %v", err)
	}
	b, err := db.CreateTable(spec("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Fatal("two tables share an ID")
	}
	it := attr.Item{"pk": attr.S("k"), "v": attr.S("east-2")}
	if _, err := db.Write(ctx, WriteOptions{}, put(a, it)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Get(b, attr.Item{"pk": attr.S("k")}); got != nil {
		t.Fatalf("us-east-1's table holds us-east-2's item: %v", got)
	}
	if n := db.TableNamesIn("us-east-2"); len(n) != 1 {
		t.Fatalf("TableNamesIn(us-east-2) = %v", n)
	}
	if _, err := db.DeleteTableIn("us-east-1", "t"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Get(db.TableIn("us-east-2", "t"), attr.Item{"pk": attr.S("k")}); got == nil {
		t.Fatal("deleting us-east-1's table took us-east-2's item")
	}
	if n := len(db.Tables()); n != 1 {
		t.Fatalf("%d tables left, want 1", n)
	}
}

// TestOldDirectoryMovesIntoHomeRegion writes the catalog as eddy wrote it
// before regions (a descriptor at 0x01 'c' name, without "region", and no
// home region), then opens it: the table is in Options.Region, with its
// items, and stays there when a later start names another region.
func TestOldDirectoryMovesIntoHomeRegion(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	tbl := newTable(t, db, "old")
	if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S("k")})); err != nil {
		t.Fatal(err)
	}
	// Rewrite to the layout of the previous commit.
	legacy := *tbl
	legacy.Region = ""
	v, err := json.Marshal(&legacy)
	if err != nil {
		t.Fatal(err)
	}
	b := db.pdb.NewBatch()
	for _, err := range []error{
		b.Delete(catalogKey(tbl.Region, tbl.Name), nil),
		b.Delete(homeRegionKey, nil),
		b.Set(legacyCatalogKey("old"), v, nil),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, region := range []string{"eu-west-2", "us-east-1"} { // the second start names another region
		db, err = Open(Options{Dir: dir, Region: region})
		if err != nil {
			t.Fatal(err)
		}
		if db.HomeRegion() != "eu-west-2" {
			t.Fatalf("home region %q, want eu-west-2", db.HomeRegion())
		}
		got := db.TableIn("eu-west-2", "old")
		if got == nil || got.ID != tbl.ID || got.Region != "eu-west-2" {
			t.Fatalf("opened with %s: table %+v, want ID %d in eu-west-2", region, got, tbl.ID)
		}
		if db.TableIn("us-east-1", "old") != nil {
			t.Fatal("the old table is also in us-east-1")
		}
		if it, err := db.Get(got, attr.Item{"pk": attr.S("k")}); err != nil || it == nil {
			t.Fatalf("item after migration: %v, %v", it, err)
		}
		if _, closer, err := db.pdb.Get(legacyCatalogKey("old")); err == nil {
			closer.Close()
			t.Fatal("the legacy catalog key is still there")
		}
		db.Close()
	}
}
