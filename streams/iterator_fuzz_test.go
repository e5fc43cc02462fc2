package streams

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// FuzzIterator feeds client-supplied shard iterators to GetRecords's
// decoder. Every string is either a valid iterator this Log issued or
// rejected with one of ReadIterator's documented errors, never a panic.
// Valid iterators, with one byte changed (pos, x), must be rejected unless
// the change leaves the decoded position as issued (the token is
// tamper-evident), and GetRecords must refuse one whose ARN prefix changed. A decoded position re-encodes to a token that decodes to
// the same position.
func FuzzIterator(f *testing.F) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	l, err := Open(db, Options{ShardCount: 1, MaintenanceInterval: time.Hour, Now: func() time.Time { return clock }})
	if err != nil {
		f.Fatal(err)
	}
	db.RegisterChangeLog(l)
	f.Cleanup(func() { l.Close(); db.Close() })
	tb, err := db.CreateTable(&store.Table{Name: "t", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []store.KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST",
		Stream: store.StreamSpec{Enabled: true, ViewType: NewAndOldImages, Label: "2026-01-01T00:00:00.000"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, pk := range []string{"a", "b", "c"} {
		if _, err := db.Write(context.Background(), store.WriteOptions{}, store.Mutation{Table: tb,
			Key: attr.Item{"pk": attr.S(pk)}, Apply: func(attr.Item) (attr.Item, error) {
				return attr.Item{"pk": attr.S(pk)}, nil
			}}); err != nil {
			f.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		f.Fatal(err)
	}
	arn := l.arn("t", "2026-01-01T00:00:00.000")
	shs, err := l.Shards(arn)
	if err != nil || len(shs) != 1 {
		f.Fatalf("shards: %v %v", shs, err)
	}
	var valid []string
	for _, typ := range []string{TrimHorizon, Latest} {
		it, err := l.NewIterator(arn, shs[0].ID, typ, "")
		if err != nil {
			f.Fatal(err)
		}
		valid = append(valid, it)
		_, tok, _ := strings.Cut(it, iterSep)
		valid = append(valid, tok)
	}

	for _, s := range valid {
		f.Add(s, uint(0), byte(0))
		f.Add(s, uint(len(s)-1), byte(1))
		f.Add(s, uint(len(s)-20), byte(0x20))
	}
	f.Add("", uint(0), byte(0))
	f.Add("arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x|1|AQ", uint(3), byte(7))
	f.Add("|1||1|", uint(0), byte(0))

	known := []error{ErrBadIterator, ErrExpiredIterator, ErrShardNotFound, ErrTrimmed}
	check := func(t *testing.T, s string, err error) {
		for _, k := range known {
			if errors.Is(err, k) {
				return
			}
		}
		t.Fatalf("%q: error %v is none of ReadIterator's", s, err)
	}
	f.Fuzz(func(t *testing.T, s string, pos uint, x byte) {
		if p, a, err := l.decodeIterator(s); err == nil {
			q, b, err := l.decodeIterator(l.encodeIterator(a, p))
			if err != nil || q != p || b != a {
				t.Fatalf("%q: re-encoded position %+v %q, want %+v %q (%v)", s, q, b, p, a, err)
			}
		}
		if recs, next, err := l.ReadIterator(s, 10); err != nil {
			check(t, s, err)
		} else if next != "" {
			if _, _, err := l.ReadIterator(next, 10); err != nil {
				t.Fatalf("%q: next iterator %q: %v", s, next, err)
			}
		} else if len(recs) > 3 {
			t.Fatalf("%q: %d records from a shard of 3", s, len(recs))
		}

		// Tampering with an issued iterator.
		orig := valid[len(s)%len(valid)]
		b := []byte(orig)
		i := int(pos % uint(len(b)))
		if x == 0 {
			return
		}
		b[i] ^= x
		p0, a0, _ := l.decodeIterator(orig)
		p, a, err := l.decodeIterator(string(b))
		if err == nil && p != p0 {
			t.Fatalf("tampered iterator %q (byte %d ^ %#x) decodes to %+v, issued %+v", b, i, x, p, p0)
		}
		_, _, err = l.ReadIterator(string(b), 1)
		if err != nil {
			check(t, string(b), err)
		} else if a != a0 {
			// The token is intact but the ARN prefix was changed: it no
			// longer names the token's stream.
			t.Fatalf("tampered iterator %q (byte %d ^ %#x): ARN prefix %q read as %q's", b, i, x, a, a0)
		}
	})
}
