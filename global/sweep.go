package global

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// Deletes a re-backfill cannot carry (sweep after a snapshot).
//
// A tombstone lives TombstoneTTL. A region behind for longer missed deletes
// whose tombstones are gone everywhere: no snapshot holds them. It still
// can tell them: an item it holds whose last write came from origin O,
// stamped before O's snapshot, that O's snapshot lacks (no item, no
// tombstone) was deleted at O after that write. O held that write (every
// write is its region's first), O's meta of the item only grows (last
// writer wins) until a delete's tombstone is collected, and every write O
// stamped before the snapshot had committed when O scanned (snapshotTS).
// Items last written by another region R are settled by R's snapshot:
// a gap has every origin's consumer re-backfill (resyncOthers).
//
// The region's own writes have no snapshot of their own: they are settled
// by any origin's that saw them. The request carries a timestamp before
// which every write of this region to the table is published (its outbox
// drained of them, ownPublished); origin waits until its consumer of this
// region has applied every change published so far (appliedAll), then
// scans, and its end marker echoes the timestamp (change.Own). An own
// write stamped before it that the snapshot lacks was deleted at origin.
// Either wait bounded by ownWait: past it, own writes are left alone
// (logged).
//
// The region that asked for the re-backfill (the snapshot's For) applies
// it like any changes, and:
//
//  1. begin marker: records the snapshot's ID ('s' key) and drops what an
//     earlier snapshot from origin left ('r' keys), with the checkpoint;
//  2. each item or tombstone of that snapshot: an 'r' key in the batch that
//     applies it (whether it wins or not), so a restart resumes it;
//  3. end marker: scans the table page by page; each item whose meta is
//     (ts < the snapshot's timestamp, origin) or (ts < Own, this region),
//     live, with no 'r' key, is deleted under its lock (the meta checked
//     again there) as a replicated delete of origin: Replication
//     principal, in the table's stream like any replicated delete. Its
//     tombstone (ts + 1, origin) keeps a stale copy of the deleted write
//     (another region's snapshot) out until the next collection; it is
//     no later, so that any later write wins here as it does at origin,
//     which holds no meta for the item. Then the 's' and 'r' keys go,
//     with the checkpoint. A crash before that sweeps again: idempotent.
//
// A gap (changes trimmed unseen, resync.go) drops the 's' key: a snapshot
// with a part trimmed is not whole, its end marker is ignored (logged) and
// the gap's own re-backfill sweeps instead. Two snapshots for this region
// interleaved (a consumer that started again asked again): the last begun
// is received, the other's end ignored. Nothing of a snapshot is held
// in memory: the 'r' keys are in Pebble, in the meta's key order.

// The kinds of marker that frame a re-backfill's snapshot (change.Mark).
const (
	markBegin = "begin"
	markEnd   = "end"
)

// sweepPage is how many items one page of the sweep reads.
const sweepPage = 500

// ownWait bounds each wait that lets a re-backfill settle the requesting
// region's own writes: its outbox draining them, the origin applying them.
const ownWait = time.Minute

// ownPublished returns a timestamp before which every local write to table
// has been published (JetStream acknowledged it), or 0 when they were not
// within ownWait.
func (m *Manager) ownPublished(ctx context.Context, table string) int64 {
	ts, err := m.snapshotTS(ctx)
	if err != nil {
		return 0
	}
	deadline := time.Now().Add(ownWait)
	for {
		held, err := m.outboxHolds(table, ts)
		if err == nil && !held {
			return ts
		}
		if time.Now().After(deadline) || !lifecycle.Sleep(ctx, 50*time.Millisecond) {
			m.log.Warn("global tables: this region's writes are not all published; the re-backfill cannot settle them (items of this region deleted elsewhere may stay)",
				"table", table, "err", err)
			return 0
		}
	}
}

// outboxHolds reports whether the outbox holds a change to table stamped
// before ts.
func (m *Manager) outboxHolds(table string, ts int64) (bool, error) {
	held := false
	err := m.ks.Scan([]byte{pOutbox}, []byte{pOutbox + 1}, func(k, v []byte) error {
		var c change
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("global: outbox entry %x: %w", k, err)
		}
		if c.Table == table && c.TS < ts {
			held = true
			return errFull
		}
		return nil
	})
	if err == errFull {
		err = nil
	}
	return held, err
}

// appliedAll waits (at most ownWait) until this region has applied every
// change of region to table that the stream holds now. It does not wait
// while its consumer of region waits for a re-backfill from region: two
// regions re-backfilling from each other (the stream made again) would
// wait for each other.
func (m *Manager) appliedAll(ctx context.Context, table, region string) bool {
	fail := func(err error) bool {
		m.log.Warn("global tables: a re-backfill cannot settle the requesting region's own writes: its changes are not all applied here",
			"table", table, "region", region, "err", err)
		return false
	}
	if m.isWaiting(table, region) {
		return fail(errors.New("re-backfilling from that region"))
	}
	js, _, err := m.jetStream(ctx)
	if err != nil {
		return fail(err)
	}
	s, err := js.Stream(ctx, m.opts.Stream)
	if err != nil {
		return fail(err)
	}
	last, err := s.GetLastMsgForSubject(ctx, m.subject(table, region))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return true
	}
	if err != nil {
		return fail(err)
	}
	created := s.CachedInfo().Created.UnixNano()
	deadline := time.Now().Add(ownWait)
	for {
		cp, cpCreated, err := m.checkpointOf(table, region)
		if err != nil {
			return fail(err)
		}
		if cp >= last.Sequence && cpCreated == created {
			return true
		}
		if m.isWaiting(table, region) {
			return fail(errors.New("re-backfilling from that region"))
		}
		if time.Now().After(deadline) || !lifecycle.Sleep(ctx, 50*time.Millisecond) {
			return fail(fmt.Errorf("applied up to stream sequence %d, its last change is at %d", cp, last.Sequence))
		}
	}
}

// receiving returns the ID of the snapshot being received from origin
// ("" when none).
func (m *Manager) receiving(table, origin string) (string, error) {
	v, _, err := m.ks.Get(snapshotKey(table, origin))
	return string(v), err
}

// dropSnapshot forgets a snapshot being received from origin: a gap may
// have trimmed part of it.
func (m *Manager) dropSnapshot(table, origin string) error {
	return m.ks.Write(false, func(w kv.Writer) error { return w.Delete(snapshotKey(table, origin)) })
}

// applyMark handles a snapshot's marker, with the checkpoint of its stream
// sequence. Markers of snapshots framed for other regions only move the
// checkpoint.
func (m *Manager) applyMark(ctx context.Context, p pending, origin string, created int64) error {
	c := p.c
	t := m.db.TableIn(m.opts.Region, c.Table)
	if t == nil {
		return fmt.Errorf("%w: %s", errNoTable, c.Table)
	}
	cp := checkpointValue(p.seq, created)
	if c.For != m.opts.Region {
		return m.ks.Write(false, func(w kv.Writer) error { return w.Set(checkpointKey(c.Table, origin), cp) })
	}
	seen := seenPrefix(t.ID, origin)
	seenEnd := prefixEnd(seen)
	switch c.Mark {
	case markBegin:
		m.log.Info("global tables: receiving a re-backfill from the origin region", "table", c.Table, "origin", origin, "snapshot", c.Snap)
		return m.ks.Write(false, func(w kv.Writer) error {
			if err := w.DeleteRange(seen, seenEnd); err != nil {
				return err
			}
			if err := w.Set(snapshotKey(c.Table, origin), []byte(c.Snap)); err != nil {
				return err
			}
			return w.Set(checkpointKey(c.Table, origin), cp)
		})
	case markEnd:
		cur, err := m.receiving(c.Table, origin)
		if err != nil {
			return err
		}
		if cur != c.Snap {
			// Cut by a gap, or begun before another snapshot for this
			// region (a request made again): the one being received, if
			// any, keeps its state.
			m.log.Warn("global tables: the end of a re-backfill this region did not receive whole; another re-backfill repairs it",
				"table", c.Table, "origin", origin, "snapshot", c.Snap, "receiving", cur)
			return m.ks.Write(false, func(w kv.Writer) error { return w.Set(checkpointKey(c.Table, origin), cp) })
		}
		n, err := m.sweep(ctx, t, origin, c.TS, c.Own)
		if err != nil {
			return err
		}
		m.log.Info("global tables: re-backfill from the origin region applied", "table", c.Table, "origin", origin,
			"snapshot", c.Snap, "deletedMissing", n)
		return m.ks.Write(false, func(w kv.Writer) error {
			if err := w.DeleteRange(seen, seenEnd); err != nil {
				return err
			}
			if err := w.Delete(snapshotKey(c.Table, origin)); err != nil {
				return err
			}
			return w.Set(checkpointKey(c.Table, origin), cp)
		})
	}
	return fmt.Errorf("global: unknown snapshot marker %q at stream sequence %d", c.Mark, p.seq)
}

// sweep deletes the items of t last written by origin before snapTS, or
// here before own, that origin's snapshot lacked (no 'r' key), and returns
// how many it deleted.
func (m *Manager) sweep(ctx context.Context, t *store.Table, origin string, snapTS, own int64) (int, error) {
	n := 0
	spec := &store.ReadSpec{Table: t, Limit: sweepPage}
	for {
		var keys []attr.Item
		page, err := m.db.Read(ctx, spec, func(r store.Row) error {
			keys = append(keys, t.KeyOf(r.Item))
			return nil
		})
		if err != nil {
			return n, err
		}
		for _, k := range keys {
			mk := m.itemMetaKey(t, k)
			md, ok, err := m.getMeta(mk)
			if err != nil {
				return n, err
			}
			if !ok || !m.missing(md, origin, snapTS, own) {
				continue
			}
			if _, in, err := m.ks.Get(seenKey(t.ID, origin, mk)); err != nil || in {
				if err != nil {
					return n, err
				}
				continue
			}
			deleted, err := m.deleteMissing(ctx, t, k, mk, md, origin)
			if err != nil {
				return n, err
			}
			if deleted {
				n++
			}
		}
		if !page.More {
			return n, nil
		}
		spec.Start = page.LastKey
	}
}

// missing reports whether an item's meta makes it one that origin's
// snapshot had to hold: live, last written by origin before snapTS, or
// here before own.
func (m *Manager) missing(md meta, origin string, snapTS, own int64) bool {
	return !md.Deleted && ((md.Region == origin && md.TS < snapTS) || (md.Region == m.opts.Region && md.TS < own))
}

// deleteMissing deletes an item as a replicated delete of origin, under
// its lock, if its last write is still md.
func (m *Manager) deleteMissing(ctx context.Context, t *store.Table, k attr.Item, mk []byte, md meta, origin string) (bool, error) {
	var still bool
	_, err := m.db.Write(ctx, store.WriteOptions{Principal: store.Principal{Type: PrincipalType, ID: origin}, Op: "Replication",
		Extra: func(b *store.Batch) error {
			if !still {
				return nil
			}
			return m.ks.Set(b, mk, meta{TS: md.TS + 1, Region: origin, Deleted: true, Keys: k}.encode())
		}}, store.Mutation{Table: t, Key: k, Apply: func(old attr.Item) (attr.Item, error) {
		cur, ok, err := m.getMeta(mk)
		if err != nil {
			return nil, err
		}
		still = old != nil && ok && !cur.Deleted && cur.TS == md.TS && cur.Region == md.Region
		if !still {
			return old, nil
		}
		return nil, nil
	}})
	return still && err == nil, err
}
