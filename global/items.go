package global

import (
	"context"
	"errors"
	"fmt"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// ErrNotGlobal: the table is not a global table of this region.
var ErrNotGlobal = errors.New("global: not a global table of this region")

// ErrBadKey: the key given is not the table's key (missing, extra or
// mistyped attributes).
var ErrBadKey = errors.New("global: not the table's key")

// LastWrite is the replication identity of an item's last write in this
// region: under MREC, the (timestamp, region) that won by last writer
// wins, a delete leaving a tombstone; under MRSC, the stream sequence of
// the item's last write applied here.
type LastWrite struct {
	// TS is the write's timestamp, microseconds of its region's hybrid
	// clock (MREC). 0 under MRSC.
	TS int64 `json:"timestamp,omitempty"`
	// Region is the region that made the write (MREC).
	Region string `json:"region,omitempty"`
	// Deleted: the write was a delete (the item is a tombstone).
	Deleted bool `json:"deleted,omitempty"`
	// Sequence is the MRSC stream sequence of the write (0 under MREC).
	Sequence uint64 `json:"sequence,omitempty"`
}

// ItemState is an item of a global table with its last write, read
// together under the item's lock (GET /eddy/global/tables/NAME/items).
type ItemState struct {
	Table  string    `json:"table"`
	Region string    `json:"region"` // this server's
	Key    attr.Item `json:"key"`
	Item   attr.Item `json:"item,omitempty"` // absent: no such item (never written, or deleted)
	// Last is nil when the item has no replication identity: never written,
	// or written before the table became global and not since.
	Last *LastWrite `json:"lastWrite,omitempty"`
}

// Item reads an item of a global table of this region and the identity of
// its last write, consistently: under the item's lock, so no write lands
// between the two reads. Operators see which write won an item; tests check
// last writer wins across processes with it.
func (m *Manager) Item(ctx context.Context, table string, key attr.Item) (ItemState, error) {
	m.mu.Lock()
	ts := m.tables[table]
	strong := ts != nil && ts.set.Consistency == ConsistencyStrong
	m.mu.Unlock()
	t := m.db.TableIn(m.opts.Region, table)
	if ts == nil || t == nil {
		return ItemState{}, ErrNotGlobal
	}
	if err := checkKey(t, key); err != nil {
		return ItemState{}, err
	}
	out := ItemState{Table: table, Region: m.opts.Region, Key: key}
	_, err := m.db.Write(ctx, store.WriteOptions{}, store.Mutation{Table: t, Key: key, ReadOnly: true,
		Apply: func(cur attr.Item) (attr.Item, error) {
			out.Item, out.Last = cur, nil
			if strong {
				seq, err := m.itemSeq(m.itemSeqKey(t, key))
				if err == nil && seq > 0 {
					out.Last = &LastWrite{Sequence: seq, Deleted: cur == nil}
				}
				return cur, err
			}
			md, ok, err := m.getMeta(m.itemMetaKey(t, key))
			if err == nil && ok {
				out.Last = &LastWrite{TS: md.TS, Region: md.Region, Deleted: md.Deleted}
			}
			return cur, err
		}})
	return out, err
}

// checkKey reports ErrBadKey unless key holds exactly t's key attributes,
// of their types.
func checkKey(t *store.Table, key attr.Item) error {
	names := t.KeyNames()
	if len(key) != len(names) {
		return fmt.Errorf("%w: want %v", ErrBadKey, names)
	}
	want := []store.KeyElement{t.Hash}
	if t.Range != nil {
		want = append(want, *t.Range)
	}
	for _, k := range want {
		v, ok := key[k.Name]
		if !ok || v.Type() != k.Type {
			return fmt.Errorf("%w: %s must be of type %s", ErrBadKey, k.Name, k.Type)
		}
	}
	return nil
}
