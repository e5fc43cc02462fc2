package mappings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"
)

// lane batches the records the reader queues for it and delivers each
// batch through its delivery.Engine, which applies Lambda's rules and
// commits through the lane (checkpoint.go). Batches are formed here: up to
// BatchSize records, waiting at most MaximumBatchingWindowInSeconds from
// the first queued record, under the payload limit, of one tumbling window.
type lane struct {
	w    *shardWorker
	idx  int
	wake chan struct{}
	eng  *delivery.Engine // only the lane's goroutine uses it

	// guarded by w.mu
	ckpt  streams.Seq
	queue []item
	busy  bool
}

// loop takes batches from the lane's queue and delivers them.
func (l *lane) loop() {
	w := l.w
	r := w.r
	ctx := r.ctx
	window := time.Duration(r.cfg.MaximumBatchingWindowInSeconds) * time.Second
	tw := r.cfg.TumblingWindowInSeconds
	for {
		w.mu.Lock()
		for len(l.queue) == 0 {
			if w.ended || ctx.Err() != nil {
				w.mu.Unlock()
				if ctx.Err() == nil {
					_ = l.eng.CloseWindow(ctx, false) // the shard ended
				}
				return
			}
			w.mu.Unlock()
			if !l.waitIdle() {
				return
			}
			w.mu.Lock()
		}
		if window > 0 && len(l.queue) < r.cfg.BatchSize && !w.ended {
			deadline := l.queue[0].arrived.Add(window)
			w.mu.Unlock()
			t := time.NewTimer(time.Until(deadline))
		wait:
			for {
				select {
				case <-l.wake:
					w.mu.Lock()
					full := len(l.queue) >= r.cfg.BatchSize || w.ended
					w.mu.Unlock()
					if full {
						break wait
					}
				case <-t.C:
					break wait
				case <-ctx.Done():
					break wait
				}
			}
			t.Stop()
			if ctx.Err() != nil {
				return
			}
			w.mu.Lock()
		}
		n, size := 0, 16
		var wstart int64 // a batch holds one tumbling window's records
		if tw > 0 {
			wstart = delivery.WindowStart(l.queue[0].Time, tw)
		}
		for n < len(l.queue) && n < r.cfg.BatchSize {
			if wstart != 0 && delivery.WindowStart(l.queue[n].Time, tw) != wstart {
				break
			}
			sz := len(l.queue[n].Event) + 1
			if n > 0 && size+sz > r.m.opts.MaxPayload {
				break
			}
			size += sz
			n++
		}
		batch := make([]delivery.Record, n)
		for i := range batch {
			batch[i] = l.queue[i].Record
		}
		l.queue = l.queue[n:]
		w.queued -= n
		l.busy = true
		upTo := batch[n-1].Seq
		if len(l.queue) == 0 {
			upTo = max(upTo, w.readPos)
		}
		w.mu.Unlock()
		notify(w.space)
		err := l.eng.Deliver(ctx, batch, upTo)
		w.mu.Lock()
		l.busy = false
		if err == nil {
			l.ckpt = max(l.ckpt, upTo)
		}
		w.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitIdle waits, with nothing queued, for the lane's wake-up; when the
// lane's window ends first it sends the window's final invocation. It
// returns false when the runner stops.
func (l *lane) waitIdle() bool {
	ctx := l.w.r.ctx
	var end <-chan time.Time
	if at, ok := l.eng.WindowEnd(); ok {
		d := at.Sub(l.w.r.m.opts.Now())
		if d <= 0 {
			return l.eng.CloseWindow(ctx, false) == nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		end = t.C
	}
	select {
	case <-l.wake:
		return true
	case <-end:
		return l.eng.CloseWindow(ctx, false) == nil
	case <-ctx.Done():
		return false
	}
}

// hostInvoker runs the mapping's function on the trigger host: each
// invocation gets a fresh store.WriteBuffer and outbox.Buffer in its
// context, so the handler's table writes and emitted documents are held
// back for the engine's commit.
type hostInvoker struct{ r *runner }

func (h hostInvoker) Invoke(ctx context.Context, payload []byte) (delivery.Result, error) {
	if c := &h.r.cfg; isBuiltin(c.FunctionName) {
		return h.r.m.invokeBuiltin(ctx, c.UUID, c.FunctionName, c.Qualifier, payload)
	}
	o := &h.r.m.deps
	region := arn.RegionOf(h.r.cfg.EventSourceArn) // the function's and its tables' region is its stream's
	ctx = arn.WithRegion(ctx, region)
	return invokeHost(ctx, o.Host, o.DB, o.Host.FunctionKey(region, h.r.cfg.FunctionName), h.r.cfg.Qualifier, payload)
}

func invokeHost(ctx context.Context, host *triggers.Host, db *store.DB, name, qualifier string, payload []byte) (delivery.Result, error) {
	buf := store.NewWriteBuffer(db)
	emits := outbox.NewBuffer()
	// A mapping's invocation that finds no concurrency slot waits for one:
	// Lambda retries a throttled batch without counting the throttle
	// against MaximumRetryAttempts (and a throttle is no function error),
	// so it is neither retried as a failure nor dead-lettered.
	res, err := host.InvokeBuilt(outbox.WithBuffer(store.WithBuffer(ctx, buf), emits), name, qualifier, payload)
	if err != nil {
		if errors.Is(err, triggers.ErrNotFound) {
			err = fmt.Errorf("%w: %w", delivery.ErrFunctionNotFound, err)
		}
		return delivery.Result{}, err
	}
	return delivery.Result{FunctionError: res.FunctionError, Payload: res.Payload, RequestID: res.RequestID,
		ExecutedVersion: res.ExecutedVersion, Logs: res.Logs, Principal: res.Role, Writes: &handlerWrites{tables: buf, emits: emits}}, nil
}
