package store

import (
	"fmt"
	"testing"

	"github.com/eddydb/eddy/attr"
)

// BenchmarkRead measures one page of a Scan (2,000 items, decoded and raw)
// and of a Query (one 100-item partition) without HTTP:
//
//	go test ./store -run '^$' -bench Read -count 5
func BenchmarkRead(b *testing.B) {
	db, err := Open(Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tbl, err := db.CreateTable(&Table{Name: "rb", Hash: KeyElement{Name: "pk", Type: attr.TypeS}, Range: &KeyElement{Name: "sk", Type: attr.TypeN},
		AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}, {Name: "sk", Type: attr.TypeN}}, BillingMode: "PAY_PER_REQUEST"})
	if err != nil {
		b.Fatal(err)
	}
	var ms []Mutation
	for p := 0; p < 20; p++ {
		for i := 0; i < 100; i++ {
			it := attr.Item{"pk": attr.S(fmt.Sprint("p", p)), "sk": attr.N(fmt.Sprint(i)), "s": attr.S("some payload of moderate size")}
			ms = append(ms, Mutation{Table: tbl, Key: tbl.KeyOf(it), Apply: func(attr.Item) (attr.Item, error) { return it, nil }})
		}
		if _, err := db.Write(ctx, WriteOptions{}, ms...); err != nil {
			b.Fatal(err)
		}
		ms = ms[:0]
	}
	run := func(name string, spec ReadSpec, want int) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s := spec
				page, err := benchRead(db, &s)
				if err != nil || page.Scanned != want {
					b.Fatal(err, page.Scanned)
				}
			}
		})
	}
	run("Scan", ReadSpec{Table: tbl}, 2000)
	run("ScanRaw", ReadSpec{Table: tbl, Raw: true}, 2000)
	run("Query", ReadSpec{Table: tbl, Partition: attr.S("p7")}, 100)
}

func benchRead(db *DB, s *ReadSpec) (Page, error) {
	return db.Read(ctx, s, func(Row) error { return nil })
}
