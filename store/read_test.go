package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/eddydb/eddy/attr"
)

// TestReadStopsWhenCancelled: a read whose context is done stops within
// ctxCheckEvery keys with context.Canceled, whether the context was done
// before it began or while it ran.
func TestReadStopsWhenCancelled(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "big")
	const n = 5000
	var ms []Mutation
	for i := 0; i < n; i++ {
		ms = append(ms, put(tbl, attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "v": attr.N(fmt.Sprint(i))}))
		if len(ms) == 500 {
			if _, err := db.Write(ctx, WriteOptions{}, ms...); err != nil {
				t.Fatal(err)
			}
			ms = ms[:0]
		}
	}
	seen := 0
	page, err := db.Read(ctx, &ReadSpec{Table: tbl}, func(Row) error { seen++; return nil })
	if err != nil || seen != n || page.More {
		t.Fatalf("uncancelled read: %d items, more %v, err %v", seen, page.More, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	seen = 0
	if _, err := db.Read(cctx, &ReadSpec{Table: tbl}, func(Row) error { seen++; return nil }); !errors.Is(err, context.Canceled) || seen != 0 {
		t.Fatalf("read with a done context: %d items, err %v", seen, err)
	}

	for _, raw := range []bool{false, true} {
		cctx, cancel = context.WithCancel(ctx)
		seen = 0
		_, err = db.Read(cctx, &ReadSpec{Table: tbl, Raw: raw}, func(Row) error {
			if seen++; seen == 10 {
				cancel() // the client goes away mid-read
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("raw %v: err %v, want context.Canceled", raw, err)
		}
		if seen >= 10+ctxCheckEvery || seen >= n {
			t.Fatalf("raw %v: read %d items after the cancel at 10; want fewer than %d", raw, seen, 10+ctxCheckEvery)
		}
	}
}
