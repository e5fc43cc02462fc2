package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/logtest"
)

// syncBuffer is a log destination safe for Pebble's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the logged lines at level WARN or above.
func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			out = append(out, l)
		}
	}
	return out
}

// faultEnv is a DB on a real temporary directory whose filesystem injects
// the errors of inj once on is set.
type faultEnv struct {
	t   *testing.T
	dir string
	on  atomic.Bool
	inj func(errorfs.Op) error
	log syncBuffer
	db  *DB
	tbl *Table
}

func newFaultEnv(t *testing.T, inj func(errorfs.Op) error) *faultEnv {
	return newFaultEnvWith(t, inj, Options{})
}

// newFaultEnvWith is newFaultEnv with options (Dir, FS and Logger are
// the env's).
func newFaultEnvWith(t *testing.T, inj func(errorfs.Op) error, o Options) *faultEnv {
	e := &faultEnv{t: t, dir: t.TempDir(), inj: inj}
	fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if !e.on.Load() {
			return nil
		}
		return e.inj(op)
	}))
	o.Dir, o.FS, o.Logger = e.dir, fs, slog.New(logtest.MachineIndependent(slog.NewTextHandler(&e.log, nil)))
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	e.tbl = newTable(t, db, "t")
	return e
}

// within runs f and fails the test if it takes longer than d (a hang).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %v (hung)", what, d)
	}
}

func (e *faultEnv) put(k string) error {
	var err error
	within(e.t, 10*time.Second, "write "+k, func() {
		_, err = e.db.Write(ctx, WriteOptions{}, put(e.tbl, attr.Item{"pk": attr.S(k)}))
	})
	return err
}

// putAcked writes n items that must all be acknowledged.
func (e *faultEnv) putAcked(n int) []string {
	var keys []string
	for i := range n {
		k := fmt.Sprint("acked-", i)
		if err := e.put(k); err != nil {
			e.t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

// wantRefused checks that err is the failed state's InternalServerError.
func wantRefused(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrStorageFailed) {
		t.Fatalf("err = %v, want ErrStorageFailed", err)
	}
	if e := ddberr.As(err); e.Kind != ddberr.KindInternal || e.Status() != 500 {
		t.Fatalf("client sees %v (status %d), want InternalServerError 500", e, e.Status())
	}
}

// failAndCheck turns the faults on, checks that the next write fails and
// is not acknowledged, that later writes are refused at once, that reads
// work, that Health reports the failure and that one line was logged;
// then it closes and reopens without faults and checks every
// acknowledged item.
func (e *faultEnv) failAndCheck(acked []string, reason string) {
	t := e.t
	e.on.Store(true)
	wantRefused(t, e.put("lost-1"))
	start := time.Now()
	wantRefused(t, e.put("lost-2"))
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a write in the failed state took %v; want refused at once", d)
	}
	var se *StorageError
	if err := e.db.Health(); !errors.As(err, &se) || se.Reason != reason || !se.Sticky {
		t.Fatalf("Health() = %v, want sticky %q", err, reason)
	}
	for _, k := range acked[:3] {
		it, err := e.db.Get(e.tbl, attr.Item{"pk": attr.S(k)})
		if err != nil || it == nil {
			t.Fatalf("read %s in the failed state: %v %v", k, it, err)
		}
	}
	lines := e.log.lines()
	if len(lines) != 1 || !strings.Contains(lines[0], `msg="storage failed: writes refused until restart"`) ||
		!strings.Contains(lines[0], "reason=\""+reason+"\"") {
		t.Fatalf("logged:\n%s\nwant one line, the failed state's", strings.Join(lines, "\n"))
	}
	within(t, 10*time.Second, "close", func() { _ = e.db.Close() })
	e.on.Store(false)

	db, err := Open(Options{Dir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl := db.Table("t")
	for _, k := range acked {
		if it, err := db.Get(tbl, attr.Item{"pk": attr.S(k)}); err != nil || it == nil {
			t.Fatalf("acknowledged %s lost after reopen: %v", k, err)
		}
	}
	if err := db.Health(); err != nil {
		t.Fatalf("reopened DB unhealthy: %v", err)
	}
}

func TestWALWriteENOSPC(t *testing.T) {
	e := newFaultEnv(t, func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".log") && op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return syscall.ENOSPC
		}
		return nil
	})
	e.failAndCheck(e.putAcked(20), "WAL write failed")
}

func TestWALSyncFails(t *testing.T) {
	e := newFaultEnv(t, func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".log") && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo) {
			return syscall.EIO
		}
		return nil
	})
	e.failAndCheck(e.putAcked(20), "WAL write failed")
}

// TestDataDirVanished removes the data directory under an open DB (rm -rf):
// the next write is not acknowledged, no write after it reaches Pebble (on
// the code before, enough of them rotated the WAL into the missing
// directory: "fatal error: sync: unlock of unlocked mutex"), and the
// restart refuses the missing directory instead of creating an empty
// database.
func TestDataDirVanished(t *testing.T) {
	e := newFaultEnv(t, func(errorfs.Op) error { return nil })
	e.putAcked(20)
	if err := os.RemoveAll(e.dir); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, e.put("lost-1"))
	big := strings.Repeat("x", 8<<10)
	within(t, 10*time.Second, "writes after the removal", func() {
		for i := range 1000 { // 8 MB: more than a memtable, so a WAL rotation if they went in
			_, err := e.db.Write(ctx, WriteOptions{}, put(e.tbl, attr.Item{"pk": attr.S(fmt.Sprint("big-", i)), "v": attr.S(big)}))
			if !errors.Is(err, ErrStorageFailed) {
				t.Fatalf("write %d after the removal: %v", i, err)
			}
		}
	})
	var se *StorageError
	if err := e.db.Health(); !errors.As(err, &se) || se.Reason != "data directory vanished" {
		t.Fatalf("Health() = %v", err)
	}
	if lines := e.log.lines(); len(lines) != 1 || !strings.Contains(lines[0], `reason="data directory vanished"`) {
		t.Fatalf("logged:\n%s\nwant one line", strings.Join(lines, "\n"))
	}
	within(t, 10*time.Second, "close", func() { _ = e.db.Close() })
	if _, err := Open(Options{Dir: e.dir}); !errors.Is(err, ErrDataDir) {
		t.Fatalf("reopen of the vanished directory: %v, want ErrDataDir", err)
	}
	if _, err := os.Stat(e.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused start created %s: %v", e.dir, err)
	}
}

// TestDataDirVanishedIdle: an idle DB notices within dirCheckInterval.
func TestDataDirVanishedIdle(t *testing.T) {
	e := newFaultEnv(t, func(errorfs.Op) error { return nil })
	e.putAcked(1)
	if err := os.RemoveAll(e.dir); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.log.lines()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no line logged 5 s after the data directory was removed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(e.db.health.err(), ErrStorageFailed) {
		t.Fatal("not failed")
	}
	_ = e.db.Close()
}

// TestFullDiskFlush: a flush that cannot write its table (ENOSPC) put
// Pebble in a retry loop with no backoff (~20,000 flushes a second at
// 100% CPU) while writes waited in a write stall forever. Now writes are
// refused while it fails, the retries back off, and the store recovers
// once a flush succeeds.
func TestFullDiskFlush(t *testing.T) {
	var creates atomic.Int64
	e := newFaultEnv(t, func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".sst") && op.Kind == errorfs.OpCreate {
			creates.Add(1)
			return syscall.ENOSPC
		}
		return nil
	})
	acked := e.putAcked(20)
	e.on.Store(true)
	if _, err := e.db.pdb.AsyncFlush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.db.Health() == nil {
		if time.Now().After(deadline) {
			t.Fatal("not failed 5 s after the flush began failing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantRefused(t, e.put("refused"))
	var se *StorageError
	if err := e.db.Health(); !errors.As(err, &se) || se.Reason != "flush failed" || se.Sticky {
		t.Fatalf("Health() = %v, want recoverable \"flush failed\"", err)
	}
	n0 := creates.Load()
	time.Sleep(time.Second)
	if n := creates.Load() - n0; n > 10 {
		t.Errorf("%d flush attempts in 1 s while the disk is full; want a backoff (≤ 10)", n)
	}
	e.on.Store(false) // space freed
	deadline = time.Now().Add(5 * time.Second)
	for e.db.Health() != nil {
		if time.Now().After(deadline) {
			t.Fatal("not recovered 5 s after the disk had space again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.put("after"); err != nil {
		t.Fatal(err)
	}
	lines := e.log.lines()
	if len(lines) != 1 || !strings.Contains(lines[0], `reason="flush failed"`) {
		t.Fatalf("logged:\n%s\nwant one line", strings.Join(lines, "\n"))
	}
	if !strings.Contains(e.log.b.String(), `msg="storage recovered: writes accepted again"`) {
		t.Fatalf("recovery not logged:\n%s", e.log.b.String())
	}
	for _, k := range append(acked, "after") {
		if it, err := e.db.Get(e.tbl, attr.Item{"pk": attr.S(k)}); err != nil || it == nil {
			t.Fatalf("%s: %v %v", k, it, err)
		}
	}
	_ = e.db.Close()
}

// loadUntilRefused runs 16 writers of 3 KB items (the memtable rotates,
// so WAL rotations happen while the fault is on) until each is refused,
// calling fault once they run; it returns the keys acknowledged.
func (e *faultEnv) loadUntilRefused(fault func()) []string {
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	big := strings.Repeat("v", 3000)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				k := fmt.Sprint(g, "-", i)
				_, err := e.db.Write(ctx, WriteOptions{}, put(e.tbl, attr.Item{"pk": attr.S(k), "v": attr.S(big)}))
				if err != nil {
					if !errors.Is(err, ErrStorageFailed) {
						e.t.Errorf("writer %d: %v", g, err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(30 * time.Millisecond)
	fault()
	within(e.t, 10*time.Second, "writers after the fault", wg.Wait)
	return acked
}

// TestWALFailsUnderLoad: with writers in flight, a WAL that starts failing
// stops every one of them (commits already inside Pebble included: before,
// one of them panicked in Pebble's WAL rotation, "fatal error: sync: unlock
// of unlocked mutex", or hung the commit pipeline), and the restart finds
// every acknowledged write.
func TestWALFailsUnderLoad(t *testing.T) {
	faults := map[string]func(errorfs.Op) error{
		"ENOSPC on write": func(op errorfs.Op) error {
			if strings.HasSuffix(op.Path, ".log") && op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
				return syscall.ENOSPC
			}
			return nil
		},
		"EIO on sync": func(op errorfs.Op) error {
			if strings.HasSuffix(op.Path, ".log") && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData) {
				return syscall.EIO
			}
			return nil
		},
	}
	for name, inj := range faults {
		t.Run(name, func(t *testing.T) {
			for range 3 {
				e := newFaultEnv(t, inj)
				acked := e.loadUntilRefused(func() { e.on.Store(true) })
				t.Logf("%d writes acknowledged before the fault", len(acked))
				within(t, 10*time.Second, "close", func() { _ = e.db.Close() })
				e.on.Store(false)
				db, err := Open(Options{Dir: e.dir})
				if err != nil {
					t.Fatalf("reopen after the WAL failed: %v", err)
				}
				tbl := db.Table("t")
				for _, k := range acked {
					if it, err := db.Get(tbl, attr.Item{"pk": attr.S(k)}); err != nil || it == nil {
						t.Fatalf("acknowledged %s lost (%d acknowledged): %v", k, len(acked), err)
					}
				}
				db.Close()
			}
		})
	}
}

// TestDataDirVanishedUnderLoad: rm -rf under writers in flight stops them
// all without a crash (WAL rotations into the missing directory included).
func TestDataDirVanishedUnderLoad(t *testing.T) {
	for range 3 {
		e := newFaultEnv(t, func(errorfs.Op) error { return nil })
		e.loadUntilRefused(func() {
			// Pebble may create a file (a flush, a new WAL) while the
			// directory is being removed: rm -rf again, as a user would.
			var err error
			for range 50 {
				if err = os.RemoveAll(e.dir); err == nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
			t.Fatal(err)
		})
		within(t, 10*time.Second, "close", func() { _ = e.db.Close() })
	}
}

// TestOneDoorIntoPebble: every write reaches Pebble through DB.commit (the
// failed state's gate) or its twin for sstables, DB.commitIngest (the one
// line allowed below); a direct batch commit or DB write would bypass it.
func TestOneDoorIntoPebble(t *testing.T) {
	const door = "write.go: return db.door(func() error { return db.pdb.Ingest(ctx, paths) })"
	direct := regexp.MustCompile(`\.pb\.Commit\(|pdb\.(Set|Delete|DeleteRange|SingleDelete|Merge|Apply|Ingest\w*|LogData)\(|\bb\.Commit\(db\.`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if direct.MatchString(line) && f+": "+strings.TrimSpace(line) != door {
				t.Errorf("%s:%d writes to Pebble around DB.commit: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// TestCloseWhileDiskFull: Close does not wait out the flush retries'
// backoff while the disk stays full.
func TestCloseWhileDiskFull(t *testing.T) {
	e := newFaultEnv(t, func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".sst") && op.Kind == errorfs.OpCreate {
			return syscall.ENOSPC
		}
		return nil
	})
	e.putAcked(5)
	e.on.Store(true)
	if _, err := e.db.pdb.AsyncFlush(); err != nil {
		t.Fatal(err)
	}
	for e.db.Health() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // the backoff is now ≥ 1 s
	start := time.Now()
	within(t, 10*time.Second, "close", func() { _ = e.db.Close() })
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v with the disk full", d)
	}
}

// TestWriteStallUnhealthy hangs the WAL's fsync (a disk that stops
// answering): once commits have waited longer than StallUnhealthy with none
// finishing, Health reports a *StallError (so /healthz answers 503) and
// one line is logged; when the disk answers again the write is
// acknowledged, Health is nil again, and the end is logged once. Writes
// are not refused meanwhile (the store is not in its failed state).
func TestWriteStallUnhealthy(t *testing.T) {
	release := make(chan struct{})
	e := newFaultEnvWith(t, func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".log") && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo) {
			<-release
		}
		return nil
	}, Options{StallUnhealthy: 200 * time.Millisecond})
	t.Cleanup(func() { e.db.Close() })
	e.putAcked(3)
	if err := e.db.Health(); err != nil {
		t.Fatalf("healthy store: Health = %v", err)
	}
	e.on.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := e.db.Write(ctx, WriteOptions{}, put(e.tbl, attr.Item{"pk": attr.S("stalled")}))
		done <- err
	}()
	var stall *StallError
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := e.db.Health()
		if errors.As(err, &stall) {
			break
		}
		if err != nil {
			t.Fatalf("Health = %v, want a *StallError", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("Health still nil 20s into a hung WAL sync")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if stall.InFlight < 1 || stall.For < 200*time.Millisecond {
		t.Errorf("stall = %+v, want >= 1 in flight for >= 200ms", stall)
	}
	if e.db.Failed() {
		t.Error("a stall put the store in its failed state; writes must not be refused")
	}
	_ = e.db.Health() // a second probe logs nothing more
	select {
	case err := <-done:
		t.Fatalf("write returned (%v) while its WAL sync hangs", err)
	default:
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("write after the disk answered: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("write still hung after the disk answered")
	}
	if err := e.db.Health(); err != nil {
		t.Fatalf("Health after the stall = %v, want nil", err)
	}
	if d := e.db.Stalled(); d != 0 {
		t.Errorf("Stalled() = %v with nothing in flight", d)
	}
	var began, ended int
	for _, l := range strings.Split(e.log.String(), "\n") {
		switch {
		case strings.Contains(l, "writes stalled"):
			began++
		case strings.Contains(l, "writes flowing again"):
			ended++
		}
	}
	if began != 1 || ended != 1 {
		t.Errorf("logged %d stall and %d recovery lines, want one each:\n%s", began, ended, e.log.String())
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
