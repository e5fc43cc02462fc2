package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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

// Health reports whether the store accepts writes: nil, or the
// *StorageError of its failed state (/healthz answers 503 with it). It
// also checks that the data directory is still there.
func (db *DB) Health() error {
	db.checkDir()
	return db.health.err()
}
