package relay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/streams"
)

// shardPub publishes one shard: it reads records after its committed
// position, publishes them asynchronously (at most MaxInFlight without an
// ack), and commits the position over the acknowledged prefix only.
//
//	committed ≤ acked ≤ (queued records) ≤ readPos
//	  committed: persisted; a restart resumes after it
//	  acked:     every record ≤ acked has JetStream's ack (the head of the queue)
//	  readPos:   every record ≤ readPos was published or skipped
//
// Invariant: the position committed is never past a record that JetStream
// has not acknowledged, and positions only grow.
type shardPub struct {
	t      *table
	stream string
	sh     shards.Info
	origin string
	subj   string
	closed bool // the shard is closed (as of the last walk or read)

	committed position
	acked     streams.Seq
	// last is the last record acknowledged (position.Last); prev the last
	// record published, the predecessor the next one names.
	last, prev streams.Seq
	count      uint64 // records acknowledged since the last commit
	lastAt     time.Time
}

// pending is a published record waiting for its ack.
type pending struct {
	seq streams.Seq
	fut jetstream.PubAckFuture
}

const (
	readLimit = 1000
	// commitEvery and commitAfter bound the acknowledged records a commit
	// may leave behind: what a crash republishes (deduplicated).
	commitEvery = 512
	commitAfter = 100 * time.Millisecond
)

func newShardPub(t *table, stream string, sh shards.Info, origin string) *shardPub {
	p := &shardPub{t: t, stream: stream, sh: sh, origin: origin, subj: t.r.Subject(t.cfg.Table, sh.ID), closed: sh.Closed}
	if c := t.pos[sh.ID]; c != nil {
		p.committed = *c
	}
	p.committed.Stream = stream
	p.acked = streams.Seq(p.committed.Pos)
	p.last = streams.Seq(p.committed.Last)
	return p
}

// run publishes the shard until it is finished (true) or ctx ends.
func (p *shardPub) run(ctx context.Context) bool {
	delay := time.Duration(0)
	for {
		if delay > 0 && !lifecycle.Sleep(ctx, delay) {
			return false
		}
		finished, err := p.publish(ctx)
		if ctx.Err() != nil {
			return false
		}
		p.t.report(err)
		if err == nil {
			return finished
		}
		p.t.r.connFailed()
		delay = min(max(2*delay, p.t.r.opts.RetryBackoff), p.t.r.opts.MaxRetryBackoff)
	}
}

// publish runs the pipeline from the committed position until the shard
// is finished, ctx ends, or something fails (the error; the acknowledged
// prefix is committed first).
func (p *shardPub) publish(ctx context.Context) (finished bool, err error) {
	r := p.t.r
	log := r.log
	js, err := r.jetStream(ctx)
	if err != nil {
		return false, err
	}
	window := r.opts.MaxInFlight
	readPos := p.acked
	var q []pending
	var buf []streams.Record
	var bufNext streams.Seq
	bufEnded, ended, idle := false, false, false
	skip := streams.Seq(p.t.cfg.StartAfter)
	p.prev = p.last
	p.lastAt = time.Now()
	defer func() {
		// Whatever happens, wait a little for the acks in flight and
		// commit the acknowledged prefix.
		wctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p.drain(wctx, q, len(q))
		cancel()
		if cerr := p.commitAcked(false); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for ctx.Err() == nil {
		if len(buf) == 0 && !ended && !idle {
			b, err := log.Read(p.sh.ID, readPos, readLimit)
			switch {
			case errors.Is(err, streams.ErrShardNotFound):
				// Dropped (past retention, its table deleted long ago):
				// nothing more to read.
				ended = true
				b = streams.Batch{Next: readPos}
			case errors.Is(err, streams.ErrTrimmed):
				if len(q) > 0 {
					q = p.drain(ctx, q, len(q))
					if len(q) > 0 {
						return false, fmt.Errorf("publishing %s before the trim point failed", p.subj)
					}
					if err := p.commitAcked(false); err != nil {
						return false, err
					}
				}
				p.acked = readPos
				resumed := p.firstReadable(readPos)
				if err := p.t.trimmed(p.sh.ID, readPos, resumed); err != nil {
					return false, err
				}
				readPos, p.acked = resumed, resumed
				if err := p.commitAcked(true); err != nil {
					return false, err
				}
				continue
			case err != nil:
				return false, err
			}
			if len(b.Records) == 0 {
				readPos, ended, idle = max(readPos, b.Next), b.Ended, true
			} else {
				buf, bufNext, bufEnded = b.Records, b.Next, b.Ended
			}
			p.closed = p.closed || b.Ended
		}
		for len(buf) > 0 && len(q) < window {
			rec := &buf[0]
			if rec.Seq > skip {
				fut, err := js.PublishMsgAsync(p.message(rec), jetstream.WithMsgID(p.stream+"/"+rec.Seq.String()))
				if err != nil {
					return false, fmt.Errorf("publishing %s: %w", p.subj, err)
				}
				q = append(q, pending{rec.Seq, fut})
				p.prev = rec.Seq
			}
			buf = buf[1:]
			if len(buf) == 0 {
				readPos, ended = max(readPos, bufNext), bufEnded
				buf = nil
			}
		}
		// Acknowledgements: wait for the head when the window is full or
		// nothing else can be done; otherwise take what has arrived.
		if len(q) > 0 {
			n := 0
			if len(q) >= window || (len(buf) == 0 && (idle || ended)) {
				n = 1
			}
			var err error
			q, err = p.collect(ctx, q, n)
			if err != nil {
				return false, err
			}
		}
		if len(q) == 0 && len(buf) == 0 {
			p.acked = readPos
		}
		if ended && len(q) == 0 && len(buf) == 0 {
			return true, p.commitAcked(true)
		}
		if p.count >= commitEvery || time.Since(p.lastAt) >= commitAfter || (idle && len(q) == 0) {
			if err := p.commitAcked(false); err != nil {
				return false, err
			}
		}
		if idle && len(q) == 0 && len(buf) == 0 {
			// Caught up: sleep until a write to the shard commits (the
			// timeout only re-checks that the shard still exists).
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := log.Wait(wctx, p.sh.ID, readPos)
			cancel()
			if errors.Is(err, streams.ErrShardNotFound) {
				ended = true
			}
		}
		if len(buf) == 0 {
			idle = false
		}
	}
	return false, nil
}

// collect pops acknowledged records from the head of q: it waits for the
// first `wait` of them (0 or 1), then takes those already acknowledged.
// A failed head is an error.
func (p *shardPub) collect(ctx context.Context, q []pending, wait int) ([]pending, error) {
	for len(q) > 0 {
		head := q[0]
		if wait > 0 {
			select {
			case <-head.fut.Ok():
			case err := <-head.fut.Err():
				return q, fmt.Errorf("JetStream did not store %s (%s): %w", head.seq, p.subj, err)
			case <-ctx.Done():
				return q, nil
			}
			wait--
		} else {
			select {
			case <-head.fut.Ok():
			case err := <-head.fut.Err():
				return q, fmt.Errorf("JetStream did not store %s (%s): %w", head.seq, p.subj, err)
			default:
				return q, nil
			}
		}
		p.acked, p.last = head.seq, head.seq
		p.count++
		q[0] = pending{}
		q = q[1:]
	}
	return q, nil
}

// drain waits (until ctx ends) for up to n acks at the head of q and
// advances acked over the acknowledged prefix; it stops at the first
// failure.
func (p *shardPub) drain(ctx context.Context, q []pending, n int) []pending {
	for i := 0; i < n && len(q) > 0; i++ {
		head := q[0]
		select {
		case <-head.fut.Ok():
		case <-head.fut.Err():
			return q
		case <-ctx.Done():
			return q
		}
		p.acked, p.last = head.seq, head.seq
		p.count++
		q = q[1:]
	}
	return q
}

// commitAcked commits the acknowledged prefix when it moved (or done).
func (p *shardPub) commitAcked(done bool) error {
	if uint64(p.acked) <= p.committed.Pos && !done {
		return nil
	}
	c := p.committed
	c.Pos = max(c.Pos, uint64(p.acked))
	c.Last = max(c.Last, uint64(p.last))
	c.Published += p.count
	c.Done = done
	if err := p.t.commit(p.sh.ID, c); err != nil {
		return fmt.Errorf("committing the relay's position: %w", err)
	}
	p.committed, p.count, p.lastAt = c, 0, time.Now()
	p.t.report(nil) // publishing works (again)
	return nil
}

// firstReadable finds the lowest position at or after pos that is not
// trimmed (Read fails with ErrTrimmed exactly below the trim point).
func (p *shardPub) firstReadable(pos streams.Seq) streams.Seq {
	lo, hi := pos, streams.Seq(1)<<62
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if _, err := p.t.r.log.Read(p.sh.ID, mid, 1); errors.Is(err, streams.ErrTrimmed) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// message builds rec's message (see the package doc for the headers).
func (p *shardPub) message(rec *streams.Record) *nats.Msg {
	m := nats.NewMsg(p.subj)
	m.Data = p.t.r.log.AppendRecordJSON(make([]byte, 0, 256+2*rec.SizeBytes), rec)
	h := m.Header
	h.Set("Eddy-Stream-Arn", p.stream)
	h.Set("Eddy-Table", p.t.cfg.Table)
	h.Set("Eddy-Shard-Id", p.sh.ID)
	if p.sh.ParentID != "" {
		h.Set("Eddy-Parent-Shard-Id", p.sh.ParentID)
	}
	if p.origin != "" {
		h.Set("Eddy-Shard-Origin", p.origin)
	}
	h.Set("Eddy-Shard-Closed", strconv.FormatBool(p.closed))
	h.Set("Eddy-Event-Name", rec.EventName)
	h.Set("Eddy-Sequence-Number", rec.Seq.String())
	h.Set("Eddy-Previous-Sequence-Number", p.prev.String())
	return m
}
