package store

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/eddydb/eddy/attr"
)

// BenchmarkWrite measures the write path without HTTP: one PutItem-like
// mutation per op, durable (fsync) or not, from parallel goroutines.
//
//	go test ./store -run '^$' -bench Write -cpu 16
func BenchmarkWrite(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%v", noSync), func(b *testing.B) {
			db, err := Open(Options{Dir: b.TempDir(), NoSync: noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			tbl, _ := db.CreateTable(&Table{Name: "bench", Hash: KeyElement{Name: "pk", Type: attr.TypeS},
				AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"})
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					it := attr.Item{"pk": attr.S(fmt.Sprintf("k%06d", i%50000)), "v": attr.N(fmt.Sprint(i)), "s": attr.S("some payload of moderate size")}
					if _, err := db.Write(ctx, WriteOptions{}, Mutation{Table: tbl, Key: tbl.KeyOf(it), Apply: func(attr.Item) (attr.Item, error) { return it, nil }}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
