package dlq

import (
	"errors"
	"testing"
	"time"

	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// TestTrimAndIDs: retention trims old entries (and their outbox keys) and
// IDs are not reused after a purge and a reopen.
func TestTrimAndIDs(t *testing.T) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := Open(db, Options{Retention: time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	add := func(dest string) uint64 {
		b := db.NewBatch()
		defer b.Close()
		e := &Entry{Mapping: "m", Destination: dest, Records: []StreamRecord{{Seq: 1, Event: []byte(`{}`)}}}
		if err := s.Append(b, e); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(true); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	a := add("arn:aws:sqs:us-east-1:000000000000:q")
	now = now.Add(30 * time.Minute)
	b := add("")
	now = now.Add(45 * time.Minute) // a is 75 min old, b 45
	if err := s.trim(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(a); err == nil {
		t.Fatal("old entry survived the trim")
	}
	if _, err := s.Get(b); err != nil {
		t.Fatal(err)
	}
	if p := s.pending(); len(p) != 0 {
		t.Fatalf("outbox keeps %v", p)
	}
	if n, err := s.Delete(0, ""); err != nil || n != 1 {
		t.Fatalf("purge %d %v", n, err)
	}
	s2, err := Open(db, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if id := func() uint64 { s = s2; return add("") }(); id <= b {
		t.Fatalf("ID %d reused (last was %d)", id, b)
	}
	if _, err := ParseDestination("arn:aws:lambda:us-east-1:000000000000:function:f"); err == nil {
		t.Fatal("lambda destination accepted")
	}
	for _, ok := range []string{"arn:aws:sqs:us-east-1:1:q", "arn:aws:sns:us-east-1:1:t", "arn:aws:s3:::b", "arn:eddy:nats:r:a:x.y", "arn:eddy:dlq:r:a:default"} {
		if _, err := ParseDestination(ok); err != nil {
			t.Fatalf("%s: %v", ok, err)
		}
	}
}

// TestRecoverInterrupted: Open marks entries a crash left "running" as
// "interrupted" (records kept, nothing replayed) or "done" when no record
// is left; other entries are untouched.
func TestRecoverInterrupted(t *testing.T) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := Open(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	add := func(rd *Redrive, recs int) uint64 {
		b := db.NewBatch()
		defer b.Close()
		e := &Entry{Mapping: "m", Redrive: rd}
		for i := range recs {
			e.Records = append(e.Records, StreamRecord{Seq: 1 + streams.Seq(i), Event: []byte(`{}`)})
		}
		if err := s.Append(b, e); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(true); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	running := add(&Redrive{Count: 1, State: RedriveRunning, Delivered: 1}, 2)
	finished := add(&Redrive{Count: 1, State: RedriveRunning, Delivered: 3}, 0)
	failed := add(&Redrive{Count: 2, State: RedriveFailed, LastError: "boom"}, 1)
	fresh := add(nil, 1)

	s, err = Open(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(id uint64) *Entry {
		e, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := get(running); e.Redrive.State != RedriveInterrupted || e.Redrive.LastError != InterruptedError ||
		e.Redrive.Finished.IsZero() || len(e.Records) != 2 || e.Redrive.Count != 1 || e.Redrive.Delivered != 1 {
		t.Fatalf("running entry after Open: %+v, %d records", e.Redrive, len(e.Records))
	}
	if e := get(finished); e.Redrive.State != RedriveDone || e.Redrive.LastError != "" {
		t.Fatalf("running entry without records after Open: %+v", e.Redrive)
	}
	if e := get(failed); e.Redrive.State != RedriveFailed || e.Redrive.LastError != "boom" {
		t.Fatalf("failed entry after Open: %+v", e.Redrive)
	}
	if e := get(fresh); e.Redrive != nil {
		t.Fatalf("fresh entry after Open: %+v", e.Redrive)
	}
	// Redriving the interrupted entry resumes with the records it kept;
	// the finished one is refused.
	rd, err := s.BeginRedrive(running, "")
	if err != nil || len(rd.Records()) != 2 {
		t.Fatalf("redrive of the interrupted entry: %v", err)
	}
	if _, err := s.BeginRedrive(running, ""); !errors.Is(err, ErrBusy) {
		t.Fatalf("second redrive of a running entry: %v", err)
	}
	b := db.NewBatch()
	defer b.Close()
	after, err := rd.Commit(b, rd.Records()[1].Seq, nil)
	if err != nil || b.Commit(true) != nil {
		t.Fatal(err)
	}
	after()
	if e, err := rd.Finish(nil); err != nil || e.Redrive.State != RedriveDone || len(e.Records) != 0 || e.Redrive.Delivered != 3 {
		t.Fatalf("finished redrive: %v %+v", err, e)
	}
	if _, err := s.BeginRedrive(finished, ""); !errors.Is(err, ErrAlreadyDone) {
		t.Fatalf("redrive of the finished entry: %v", err)
	}
	if _, err := s.BeginRedrive(running, ""); !errors.Is(err, ErrAlreadyDone) {
		t.Fatalf("redrive of the entry just redriven: %v", err)
	}
}
