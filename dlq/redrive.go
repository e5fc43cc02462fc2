package dlq

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// Redriver sends stored records through an event source mapping again
// (package mappings implements it: the mapping's batch size, filters,
// partial batch responses, bisect and retries apply; record age does not).
//
// RedriveRecords processes records in order. Each time it commits (the
// function's buffered writes in one batch) it calls commit inside that
// batch with upTo, the highest Seq now settled, and failed, the records up
// to upTo it gave up on (nil if none); after the batch committed it runs
// the returned function. It returns nil once every record is settled.
type Redriver interface {
	RedriveRecords(ctx context.Context, mapping string, recs []StreamRecord, commit CommitFunc) error
}

// CommitFunc records redrive progress into the batch of a commit.
type CommitFunc func(b *store.Batch, upTo streams.Seq, failed *Entry) (after func(), err error)

// SetRedriver sets the redriver (before Start).
func (s *Store) SetRedriver(r Redriver) {
	s.mu.Lock()
	s.redriver = r
	s.mu.Unlock()
}

// Redrive sends the records of entry id through a mapping again (mapping
// "" means the entry's own). Progress is durable: records the function
// processed are removed from the entry in the same batch as the function's
// writes, so a redrive interrupted by a crash resumes with the rest and
// never replays what succeeded. A fully processed entry becomes
// Redrive.State "done" with no records, and redriving it again fails with
// ErrAlreadyDone; records that fail again stay (State "failed").
func (s *Store) Redrive(ctx context.Context, id uint64, mapping string) (*Entry, error) {
	s.mu.Lock()
	rd := s.redriver
	s.mu.Unlock()
	if rd == nil {
		return nil, ErrNoRedriver
	}
	if !s.acquire(id) {
		return nil, fmt.Errorf("%w: %d", ErrBusy, id)
	}
	defer s.release(id)
	e, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	if len(e.Records) == 0 {
		return e, fmt.Errorf("%w: %d", ErrAlreadyDone, id)
	}
	if mapping == "" {
		mapping = e.Mapping
	}
	if e.Redrive == nil {
		e.Redrive = &Redrive{}
	}
	e.Redrive.Count++
	e.Redrive.State = RedriveRunning
	e.Redrive.Mapping = mapping
	e.Redrive.Started = s.opts.Now().UTC()
	e.Redrive.Finished = time.Time{}
	e.Redrive.LastError = ""
	if err := s.save(e, true); err != nil {
		return nil, err
	}
	// cur is the committed state: pending records not yet settled, and
	// those that failed again during this redrive.
	pending := slices.Clone(e.Records)
	var again []StreamRecord
	commit := func(b *store.Batch, upTo streams.Seq, failed *Entry) (func(), error) {
		n := 0
		for n < len(pending) && pending[n].Seq <= upTo {
			n++
		}
		nAgain := again
		if failed != nil {
			nAgain = append(slices.Clone(again), failed.Records...)
		}
		next := *e
		next.Records = append(slices.Clone(nAgain), pending[n:]...)
		rdv := *e.Redrive
		rdv.Delivered += n - (len(nAgain) - len(again))
		next.Redrive = &rdv
		if failed != nil {
			next.LastError, next.LogTail = failed.LastError, failed.LogTail
			rdv.LastError = failed.LastError
		}
		if err := s.put(b, &next); err != nil {
			return nil, err
		}
		return func() {
			pending, again = pending[n:], nAgain
			*e = next
		}, nil
	}
	rerr := rd.RedriveRecords(ctx, mapping, e.Records, commit)
	if rerr != nil {
		e.Redrive.LastError = rerr.Error()
		if len(e.Records) > 0 {
			e.Redrive.State = RedriveFailed
		}
	} else if len(again) == 0 && len(pending) == 0 {
		e.Redrive.State = RedriveDone
	} else {
		e.Redrive.State = RedriveFailed
	}
	e.Redrive.Finished = s.opts.Now().UTC()
	if err := s.save(e, true); err != nil {
		return nil, err
	}
	return e, rerr
}

func (s *Store) save(e *Entry, sync bool) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.put(b, e); err != nil {
		return err
	}
	return b.Commit(sync)
}

// RedriveAll redrives every entry of a mapping ("" for all) that still
// holds records, oldest first, and returns the entries it touched. It
// stops at the first error other than a busy entry.
func (s *Store) RedriveAll(ctx context.Context, mapping string) ([]*Entry, error) {
	es, err := s.Entries(mapping)
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, e := range es {
		if len(e.Records) == 0 {
			continue
		}
		r, err := s.Redrive(ctx, e.ID, "")
		if r != nil {
			out = append(out, r)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
