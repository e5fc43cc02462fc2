package store

import (
	"context"
	"errors"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// Principal identifies who made a change: the access key of a signed
// request, or a service (TTL deletions are Service/dynamodb.amazonaws.com).
// It travels with every Change so that stream records and audit trails can
// carry it.
type Principal struct {
	Type string // "User" or "Service"; empty when unknown
	ID   string // access key ID or service principal
}

// ServiceTTL is the principal of Time to Live deletions.
var ServiceTTL = Principal{Type: "Service", ID: "dynamodb.amazonaws.com"}

// Change describes one item change of a committed-to-be write.
type Change struct {
	Table     *Table
	Keys      attr.Item // the key attributes
	Old, New  attr.Item // nil when absent (insert / remove)
	Principal Principal
	Time      time.Time // when the write was applied
}

// ChangeLog is how the streams package joins the write path without the
// store depending on it: every registered log sees every change inside the
// batch that applies it.
type ChangeLog interface {
	// Prepare appends the records for changes to b, which the caller is
	// about to commit; it runs with the items' locks held. The returned done
	// func runs after the commit attempt (committed reports its outcome) and
	// is where a log publishes or releases what it reserved. Prepare must
	// not commit b.
	Prepare(b *Batch, changes []Change) (done func(committed bool), err error)
}

// RegisterChangeLog adds a change log. Call before serving writes.
func (db *DB) RegisterChangeLog(l ChangeLog) {
	db.logMu.Lock()
	db.logs = append(db.logs, l)
	db.logMu.Unlock()
}

// Mutation is one conditional change to one item inside a Write.
type Mutation struct {
	Table *Table
	Key   attr.Item // the key attributes, validated with Table.ValidateKey
	// Apply decides the new item from the current one (nil when absent). It
	// returns the new item, or nil to delete it, or an error that cancels
	// the whole write (a failed condition, a bad update). It runs with the
	// item locked and must not block. A nil Apply leaves the item alone
	// (a transaction's ConditionCheck uses Check instead).
	//
	// Apply must be replayable: a pure function of old, with no effect
	// outside its result, so that it may run more than once and gives the
	// same result for the same item. A WriteBuffer runs it when the write
	// is buffered and again at commit, and a write retried after a failed
	// commit runs it again.
	Apply func(old attr.Item) (attr.Item, error)
	// ReadOnly marks a condition check: Apply's result is ignored.
	ReadOnly bool
	// Read, when set, is the item as the caller read it (DB.ReadItem): if
	// nothing was written to its stripe since, the write takes it as the
	// current item instead of reading it again. A WriteBuffer sets it.
	Read *ItemRead
}

// ItemRead is an item as DB.ReadItem read it, with the write count of its
// lock stripe at that moment (lockTable).
type ItemRead struct {
	Item   attr.Item // nil when absent
	writes uint64
}

// Result reports what a Mutation did.
type Result struct {
	Old, New attr.Item
	Changed  bool // false when the new item equals the old (no record emitted)
	// Throttled: refused by the Admitter in a Partial write; nothing was
	// written (New is Old, Changed false).
	Throttled bool
}

// WriteOptions carry per-request context through the write path.
type WriteOptions struct {
	Principal Principal
	// Extra, when set, adds records of other owners (checkpoints, view
	// writes, dead letters) to the same batch, after the items, through
	// their KeySpace handles (ks.Set(b, key, value)). b is valid only
	// during the call.
	Extra func(b *Batch) error
	// Metering says whether and how the write is charged to its tables'
	// capacity (the Admitter set with SetAdmitter). Default Unmetered:
	// TTL deletions, index backfills, imports, checkpoints. (A mapping's
	// buffered handler writes are metered when they commit.)
	Metering Metering
	// Op names the operation (PutItem, BatchWriteItem...) for the
	// admitter's throttle events; empty when unknown.
	Op string
	// Partial lets the admitter refuse some of the mutations and admit the
	// others (BatchWriteItem: DynamoDB returns the refused ones in
	// UnprocessedItems). Refused ones have Result.Throttled set and write
	// nothing. Default false: the write is admitted or refused whole.
	Partial bool
	// NoChangeLog leaves the registered change logs out of the write: no
	// stream record, as for the items ImportTable writes (DynamoDB's
	// imports produce no stream records).
	NoChangeLog bool
}

// Metering is how a write is charged to capacity.
type Metering uint8

const (
	// Unmetered writes consume no capacity and are never throttled.
	Unmetered Metering = iota
	// MeterStandard is a PutItem, UpdateItem, DeleteItem or batch write.
	MeterStandard
	// MeterTransaction is a transaction: twice the units of a standard write.
	MeterTransaction
)

// Admitter decides whether a metered write may commit (package capacity's
// limiter implements it). AdmitWrite runs after every Apply succeeded and
// before anything is written, with the items locked: an error refuses the
// whole write (nothing is written, no change record is made) and is
// returned by Write as is; nil admits it and the admitter has charged its
// units. In a Partial write it may instead set results[i].Throttled for
// the mutations it refuses and return nil (an error when it refuses them
// all). It must not block or call back into the DB.
type Admitter interface {
	AdmitWrite(wo *WriteOptions, muts []Mutation, results []Result) error
}

// SetAdmitter installs the admitter of metered writes. Call before serving
// writes; nil (the default) admits everything.
func (db *DB) SetAdmitter(a Admitter) { db.admitter = a }

// CanceledError is returned by a multi-item Write when any mutation failed;
// Errs[i] is nil for the mutations that would have succeeded.
type CanceledError struct{ Errs []error }

func (e *CanceledError) Error() string { return "store: write canceled" }

// Write applies mutations atomically: all their items are locked, each
// Apply sees the committed current item, and all changes (items, stats,
// change-log records, Extra) commit in one synced Pebble batch. The write
// path, in order:
//
//  1. resolve item keys; lock their stripes (ascending order)
//  2. read each current item; run Apply (conditions, update expressions)
//  3. if any Apply failed: unlock, return its error (nothing written);
//     a metered write is then admitted by the Admitter or refused, its
//     error returned (nothing written)
//  4. build one batch: item sets/deletes + stats deltas + ChangeLog records
//     (+ index entries, + Extra)
//  5. commit with fsync (concurrent commits share syncs: Pebble group commit)
//  6. run ChangeLog done callbacks (publication), unlock
//
// Invariants: a reader never sees part of a write; a write acknowledged to
// a client is on disk with its change records; a write that changes nothing
// emits no change record.
func (db *DB) Write(ctx context.Context, wo WriteOptions, muts ...Mutation) ([]Result, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	if err := db.health.err(); err != nil {
		return nil, err // refused at once, before any lock or read
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := make([][]byte, len(muts))
	for i, m := range muts {
		keys[i] = m.Table.itemKey(m.Key)
	}
	unlock := db.locks.lock(keys)
	defer unlock()

	// Tables must still exist (and be the same incarnation) until the
	// commit: DeleteTable and UpdateTable wait for writes in flight.
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	for _, m := range muts {
		if cur := db.tables[keyOf(m.Table)]; cur == nil || cur.ID != m.Table.ID || cur.Restoring() {
			return nil, ddberr.NotFound() // a table being restored is CREATING
		}
	}

	results := make([]Result, len(muts))
	var errs []error // per mutation, allocated at the first failure
	for i, m := range muts {
		var old attr.Item
		var err error
		if r := m.Read; r != nil && db.locks.writes[db.locks.stripe(keys[i])].Load() == r.writes {
			old = r.Item // nothing written through its stripe since it was read
		} else if old, err = db.getRaw(keys[i]); err != nil {
			return nil, err
		}
		results[i].Old = old
		if m.Apply == nil {
			results[i].New = old
			continue
		}
		nu, err := m.Apply(old)
		if err == nil && nu != nil && !m.ReadOnly {
			err = m.Table.ValidateItem(nu)
		}
		if err != nil {
			if len(muts) == 1 {
				return nil, err
			}
			if errs == nil {
				errs = make([]error, len(muts))
			}
			errs[i] = err
			continue
		}
		if m.ReadOnly {
			results[i].New = old
			continue
		}
		results[i].New = nu
		results[i].Changed = !sameItem(old, nu)
	}
	if errs != nil {
		return nil, &CanceledError{Errs: errs}
	}
	if wo.Metering != Unmetered && db.admitter != nil {
		// Throttled writes consume nothing and write nothing (capacity).
		if err := db.admitter.AdmitWrite(&wo, muts, results); err != nil {
			return nil, err
		}
		for i := range results {
			if results[i].Throttled {
				results[i].New, results[i].Changed = results[i].Old, false
			}
		}
	}

	batch := db.NewBatch()
	defer batch.Close()
	b := batch.pb // store's own spaces are written directly
	now := time.Now()
	var stamp int64 // the write's PITR stamp, taken at its first change of a table with PITR (pitr.go)
	var changes []Change
	for i, m := range muts {
		r := results[i]
		if !r.Changed {
			continue
		}
		var dCount, dBytes int64
		if r.Old != nil {
			dCount--
			dBytes -= int64(attr.ItemSize(r.Old))
		}
		if r.New != nil {
			dCount++
			dBytes += int64(attr.ItemSize(r.New))
			if err := b.Set(keys[i], attr.AppendBinary(nil, r.New), nil); err != nil {
				return nil, err
			}
		} else if err := b.Delete(keys[i], nil); err != nil {
			return nil, err
		}
		if err := b.Merge(statsKey(m.Table.ID), encodeStats(dCount, dBytes), nil); err != nil {
			return nil, err
		}
		// Secondary index entries, against the current descriptor (index.go).
		cur := db.tables[keyOf(m.Table)]
		if err := db.indexEntries(b, cur, r.Old, r.New); err != nil {
			return nil, err
		}
		if cur.PITR.Enabled {
			if stamp == 0 {
				stamp = db.stamp()
			}
			if err := appendHistory(b, cur.ID, stamp, uint16(i), keys[i], m.Table.keysOf(m.Key), r.New); err != nil {
				return nil, err
			}
		}
		changes = append(changes, Change{
			Table: m.Table, Keys: m.Table.keysOf(m.Key), Old: r.Old, New: r.New,
			Principal: wo.Principal, Time: now,
		})
	}
	if len(changes) == 0 && wo.Extra == nil {
		return results, nil
	}
	logged := changes
	if wo.NoChangeLog {
		logged = nil
	}
	dones, err := db.prepareLogs(batch, logged)
	finish := func(ok bool) {
		for _, d := range dones {
			d(ok)
		}
	}
	if err != nil {
		finish(false)
		return nil, err
	}
	if wo.Extra != nil {
		if err := wo.Extra(batch); err != nil {
			finish(false)
			return nil, err
		}
	}
	// Range reads of these tables wait until the commit is durable
	// (fence.go); point reads wait on the item locks held until then.
	for _, c := range changes {
		f := db.fence(c.Table.ID)
		defer f.give(f.take())
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		finish(false)
		return nil, err
	}
	finish(true)
	return results, nil
}

// commit is the one place a batch enters Pebble: every write of every key
// space commits through it.
//
//   - In the failed state (health.go) it refuses at once.
//   - After Pebble returns, it refuses if the store failed for good
//     meanwhile: a WAL write or sync that failed is hidden from Pebble
//     (diskFS explains why), so Pebble reports success for the commits it
//     covered; the failed state was entered before Pebble woke them.
//   - It checks that the data directory is still there: a write synced
//     into a WAL whose directory was removed is not acknowledged.
//   - A fatal error Pebble reports while committing (Logger.Fatalf, which
//     panics: pebbleLogger) becomes the failed state and an error.
func (db *DB) commit(b *pebble.Batch, o *pebble.WriteOptions) (err error) {
	return db.door(func() error { return b.Commit(o) })
}

// commitIngest is commit for sstables (ingest.go): Pebble's Ingest behind
// the same gate.
func (db *DB) commitIngest(ctx context.Context, paths []string) error {
	return db.door(func() error { return db.pdb.Ingest(ctx, paths) })
}

// door runs write, the one call that changes Pebble, under commit's rules.
func (db *DB) door(write func() error) (err error) {
	if err := db.health.err(); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(pebbleFatal)
			if !ok {
				panic(p)
			}
			err = db.health.fail(true, "Pebble commit failed", f)
		}
	}()
	db.health.commits.begin()
	err = func() error {
		defer db.health.commits.end() // also when Pebble panics
		return write()
	}()
	if err != nil {
		return err
	}
	if err := db.checkDir(); err != nil {
		return err
	}
	if e := db.health.failed.Load(); e != nil && e.Sticky {
		return e
	}
	return nil
}

func (db *DB) prepareLogs(b *Batch, changes []Change) ([]func(bool), error) {
	if len(changes) == 0 {
		return nil, nil
	}
	db.logMu.RLock()
	defer db.logMu.RUnlock()
	var dones []func(bool)
	for _, l := range db.logs {
		done, err := l.Prepare(b, changes)
		if done != nil {
			dones = append(dones, done)
		}
		if err != nil {
			return dones, err
		}
	}
	return dones, nil
}

func sameItem(a, b attr.Item) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return attr.ItemsEqual(a, b)
}

// getRaw reads the current item at an encoded key; nil when absent.
func (db *DB) getRaw(key []byte) (attr.Item, error) {
	v, closer, err := db.pdb.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return attr.DecodeBinary(v)
}

// Get returns the item with the given key (validated with ValidateKey), or
// nil. Reads are always strongly consistent: they see every acknowledged
// write, and no write that is not yet durable (locks.go).
func (db *DB) Get(t *Table, key attr.Item) (attr.Item, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	if t.Restoring() {
		return nil, ddberr.NotFound()
	}
	k := t.itemKey(key)
	defer db.locks.rlock(k)()
	return db.getRaw(k)
}

// ReadItem is Get for a caller that will write the item later in one
// Mutation (Mutation.Read): the write does not read it again if nothing
// was written to it meanwhile.
func (db *DB) ReadItem(t *Table, key attr.Item) (*ItemRead, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	if t.Restoring() {
		return nil, ddberr.NotFound()
	}
	k := t.itemKey(key)
	i := db.locks.stripe(k)
	db.locks.stripes[i].RLock()
	defer db.locks.stripes[i].RUnlock()
	it, err := db.getRaw(k)
	if err != nil {
		return nil, err
	}
	return &ItemRead{Item: it, writes: db.locks.writes[i].Load()}, nil
}

// GetRaw returns the stored encoding of an item (attr/binary.go), or nil,
// for callers that render it without building an attr.Item (see
// attr.AppendJSONFromStoredSize). The slice is the caller's.
func (db *DB) GetRaw(t *Table, key attr.Item) ([]byte, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	if t.Restoring() {
		return nil, ddberr.NotFound()
	}
	k := t.itemKey(key)
	defer db.locks.rlock(k)()
	v, closer, err := db.pdb.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

func (t *Table) itemKey(key attr.Item) []byte {
	var sk attr.Value
	if t.Range != nil {
		sk = key[t.Range.Name]
	}
	return itemKey(make([]byte, 0, 64), t.ID, key[t.Hash.Name], sk)
}
