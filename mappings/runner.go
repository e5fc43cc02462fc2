package mappings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/streams"
)

// runner drives one enabled mapping: it walks the stream's shards parents
// first and runs one shardWorker per shard whose parent is finished
// (shard.go); each worker feeds its lanes (lane.go), which deliver through
// a delivery.Engine and commit checkpoints (checkpoint.go).
//
// Every goroutine of a runner is started by its lifecycle.Group, so a
// panic is logged with its stack and stop waits for all of them.
type runner struct {
	m       *Manager
	cfg     Configuration
	filters []*filter
	lbl     []string
	series  *series // the mapping's last hour, fed by observer
	arnJSON []byte  // ,"eventSourceARN":"..."} appended to each record
	src     Source  // the stream's records: eddy's log or a remote's
	remote  bool    // src is another endpoint's (checkpoints keep wire sequence numbers)

	ctx    context.Context
	cancel context.CancelFunc
	g      *lifecycle.Group

	mu      sync.Mutex
	result  string // LastProcessingResult
	lastErr string // the text of the last failure, kept after recovery
	failing bool   // the last delivery outcome was a failure
}

// startRunner starts cfg's runner with its compiled filters.
func (m *Manager) startRunner(cfg Configuration, filters []*filter, s *series) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{m: m, cfg: cfg, filters: filters, series: s, ctx: ctx, cancel: cancel,
		g:   lifecycle.New(ctx, "mapping "+cfg.UUID, m.log),
		lbl: []string{cfg.UUID, cfg.FunctionName}}
	r.arnJSON = append([]byte(`,"eventSourceARN":`), delivery.AppendJSONString(nil, cfg.EventSourceArn)...)
	r.arnJSON = append(r.arnJSON, '}')
	r.src, r.remote = m.source(cfg.EventSourceArn)
	r.g.Go("shards", func(context.Context) { r.loop() })
	return r
}

// stop cancels the runner and waits for its goroutines.
func (r *runner) stop() {
	r.cancel()
	r.g.Stop()
}

func (r *runner) setResult(s string) {
	r.mu.Lock()
	r.result = s
	r.mu.Unlock()
}

func (r *runner) lastResult() (result, lastErr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.result, r.lastErr
}

// setStatus records a delivery outcome and logs the mapping's change of
// state once: OK → failing (with the failure's text) and failing → OK, not
// every retry.
func (r *runner) setStatus(s delivery.Status) {
	r.mu.Lock()
	changed := r.result != s.Result
	r.result = s.Result
	was := r.failing
	r.failing = !s.OK()
	if !s.OK() && r.lastErr != s.Err {
		r.lastErr, changed = s.Err, true
	}
	r.mu.Unlock()
	if changed {
		r.m.saveStatus(r)
	}
	switch {
	case !s.OK() && !was:
		r.m.log.Warn("event source mapping failing", "uuid", r.cfg.UUID, "function", r.cfg.FunctionName, "result", s.Result, "error", s.Err)
	case s.OK() && was:
		r.m.log.Info("event source mapping recovered", "uuid", r.cfg.UUID, "function", r.cfg.FunctionName)
	}
}

// backlogFull is told when a lane's commit waits for a full sink: the
// mapping shows it (LastProcessingResult) and logs it once per wait.
func (r *runner) backlogFull(sink string, backlog int64) {
	msg := fmt.Sprintf("PROBLEM: paused: sink %s has %d undelivered documents (its MaxBacklog); resumes when it drains", sink, backlog)
	r.setResult(msg)
	r.m.log.Warn("event source mapping paused by a full sink", "uuid", r.cfg.UUID, "function", r.cfg.FunctionName, "sink", sink, "backlog", backlog)
}

// observer turns the engine's events on shard into the mapping's metrics,
// its series and its status.
func (r *runner) observer(shard string) delivery.Observer {
	mt := r.m.metrics
	return delivery.Observer{
		Invoked: func(recs []delivery.Record, took time.Duration, err error) {
			if len(recs) > 0 {
				age := r.m.opts.Now().Add(-took).Sub(recs[len(recs)-1].Time)
				mt.iteratorAge.WithLabelValues(r.lbl...).Set(float64(age.Milliseconds()))
				r.series.invoked(shard, age, took, err)
			}
			if err == nil {
				mt.invocations.WithLabelValues(r.lbl...).Inc()
				if len(recs) > 0 {
					mt.duration.WithLabelValues(r.lbl...).Observe(took.Seconds())
				}
			}
		},
		Failed: func() {
			mt.errors.WithLabelValues(r.lbl...).Inc()
			r.series.add(func(m *minute) { m.errors++ })
		},
		Retrying: func(int, time.Duration) { mt.retries.WithLabelValues(r.lbl...).Inc() },
		Delivered: func(n int) {
			mt.records.WithLabelValues(r.lbl...).Add(float64(n))
			r.series.add(func(m *minute) { m.records += int64(n) })
		},
		Status: r.setStatus,
	}
}

// engineConfig is the delivery rules of the mapping on one shard.
func (c *Configuration) engineConfig(o *Options, shardID string) delivery.Config {
	dc := delivery.Config{
		MaximumRetryAttempts:       c.MaximumRetryAttempts,
		MaximumRecordAgeInSeconds:  c.MaximumRecordAgeInSeconds,
		BisectBatchOnFunctionError: c.BisectBatchOnFunctionError,
		ReportBatchItemFailures:    c.reportFailures(),
		TumblingWindowInSeconds:    c.TumblingWindowInSeconds,
		RetryBackoff:               o.RetryBackoff,
		MaxRetryBackoff:            o.MaxRetryBackoff,
		Mapping:                    c.UUID,
		FunctionArn:                c.FunctionArn,
		StreamArn:                  c.EventSourceArn,
		ShardID:                    shardID,
	}
	if d := c.DestinationConfig; d != nil && d.OnFailure != nil {
		dc.Destination = d.OnFailure.Destination
	}
	return dc
}

type shardDone struct {
	id       string
	finished bool
}

// loop walks the shards: it starts a worker for every shard whose parent
// is finished, and ends the mapping when its stream is gone or disabled
// and read to the end.
func (r *runner) loop() {
	defer r.cancel()
	opts := r.m.opts
	var ck map[string]*shardCkpt
	for {
		var err error
		if ck, err = loadCheckpoints(r.m.ks.checkpoints, r.cfg.UUID); err == nil {
			break
		}
		r.setResult("PROBLEM: " + err.Error())
		if !lifecycle.Sleep(r.ctx, opts.ShardPollInterval) {
			return
		}
	}
	finished := map[string]bool{}
	for id, c := range ck {
		finished[id] = c.done
	}
	running := map[string]bool{}
	fin := make(chan shardDone)
	starts := &lifecycle.Failures{Log: r.m.log.With("uuid", r.cfg.UUID), What: "event source mapping shard start", Level: slog.LevelWarn}
	describes := &lifecycle.Failures{Log: r.m.log.With("uuid", r.cfg.UUID, "stream", r.cfg.EventSourceArn), What: "event source mapping stream description", Level: slog.LevelWarn}
	for {
		info, shs, err := r.src.Describe(r.ctx)
		if r.ctx.Err() != nil {
			return
		}
		if !errors.Is(err, streams.ErrStreamNotFound) {
			describes.Report(err) // a remote that fails: logged once while it keeps failing
		}
		if err != nil && !errors.Is(err, streams.ErrStreamNotFound) {
			r.setResult("PROBLEM: " + err.Error())
		}
		if errors.Is(err, streams.ErrStreamNotFound) {
			r.cancel()
			r.m.stopped(r, "PROBLEM: Stream not found")
			return
		}
		if err == nil {
			hashKey := ""
			for _, k := range info.KeySchema {
				if k.KeyType == "HASH" {
					hashKey = k.AttributeName
				}
			}
			known := map[string]bool{}
			for _, sh := range shs {
				known[sh.ID] = true
			}
			allDone := true
			for _, sh := range shs {
				if finished[sh.ID] {
					continue
				}
				allDone = false
				if running[sh.ID] || (sh.ParentID != "" && known[sh.ParentID] && !finished[sh.ParentID]) {
					continue
				}
				running[sh.ID] = true
				r.g.Go("shard "+sh.ID, func(ctx context.Context) {
					ok := false
					w, err := newShardWorker(r, sh, ck[sh.ID], hashKey)
					starts.Report(err) // logged once while it keeps failing
					if err != nil {
						// Not started: the next poll tries the shard again.
						r.setResult("PROBLEM: " + err.Error())
					} else {
						ok = w.run()
					}
					select {
					case fin <- shardDone{sh.ID, ok}:
					case <-ctx.Done():
					}
				})
			}
			if allDone && !info.Enabled {
				r.cancel()
				r.m.stopped(r, "PROBLEM: the stream was disabled or its table deleted")
				return
			}
		}
		select {
		case <-r.ctx.Done():
			return
		case d := <-fin:
			running[d.id] = false
			if d.finished {
				finished[d.id] = true
			}
		case <-time.After(opts.ShardPollInterval):
		}
	}
}
