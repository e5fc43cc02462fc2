package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/internal/ddberr"
)

// ErrStorageFailed is what every write returns while the store is in its
// failed state (errors.Is(err, ErrStorageFailed)); the error is also an
// InternalServerError (ddberr.As), which is what a client is answered.
var ErrStorageFailed = errors.New("store: storage failed")

// StorageError describes why the store refuses writes: the failure that
// put it in its failed state. It matches ErrStorageFailed and unwraps to
// an InternalServerError and to the cause.
type StorageError struct {
	Reason string    // what failed, e.g. "WAL write failed"
	Err    error     // the underlying error
	Since  time.Time // when the store entered the failed state
	// Sticky failures last until a restart; the others end when a flush
	// next succeeds.
	Sticky bool
}

func (e *StorageError) Error() string {
	return fmt.Sprintf("store: storage failed: %s: %v", e.Reason, e.Err)
}

// Is matches ErrStorageFailed.
func (e *StorageError) Is(target error) bool { return target == ErrStorageFailed }

// Unwrap returns the InternalServerError clients are answered with and the
// cause.
func (e *StorageError) Unwrap() []error {
	return []error{ddberr.New(ddberr.KindInternal, ""), e.Err}
}

// health is the store's failed state. The rules (doc.go, "Failures"):
//
//   - a WAL write, sync or creation that fails, a fatal error Pebble
//     reports while committing, or a data directory that vanished: sticky.
//     Pebble's WAL writer keeps its error and panics on the next WAL
//     rotation, so nothing may commit through it again; a restart replays
//     the WAL and opens what was acknowledged.
//   - a flush that fails with table writes failing (a full disk): writes
//     are refused (a write stall would otherwise hang them) until a flush
//     next succeeds, which Pebble retries (with backoff, diskFS) on its
//     own: the store recovers by itself once space is freed.
//
// Entering and leaving the state are logged once each. Reads keep working.
type health struct {
	log    *slog.Logger
	failed atomic.Pointer[StorageError] // nil when healthy; the fast path
	mu     sync.Mutex                   // serializes transitions
	// tableErrs counts failed writes of tables (sstables, blob files) since
	// the last successful flush or compaction; diskFS backs off on it.
	tableErrs atomic.Int64

	commits commitWatch
}

// DefaultStallUnhealthy is Options.StallUnhealthy's default: twice
// Pebble's DiskSlow threshold (5 s), long enough that a burst of slow
// syncs or a short write stall does not flap readiness.
const DefaultStallUnhealthy = 10 * time.Second

// StallError is what Health reports while commits are in flight and none
// has finished for longer than Options.StallUnhealthy: a disk that hangs
// (an fsync that never returns, a network volume gone away) or a write
// stall that does not end. Writes are not refused (they may yet finish),
// but the server is not ready: /healthz answers 503 with this error.
type StallError struct {
	For      time.Duration // since the last commit finished, or the first began
	InFlight int64         // commits waiting in Pebble
}

func (e *StallError) Error() string {
	return fmt.Sprintf("store: writes stalled: %d commits in flight and none finished for %s", e.InFlight, e.For.Round(time.Millisecond))
}

// commitWatch measures how long commits have been in flight without one
// finishing. Three atomics per commit; no lock on the write path.
//
// busySince is set before inflight counts a commit that finds none in
// flight, so a reader that sees inflight > 0 sees a busySince at least as
// new as the start of the busy period, or a lastDone newer than it.
type commitWatch struct {
	inflight  atomic.Int64
	busySince atomic.Int64 // unix nanoseconds: when the busy period began
	lastDone  atomic.Int64 // unix nanoseconds: when a commit last finished
	stalled   atomic.Bool  // the logged state
}

func (c *commitWatch) begin() {
	if c.inflight.Load() == 0 {
		c.busySince.Store(time.Now().UnixNano())
	}
	c.inflight.Add(1)
}

func (c *commitWatch) end() {
	c.lastDone.Store(time.Now().UnixNano())
	c.inflight.Add(-1)
}

// stall returns how long commits have been in flight without one
// finishing (0 when none is in flight) and how many are.
func (c *commitWatch) stall(now time.Time) (time.Duration, int64) {
	n := c.inflight.Load()
	if n <= 0 {
		return 0, 0
	}
	since := max(c.busySince.Load(), c.lastDone.Load())
	return max(now.Sub(time.Unix(0, since)), 0), n
}

// checkStall reports a StallError when commits have waited longer than
// limit, logging the start and the end of a stall once each.
func (h *health) checkStall(limit time.Duration) error {
	d, n := h.commits.stall(time.Now())
	stalled := limit > 0 && d >= limit
	if h.commits.stalled.CompareAndSwap(!stalled, stalled) {
		if stalled {
			h.log.Error("writes stalled: commits are in flight and none finished; not ready", "for", d.Round(time.Millisecond), "in_flight", n)
		} else {
			h.log.Info("writes flowing again")
		}
	}
	if !stalled {
		return nil
	}
	return &StallError{For: d, InFlight: n}
}

// err returns the failed state's error, or nil when healthy.
func (h *health) err() error {
	if e := h.failed.Load(); e != nil {
		return e
	}
	return nil
}

// fail enters the failed state (a sticky failure replaces a recoverable
// one) and returns its error. It logs only on a change of state.
func (h *health) fail(sticky bool, reason string, err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := h.failed.Load()
	if cur != nil && (cur.Sticky || !sticky) {
		return cur
	}
	e := &StorageError{Reason: reason, Err: err, Since: time.Now(), Sticky: sticky}
	h.failed.Store(e)
	until := "until a flush succeeds (free disk space)"
	if sticky {
		until = "until restart"
	}
	h.log.Error("storage failed: writes refused "+until, "reason", reason, "err", err)
	return e
}

// recovered leaves a recoverable failed state (a flush succeeded).
func (h *health) recovered() {
	if e := h.failed.Load(); e == nil || e.Sticky {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.failed.Load()
	if e == nil || e.Sticky {
		return
	}
	h.failed.Store(nil)
	h.log.Info("storage recovered: writes accepted again", "failed_for", time.Since(e.Since).Round(time.Millisecond))
}

// Health reports whether the store accepts writes: nil, the
// *StorageError of its failed state, or a *StallError while commits have
// waited longer than Options.StallUnhealthy (/healthz answers 503 with
// either). It also checks that the data directory is still there.
func (db *DB) Health() error {
	db.checkDir()
	if err := db.health.err(); err != nil {
		return err
	}
	return db.health.checkStall(db.stallLimit)
}

// Failed reports whether the store is in its failed state (writes
// refused), for a metric.
func (db *DB) Failed() bool { return db.health.err() != nil }

// Stalled returns how long commits have been in flight without one
// finishing (0 when none is in flight), for a metric.
func (db *DB) Stalled() time.Duration {
	d, _ := db.health.commits.stall(time.Now())
	return d
}

// PebbleMetrics returns Pebble's metrics (flushes, compactions, ingests,
// block cache hits), for the bench harnesses' diagnostics.
func (db *DB) PebbleMetrics() *pebble.Metrics { return db.pdb.Metrics() }
