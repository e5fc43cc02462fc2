// Package delivery applies Lambda's event-source-mapping rules for
// DynamoDB streams to batches of records: retries with exponential backoff,
// MaximumRetryAttempts, BisectBatchOnFunctionError, partial batch responses
// (ReportBatchItemFailures), MaximumRecordAgeInSeconds, tumbling windows,
// and the OnFailure dead-letter entry (dlq.Entry with Lambda's failure
// record).
//
// It knows nothing of shards, HTTP or wasm: an Engine calls a function
// through an Invoker and records each settled outcome through a Committer.
// eddy's checkpointed lanes (package mappings) and dead-letter redrive are
// two committers; a remote worker or a sink outbox would be more. Forming
// batches (BatchSize, the batching window, the payload limit, one tumbling
// window per batch) and filtering are the caller's: the engine gets
// batches already formed.
//
// # Rules, per Deliver call
//
//  1. Records older than MaximumRecordAgeInSeconds (at the head of the
//     batch; a shard's records are in time order) are not sent: they are
//     committed as a dead-letter entry, condition RecordAgeExceeded.
//  2. An invoke error (the function could not be run at all, e.g. it does
//     not exist) is not a function error: the engine waits MaxRetryBackoff
//     and tries again without counting a retry, skipping nothing.
//  3. A function error, a tumbling-window response without "state", or
//     handler writes that cannot be committed fail the batch. With
//     BisectBatchOnFunctionError a failing batch of more than one record
//     is split in halves, each delivered with a fresh retry budget (splits
//     are not retries). Otherwise it is retried after RetryBackoff,
//     doubling to MaxRetryBackoff, until MaximumRetryAttempts (-1:
//     unbounded) is used up; then one dead-letter entry (condition
//     RetryAttemptsExhausted, ApproximateInvokeCount = retries + 1) is
//     committed with the checkpoint past the batch.
//  4. ReportBatchItemFailures: an empty or absent batchItemFailures list is
//     success; otherwise the records before the lowest reported one
//     succeeded and the rest failed (and is retried or bisected as in 3).
//     An identifier not in the batch fails the whole batch. The successful
//     prefix is committed alone; when the failed invocation also left
//     handler writes or window state (which may cover the failed records),
//     the prefix is invoked again alone so that what commits with its
//     checkpoint is exactly its own.
//  5. Every Commit carries the checkpoint the outcome settles. A commit
//     with handler writes that fails counts as a failed invocation (3); a
//     commit without them is retried after RetryBackoff until it succeeds.
//  6. When ctx is done the engine returns ctx.Err() at once: nothing after
//     the last successful Commit is recorded as done, so the caller
//     delivers it again (at least once).
//
// Tumbling windows are described on Window.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/internal/uuid"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/streams"
)

// Record is one record on its way to the function.
type Record struct {
	Seq streams.Seq
	// SeqText, when set, is the record's sequence number on the wire (a
	// remote stream's; Seq is then an ordinal): what a partial batch
	// response names and a failure record reports. Empty: Seq.String().
	SeqText string
	// Time is the record's ApproximateCreationDateTime: its age and its
	// tumbling window.
	Time time.Time
	// Event is the record in the function's JSON shape (one element of
	// "Records").
	Event []byte
}

// wireSeq is the record's sequence number as the function sees it.
func (r *Record) wireSeq() string {
	if r.SeqText != "" {
		return r.SeqText
	}
	return r.Seq.String()
}

// Result is what one invocation returned.
type Result struct {
	// FunctionError is "" when the function returned normally, else
	// Lambda's X-Amz-Function-Error ("Unhandled").
	FunctionError string
	// Payload is the response, or {"errorType":..,"errorMessage":..}.
	Payload         []byte
	RequestID       string
	ExecutedVersion string
	// Logs is the tail of the invocation's log.
	Logs []byte
	// Principal is who the invocation ran as (the function's execution
	// role), recorded on a dead-letter entry.
	Principal string
	// Writes are the table writes the handler deferred to the commit of
	// this invocation's outcome; nil when it made none.
	Writes Writes
}

// Writes are table writes an invocation deferred to its commit (in eddy a
// store.WriteBuffer). The engine only asks whether there are any; the
// Committer applies them.
type Writes interface {
	Empty() bool
}

// Invoker runs the function once with an event. An error means the
// function could not be run (not a function error, which is a Result with
// FunctionError set). Invoke must return soon after ctx is done.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) (Result, error)
}

// ErrFunctionNotFound, wrapped by an Invoker's error, reports that the
// function does not exist (LastProcessingResult "PROBLEM: Function not
// found.").
var ErrFunctionNotFound = errors.New("delivery: function not found")

// Outcome is one settled step of delivery, committed atomically.
type Outcome struct {
	// Checkpoint: every record of the delivery with Seq ≤ Checkpoint is now
	// done (delivered, filtered out or dead-lettered). Zero when the
	// outcome settles no record (a tumbling window's final invocation).
	Checkpoint streams.Seq
	// Writes are the handler's deferred table writes; nil when none.
	Writes Writes
	// Window, when set, is the tumbling window state to keep with the
	// checkpoint.
	Window *Window
	// WindowClosed: the window ended; drop its state.
	WindowClosed bool
	// Failure is the dead-letter entry for records given up on; nil when
	// none.
	Failure *dlq.Entry
	// Delivered is how many records this outcome settles as delivered by
	// a successful invocation.
	Delivered int
}

// Committer records outcomes. Commit applies everything in o in one
// atomic, durable batch, or nothing (and returns an error).
type Committer interface {
	Commit(ctx context.Context, o Outcome) error
}

// Config is the mapping's delivery rules and the names its dead-letter
// entries carry.
type Config struct {
	// MaximumRetryAttempts: retries of a failing batch; -1 unbounded.
	MaximumRetryAttempts int
	// MaximumRecordAgeInSeconds: older records are dead-lettered unsent;
	// -1 unbounded.
	MaximumRecordAgeInSeconds  int
	BisectBatchOnFunctionError bool
	ReportBatchItemFailures    bool
	// TumblingWindowInSeconds: 0 for none.
	TumblingWindowInSeconds int
	// RetryBackoff is the wait before the first retry; it doubles per
	// retry up to MaxRetryBackoff, which is also the wait after an invoke
	// error. Defaults 100ms and 10s.
	RetryBackoff, MaxRetryBackoff time.Duration

	// Mapping (UUID), FunctionArn, StreamArn, ShardID and Destination (the
	// OnFailure ARN, "" for none) go into dead-letter entries; ShardID and
	// StreamArn also into tumbling-window events.
	Mapping, FunctionArn, StreamArn, ShardID, Destination string
}

// Status is the engine's view of the mapping after an invocation.
type Status struct {
	// Result is Lambda's LastProcessingResult: "OK" or "PROBLEM: ...".
	Result string
	// Err is the failure's text ("" when OK): errorType: errorMessage of a
	// function error, or the invoke or commit error.
	Err string
}

// OK reports whether the status is a success.
func (s Status) OK() bool { return s.Err == "" }

// Observer receives the engine's events; any field may be nil. The
// callbacks run on the delivering goroutine and must not block.
type Observer struct {
	// Invoked follows every invocation (records is nil for a window's
	// final invocation; err is the invoke error).
	Invoked func(records []Record, took time.Duration, err error)
	// Failed follows an invocation that failed its batch (function error,
	// failed items, no window state, uncommittable writes).
	Failed func()
	// Retrying precedes the wait before retry number attempt.
	Retrying func(attempt int, wait time.Duration)
	// Delivered follows the commit of n successfully delivered records.
	Delivered func(n int)
	// Status follows every change of outcome (also repeated ones).
	Status func(Status)
}

// Options are the engine's seams. Zero values take the defaults.
type Options struct {
	// Now is the clock for record ages and timestamps. Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done, reporting whether it waited the
	// whole time. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) bool
	// NewID makes the request ID of a dead-letter entry that no invocation
	// answered (RecordAgeExceeded). Default: a random UUID.
	NewID    func() string
	Observer Observer
}

// Engine delivers the batches of one ordered stream of records (one lane
// of a shard, or one redrive). It is not safe for concurrent use: one
// goroutine calls Deliver, CloseWindow and Window.
type Engine struct {
	cfg  Config
	inv  Invoker
	com  Committer
	opts Options
	win  *Window // the open tumbling window, nil if none
}

// New returns an engine. win is the open tumbling window restored from the
// last commit (nil if none).
func New(cfg Config, inv Invoker, com Committer, opts Options, win *Window) *Engine {
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = 100 * time.Millisecond
	}
	if cfg.MaxRetryBackoff == 0 {
		cfg.MaxRetryBackoff = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = lifecycle.Sleep
	}
	if opts.NewID == nil {
		opts.NewID = uuid.New
	}
	if cfg.TumblingWindowInSeconds <= 0 {
		win = nil
	}
	return &Engine{cfg: cfg, inv: inv, com: com, opts: opts, win: win}
}

// Deliver delivers batch (records in Seq order, of one tumbling window
// when windows are on) until each record is delivered or dead-lettered,
// and commits upTo (≥ the last record's Seq: records the caller filtered
// out settle with the batch) as the final checkpoint. An empty batch just
// commits upTo. It returns nil, or ctx.Err() when ctx ended first.
func (e *Engine) Deliver(ctx context.Context, batch []Record, upTo streams.Seq) error {
	if e.win != nil && len(batch) > 0 && e.win.Start != e.windowStart(batch[0].Time) {
		if err := e.CloseWindow(ctx, false); err != nil {
			return err
		}
	}
	if err := e.process(ctx, batch, upTo); err != nil {
		return err
	}
	if e.win != nil && len(e.win.State) > MaxWindowState {
		return e.CloseWindow(ctx, true)
	}
	return nil
}

// process is Deliver without the window changes around it.
func (e *Engine) process(ctx context.Context, items []Record, final streams.Seq) error {
	cfg := &e.cfg
	retries := 0
	for len(items) > 0 {
		if n := e.expired(items); n > 0 {
			ck := final
			if n < len(items) {
				ck = items[n-1].Seq
			}
			if err := e.commitRetry(ctx, Outcome{Checkpoint: ck, Failure: e.failure(items[:n], "RecordAgeExceeded", retries, nil, "")}); err != nil {
				return err
			}
			if n == len(items) {
				return nil
			}
			items = items[n:]
			continue
		}
		res, err := e.invoke(ctx, items, e.payload(items))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrFunctionNotFound) {
				e.status("PROBLEM: Function not found.", err.Error())
			} else {
				e.status("PROBLEM: "+err.Error(), err.Error())
			}
			if !e.opts.Sleep(ctx, cfg.MaxRetryBackoff) {
				return ctx.Err()
			}
			continue
		}
		failedAt := -1
		why := ""
		state, stateOK := e.responseState(res.Payload)
		switch {
		case res.FunctionError != "":
			failedAt, why = 0, ErrorText(res.FunctionError, res.Payload)
		case !stateOK:
			failedAt, why = 0, errNoState.Error()
		case cfg.ReportBatchItemFailures:
			failedAt = firstFailed(items, res.Payload)
			why = "batchItemFailures named records of this batch"
		}
		if failedAt < 0 {
			var win *Window
			if state != nil {
				win = &Window{Start: e.windowStart(items[0].Time), State: state}
			}
			err := e.com.Commit(ctx, Outcome{Checkpoint: final, Writes: res.Writes, Window: win, Delivered: len(items)})
			if err == nil {
				if win != nil {
					e.win = win
				}
				e.status("OK", "")
				if f := e.opts.Observer.Delivered; f != nil {
					f(len(items))
				}
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The handler's writes could not be committed.
			failedAt, why = 0, "commit: "+err.Error()
		}
		if f := e.opts.Observer.Failed; f != nil {
			f()
		}
		e.status("PROBLEM: Function call failed", why)
		if failedAt > 0 {
			if !empty(res.Writes) || state != nil {
				// Its writes (or window state) may cover records past the
				// failure: re-run the successful prefix alone so that
				// what commits with it is its own.
				if err := e.process(ctx, items[:failedAt], items[failedAt-1].Seq); err != nil {
					return err
				}
			} else if err := e.commitRetry(ctx, Outcome{Checkpoint: items[failedAt-1].Seq}); err != nil {
				return err
			}
			items = items[failedAt:]
		}
		if cfg.BisectBatchOnFunctionError && len(items) > 1 {
			h := len(items) / 2
			if err := e.process(ctx, items[:h], items[h-1].Seq); err != nil {
				return err
			}
			items, retries = items[h:], 0
			continue
		}
		if cfg.MaximumRetryAttempts >= 0 && retries >= cfg.MaximumRetryAttempts {
			return e.commitRetry(ctx, Outcome{Checkpoint: final, Failure: e.failure(items, "RetryAttemptsExhausted", retries+1, &res, why)})
		}
		retries++
		d := e.backoff(retries)
		if f := e.opts.Observer.Retrying; f != nil {
			f(retries, d)
		}
		if !e.opts.Sleep(ctx, d) {
			return ctx.Err()
		}
	}
	return e.commitRetry(ctx, Outcome{Checkpoint: final})
}

func empty(w Writes) bool { return w == nil || w.Empty() }

// invoke calls the function once and reports the call.
func (e *Engine) invoke(ctx context.Context, items []Record, payload []byte) (Result, error) {
	start := time.Now()
	res, err := e.inv.Invoke(ctx, payload)
	if f := e.opts.Observer.Invoked; f != nil {
		f(items, time.Since(start), err)
	}
	return res, err
}

func (e *Engine) status(result, err string) {
	if f := e.opts.Observer.Status; f != nil {
		f(Status{Result: result, Err: err})
	}
}

// backoff is the wait before retry number retry (1-based).
func (e *Engine) backoff(retry int) time.Duration {
	d := e.cfg.RetryBackoff
	for i := 1; i < retry && d < e.cfg.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, e.cfg.MaxRetryBackoff)
}

// commitRetry commits an outcome without handler writes, retrying storage
// errors after RetryBackoff until it succeeds or ctx ends.
func (e *Engine) commitRetry(ctx context.Context, o Outcome) error {
	for {
		err := e.com.Commit(ctx, o)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.status("PROBLEM: "+err.Error(), err.Error())
		if !e.opts.Sleep(ctx, e.cfg.RetryBackoff) {
			return ctx.Err()
		}
	}
}

// expired counts the leading records older than MaximumRecordAgeInSeconds.
func (e *Engine) expired(items []Record) int {
	age := e.cfg.MaximumRecordAgeInSeconds
	if age < 0 {
		return 0
	}
	cut := e.opts.Now().Add(-time.Duration(age) * time.Second)
	n := 0
	for n < len(items) && items[n].Time.Before(cut) {
		n++
	}
	return n
}

// payload is the event for a batch: {"Records":[...]} plus, with tumbling
// windows, the window's members.
func (e *Engine) payload(items []Record) []byte {
	size := 16
	for i := range items {
		size += len(items[i].Event) + 1
	}
	p := make([]byte, 0, size)
	p = append(p, `{"Records":[`...)
	for i := range items {
		if i > 0 {
			p = append(p, ',')
		}
		p = append(p, items[i].Event...)
	}
	p = append(p, ']')
	if e.cfg.TumblingWindowInSeconds > 0 {
		p = e.appendWindow(p, e.windowStart(items[0].Time), false, false)
	}
	return append(p, '}')
}

// firstFailed returns the index of the lowest record a partial batch
// response names, -1 when it names none, 0 when it names one that is not in
// the batch (Lambda then treats the whole batch as failed).
func firstFailed(items []Record, payload []byte) int {
	ids, ok := BatchItemFailures(payload)
	if !ok || len(ids) == 0 {
		return -1
	}
	idx := make(map[string]int, len(items))
	for i := range items {
		idx[items[i].wireSeq()] = i
	}
	lo := len(items)
	for _, id := range ids {
		i, ok := idx[id]
		if !ok {
			return 0
		}
		lo = min(lo, i)
	}
	return lo
}

// BatchItemFailures parses Lambda's partial batch response,
// {"batchItemFailures":[{"itemIdentifier":"..."}]}: the itemIdentifier of
// each entry ("" for one that is not a string: a number, null, missing,
// which names no record, so Lambda fails the whole batch). ok is false when
// the payload has no such list (e.g. null).
func BatchItemFailures(payload []byte) (ids []string, ok bool) {
	var resp struct {
		Failures *[]struct {
			ItemIdentifier json.RawMessage `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if json.Unmarshal(payload, &resp) != nil || resp.Failures == nil {
		return nil, false
	}
	for _, f := range *resp.Failures {
		var id string
		if json.Unmarshal(f.ItemIdentifier, &id) != nil {
			id = ""
		}
		ids = append(ids, id)
	}
	return ids, true
}

// failure builds the dead-letter entry for items: Lambda's on-failure
// record, the records themselves, the last error (why) and log tail of the
// last invocation (res, nil when none answered).
func (e *Engine) failure(items []Record, condition string, invokes int, res *Result, why string) *dlq.Entry {
	cfg := &e.cfg
	en := &dlq.Entry{Mapping: cfg.Mapping, Destination: cfg.Destination, Records: make([]dlq.StreamRecord, len(items))}
	for i := range items {
		en.Records[i] = dlq.StreamRecord{Seq: items[i].Seq, Arrival: items[i].Time.UnixMilli(), Event: items[i].Event}
	}
	fr := &en.Record
	fr.Version = "1.0"
	fr.RequestContext.RequestID = e.opts.NewID()
	fr.RequestContext.FunctionArn = cfg.FunctionArn
	fr.RequestContext.Condition = condition
	fr.RequestContext.ApproximateInvokeCount = invokes
	if res != nil {
		fr.RequestContext.RequestID = res.RequestID
		fr.ResponseContext.StatusCode = 200
		fr.ResponseContext.ExecutedVersion = res.ExecutedVersion
		fr.ResponseContext.FunctionError = res.FunctionError
		en.LastError = why
		en.LogTail = string(res.Logs)
		en.Principal = res.Principal
	}
	fr.Timestamp = e.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	bi := &fr.DDBStreamBatchInfo
	bi.ShardID = cfg.ShardID
	bi.StartSequenceNumber = items[0].wireSeq()
	bi.EndSequenceNumber = items[len(items)-1].wireSeq()
	bi.ApproximateArrivalOfFirstRecord = items[0].Time.UTC().Format("2006-01-02T15:04:05Z")
	bi.ApproximateArrivalOfLastRecord = items[len(items)-1].Time.UTC().Format("2006-01-02T15:04:05Z")
	bi.BatchSize = len(items)
	bi.StreamArn = cfg.StreamArn
	return en
}

// ErrorText is a function error's text: "errorType: errorMessage" from
// its payload, the message alone without a type, or the payload itself.
func ErrorText(functionError string, payload []byte) string {
	var p struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &p) == nil && p.Message != "" {
		if p.Type != "" {
			return p.Type + ": " + p.Message
		}
		return p.Message
	}
	if len(payload) == 0 {
		return functionError
	}
	return string(payload)
}
