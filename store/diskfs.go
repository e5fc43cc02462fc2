package store

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Backoff of table writes after a failed one (see diskFS).
const (
	tableBackoffMin = 10 * time.Millisecond
	tableBackoffMax = 2 * time.Second
)

// diskFS wraps the store's filesystem to see every failed write before
// Pebble does.
//
// The WAL (*.log) never fails towards Pebble. Pebble cannot survive a WAL
// error: its WAL writer keeps the error, the next commit that finds it
// panics holding the commit pipeline's mutex (every later commit hangs),
// and the next WAL rotation panics with DB.mu unlocked under a deferred
// Unlock ("fatal error: sync: unlock of unlocked mutex", which no recover
// stops); a WAL that cannot be created (the directory was removed) is a
// Fatalf at the same place. Commits already inside Pebble when the WAL
// fails reach those panics under load. So a failed write, sync or creation
// of a WAL file puts the store in its sticky failed state, inside the
// failing call, and is then reported to Pebble as a success; from then on
// every WAL write is dropped and a new WAL file is a dead one, not created
// on disk. The WAL on disk is thus what a crash at the failure would have
// left: every write acknowledged before it, then a torn tail, which
// Pebble's recovery expects of the last WAL. A commit whose sync Pebble
// reports after the failure is not acknowledged: DB.commit checks the
// failed state once Pebble returns, and the state was entered before
// Pebble woke it.
//
// A failed write of a table (*.sst, *.blob) is counted, and the next table
// creation waits tableBackoffMin doubling up to tableBackoffMax until a
// flush or compaction succeeds. Pebble reschedules a failed flush at once,
// without backoff (its own TODO in DB.flush): on a full disk that loop ran
// ~20,000 flushes a second at 100% CPU. The wait is in Create, which Pebble
// calls without holding its DB mutex, and ends early when the DB closes.
type diskFS struct {
	vfs.FS
	h    *health
	stop <-chan struct{} // closed by DB.Close
}

func (fs *diskFS) Unwrap() vfs.FS { return fs.FS }

func isWAL(name string) bool { return strings.HasSuffix(name, ".log") }

func isTable(name string) bool {
	return strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob")
}

// walDead reports whether WAL writes are dropped: the store failed for
// good (a recoverable failure leaves the WAL working).
func (fs *diskFS) walDead() bool {
	e := fs.h.failed.Load()
	return e != nil && e.Sticky
}

// walFailed enters the failed state for a WAL error, which Pebble does not
// see.
func (fs *diskFS) walFailed(err error) {
	fs.h.fail(true, "WAL write failed", err)
}

// tableFailed counts a failed table write.
func (fs *diskFS) tableFailed(name string, err error) error {
	if err != nil && isTable(name) {
		fs.h.tableErrs.Add(1)
	}
	return err
}

func (fs *diskFS) backoff(name string) {
	n := fs.h.tableErrs.Load()
	if n == 0 || !isTable(name) {
		return
	}
	d := tableBackoffMin << min(n-1, 16)
	t := time.NewTimer(min(d, tableBackoffMax))
	defer t.Stop()
	select {
	case <-t.C:
	case <-fs.stop:
	}
}

// openWAL returns the WAL file that open makes, or a dead one once the WAL
// has failed (or when open fails).
func (fs *diskFS) openWAL(name string, open func() (vfs.File, error)) vfs.File {
	if fs.walDead() {
		return deadFile{name}
	}
	f, err := open()
	if err != nil {
		fs.walFailed(err)
		return deadFile{name}
	}
	return &walFile{File: f, fs: fs}
}

func (fs *diskFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if isWAL(name) {
		return fs.openWAL(name, func() (vfs.File, error) { return fs.FS.Create(name, c) }), nil
	}
	fs.backoff(name)
	f, err := fs.FS.Create(name, c)
	if err != nil {
		return nil, fs.tableFailed(name, err)
	}
	return &tableFile{File: f, fs: fs, name: name}, nil
}

func (fs *diskFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if isWAL(newname) {
		return fs.openWAL(newname, func() (vfs.File, error) { return fs.FS.ReuseForWrite(oldname, newname, c) }), nil
	}
	return fs.FS.ReuseForWrite(oldname, newname, c)
}

// walFile reports its failures to the failed state and never to Pebble;
// once the WAL is dead, it drops what it is given.
type walFile struct {
	vfs.File
	fs *diskFS
}

func (f *walFile) Write(p []byte) (int, error) {
	if !f.fs.walDead() {
		if _, err := f.File.Write(p); err != nil {
			f.fs.walFailed(err)
		}
	}
	return len(p), nil
}

func (f *walFile) WriteAt(p []byte, off int64) (int, error) {
	if !f.fs.walDead() {
		if _, err := f.File.WriteAt(p, off); err != nil {
			f.fs.walFailed(err)
		}
	}
	return len(p), nil
}

func (f *walFile) Sync() error { return f.sync(f.File.Sync) }

func (f *walFile) SyncData() error { return f.sync(f.File.SyncData) }

func (f *walFile) SyncTo(length int64) (bool, error) {
	full := true
	err := f.sync(func() (err error) {
		full, err = f.File.SyncTo(length)
		return err
	})
	return full, err
}

func (f *walFile) sync(sync func() error) error {
	if !f.fs.walDead() {
		if err := sync(); err != nil {
			f.fs.walFailed(err)
		}
	}
	return nil
}

// tableFile counts its failed writes and syncs.
type tableFile struct {
	vfs.File
	fs   *diskFS
	name string
}

func (f *tableFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.fs.tableFailed(f.name, err)
}

func (f *tableFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.fs.tableFailed(f.name, err)
}

func (f *tableFile) Sync() error { return f.fs.tableFailed(f.name, f.File.Sync()) }

func (f *tableFile) SyncData() error { return f.fs.tableFailed(f.name, f.File.SyncData()) }

func (f *tableFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	return full, f.fs.tableFailed(f.name, err)
}

// deadFile is a WAL file after the WAL failed: not on disk, it accepts and
// drops every write.
type deadFile struct{ name string }

func (deadFile) Close() error                           { return nil }
func (deadFile) Read([]byte) (int, error)               { return 0, io.EOF }
func (deadFile) ReadAt([]byte, int64) (int, error)      { return 0, io.EOF }
func (deadFile) Write(p []byte) (int, error)            { return len(p), nil }
func (deadFile) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }
func (deadFile) Preallocate(int64, int64) error         { return nil }
func (f deadFile) Stat() (vfs.FileInfo, error)          { return deadInfo(f), nil }
func (deadFile) Sync() error                            { return nil }
func (deadFile) SyncTo(int64) (bool, error)             { return true, nil }
func (deadFile) SyncData() error                        { return nil }
func (deadFile) Prefetch(int64, int64) error            { return nil }
func (deadFile) Fd() uintptr                            { return vfs.InvalidFd }

// deadInfo is a dead file's FileInfo: an empty regular file.
type deadInfo deadFile

func (i deadInfo) Name() string         { return i.name }
func (deadInfo) Size() int64            { return 0 }
func (deadInfo) Mode() os.FileMode      { return 0o644 }
func (deadInfo) ModTime() time.Time     { return time.Time{} }
func (deadInfo) IsDir() bool            { return false }
func (deadInfo) Sys() any               { return nil }
func (deadInfo) DeviceID() vfs.DeviceID { return vfs.DeviceID{} }
