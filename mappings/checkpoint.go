package mappings

import (
	"context"
	"errors"

	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// Checkpoints: every lane's progress is a key (layout in store.go) written
// in the same synced store.DB.Write as whatever advanced it.
//
//   - A lane's delivery outcome (lane.Commit, the delivery.Committer of
//     the lane's engine): checkpoint, the handler's buffered writes, the
//     tumbling window state and the dead-letter entry, in one batch.
//   - An idle lane's progress past records it never saw (filtered out or
//     routed to other lanes): flushIdle, when the reader is caught up.
//   - A shard read to its end: markFinished.
//   - A change of ParallelizationFactor: initCheckpoints restarts every
//     lane at the slowest one and drops window state.

// initCheckpoints returns the starting position of each lane of the shard
// and their open tumbling windows, rewriting the shard's checkpoints when
// the lane count changed (or the shard is new). An error (reading the
// windows, committing the rewrite) starts nothing: the runner tries the
// shard again at its next poll.
func (r *runner) initCheckpoints(sh shards.Info, ck *shardCkpt) ([]Position, map[int]*delivery.Window, error) {
	factor := r.cfg.ParallelizationFactor
	pos := make([]Position, factor)
	for i := range pos {
		pos[i] = Position{Seq: streams.Seq(sh.Start)}
	}
	rewrite := true
	if ck != nil && len(ck.lanes) > 0 {
		if ck.factor == factor || (ck.factor == 0 && factor == 1) {
			for i := range pos {
				if p, ok := ck.pos(i); ok {
					pos[i] = p
				}
			}
			rewrite = ck.factor != factor
		} else {
			lo := ck.minPos()
			for i := range pos {
				pos[i] = lo
			}
		}
	}
	var wins map[int]*delivery.Window
	if r.cfg.TumblingWindowInSeconds > 0 && !rewrite {
		var err error
		if wins, err = loadWindows(r.m.ks.windows, r.cfg.UUID, sh.ID); err != nil {
			return nil, nil, err
		}
	}
	if rewrite {
		b := r.m.deps.DB.NewBatch()
		defer b.Close()
		err := errors.Join(
			r.m.ks.checkpoints.DeleteRange(b, ckptKey(r.cfg.UUID, sh.ID, 0), ckptKey(r.cfg.UUID, sh.ID, laneFactor)),
			r.m.ks.windows.DeleteRange(b, windowKey(r.cfg.UUID, sh.ID, 0), windowKey(r.cfg.UUID, sh.ID, 0xFF)),
			r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, sh.ID, laneFactor), []byte{byte(factor)}))
		for i, p := range pos {
			err = errors.Join(err, r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, sh.ID, byte(i)), posBytes(p)))
		}
		if err == nil {
			err = b.Commit(true)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return pos, wins, nil
}

// Commit implements delivery.Committer for the lane: one synced
// store.DB.Write holds the handler's buffered writes and emitted
// documents, the lane checkpoint, the window state and the dead-letter
// entry.
func (l *lane) Commit(ctx context.Context, o delivery.Outcome) error {
	w := l.w
	r := w.r
	uuid, shard, idx := r.cfg.UUID, w.sh.ID, byte(l.idx)
	err := r.m.commit(ctx, o.Writes, r.backlogFull, func(b *store.Batch) error {
		if o.Checkpoint != 0 {
			if err := r.m.ks.checkpoints.Set(b, ckptKey(uuid, shard, idx), w.posBytes(o.Checkpoint)); err != nil {
				return err
			}
		}
		if o.Window != nil {
			if err := r.m.ks.windows.Set(b, windowKey(uuid, shard, idx), encodeWindow(o.Window)); err != nil {
				return err
			}
		}
		if o.WindowClosed {
			if err := r.m.ks.windows.Delete(b, windowKey(uuid, shard, idx)); err != nil {
				return err
			}
		}
		failed := 0
		if o.Failure != nil {
			failed = len(o.Failure.Records)
		}
		if o.Delivered > 0 || failed > 0 {
			// Counted in the checkpoint's batch: exact across crashes.
			if err := r.m.ks.mappings.AddCounts(b, totalsKey(uuid), int64(o.Delivered), int64(failed)); err != nil {
				return err
			}
		}
		if o.Failure != nil {
			return r.m.deps.DLQ.Append(b, o.Failure)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if o.Checkpoint != 0 {
		w.mu.Lock()
		l.ckpt = max(l.ckpt, o.Checkpoint)
		w.mu.Unlock()
	}
	if o.Failure != nil {
		r.m.metrics.failed.WithLabelValues(r.lbl...).Add(float64(len(o.Failure.Records)))
		r.series.add(func(m *minute) { m.deadLettered += int64(len(o.Failure.Records)) })
		r.m.deps.DLQ.Notify()
	}
	return nil
}

// flushIdle persists readPos as the checkpoint of every idle lane (nothing
// queued or in flight) that is behind it: records filtered out or routed to
// other lanes then need not be read again after a restart. Only the reader
// goroutine calls it; while it runs no lane can become busy (only the
// reader fills queues).
func (w *shardWorker) flushIdle() {
	r := w.r
	w.mu.Lock()
	pos := w.readPos
	var idle []*lane
	for _, l := range w.lanes {
		if !l.busy && len(l.queue) == 0 && l.ckpt < pos {
			idle = append(idle, l)
		}
	}
	w.mu.Unlock()
	if len(idle) == 0 {
		return
	}
	_, err := r.m.deps.DB.Write(r.ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
		for _, l := range idle {
			if err := r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, w.sh.ID, byte(l.idx)), w.posBytes(pos)); err != nil {
				return err
			}
		}
		return nil
	}})
	if err != nil {
		return
	}
	w.mu.Lock()
	for _, l := range idle {
		l.ckpt = max(l.ckpt, pos)
	}
	w.mu.Unlock()
}

// markFinished records that the shard was read to its end and every lane
// settled it.
func (w *shardWorker) markFinished() error {
	r := w.r
	_, err := r.m.deps.DB.Write(r.ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
		return r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, w.sh.ID, laneDone), nil)
	}})
	return err
}
