// Package watermillsub is a watermill message.Subscriber over eddy's
// change records in NATS JetStream, so a Go service built on watermill's
// router consumes a table's changes with its own middleware (retries,
// poison queues, metrics) on any machine that reaches NATS.
//
// eddy's relay (package relay; `eddy relay enable TABLE`) publishes every
// change record of a table into the JetStream stream EDDY, one subject per
// shard, parents before children, once (Nats-Msg-Id deduplication). A
// Subscriber turns the topic "orders" into a JetStream consumer of
// "eddy.<region>.orders.*" and hands each record to watermill as one
// message:
//
//   - UUID: the record's Nats-Msg-Id, "<stream ARN>/<sequence number>",
//     the same for a record published twice, so a handler can recognise a
//     redelivery.
//   - Payload: the record exactly as DynamoDB Streams' GetRecords returns
//     it (eventName, dynamodb.Keys, NewImage, OldImage, SequenceNumber...).
//   - Metadata: the relay's headers (Eddy-Table, Eddy-Shard-Id,
//     Eddy-Parent-Shard-Id, Eddy-Shard-Origin, Eddy-Event-Name,
//     Eddy-Sequence-Number, Eddy-Stream-Arn), first value of each.
//
// # Guarantees
//
// Order. The consumer has at most MaxAckPending messages unacknowledged
// (default 1) and a message is handed on only after the previous one was
// acked, so a subscription sees the table's records in the stream's order,
// which keeps every item's changes in the order they were made.
//
// At least once. Ack acknowledges the JetStream message (double ack: it
// returns once the server has recorded it); Nack hands the same record to
// the handler again after NackDelay, holding it in JetStream meanwhile, so
// no later record overtakes it; a message neither acked nor nacked within
// AckWait (a crashed consumer) is redelivered by NATS. With a Durable name the position survives the
// process: a new Subscriber with the same name resumes after the last
// acknowledged record. Effectively once is the handler's: make its effect
// idempotent on the message UUID (or on the item and sequence number).
package watermillsub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/relay"
)

// Config says which stream and subjects to read, and how.
type Config struct {
	// Stream is the JetStream stream the relay publishes into. Default
	// "EDDY" (relay.Options.Stream).
	Stream string
	// SubjectPrefix and Region are the subjects' first two tokens.
	// Defaults "eddy" and "us-east-1" (relay.Options).
	SubjectPrefix, Region string
	// Durable names the consumers: Subscribe(table) uses the durable
	// consumer "<Durable>-<table>", which keeps its position across
	// restarts. Empty: an ephemeral consumer that starts at the stream's
	// first record and is gone when the subscription ends.
	Durable string
	// MaxAckPending bounds the records handed out and not yet acked.
	// Default 1, which keeps the stream's order.
	MaxAckPending int
	// AckWait is how long a record may stay unacknowledged before NATS
	// redelivers it. Default 30 s.
	AckWait time.Duration
	// NackDelay is how long NATS waits before redelivering a nacked record.
	// Default 1 s.
	NackDelay time.Duration
	// Heartbeat is the idle heartbeat of the pull requests: a gap of
	// twice this without a record or a heartbeat is logged (the
	// subscription keeps going). Default: nats.go's, 15 s.
	Heartbeat time.Duration
	// RetryBackoff is the pause before making the consumer again when
	// NATS closed it (deleted, or the connection lost for good).
	// Default 1 s.
	RetryBackoff time.Duration
	// Logger: default watermill.NopLogger.
	Logger watermill.LoggerAdapter
}

func (c *Config) defaults() {
	if c.Stream == "" {
		c.Stream = "EDDY"
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = "eddy"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.MaxAckPending <= 0 {
		c.MaxAckPending = 1
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.NackDelay <= 0 {
		c.NackDelay = time.Second
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = time.Second
	}
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
}

// Subscriber implements message.Subscriber; topics are table names.
type Subscriber struct {
	js  jetstream.JetStream
	cfg Config

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	subs    sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// New returns a Subscriber reading through js.
func New(js jetstream.JetStream, cfg Config) (*Subscriber, error) {
	if js == nil {
		return nil, errors.New("watermillsub: nil JetStream")
	}
	cfg.defaults()
	return &Subscriber{js: js, cfg: cfg, closing: make(chan struct{})}, nil
}

// Subject is the filter subject of table's records.
func (s *Subscriber) Subject(table string) string {
	return s.cfg.SubjectPrefix + "." + relay.Token(s.cfg.Region) + "." + relay.Token(table) + ".*"
}

// Subscribe starts delivering table's change records on the returned
// channel, which is closed when ctx ends or Close is called.
func (s *Subscriber) Subscribe(ctx context.Context, table string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("watermillsub: subscriber closed")
	}
	cc := jetstream.ConsumerConfig{
		FilterSubject: s.Subject(table),
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: s.cfg.MaxAckPending,
		AckWait:       s.cfg.AckWait,
	}
	if s.cfg.Durable != "" {
		cc.Durable = s.cfg.Durable + "-" + consumerToken(table)
	} else {
		cc.InactiveThreshold = time.Minute
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, s.cfg.Stream, cc)
	if err != nil {
		return nil, fmt.Errorf("watermillsub: consumer for %s: %w", table, err)
	}
	it, err := cons.Messages(s.pullOpts()...)
	if err != nil {
		return nil, fmt.Errorf("watermillsub: consume %s: %w", table, err)
	}
	out := make(chan *message.Message)
	fields := watermill.LogFields{"table": table, "subject": cc.FilterSubject, "durable": cc.Durable}
	s.cfg.Logger.Info("subscribed to eddy change records", fields)
	s.subs.Add(1)
	go func() {
		defer s.subs.Done()
		defer close(out)
		for {
			s.consume(ctx, it, out, fields)
			// The iterator closed. Unless the subscription ended, that
			// was NATS (the consumer deleted, the connection closed for
			// good, a terminal pull status): make the consumer again and
			// go on from its acknowledged position, never silently stop.
			for !s.ended(ctx) {
				s.cfg.Logger.Error("eddy change records: consumer gone, subscribing again", nil, fields)
				if !s.sleep(ctx, s.cfg.RetryBackoff) {
					return
				}
				if cons, err = s.js.CreateOrUpdateConsumer(ctx, s.cfg.Stream, cc); err == nil {
					if it, err = cons.Messages(s.pullOpts()...); err == nil {
						s.cfg.Logger.Info("subscribed to eddy change records again", fields)
						break
					}
				}
				s.cfg.Logger.Error("eddy change records: subscribing again", err, fields)
			}
			if s.ended(ctx) {
				return
			}
		}
	}()
	return out, nil
}

// pullOpts are the options of a consumer's message iterator, and Heartbeat
// when set. The server hands out at most MaxAckPending records unacked;
// the pull asks for more than that because the iterator's buffer is as
// long as its pull, and heartbeats and pull statuses share it with the
// records: with room for one, a heartbeat that arrived while a handler
// was busy makes NATS drop the next record ("slow consumer"), which then
// waits out AckWait.
func (s *Subscriber) pullOpts() []jetstream.PullMessagesOpt {
	opts := []jetstream.PullMessagesOpt{jetstream.PullMaxMessages(max(s.cfg.MaxAckPending, 16))}
	if s.cfg.Heartbeat > 0 {
		opts = append(opts, jetstream.PullHeartbeat(s.cfg.Heartbeat), jetstream.PullExpiry(max(30*time.Second, 2*s.cfg.Heartbeat)))
	}
	return opts
}

// consume hands its records to the router until the subscription ends
// (it then drains it, nacking what was pulled and never handed over) or
// the iterator closes. Errors that leave the iterator open (a missed
// heartbeat: the server or the network stalled) are logged once each
// time they start, and consumption goes on.
func (s *Subscriber) consume(ctx context.Context, it jetstream.MessagesContext, out chan<- *message.Message, fields watermill.LogFields) {
	drained := make(chan struct{})
	defer func() { <-drained }()
	stop := make(chan struct{})
	defer close(stop) // before the wait above: defers run last first
	go func() {       // ends the iterator when the subscription ends
		defer close(drained)
		select {
		case <-ctx.Done():
		case <-s.closing:
		case <-stop:
		}
		// Drain, not Stop: the records already pulled into the iterator's
		// buffer come out of Next and are nacked below, so NATS redelivers
		// them at once instead of after AckWait (with MaxAckPending 1, a
		// discarded one would hold the consumer up that long).
		it.Drain()
	}()
	var failing error
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			if failing == nil || failing.Error() != err.Error() {
				s.cfg.Logger.Error("reading eddy change records", err, fields)
			}
			failing = err
			continue
		}
		if failing != nil {
			s.cfg.Logger.Info("reading eddy change records again", fields)
			failing = nil
		}
		if s.ended(ctx) {
			_ = m.Nak() // pulled but never handed over
			continue
		}
		if !s.deliver(ctx, m, out, fields) {
			for { // nack what is left in the buffer
				m, err := it.Next()
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				if err == nil {
					_ = m.Nak()
				}
			}
		}
	}
}

// sleep waits d; false when the subscription ended first.
func (s *Subscriber) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

// deliver hands m to the router until it is acked (a Nack hands it again
// after NackDelay, holding the JetStream message meanwhile, so no later
// record overtakes it); false when the subscription ended first (m is then
// nacked for NATS to redeliver).
func (s *Subscriber) deliver(ctx context.Context, m jetstream.Msg, out chan<- *message.Message, fields watermill.LogFields) bool {
	h := m.Headers()
	for {
		wm := message.NewMessage(h.Get("Nats-Msg-Id"), m.Data())
		for k, vs := range h {
			if len(vs) > 0 {
				wm.Metadata.Set(k, vs[0])
			}
		}
		mctx, cancel := context.WithCancel(ctx)
		wm.SetContext(mctx)
		acked, ended := s.handOver(ctx, wm, out)
		cancel()
		switch {
		case acked:
			ackCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := m.DoubleAck(ackCtx)
			cancel()
			if err != nil {
				// NATS redelivers it after AckWait: at least once.
				s.cfg.Logger.Error("acknowledging an eddy change record", err, fields.Add(watermill.LogFields{"uuid": wm.UUID}))
			}
			return !ended
		case ended:
			_ = m.Nak()
			return false
		}
		// Nacked: again after NackDelay, the message held (InProgress
		// restarts its AckWait) so that order holds.
		_ = m.InProgress()
		wait := time.NewTimer(s.cfg.NackDelay)
		select {
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			_ = m.Nak()
			return false
		case <-s.closing:
			wait.Stop()
			_ = m.Nak()
			return false
		}
	}
}

// handOver sends wm on out and waits for the handler's Ack or Nack. ended:
// the subscription ended; acked may still be true when the handler acked
// within AckWait after that (a closing router lets its handlers finish,
// and a record it handled must not be nacked into a second delivery).
func (s *Subscriber) handOver(ctx context.Context, wm *message.Message, out chan<- *message.Message) (acked, ended bool) {
	select {
	case out <- wm:
	case <-ctx.Done():
		return false, true
	case <-s.closing:
		return false, true
	}
	select {
	case <-wm.Acked():
		return true, false
	case <-wm.Nacked():
		return false, false
	case <-ctx.Done():
	case <-s.closing:
	}
	grace := time.NewTimer(s.cfg.AckWait)
	defer grace.Stop()
	select {
	case <-wm.Acked():
		return true, true
	case <-wm.Nacked():
	case <-grace.C:
	}
	return false, true
}

// ended reports whether the subscription is over: ctx done or the
// Subscriber closed.
func (s *Subscriber) ended(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Close ends every subscription and closes their channels.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.subs.Wait()
	return nil
}

// consumerToken makes a table name usable in a consumer name, which may not
// hold '.', '*', '>', whitespace or path separators.
func consumerToken(table string) string {
	b := make([]byte, 0, len(table))
	for _, c := range []byte(relay.Token(table)) {
		switch c {
		case '/', '\\':
			b = append(b, '_')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
