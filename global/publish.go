package global

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/internal/lifecycle"
)

// publishBatch is how many outbox entries one round publishes before it
// waits for their acks.
const publishBatch = 512

// publish drains the outbox onto JetStream: each entry is published with
// Nats-Msg-Id <region>/<seq> (the server drops a republished one within
// its duplicates window) and deleted once acknowledged. Entries are read
// in sequence order; two writes of one item are published in the order
// they were made (each took its sequence under the item's lock), and last
// writer wins does not depend on the order anyway.
func (m *Manager) publish(ctx context.Context) {
	fail := lifecycle.Failures{Log: m.log, What: "global tables: publishing local changes", Level: slog.LevelWarn}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		case <-tick.C:
		}
		for {
			n, err := m.publishRound(ctx)
			if ctx.Err() != nil {
				return
			}
			fail.Report(err)
			m.streamLost(ctx, err)
			if err != nil {
				if !lifecycle.Sleep(ctx, m.opts.RetryBackoff) {
					return
				}
				continue
			}
			if n < publishBatch {
				break
			}
		}
	}
}

func (m *Manager) publishRound(ctx context.Context) (int, error) {
	type entry struct {
		key []byte
		fut jetstream.PubAckFuture
	}
	var pending []entry
	var msgs []*nats.Msg
	err := m.ks.Scan([]byte{pOutbox}, []byte{pOutbox + 1}, func(k, v []byte) error {
		var c change
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("global: outbox entry %x: %w", k, err)
		}
		msg := nats.NewMsg(m.subject(c.Table, m.opts.Region))
		msg.Data = append([]byte(nil), v...)
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s/%d", m.opts.Region, binary.BigEndian.Uint64(k[1:])))
		pending = append(pending, entry{key: append([]byte(nil), k...)})
		msgs = append(msgs, msg)
		if len(pending) == publishBatch {
			return errFull
		}
		return nil
	})
	if err != nil && err != errFull {
		return 0, err
	}
	if len(pending) == 0 {
		return 0, nil
	}
	js, _, err := m.jetStream(ctx)
	if err != nil {
		return 0, err
	}
	for i, msg := range msgs {
		fut, err := js.PublishMsgAsync(msg)
		if err != nil {
			pending = pending[:i]
			break
		}
		pending[i].fut = fut
	}
	var acked [][]byte
	var firstErr error
	timeout := time.After(m.opts.AckTimeout + time.Second)
wait:
	for _, p := range pending {
		select {
		case <-p.fut.Ok():
			acked = append(acked, p.key)
		case err := <-p.fut.Err():
			if firstErr == nil {
				firstErr = err
			}
		case <-timeout:
			firstErr = fmt.Errorf("global: no JetStream ack within %v", m.opts.AckTimeout)
			break wait
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if len(acked) > 0 {
		if err := m.ks.Write(false, func(w kv.Writer) error {
			for _, k := range acked {
				if err := w.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return 0, err
		}
	}
	if firstErr == nil && len(pending) < len(msgs) {
		firstErr = fmt.Errorf("global: publish refused")
	}
	return len(acked), firstErr
}

type fullError struct{}

func (fullError) Error() string { return "full" }

var errFull error = fullError{}
