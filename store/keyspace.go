package store

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/internal/kv"
)

// KeySpace is one owner's part of the database: the keys that begin with
// its Space's prefix byte. Every key a KeySpace takes or returns is relative
// to the space: the handle prepends the prefix on the way in and strips it
// on the way out, so the owner lays out only the rest. The registry of
// spaces (keys.go):
//
//	prefix      space            owner      what
//	┌──────────┬────────────────┬──────────┬─────────────────────────────────────┐
//	│0x01      │ catalog        │ store    │ table descriptors, last table ID    │
//	│0x02      │ items          │ store    │ items                               │
//	│0x03      │ stats          │ store    │ table statistics (merge operands)   │
//	│0x04      │ indexes        │ store    │ secondary index entries             │
//	│0x05      │ tokens         │ store    │ transaction idempotency tokens      │
//	│0x06      │ capacity       │ reserved │ per-partition capacity accounting   │
//	├──────────┼────────────────┼──────────┼─────────────────────────────────────┤
//	│0x10      │ stream-meta    │ streams  │ high-water mark, HMAC key, last ID  │
//	│0x11      │ streams        │ streams  │ stream descriptors                  │
//	│0x12      │ shards         │ streams  │ shard descriptors                   │
//	│0x13      │ stream-records │ streams  │ change records                      │
//	├──────────┼────────────────┼──────────┼─────────────────────────────────────┤
//	│0x20      │ functions      │ triggers │ functions, versions, aliases, code  │
//	│0x21      │ mappings       │ mappings │ event source mapping configurations │
//	│0x22      │ checkpoints    │ mappings │ per-shard, per-lane checkpoints     │
//	│0x23      │ windows        │ mappings │ tumbling windows                    │
//	├──────────┼────────────────┼──────────┼─────────────────────────────────────┤
//	│0x30      │ dlq            │ dlq      │ dead letters, their outbox          │
//	├──────────┼────────────────┼──────────┼─────────────────────────────────────┤
//	│0x40      │ outbox         │ outbox   │ sinks, emitted documents, positions │
//	│0x50      │ relay          │ relay    │ relays, positions per shard, totals │
//	│0x60      │ backups        │ store    │ PITR history, base images, backups  │
//	│0x61      │ dataport       │ dataport │ export and import descriptions      │
//	│0x70      │ logs           │ reserved │ function logs                       │
//	│0x81      │ policies       │ iam/...  │ IAM policies by principal and name  │
//	│0x90      │ autoscaling    │ (1)      │ scalable targets, policies, activity│
//	│0x91      │ metrics        │ cwmetrics│ CloudWatch data points, per minute  │
//	└──────────┴────────────────┴──────────┴─────────────────────────────────────┘
//	  (each owner's block runs to the next 16: 0x10-0x1F streams, 0x20-0x2F
//	   triggers and mappings, 0x30-0x3F dlq, ...; (1) is appautoscaling)
//
//	a key of space S, as stored:   ┌───┬──────────────────────────┐
//	                               │ S │ key relative to the space│
//	                               └───┴──────────────────────────┘
//
// Invariant: no owner can address another's keys. A KeySpace's reads are
// bounded to its prefix (an iterator's bounds are clamped to the space, a
// Get looks up prefix+key), and its writes all begin with it; package store
// is the only package that imports Pebble, and it does not hand out its own
// spaces (items change only through DB.Write).
//
// Writes that must commit with others go into a Batch, which may hold the
// writes of several spaces (a write's items, its stream records, a
// checkpoint, a dead letter): ks.Set(b, key, value) adds one in space ks.
//
// A KeySpace is a small value, safe for concurrent use; copy it freely.
type KeySpace struct {
	db *DB
	p  byte
}

// KeySpace returns the handle of space s. It panics if s is not registered
// in keys.go or is one of store's own spaces.
func (db *DB) KeySpace(s Space) KeySpace {
	switch spaces[s].owner {
	case "":
		panic(fmt.Sprintf("store: %v is not a registered key space", s))
	case "store":
		panic(fmt.Sprintf("store: key space %v is store's own", s))
	}
	return KeySpace{db: db, p: byte(s)}
}

// Space returns the space the handle addresses.
func (ks KeySpace) Space() Space { return Space(ks.p) }

func (ks KeySpace) key(k []byte) []byte {
	return append(append(make([]byte, 0, 1+len(k)), ks.p), k...)
}

// Get returns a copy of the value stored at key; ok is false when there is
// none.
func (ks KeySpace) Get(key []byte) (value []byte, ok bool, err error) {
	v, closer, err := ks.db.pdb.Get(ks.key(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	value = append(make([]byte, 0, len(v)), v...) // v lives until closer.Close
	return value, true, closer.Close()
}

// NewIter returns an iterator over the keys of the space in [lower,
// upper); a nil lower is the start of the space and a nil upper its end.
// The iterator sees the database as of its creation. Close it.
func (ks KeySpace) NewIter(lower, upper []byte) (*Iter, error) {
	// Both bounds in one allocation; Pebble keeps them while the iterator
	// lives.
	buf := make([]byte, 0, 2+len(lower)+len(upper))
	buf = append(append(buf, ks.p), lower...)
	lo := buf[:len(buf):len(buf)]
	if upper == nil {
		buf = append(buf, ks.p+1) // no space has prefix 0xFF
	} else {
		buf = append(append(buf, ks.p), upper...)
	}
	hi := buf[len(lo):]
	it, err := ks.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	return &Iter{it: it}, nil
}

// Scan calls fn for every key in [lower, upper) (nil bounds as in NewIter),
// in order, until fn returns an error. key and value are valid only during
// the call.
func (ks KeySpace) Scan(lower, upper []byte, fn func(key, value []byte) error) error {
	it, err := ks.NewIter(lower, upper)
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// Write commits, in one batch, what fn writes through w into this space.
// With sync the commit is durable before Write returns (unless the DB was
// opened with Options.NoSync); without, a crash may lose it. Nothing is
// written if fn fails.
func (ks KeySpace) Write(sync bool, fn func(w kv.Writer) error) error {
	b := ks.NewBatch()
	defer b.Close()
	if err := fn(spaceWriter{ks, b}); err != nil {
		return err
	}
	return b.Commit(sync)
}

// spaceWriter is the kv.Writer of KeySpace.Write.
type spaceWriter struct {
	ks KeySpace
	b  *Batch
}

func (w spaceWriter) Set(key, value []byte) error     { return w.ks.Set(w.b, key, value) }
func (w spaceWriter) Delete(key []byte) error         { return w.ks.Delete(w.b, key) }
func (w spaceWriter) DeleteRange(lo, hi []byte) error { return w.ks.DeleteRange(w.b, lo, hi) }

// NewBatch returns an empty batch for writes of this and other spaces of
// the same DB, to commit together (as DB.NewBatch). Close it.
func (ks KeySpace) NewBatch() *Batch { return ks.db.NewBatch() }

// Set adds to b the setting of key (in this space) to value. The arguments
// may be reused once Set returns.
func (ks KeySpace) Set(b *Batch, key, value []byte) error {
	ks.check(b)
	// Deferred: the prefix and key are written straight into the batch,
	// with no prefixed copy of the key (the write path stays
	// allocation-free).
	op := b.pb.SetDeferred(1+len(key), len(value))
	op.Key[0] = ks.p
	copy(op.Key[1:], key)
	copy(op.Value, value)
	return op.Finish()
}

// AddCounts adds to b the addition of (x, y) to the pair of counters at
// key (in this space). Pebble sums the additions (the DB's merge
// operator), so concurrent batches add without a read; a Delete resets
// the pair. Counts reads them.
func (ks KeySpace) AddCounts(b *Batch, key []byte, x, y int64) error {
	ks.check(b)
	return b.pb.Merge(ks.key(key), encodeStats(x, y), nil)
}

// Counts returns the pair of counters at key that AddCounts added to
// (zeros when none).
func (ks KeySpace) Counts(key []byte) (x, y int64, err error) {
	v, ok, err := ks.Get(key)
	if err != nil || !ok {
		return 0, 0, err
	}
	return decodeStats(v)
}

// Delete adds to b the deletion of key (in this space).
func (ks KeySpace) Delete(b *Batch, key []byte) error {
	ks.check(b)
	op := b.pb.DeleteDeferred(1 + len(key))
	op.Key[0] = ks.p
	copy(op.Key[1:], key)
	return op.Finish()
}

// DeleteRange adds to b the deletion of the keys of this space in [lower,
// upper); a nil upper means the end of the space.
func (ks KeySpace) DeleteRange(b *Batch, lower, upper []byte) error {
	ks.check(b)
	n := 1 + len(upper)
	if upper == nil {
		n = 1
	}
	op := b.pb.DeleteRangeDeferred(1+len(lower), n)
	op.Key[0] = ks.p
	copy(op.Key[1:], lower)
	if upper == nil {
		op.Value[0] = ks.p + 1
	} else {
		op.Value[0] = ks.p
		copy(op.Value[1:], upper)
	}
	return op.Finish()
}

func (ks KeySpace) check(b *Batch) {
	if b.db != ks.db {
		panic("store: batch of another DB (or used after Close)")
	}
}

// Batch is a set of writes, to any key spaces of one DB, that commit
// atomically: DB.Write's batch (handed to ChangeLog.Prepare and
// WriteOptions.Extra) or one from KeySpace.NewBatch. Writes are added
// through the handle of their space (KeySpace.Set, Delete, DeleteRange);
// nothing is visible before Commit.
//
// A Batch is not safe for concurrent use. It must not be used after Close,
// and a batch handed to a callback must not be kept after it returns.
type Batch struct {
	pb *pebble.Batch
	db *DB
}

// Wrappers are pooled, as Pebble pools its batches: the write path does
// not allocate one per write.
var batchPool = sync.Pool{New: func() any { return new(Batch) }}

// NewBatch returns an empty batch for writes of any key spaces of db, to
// commit together. Close it.
func (db *DB) NewBatch() *Batch {
	b := batchPool.Get().(*Batch)
	b.pb, b.db = db.pdb.NewBatch(), db
	return b
}

// Commit applies the batch. With sync it is durable (synced to the WAL)
// before Commit returns, unless the DB was opened with Options.NoSync;
// without, a crash may lose it.
func (b *Batch) Commit(sync bool) error {
	o := pebble.NoSync
	if sync {
		o = b.db.writeOpts
	}
	return b.db.commit(b.pb, o)
}

// Close releases the batch, discarding it if it was not committed. Call it
// exactly once, committed or not.
func (b *Batch) Close() error {
	err := b.pb.Close()
	b.pb, b.db = nil, nil
	batchPool.Put(b)
	return err
}

// Iter iterates over the keys of one key space in order. Its keys are
// relative to the space. Key and Value are valid until the next move. An
// Iter is not safe for concurrent use. Close it.
type Iter struct{ it *pebble.Iterator }

// First moves to the first key; false if there is none.
func (i *Iter) First() bool { return i.it.First() }

// Last moves to the last key; false if there is none.
func (i *Iter) Last() bool { return i.it.Last() }

// Next moves to the next key; false past the last.
func (i *Iter) Next() bool { return i.it.Next() }

// Prev moves to the previous key; false before the first.
func (i *Iter) Prev() bool { return i.it.Prev() }

// Valid reports whether the iterator is on a key.
func (i *Iter) Valid() bool { return i.it.Valid() }

// Key returns the current key, relative to the space.
func (i *Iter) Key() []byte { return i.it.Key()[1:] }

// Value returns the current value.
func (i *Iter) Value() []byte { return i.it.Value() }

// Error returns the error that stopped the iteration, if any.
func (i *Iter) Error() error { return i.it.Error() }

// Close releases the iterator and returns its error, if any.
func (i *Iter) Close() error { return i.it.Close() }
