package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store/expr"
)

// MaxPageBytes is DynamoDB's 1 MB limit on the data one Query or Scan page
// reads (measured before any filter).
const MaxPageBytes = 1 << 20

// ReadSpec describes one page of a Query or a Scan, on the table or on one
// of its indexes.
//
// A Query (Partition set) is one Pebble range scan inside the partition's
// key prefix, narrowed by the sort-key condition; a Scan walks the table's
// (or index's) whole key range, or the hash range of one parallel-scan
// segment. Both iterate in key order, which is DynamoDB's order: partition
// hash, then sort key (then the table key, on an index).
type ReadSpec struct {
	Table *Table
	Index *Index // nil: the table itself

	// Query: the partition key value (of the index, when Index is set) and
	// the sort-key condition (nil for none). Zero Partition means Scan.
	Partition attr.Value
	Sort      *expr.KeyPart
	Reverse   bool // Query only: ScanIndexForward false

	// On an index with a composite key (Index.Composite): MorePartition
	// holds the values of the partition key attributes after the first
	// (Partition), in key-schema order; SortEq the values the leading sort
	// key attributes equal; Sort then is the condition on the sort key
	// attribute after them (nil for none).
	MorePartition []attr.Value
	SortEq        []attr.Value

	// Start is the ExclusiveStartKey (checked with CheckStartKey): the page
	// begins after it.
	Start attr.Item

	// Scan: parallel-scan segment; TotalSegments 0 means the whole range.
	// Segment i of N covers partition hashes [i·2^64/N, (i+1)·2^64/N).
	Segment, TotalSegments int

	// Limit is the most items to read (DynamoDB's Limit: evaluated items,
	// before filtering); 0 for none. MaxBytes defaults to MaxPageBytes.
	Limit    int
	MaxBytes int

	// FetchTable reads each entry's table item too (local index, attributes
	// not projected); the Row then carries the table item.
	FetchTable bool

	// Raw hands fn the stored bytes (Row.Raw) instead of a decoded item:
	// Row.Item is nil, and no item is decoded except the last of a page
	// that ends early (for LastEvaluatedKey). Ignored with FetchTable.
	Raw bool

	// RawSized, with Raw, means fn sets *Row.SizeOut to the item's size
	// (attr.AppendJSONFromStoredSize computes it while rendering) instead
	// of Read computing it before calling fn: Row.Size is then 0.
	RawSized bool
}

// Row is one item a read returned.
type Row struct {
	Item attr.Item // the entry (projected item) or the table item
	// Raw is the stored encoding of Item (attr.AppendBinary) when the
	// ReadSpec asked for Raw; then Item is nil. Valid only during fn.
	Raw  []byte
	Size int // bytes read for it: DynamoDB's item size
	// TableSize is the size of the table item fetched for an index entry
	// (FetchTable), 0 otherwise.
	TableSize int
	// SizeOut is where fn stores the item's size when the ReadSpec is
	// RawSized (nil otherwise).
	SizeOut *int
}

// Page is the outcome of a read: whether it stopped before the end of its
// range, and then the key of the last item read (LastEvaluatedKey: the
// table key, plus the index key on an index).
type Page struct {
	More    bool
	LastKey attr.Item
	Scanned int
	Bytes   int // Σ Row.Size + Row.TableSize
	// TableBytes is Σ Row.TableSize: table items fetched for index entries.
	TableBytes int
	// TableBlocks is Σ ⌈Row.TableSize / 4 KB⌉: DynamoDB charges each table
	// item a local index read fetches rounded up on its own.
	TableBlocks int
}

// CheckStartKey validates an ExclusiveStartKey against the read target:
// exactly the table key attributes (plus the index key attributes on an
// index) with the schema's types, within a parallel Scan's segment (set
// Segment and TotalSegments first) and within a Query's key condition.
func (s *ReadSpec) CheckStartKey(k attr.Item) error {
	bad := func() error { // built only when needed: formatting costs
		return ddberr.Validationf("The provided starting key is invalid: The provided key element does not match the schema")
	}
	want := map[string]attr.Type{}
	for _, ke := range s.Table.KeyElements() {
		want[ke.Name] = ke.Type
	}
	if s.Index != nil {
		for _, ke := range s.Index.KeyElements() {
			want[ke.Name] = ke.Type
		}
	}
	if len(k) != len(want) {
		return bad()
	}
	for n, typ := range want {
		v, ok := k[n]
		if !ok || v.Type() != typ {
			return bad()
		}
	}
	if s.TotalSegments > 0 {
		// A parallel Scan's start key must lie in its segment (dynalite's
		// recorded answer, actions/scan.js).
		lo, hi := s.bounds()
		if sk := s.keyOf(k); sk != nil && (bytes.Compare(sk, lo) < 0 || hi != nil && bytes.Compare(sk, hi) >= 0) {
			return ddberr.Validationf("The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: %d Segment: %d", s.TotalSegments, s.Segment)
		}
	}
	if s.Partition.IsZero() {
		return nil
	}
	outside := func() error {
		return ddberr.Validationf("The provided starting key is outside query boundaries based on provided conditions")
	}
	hash := s.Table.Hash.Name
	if s.Index != nil {
		hash = s.Index.Hash.Name
		for i, ke := range s.Index.MoreHash {
			if i >= len(s.MorePartition) || !attr.Equal(k[ke.Name], s.MorePartition[i]) {
				return outside()
			}
		}
	}
	if !attr.Equal(k[hash], s.Partition) {
		return outside()
	}
	if sk := s.sortElement(); sk != nil {
		// An equality on a leading sort attribute is a key condition like
		// the last one: a start key outside it does not match the range
		// key predicate.
		if len(s.SortEq) > 0 {
			for i, ke := range s.Index.RangeElements()[:len(s.SortEq)] {
				if !attr.Equal(k[ke.Name], s.SortEq[i]) {
					return ddberr.Validationf("The provided starting key does not match the range key predicate")
				}
			}
		}
		if s.Sort != nil && !s.Sort.Match(k[sk.Name]) {
			return ddberr.Validationf("The provided starting key does not match the range key predicate")
		}
	}
	return nil
}

// sortElement returns the sort key attribute Sort applies to: the
// table's or the index's (after the SortEq ones on a composite key), nil
// when the target has none.
func (s *ReadSpec) sortElement() *KeyElement {
	if s.Index == nil {
		return s.Table.Range
	}
	if len(s.SortEq) == 0 {
		return s.Index.Range
	}
	rs := s.Index.RangeElements()
	if len(s.SortEq) >= len(rs) {
		return nil
	}
	return &rs[len(s.SortEq)]
}

// keyOf returns the encoded key of an item (or start key) in the target.
func (s *ReadSpec) keyOf(it attr.Item) []byte {
	if s.Index != nil {
		return s.Index.entryKey(s.Table, it)
	}
	return s.Table.itemKey(it)
}

// lastKey returns LastEvaluatedKey for an item read.
func (s *ReadSpec) lastKey(it attr.Item) attr.Item {
	k := s.Table.KeyOf(it)
	if s.Index != nil {
		for _, n := range s.Index.KeyNames() {
			k[n] = it[n]
		}
	}
	return k
}

// bounds returns the key range [lo, hi) the read covers, before the
// start key.
func (s *ReadSpec) bounds() (lo, hi []byte) {
	if !s.Partition.IsZero() {
		var p []byte
		switch {
		case s.Index != nil && len(s.MorePartition) > 0:
			p = indexPartitionPrefix(nil, s.Table.ID, s.Index.ID, append([]attr.Value{s.Partition}, s.MorePartition...)...)
		case s.Index != nil:
			p = indexPartitionPrefix(nil, s.Table.ID, s.Index.ID, s.Partition)
		default:
			p = partitionPrefix(nil, s.Table.ID, s.Partition)
		}
		for _, v := range s.SortEq { // a leading run of sort attributes is a prefix
			p = attr.AppendKey(p, v)
		}
		lo, hi = p, attr.KeyPrefixEnd(p)
		if s.Sort == nil {
			return lo, hi
		}
		enc := func(v attr.Value) []byte { return attr.AppendKey(append([]byte(nil), p...), v) }
		v := s.Sort.Values[0]
		switch s.Sort.Op {
		case expr.KeyEQ:
			lo = enc(v)
			hi = attr.KeyPrefixEnd(lo)
		case expr.KeyLT:
			hi = enc(v)
		case expr.KeyLE:
			hi = attr.KeyPrefixEnd(enc(v))
		case expr.KeyGT:
			lo = attr.KeyPrefixEnd(enc(v))
		case expr.KeyGE:
			lo = enc(v)
		case expr.KeyBetween:
			lo = enc(v)
			hi = attr.KeyPrefixEnd(enc(s.Sort.Values[1]))
		case expr.KeyBeginsWith:
			// The escaped bytes of a prefix, without the terminator, are a
			// prefix of the encodings of the strings (or binaries) it begins.
			e := enc(v)
			lo = e[:len(e)-2]
			hi = attr.KeyPrefixEnd(lo)
		}
		return lo, hi
	}
	var base []byte
	if s.Index != nil {
		base = indexPrefix(s.Table.ID, s.Index.ID)
	} else {
		base = tablePrefix(prefixItem, s.Table.ID)
	}
	lo, hi = base, attr.KeyPrefixEnd(base)
	if s.Index != nil {
		lo = append(append([]byte(nil), base...), 0) // skip the stats key
	}
	if s.TotalSegments > 0 {
		n := uint64(s.TotalSegments)
		seg := uint64(s.Segment)
		start, _ := bits.Div64(seg, 0, n)
		lo = binary.BigEndian.AppendUint64(append([]byte(nil), base...), start)
		if seg+1 < n {
			end, _ := bits.Div64(seg+1, 0, n)
			hi = binary.BigEndian.AppendUint64(append([]byte(nil), base...), end)
		}
	}
	return lo, hi
}

var errNoSize = errors.New("store: a RawSized read's fn did not report the item's size")

// ctxCheckEvery is how many keys a read visits between two looks at its
// context: often enough that an abandoned read stops within a fraction of
// a millisecond, rarely enough that the look costs nothing measurable.
const ctxCheckEvery = 256

// Read reads one page and hands every item read to fn in order. The page
// ends at the end of the range, after Limit items, or after the item with
// which the bytes read reach MaxBytes. The read sees one consistent
// snapshot of the database (every write acknowledged before it began).
//
// Read stops with ctx.Err() once ctx is done: it looks before it starts
// and then every ctxCheckEvery keys, so a Query or Scan whose client went
// away does not read on to the end of its page.
func (db *DB) Read(ctx context.Context, s *ReadSpec, fn func(Row) error) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return Page{}, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	if s.Table.Restoring() {
		return Page{}, ddberr.NotFound()
	}
	maxBytes := s.MaxBytes
	if maxBytes <= 0 {
		maxBytes = MaxPageBytes
	}
	lo, hi := s.bounds()
	if s.Start != nil {
		sk := s.keyOf(s.Start)
		if s.Reverse {
			if hi == nil || bytes.Compare(sk, hi) < 0 {
				hi = sk
			}
		} else if after := append(sk, 0); bytes.Compare(after, lo) > 0 {
			lo = after
		}
	}
	var page Page
	if hi != nil && bytes.Compare(lo, hi) >= 0 {
		return page, nil
	}
	// An iterator reads one point in time by itself; a snapshot (whose
	// Close also looks for compactions to schedule) is needed only when
	// table items are fetched alongside an index's entries.
	var (
		snap *pebble.Snapshot
		it   *pebble.Iterator
		err  error
	)
	opts := &pebble.IterOptions{LowerBound: lo, UpperBound: hi}
	if s.FetchTable {
		snap = db.pdb.NewSnapshot()
		defer snap.Close()
		it, err = snap.NewIter(opts)
	} else {
		it, err = db.pdb.NewIter(opts)
	}
	if err != nil {
		return page, err
	}
	defer it.Close()
	// The iterator reads the writes visible when it was made; those to this
	// table that are not durable yet took their tickets before it, so
	// waiting for every ticket taken so far covers them (fence.go).
	db.fence(s.Table.ID).wait()
	step := it.Next
	ok := it.First()
	if s.Reverse {
		step, ok = it.Prev, it.Last()
	}
	raw := s.Raw && !s.FetchTable
	sized := raw && s.RawSized
	var rawSize int
	// The sort key of what is read: the index's, which a table without a
	// sort key of its own (Range nil) can still have.
	var sortName string
	if s.Sort != nil {
		sortName = s.sortElement().Name
	}
	for n := 1; ok; ok, n = step(), n+1 {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return page, err
			}
		}
		var row Row
		var item attr.Item
		if raw {
			row.Raw = it.Value()
			if sized {
				row.SizeOut = &rawSize
			} else if row.Size, err = attr.StoredItemSize(row.Raw); err != nil {
				return page, err
			}
		} else {
			if item, err = attr.DecodeBinary(it.Value()); err != nil {
				return page, err
			}
			row.Item, row.Size = item, attr.ItemSize(item)
		}
		if s.Sort != nil {
			name := sortName
			v := item[name]
			if raw {
				if v, _, err = attr.LookupBinary(row.Raw, name); err != nil {
					return page, err
				}
			}
			if !s.Sort.Match(v) {
				continue
			}
		}
		if s.FetchTable {
			v, closer, err := snap.Get(s.Table.itemKey(item))
			if err == nil {
				full, derr := attr.DecodeBinary(v)
				closer.Close()
				if derr != nil {
					return page, derr
				}
				row.Item, row.TableSize = full, attr.ItemSize(full)
			} else if err != pebble.ErrNotFound {
				return page, err
			}
		}
		page.Scanned++
		rawSize = -1
		if err := fn(row); err != nil {
			return page, err
		}
		if sized {
			if rawSize < 0 {
				return page, errNoSize
			}
			row.Size = rawSize
		}
		page.Bytes += row.Size + row.TableSize
		page.TableBytes += row.TableSize
		page.TableBlocks += (row.TableSize + 4095) / 4096
		if (s.Limit > 0 && page.Scanned >= s.Limit) || page.Bytes >= maxBytes {
			page.More = true
			if item == nil {
				if item, err = attr.DecodeBinary(row.Raw); err != nil {
					return page, err
				}
			}
			page.LastKey = s.lastKey(item)
			break
		}
	}
	return page, it.Error()
}
