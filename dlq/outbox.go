package dlq

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"time"
)

// outboxLoop delivers pending entries (0x30 'o' keys) oldest first, one
// send at a time per pass. A destination that fails is backed off
// (Backoff doubling to MaxBackoff) and skipped for the rest of the pass,
// so its entries keep their order and other destinations are not held up.
//
//	loop:
//	  for each 'o' key in ID order:
//	    skip if its destination is backing off or the entry is busy
//	    send (SendTimeout)
//	    ok:   one synced batch: delete 'o', entry.Delivery.Delivered = now
//	    fail: backoff[destination] doubles; entry.Delivery.Attempts++ (memory)
//	  sleep until Notify, PollInterval, or the earliest backoff ends
//
// A crash between a successful send and its batch re-sends that one entry
// after restart (at-least-once; see the idempotency keys in doc.go).
func (s *Store) outboxLoop() {
	type state struct {
		until time.Time
		delay time.Duration
	}
	backoff := map[string]*state{}
	for {
		wait := s.opts.PollInterval
		now := time.Now()
		blocked := map[string]bool{}
		for arn, st := range backoff {
			if now.Before(st.until) {
				blocked[arn] = true
				wait = min(wait, st.until.Sub(now))
			}
		}
		for _, p := range s.pending() {
			if s.ctx.Err() != nil {
				return
			}
			if blocked[p.arn] || !s.acquire(p.id) {
				continue
			}
			err := s.deliver(p.id, p.arn)
			s.release(p.id)
			if err == nil {
				delete(backoff, p.arn)
				continue
			}
			st := backoff[p.arn]
			if st == nil {
				st = &state{delay: s.opts.Backoff}
			} else {
				st.delay = min(2*st.delay, s.opts.MaxBackoff)
			}
			st.until = time.Now().Add(st.delay)
			backoff[p.arn] = st
			blocked[p.arn] = true
			wait = min(wait, st.delay)
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

type pendingDelivery struct {
	id  uint64
	arn string
}

func (s *Store) pending() []pendingDelivery {
	lo, hi := span(keyOutbox)
	it, err := s.db.NewIter(lo, hi)
	if err != nil {
		return nil
	}
	defer it.Close()
	var out []pendingDelivery
	for it.First(); it.Valid() && len(out) < 1000; it.Next() {
		out = append(out, pendingDelivery{binary.BigEndian.Uint64(it.Key()[1:]), string(it.Value())})
	}
	return out
}

// deliver sends one entry and records the success durably. Caller holds
// the entry (acquire).
func (s *Store) deliver(id uint64, arn string) error {
	e, err := s.Get(id)
	if err != nil {
		// Trimmed or purged meanwhile: drop the orphan outbox key.
		b := s.db.NewBatch()
		defer b.Close()
		_ = s.db.Delete(b, outboxKey(id))
		return b.Commit(true)
	}
	snd, err := s.dests.Sender(s.ctx, arn)
	if err == nil {
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.SendTimeout)
		err = snd.Send(ctx, e)
		cancel()
	}
	if e.Delivery == nil {
		e.Delivery = &Delivery{Destination: arn}
	}
	e.Delivery.Attempts++
	b := s.db.NewBatch()
	defer b.Close()
	if err != nil {
		// The attempt count is informational: written without the outbox
		// key change and without waiting for a sync.
		if v, merr := json.Marshal(e); merr == nil {
			_ = s.db.Set(b, entryKey(id), v)
			_ = b.Commit(false)
		}
		return err
	}
	e.Delivery.Delivered = s.opts.Now().UTC()
	if err := s.put(b, e); err != nil {
		return err
	}
	_ = s.db.Delete(b, outboxKey(id))
	return b.Commit(true)
}
