package dlq

import (
	"fmt"
	"slices"
	"time"

	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// Redriving is one redrive of one entry in progress: the primitives the
// redrive operation (mappings.Manager.Redrive, which sends the records
// through a mapping's function) is built on.
//
//	rd, err := s.BeginRedrive(id, mapping)  // entry held, State "running" (synced)
//	for each commit of the function's writes:
//	    rd.Commit(batch, upTo, failed)      // progress into the same batch
//	    ... batch committed ...; after()
//	e, err := rd.Finish(err)                // State "done" or "failed" (synced), entry released
//
// Progress is durable: records the function processed are removed from the
// entry in the same batch as the function's writes, so a redrive
// interrupted by a crash resumes with the rest and never replays what
// succeeded. A fully processed entry becomes State "done" with no records,
// and redriving it again fails with ErrAlreadyDone; records that fail again
// stay (State "failed"). A Redriving is used by one goroutine.
type Redriving struct {
	s *Store
	e *Entry // the committed state of the entry
	// pending records not yet settled, and those that failed again during
	// this redrive.
	pending, again []StreamRecord
	records        []StreamRecord // the records the redrive started with
	finished       bool
}

// BeginRedrive marks entry id as being redriven through mapping ("": the
// entry's own) and returns the redrive. It fails with ErrNotFound,
// ErrBusy (another redrive or a delivery holds the entry) or
// ErrAlreadyDone (the entry holds no records).
func (s *Store) BeginRedrive(id uint64, mapping string) (*Redriving, error) {
	if !s.acquire(id) {
		return nil, fmt.Errorf("%w: %d", ErrBusy, id)
	}
	rd, err := s.beginRedrive(id, mapping)
	if err != nil {
		s.release(id)
		return nil, err
	}
	return rd, nil
}

func (s *Store) beginRedrive(id uint64, mapping string) (*Redriving, error) {
	e, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	if len(e.Records) == 0 {
		return nil, fmt.Errorf("%w: %d", ErrAlreadyDone, id)
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
	return &Redriving{s: s, e: e, pending: slices.Clone(e.Records), records: slices.Clone(e.Records)}, nil
}

// Mapping is the mapping the records are sent through.
func (r *Redriving) Mapping() string { return r.e.Redrive.Mapping }

// Records are the entry's records as the redrive began, in order.
func (r *Redriving) Records() []StreamRecord { return r.records }

// Commit records progress into b, the batch that commits the function's
// writes: every record with Seq ≤ upTo is settled, and failed (nil if
// none) holds those of them given up on again. Run after once b
// committed.
func (r *Redriving) Commit(b *store.Batch, upTo streams.Seq, failed *Entry) (after func(), err error) {
	n := 0
	for n < len(r.pending) && r.pending[n].Seq <= upTo {
		n++
	}
	nAgain := r.again
	if failed != nil {
		nAgain = append(slices.Clone(r.again), failed.Records...)
	}
	next := *r.e
	next.Records = append(slices.Clone(nAgain), r.pending[n:]...)
	rdv := *r.e.Redrive
	rdv.Delivered += n - (len(nAgain) - len(r.again))
	next.Redrive = &rdv
	if failed != nil {
		next.LastError, next.LogTail = failed.LastError, failed.LogTail
		rdv.LastError = failed.LastError
	}
	if err := r.s.put(b, &next); err != nil {
		return nil, err
	}
	return func() {
		r.pending, r.again = r.pending[n:], nAgain
		*r.e = next
	}, nil
}

// Finish ends the redrive: State "done" when every record was delivered,
// "failed" when some failed again or rerr (the redrive's own error, nil
// if none) stopped it with records left. It saves the entry (synced),
// releases it, and returns it with rerr.
func (r *Redriving) Finish(rerr error) (*Entry, error) {
	if r.finished {
		return r.e, rerr
	}
	r.finished = true
	defer r.s.release(r.e.ID)
	e := r.e
	switch {
	case rerr != nil:
		e.Redrive.LastError = rerr.Error()
		if len(e.Records) > 0 {
			e.Redrive.State = RedriveFailed
		}
	case len(r.again) == 0 && len(r.pending) == 0:
		e.Redrive.State = RedriveDone
	default:
		e.Redrive.State = RedriveFailed
	}
	e.Redrive.Finished = r.s.opts.Now().UTC()
	if err := r.s.save(e, true); err != nil {
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
