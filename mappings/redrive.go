package mappings

import (
	"context"
	"errors"
	"time"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/streams"
)

// RedriveRetryAttempts replaces an unbounded MaximumRetryAttempts (-1) in a
// redrive, so a function that still fails ends the redrive.
const RedriveRetryAttempts = 2

// RedriveRecords implements dlq.Redriver: it sends stored records through
// the mapping uuid as its runner would, with the mapping's current
// function (so a fixed function can be deployed first), BatchSize and
// payload limit, FilterCriteria (records filtered out count as done),
// partial batch responses, BisectBatchOnFunctionError and
// MaximumRetryAttempts (RedriveRetryAttempts when unbounded).
// MaximumRecordAgeInSeconds does not apply (the
// records are old by nature) and tumbling windows are not used. Instead
// of checkpoints each commit calls commit in the same batch as the
// function's buffered writes. It works whether the mapping is enabled or
// not, and runs beside its runner.
func (m *Manager) RedriveRecords(ctx context.Context, uuid string, recs []dlq.StreamRecord, commit dlq.CommitFunc) error {
	cfg, err := m.Get(uuid)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	cfg.TumblingWindowInSeconds = 0
	if cfg.MaximumRetryAttempts < 0 {
		cfg.MaximumRetryAttempts = RedriveRetryAttempts
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &runner{m: m, cfg: cfg, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		lbl: []string{cfg.UUID, cfg.FunctionName}}
	if cfg.FilterCriteria != nil {
		for _, f := range cfg.FilterCriteria.Filters {
			if cf, err := compileFilter(f.Pattern); err == nil {
				r.filters = append(r.filters, cf)
			}
		}
	}
	w := &shardWorker{r: r, sh: shards.Info{ID: "redrive"}, space: make(chan struct{}, 1)}
	l := &lane{w: w, rd: commit}
	w.lanes = []*lane{l}
	var items []item
	for _, rec := range recs {
		it := item{rec: streams.Record{Seq: rec.Seq, Time: time.UnixMilli(rec.Arrival)}, json: rec.Event}
		if w.keep(it.json) {
			items = append(items, it)
		}
	}
	last := recs[len(recs)-1].Seq
	for len(items) > 0 {
		n, size := 0, 16
		for n < len(items) && n < cfg.BatchSize {
			sz := len(items[n].json) + 1
			if n > 0 && size+sz > m.opts.MaxPayload {
				break
			}
			size += sz
			n++
		}
		upTo := items[n-1].rec.Seq
		if n == len(items) {
			upTo = last // trailing filtered-out records settle with the last batch
		}
		if !l.process(items[:n], upTo) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errors.New("mappings: redrive stopped")
		}
		items = items[n:]
	}
	if l.ckpt < last {
		// Everything was filtered out (or the last batch settled below
		// last): settle the rest.
		if !l.commitRetry(last, nil) {
			return ctx.Err()
		}
	}
	return nil
}
