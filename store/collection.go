package store

import (
	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// HasLocalIndexes reports whether t has a local secondary index. Only such
// tables have bounded item collections (10 GB per partition key value in
// DynamoDB), and only their writes report ItemCollectionMetrics.
func (t *Table) HasLocalIndexes() bool {
	for i := range t.Indexes {
		if !t.Indexes[i].Global {
			return true
		}
	}
	return false
}

// CollectionSize returns the size in bytes of the item collection of
// partition key value pk: the DynamoDB sizes of the table's items with that
// partition key plus those of their entries in every local secondary index,
// which is what DynamoDB's ItemCollectionMetrics estimate and its item
// collection limit count. It reads one consistent snapshot; the cost is
// linear in the collection, so callers ask only when a request wants it.
func (db *DB) CollectionSize(t *Table, pk attr.Value) (int64, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return 0, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	prefixes := [][]byte{partitionPrefix(nil, t.ID, pk)}
	for i := range t.Indexes {
		if ix := &t.Indexes[i]; !ix.Global {
			prefixes = append(prefixes, indexPartitionPrefix(nil, t.ID, ix.ID, pk))
		}
	}
	var total int64
	for _, p := range prefixes {
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: attr.KeyPrefixEnd(p)})
		if err != nil {
			return 0, err
		}
		for ok := it.First(); ok; ok = it.Next() {
			n, err := attr.StoredItemSize(it.Value())
			if err != nil {
				it.Close()
				return 0, err
			}
			total += int64(n)
		}
		if err := it.Close(); err != nil {
			return 0, err
		}
	}
	return total, nil
}
