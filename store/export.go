package store

import (
	"context"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// ScanAll hands fn the stored encoding (attr.AppendBinary) of every item of
// t, in key order, from one consistent view of the database: every write
// acknowledged before ScanAll began and no part of any write after it (a
// table export's "now"). raw is valid only during fn. ScanAll stops with
// ctx.Err() once ctx is done (looked at every ctxCheckEvery items) and with
// fn's error.
//
// The view is a Pebble iterator, which pins the files it reads until it is
// closed: a long export keeps compactions from reclaiming them meanwhile,
// but never blocks writers.
func (db *DB) ScanAll(ctx context.Context, t *Table, fn func(raw []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	lo := tablePrefix(prefixItem, t.ID)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: attr.KeyPrefixEnd(lo)})
	if err != nil {
		return err
	}
	defer it.Close()
	// As in Read: writes visible to the iterator but not yet durable took
	// their tickets before it (fence.go).
	db.fence(t.ID).wait()
	for n, ok := 1, it.First(); ok; n, ok = n+1, it.Next() {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}
