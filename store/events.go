package store

import (
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/internal/lifecycle"
)

// diskSlowQuiet is how long the disk must stay quiet (no DiskSlow event)
// before a new slow operation counts as a new episode and is logged again.
const diskSlowQuiet = time.Minute

// eventLog logs Pebble's background trouble through Options.Logger, once
// per change of state rather than once per event, so a sick disk does not
// flood the log:
//
//   - background errors (a failed flush, compaction, table-stats load): one
//     error line when they start, one info line when a flush or compaction
//     next succeeds;
//   - write stalls (too many memtables or L0 files): a warn line when one
//     begins, an info line when it ends;
//   - slow disk operations (a WAL sync or write that took more than 5 s):
//     a warn line for the first of an episode; an episode ends after
//     diskSlowQuiet without one, and the next episode's line counts the
//     slow operations the previous one did not log;
//   - data corruption (error) and low disk space (warn): each event, as
//     Pebble reports them once per file or threshold.
type eventLog struct {
	health *health // the failed state; nil in tests of the log alone
	log    *slog.Logger
	now    func() time.Time
	bg     lifecycle.Failures
	mu     sync.Mutex
	stall  bool
	slowAt time.Time // the last DiskSlow event; zero for none
	slowN  int       // DiskSlow events not logged since the last logged one
}

func newEventLog(log *slog.Logger) *eventLog {
	log = lifecycle.Or(log).With("component", "store")
	return &eventLog{log: log, now: time.Now,
		bg: lifecycle.Failures{Log: log, What: "pebble background work", Level: slog.LevelError}}
}

// listener returns the pebble.EventListener that feeds e.
func (e *eventLog) listener() *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			if e.health == nil || e.health.err() == nil { // else the failed state's line says it
				e.bg.Report(err)
			}
		},
		FlushEnd: func(info pebble.FlushInfo) {
			switch {
			case !info.Done:
			case info.Err == nil:
				e.succeeded(true)
			case e.health != nil && e.health.tableErrs.Load() > 0:
				// Writes would pile up in memtables until a write stall
				// hangs them: refuse them until a flush succeeds.
				e.health.fail(false, "flush failed", info.Err)
			}
		},
		CompactionEnd: func(info pebble.CompactionInfo) {
			if info.Done && info.Err == nil {
				e.succeeded(false)
			}
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) { e.writeStall(true, info.Reason) },
		WriteStallEnd:   func() { e.writeStall(false, "") },
		DiskSlow:        e.diskSlow,
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			e.log.Error("pebble data corruption", "path", info.Path, "err", info.Details)
		},
		LowDiskSpace: func(info pebble.LowDiskSpaceInfo) {
			e.log.Warn("low disk space", "avail_bytes", info.AvailBytes, "total_bytes", info.TotalBytes, "below_percent", info.PercentThreshold)
		},
	}
}

// succeeded: a flush or compaction wrote its tables. Table writes stop
// backing off; only a flush ends a failed flush's state (a compaction that
// fits on a nearly full disk says nothing of the memtables).
func (e *eventLog) succeeded(flush bool) {
	e.bg.Report(nil)
	if e.health == nil {
		return
	}
	e.health.tableErrs.Store(0)
	if flush {
		e.health.recovered()
	}
}

func (e *eventLog) writeStall(begin bool, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if begin == e.stall {
		return
	}
	e.stall = begin
	if begin {
		e.log.Warn("write stall began: writes wait for flushes or compactions", "reason", reason)
	} else {
		e.log.Info("write stall ended")
	}
}

func (e *eventLog) diskSlow(info pebble.DiskSlowInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	quiet := e.slowAt.IsZero() || now.Sub(e.slowAt) >= diskSlowQuiet
	e.slowAt = now
	if !quiet {
		e.slowN++
		return
	}
	attrs := []any{"path", info.Path, "op", info.OpType.String(), "duration", info.Duration}
	if e.slowN > 0 {
		attrs = append(attrs, "unlogged_before", e.slowN)
		e.slowN = 0
	}
	e.log.Warn("disk slow", attrs...)
}
