package mappings

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// shardWorker reads one shard in order and hands each record to the lane
// of its partition key (ParallelizationFactor lanes); each lane batches and
// delivers its records in order, so one item's changes stay in order while
// up to ParallelizationFactor batches of the shard run at once.
//
// Invariant: lane.ckpt (persisted under its lane key) is a Seq such that
// every record of the shard that maps to the lane and has Seq ≤ ckpt was
// delivered, filtered out or sent to the failure store. The shard resumes
// at the lowest lane checkpoint and each lane skips records at or below its
// own, so a restart redelivers only what was in flight.
type shardWorker struct {
	r       *runner
	sh      shards.Info
	hashKey string
	lanes   []*lane
	wg      sync.WaitGroup

	mu      sync.Mutex
	readPos streams.Seq // every record ≤ readPos was handed to its lane
	ended   bool        // the shard is read to its end
	queued  int
	space   chan struct{}
}

// item is one record on its way to the function: the engine's record and
// when the reader queued it (the batching window starts then).
type item struct {
	delivery.Record
	arrived time.Time
}

func newShardWorker(r *runner, sh shards.Info, ck *shardCkpt, hashKey string) (*shardWorker, error) {
	w := &shardWorker{r: r, sh: sh, hashKey: hashKey, space: make(chan struct{}, 1)}
	pos, wins, err := r.initCheckpoints(sh, ck)
	if err != nil {
		return nil, err
	}
	for i, p := range pos {
		l := &lane{w: w, idx: i, ckpt: p, wake: make(chan struct{}, 1)}
		l.eng = delivery.New(r.cfg.engineConfig(&r.m.opts, sh.ID), hostInvoker{r}, l,
			delivery.Options{Now: r.m.opts.Now, Observer: r.observer(sh.ID)}, wins[i])
		w.lanes = append(w.lanes, l)
	}
	w.readPos = pos[0]
	for _, p := range pos {
		w.readPos = min(w.readPos, p)
	}
	return w, nil
}

func (w *shardWorker) laneOf(rec *streams.Record) *lane {
	if len(w.lanes) == 1 {
		return w.lanes[0]
	}
	h := store.PartitionHash(rec.Keys[w.hashKey]) * 0x9E3779B97F4A7C15
	return w.lanes[(h>>32)%uint64(len(w.lanes))]
}

func (w *shardWorker) render(rec *streams.Record) []byte {
	b := w.r.m.deps.Log.AppendRecordJSON(make([]byte, 0, 256+rec.SizeBytes*2), rec)
	return append(b[:len(b)-1], w.r.arnJSON...)
}

const readLimit = 1000

// run reads the shard to its end (or until the runner stops) and reports
// whether the shard is finished.
func (w *shardWorker) run() bool {
	r := w.r
	ctx := r.ctx
	for _, l := range w.lanes {
		w.wg.Add(1)
		if !r.g.Go("lane", func(context.Context) { defer w.wg.Done(); l.loop() }) {
			w.wg.Done()
		}
	}
	queueCap := max(1000, 2*r.cfg.BatchSize*len(w.lanes))
	pos := w.readPos
	gone := false
	for ctx.Err() == nil {
		b, err := r.m.deps.Log.Read(w.sh.ID, pos, readLimit)
		if errors.Is(err, streams.ErrShardNotFound) {
			gone = true
			break
		}
		if errors.Is(err, streams.ErrTrimmed) {
			r.setResult("PROBLEM: records were trimmed from the stream before they were processed")
			pos = w.firstReadable(pos)
			continue
		}
		if err != nil {
			r.setResult("PROBLEM: " + err.Error())
			lifecycle.Sleep(ctx, r.m.opts.RetryBackoff)
			continue
		}
		now := r.m.opts.Now()
		filtered := 0
		w.mu.Lock()
		for i := range b.Records {
			rec := &b.Records[i]
			l := w.laneOf(rec)
			if rec.Seq <= l.ckpt {
				continue // done before a restart
			}
			js := w.render(rec)
			if !keep(r.filters, js) {
				filtered++
				continue
			}
			l.queue = append(l.queue, item{Record: delivery.Record{Seq: rec.Seq, Time: rec.Time, Event: js}, arrived: now})
			w.queued++
		}
		w.readPos, w.ended = b.Next, b.Ended
		for _, l := range w.lanes {
			notify(l.wake)
		}
		w.mu.Unlock()
		if filtered > 0 {
			r.m.metrics.filtered.WithLabelValues(r.lbl...).Add(float64(filtered))
		}
		pos = b.Next
		if b.Ended {
			break
		}
		for ctx.Err() == nil {
			w.mu.Lock()
			full := w.queued > queueCap
			w.mu.Unlock()
			if !full {
				break
			}
			select {
			case <-w.space:
			case <-ctx.Done():
			}
		}
		if len(b.Records) == 0 {
			// Caught up: persist idle lanes' progress, then sleep until a
			// write commits. The timeout only re-runs flushIdle for lanes
			// that were busy at the first one.
			w.flushIdle()
			wctx, cancel := context.WithTimeout(ctx, r.m.opts.ShardPollInterval)
			err := r.m.deps.Log.Wait(wctx, w.sh.ID, pos)
			cancel()
			if errors.Is(err, streams.ErrShardNotFound) {
				gone = true
				break
			}
		}
	}
	w.mu.Lock()
	w.ended = true
	for _, l := range w.lanes {
		notify(l.wake)
	}
	w.mu.Unlock()
	w.wg.Wait()
	if ctx.Err() != nil {
		return false
	}
	if !gone {
		w.flushIdle()
	}
	return w.markFinished() == nil
}

// firstReadable finds the lowest position at or after pos that is not
// trimmed (Read fails with ErrTrimmed exactly below the trim point).
func (w *shardWorker) firstReadable(pos streams.Seq) streams.Seq {
	lo, hi := pos, streams.Seq(1)<<62
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if _, err := w.r.m.deps.Log.Read(w.sh.ID, mid, 1); errors.Is(err, streams.ErrTrimmed) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
