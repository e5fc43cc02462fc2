package streams

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
)

// ensureStream returns the stream of t's current stream label, creating it
// (with Options.ShardCount shards) if needed and disabling the table's
// older streams. Creation is one synced commit, before any record can land
// in the new shards.
func (l *Log) ensureStream(t *store.Table) (*stream, error) {
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	l.mu.RLock()
	st := l.byTable[tableLabel{t.ID, t.Stream.Label}]
	l.mu.RUnlock()
	if st != nil {
		return st, nil
	}
	now := l.opts.Now().UTC()
	created, err := time.Parse("2006-01-02T15:04:05.000", t.Stream.Label)
	if err != nil {
		created = now
	}
	d := streamDesc{
		ID: l.lastID + 1, TableName: t.Name, TableID: t.ID, Region: t.Region, Label: t.Stream.Label,
		ViewType: t.Stream.ViewType, Created: created,
		KeySchema: []KeyElement{{t.Hash.Name, "HASH"}},
	}
	if t.Range != nil {
		d.KeySchema = append(d.KeySchema, KeyElement{t.Range.Name, "RANGE"})
	}
	b := l.db.NewBatch()
	defer b.Close()
	if err := setJSON(b, l.ks.streams, streamKey(d.ID), d); err != nil {
		return nil, err
	}
	if err := l.ks.meta.Set(b, lastIDKey, binary.BigEndian.AppendUint32(nil, d.ID)); err != nil {
		return nil, err
	}
	// Older streams of the same table close now.
	var older []*stream
	l.mu.RLock()
	for _, o := range l.streams {
		if o.desc.TableID == t.ID && !o.desc.Disabled && o.desc.Label < t.Stream.Label {
			older = append(older, o)
		}
	}
	l.mu.RUnlock()

	l.mu.Lock()
	defer l.mu.Unlock()
	var plans []plan
	for _, o := range older {
		p, err := l.planDisable(b, o, now)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	var descs []shardDesc
	for i, r := range shards.Initial(l.opts.ShardCount) {
		sd := shardDesc{Stream: d.ID, Ordinal: uint32(i + 1), Range: r, Start: Seq(l.seq.Add(1)), Created: now}
		sd.Trim = sd.Start + 1
		if err := setJSON(b, l.ks.shards, shardKey(d.ID, sd.Ordinal), sd); err != nil {
			return nil, err
		}
		descs = append(descs, sd)
	}
	if err := l.commitSynced(b); err != nil {
		return nil, err
	}
	for _, p := range plans {
		p.install()
	}
	st = l.addStream(d)
	for _, sd := range descs {
		l.installShard(l.newShard(st, sd))
	}
	l.lastID = d.ID
	return st, nil
}

func setJSON(b *store.Batch, ks store.KeySpace, key []byte, v any) error {
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ks.Set(b, key, j)
}

// commitSynced commits a lifecycle batch durably, with the high-water mark
// so that Seqs reserved for shard starts are never reused.
func (l *Log) commitSynced(b *store.Batch) error {
	if err := l.ks.meta.Set(b, hwmKey, binary.BigEndian.AppendUint64(nil, l.seq.Load())); err != nil {
		return err
	}
	return b.Commit(true)
}

// plan is a lifecycle change written to a batch, installed in memory once
// the batch commits.
type plan struct{ install func() }

// planClose closes sh (EndingSequenceNumber = its last reserved Seq) and
// adds children with the given ranges; caller holds lifeMu and mu
// exclusively, so no Prepare can reserve in sh meanwhile. Records still in
// flight have Seqs ≤ the end: the shard reads as fully read only once they
// are done.
func (l *Log) planClose(b *store.Batch, sh *shard, now time.Time, children []shards.Range) (plan, error) {
	st := sh.st
	sh.mu.Lock()
	end := sh.last
	trim := sh.trim
	sh.mu.Unlock()
	d := sh.desc
	d.Closed, d.End, d.ClosedAt, d.Trim = true, end, now, trim
	if err := setJSON(b, l.ks.shards, shardKey(d.Stream, d.Ordinal), d); err != nil {
		return plan{}, err
	}
	var kids []shardDesc
	for _, r := range children {
		cd := shardDesc{Stream: d.Stream, Ordinal: st.nextOr + uint32(len(kids)), Parent: d.Ordinal,
			Range: r, Start: Seq(l.seq.Add(1)), Created: now}
		cd.Trim = cd.Start + 1
		if err := setJSON(b, l.ks.shards, shardKey(cd.Stream, cd.Ordinal), cd); err != nil {
			return plan{}, err
		}
		kids = append(kids, cd)
	}
	st.nextOr += uint32(len(kids))
	return plan{install: func() {
		sh.mu.Lock()
		sh.closed, sh.end, sh.closedAt = true, end, now
		sh.desc.Closed, sh.desc.End, sh.desc.ClosedAt = true, end, now
		sh.wakeLocked()
		sh.mu.Unlock()
		for i, o := range st.open {
			if o == sh {
				st.open = append(st.open[:i:i], st.open[i+1:]...)
				break
			}
		}
		for _, cd := range kids {
			l.installShard(l.newShard(st, cd))
		}
	}}, nil
}

// planDisable closes every open shard of st and marks it DISABLED.
func (l *Log) planDisable(b *store.Batch, st *stream, now time.Time) (plan, error) {
	var ps []plan
	for _, sh := range append([]*shard(nil), st.open...) {
		p, err := l.planClose(b, sh, now, nil)
		if err != nil {
			return plan{}, err
		}
		ps = append(ps, p)
	}
	d := st.desc
	d.Disabled, d.DisabledAt = true, now
	if err := setJSON(b, l.ks.streams, streamKey(d.ID), d); err != nil {
		return plan{}, err
	}
	return plan{install: func() {
		for _, p := range ps {
			p.install()
		}
		st.desc = d
	}}, nil
}

// Sync brings the streams in line with the table catalog: it creates the
// stream of every table with an enabled stream, and disables the streams of
// tables that were deleted or whose stream was disabled or replaced.
// Maintenance runs it every interval; the Streams API runs it before
// answering so that it never shows a stale status. Must not be called
// from inside a write (it reads the catalog).
func (l *Log) Sync() error {
	// Judge only streams that existed before the catalog is read: their
	// tables existed then too, so a table missing from the catalog was
	// deleted (table IDs are never reused), and labels only grow.
	l.mu.RLock()
	var candidates []*stream
	for _, st := range l.streams {
		if !st.desc.Disabled {
			candidates = append(candidates, st)
		}
	}
	l.mu.RUnlock()
	all := l.db.Tables()
	tables := make(map[uint32]*store.Table, len(all))
	for _, t := range all {
		tables[t.ID] = t
	}
	for _, t := range tables {
		if !t.Stream.Enabled {
			continue
		}
		l.mu.RLock()
		st := l.byTable[tableLabel{t.ID, t.Stream.Label}]
		l.mu.RUnlock()
		if st == nil {
			if _, err := l.ensureStream(t); err != nil {
				return err
			}
		}
	}
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	var stale []*stream
	l.mu.RLock()
	for _, st := range candidates {
		if st.desc.Disabled {
			continue
		}
		t := tables[st.desc.TableID]
		if t == nil || t.Stream.Label > st.desc.Label || (t.Stream.Label == st.desc.Label && !t.Stream.Enabled) {
			stale = append(stale, st)
		}
	}
	l.mu.RUnlock()
	if len(stale) == 0 {
		return nil
	}
	now := l.opts.Now().UTC()
	b := l.db.NewBatch()
	defer b.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	var ps []plan
	for _, st := range stale {
		p, err := l.planDisable(b, st, now)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if err := l.commitSynced(b); err != nil {
		return err
	}
	for _, p := range ps {
		p.install()
	}
	return nil
}

// maintainLoop runs Maintain every MaintenanceInterval until ctx is done.
// A failed round is retried by the next; failures are logged once per
// change of state (failing, then recovered), not every round.
func (l *Log) maintainLoop(ctx context.Context) {
	tick := time.NewTicker(l.opts.MaintenanceInterval)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		l.maintainRound(l.Maintain, now.Sub(last))
		last = now
	}
}

// maintainRound runs one round of maintenance (Maintain, or a failing
// stand-in in tests) and logs the change of state it makes, if any.
func (l *Log) maintainRound(maintain func(time.Duration) error, elapsed time.Duration) {
	l.maintained.Report(maintain(elapsed))
}

// Maintain runs one round of background work: Sync, then rollover and
// splits of open shards (elapsed is the window the write counters cover),
// then trimming and dropping of expired shards and streams.
func (l *Log) Maintain(elapsed time.Duration) error {
	if err := l.Sync(); err != nil {
		return err
	}
	if err := l.roll(elapsed); err != nil {
		return err
	}
	return l.trimAll()
}

func (l *Log) roll(elapsed time.Duration) error {
	policy := shards.Policy{
		RolloverInterval: l.opts.RolloverInterval, MaxOpenShards: l.opts.MaxOpenShards,
		SplitWritesPerSecond: l.opts.SplitWritesPerSecond,
	}
	now := l.opts.Now().UTC()
	type todo struct {
		sh  *shard
		act shards.Action
	}
	var work []todo
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	l.mu.RLock()
	for _, st := range l.streams {
		open := len(st.open)
		for _, sh := range st.open {
			w := sh.writes.Swap(0)
			act := policy.Decide(now, sh.desc.Created, sh.desc.Range, w, elapsed, open)
			if act == shards.Split {
				open++
			}
			if act != shards.Keep {
				work = append(work, todo{sh, act})
			}
		}
	}
	l.mu.RUnlock()
	if len(work) == 0 {
		return nil
	}
	b := l.db.NewBatch()
	defer b.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	var ps []plan
	for _, w := range work {
		kids := []shards.Range{w.sh.desc.Range}
		if w.act == shards.Split {
			lo, hi := w.sh.desc.Range.Split()
			kids = []shards.Range{lo, hi}
		}
		p, err := l.planClose(b, w.sh, now, kids)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if err := l.commitSynced(b); err != nil {
		return err
	}
	for _, p := range ps {
		p.install()
	}
	return nil
}

// trimAll deletes records older than the retention (one range deletion
// per shard), drops closed shards whose close is older than the retention,
// and drops disabled streams that have no shards left.
func (l *Log) trimAll() error {
	now := l.opts.Now()
	cutoff := now.Add(-l.opts.Retention)
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	l.mu.RLock()
	var all []*shard
	for _, st := range l.streams {
		all = append(all, st.shards...)
	}
	l.mu.RUnlock()
	b := l.db.NewBatch()
	defer b.Close()
	type change struct {
		sh   *shard
		trim Seq
		drop bool
	}
	var changes []change
	for _, sh := range all {
		sh.mu.Lock()
		visible, trim, closed, closedAt, end := sh.visible, sh.trim, sh.closed, sh.closedAt, sh.end
		sh.mu.Unlock()
		d := sh.desc
		if closed && closedAt.Before(cutoff) && visible >= end {
			if err := l.ks.records.DeleteRange(b, recordKey(nil, d.Stream, d.Ordinal, 0), recordKey(nil, d.Stream, d.Ordinal+1, 0)); err != nil {
				return err
			}
			if err := l.ks.shards.Delete(b, shardKey(d.Stream, d.Ordinal)); err != nil {
				return err
			}
			changes = append(changes, change{sh: sh, drop: true})
			continue
		}
		cut, err := l.trimPoint(sh, trim, visible, cutoff)
		if err != nil {
			return err
		}
		if cut <= trim {
			continue
		}
		if err := l.ks.records.DeleteRange(b, recordKey(nil, d.Stream, d.Ordinal, trim), recordKey(nil, d.Stream, d.Ordinal, cut)); err != nil {
			return err
		}
		sh.mu.Lock()
		d.Closed, d.End, d.ClosedAt, d.Trim = sh.closed, sh.end, sh.closedAt, cut
		sh.mu.Unlock()
		if err := setJSON(b, l.ks.shards, shardKey(d.Stream, d.Ordinal), d); err != nil {
			return err
		}
		changes = append(changes, change{sh: sh, trim: cut})
	}
	if len(changes) == 0 {
		return l.dropEmptyStreams()
	}
	// Trimming need not be synced: lost on a crash, it is redone.
	if err := l.ks.meta.Set(b, hwmKey, binary.BigEndian.AppendUint64(nil, l.seq.Load())); err != nil {
		return err
	}
	if err := b.Commit(false); err != nil {
		return err
	}
	l.mu.Lock()
	for _, c := range changes {
		sh := c.sh
		sh.mu.Lock()
		if c.drop {
			sh.gone = true
			sh.wakeLocked()
		} else {
			sh.trim = c.trim
		}
		sh.mu.Unlock()
		if c.drop {
			st := sh.st
			for i, o := range st.shards {
				if o == sh {
					st.shards = append(st.shards[:i:i], st.shards[i+1:]...)
					break
				}
			}
			delete(l.shardIDs, sh.id)
		}
	}
	l.mu.Unlock()
	return l.dropEmptyStreams()
}

// trimPoint returns the Seq below which sh's records are older than
// cutoff, scanning from the current trim point up to the visible
// watermark.
func (l *Log) trimPoint(sh *shard, trim, visible Seq, cutoff time.Time) (Seq, error) {
	d := sh.desc
	it, err := l.ks.records.NewIter(
		recordKey(nil, d.Stream, d.Ordinal, trim),
		recordKey(nil, d.Stream, d.Ordinal, visible+1),
	)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	cut := trim
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		seq := Seq(binary.BigEndian.Uint64(k[len(k)-8:]))
		t, err := recordTime(it.Value())
		if err != nil {
			return 0, err
		}
		if !t.Before(cutoff) {
			return cut, it.Error()
		}
		cut = seq + 1
	}
	return cut, it.Error()
}

// dropEmptyStreams forgets disabled streams without shards; caller holds
// lifeMu.
func (l *Log) dropEmptyStreams() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, st := range l.streams {
		if !st.desc.Disabled || len(st.shards) > 0 {
			continue
		}
		if err := l.ks.streams.Write(false, func(w kv.Writer) error { return w.Delete(streamKey(id)) }); err != nil {
			return err
		}
		delete(l.streams, id)
		delete(l.byTable, tableLabel{st.desc.TableID, st.desc.Label})
		if l.byArn[st.arn] == st {
			delete(l.byArn, st.arn)
		}
	}
	return nil
}
