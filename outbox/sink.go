package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/lifecycle"
)

// sink is one sink's delivery: its positions, its backlog and its loop.
//
// Positions. Every document committed to the sink gets the next position
// (Seq) while its batch is built (Stage), so batches that commit out of
// order would leave a later position visible before an earlier one. As
// for the change log, the loop therefore reads only up to the visibility
// watermark: one below the first position of the oldest commit still in
// flight (all positions when none is). Below it every position is either
// committed or a gap (its commit failed), so the loop never skips one.
//
// Settling. A document is settled when the target applied or rejected it;
// through is the position up to which all are. The loop deletes settled
// documents (a range tombstone for the settled prefix, points beyond it),
// moves rejected ones to the rejected list, and writes the totals and
// through, in one synced batch. A crash between a Deliver and that batch
// delivers those documents again: targets are idempotent by ID and version
// (and the file sink by Seq).
type sink struct {
	o      *Outbox
	rec    record
	target Target // nil when broken
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{}
	log    *slog.Logger

	mu        sync.Mutex
	broken    error          // the target could not be opened
	next      uint64         // next position to give out
	inflight  map[uint64]int // first position of each commit in flight → its count
	through   uint64         // every position <= through is settled
	pending   int64          // committed, not settled: the backlog
	delivered uint64         // totals, persisted in the state key
	rejected  uint64
	attempts  uint64 // Deliver calls since the start
	failing   bool
	lastErr   string
	lastErrAt time.Time
	changed   chan struct{}         // closed and replaced when through or pending change
	waiters   map[uint64]chan error // immediate emits waiting for their document
	rate      []rateSample
	stopped   bool
}

type rateSample struct {
	at time.Time
	n  int
}

// state is the sink's persisted delivery state ('s' key).
type state struct {
	Delivered uint64 `json:"Delivered"`
	Rejected  uint64 `json:"Rejected"`
	Through   uint64 `json:"Through"`
}

func newSink(o *Outbox, r record) (*sink, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sink{o: o, rec: r, ctx: ctx, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1),
		log: o.log.With("sink", r.Config.Name), inflight: map[uint64]int{}, changed: make(chan struct{}),
		waiters: map[uint64]chan error{}}
	var st state
	if v, ok, err := o.ks.Get(stateKey(r.ID)); err != nil {
		return nil, err
	} else if ok {
		if err := json.Unmarshal(v, &st); err != nil {
			return nil, fmt.Errorf("outbox: sink %s: corrupt state: %v", r.Config.Name, err)
		}
	}
	s.delivered, s.rejected, s.through = st.Delivered, st.Rejected, st.Through
	last := st.Through
	lo, hi := docSpan(tagDoc, r.ID)
	err := o.ks.Scan(lo, hi, func(k, _ []byte) error {
		s.pending++
		last = max(last, seqOf(k))
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.next = last + 1
	return s, nil
}

func (s *sink) setBroken(err error) {
	s.mu.Lock()
	s.broken = err
	s.lastErr, s.lastErrAt = err.Error(), s.o.opts.Now()
	s.mu.Unlock()
	close(s.done)
}

// stop ends the loop and closes the target; immediate emits still waiting
// get an error (their documents stay in the outbox).
func (s *sink) stop() error {
	s.cancel()
	<-s.done
	s.mu.Lock()
	s.stopped = true
	for seq, ch := range s.waiters {
		ch <- fmt.Errorf("sink %s stopped before the document was delivered", s.rec.Config.Name)
		delete(s.waiters, seq)
	}
	s.broadcastLocked()
	s.mu.Unlock()
	if s.target != nil {
		return s.target.Close()
	}
	return nil
}

func (s *sink) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *sink) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *sink) backlog() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// visibleLocked is the visibility watermark.
func (s *sink) visibleLocked() uint64 {
	v := s.next - 1
	for base := range s.inflight {
		v = min(v, base-1)
	}
	return v
}

// loop delivers the sink's documents until the sink stops.
// It runs under the outbox's lifecycle.Group but stops on the sink's own
// context (sink.stop), so a sink can be removed while the outbox runs.
func (s *sink) loop(context.Context) {
	defer close(s.done)
	ctx := s.ctx
	fails := &lifecycle.Failures{Log: s.log, What: "sink delivery", Level: slog.LevelWarn}
	delay := time.Duration(0)
	for {
		if delay > 0 && !lifecycle.Sleep(ctx, delay) {
			return
		}
		docs, upTo, err := s.read()
		if err != nil {
			fails.Report(err)
			s.recordFailure(err)
			delay = s.nextDelay(delay)
			continue
		}
		if len(docs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, s.o.opts.DeliverTimeout)
		derr := s.target.Deliver(dctx, docs)
		cancel()
		if ctx.Err() != nil {
			return
		}
		err = s.settle(docs, upTo, derr)
		fails.Report(err)
		if err != nil {
			s.recordFailure(err)
			delay = s.nextDelay(delay)
			continue
		}
		delay = 0
		s.mu.Lock()
		s.failing = false
		s.mu.Unlock()
	}
}

func (s *sink) nextDelay(d time.Duration) time.Duration {
	if d == 0 {
		return s.o.opts.RetryBackoff
	}
	return min(2*d, s.o.opts.MaxRetryBackoff)
}

func (s *sink) recordFailure(err error) {
	s.mu.Lock()
	s.failing = true
	s.lastErr, s.lastErrAt = err.Error(), s.o.opts.Now()
	s.mu.Unlock()
}

// read returns the next documents to deliver, in position order, within
// the batch limits, and the position the batch settles when all of it is
// delivered (the watermark when the batch reached it, so gaps settle too).
func (s *sink) read() ([]Doc, uint64, error) {
	s.mu.Lock()
	lo, vis := s.through+1, s.visibleLocked()
	s.mu.Unlock()
	if lo > vis {
		return nil, 0, nil
	}
	cfg := &s.rec.Config
	var docs []Doc
	size := 0
	complete := true
	it, err := s.o.ks.NewIter(docKey(tagDoc, s.rec.ID, lo), docKey(tagDoc, s.rec.ID, vis+1))
	if err != nil {
		return nil, 0, err
	}
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(docs) > 0 && (len(docs) >= cfg.BatchSize || size+len(v) > cfg.BatchBytes) {
			complete = false
			break
		}
		d, err := decodeEntry(seqOf(it.Key()), v)
		if err != nil {
			it.Close()
			return nil, 0, err
		}
		docs = append(docs, d)
		size += len(v)
	}
	if err := it.Close(); err != nil {
		return nil, 0, err
	}
	upTo := vis
	if !complete {
		upTo = docs[len(docs)-1].Seq
	}
	if len(docs) == 0 {
		// Only gaps up to the watermark: settled.
		s.mu.Lock()
		s.through = max(s.through, vis)
		s.mu.Unlock()
	}
	return docs, upTo, nil
}

// settle records the outcome of delivering docs: it deletes what was
// delivered, keeps what was rejected, and returns the delivery's error
// when anything is left to retry (or the commit's error).
func (s *sink) settle(docs []Doc, upTo uint64, derr error) error {
	s.mu.Lock()
	s.attempts++
	s.mu.Unlock()
	var failed, rejected map[int]bool
	var p *Partial
	switch {
	case derr == nil:
	case errors.As(derr, &p):
		failed, rejected = indexSet(p.Failed), indexSet(p.Rejected)
	default:
		s.answer(docs, nil, derr, nil)
		return derr
	}
	through := upTo
	for i, d := range docs {
		if failed[i] {
			through = d.Seq - 1
			break
		}
	}
	s.mu.Lock()
	lo := s.through + 1
	s.mu.Unlock()
	b := s.o.ks.NewBatch()
	defer b.Close()
	var errs []error
	if through >= lo {
		errs = append(errs, s.o.ks.DeleteRange(b, docKey(tagDoc, s.rec.ID, lo), docKey(tagDoc, s.rec.ID, through+1)))
	}
	ok, rej := 0, 0
	now := s.o.opts.Now().UTC().Format(time.RFC3339Nano)
	reason := ""
	if p != nil && p.Err != nil {
		reason = p.Err.Error()
	}
	for i, d := range docs {
		switch {
		case failed[i]:
			continue
		case rejected[i]:
			rej++
			v, _ := json.Marshal(entry{Op: d.Op, ID: d.ID, Version: d.Version, Table: d.Table, Doc: d.Body, Reason: reason, At: now})
			errs = append(errs, s.o.ks.Set(b, docKey(tagRejected, s.rec.ID, d.Seq), v))
		default:
			ok++
		}
		if d.Seq > through {
			errs = append(errs, s.o.ks.Delete(b, docKey(tagDoc, s.rec.ID, d.Seq)))
		}
	}
	s.mu.Lock()
	st := state{Delivered: s.delivered + uint64(ok), Rejected: s.rejected + uint64(rej), Through: max(s.through, through)}
	s.mu.Unlock()
	v, _ := json.Marshal(st)
	errs = append(errs, s.o.ks.Set(b, stateKey(s.rec.ID), v))
	err := errors.Join(errs...)
	if err == nil {
		err = b.Commit(true)
	}
	if err != nil {
		// Delivered but not recorded: delivered again after the backoff
		// (idempotent targets).
		err = fmt.Errorf("recording delivered documents: %w", err)
		s.answer(docs, nil, err, nil)
		return err
	}
	if rej > 0 {
		s.log.Warn("sink rejected documents; they are kept in its rejected list", "rejected", rej, "reason", reason)
	}
	s.mu.Lock()
	s.delivered, s.rejected, s.through = st.Delivered, st.Rejected, st.Through
	s.pending -= int64(ok + rej)
	at := s.o.opts.Now()
	s.rate = append(s.rate, rateSample{at, ok})
	s.pruneRateLocked(at)
	s.broadcastLocked()
	s.mu.Unlock()
	s.answer(docs, failed, derr, rejected)
	if len(failed) > 0 {
		return derr
	}
	return nil
}

// answer tells immediate emits waiting for docs how their document fared.
func (s *sink) answer(docs []Doc, failed map[int]bool, err error, rejected map[int]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) == 0 {
		return
	}
	for i, d := range docs {
		ch, ok := s.waiters[d.Seq]
		if !ok {
			continue
		}
		delete(s.waiters, d.Seq)
		switch {
		case failed == nil && rejected == nil && err != nil, failed[i]:
			ch <- fmt.Errorf("sink %s: not delivered yet (the document stays queued and is retried): %v", s.rec.Config.Name, err)
		case rejected[i]:
			ch <- fmt.Errorf("sink %s: the target rejected the document: %v", s.rec.Config.Name, err)
		default:
			ch <- nil
		}
	}
}

func indexSet(xs []int) map[int]bool {
	m := make(map[int]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Status is what `eddy sinks show` prints.
type Status struct {
	Config
	Created time.Time `json:"Created"`
	// State is OK, FAILING (the last delivery failed; see LastError),
	// BACKLOG_FULL (mappings emitting to it are paused) or STOPPED (the
	// target could not be opened).
	State string `json:"State"`
	// Backlog is the number of documents committed and not yet delivered.
	Backlog int64 `json:"Backlog"`
	// DeliveredThrough: every document up to this outbox position is
	// delivered (or rejected). LastPosition is the last position given
	// out.
	DeliveredThrough uint64 `json:"DeliveredThrough"`
	LastPosition     uint64 `json:"LastPosition"`
	Delivered        uint64 `json:"Delivered"`
	Rejected         uint64 `json:"Rejected"`
	// RatePerSecond is documents delivered per second over the last
	// minute.
	RatePerSecond float64    `json:"RatePerSecond"`
	LastError     string     `json:"LastError,omitempty"`
	LastErrorAt   *time.Time `json:"LastErrorAt,omitempty"`
}

func (s *sink) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.opts.Now()
	s.pruneRateLocked(now)
	n := 0
	for _, r := range s.rate {
		n += r.n
	}
	st := Status{Config: redact(s.rec.Config), Created: s.rec.Created, State: "OK", Backlog: s.pending,
		DeliveredThrough: s.through, LastPosition: s.next - 1, Delivered: s.delivered, Rejected: s.rejected,
		RatePerSecond: float64(n) / 60, LastError: s.lastErr}
	if !s.lastErrAt.IsZero() {
		t := s.lastErrAt.UTC()
		st.LastErrorAt = &t
	}
	switch {
	case s.broken != nil:
		st.State = "STOPPED"
	case s.pending >= s.rec.Config.MaxBacklog:
		st.State = "BACKLOG_FULL"
	case s.failing:
		st.State = "FAILING"
	}
	return st
}

// pruneRateLocked drops rate samples older than a minute.
func (s *sink) pruneRateLocked(now time.Time) {
	cut := 0
	for cut < len(s.rate) && now.Sub(s.rate[cut].at) > time.Minute {
		cut++
	}
	if cut > 0 {
		s.rate = append(s.rate[:0], s.rate[cut:]...)
	}
}

// redact hides secrets in a configuration shown to clients.
func redact(c Config) Config {
	if len(c.Options) == 0 {
		return c
	}
	opts := make(map[string]string, len(c.Options))
	for k, v := range c.Options {
		lk := strings.ToLower(k)
		for _, secret := range []string{"password", "token", "api_key", "secret", "authorization", "creds"} {
			if strings.Contains(lk, secret) {
				v = "*****"
				break
			}
		}
		opts[k] = v
	}
	c.Options = opts
	return c
}
