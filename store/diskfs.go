package store

import (
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
// Pebble does, and to slow Pebble's retries down:
//
//   - a failed write, sync or creation of a WAL file (*.log) puts the store
//     in its sticky failed state at once, so that no commit enters Pebble
//     after its WAL writer failed (health);
//   - a failed write of a table (*.sst, *.blob) is counted, and the next
//     table creation waits tableBackoffMin doubling up to tableBackoffMax
//     until a flush or compaction succeeds. Pebble reschedules a failed
//     flush at once, without backoff (its own TODO in DB.flush): on a full
//     disk that loop ran ~20,000 flushes a second at 100% CPU. The wait is
//     in Create, which Pebble calls without holding its DB mutex, and ends
//     early when the DB closes.
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

// failed records a failed write of file name.
func (fs *diskFS) failed(name string, err error) error {
	switch {
	case err == nil:
	case isWAL(name):
		fs.h.fail(true, "WAL write failed", err)
	case isTable(name):
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

func (fs *diskFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, fs.failed(name, err)
	}
	return &diskFile{File: f, fs: fs, name: name}, nil
}

func (fs *diskFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	fs.backoff(name)
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f, err)
}

func (fs *diskFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(newname, f, err)
}

func (fs *diskFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, opts...)
	return fs.wrap(name, f, err)
}

// diskFile reports its failed writes and syncs to its diskFS.
type diskFile struct {
	vfs.File
	fs   *diskFS
	name string
}

func (f *diskFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.fs.failed(f.name, err)
}

func (f *diskFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.fs.failed(f.name, err)
}

func (f *diskFile) Sync() error { return f.fs.failed(f.name, f.File.Sync()) }

func (f *diskFile) SyncData() error { return f.fs.failed(f.name, f.File.SyncData()) }

func (f *diskFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	return full, f.fs.failed(f.name, err)
}
