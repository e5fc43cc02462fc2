package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/shards"
)

// Index is a secondary index of a table: a global one (any partition key,
// own throughput, eventually consistent in DynamoDB) or a local one (the
// table's partition key, an alternate sort key).
//
// Entries live under prefix 0x04, one per indexed item, written in the same
// Pebble batch as the item (DB.Write), so an index never shows a state the
// table never had:
//
//	┌────┬──────────┬──────────┬────────────────┬───────────┬────────────┬───────────┬────────────┐
//	│0x04│ table id │ index id │ hash(ipk) u64be│ enc(ipk)  │ [enc(isk)] │ enc(tpk)  │ [enc(tsk)] │
//	└────┴──────────┴──────────┴────────────────┴───────────┴────────────┴───────────┴────────────┘
//	  value: the projected item (attr binary encoding)
//
//	0x04 <table id:4> <index id:2>  (no more bytes)  → index stats (merge operand, like 0x03)
//
// ipk/isk are the index key values, tpk/tsk the table key values that make
// entries with equal index keys distinct. hash(ipk) is shards.Hash of
// enc(ipk), the same function as item keys, so a Query on the index is one
// range scan over a partition prefix and Scan segments are hash ranges, as
// on the table. Every component is self-delimiting and an index's entries
// all have the same number of components, so no entry key is a prefix of
// another: "after key k" is k+0x00.
//
// Sparse: an item without one of the index key attributes has no entry.
// Index IDs are never reused within a table; deleting an index range-deletes
// its prefix.
//
// A global index may have a multi-attribute (composite) key: up to four
// partition-key attributes (Hash, then MoreHash) and up to four sort-key
// attributes (Range, then MoreRange); api/composite.go has the rules. ipk
// is then the concatenation enc(pk1) enc(pk2) ... (hashed as one), isk the
// concatenation enc(sk1) enc(sk2) ...: the encodings are self-delimiting
// and order-preserving, so entries sort by the tuple of sort values and an
// equality on a leading run of sort attributes is a key prefix. An index
// with one attribute of each kind keeps the layout above byte for byte,
// and its descriptor's JSON has no moreHash/moreRange, so existing data
// directories read as before (TestIndexEntryKeyLayout).
type Index struct {
	ID     uint16      `json:"id"`
	Name   string      `json:"name"`
	Global bool        `json:"global,omitempty"`
	Hash   KeyElement  `json:"hash"`
	Range  *KeyElement `json:"range,omitempty"`
	// MoreHash and MoreRange are the partition- and sort-key attributes
	// after the first of each, in key-schema order (composite keys only).
	MoreHash   []KeyElement `json:"moreHash,omitempty"`
	MoreRange  []KeyElement `json:"moreRange,omitempty"`
	Projection string       `json:"projection"` // ALL, KEYS_ONLY or INCLUDE
	NonKey     []string     `json:"nonKey,omitempty"`
	Throughput Throughput   `json:"throughput"` // global indexes of PROVISIONED tables
	// Status is ACTIVE, or CREATING while a global index added by
	// UpdateTable is backfilled (Backfilling true until the backfill ends).
	Status      string `json:"status"`
	Backfilling bool   `json:"backfilling,omitempty"`
}

func (ix *Index) clone() Index {
	c := *ix
	c.NonKey = append([]string(nil), ix.NonKey...)
	c.MoreHash = append([]KeyElement(nil), ix.MoreHash...)
	c.MoreRange = append([]KeyElement(nil), ix.MoreRange...)
	if ix.Range != nil {
		r := *ix.Range
		c.Range = &r
	}
	return c
}

// KeyNames returns the index key attribute names, partition key
// attributes first, in key-schema order.
func (ix *Index) KeyNames() []string {
	els := ix.KeyElements()
	names := make([]string, len(els))
	for i, ke := range els {
		names[i] = ke.Name
	}
	return names
}

// IsKey reports whether name is an index key attribute.
func (ix *Index) IsKey(name string) bool {
	if name == ix.Hash.Name || (ix.Range != nil && name == ix.Range.Name) {
		return true
	}
	for _, ke := range ix.MoreHash {
		if ke.Name == name {
			return true
		}
	}
	for _, ke := range ix.MoreRange {
		if ke.Name == name {
			return true
		}
	}
	return false
}

// Projects reports whether the index holds attribute name of its items.
func (ix *Index) Projects(t *Table, name string) bool {
	switch {
	case ix.Projection == "ALL", t.IsKey(name), ix.IsKey(name):
		return true
	case ix.Projection == "INCLUDE":
		for _, n := range ix.NonKey {
			if n == name {
				return true
			}
		}
	}
	return false
}

// project returns what the index stores of an item.
func (ix *Index) project(t *Table, it attr.Item) attr.Item {
	if ix.Projection == "ALL" {
		return it
	}
	out := make(attr.Item, 4+len(ix.NonKey))
	for k, v := range it {
		if ix.Projects(t, k) {
			out[k] = v
		}
	}
	return out
}

// Entry returns what the index stores of an item: its projection, or nil
// when the item lacks an index key attribute (and so is not in the index).
func (ix *Index) Entry(t *Table, it attr.Item) attr.Item {
	if it == nil || ix.entryKey(t, it) == nil {
		return nil
	}
	return ix.project(t, it)
}

// Index returns the index with the given name, or nil.
func (t *Table) Index(name string) *Index {
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return &t.Indexes[i]
		}
	}
	return nil
}

func indexPrefix(tableID uint32, indexID uint16) []byte {
	return binary.BigEndian.AppendUint16(tablePrefix(prefixIndex, tableID), indexID)
}

// indexStatsKey is the bare index prefix (entries are all longer).
func indexStatsKey(tableID uint32, indexID uint16) []byte { return indexPrefix(tableID, indexID) }

// indexPartitionPrefix is the prefix of all entries with index partition
// key ipk (its attributes' values in key-schema order: one unless the key
// is composite).
func indexPartitionPrefix(dst []byte, tableID uint32, indexID uint16, ipk ...attr.Value) []byte {
	dst = append(dst, indexPrefix(tableID, indexID)...)
	start := len(dst)
	dst = append(dst, make([]byte, 8)...)
	for _, v := range ipk {
		dst = attr.AppendKey(dst, v)
	}
	binary.BigEndian.PutUint64(dst[start:], shards.Hash(dst[start+8:]))
	return dst
}

// entryKey returns the entry key of an item, or nil when the item lacks
// an index key attribute, or has one of another type, an empty one or one
// over the key size limits (writes of such values are rejected by
// ValidateItem, so only a backfill, or an item older than its index, can
// meet them; DynamoDB leaves them out of the index too).
func (ix *Index) entryKey(t *Table, it attr.Item) []byte {
	value := func(ke KeyElement, limit int) (attr.Value, bool) {
		v, ok := it[ke.Name]
		return v, ok && v.Type() == ke.Type && EmptyKeyKind(v) == "" && keySize(v) <= limit
	}
	ipk, ok := value(ix.Hash, MaxHashKeySize)
	if !ok {
		return nil
	}
	var k []byte
	if len(ix.MoreHash) == 0 {
		k = indexPartitionPrefix(make([]byte, 0, 96), t.ID, ix.ID, ipk)
	} else {
		parts := make([]attr.Value, 0, 1+len(ix.MoreHash))
		parts = append(parts, ipk)
		for _, ke := range ix.MoreHash {
			v, ok := value(ke, MaxHashKeySize)
			if !ok {
				return nil
			}
			parts = append(parts, v)
		}
		k = indexPartitionPrefix(make([]byte, 0, 128), t.ID, ix.ID, parts...)
	}
	for _, ke := range ix.RangeElements() {
		isk, ok := value(ke, MaxRangeKeySize)
		if !ok {
			return nil
		}
		k = attr.AppendKey(k, isk)
	}
	k = attr.AppendKey(k, it[t.Hash.Name])
	if t.Range != nil {
		k = attr.AppendKey(k, it[t.Range.Name])
	}
	return k
}

// validateIndexKeys rejects items whose index key attributes have the
// wrong type or an empty value, as DynamoDB rejects such writes. When
// several indexes object, DynamoDB names the one first in name order
// (gsi1 before lsi1), whatever their kind.
func (t *Table) validateIndexKeys(it attr.Item) error {
	var bad *Index
	var badErr error
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if bad != nil && ix.Name > bad.Name {
			continue
		}
		if err := t.checkIndexKey(ix, it); err != nil {
			bad, badErr = ix, err
		}
	}
	return badErr
}

// checkIndexKey is validateIndexKeys for one index: an index key attribute
// of it with the wrong type, an empty value or a value over the key size
// limits (the message is DynamoDB's, recorded in dynalite issue 35 and
// wellcomecollection/platform issue 2285). Each attribute of a
// multi-attribute key is held to its kind's limit: DynamoDB documents no
// other rule for them (api/composite.go).
func (t *Table) checkIndexKey(ix *Index, it attr.Item) error {
	hashes := len(ix.MoreHash) + 1 // KeyElements lists the partition key attributes first
	for i, ke := range ix.KeyElements() {
		v, ok := it[ke.Name]
		if !ok || t.IsKey(ke.Name) {
			continue
		}
		if v.Type() != ke.Type {
			return ddberr.Invalidf("Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", ke.Name, ke.Type, v.Type(), ix.Name)
		}
		if kind := EmptyKeyKind(v); kind != "" {
			return ddberr.Validationf("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s", kind, ix.Name, ke.Name)
		}
		limit := MaxRangeKeySize
		if i < hashes {
			limit = MaxHashKeySize
		}
		if size := keySize(v); size > limit {
			return ddberr.Invalidf("Size limit exceeded for Index Key %s Actual Size: %d bytes Max Size: %d bytes IndexName: %s", ke.Name, size, limit, ix.Name)
		}
	}
	return nil
}

// KeyElements returns the index's key attributes, partition key
// attributes first, in key-schema order.
func (ix *Index) KeyElements() []KeyElement {
	if ix.Range == nil && len(ix.MoreHash) == 0 {
		return []KeyElement{ix.Hash}
	}
	return append(ix.HashElements(), ix.RangeElements()...)
}

// HashElements returns the partition key attributes in key-schema order
// (one unless the key is composite).
func (ix *Index) HashElements() []KeyElement {
	return append([]KeyElement{ix.Hash}, ix.MoreHash...)
}

// RangeElements returns the sort key attributes in key-schema order: none,
// or one unless the key is composite.
func (ix *Index) RangeElements() []KeyElement {
	if ix.Range == nil {
		return nil
	}
	return append([]KeyElement{*ix.Range}, ix.MoreRange...)
}

// Composite reports whether the index key has more than one partition-key
// or more than one sort-key attribute.
func (ix *Index) Composite() bool { return len(ix.MoreHash) > 0 || len(ix.MoreRange) > 0 }

// indexEntries adds to b the index changes of one item change (old or nu
// nil when absent), with the indexes' statistics deltas. t is the table's
// current descriptor. It is the only writer of index entries besides the
// backfill, and runs inside DB.Write's batch.
func (db *DB) indexEntries(b *pebble.Batch, t *Table, old, nu attr.Item) error {
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		var oldKey, newKey []byte
		var oldSize int
		if old != nil {
			if oldKey = ix.entryKey(t, old); oldKey != nil {
				oldSize = attr.ItemSize(ix.project(t, old))
			}
		}
		if nu != nil {
			newKey = ix.entryKey(t, nu)
		}
		var dCount, dBytes int64
		if oldKey != nil {
			dCount--
			dBytes -= int64(oldSize)
			if newKey == nil || !bytes.Equal(oldKey, newKey) {
				if err := b.Delete(oldKey, nil); err != nil {
					return err
				}
			}
		}
		if newKey != nil {
			p := ix.project(t, nu)
			dCount++
			dBytes += int64(attr.ItemSize(p))
			if err := b.Set(newKey, attr.AppendBinary(nil, p), nil); err != nil {
				return err
			}
		}
		if dCount != 0 || dBytes != 0 {
			if err := b.Merge(indexStatsKey(t.ID, ix.ID), encodeStats(dCount, dBytes), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// IndexStats returns an index's entry count and size in bytes (sizes of
// the projected items), exact as of the last committed write.
func (db *DB) IndexStats(t *Table, ix *Index) (count, bytes int64, err error) {
	v, closer, err := db.pdb.Get(indexStatsKey(t.ID, ix.ID))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer closer.Close()
	return decodeStats(v)
}

// DropIndexEntries range-deletes the entries and statistics of an index
// already removed from its table's descriptor (UpdateTable).
func (db *DB) DropIndexEntries(tableID uint32, indexID uint16) error {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	lo := indexPrefix(tableID, indexID)
	hi := attr.KeyPrefixEnd(lo)
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	return db.commit(b, db.writeOpts)
}

// backfillBatch is how many items one backfill batch indexes.
const backfillBatch = 256

// Backfill indexes the existing items of a table for an index that is
// CREATING, then marks it ACTIVE. Writes keep the index current from the
// moment it is in the descriptor; the backfill locks each batch of items
// as writers do, re-reads them and adds the entries no write has made
// yet, so it never overwrites a newer entry. It returns nil early when the
// table or index disappears, and stops with ctx or when the DB closes.
func (db *DB) Backfill(ctx context.Context, tableName string, indexID uint16) error {
	return db.BackfillIn(ctx, "", tableName, indexID)
}

// BackfillIn is Backfill of region's table (empty: the home region).
func (db *DB) BackfillIn(ctx context.Context, region, tableName string, indexID uint16) error {
	region = db.region(region)
	t := db.TableIn(region, tableName)
	if t == nil {
		return nil
	}
	tableID := t.ID
	lower := tablePrefix(prefixItem, tableID)
	upper := tablePrefix(prefixItem, tableID+1)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		keys, err := db.nextKeys(lower, upper, backfillBatch)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			break
		}
		gone, err := db.backfillKeys(tableKey{region, tableName}, tableID, indexID, keys)
		if err != nil || gone {
			return err
		}
		lower = append(append([]byte(nil), keys[len(keys)-1]...), 0)
	}
	_, err := db.UpdateTableIn(region, tableName, func(t *Table) error {
		if t.ID != tableID {
			return errIndexGone
		}
		for i := range t.Indexes {
			if t.Indexes[i].ID == indexID {
				t.Indexes[i].Status, t.Indexes[i].Backfilling = "ACTIVE", false
				return nil
			}
		}
		return errIndexGone
	})
	if errors.Is(err, errIndexGone) || errors.Is(err, ddberr.ResourceNotFound) {
		return nil
	}
	return err
}

var errIndexGone = errors.New("store: index gone")

func (db *DB) nextKeys(lower, upper []byte, n int) ([][]byte, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var keys [][]byte
	for ok := it.First(); ok && len(keys) < n; ok = it.Next() {
		keys = append(keys, append([]byte(nil), it.Key()...))
	}
	return keys, it.Error()
}

func (db *DB) backfillKeys(name tableKey, tableID uint32, indexID uint16, keys [][]byte) (gone bool, err error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return true, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	unlock := db.locks.lock(keys)
	defer unlock()
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	t := db.tables[name]
	if t == nil || t.ID != tableID {
		return true, nil
	}
	var ix *Index
	for i := range t.Indexes {
		if t.Indexes[i].ID == indexID {
			ix = &t.Indexes[i]
		}
	}
	if ix == nil {
		return true, nil
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	var dCount, dBytes int64
	for _, k := range keys {
		it, err := db.getRaw(k)
		if err != nil {
			return false, err
		}
		if it == nil {
			continue
		}
		ek := ix.entryKey(t, it)
		if ek == nil {
			continue
		}
		if _, closer, err := db.pdb.Get(ek); err == nil {
			closer.Close()
			continue // a write since the index appeared made it
		} else if !errors.Is(err, pebble.ErrNotFound) {
			return false, err
		}
		p := ix.project(t, it)
		dCount++
		dBytes += int64(attr.ItemSize(p))
		if err := b.Set(ek, attr.AppendBinary(nil, p), nil); err != nil {
			return false, err
		}
	}
	if dCount == 0 {
		return false, nil
	}
	if err := b.Merge(indexStatsKey(t.ID, ix.ID), encodeStats(dCount, dBytes), nil); err != nil {
		return false, err
	}
	return false, db.commit(b, db.writeOpts)
}
