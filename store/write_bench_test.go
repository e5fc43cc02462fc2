package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
)

// BenchmarkWrite measures the write path without HTTP: one PutItem-like
// mutation per op, durable (fsync) or not, from parallel goroutines.
//
//	go test ./store -run '^$' -bench Write -cpu 16
func BenchmarkWrite(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%v", noSync), func(b *testing.B) {
			db, tbl := openBench(b, Options{Dir: b.TempDir(), NoSync: noSync})
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

// BenchmarkWriteWriters measures durable writes from 1 to 16 concurrent
// writers (goroutines) with eddy serve's WAL sync interval (200µs) and
// without one:
//
//	go test ./store -run '^$' -bench WriteWriters -benchtime 2s
//
// In process, where writers need little CPU between writes, the interval
// costs throughput (16 writers on the 2-core VM: about 32k writes/s with it,
// 50k without). eddy serve keeps it because there the CPU is shared with
// HTTP and with clients, and fewer fsyncs leave more of it to them: with 16
// aws-sdk-go-v2 clients on the same machine, PutItem ran 9 to 17% faster
// with it than with any of the adaptive policies tried (go run ./bench).
func BenchmarkWriteWriters(b *testing.B) {
	for _, interval := range []time.Duration{200 * time.Microsecond, 0} {
		for _, writers := range []int{1, 2, 4, 8, 16} {
			b.Run(fmt.Sprintf("interval=%v/writers=%d", interval, writers), func(b *testing.B) {
				db, tbl := openBench(b, Options{Dir: b.TempDir(), WALMinSyncInterval: interval})
				var n atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for range writers {
					wg.Go(func() {
						for {
							i := n.Add(1)
							if i > int64(b.N) {
								return
							}
							it := attr.Item{"pk": attr.S(fmt.Sprintf("k%06d", i%50000)), "v": attr.N(fmt.Sprint(i)), "s": attr.S("some payload of moderate size")}
							if _, err := db.Write(ctx, WriteOptions{}, Mutation{Table: tbl, Key: tbl.KeyOf(it), Apply: func(attr.Item) (attr.Item, error) { return it, nil }}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
		}
	}
}

// openBench opens a database (closed when b ends) with one hash-key table.
func openBench(b *testing.B, opts Options) (*DB, *Table) {
	db, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tbl, err := db.CreateTable(&Table{Name: "bench", Hash: KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"})
	if err != nil {
		b.Fatal(err)
	}
	return db, tbl
}
