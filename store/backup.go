package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/eddydb/eddy/internal/ddberr"
)

// On-demand backups are Pebble checkpoints restricted to the table's key
// range, in <data dir>/backups/<id>/: Pebble hard-links the immutable
// files that hold the range (and copies the WAL that holds what is not yet
// flushed), so taking one costs a few milliseconds and no copy of the data,
// never blocks writers, and is consistent as of one instant (a checkpoint
// is the state after a prefix of the committed batches). The files are
// shared with the live database until its compactions rewrite them; from
// then on the backup holds its own copy of what it needs. A restore opens
// the checkpoint read-only and writes its items into the new table.
//
// Each backup's descriptor is a key of space 0x60:
//
//	0x60 'k' <id>  → Backup (JSON)
//
// A checkpoint restricted to spans can hold keys outside them (files that
// straddle the range); a restore reads only the table's own range.

// Backup describes an on-demand backup.
type Backup struct {
	ID        string    `json:"id"` // <ms since epoch:14 digits>-<8 hex>, as DynamoDB's
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	Table     *Table    `json:"table"` // the table's descriptor when backed up
	Created   time.Time `json:"created"`
	Items     int64     `json:"items"`
	Bytes     int64     `json:"bytes"`
	Dir       string    `json:"dir"` // the checkpoint, relative to the data directory
	Type      string    `json:"type"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

func backupKey(id string) []byte { return append([]byte{prefixBackup, 'k'}, id...) }

// CreateBackup takes an on-demand backup of region's table named table.
func (db *DB) CreateBackup(region, table, name string) (*Backup, error) {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return nil, ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	t := db.TableIn(region, table)
	if t == nil {
		return nil, ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", table)
	}
	if t.Restoring() {
		return nil, ddberr.New(ddberr.KindTableInUse, "Table is being restored: %s", table)
	}
	// No lock: a write is one Pebble batch, so the checkpoint (a prefix of
	// the committed batches) holds each whole or not, and every write
	// acknowledged before now is in it. (Taking the catalog lock here, as
	// eddy did, paused every writer until the writes in flight had synced.)
	now := db.now().UTC()
	// ItemCount and TableSizeBytes of the backup are the table's as of now,
	// read here rather than from the checkpoint (opening it replays the WAL
	// it copied): approximate by the writes that commit before the
	// checkpoint, as DynamoDB documents them ("an approximate value",
	// SourceTableDetails).
	items, size, err := db.Stats(t)
	if err != nil {
		return nil, err
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	id := fmt.Sprintf("%014d-%s", now.UnixMilli(), hex.EncodeToString(rnd[:]))
	rel := db.fs.PathJoin("backups", id)
	dir := db.fs.PathJoin(db.dir, rel)
	if err := db.pdb.Checkpoint(dir, pebble.WithFlushedWAL(), pebble.WithRestrictToSpans([]pebble.CheckpointSpan{
		{Start: tablePrefix(prefixItem, t.ID), End: tablePrefix(prefixItem, t.ID+1)},
		{Start: statsKey(t.ID), End: statsKey(t.ID + 1)},
	})); err != nil {
		return nil, fmt.Errorf("store: backup checkpoint: %w", err)
	}
	bk := &Backup{ID: id, Name: name, Region: t.Region, Table: t, Created: now, Dir: rel, Type: "USER", Items: items, Bytes: size}
	if err := db.putBackup(bk); err != nil {
		_ = db.fs.RemoveAll(dir)
		return nil, err
	}
	return bk, nil
}

func (db *DB) putBackup(bk *Backup) error {
	v, err := json.Marshal(bk)
	if err != nil {
		return err
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Set(backupKey(bk.ID), v, nil); err != nil {
		return err
	}
	return db.commit(b, db.writeOpts)
}

// readBackup opens a backup's checkpoint read-only for fn.
func (db *DB) readBackup(bk *Backup, fn func(r pebble.Reader) error) error {
	cdb, err := pebble.Open(db.fs.PathJoin(db.dir, bk.Dir), &pebble.Options{FS: db.fs, ReadOnly: true, Merger: statsMerger,
		Logger: pebbleLogger{log: db.log.With("component", "pebble", "backup", bk.ID), h: &health{log: db.log}}})
	if err != nil {
		return fmt.Errorf("store: open backup %s: %w", bk.ID, err)
	}
	err = fn(cdb)
	if cerr := cdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// Backups returns every backup of every region, oldest first.
func (db *DB) Backups() ([]*Backup, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixBackup, 'k'}, UpperBound: []byte{prefixBackup, 'l'}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*Backup
	for it.First(); it.Valid(); it.Next() {
		bk := new(Backup)
		if err := json.Unmarshal(it.Value(), bk); err != nil {
			return nil, fmt.Errorf("store: corrupt backup %q: %w", it.Key(), err)
		}
		out = append(out, bk)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, it.Error()
}

// BackupByID returns a backup, or nil.
func (db *DB) BackupByID(id string) (*Backup, error) {
	v, closer, err := db.pdb.Get(backupKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	bk := new(Backup)
	return bk, json.Unmarshal(v, bk)
}

// DeleteBackup removes a backup and its checkpoint; BackupInUseException
// while a restore reads it.
func (db *DB) DeleteBackup(id string) (*Backup, error) {
	db.backupMu.Lock()
	defer db.backupMu.Unlock()
	bk, err := db.BackupByID(id)
	if err != nil || bk == nil {
		return nil, err
	}
	if db.inUse[id] > 0 {
		return nil, ddberr.New(ddberr.KindBackupInUse, "Backup is being used to restore a table: %s", id)
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Delete(backupKey(id), nil); err != nil {
		return nil, err
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		return nil, err
	}
	return bk, db.fs.RemoveAll(db.fs.PathJoin(db.dir, bk.Dir))
}

// RestoreBackup creates the table spec (validated by the caller, with the
// overrides applied; spec.Restore names the source) and fills it in the
// background from the backup, as RestoreAsOf does.
func (db *DB) RestoreBackup(bk *Backup, spec *Table) (*Table, error) {
	db.backupMu.Lock()
	if cur, err := db.BackupByID(bk.ID); err != nil || cur == nil {
		db.backupMu.Unlock()
		if err == nil {
			err = ddberr.New(ddberr.KindBackupNotFound, "Backup not found: %s", bk.ID)
		}
		return nil, err
	}
	db.inUse[bk.ID]++
	db.backupMu.Unlock()
	release := func() {
		db.backupMu.Lock()
		db.inUse[bk.ID]--
		db.backupMu.Unlock()
	}
	spec.Restore = &RestoreInfo{SourceBackupArn: spec.Restore.SourceBackupArn, SourceTableArn: spec.Restore.SourceTableArn,
		At: bk.Created, InProgress: true}
	t, err := db.createRestoring(spec)
	if err != nil {
		release()
		return nil, err
	}
	srcID := bk.Table.ID
	db.bg.Go("restore "+t.Name, func(ctx context.Context) {
		defer release()
		db.finishRestore(ctx, t, func(fn func(k, item []byte) error) error {
			return db.readBackup(bk, func(r pebble.Reader) error {
				lo := tablePrefix(prefixItem, srcID)
				it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: tablePrefix(prefixItem, srcID+1)})
				if err != nil {
					return err
				}
				defer it.Close()
				for it.First(); it.Valid(); it.Next() {
					if err := fn(it.Key()[len(lo):], it.Value()); err != nil {
						return err
					}
				}
				return it.Error()
			})
		})
	})
	return t, nil
}

// Checkpoint writes an online, consistent copy of the whole database into
// dir (which must not exist), from which Open starts: Pebble's checkpoint
// (hard links where dir is on the same filesystem, copies otherwise), the
// marker file, and the on-demand backups' checkpoints. Writers are not
// blocked. Other files of the data directory (a search sink's index, the
// embedded nats-server's JetStream store, the trigger host's compiled-code
// cache) are not copied.
func (db *DB) Checkpoint(dir string) error {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return ddberr.New(ddberr.KindServiceUnavailable, "")
	}
	// Backups listed in this checkpoint's catalog must have their files:
	// no backup is created or deleted meanwhile.
	db.backupMu.Lock()
	defer db.backupMu.Unlock()
	if err := db.pdb.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if db.id != "" {
		m, err := readMarker(db.fs, db.dir)
		if err != nil {
			return err
		}
		if err := writeMarker(db.fs, dir, m); err != nil {
			return err
		}
	}
	bks, err := db.Backups()
	if err != nil {
		return err
	}
	for _, bk := range bks {
		src, dst := db.fs.PathJoin(db.dir, bk.Dir), db.fs.PathJoin(dir, bk.Dir)
		if err := db.fs.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		names, err := db.fs.List(src)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := vfs.LinkOrCopy(db.fs, db.fs.PathJoin(src, n), db.fs.PathJoin(dst, n)); err != nil {
				return err
			}
		}
	}
	return nil
}
