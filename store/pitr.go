package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// Point-in-time recovery (PITR) keeps, for each table that has it enabled,
// a base image and the history of changes since, both in space 0x60
// (backups):
//
//	0x60 'h' <table id:4> <ts:8> <n:2>  → change: <len(k) uvarint> <k> <op> <item>
//	0x60 'b' <table id:4> <k>           → base image: the item (attr binary)
//	0x60 'm' <table id:4>               → pitrMeta (JSON): BaseAt, Ready
//
// k is the item's key without its space and table ID (hash, pk, sk: the
// same in every table of the same key schema, so a restore writes it under
// the new table's ID); ts is the write's stamp (DB.stamp: nanoseconds,
// strictly increasing over the DB, one per Write, so a transaction's
// changes share it) and n the change's place in the write; op is 's' (item
// is the new item) or 'd' (item is the deleted item's key attributes).
//
// Invariants:
//
//  1. A change is written in the batch of the Write that makes it (write.go),
//     only for tables whose descriptor has PITR enabled at that moment: the
//     history misses nothing acknowledged and holds nothing unacknowledged,
//     whether or not the table has a stream.
//  2. The base image is the table as of BaseAt; every change stamped after
//     BaseAt is in the history. Enabling PITR copies the table from a Pebble
//     snapshot taken with the descriptor's change (writers are not blocked
//     while it copies); CompactPITR folds the changes older than the
//     recovery period into the base and deletes them, in one batch per step,
//     so any snapshot sees base + history = the whole story.
//  3. The state at an instant T (BaseAt <= T) is the base overlaid with the
//     changes stamped <= T, the last one per item winning.
//
// Space: one copy of the table (the base) plus every change of the recovery
// period (key + new image, ~40 bytes of overhead each, compressed by
// Pebble's blocks). Restore speed: one pass over the base and the history,
// the last change of each item sorted in bounded memory (lastChanges), the
// new table ingested as sstables (ingest.go; ARCHITECTURE.md has the
// figures).

// PITRSpec is a table's point-in-time recovery setting.
type PITRSpec struct {
	Enabled bool `json:"enabled,omitempty"`
	// Days is the recovery period, 1-35.
	Days int `json:"days,omitempty"`
	// Since is when recovery was (last) enabled: the earliest restorable
	// instant until the recovery period has passed.
	Since time.Time `json:"since,omitzero"`
}

// RestoreInfo is DescribeTable's RestoreSummary of a restored table.
type RestoreInfo struct {
	SourceBackupArn string    `json:"sourceBackupArn,omitempty"`
	SourceTableArn  string    `json:"sourceTableArn,omitempty"`
	At              time.Time `json:"at"`
	InProgress      bool      `json:"inProgress,omitempty"`
}

// Clone returns a private copy of t for a caller to modify (the restored
// table's descriptor is the source's, with overrides).
func (t *Table) Clone() *Table { return t.clone() }

// Restoring reports whether t is being restored: CREATING, and no one may
// read or write its items (ResourceNotFoundException) until it is done.
func (t *Table) Restoring() bool { return t.Restore != nil && t.Restore.InProgress }

type pitrMeta struct {
	BaseAt int64 `json:"baseAt"` // ns stamp: the base holds every change stamped <= BaseAt
	Ready  bool  `json:"ready"`  // the base copy finished
}

const prefixBackup = byte(SpaceBackups)

func pitrKey(kind byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixBackup, kind}, id)
}

func historyKey(id uint32, ts int64, n uint16) []byte {
	k := binary.BigEndian.AppendUint64(pitrKey('h', id), uint64(ts))
	return binary.BigEndian.AppendUint16(k, n)
}

// stamp returns the next PITR stamp: the clock in nanoseconds, or one more
// than the last stamp when the clock has not moved past it.
func (db *DB) stamp() int64 {
	for {
		last := db.lastStamp.Load()
		n := db.now().UnixNano()
		if n <= last {
			n = last + 1
		}
		if db.lastStamp.CompareAndSwap(last, n) {
			return n
		}
	}
}

// appendHistory adds one change to the PITR history in b (write.go).
func appendHistory(b *pebble.Batch, id uint32, ts int64, n uint16, itemKey []byte, keys, nu attr.Item) error {
	k := itemKey[5:] // past the space and the table ID
	v := binary.AppendUvarint(make([]byte, 0, 64), uint64(len(k)))
	v = append(v, k...)
	if nu != nil {
		v = attr.AppendBinary(append(v, 's'), nu)
	} else {
		v = attr.AppendBinary(append(v, 'd'), keys)
	}
	return b.Set(historyKey(id, ts, n), v, nil)
}

// change is one decoded history entry.
type change struct {
	ts   int64
	key  []byte // relative item key (k)
	del  bool
	item []byte // attr binary: the new item, or the key attributes when del
}

func decodeChange(key, v []byte) (change, error) {
	if len(key) < 6+8 {
		return change{}, errors.New("store: corrupt PITR history key")
	}
	c := change{ts: int64(binary.BigEndian.Uint64(key[6:14]))}
	l, n := binary.Uvarint(v)
	if n <= 0 || uint64(len(v)-n) < l+1 {
		return change{}, errors.New("store: corrupt PITR history entry")
	}
	c.key = v[n : n+int(l)]
	c.del = v[n+int(l)] == 'd'
	c.item = v[n+int(l)+1:]
	return c, nil
}

func (db *DB) readMeta(r pebble.Reader, id uint32) (pitrMeta, bool, error) {
	v, closer, err := r.Get(pitrKey('m', id))
	if errors.Is(err, pebble.ErrNotFound) {
		return pitrMeta{}, false, nil
	}
	if err != nil {
		return pitrMeta{}, false, err
	}
	defer closer.Close()
	var m pitrMeta
	if err := json.Unmarshal(v, &m); err != nil {
		return pitrMeta{}, false, fmt.Errorf("store: corrupt PITR meta: %w", err)
	}
	return m, true, nil
}

func setMeta(b *pebble.Batch, id uint32, m pitrMeta) error {
	v, _ := json.Marshal(m)
	return b.Set(pitrKey('m', id), v, nil)
}

// deletePITR adds the removal of a table's base, history and meta to b.
func deletePITR(b *pebble.Batch, id uint32) error {
	for _, kind := range []byte{'h', 'b', 'm'} {
		if err := b.DeleteRange(pitrKey(kind, id), pitrKey(kind, id+1), nil); err != nil {
			return err
		}
	}
	return nil
}

// pitrLeft reports whether any base, history or meta key of table id is
// left.
func (db *DB) pitrLeft(id uint32) (bool, error) {
	for _, kind := range []byte{'h', 'b', 'm'} {
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: pitrKey(kind, id), UpperBound: pitrKey(kind, id+1)})
		if err != nil {
			return false, err
		}
		left := it.First()
		if err := it.Close(); err != nil || left {
			return left, err
		}
	}
	return false, nil
}

// SetPITR enables or disables point-in-time recovery of region's table
// name, or changes its recovery period (days, 1-35, validated by the
// caller). Enabling returns at once, as DynamoDB's UpdateContinuousBackups
// does: the table is copied into a base image in the background, from a
// snapshot taken with the change (writers are not held while it copies),
// and restores and exports of the table wait for the copy (WaitPITR). A
// crash during the copy restarts it at the next Open. Disabling deletes
// the history, as DynamoDB does. It returns the new descriptor.
func (db *DB) SetPITR(ctx context.Context, region, name string, enabled bool, days int) (_ *Table, err error) {
	db.pitrMu.Lock()
	defer db.pitrMu.Unlock()
	t, snap, err := db.setPITR(region, name, enabled, days)
	if err != nil || snap == nil {
		return t, err
	}
	db.startBaseCopy(t, snap)
	return t, nil
}

// baseCopies tracks the base copies running in the background, so that
// restores and exports can wait for the one they need.
type baseCopies struct {
	mu     sync.Mutex
	wake   chan struct{}   // closed (and replaced) when a copy ends
	failed map[int64]error // generation → why its copy failed
	// hook, when set (tests), runs before each batch of a copy commits; an
	// error ends the copy as a crash would.
	hook func(ctx context.Context) error
}

func (c *baseCopies) changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wake == nil {
		c.wake = make(chan struct{})
	}
	return c.wake
}

func (c *baseCopies) done(gen int64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if c.failed == nil {
			c.failed = map[int64]error{}
		}
		c.failed[gen] = err
	}
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
}

func (c *baseCopies) err(gen int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed[gen]
}

// generation identifies one enabling of PITR on a table: the stamp of its
// base (PITRSpec.Since), which a re-enabling changes.
func generation(t *Table) int64 { return t.PITR.Since.UnixNano() }

// startBaseCopy copies t into its base image in the background.
func (db *DB) startBaseCopy(t *Table, snap *pebble.Snapshot) {
	gen := generation(t)
	started := db.bg.Go("point-in-time recovery base copy "+t.Name, func(ctx context.Context) {
		defer snap.Close()
		start := time.Now()
		err := db.copyBase(ctx, snap, t, gen)
		switch {
		case err == nil:
			db.log.Info("point-in-time recovery enabled: base copy done", "table", t.Name, "region", t.Region, "took", time.Since(start))
			db.bases.done(gen, nil)
		case errors.Is(err, errTableGone), errors.Is(err, errStaleBase):
			db.bases.done(gen, nil) // deleted or disabled meanwhile: waiters look again
		case ctx.Err() != nil:
			db.bases.done(gen, nil) // closing: the next Open restarts it
		default:
			db.log.Error("point-in-time recovery: the base copy failed (it restarts at the next start)", "table", t.Name, "region", t.Region, "err", err)
			db.bases.done(gen, err)
		}
	})
	if !started {
		snap.Close() // closing: the next Open restarts it
	}
}

// WaitPITR waits until region's table name has its PITR base image (the
// copy SetPITR starts in the background), or ctx ends: nil once it has,
// PointInTimeRecoveryUnavailableException if PITR is not enabled, or the
// copy failed.
func (db *DB) WaitPITR(ctx context.Context, region, name string) error {
	for {
		wake := db.bases.changed()
		t := db.TableIn(region, name)
		if t == nil {
			return ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", name)
		}
		if !t.PITR.Enabled {
			return ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "Point in time recovery is not enabled for table '%s'", name)
		}
		m, ok, err := db.readMeta(db.pdb, t.ID)
		if err != nil {
			return err
		}
		if ok && m.Ready {
			return nil
		}
		if err := db.bases.err(generation(t)); err != nil {
			return ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "Point in time recovery of table '%s' failed to start: %v", name, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

func (db *DB) setPITR(region, name string, enabled bool, days int) (_ *Table, _ *pebble.Snapshot, err error) {
	defer db.catalogChanged(&err) // runs after the unlock below
	db.catMu.Lock()
	defer db.catMu.Unlock()
	key := tableKey{db.region(region), name}
	cur := db.tables[key]
	if cur == nil {
		return nil, nil, ddberr.TableNotFound(name)
	}
	t := cur.clone()
	b := db.pdb.NewBatch()
	defer b.Close()
	fresh := enabled && !cur.PITR.Enabled
	switch {
	case fresh:
		// No write is in flight (they hold catMu shared until their commit):
		// every later write is stamped after ts and sees PITR enabled, and
		// the snapshot below holds every earlier one.
		ts := db.stamp()
		t.PITR = PITRSpec{Enabled: true, Days: days, Since: time.Unix(0, ts).UTC()}
		// Only when something is left: a range deletion in the memtable
		// would overlap the base copy's ingest and force a flush.
		if left, err := db.pitrLeft(t.ID); err != nil {
			return nil, nil, err
		} else if left {
			if err := deletePITR(b, t.ID); err != nil {
				return nil, nil, err
			}
		}
		if err := setMeta(b, t.ID, pitrMeta{BaseAt: ts}); err != nil {
			return nil, nil, err
		}
	case enabled:
		t.PITR.Days = days
	default:
		t.PITR = PITRSpec{}
		if err := deletePITR(b, t.ID); err != nil {
			return nil, nil, err
		}
	}
	if err := putCatalog(b, t); err != nil {
		return nil, nil, err
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		return nil, nil, err
	}
	db.tables[key] = t
	if !fresh {
		return t, nil, nil
	}
	return t, db.pdb.NewSnapshot(), nil
}

// copyBase copies t's items from snap into its base image and marks the
// base ready. A crash before that leaves it not ready: Open's resumePITR
// starts over. Each batch commits only while the table still has this
// generation of PITR (commitBase).
func (db *DB) copyBase(ctx context.Context, snap *pebble.Snapshot, t *Table, gen int64) error {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: tablePrefix(prefixItem, t.ID), UpperBound: tablePrefix(prefixItem, t.ID+1)})
	if err != nil {
		return err
	}
	defer it.Close()
	if !db.byBatches {
		return db.copyBaseIngest(ctx, it, t, gen)
	}
	b := db.pdb.NewBatch()
	defer func() { b.Close() }()
	base := pitrKey('b', t.ID)
	pace := db.newPacer()
	for it.First(); it.Valid(); it.Next() {
		if err := b.Set(append(base[:len(base):len(base)], it.Key()[5:]...), it.Value(), nil); err != nil {
			return err
		}
		if b.Len() >= db.restoreBatch {
			if err := db.commitBase(ctx, b, t.ID, gen, pebble.NoSync); err != nil {
				return err
			}
			b.Close()
			b = db.pdb.NewBatch()
			if err := pace.rest(ctx); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	m, _, err := db.readMeta(db.pdb, t.ID)
	if err != nil {
		return err
	}
	m.Ready = true
	if err := setMeta(b, t.ID, m); err != nil {
		return err
	}
	return db.commitBase(ctx, b, t.ID, gen, db.writeOpts)
}

// errStaleBase ends a base copy whose enabling was undone (PITR disabled,
// or disabled and enabled again) while it ran.
var errStaleBase = errors.New("store: point-in-time recovery was disabled during its base copy")

// commitBase commits a batch of generation gen's base copy of table id,
// only if the table (this incarnation) still has that generation of PITR:
// under the catalog lock shared, so a SetPITR or DeleteTable (which hold
// it exclusively) either runs after and deletes what the batch wrote, or
// ran before and the batch is dropped.
func (db *DB) commitBase(ctx context.Context, b *pebble.Batch, id uint32, gen int64, o *pebble.WriteOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if hook := db.bases.hook; hook != nil {
		if err := hook(ctx); err != nil {
			return err
		}
	}
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	for _, t := range db.tables {
		if t.ID == id {
			if !t.PITR.Enabled || generation(t) != gen {
				return errStaleBase
			}
			return db.commit(b, o)
		}
	}
	return errTableGone
}

// errTableGone ends a base copy or a fold whose table was deleted.
var errTableGone = errors.New("store: table deleted")

// commitPITR commits a batch of a table's base or history upkeep (or of a
// restore into it) only if
// the table (this incarnation) still exists, under the catalog lock shared:
// DeleteTable, which holds it exclusively, then either runs after and
// deletes what the batch wrote, or ran before and the batch is dropped, so
// nothing of a deleted table is left behind.
func (db *DB) commitPITR(b *pebble.Batch, id uint32, o *pebble.WriteOptions) error {
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	for _, t := range db.tables {
		if t.ID == id {
			return db.commit(b, o)
		}
	}
	return errTableGone
}

// resumePITR, at Open, restarts the enabling of PITR on every table whose
// base copy a crash interrupted (its earliest restorable time moves to
// now), drops the tables a crash left half restored, and sets the stamp
// past every stamp in the history, so a clock that went back cannot stamp
// a change before one already recorded.
func (db *DB) resumePITR(ctx context.Context) error {
	b := db.pdb.NewBatch()
	err := b.DeleteRange(scratchAll[0], scratchAll[1], nil)
	if err == nil {
		err = db.commit(b, pebble.NoSync)
	}
	b.Close()
	if err != nil {
		return err
	}
	for _, t := range db.Tables() {
		if t.Restoring() {
			db.log.Warn("a restore was interrupted: its table is dropped", "table", t.Name, "region", t.Region)
			if _, err := db.DeleteTableIn(t.Region, t.Name); err != nil {
				return err
			}
			continue
		}
		if !t.PITR.Enabled {
			continue
		}
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: pitrKey('h', t.ID), UpperBound: pitrKey('h', t.ID+1)})
		if err != nil {
			return err
		}
		if it.Last() {
			if c, err := decodeChange(it.Key(), it.Value()); err == nil && c.ts > db.lastStamp.Load() {
				db.lastStamp.Store(c.ts)
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
		m, ok, err := db.readMeta(db.pdb, t.ID)
		if err != nil {
			return err
		}
		if m.BaseAt > db.lastStamp.Load() {
			db.lastStamp.Store(m.BaseAt)
		}
		if ok && m.Ready {
			continue
		}
		db.log.Warn("enabling point-in-time recovery was interrupted: starting over in the background", "table", t.Name, "region", t.Region)
		if _, err := db.SetPITR(ctx, t.Region, t.Name, false, 0); err != nil {
			return err
		}
		if _, err := db.SetPITR(ctx, t.Region, t.Name, true, t.PITR.Days); err != nil {
			return err
		}
	}
	return nil
}

// PITRWindow returns the instants a table can be restored to: from the
// later of when PITR was enabled and the start of the recovery period, to
// now (every acknowledged write is in the history at once). ok is false
// when PITR is disabled.
func (db *DB) PITRWindow(t *Table) (earliest, latest time.Time, ok bool) {
	if !t.PITR.Enabled {
		return time.Time{}, time.Time{}, false
	}
	now := db.now().UTC()
	earliest = now.Add(-time.Duration(t.PITR.Days) * 24 * time.Hour)
	if t.PITR.Since.After(earliest) {
		earliest = t.PITR.Since
	}
	return earliest, now, true
}

// CompactPITR folds, for every table with PITR, the changes older than its
// recovery period into its base image and deletes them. It runs every
// minute in the background (Open); tests call it directly.
func (db *DB) CompactPITR(ctx context.Context) error {
	db.pitrMu.Lock()
	defer db.pitrMu.Unlock()
	for _, t := range db.Tables() {
		if !t.PITR.Enabled {
			continue
		}
		earliest, _, _ := db.PITRWindow(t)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			more, err := db.foldStep(t.ID, earliest.UnixNano())
			if err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	return nil
}

// foldSteps bounds one fold batch (changes); a step always ends at a stamp
// boundary, so a transaction is folded whole.
const foldStep = 10000

func (db *DB) foldStep(id uint32, cutoff int64) (more bool, err error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return false, nil
	}
	m, ok, err := db.readMeta(db.pdb, id)
	if err != nil || !ok || !m.Ready || cutoff <= m.BaseAt {
		return false, err
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: historyKey(id, m.BaseAt+1, 0), UpperBound: historyKey(id, cutoff+1, 0)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	b := db.pdb.NewBatch()
	defer b.Close()
	base := pitrKey('b', id)
	n, last := 0, m.BaseAt
	for it.First(); it.Valid(); it.Next() {
		c, err := decodeChange(it.Key(), it.Value())
		if err != nil {
			return false, err
		}
		if n >= foldStep && c.ts != last {
			more = true
			break
		}
		bk := append(base[:len(base):len(base)], c.key...)
		if c.del {
			err = b.Delete(bk, nil)
		} else {
			err = b.Set(bk, c.item, nil)
		}
		if err != nil {
			return false, err
		}
		n++
		last = c.ts
	}
	if err := it.Error(); err != nil {
		return false, err
	}
	if !more {
		last = cutoff // the base now stands for the table as of the cutoff
	}
	if err := b.DeleteRange(historyKey(id, m.BaseAt+1, 0), historyKey(id, last+1, 0), nil); err != nil {
		return false, err
	}
	m.BaseAt = last
	if err := setMeta(b, id, m); err != nil {
		return false, err
	}
	if err := db.commitPITR(b, id, db.writeOpts); errors.Is(err, errTableGone) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return more, nil
}

// pitrLoop compacts every minute.
func (db *DB) pitrLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
		if err := db.CompactPITR(ctx); err != nil && ctx.Err() == nil {
			db.log.Error("point-in-time recovery compaction failed", "err", err)
		}
	}
}

// pinned is a consistent view of one table's PITR data: a Pebble snapshot
// taken after every write stamped up to its instant committed.
type pinned struct {
	db   *DB
	snap *pebble.Snapshot
	t    *Table
	meta pitrMeta
}

// checkAsOf checks that at is within the recovery window of region's
// table name, as its descriptor says (the base copy may still run).
func (db *DB) checkAsOf(region, name string, at time.Time) error {
	t := db.TableIn(region, name)
	if t == nil {
		return ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", name)
	}
	earliest, latest, ok := db.PITRWindow(t)
	if !ok {
		return ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "Point in time recovery is not enabled for table '%s'", name)
	}
	if at.Before(earliest) || at.After(latest) {
		return invalidRestoreTime(earliest, latest)
	}
	return nil
}

func invalidRestoreTime(earliest, latest time.Time) error {
	return ddberr.New(ddberr.KindInvalidRestoreTime, "Invalid restore time specified. RestoreDateTime must be between %s and %s",
		earliest.Format(time.RFC3339Nano), latest.Format(time.RFC3339Nano))
}

// pinAsOf checks that at is restorable for region's table name and pins
// the data that restores it, once the table's base copy is done
// (WaitPITR). Close the snapshot.
func (db *DB) pinAsOf(ctx context.Context, region, name string, at time.Time) (*pinned, error) {
	if err := db.checkAsOf(region, name, at); err != nil {
		return nil, err
	}
	if err := db.WaitPITR(ctx, region, name); err != nil {
		return nil, err
	}
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	// A write takes its stamp and commits under catMu shared: once the
	// exclusive lock is ours, every write stamped so far has committed and
	// every later one is stamped after now.
	db.catMu.Lock()
	t := db.tables[tableKey{db.region(region), name}]
	snap := db.pdb.NewSnapshot()
	db.catMu.Unlock()
	if t == nil {
		snap.Close()
		return nil, ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", name)
	}
	earliest, latest, ok := db.PITRWindow(t)
	if !ok {
		snap.Close()
		return nil, ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "Point in time recovery is not enabled for table '%s'", name)
	}
	m, _, err := db.readMeta(snap, t.ID)
	if err != nil {
		snap.Close()
		return nil, err
	}
	if !m.Ready {
		snap.Close()
		return nil, ddberr.New(ddberr.KindPointInTimeRecoveryUnavailable, "Point in time recovery is being enabled for table '%s'", name)
	}
	if at.Before(earliest) || at.After(latest) || at.UnixNano() < m.BaseAt {
		snap.Close()
		return nil, invalidRestoreTime(earliest, latest)
	}
	return &pinned{db: db, snap: snap, t: t, meta: m}, nil
}

// A reader of the history (a restore, an export) needs the last change
// of each item in a stretch of it, in item-key order, so that it overlays
// the changes on the base (or compares two instants) in one merged pass,
// whatever the number of items changed, instead of holding them in memory.
// The changes are sorted by an extSorter (ingest.go: runs of at most
// sortMem bytes spilled to <data dir>/ingest-tmp, merged; equal keys in
// history order), not written into the database, so they cost the writers'
// WAL and memtable nothing; each value is
//
//	<ts:8> <op> <item>   (as a change: op 's' or 'd')
//
// With Options.RestoreByBatches they are written into a scratch range
// 0x60 'x' <id:8> <k> instead (lastChangesScratch, as before ingests);
// Open deletes any a crash left there.

var scratchAll = [2][]byte{{prefixBackup, 'x'}, {prefixBackup, 'y'}}

// lastChanges sorts the last change of each item of the pinned table's
// history stamped in (lo, hi], and returns them in item-key order (keys
// relative); release removes the sort's files.
func (p *pinned) lastChanges(ctx context.Context, lo, hi int64) (ci changeIter, release func(), err error) {
	db := p.db
	if db.byBatches {
		return p.lastChangesScratch(ctx, lo, hi)
	}
	l, err := db.newLoader()
	if err != nil {
		return nil, func() {}, err
	}
	var sorted *sortedIter
	release = func() {
		if sorted != nil {
			sorted.close()
		}
		l.close()
	}
	hi2 := hi
	if hi2 < lo {
		hi2 = lo
	}
	it, err := p.snap.NewIter(&pebble.IterOptions{LowerBound: historyKey(p.t.ID, lo+1, 0), UpperBound: historyKey(p.t.ID, hi2+1, 0)})
	if err != nil {
		return nil, release, err
	}
	defer it.Close()
	s := l.sorter(db.sortMem).lastOnly()
	pace := db.newPacer()
	var v []byte
	worked := 0
	for it.First(); it.Valid(); it.Next() {
		c, err := decodeChange(it.Key(), it.Value())
		if err != nil {
			return nil, release, err
		}
		op := byte('s')
		if c.del {
			op = 'd'
		}
		v = binary.BigEndian.AppendUint64(v[:0], uint64(c.ts))
		v = append(append(v, op), c.item...)
		if err := s.add(c.key, v); err != nil {
			return nil, release, err
		}
		if worked += len(c.key) + len(v); worked >= db.restoreBatch {
			worked = 0
			if err := ctx.Err(); err != nil {
				return nil, release, err
			}
			if err := pace.rest(ctx); err != nil {
				return nil, release, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, release, err
	}
	if sorted, err = s.iter(); err != nil {
		return nil, release, err
	}
	li := newLastIter(sorted)
	return li, release, li.Error()
}

// lastChangesScratch is lastChanges as it was before restores were
// ingested (Options.RestoreByBatches): the last change of each item
// written into a scratch range 0x60 'x' <id:8> <k> through batches (so
// through the WAL and the memtable the writers use), and read back;
// release deletes it.
func (p *pinned) lastChangesScratch(ctx context.Context, lo, hi int64) (ci changeIter, release func(), err error) {
	var prefix []byte
	db := p.db
	id := db.scratchSeq.Add(1)
	prefix = binary.BigEndian.AppendUint64([]byte{prefixBackup, 'x'}, id)
	end := binary.BigEndian.AppendUint64([]byte{prefixBackup, 'x'}, id+1)
	release = func() {
		b := db.pdb.NewBatch()
		defer b.Close()
		if err := b.DeleteRange(prefix, end, nil); err == nil {
			_ = db.commit(b, pebble.NoSync)
		}
	}
	hi2 := hi
	if hi2 < lo {
		hi2 = lo
	}
	it, err := p.snap.NewIter(&pebble.IterOptions{LowerBound: historyKey(p.t.ID, lo+1, 0), UpperBound: historyKey(p.t.ID, hi2+1, 0)})
	if err != nil {
		return nil, release, err
	}
	defer it.Close()
	b := db.pdb.NewBatch()
	defer func() { b.Close() }()
	pace := db.newPacer()
	for it.First(); it.Valid(); it.Next() {
		c, err := decodeChange(it.Key(), it.Value())
		if err != nil {
			return nil, release, err
		}
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 9+len(c.item)), uint64(c.ts))
		op := byte('s')
		if c.del {
			op = 'd'
		}
		v = append(append(v, op), c.item...)
		if err := b.Set(append(prefix[:len(prefix):len(prefix)], c.key...), v, nil); err != nil {
			return nil, release, err
		}
		if b.Len() >= db.restoreBatch {
			if err := ctx.Err(); err != nil {
				return nil, release, err
			}
			if err := db.commit(b, pebble.NoSync); err != nil {
				return nil, release, err
			}
			b.Close()
			b = db.pdb.NewBatch()
			if err := pace.rest(ctx); err != nil {
				return nil, release, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, release, err
	}
	if err := db.commit(b, pebble.NoSync); err != nil {
		return nil, release, err
	}
	pi, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: end})
	if err != nil {
		return nil, release, err
	}
	deleteScratch := release
	release = func() {
		_ = pi.Close()
		deleteScratch()
	}
	pi.First()
	return scratchIter{pi, len(prefix)}, release, nil
}

// scratchIter reads a scratch range with its keys relative.
type scratchIter struct {
	*pebble.Iterator
	n int
}

func (s scratchIter) Key() []byte { return s.Iterator.Key()[s.n:] }

// changeIter is the last change of each item, in key order, positioned
// on the first: a lastIter or a scratchIter.
type changeIter interface {
	Valid() bool
	Key() []byte
	Value() []byte
	Next() bool
	Error() error
}

// scratchEntry is one decoded scratch value.
func scratchEntry(v []byte) (ts int64, del bool, item []byte) {
	return int64(binary.BigEndian.Uint64(v)), v[8] == 'd', v[9:]
}

// each calls fn with every item of the pinned table as of at, in key order
// (k is the relative item key, item its attr binary encoding; both valid
// only during the call): the base merged with the last change of each item
// changed between the base and at (lastChanges: memory does not grow
// with the number of changes).
func (p *pinned) each(ctx context.Context, at int64, fn func(k, item []byte) error) error {
	ci, release, err := p.lastChanges(ctx, p.meta.BaseAt, at)
	defer release()
	if err != nil {
		return err
	}
	emitChange := func() error {
		_, del, item := scratchEntry(ci.Value())
		if del {
			return nil
		}
		return fn(ci.Key(), item)
	}
	base := pitrKey('b', p.t.ID)
	bi, err := p.snap.NewIter(&pebble.IterOptions{LowerBound: base, UpperBound: pitrKey('b', p.t.ID+1)})
	if err != nil {
		return err
	}
	defer bi.Close()
	n := 0
	for bi.First(); bi.Valid(); bi.Next() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		k := bi.Key()[len(base):]
		for ci.Valid() && bytes.Compare(ci.Key(), k) < 0 {
			if err := emitChange(); err != nil {
				return err
			}
			ci.Next()
		}
		if ci.Valid() && bytes.Equal(ci.Key(), k) {
			if err := emitChange(); err != nil {
				return err
			}
			ci.Next()
			continue
		}
		if err := fn(k, bi.Value()); err != nil {
			return err
		}
	}
	if err := bi.Error(); err != nil {
		return err
	}
	for ; ci.Valid(); ci.Next() {
		if err := emitChange(); err != nil {
			return err
		}
	}
	return ci.Error()
}

// ItemDiff is an item changed in a period: its image at the start (Old,
// nil when it did not exist) and at the end (New, nil when deleted by
// then), its key attributes, and the time of its last change.
type ItemDiff struct {
	Time     time.Time
	Keys     attr.Item
	Old, New attr.Item
}

// ChangedItems calls fn, in the table's key order, with every item of
// region's table name changed after from and at or before to, once, from
// one consistent view. Both instants must be within the table's PITR
// window. Memory does not grow with the number of changes (lastChanges
// sorts them in bounded memory). For incremental exports.
func (db *DB) ChangedItems(ctx context.Context, region, name string, from, to time.Time, fn func(ItemDiff) error) error {
	if to.Before(from) {
		return ddberr.New(ddberr.KindInvalidRestoreTime, "the end of the period is before its start")
	}
	p, err := db.pinAsOf(ctx, region, name, to)
	if err != nil {
		return err
	}
	defer p.snap.Close()
	if earliest, _, _ := db.PITRWindow(p.t); from.Before(earliest) || from.UnixNano() < p.meta.BaseAt {
		return ddberr.New(ddberr.KindInvalidRestoreTime, "Invalid restore time specified: %s is before the earliest restorable time %s",
			from.Format(time.RFC3339Nano), earliest.Format(time.RFC3339Nano))
	}
	ci, release, err := p.lastChanges(ctx, from.UnixNano(), to.UnixNano())
	defer release()
	if err != nil {
		return err
	}
	emit := func(old []byte) error {
		ts, del, raw := scratchEntry(ci.Value())
		item, err := attr.DecodeBinary(raw)
		if err != nil {
			return err
		}
		d := ItemDiff{Time: time.Unix(0, ts).UTC()}
		if del {
			d.Keys = item
		} else {
			d.Keys, d.New = p.t.KeyOf(item), item
		}
		if old != nil {
			if d.Old, err = attr.DecodeBinary(old); err != nil {
				return err
			}
		}
		return fn(d)
	}
	// The images at from, merged with the changed items in key order.
	err = p.each(ctx, from.UnixNano(), func(k, item []byte) error {
		for ci.Valid() && bytes.Compare(ci.Key(), k) < 0 {
			if err := emit(nil); err != nil {
				return err
			}
			ci.Next()
		}
		if ci.Valid() && bytes.Equal(ci.Key(), k) {
			if err := emit(item); err != nil {
				return err
			}
			ci.Next()
		}
		return nil
	})
	if err != nil {
		return err
	}
	for ; ci.Valid(); ci.Next() {
		if err := emit(nil); err != nil {
			return err
		}
	}
	return ci.Error()
}

// TableAsOf calls fn with every item of region's table name as it was at
// the instant at, in the table's key order (hash of the partition key, then
// sort key), from one consistent view. at must be within the table's PITR
// window (PITRWindow): otherwise PointInTimeRecoveryUnavailableException
// or InvalidRestoreTimeException. For exports at a past instant.
func (db *DB) TableAsOf(ctx context.Context, region, name string, at time.Time, fn func(attr.Item) error) error {
	p, err := db.pinAsOf(ctx, region, name, at)
	if err != nil {
		return err
	}
	defer p.snap.Close()
	return p.each(ctx, at.UnixNano(), func(_, raw []byte) error {
		it, err := attr.DecodeBinary(raw)
		if err != nil {
			return err
		}
		return fn(it)
	})
}

// pacer spaces the batches of a restore or a base copy
// (Options.RestoreShare): rest pauses for the time worked since the last
// rest × (1-share)/share.
type pacer struct {
	share float64
	since time.Time
}

func (db *DB) newPacer() *pacer { return &pacer{share: db.restoreShare, since: time.Now()} }

func (p *pacer) rest(ctx context.Context) error {
	if p.share < 1 {
		pause := time.Duration(float64(time.Since(p.since)) * (1 - p.share) / p.share)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	p.since = time.Now()
	return nil
}

// RestoreAsOf creates the table spec (validated by the caller, with the
// overrides applied; its Region and Name are the target's) and fills it, in
// the background, with region's table name as of at: it is CREATING
// (Restore.InProgress) until then, and writes to it fail with
// ResourceNotFoundException. Restored items produce no stream records.
// The target must not exist (TableAlreadyExistsException). A restore
// requested while the source's base copy runs (PITR just enabled) is
// accepted and waits for it in the background.
func (db *DB) RestoreAsOf(region, name string, at time.Time, spec *Table) (*Table, error) {
	if err := db.checkAsOf(region, name, at); err != nil {
		return nil, err
	}
	spec.Restore = &RestoreInfo{SourceTableArn: spec.Restore.SourceTableArn, At: at.UTC(), InProgress: true}
	t, err := db.createRestoring(spec)
	if err != nil {
		return nil, err
	}
	db.bg.Go("restore "+t.Name, func(ctx context.Context) {
		p, err := db.pinAsOf(ctx, region, name, at) // before fill: it holds closeMu
		if err == nil {
			defer p.snap.Close()
		}
		db.finishRestore(ctx, t, func(fn func(k, item []byte) error) error {
			if err != nil {
				return err
			}
			return p.each(ctx, at.UnixNano(), fn)
		})
	})
	return t, nil
}

func (db *DB) createRestoring(spec *Table) (*Table, error) {
	if db.TableIn(spec.Region, spec.Name) != nil {
		return nil, ddberr.New(ddberr.KindTableAlreadyExists, "Table already exists: %s", spec.Name)
	}
	for i := range spec.Indexes {
		spec.Indexes[i].Status, spec.Indexes[i].Backfilling = "ACTIVE", false
	}
	t, err := db.CreateTable(spec)
	if errors.Is(err, ddberr.ResourceInUse) {
		return nil, ddberr.New(ddberr.KindTableAlreadyExists, "Table already exists: %s", spec.Name)
	}
	return t, err
}

// finishRestore fills t from source and marks it restored; on failure
// (or the DB closing) the half-restored table is dropped.
func (db *DB) finishRestore(ctx context.Context, t *Table, source func(fn func(k, item []byte) error) error) {
	err := db.fill(ctx, t, source)
	if err == nil && db.restoreHook != nil {
		err = db.restoreHook(ctx)
	}
	if err == nil {
		_, err = db.UpdateTableIn(t.Region, t.Name, func(nt *Table) error {
			if nt.ID != t.ID {
				return ddberr.NotFound()
			}
			nt.Restore.InProgress = false
			return nil
		})
	}
	if err == nil {
		return
	}
	if ctx.Err() == nil {
		db.log.Error("restore failed: the table is dropped", "table", t.Name, "region", t.Region, "err", err)
		_, _ = db.DeleteTableIn(t.Region, t.Name)
	}
	// On close, Open's resumePITR drops it.
}

// fill writes source's items into t (empty, CREATING, so no one else
// writes it) with their index entries and statistics, in batches, outside
// DB.Write: no change log sees them.
func (db *DB) fill(ctx context.Context, t *Table, source func(fn func(k, item []byte) error) error) error {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	if !db.byBatches {
		return db.fillIngest(ctx, t, source)
	}
	b := db.pdb.NewBatch()
	defer func() { b.Close() }()
	var count, size int64
	flush := func(sync bool) error {
		if count != 0 || size != 0 {
			if err := b.Merge(statsKey(t.ID), encodeStats(count, size), nil); err != nil {
				return err
			}
		}
		o := pebble.NoSync
		if sync {
			o = db.writeOpts
		}
		// Not into a table deleted meanwhile: its range is deleted once.
		if err := db.commitPITR(b, t.ID, o); err != nil {
			return err
		}
		b.Close()
		b = db.pdb.NewBatch()
		count, size = 0, 0
		return nil
	}
	prefix := tablePrefix(prefixItem, t.ID)
	pace := db.newPacer()
	err := source(func(k, raw []byte) error {
		it, err := attr.DecodeBinary(raw)
		if err != nil {
			return err
		}
		if err := b.Set(append(prefix[:len(prefix):len(prefix)], k...), raw, nil); err != nil {
			return err
		}
		count++
		size += int64(attr.ItemSize(it))
		if err := db.indexEntries(b, t, nil, it); err != nil {
			return err
		}
		if b.Len() >= db.restoreBatch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := flush(false); err != nil {
				return err
			}
			return pace.rest(ctx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush(true)
}

// PITRUsage returns the disk space of t's PITR history and base image, as
// Pebble estimates it for their key ranges after flushing the memtables
// (figures for the documentation and the bench harness).
func (db *DB) PITRUsage(t *Table) (history, base uint64, err error) {
	if err := db.pdb.Flush(); err != nil {
		return 0, 0, err
	}
	if history, err = db.pdb.EstimateDiskUsage(pitrKey('h', t.ID), pitrKey('h', t.ID+1)); err != nil {
		return 0, 0, err
	}
	base, err = db.pdb.EstimateDiskUsage(pitrKey('b', t.ID), pitrKey('b', t.ID+1))
	return history, base, err
}
