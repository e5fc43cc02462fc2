package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/lifecycle"
)

// Options configure a DB. Zero values mean the documented defaults.
type Options struct {
	// Dir is the data directory. Required unless InMemory.
	Dir string
	// InMemory keeps everything on an in-memory filesystem (tests, throwaway
	// development); Dir is then ignored. Data is gone when the DB closes.
	InMemory bool
	// FS overrides the filesystem (fault injection in tests). Default: the
	// OS filesystem, or a memory filesystem when InMemory. The data
	// directory's removal is watched only when FS is (or wraps) the OS
	// filesystem.
	FS vfs.FS
	// NoSync skips the WAL fsync on commit. Default false: every
	// acknowledged write is durable. Only benchmarks that measure the
	// engine without the disk set this; eddy serve never does.
	NoSync bool
	// CacheSize is Pebble's block cache in bytes. Default 64 MiB.
	CacheSize int64
	// WALMinSyncInterval is the shortest time between two WAL fsyncs:
	// commits arriving meanwhile wait and share the next sync (group
	// commit), trading up to this much latency per write for fewer syncs.
	// Default 0 (sync as soon as a commit asks); EDDY_WAL_MIN_SYNC (a Go
	// duration) overrides it for experiments.
	WALMinSyncInterval time.Duration
	// Logger is where background failures, Pebble's errors and the failed
	// state are logged; nil discards.
	Logger *slog.Logger
	// StallUnhealthy is how long commits may wait in Pebble with none
	// finishing before Health reports a *StallError (the server is not
	// ready; writes are not refused). Default DefaultStallUnhealthy;
	// negative disables the check.
	StallUnhealthy time.Duration
	// Init creates a new database in a missing directory (made with its
	// parents), or an empty one, and refuses a directory that holds
	// anything. Default false: a missing directory is refused (it may have
	// been deleted), an empty one gets a new database, an eddy database is
	// opened. See prepareDir for every rule.
	Init bool
	// Region is the home region of a data directory that has none yet:
	// the region its region-less entries (tables created before eddy knew
	// regions) are moved into by Open, once, and where an empty region
	// means. Recorded at the first Open; later values are ignored (see
	// HomeRegion). Default "us-east-1".
	Region string
	// Now is the clock of point-in-time recovery (the stamps of the PITR
	// history, the recovery window); tests inject one. Default time.Now.
	Now func() time.Time
	// RestoreBatchBytes is the size of the batches restores and PITR base
	// copies commit. Default 256 KiB: well under Pebble's large-batch
	// threshold (half a memtable), so a batch neither rotates the memtable
	// nor holds writers' commits behind a long WAL write.
	// EDDY_RESTORE_BATCH (bytes) overrides it for experiments.
	RestoreBatchBytes int
	// RestoreShare is the share of its time a restore or a PITR base copy
	// may spend working: after each batch it pauses for its working time
	// × (1-share)/share, leaving the rest of the CPU and disk to writers.
	// Default 0.1 (restores ingested as sstables are 2-2.7 times faster
	// than the batches they were; at a tenth of the time writers lose about
	// half as much as at a quarter: README's figures); 1 never pauses. EDDY_RESTORE_SHARE overrides it for
	// experiments.
	RestoreShare float64
	// RestoreByBatches makes restores and PITR base copies commit their
	// items in batches (through the WAL and the memtable the writers use),
	// as before they were ingested as sstables (ingest.go). Default false.
	// EDDY_RESTORE_INGEST=0 sets it, for comparisons.
	RestoreByBatches bool
}

// EnsureDefaults fills in defaults.
func (o *Options) EnsureDefaults() {
	if o.CacheSize == 0 {
		o.CacheSize = 64 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Region == "" {
		o.Region = arn.DefaultRegion
	}
	if o.StallUnhealthy == 0 {
		o.StallUnhealthy = DefaultStallUnhealthy
	}
	if v, err := strconv.Atoi(os.Getenv("EDDY_RESTORE_BATCH")); err == nil && v > 0 {
		o.RestoreBatchBytes = v
	}
	if o.RestoreBatchBytes <= 0 {
		o.RestoreBatchBytes = 256 << 10
	}
	if v, err := strconv.ParseFloat(os.Getenv("EDDY_RESTORE_SHARE"), 64); err == nil && v > 0 && v <= 1 {
		o.RestoreShare = v
	}
	if o.RestoreShare <= 0 || o.RestoreShare > 1 {
		o.RestoreShare = 0.1
	}
	if os.Getenv("EDDY_RESTORE_INGEST") == "0" {
		o.RestoreByBatches = true
	}
	if o.FS == nil {
		if o.InMemory {
			o.FS = vfs.NewMem()
		} else {
			o.FS = vfs.Default
		}
	}
}

// Validate reports every problem with the options at once.
func (o *Options) Validate() error {
	var errs []error
	if o.Dir == "" && !o.InMemory {
		errs = append(errs, errors.New("store: Options.Dir is required unless InMemory"))
	}
	if o.CacheSize < 0 {
		errs = append(errs, errors.New("store: Options.CacheSize must not be negative"))
	}
	return errors.Join(errs...)
}

// DB is eddy's storage engine: the table catalog and all items, in one
// Pebble database shared with the streams, triggers, mappings and dlq
// packages (each owns key spaces, see KeySpace and keys.go), so that their
// records can commit in the same batch as the writes they describe.
//
// A DB is safe for concurrent use.
type DB struct {
	pdb       *pebble.DB
	writeOpts *pebble.WriteOptions
	locks     lockTable

	catMu  sync.RWMutex // guards tables and lastID; see locks.go for lock order
	tables map[tableKey]*Table
	lastID uint32
	home   string       // HomeRegion
	logMu  sync.RWMutex // guards logs and catalogHooks
	logs   []ChangeLog
	// catalogHooks run after catalog changes (OnCatalogChange).
	catalogHooks []func()
	closeMu      sync.RWMutex
	closed       bool
	fences       sync.Map // table ID → *writeFence (fence.go)

	log *slog.Logger     // Options.Logger, or discard
	bg  *lifecycle.Group // index backfills (and the TTL sweeper's context); Close stops it first

	health *health   // the failed state (health.go)
	watch  *dirWatch // nil in memory
	stop   chan struct{}
	id     string // the marker's database ID; empty in memory

	stallLimit time.Duration // Options.StallUnhealthy; <= 0: unchecked
	admitter   Admitter      // SetAdmitter; nil admits every write

	now          func() time.Time      // Options.Now
	lastStamp    atomic.Int64          // the last PITR stamp (pitr.go)
	pitrMu       sync.Mutex            // serializes SetPITR and CompactPITR
	fs           vfs.FS                // Options.FS
	dir          string                // Pebble's directory ("mem" in memory)
	backupMu     sync.Mutex            // guards inUse (backup.go)
	inUse        map[string]int        // backup ID → restores reading it
	bases        baseCopies            // base copies in the background (pitr.go)
	restoreBatch int                   // Options.RestoreBatchBytes
	restoreShare float64               // Options.RestoreShare
	scratchSeq   atomic.Uint64         // the last scratch range's (or ingest directory's) ID (pitr.go, ingest.go)
	byBatches    bool                  // Options.RestoreByBatches
	sstOpts      sstable.WriterOptions // of the sstables restores ingest (ingest.go)
	sortMem      int                   // an ingest's sort buffer; 0: defaultSortMem (tests set it)
	// restoreHook, when set (tests), runs once a restore's keys are in
	// (ingested or committed), before the table leaves CREATING; an error
	// ends the restore as a crash would when the DB is closing.
	restoreHook func(ctx context.Context) error
}

// Open opens the database in Options.Dir, or creates a new one where the
// start rules allow it (Options.Init; prepareDir).
func Open(opts Options) (*DB, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	log := lifecycle.Or(opts.Logger)
	h := &health{log: log.With("component", "store")}
	stop := make(chan struct{})
	dir := opts.Dir
	var m marker
	created, writeMarkerFile := true, false
	if opts.InMemory {
		dir = "mem" // a fixed name on the memory filesystem; Dir is ignored
	} else {
		var err error
		if m, created, writeMarkerFile, err = prepareDir(opts.FS, dir, opts.Init); err != nil {
			return nil, err
		}
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref()
	events := newEventLog(opts.Logger)
	events.health = h
	popts := &pebble.Options{
		FS:     &diskFS{FS: opts.FS, h: h, stop: stop},
		Cache:  cache,
		Merger: statsMerger,
		Logger: pebbleLogger{log: log.With("component", "pebble"), h: h},
		// Background errors, write stalls and slow disk operations reach
		// Options.Logger once per change of state (events.go).
		EventListener:    events.listener(),
		ErrorIfNotExists: !created,
		// Ingest-time splitting (it needs virtual sstables): a restore's
		// sstables hold a fresh key range, but in a small database, whose
		// base level is L6, that range lies within the bounds of an L6 file
		// holding the other tables' keys; without a split the sstables went
		// to L0 and were compacted with the writers' data, rewriting it
		// (ingest.go, issue 17). The split cuts that file in two virtual
		// sstables and the restore's files go to L6. Opening a data
		// directory ratchets its format to this version (eddy pins one
		// Pebble, which reads it).
		FormatMajorVersion: pebble.FormatVirtualSSTables,
	}
	// EDDY_INGEST_SPLIT=0 turns the split off, for bench/backups' comparison.
	split := os.Getenv("EDDY_INGEST_SPLIT") != "0"
	popts.Experimental.IngestSplit = func() bool { return split }
	if !opts.InMemory {
		popts.WithFSDefaults() // disk-health checks: DiskSlow after 5 s
	}
	minSync := opts.WALMinSyncInterval
	if v, err := time.ParseDuration(os.Getenv("EDDY_WAL_MIN_SYNC")); err == nil {
		minSync = v
	}
	if minSync > 0 {
		popts.WALMinSyncInterval = func() time.Duration { return minSync }
	}
	pdb, err := pebble.Open(dir, popts)
	if errors.Is(err, pebble.ErrDBDoesNotExist) {
		return nil, fmt.Errorf("%w: %s: holds %s but no database files (were they deleted?)", ErrDataDir, dir, MarkerFile)
	}
	if errors.Is(err, syscall.EAGAIN) {
		return nil, inUse(dir) // Pebble's LOCK is held by another process
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	db := &DB{pdb: pdb, writeOpts: pebble.Sync, tables: map[tableKey]*Table{}, log: log,
		health: h, stop: stop, id: m.ID, stallLimit: opts.StallUnhealthy,
		now: opts.Now, fs: opts.FS, dir: dir, inUse: map[string]int{},
		restoreBatch: opts.RestoreBatchBytes, restoreShare: opts.RestoreShare, byBatches: opts.RestoreByBatches,
		sstOpts: sstWriterOptions(popts, pdb)}
	db.bg = lifecycle.New(context.Background(), "store", db.log)
	if opts.NoSync {
		db.writeOpts = pebble.NoSync
	}
	if err := db.loadCatalog(opts.Region); err != nil {
		db.bg.Stop()
		pdb.Close()
		return nil, err
	}
	// The marker is written after Pebble created its files: a crash
	// between the two leaves a database without EDDY, which the next start
	// adopts (prepareDir).
	if writeMarkerFile {
		if err := writeMarker(opts.FS, dir, m); err != nil {
			db.bg.Stop()
			pdb.Close()
			return nil, err
		}
	}
	// The directory watch first: every commit reads it (checkDir), and
	// resumePITR may start a base copy that commits at once.
	if !opts.InMemory && vfs.Root(opts.FS) == vfs.Default {
		db.watch = openDirWatch(dir)
		db.bg.Go("data directory check", db.watchDir)
	}
	if err := db.removeIngestTmp(); err != nil {
		db.bg.Stop()
		db.watch.close()
		pdb.Close()
		return nil, fmt.Errorf("store: remove %s: %w", ingestTmp, err)
	}
	if err := db.resumePITR(context.Background()); err != nil {
		db.bg.Stop()
		db.watch.close()
		pdb.Close()
		return nil, err
	}
	db.bg.Go("point-in-time recovery compaction", db.pitrLoop)
	if !opts.InMemory {
		db.log.Info("store opened", "dir", dir, "id", m.ID, "created", created)
	}
	return db, nil
}

// ID returns the database's identity from its marker file (empty in
// memory).
func (db *DB) ID() string { return db.id }

// watchDir checks every dirCheckInterval that the data directory is still
// there, so that an idle DB enters its failed state (and logs it) too.
func (db *DB) watchDir(ctx context.Context) {
	for lifecycle.Sleep(ctx, dirCheckInterval) {
		if db.checkDir() != nil {
			return
		}
		_ = db.health.checkStall(db.stallLimit) // logs a stall even when no one probes /healthz
	}
}

// Close stops the DB's background work (index backfills; a TTLSweeper's
// loop ends too), waits for no new work and closes Pebble cleanly.
func (db *DB) Close() error {
	db.bg.Stop()
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	close(db.stop) // ends diskFS's backoff: Pebble waits for its flush
	defer db.watch.close()
	return db.pdb.Close()
}

// loadCatalog reads the home region and the tables. A data directory
// without a home region (new, or written before regions) gets region as
// its home, and its region-less descriptors move into it: all in one
// batch, so a crash leaves either the old layout or the new one.
func (db *DB) loadCatalog(region string) error {
	v, closer, err := db.pdb.Get(homeRegionKey)
	switch {
	case err == nil:
		db.home = string(v)
		closer.Close()
	case errors.Is(err, pebble.ErrNotFound):
		if err := db.adoptHomeRegion(region); err != nil {
			return err
		}
	default:
		return err
	}
	err = db.scanCatalog([]byte{prefixCatalog, 't'}, []byte{prefixCatalog, 'u'}, func(_ []byte, t *Table) error {
		db.tables[keyOf(t)] = t
		return nil
	})
	if err != nil {
		return err
	}
	v, closer, err = db.pdb.Get(lastTableIDKey)
	if err == nil {
		db.lastID = binary.BigEndian.Uint32(v)
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	return nil
}

// adoptHomeRegion records region as the home region and moves the
// descriptors written before regions (legacy keys) into it, in one batch.
func (db *DB) adoptHomeRegion(region string) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	n := 0
	err := db.scanCatalog([]byte{prefixCatalog, 'c'}, []byte{prefixCatalog, 'd'}, func(k []byte, t *Table) error {
		t.Region = region
		n++
		if err := b.Delete(k, nil); err != nil {
			return err
		}
		return putCatalog(b, t)
	})
	if err != nil {
		return err
	}
	if err := b.Set(homeRegionKey, []byte(region), nil); err != nil {
		return err
	}
	if err := db.commit(b, pebble.Sync); err != nil {
		return err
	}
	if n > 0 {
		db.log.Info("tables moved into the home region", "region", region, "tables", n)
	}
	db.home = region
	return nil
}

// scanCatalog decodes every descriptor in [lo, hi).
func (db *DB) scanCatalog(lo, hi []byte, fn func(key []byte, t *Table) error) error {
	iter, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer iter.Close()
	for iter.First(); iter.Valid(); iter.Next() {
		t := new(Table)
		if err := json.Unmarshal(iter.Value(), t); err != nil {
			return fmt.Errorf("store: corrupt catalog entry %q: %w", iter.Key(), err)
		}
		if err := fn(append([]byte(nil), iter.Key()...), t); err != nil {
			return err
		}
	}
	return iter.Error()
}

// pebbleLogger is Pebble's logger: its informational lines at debug
// level, its errors at error level (debug once the store has failed: the
// failed state's line already says why). Fatalf is Pebble's "this cannot
// continue" (a failed commit, a failed MANIFEST write; WAL failures never
// reach Pebble, see diskFS): it is logged and panics with a pebbleFatal,
// which DB.commit turns into the failed state; elsewhere the panic ends the
// process, as Pebble expects.
type pebbleLogger struct {
	log *slog.Logger
	h   *health
}

// pebbleFatal is the panic value of pebbleLogger.Fatalf.
type pebbleFatal string

func (p pebbleFatal) Error() string { return string(p) }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	level := slog.LevelError
	if l.h.err() != nil {
		level = slog.LevelDebug
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.Errorf("fatal: %s", msg)
	panic(pebbleFatal(msg))
}

// statsMerger sums table statistics operands: two signed varints, the
// change in item count and in item bytes. It is the only merge operator in
// the DB, so its name is part of the on-disk format.
var statsMerger = &pebble.Merger{
	Name: "eddy.stats.v1",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		m := &statsValueMerger{}
		return m, m.MergeNewer(value)
	},
}

type statsValueMerger struct{ count, bytes int64 }

func (m *statsValueMerger) MergeNewer(v []byte) error {
	c, b, err := decodeStats(v)
	m.count += c
	m.bytes += b
	return err
}

func (m *statsValueMerger) MergeOlder(v []byte) error { return m.MergeNewer(v) }

func (m *statsValueMerger) Finish(bool) ([]byte, io.Closer, error) {
	return encodeStats(m.count, m.bytes), nil, nil
}

func encodeStats(count, bytes int64) []byte {
	b := binary.AppendVarint(nil, count)
	return binary.AppendVarint(b, bytes)
}

func decodeStats(v []byte) (count, bytes int64, err error) {
	c, n := binary.Varint(v)
	if n <= 0 {
		return 0, 0, errors.New("store: corrupt stats")
	}
	b, m := binary.Varint(v[n:])
	if m <= 0 {
		return 0, 0, errors.New("store: corrupt stats")
	}
	return c, b, nil
}
