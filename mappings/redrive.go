package mappings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// RedriveRetryAttempts replaces an unbounded MaximumRetryAttempts (-1) in a
// redrive, so a function that still fails ends the redrive.
const RedriveRetryAttempts = 2

// Redrive sends the records of dead-letter entry id through mapping ("":
// the entry's own) again, as its runner would: the mapping's current
// function (so a fixed function can be deployed first), BatchSize and
// payload limit, FilterCriteria (records filtered out count as done),
// partial batch responses, BisectBatchOnFunctionError and
// MaximumRetryAttempts (RedriveRetryAttempts when unbounded).
// MaximumRecordAgeInSeconds does not apply (the records are old by nature)
// and tumbling windows are not used. Progress is committed on the entry
// (dlq.Redriving.Commit) in the same batch as the function's buffered
// writes. It works whether the mapping is enabled or not, beside its
// runner; cancelling ctx stops it, keeping the progress so far. The entry,
// updated, is returned also with an error when the redrive ran.
//
// A redrive that cannot run is refused before it begins, the entry left
// untouched (checkRedrive): dlq.ErrNoMapping, dlq.ErrWrongMapping,
// dlq.ErrNoFunction, dlq.ErrCannotRun. A function deleted during the
// redrive stops it with dlq.ErrNoFunction (a mapping's runner waits for
// the function to come back; a redrive has a caller waiting).
func (m *Manager) Redrive(ctx context.Context, id uint64, mapping string) (*dlq.Entry, error) {
	q := m.deps.DLQ
	e, err := q.Get(id)
	if err != nil {
		return nil, err
	}
	if len(e.Records) > 0 { // else BeginRedrive answers ErrAlreadyDone
		if err := m.checkRedrive(e, mapping); err != nil {
			return nil, err
		}
	}
	rd, err := q.BeginRedrive(id, mapping)
	if errors.Is(err, dlq.ErrAlreadyDone) {
		e, _ := q.Get(id)
		return e, err
	}
	if err != nil {
		return nil, err
	}
	return rd.Finish(m.redriveRecords(ctx, rd))
}

// checkRedrive reports why entry e cannot be redriven through mapping
// ("": the entry's own), before anything is written: no such mapping, a
// mapping of another table's stream (its function would get records of a
// table it does not read), a stored filter that does not compile, no such
// function, or a function with reserved concurrency 0 (every invocation
// would wait for a slot that never frees).
func (m *Manager) checkRedrive(e *dlq.Entry, mapping string) error {
	uuid := mapping
	if uuid == "" {
		uuid = e.Mapping
	}
	m.mu.Lock()
	me := m.maps[uuid]
	var cfg Configuration
	var bad error
	if me != nil {
		cfg, bad = me.cfg, me.badCfg
	}
	m.mu.Unlock()
	if me == nil {
		if mapping == "" {
			return fmt.Errorf("%w: %s, the mapping of entry %d, was deleted (redrive the entry through another mapping of its table with ?mapping=UUID, or purge it)", dlq.ErrNoMapping, uuid, e.ID)
		}
		return fmt.Errorf("%w: %s", dlq.ErrNoMapping, uuid)
	}
	if src := e.Record.DDBStreamBatchInfo.StreamArn; src != "" && streamTable(src) != streamTable(cfg.EventSourceArn) {
		return fmt.Errorf("%w: mapping %s reads %s; the records of entry %d come from %s", dlq.ErrWrongMapping, uuid, cfg.EventSourceArn, e.ID, src)
	}
	if bad != nil {
		return fmt.Errorf("%w: mapping %s: %v", dlq.ErrCannotRun, uuid, bad)
	}
	if err := m.checkFunction(arn.RegionOf(cfg.EventSourceArn), cfg.FunctionName, cfg.Qualifier); err != nil {
		if errors.Is(err, ErrInvalidParameter) {
			return fmt.Errorf("%w: %v (mapping %s)", dlq.ErrNoFunction, err, uuid)
		}
		return err
	}
	if !isBuiltin(cfg.FunctionName) {
		if n, ok, err := m.deps.Host.GetFunctionConcurrency(m.deps.Host.FunctionKey(arn.RegionOf(cfg.EventSourceArn), cfg.FunctionName)); err == nil && ok && n == 0 {
			return fmt.Errorf("%w: function %s has reserved concurrency 0, so none of its invocations can run (PutFunctionConcurrency or DeleteFunctionConcurrency first)", dlq.ErrCannotRun, cfg.FunctionName)
		}
	}
	return nil
}

// streamTable is the table part of a stream ARN
// (arn:...:table/NAME/stream/LABEL → arn:...:table/NAME): a table's
// streams, re-enabled under new labels, are one source for redrives.
func streamTable(arn string) string {
	t, _, _ := strings.Cut(arn, "/stream/")
	return t
}

// RedriveAll redrives every entry of a mapping ("" for all) that still
// holds records, oldest first, and returns the entries it touched. It
// stops at the first error. A mapping named that does not exist is
// dlq.ErrNoMapping, even when no entry names it.
func (m *Manager) RedriveAll(ctx context.Context, mapping string) ([]*dlq.Entry, error) {
	if mapping != "" {
		m.mu.Lock()
		_, ok := m.maps[mapping]
		m.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("%w: %s", dlq.ErrNoMapping, mapping)
		}
	}
	es, err := m.deps.DLQ.Entries(mapping)
	if err != nil {
		return nil, err
	}
	var out []*dlq.Entry
	for _, e := range es {
		if len(e.Records) == 0 {
			continue
		}
		r, err := m.Redrive(ctx, e.ID, "")
		if r != nil {
			out = append(out, r)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// wireSeq is the sequence number a kept event names when it is not seq's
// own (a remote stream's record, whose Seq was its reader's ordinal), ""
// otherwise: what a partial batch response names during the redrive.
func wireSeq(event []byte, seq streams.Seq) string {
	var ev struct {
		Dynamodb struct {
			SequenceNumber string `json:"SequenceNumber"`
		} `json:"dynamodb"`
	}
	if json.Unmarshal(event, &ev) != nil || ev.Dynamodb.SequenceNumber == seq.String() {
		return ""
	}
	return ev.Dynamodb.SequenceNumber
}

// redriveRecords delivers the records of rd through its mapping with a
// delivery.Engine whose committer records progress on the entry.
func (m *Manager) redriveRecords(ctx context.Context, rd *dlq.Redriving) error {
	uuid := rd.Mapping()
	m.mu.Lock()
	e := m.maps[uuid]
	var cfg Configuration
	var filters []*filter
	var bad error
	if e != nil {
		cfg, filters, bad = e.cfg, e.filters, e.badCfg
	}
	m.mu.Unlock()
	if e == nil { // deleted since checkRedrive
		return fmt.Errorf("%w: %s", dlq.ErrNoMapping, uuid)
	}
	if bad != nil {
		return bad
	}
	recs := rd.Records()
	if len(recs) == 0 {
		return nil
	}
	cfg.TumblingWindowInSeconds = 0
	cfg.MaximumRecordAgeInSeconds = -1
	if cfg.MaximumRetryAttempts < 0 {
		cfg.MaximumRetryAttempts = RedriveRetryAttempts
	}
	var items []delivery.Record
	for _, rec := range recs {
		if keep(filters, rec.Event) {
			items = append(items, delivery.Record{Seq: rec.Seq, SeqText: wireSeq(rec.Event, rec.Seq), Time: time.UnixMilli(rec.Arrival), Event: rec.Event})
		}
	}
	last := recs[len(recs)-1].Seq
	// A function deleted meanwhile stops the redrive (the engine would
	// retry it until the function came back).
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	gone := func(err error) error {
		if c := context.Cause(ctx); errors.Is(c, dlq.ErrNoFunction) {
			return c
		}
		return err
	}
	eng := delivery.New(cfg.engineConfig(&m.opts, "redrive"),
		funcInvoker{m: m, uuid: cfg.UUID, name: cfg.FunctionName, qualifier: cfg.Qualifier, region: arn.RegionOf(cfg.EventSourceArn), stop: stop},
		redriveCommitter{m: m, commit: rd.Commit},
		delivery.Options{Now: m.opts.Now}, nil)
	for {
		n, size := 0, 16
		for n < len(items) && n < cfg.BatchSize {
			sz := len(items[n].Event) + 1
			if n > 0 && size+sz > m.opts.MaxPayload {
				break
			}
			size += sz
			n++
		}
		upTo := last // the last batch settles trailing filtered-out records
		if n < len(items) {
			upTo = items[n-1].Seq
		}
		// With every record filtered out, the one empty batch settles them.
		if err := eng.Deliver(ctx, items[:n], upTo); err != nil {
			return gone(err)
		}
		items = items[n:]
		if len(items) == 0 {
			return nil
		}
	}
}

// funcInvoker runs a function on the trigger host (hostInvoker without a
// runner). stop, when set, is called with dlq.ErrNoFunction when the
// function does not exist.
type funcInvoker struct {
	m                     *Manager
	uuid, name, qualifier string
	region                string // the mapping's (its stream's)
	stop                  context.CancelCauseFunc
}

func (f funcInvoker) Invoke(ctx context.Context, payload []byte) (delivery.Result, error) {
	if isBuiltin(f.name) {
		return f.m.invokeBuiltin(ctx, f.uuid, f.name, f.qualifier, payload)
	}
	res, err := invokeHost(arn.WithRegion(ctx, f.region), f.m.deps.Host, f.m.deps.DB, f.m.deps.Host.FunctionKey(f.region, f.name), f.qualifier, payload)
	if err != nil && f.stop != nil && errors.Is(err, delivery.ErrFunctionNotFound) {
		f.stop(fmt.Errorf("%w: %v (mapping %s)", dlq.ErrNoFunction, err, f.uuid))
	}
	return res, err
}

// redriveCommitter implements delivery.Committer for a redrive: the
// function's buffered writes and emitted documents and the entry's
// progress in one store.DB.Write.
type redriveCommitter struct {
	m      *Manager
	commit func(b *store.Batch, upTo streams.Seq, failed *dlq.Entry) (func(), error)
}

func (c redriveCommitter) Commit(ctx context.Context, o delivery.Outcome) error {
	var after func()
	err := c.m.commit(ctx, o.Writes, nil, func(b *store.Batch) error {
		var err error
		after, err = c.commit(b, o.Checkpoint, o.Failure)
		return err
	})
	if err == nil && after != nil {
		after()
	}
	return err
}

// DeadLetters is the dead-letter store as the server exposes it: the
// store's reads (dlq.Store) with the manager's redrive operation.
type DeadLetters struct {
	*dlq.Store
	m *Manager
}

// DeadLetters returns the manager's dead-letter store with its redrive.
func (m *Manager) DeadLetters() DeadLetters { return DeadLetters{Store: m.deps.DLQ, m: m} }

// Redrive is Manager.Redrive.
func (d DeadLetters) Redrive(ctx context.Context, id uint64, mapping string) (*dlq.Entry, error) {
	return d.m.Redrive(ctx, id, mapping)
}

// RedriveAll is Manager.RedriveAll.
func (d DeadLetters) RedriveAll(ctx context.Context, mapping string) ([]*dlq.Entry, error) {
	return d.m.RedriveAll(ctx, mapping)
}
