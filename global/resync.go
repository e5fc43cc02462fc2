package global

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/internal/lifecycle"
)

// Re-backfill after a gap (a region behind the stream's retention).
//
// A region's consumer of (table, origin) knows that every change of origin
// up to its checkpoint is applied, and expects the next one at checkpoint
// + 1 or later. Each Fetch of an ordered consumer creates a JetStream
// consumer at the position after the last message delivered; JetStream
// starts it at the stream's first sequence instead when that is higher
// (the messages below were trimmed: MaxAge or another limit), and says so
// in the consumer's info (Delivered.Stream = its start - 1). A start above
// the expected position is a gap: changes of origin may have been trimmed
// unseen. The consumer then asks origin for a re-backfill (control op
// "backfill"): origin publishes a snapshot of its table on its subject
// (backfill, as for a new replica: every item with its meta, every
// tombstone), which reaches this region after the gap; the consumer waits
// until origin reports the snapshot published, records the position after
// the gap as its checkpoint, and goes on. The snapshot's items are applied
// with last writer wins like any change, so a newer local write is not
// overwritten, and each trimmed change is covered: origin's item at the
// snapshot is that change or a later write.
//
// An idle origin is no gap: while a consumer waits with nothing to apply,
// it probes (every idleProbe) that origin's subject holds nothing between
// its expected position and the stream's last sequence, and moves its
// checkpoint there. A consumer with no checkpoint yet (a replica being
// created, or a region added) is never checked: the creation's backfill
// covers what came before it.

// gapLog is logged once per gap, at warn.
const gapLog = "global tables: changes trimmed from the stream before this region applied them; re-backfilling the table from the origin region"

// idleProbe is how often an idle consumer moves its checkpoint to the
// stream's end: often enough that the stream's retention never trims past it.
func (m *Manager) idleProbe() time.Duration { return min(m.opts.MaxAge/4, 30*time.Second) }

// gapCheck follows one MREC consumer's position.
type gapCheck struct {
	expect  uint64    // the lowest sequence a next change may have; 0: not checked
	probed  time.Time // the last idle probe (or change applied)
	created int64     // the stream's creation time (unix ns) when the consumer started
}

// errStreamRemade: the stream was made again under a running consumer,
// which starts again (and resets, consumeOnce).
var errStreamRemade = errors.New("global: the stream was made again")

// checkGap runs after each Fetch, before its messages are applied: when
// JetStream started the consumer above the expected position, it
// re-backfills (table, origin) and records the new position.
func (m *Manager) checkGap(ctx context.Context, cons jetstream.Consumer, g *gapCheck, table, origin string, lag *lagStats) error {
	info := cons.CachedInfo()
	if info == nil {
		return nil
	}
	start := info.Delivered.Stream + 1
	if g.expect == 0 || start <= g.expect {
		g.expect = max(g.expect, start)
		return nil
	}
	m.log.Warn(gapLog, "table", table, "origin", origin, "expected", g.expect, "first", start)
	m.resyncOthers(table, origin)
	m.resyncDone(table, origin, -1) // this re-backfill answers those asked so far
	if err := m.dropSnapshot(table, origin); err != nil {
		return err
	}
	lag.resynced()
	if m.opts.OnResync != nil {
		m.opts.OnResync(table, origin)
	}
	if err := m.resync(ctx, table, origin); err != nil {
		return err
	}
	if err := m.saveCheckpoint(table, origin, start-1, g.created); err != nil {
		return err
	}
	g.expect = start
	m.log.Info("global tables: re-backfill from the origin region published; applying it", "table", table, "origin", origin)
	return nil
}

// resyncOthers has the consumers of table's other origins re-backfill too:
// this region missed changes that the gap's origin applied, deletes of
// other regions' writes among them, which only their writers' snapshots
// can settle once the tombstones are collected (sweep.go).
func (m *Manager) resyncOthers(table, origin string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil {
		return
	}
	for o := range ts.consumers {
		if o != origin {
			if ts.resync == nil {
				ts.resync = map[string]int{}
			}
			ts.resync[o]++
		}
	}
}

// resyncDone forgets the re-backfills asked of origin's consumer when no
// other was asked since the count n was read (n < 0: whatever the count).
func (m *Manager) resyncDone(table, origin string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ts := m.tables[table]; ts != nil && (n < 0 || ts.resync[origin] == n) {
		delete(ts.resync, origin)
	}
}

// resyncAsked runs the re-backfill from origin that another consumer's gap
// asked for (resyncOthers), if any.
func (m *Manager) resyncAsked(ctx context.Context, table, origin string) error {
	m.mu.Lock()
	n := 0
	if ts := m.tables[table]; ts != nil {
		n = ts.resync[origin]
	}
	m.mu.Unlock()
	if n == 0 {
		return nil
	}
	m.log.Info("global tables: re-backfilling the table from this origin too (another origin's changes were trimmed unseen)",
		"table", table, "origin", origin)
	if err := m.dropSnapshot(table, origin); err != nil {
		return err
	}
	if err := m.resync(ctx, table, origin); err != nil {
		return err
	}
	m.resyncDone(table, origin, n)
	return nil
}

// probeIdle moves an idle consumer's checkpoint to the stream's last
// sequence when origin's subject holds nothing from the expected position
// on (and nothing was trimmed there yet).
func (m *Manager) probeIdle(ctx context.Context, g *gapCheck, table, origin string) error {
	if g.expect == 0 || time.Since(g.probed) < m.idleProbe() {
		return nil
	}
	g.probed = time.Now()
	js, _, err := m.jetStream(ctx)
	if err != nil {
		return err
	}
	s, err := js.Stream(ctx, m.opts.Stream)
	if err != nil {
		return err
	}
	if s.CachedInfo().Created.UnixNano() != g.created {
		return errStreamRemade
	}
	st := s.CachedInfo().State
	if st.FirstSeq > g.expect || st.LastSeq < g.expect {
		return nil // a gap the next Fetch reports, or nothing new
	}
	for _, subj := range m.changeSubjects(table, origin) {
		_, err = s.GetMsg(ctx, g.expect, jetstream.WithGetMsgSubject(subj))
		if err == nil {
			return nil // a change (or a marker) is there: the consumer gets it
		}
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return err
		}
	}
	if err := m.saveCheckpoint(table, origin, st.LastSeq, g.created); err != nil {
		return err
	}
	g.expect = st.LastSeq + 1
	return nil
}

// resetAfterStreamLoss handles a stream made again since the checkpoint
// (its creation time differs from the checkpoint's, or, for a checkpoint
// that does not record it, it holds fewer changes than were applied):
// EDDY_GLOBAL was deleted, or its NATS server lost its store, so its
// sequences started over and a consumer started after the checkpoint would
// skip or wait for changes forever. That is a gap too: the consumer
// re-backfills from origin and starts again from the stream's beginning.
func (m *Manager) resetAfterStreamLoss(ctx context.Context, table, origin string, cp uint64, created int64, lag *lagStats) error {
	m.log.Warn("global tables: the stream was made again since this region's checkpoint; re-backfilling the table from the origin region",
		"table", table, "origin", origin, "checkpoint", cp)
	if err := m.dropSnapshot(table, origin); err != nil {
		return err
	}
	lag.resynced()
	if m.opts.OnResync != nil {
		m.opts.OnResync(table, origin)
	}
	if err := m.resync(ctx, table, origin); err != nil {
		return err
	}
	return m.saveCheckpoint(table, origin, 0, created)
}

// streamLost makes the stream again when err says it is gone (deleted, or
// its NATS server lost its store), so that publishing and consuming can
// resume.
func (m *Manager) streamLost(ctx context.Context, err error) {
	if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrNoStreamResponse) && !errors.Is(err, nats.ErrNoResponders) {
		return
	}
	js, _, jerr := m.jetStream(ctx)
	if jerr != nil {
		return
	}
	if err := m.ensureStream(ctx, js); err != nil {
		m.log.Debug("global tables: making the stream again", "err", err)
	}
}

func (m *Manager) saveCheckpoint(table, origin string, seq uint64, created int64) error {
	return m.ks.Write(false, func(w kv.Writer) error {
		return w.Set(checkpointKey(table, origin), checkpointValue(seq, created))
	})
}

// resync asks origin for a re-backfill of table and waits until origin
// reports it published. A request lost (origin restarted) starts another.
func (m *Manager) resync(ctx context.Context, table, origin string) error {
	m.setWaiting(table, origin, true)
	defer m.setWaiting(table, origin, false)
	id := newEpoch()
	own := m.ownPublished(ctx, table)
	fail := lifecycle.Failures{Log: m.log.With("table", table, "origin", origin), What: "global tables: asking for a re-backfill", Level: slog.LevelWarn}
	for {
		rep, err := m.requestReply(ctx, origin, controlRequest{Op: "backfill", Table: table, ID: id, From: m.opts.Region, Own: own})
		if err == nil && rep.Error != "" {
			err = fmt.Errorf("global: backfill %s in %s: %s", table, origin, rep.Error)
		}
		fail.Report(err)
		if err == nil && rep.Done {
			return nil
		}
		if !lifecycle.Sleep(ctx, max(m.opts.RetryBackoff, 100*time.Millisecond)) {
			return ctx.Err()
		}
	}
}

func (m *Manager) setWaiting(table, origin string, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil {
		return
	}
	if ts.waiting == nil {
		ts.waiting = map[string]bool{}
	}
	if on {
		ts.waiting[origin] = true
	} else {
		delete(ts.waiting, origin)
	}
}

// isWaiting reports whether the consumer of (table, origin) waits for a
// re-backfill it asked for.
func (m *Manager) isWaiting(table, origin string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	return ts != nil && ts.waiting[origin]
}

// backfills are the re-backfills this region runs for other regions, by
// request ID.
type backfills struct {
	mu   sync.Mutex
	runs map[string]*backfillRun
}

type backfillRun struct {
	done   chan struct{}
	err    error
	doneAt time.Time // set when done (under backfills.mu)
}

// handleBackfill starts (for a new ID) or reports (done, or the error of)
// a re-backfill of req.Table requested by another region.
func (m *Manager) handleBackfill(req controlRequest) (bool, error) {
	if _, ok := m.set(req.Table); !ok || m.db.TableIn(m.opts.Region, req.Table) == nil {
		return true, nil // not a replica here any more: nothing to send
	}
	m.bf.mu.Lock()
	defer m.bf.mu.Unlock()
	if m.bf.runs == nil {
		m.bf.runs = map[string]*backfillRun{}
	}
	run := m.bf.runs[req.ID]
	if run == nil {
		// Runs done long ago whose requester never came back for them.
		for id, r := range m.bf.runs {
			if !r.doneAt.IsZero() && time.Since(r.doneAt) > 10*time.Minute {
				delete(m.bf.runs, id)
			}
		}
		run = &backfillRun{done: make(chan struct{})}
		m.bf.runs[req.ID] = run
		m.log.Info("global tables: re-backfilling a table for a region behind the stream", "table", req.Table)
		m.group.Go("re-backfill "+req.Table, func(ctx context.Context) {
			err := m.backfill(ctx, req.Table, req.From, req.Own)
			m.bf.mu.Lock()
			run.err, run.doneAt = err, time.Now()
			m.bf.mu.Unlock()
			close(run.done)
		})
		return false, nil
	}
	select {
	case <-run.done:
		delete(m.bf.runs, req.ID) // a retry after a lost answer starts another: harmless
		return run.err == nil, run.err
	default:
		return false, nil
	}
}
