package mappings

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"
)

// runner drives one enabled mapping: it walks the stream's shards parents
// first and runs one shardWorker per shard whose parent is finished.
type runner struct {
	m       *Manager
	cfg     Configuration
	filters []*filter
	lbl     []string
	arnJSON []byte // ,"eventSourceARN":"..."} appended to each record

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	result string
}

func (m *Manager) startRunner(cfg Configuration) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{m: m, cfg: cfg, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		lbl: []string{cfg.UUID, cfg.FunctionName}}
	if cfg.FilterCriteria != nil {
		for _, f := range cfg.FilterCriteria.Filters {
			if cf, err := compileFilter(f.Pattern); err == nil {
				r.filters = append(r.filters, cf)
			}
		}
	}
	r.arnJSON = append([]byte(`,"eventSourceARN":`), jsonString(cfg.EventSourceArn)...)
	r.arnJSON = append(r.arnJSON, '}')
	go r.loop()
	return r
}

func jsonString(s string) []byte {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

func (r *runner) stop() {
	r.cancel()
	<-r.done
}

func (r *runner) setResult(s string) {
	r.mu.Lock()
	r.result = s
	r.mu.Unlock()
}

func (r *runner) lastResult() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.result
}

type shardDone struct {
	id       string
	finished bool
}

func (r *runner) loop() {
	defer close(r.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer r.cancel()
	opts := r.m.opts
	var ck map[string]*shardCkpt
	for {
		var err error
		if ck, err = loadCheckpoints(r.m.ks.checkpoints, r.cfg.UUID); err == nil {
			break
		}
		r.setResult("PROBLEM: " + err.Error())
		if !sleepCtx(r.ctx, opts.ShardPollInterval) {
			return
		}
	}
	finished := map[string]bool{}
	for id, c := range ck {
		finished[id] = c.done
	}
	running := map[string]bool{}
	fin := make(chan shardDone)
	for {
		info, shs, err := opts.Log.Describe(r.cfg.EventSourceArn)
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
				wg.Add(1)
				go func(sh shards.Info) {
					defer wg.Done()
					w := newShardWorker(r, sh, ck[sh.ID], hashKey)
					ok := w.run()
					select {
					case fin <- shardDone{sh.ID, ok}:
					case <-r.ctx.Done():
					}
				}(sh)
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

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// item is one record on its way to the function: the record and its
// rendered Lambda form.
type item struct {
	rec     streams.Record
	json    []byte
	arrived time.Time
}

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

type lane struct {
	w    *shardWorker
	idx  int
	wake chan struct{}

	// guarded by w.mu
	ckpt  streams.Seq
	queue []item
	busy  bool

	// Tumbling windows (window.go); only the lane's goroutine touches them.
	win     *window // the open window, nil if none
	winNext *window // set by process for the commit of a successful batch

	// rd, set on the lane of a redrive (redrive.go), replaces the
	// checkpoint write of commit.
	rd dlq.CommitFunc
}

func newShardWorker(r *runner, sh shards.Info, ck *shardCkpt, hashKey string) *shardWorker {
	w := &shardWorker{r: r, sh: sh, hashKey: hashKey, space: make(chan struct{}, 1)}
	factor := r.cfg.ParallelizationFactor
	start := streams.Seq(sh.Start)
	pos := make([]streams.Seq, factor)
	for i := range pos {
		pos[i] = start
	}
	rewrite := true
	if ck != nil && len(ck.lanes) > 0 {
		if ck.factor == factor || (ck.factor == 0 && factor == 1) {
			for i := range pos {
				if s, ok := ck.lanes[i]; ok {
					pos[i] = s
				}
			}
			rewrite = ck.factor != factor
		} else {
			lo := minLane(ck.lanes)
			for i := range pos {
				pos[i] = lo
			}
		}
	}
	var wins map[int]*window
	if r.cfg.TumblingWindowInSeconds > 0 && !rewrite {
		wins, _ = loadWindows(r.m.ks.windows, r.cfg.UUID, sh.ID)
	}
	if rewrite {
		b := r.m.opts.DB.NewBatch()
		_ = r.m.ks.checkpoints.DeleteRange(b, ckptKey(r.cfg.UUID, sh.ID, 0), ckptKey(r.cfg.UUID, sh.ID, laneFactor))
		_ = r.m.ks.windows.DeleteRange(b, windowKey(r.cfg.UUID, sh.ID, 0), windowKey(r.cfg.UUID, sh.ID, 0xFF))
		for i, p := range pos {
			_ = r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, sh.ID, byte(i)), seqBytes(p))
		}
		_ = r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, sh.ID, laneFactor), []byte{byte(factor)})
		_ = b.Commit(true)
		b.Close()
	}
	for i, p := range pos {
		w.lanes = append(w.lanes, &lane{w: w, idx: i, ckpt: p, wake: make(chan struct{}, 1), win: wins[i]})
	}
	w.readPos = pos[0]
	for _, p := range pos {
		w.readPos = min(w.readPos, p)
	}
	return w
}

func (w *shardWorker) laneOf(rec *streams.Record) *lane {
	if len(w.lanes) == 1 {
		return w.lanes[0]
	}
	h := store.PartitionHash(rec.Keys[w.hashKey]) * 0x9E3779B97F4A7C15
	return w.lanes[(h>>32)%uint64(len(w.lanes))]
}

func (w *shardWorker) render(rec *streams.Record) []byte {
	b := w.r.m.opts.Render(make([]byte, 0, 256+rec.SizeBytes*2), rec)
	return append(b[:len(b)-1], w.r.arnJSON...)
}

// keep applies FilterCriteria (any filter matches; none configured: all).
func (w *shardWorker) keep(js []byte) bool {
	if len(w.r.filters) == 0 {
		return true
	}
	ev, err := decodeEvent(js)
	if err != nil {
		return false
	}
	for _, f := range w.r.filters {
		if f.match(ev) {
			return true
		}
	}
	return false
}

const readLimit = 1000

// run reads the shard to its end (or until the runner stops) and reports
// whether the shard is finished.
func (w *shardWorker) run() bool {
	r := w.r
	ctx := r.ctx
	for _, l := range w.lanes {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); l.loop() }()
	}
	queueCap := max(1000, 2*r.cfg.BatchSize*len(w.lanes))
	pos := w.readPos
	gone := false
	for ctx.Err() == nil {
		b, err := r.m.opts.Log.Read(w.sh.ID, pos, readLimit)
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
			sleepCtx(ctx, r.m.opts.RetryBackoff)
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
			if !w.keep(js) {
				filtered++
				continue
			}
			l.queue = append(l.queue, item{rec: *rec, json: js, arrived: now})
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
			err := r.m.opts.Log.Wait(wctx, w.sh.ID, pos)
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
	_, err := r.m.opts.DB.Write(ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
		return r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, w.sh.ID, laneDone), nil)
	}})
	return err == nil
}

// firstReadable finds the lowest position at or after pos that is not
// trimmed (Read fails with ErrTrimmed exactly below the trim point).
func (w *shardWorker) firstReadable(pos streams.Seq) streams.Seq {
	lo, hi := pos, streams.Seq(1)<<62
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if _, err := w.r.m.opts.Log.Read(w.sh.ID, mid, 1); errors.Is(err, streams.ErrTrimmed) {
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
	_, err := r.m.opts.DB.Write(r.ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
		for _, l := range idle {
			if err := r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, w.sh.ID, byte(l.idx)), seqBytes(pos)); err != nil {
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

// loop takes batches from the lane's queue and delivers them.
func (l *lane) loop() {
	w := l.w
	r := w.r
	ctx := r.ctx
	window := time.Duration(r.cfg.MaximumBatchingWindowInSeconds) * time.Second
	for {
		w.mu.Lock()
		for len(l.queue) == 0 {
			if w.ended || ctx.Err() != nil {
				w.mu.Unlock()
				if ctx.Err() == nil {
					l.closeWindow(false) // the shard ended
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
		if tw := l.windowSecs(); tw > 0 {
			wstart = windowStart(l.queue[0].rec.Time, tw)
		}
		for n < len(l.queue) && n < r.cfg.BatchSize {
			if wstart != 0 && windowStart(l.queue[n].rec.Time, l.windowSecs()) != wstart {
				break
			}
			sz := len(l.queue[n].json) + 1
			if n > 0 && size+sz > r.m.opts.MaxPayload {
				break
			}
			size += sz
			n++
		}
		batch := l.queue[:n:n]
		l.queue = l.queue[n:]
		w.queued -= n
		l.busy = true
		upTo := batch[n-1].rec.Seq
		if len(l.queue) == 0 {
			upTo = max(upTo, w.readPos)
		}
		w.mu.Unlock()
		notify(w.space)
		ok := (l.win == nil || l.win.start == wstart || l.closeWindow(false)) && l.process(batch, upTo)
		if ok && l.win != nil && len(l.win.state) > maxWindowState {
			ok = l.closeWindow(true)
		}
		w.mu.Lock()
		l.busy = false
		if ok {
			l.ckpt = max(l.ckpt, upTo)
		}
		w.mu.Unlock()
		if !ok {
			return
		}
	}
}

func (l *lane) cfg() *Configuration { return &l.w.r.cfg }

// process delivers items until each is processed or given up on, then
// commits final as the lane's checkpoint (with the handler's buffered
// writes and any failure record). It returns false only when the runner
// stops first (nothing after the last commit is recorded as done).
func (l *lane) process(items []item, final streams.Seq) bool {
	r := l.w.r
	cfg := l.cfg()
	retries := 0
	for len(items) > 0 {
		if n := l.expired(items); n > 0 {
			ck := final
			if n < len(items) {
				ck = items[n-1].rec.Seq
			}
			if !l.commitRetry(ck, l.failure(items[:n], "RecordAgeExceeded", retries, nil)) {
				return false
			}
			items = items[n:]
			continue
		}
		res, buf, err := l.invoke(items)
		if err != nil {
			if r.ctx.Err() != nil {
				return false
			}
			if errors.Is(err, triggers.ErrNotFound) {
				r.setResult("PROBLEM: Function not found.")
			} else {
				r.setResult("PROBLEM: " + err.Error())
			}
			if !sleepCtx(r.ctx, r.m.opts.MaxRetryBackoff) {
				return false
			}
			continue
		}
		failedAt := -1
		state, stateOK := l.responseState(res.Payload)
		switch {
		case res.FunctionError != "":
			failedAt = 0
		case !stateOK:
			failedAt = 0
			r.setResult("PROBLEM: " + errNoState.Error())
		case cfg.reportFailures():
			failedAt = firstFailed(items, res.Payload)
		}
		if failedAt < 0 {
			if state != nil {
				l.winNext = &window{start: windowStart(items[0].rec.Time, cfg.TumblingWindowInSeconds), state: state}
			}
			err := l.commit(buf, final, nil)
			l.winNext = nil
			if err == nil {
				r.setResult("OK")
				r.m.metrics.records.WithLabelValues(r.lbl...).Add(float64(len(items)))
				return true
			}
			if r.ctx.Err() != nil {
				return false
			}
			failedAt = 0 // the handler's writes could not be committed
		}
		r.m.metrics.errors.WithLabelValues(r.lbl...).Inc()
		r.setResult("PROBLEM: Function call failed")
		if failedAt > 0 {
			if !buf.empty() || state != nil {
				// Its writes (or window state) cover records past the
				// failure: re-run the successful prefix alone so they
				// commit with it.
				if !l.process(items[:failedAt], items[failedAt-1].rec.Seq) {
					return false
				}
			} else if !l.commitRetry(items[failedAt-1].rec.Seq, nil) {
				return false
			}
			items = items[failedAt:]
		}
		if cfg.BisectBatchOnFunctionError && len(items) > 1 {
			h := len(items) / 2
			if !l.process(items[:h], items[h-1].rec.Seq) {
				return false
			}
			items, retries = items[h:], 0
			continue
		}
		if cfg.MaximumRetryAttempts >= 0 && retries >= cfg.MaximumRetryAttempts {
			return l.commitRetry(final, l.failure(items, "RetryAttemptsExhausted", retries+1, res))
		}
		retries++
		r.m.metrics.retries.WithLabelValues(r.lbl...).Inc()
		if !sleepCtx(r.ctx, l.backoff(retries)) {
			return false
		}
	}
	return l.commitRetry(final, nil)
}

func (l *lane) backoff(retry int) time.Duration {
	o := l.w.r.m.opts
	d := o.RetryBackoff
	for i := 1; i < retry && d < o.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, o.MaxRetryBackoff)
}

// expired counts the leading records older than MaximumRecordAgeInSeconds
// (a shard's records are in time order).
func (l *lane) expired(items []item) int {
	age := l.cfg().MaximumRecordAgeInSeconds
	if age < 0 || l.rd != nil {
		return 0
	}
	cut := l.w.r.m.opts.Now().Add(-time.Duration(age) * time.Second)
	n := 0
	for n < len(items) && items[n].rec.Time.Before(cut) {
		n++
	}
	return n
}

// firstFailed returns the index of the lowest record a partial batch
// response names, -1 when it names none, 0 when it names one that is not in
// the batch (Lambda then treats the whole batch as failed).
func firstFailed(items []item, payload []byte) int {
	ids, ok := triggers.BatchItemFailures(payload)
	if !ok || len(ids) == 0 {
		return -1
	}
	idx := make(map[string]int, len(items))
	for i := range items {
		idx[items[i].rec.Seq.String()] = i
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

// invoke sends one batch to the function with a fresh write buffer.
func (l *lane) invoke(items []item) (*triggers.Result, *WriteBuffer, error) {
	r := l.w.r
	size := 16
	for i := range items {
		size += len(items[i].json) + 1
	}
	p := make([]byte, 0, size)
	p = append(p, `{"Records":[`...)
	for i := range items {
		if i > 0 {
			p = append(p, ',')
		}
		p = append(p, items[i].json...)
	}
	p = append(p, ']')
	if tw := l.windowSecs(); tw > 0 {
		p = l.appendWindow(p, windowStart(items[0].rec.Time, tw), false, false)
	}
	p = append(p, '}')
	buf := &WriteBuffer{db: r.m.opts.DB}
	start := time.Now()
	r.m.metrics.iteratorAge.WithLabelValues(r.lbl...).Set(float64(r.m.opts.Now().Sub(items[len(items)-1].rec.Time).Milliseconds()))
	res, err := r.m.opts.Host.Invoke(withBuffer(r.ctx, buf), r.cfg.FunctionName, r.cfg.Qualifier, p)
	if err == nil {
		r.m.metrics.invocations.WithLabelValues(r.lbl...).Inc()
		r.m.metrics.duration.WithLabelValues(r.lbl...).Observe(time.Since(start).Seconds())
	}
	return res, buf, err
}

// commit writes the lane checkpoint ck, the buffered writes and the failure
// entry (if any) in one synced batch. In a redrive (l.rd set) the hook
// records progress on the dead-letter entry instead of a checkpoint.
func (l *lane) commit(buf *WriteBuffer, ck streams.Seq, fe *dlq.Entry) error {
	w := l.w
	r := w.r
	var after func()
	_, err := r.m.opts.DB.Write(r.ctx, store.WriteOptions{Extra: func(b *store.Batch) error {
		if l.rd != nil {
			var err error
			after, err = l.rd(b, ck, fe)
			return err
		}
		if err := r.m.ks.checkpoints.Set(b, ckptKey(r.cfg.UUID, w.sh.ID, byte(l.idx)), seqBytes(ck)); err != nil {
			return err
		}
		if l.winNext != nil {
			if err := r.m.ks.windows.Set(b, windowKey(r.cfg.UUID, w.sh.ID, byte(l.idx)), l.winNext.encode()); err != nil {
				return err
			}
		}
		if fe != nil {
			return r.m.opts.DLQ.Append(b, fe)
		}
		return nil
	}}, buf.mutations()...)
	if err == nil {
		w.mu.Lock()
		l.ckpt = max(l.ckpt, ck)
		w.mu.Unlock()
		if l.winNext != nil {
			l.win = l.winNext
		}
		if after != nil {
			after()
		}
		if fe != nil {
			r.m.metrics.failed.WithLabelValues(r.lbl...).Add(float64(len(fe.Records)))
			r.m.opts.DLQ.Notify()
		}
	}
	return err
}

// commitRetry commits a checkpoint (and failure record) without handler
// writes, retrying storage errors until it succeeds or the runner stops.
func (l *lane) commitRetry(ck streams.Seq, fr *dlq.Entry) bool {
	r := l.w.r
	for {
		err := l.commit(nil, ck, fr)
		if err == nil {
			return true
		}
		r.setResult("PROBLEM: " + err.Error())
		if !sleepCtx(r.ctx, r.m.opts.RetryBackoff) {
			return false
		}
	}
}

// failure builds the dead-letter entry for items: Lambda's on-failure
// record, the records themselves, the last error and log tail.
func (l *lane) failure(items []item, condition string, invokes int, res *triggers.Result) *dlq.Entry {
	r := l.w.r
	e := &dlq.Entry{Mapping: r.cfg.UUID, Records: make([]dlq.StreamRecord, len(items))}
	if d := r.cfg.DestinationConfig; d != nil && d.OnFailure != nil {
		e.Destination = d.OnFailure.Destination
	}
	for i := range items {
		e.Records[i] = dlq.StreamRecord{Seq: items[i].rec.Seq, Arrival: items[i].rec.Time.UnixMilli(), Event: items[i].json}
	}
	fr := &e.Record
	fr.Version = "1.0"
	fr.RequestContext.RequestID = newUUID()
	fr.RequestContext.FunctionArn = r.cfg.FunctionArn
	fr.RequestContext.Condition = condition
	fr.RequestContext.ApproximateInvokeCount = invokes
	if res != nil {
		fr.RequestContext.RequestID = res.RequestID
		fr.ResponseContext.StatusCode = 200
		fr.ResponseContext.ExecutedVersion = res.ExecutedVersion
		fr.ResponseContext.FunctionError = res.FunctionError
		e.LastError = errorMessage(res)
		e.LogTail = string(res.Logs)
	}
	fr.Timestamp = r.m.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	bi := &fr.DDBStreamBatchInfo
	bi.ShardID = l.w.sh.ID
	bi.StartSequenceNumber = items[0].rec.Seq.String()
	bi.EndSequenceNumber = items[len(items)-1].rec.Seq.String()
	bi.ApproximateArrivalOfFirstRecord = items[0].rec.Time.UTC().Format("2006-01-02T15:04:05Z")
	bi.ApproximateArrivalOfLastRecord = items[len(items)-1].rec.Time.UTC().Format("2006-01-02T15:04:05Z")
	bi.BatchSize = len(items)
	bi.StreamArn = r.cfg.EventSourceArn
	return e
}

// errorMessage is what the last invocation reported: the function error's
// message, or that its partial batch response named failed records.
func errorMessage(res *triggers.Result) string {
	if res.FunctionError == "" {
		return "batchItemFailures named records of this batch"
	}
	var p struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(res.Payload, &p) == nil && p.Message != "" {
		if p.Type != "" {
			return p.Type + ": " + p.Message
		}
		return p.Message
	}
	return string(res.Payload)
}
