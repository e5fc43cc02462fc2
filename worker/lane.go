package worker

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"
)

// priorityGroup is the consumers' one priority group: NATS pins one
// worker's pulls at a time.
const priorityGroup = "workers"

// lane runs one shard of one mapping on this worker: it pulls the shard's
// consumer, and when NATS pins this worker, delivers what continues the
// lane's checkpoint through a delivery.Engine whose Committer is eddy's
// commit route. Only the lane's goroutine touches its fields.
type lane struct {
	w           *Worker
	r           *mappingRun
	shard, subj string

	cons jetstream.Consumer
	eng  *delivery.Engine
	// ckpt is the lane's checkpoint as last read from or committed to
	// eddy; exists is false while eddy has none.
	ckpt       streams.Seq
	exists     bool
	parentDone bool

	moved  bool               // a commit of the batch in flight found the checkpoint moved
	cancel context.CancelFunc // ends the batch in flight
	fail   string             // the failure last logged ("" when OK)
}

// rec is one fetched message with the relay's headers parsed.
type rec struct {
	m         jetstream.Msg
	seq, prev streams.Seq
	parent    string
}

func (l *lane) latest() bool { return l.r.m.StartingPosition == "LATEST" }

// run pulls and delivers until ctx ends.
func (l *lane) run(ctx context.Context) {
	o := &l.w.opts
	m := &l.r.m
	cfg := delivery.Config{MaximumRetryAttempts: m.MaximumRetryAttempts, MaximumRecordAgeInSeconds: m.MaximumRecordAgeInSeconds,
		BisectBatchOnFunctionError: m.BisectBatchOnFunctionError, Mapping: m.UUID, FunctionArn: m.FunctionArn,
		StreamArn: m.EventSourceArn, ShardID: l.shard}
	cfg.ReportBatchItemFailures = slices.Contains(m.FunctionResponseTypes, "ReportBatchItemFailures")
	if d := m.DestinationConfig; d != nil && d.OnFailure != nil {
		cfg.Destination = d.OnFailure.Destination
	}
	l.eng = delivery.New(cfg, l, l, delivery.Options{}, nil)
	delay := time.Duration(0)
	for ctx.Err() == nil {
		if delay > 0 && !lifecycle.Sleep(ctx, delay) {
			return
		}
		err := l.pull(ctx)
		if ctx.Err() != nil {
			return
		}
		l.report(err)
		if err != nil {
			l.cons = nil // made again: NATS may have lost it
			delay = min(max(2*delay, o.RetryBackoff), 10*o.RetryBackoff)
		} else {
			delay = 0
		}
	}
}

// report logs a change between failing and working.
func (l *lane) report(err error) {
	switch {
	case err != nil && err.Error() != l.fail:
		l.w.log.Error("worker lane failing", "uuid", l.r.m.UUID, "shard", l.shard, "error", err)
		l.fail = err.Error()
	case err == nil && l.fail != "":
		l.w.log.Info("worker lane working again", "uuid", l.r.m.UUID, "shard", l.shard)
		l.fail = ""
	}
}

// setup makes (or finds) the lane's durable consumer and reads its
// checkpoint.
func (l *lane) setup(ctx context.Context) error {
	o := &l.w.opts
	m := &l.r.m
	dp := jetstream.DeliverAllPolicy
	if l.latest() {
		dp = jetstream.DeliverNewPolicy
	}
	cons, err := l.w.js.CreateOrUpdateConsumer(ctx, o.Stream, jetstream.ConsumerConfig{
		Durable:        l.consumerName(l.shard),
		FilterSubject:  l.subj,
		AckPolicy:      jetstream.AckExplicitPolicy,
		DeliverPolicy:  dp,
		MaxAckPending:  max(m.BatchSize, 1),
		AckWait:        o.AckWait,
		MaxDeliver:     -1,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PinnedTTL:      o.PinnedTTL,
		PriorityGroups: []string{priorityGroup},
		// A mapping deleted (or moved off workers) leaves its consumers:
		// NATS removes them after a day without a pull.
		InactiveThreshold: 24 * time.Hour,
	})
	if err != nil {
		return err
	}
	if err := l.refresh(ctx); err != nil {
		return err
	}
	l.cons = cons
	return nil
}

// refresh reads the lane's checkpoint from eddy.
func (l *lane) refresh(ctx context.Context) error {
	ck, ok, err := l.w.c.checkpoint(ctx, l.r.m.UUID, l.shard)
	if err != nil {
		return err
	}
	l.ckpt, l.exists = ck, ok
	return nil
}

// pull fetches one batch and delivers what of it continues the lane.
func (l *lane) pull(ctx context.Context) error {
	o := &l.w.opts
	if l.cons == nil {
		if err := l.setup(ctx); err != nil {
			return err
		}
	}
	// A pull returns when BatchSize records came or at its expiry: the
	// batching window, or FetchWait (Lambda polls a shard 4 times a
	// second; a short pull keeps a lone record's latency as low).
	wait := o.FetchWait
	if w := l.r.m.MaximumBatchingWindowInSeconds; w > 0 {
		wait = time.Duration(w) * time.Second
	}
	b, err := l.cons.Fetch(max(l.r.m.BatchSize, 1), jetstream.FetchMaxWait(wait), jetstream.FetchPriorityGroup(priorityGroup))
	if err != nil {
		return err
	}
	// Without a batching window a batch goes as soon as the records
	// that came together are in (linger), while the pull stays open for
	// the rest: one record's latency is not the pull's expiry.
	linger := time.Duration(0)
	if l.r.m.MaximumBatchingWindowInSeconds == 0 {
		linger = 5 * time.Millisecond
	}
	ch := b.Messages()
	for {
		rs, open := l.collect(ch, linger)
		if len(rs) > 0 {
			if err := l.handle(ctx, rs); err != nil {
				for m := range ch { // pulled for a lane that failed: again soon
					_ = m.NakWithDelay(o.FetchWait)
				}
				return err
			}
		}
		if !open {
			break
		}
	}
	if err := b.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
		return err
	}
	return nil
}

// collect reads a pull's messages: the first one as it comes, then those
// that follow within linger of each other (0: until the pull ends). open
// is false when the pull ended.
func (l *lane) collect(ch <-chan jetstream.Msg, linger time.Duration) (rs []rec, open bool) {
	var timeout <-chan time.Time
	for {
		var m jetstream.Msg
		select {
		case m, open = <-ch:
		case <-timeout:
			return rs, true
		}
		if !open {
			return rs, false
		}
		h := m.Headers()
		seq, err1 := strconv.ParseUint(h.Get("Eddy-Sequence-Number"), 10, 64)
		prev, err2 := strconv.ParseUint(h.Get("Eddy-Previous-Sequence-Number"), 10, 64)
		if err1 != nil || err2 != nil {
			// Not a record of eddy's relay (or one from before relays
			// named predecessors): nothing a lane can order.
			l.w.log.Warn("worker: a message without eddy's sequence headers, dropped", "subject", m.Subject())
			_ = m.Term()
			continue
		}
		rs = append(rs, rec{m: m, seq: streams.Seq(seq), prev: streams.Seq(prev), parent: h.Get("Eddy-Parent-Shard-Id")})
		if linger > 0 {
			timeout = time.After(linger)
		}
	}
}

// handle delivers the part of rs that continues the lane's checkpoint.
func (l *lane) handle(ctx context.Context, rs []rec) error {
	o := &l.w.opts
	slices.SortFunc(rs, func(a, b rec) int { return cmpSeq(a.seq, b.seq) })
	if !l.parentDone && rs[0].parent != "" {
		done, err := l.parentFinished(ctx, rs[0].parent)
		if err != nil || !done {
			nakAll(rs, o.FetchWait)
			if err == nil {
				lifecycle.Sleep(ctx, o.FetchWait)
			}
			return err
		}
	}
	l.parentDone = true
	// Records the lane already committed: acked without running.
	run := rs[:0]
	for _, x := range rs {
		if l.exists && x.seq <= l.ckpt {
			_ = x.m.Ack()
			continue
		}
		run = append(run, x)
	}
	if len(run) == 0 {
		return nil
	}
	// The chain of predecessors from the checkpoint.
	n := 0
	if (l.exists && run[0].prev == l.ckpt) || (!l.exists && (l.latest() || run[0].prev == 0)) {
		n = 1
		for n < len(run) && run[n].prev == run[n-1].seq {
			n++
		}
	}
	nakAll(run[n:], o.FetchWait)
	if n == 0 {
		// Its predecessors are elsewhere (a dead worker's, until AckWait)
		// or another worker moved the checkpoint: look again.
		return l.refresh(ctx)
	}
	run = run[:n]
	// Records FilterCriteria rejects settle with the batch (its checkpoint
	// is the last record's), unsent and uncounted, as in eddy; a batch
	// they all fail just moves the checkpoint.
	batch := make([]delivery.Record, 0, n)
	for _, x := range run {
		if ev := l.event(x.m.Data()); l.r.keep.Keep(ev) {
			batch = append(batch, delivery.Record{Seq: x.seq, Time: approxTime(x.m.Data()), Event: ev})
		}
	}
	bctx, cancel := context.WithCancel(ctx)
	l.cancel, l.moved = cancel, false
	stop := make(chan struct{})
	go func() { // hold the records while the batch runs
		t := time.NewTicker(max(o.AckWait/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-t.C:
				for _, x := range run {
					_ = x.m.InProgress()
				}
			case <-stop:
				return
			}
		}
	}()
	err := l.eng.Deliver(bctx, batch, run[n-1].seq)
	close(stop)
	cancel()
	if err == nil {
		for _, x := range run {
			_ = x.m.Ack()
		}
		return nil
	}
	if ctx.Err() != nil {
		for _, x := range run { // stopping: to the other workers at once
			_ = x.m.Nak()
		}
		return nil
	}
	// Another worker committed past us: what it covered is done.
	for _, x := range run {
		if x.seq <= l.ckpt {
			_ = x.m.Ack()
		} else {
			_ = x.m.Nak()
		}
	}
	return nil
}

func cmpSeq(a, b streams.Seq) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func nakAll(rs []rec, d time.Duration) {
	for _, x := range rs {
		_ = x.m.NakWithDelay(d)
	}
}

// parentFinished reports whether the lane of the parent shard committed
// the parent's last record (the relay publishes a child only after its
// parent's last record, so that record is in JetStream by now).
func (l *lane) parentFinished(ctx context.Context, parent string) (bool, error) {
	st, err := l.w.js.Stream(ctx, l.w.opts.Stream)
	if err != nil {
		return false, err
	}
	last, err := st.GetLastMsgForSubject(ctx, l.w.subject(l.r.m.Table, parent))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	seq, err := strconv.ParseUint(last.Header.Get("Eddy-Sequence-Number"), 10, 64)
	if err != nil {
		return true, nil
	}
	ck, ok, err := l.w.c.checkpoint(ctx, l.r.m.UUID, parent)
	if err != nil || (ok && uint64(ck) >= seq) {
		return err == nil, err
	}
	if !l.latest() {
		return false, nil
	}
	// A LATEST mapping's parent lane may never have had a record to
	// commit: it is finished when its consumer has nothing left.
	cons, err := st.Consumer(ctx, l.consumerName(parent))
	if err != nil {
		return false, nil
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return false, err
	}
	return info.NumPending == 0 && info.NumAckPending == 0, nil
}

// consumerName is the durable consumer of the mapping's lane of shard.
func (l *lane) consumerName(shard string) string { return "eddy-worker-" + l.r.m.UUID + "-" + shard }

// event is a relayed record (GetRecords' record) as the function gets it:
// with "eventSourceARN" added, as the in-process mappings add it.
func (l *lane) event(body []byte) []byte {
	body = bytes.TrimRight(body, " \n")
	if len(body) == 0 || body[len(body)-1] != '}' {
		return body
	}
	e := make([]byte, 0, len(body)+len(l.r.m.EventSourceArn)+24)
	e = append(e, body[:len(body)-1]...)
	e = append(e, `,"eventSourceARN":`...)
	e = delivery.AppendJSONString(e, l.r.m.EventSourceArn)
	return append(e, '}')
}

// approxTime reads dynamodb.ApproximateCreationDateTime (epoch seconds).
func approxTime(body []byte) time.Time {
	const key = `"ApproximateCreationDateTime":`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return time.Now()
	}
	rest := body[i+len(key):]
	j := bytes.IndexAny(rest, ",}")
	if j < 0 {
		return time.Now()
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(rest[:j])), 64)
	if err != nil {
		return time.Now()
	}
	return time.UnixMilli(int64(f * 1000))
}

// Invoke implements delivery.Invoker: the function on the worker's host,
// its table writes held in a writeBuf for the commit.
func (l *lane) Invoke(ctx context.Context, payload []byte) (delivery.Result, error) {
	buf := &writeBuf{}
	res, err := l.w.host.InvokeWait(context.WithValue(ctx, bufKey{}, buf), l.r.local, "", payload)
	if err != nil {
		if errors.Is(err, triggers.ErrNotFound) {
			err = errors.Join(delivery.ErrFunctionNotFound, err)
		}
		return delivery.Result{}, err
	}
	return delivery.Result{FunctionError: res.FunctionError, Payload: res.Payload, RequestID: res.RequestID,
		ExecutedVersion: res.ExecutedVersion, Logs: res.Logs, Principal: res.Role, Writes: buf}, nil
}

// Commit implements delivery.Committer: one call to eddy commits the
// handler's writes, the checkpoint and the dead letter together, if the
// lane's checkpoint is still the one the batch started after. Failures to
// reach eddy are retried here (they say nothing of the function); a write
// eddy refuses is the engine's failed invocation; a moved checkpoint ends
// the batch.
func (l *lane) Commit(ctx context.Context, o delivery.Outcome) error {
	m := &l.r.m
	wc := &mappings.WorkerCommit{Mapping: m.UUID, Shard: l.shard, Prev: l.ckpt, IfAbsent: !l.exists && l.latest(),
		Next: o.Checkpoint, Failure: o.Failure, Delivered: o.Delivered}
	if wb, ok := o.Writes.(*writeBuf); ok {
		wc.Writes = wb.list()
	}
	if f := l.w.opts.BeforeCommit; f != nil {
		f(m.UUID, l.shard)
	}
	delay := time.Duration(0)
	for {
		if delay > 0 && !lifecycle.Sleep(ctx, delay) {
			return ctx.Err()
		}
		cur, err := l.w.c.commit(ctx, wc)
		var se *statusError
		switch {
		case err == nil:
			if o.Checkpoint != 0 {
				l.ckpt, l.exists = o.Checkpoint, true
			}
			return nil
		case errors.Is(err, errMoved):
			l.ckpt, l.exists = cur, l.exists || cur != 0
			l.moved = true
			l.cancel()
			return err
		case errors.As(err, &se) && se.code == http.StatusBadRequest:
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		}
		l.report(err)
		delay = min(max(2*delay, l.w.opts.RetryBackoff), 10*l.w.opts.RetryBackoff)
	}
}
