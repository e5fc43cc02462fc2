package store

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// ItemRef names one item: its table and its key (validated with
// Table.ValidateKey).
type ItemRef struct {
	Table *Table
	Key   attr.Item
}

// GetConsistent reads several items from one Pebble snapshot: the answer
// is the state after some set of durable writes, never part of a Write
// (TransactGetItems). A missing item is nil.
func (db *DB) GetConsistent(refs []ItemRef) ([]attr.Item, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	keys := make([][]byte, len(refs))
	for i, r := range refs {
		if r.Table.Restoring() {
			return nil, ddberr.NotFound()
		}
		keys[i] = r.Table.itemKey(r.Key)
	}
	// The shared item locks wait out writes in progress on these items
	// (locks.go); the snapshot then reads them all at one point.
	unlock := db.locks.rlockAll(keys)
	snap := db.pdb.NewSnapshot()
	unlock()
	defer snap.Close()
	out := make([]attr.Item, len(refs))
	for i := range refs {
		v, closer, err := snap.Get(keys[i])
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		it, err := attr.DecodeBinary(v)
		closer.Close()
		if err != nil {
			return nil, err
		}
		out[i] = it
	}
	return out, nil
}
