package dlq

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestTrimAndIDs: retention trims old entries (and their outbox keys) and
// IDs are not reused after a purge and a reopen.
func TestTrimAndIDs(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
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
		e := &Entry{Mapping: "m", Destination: dest, Records: []StreamRecord{{Seq: 1, Event: []byte(`{}`)}}}
		if err := s.Append(b, e); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(pebble.Sync); err != nil {
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
