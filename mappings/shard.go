package mappings

import (
	"context"
	"errors"
	"log/slog"
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

	src ShardReader
	// arena is where render writes events (the reader goroutine's): one
	// allocation per 64 KB of events instead of one per record. Each
	// event is a capped slice of it, kept alive by its queue item.
	arena []byte

	mu      sync.Mutex
	readPos streams.Seq // every record ≤ readPos was handed to its lane
	ended   bool        // the shard is read to its end
	queued  int
	space   chan struct{}
	// texts maps the Seqs a remote shard's lanes may checkpoint (every
	// record read and not yet passed by all lanes, and the lanes' own
	// positions) to their wire sequence numbers; nil for eddy's log.
	texts map[streams.Seq]string
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
	if r.remote {
		w.texts = map[streams.Seq]string{}
	}
	start := pos[0]
	for i, p := range pos {
		l := &lane{w: w, idx: i, ckpt: p.Seq, wake: make(chan struct{}, 1)}
		l.eng = delivery.New(r.cfg.engineConfig(&r.m.opts, sh.ID), hostInvoker{r}, l,
			delivery.Options{Now: r.m.opts.Now, Observer: r.observer(sh.ID)}, wins[i])
		w.lanes = append(w.lanes, l)
		if p.Seq < start.Seq {
			start = p
		}
		if w.texts != nil {
			w.texts[p.Seq] = p.Text
		}
	}
	w.readPos = start.Seq
	w.src = r.src.Open(sh, start)
	return w, nil
}

// posBytes is the checkpoint value of seq on this shard (with its wire
// sequence number on a remote shard).
func (w *shardWorker) posBytes(seq streams.Seq) []byte {
	if w.texts == nil {
		return seqBytes(seq)
	}
	w.mu.Lock()
	t := w.texts[seq]
	w.mu.Unlock()
	return posBytes(Position{Seq: seq, Text: t})
}

// pruneTexts forgets the wire sequence numbers no lane can checkpoint any
// more (below every lane's position). Caller holds w.mu.
func (w *shardWorker) pruneTexts() {
	lo := w.readPos
	for _, l := range w.lanes {
		lo = min(lo, l.ckpt)
	}
	for s := range w.texts {
		if s < lo {
			delete(w.texts, s)
		}
	}
}

func (w *shardWorker) laneOf(rec *streams.Record) *lane {
	if len(w.lanes) == 1 {
		return w.lanes[0]
	}
	h := store.PartitionHash(rec.Key(w.hashKey)) * 0x9E3779B97F4A7C15
	return w.lanes[(h>>32)%uint64(len(w.lanes))]
}

func (w *shardWorker) render(rec *streams.Record) []byte {
	if need := 512 + 2*rec.SizeBytes + len(w.r.arnJSON); cap(w.arena)-len(w.arena) < need {
		w.arena = make([]byte, 0, max(64<<10, need))
	}
	start := len(w.arena)
	b := w.src.Render(w.arena, rec)
	// (Were the estimate short, append moves the chunk: the events
	// before stay in the old array, which they keep alive.)
	w.arena = append(b[:len(b)-1], w.r.arnJSON...)
	return w.arena[start:len(w.arena):len(w.arena)]
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
	gone := false
	backoff := r.m.opts.RetryBackoff
	reads := &lifecycle.Failures{Log: r.m.log.With("uuid", r.cfg.UUID, "shard", w.sh.ID), What: "event source mapping shard read", Level: slog.LevelWarn}
	for ctx.Err() == nil {
		b, err := w.src.Read(ctx, readLimit)
		if errors.Is(err, streams.ErrShardNotFound) {
			gone = true
			break
		}
		if errors.Is(err, streams.ErrTrimmed) {
			r.setResult("PROBLEM: records were trimmed from the stream before they were processed")
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// Logged once per change of state; retried with backoff
			// (RetryBackoff doubling to MaxRetryBackoff).
			reads.Report(err)
			r.setResult("PROBLEM: " + err.Error())
			lifecycle.Sleep(ctx, backoff)
			backoff = min(2*backoff, r.m.opts.MaxRetryBackoff)
			continue
		}
		if reads.Failing() > 0 {
			reads.Report(nil)
			r.setResult("OK")
		}
		backoff = r.m.opts.RetryBackoff
		now := r.m.opts.Now()
		filtered := 0
		w.mu.Lock()
		for i := range b.Records {
			rec := &b.Records[i]
			l := w.laneOf(rec)
			if w.texts != nil {
				w.texts[rec.Seq] = rec.SeqText
			}
			if rec.Seq <= l.ckpt {
				continue // done before a restart
			}
			js := w.render(rec)
			if !keep(r.filters, js) {
				filtered++
				continue
			}
			l.queue = append(l.queue, item{Record: delivery.Record{Seq: rec.Seq, SeqText: rec.SeqText, Time: rec.Time, Event: js}, arrived: now})
			w.queued++
		}
		w.readPos, w.ended = b.Next, b.Ended
		if w.texts != nil && len(w.texts) > 2*readLimit {
			w.pruneTexts()
		}
		for _, l := range w.lanes {
			notify(l.wake)
		}
		w.mu.Unlock()
		if filtered > 0 {
			r.m.metrics.filtered.WithLabelValues(r.lbl...).Add(float64(filtered))
		}
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
			// write commits (a remote: one poll interval). The timeout
			// only re-runs flushIdle for lanes that were busy at the
			// first one.
			w.flushIdle()
			wctx, cancel := context.WithTimeout(ctx, r.m.opts.ShardPollInterval)
			err := w.src.Wait(wctx)
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

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
