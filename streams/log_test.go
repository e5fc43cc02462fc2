package streams

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

func openLog(t *testing.T) (*store.DB, *Log, *store.Table) {
	t.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(db, Options{ShardCount: 1, MaintenanceInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	db.RegisterChangeLog(l)
	t.Cleanup(func() { l.Close(); db.Close() })
	tb, err := db.CreateTable(&store.Table{Name: "t", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
		AttrDefs: []store.KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST",
		Stream: store.StreamSpec{Enabled: true, ViewType: NewAndOldImages, Label: "2026-01-01T00:00:00.000"}})
	if err != nil {
		t.Fatal(err)
	}
	return db, l, tb
}

func change(tb *store.Table, pk string) store.Change {
	k := attr.Item{"pk": attr.S(pk)}
	return store.Change{Table: tb, Keys: k, New: attr.Item{"pk": attr.S(pk), "v": attr.N("1")}, Time: time.Now()}
}

func onlyShard(t *testing.T, l *Log) string {
	shs, err := l.Shards(l.arn("t", "2026-01-01T00:00:00.000"))
	if err != nil || len(shs) != 1 {
		t.Fatalf("shards: %v %v", shs, err)
	}
	return shs[0].ID
}

// TestWatermark: two writes to one shard that commit out of their Seq
// order become visible together, never the later one first.
func TestWatermark(t *testing.T) {
	db, l, tb := openLog(t)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	shard := onlyShard(t, l)
	shs, _ := l.Shards(l.arn("t", "2026-01-01T00:00:00.000"))
	start := Seq(shs[0].Start)
	a, b := db.NewBatch(), db.NewBatch()
	defer a.Close()
	defer b.Close()
	doneA, err := l.Prepare(a, []store.Change{change(tb, "a")})
	if err != nil {
		t.Fatal(err)
	}
	doneB, err := l.Prepare(b, []store.Change{change(tb, "b")})
	if err != nil {
		t.Fatal(err)
	}
	woke := make(chan error, 1)
	go func() { woke <- l.Wait(context.Background(), shard, start) }()
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	doneB(true)
	if got, _ := l.Read(shard, 0, 10); len(got.Records) != 0 {
		t.Fatalf("b visible before a: %+v", got)
	}
	select {
	case err := <-woke:
		t.Fatalf("woken before anything was visible: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	if err := a.Commit(true); err != nil {
		t.Fatal(err)
	}
	doneA(true)
	if err := <-woke; err != nil {
		t.Fatal(err)
	}
	got, _ := l.Read(shard, 0, 10)
	if len(got.Records) != 2 || got.Records[0].Keys["pk"].Str() != "a" || got.Records[0].Seq >= got.Records[1].Seq {
		t.Fatalf("after both: %+v", got)
	}
}

// TestFailedCommit: a write that fails after Prepare leaves no record and
// no gap that blocks later records.
func TestFailedCommit(t *testing.T) {
	db, l, tb := openLog(t)
	key := attr.Item{"pk": attr.S("x")}
	set := func(v string) func(attr.Item) (attr.Item, error) {
		return func(attr.Item) (attr.Item, error) { return attr.Item{"pk": attr.S("x"), "v": attr.N(v)}, nil }
	}
	boom := errors.New("boom")
	if _, err := db.Write(context.Background(), store.WriteOptions{Extra: func(*store.Batch) error { return boom }},
		store.Mutation{Table: tb, Key: key, Apply: set("1")}); !errors.Is(err, boom) {
		t.Fatalf("write: %v", err)
	}
	if _, err := db.Write(context.Background(), store.WriteOptions{}, store.Mutation{Table: tb, Key: key, Apply: set("2")}); err != nil {
		t.Fatal(err)
	}
	got, err := l.Read(onlyShard(t, l), 0, 10)
	if err != nil || len(got.Records) != 1 || got.Records[0].New["v"].Str() != "2" || got.Records[0].EventName != Insert {
		t.Fatalf("records: %+v %v", got, err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	c := store.Change{Keys: attr.Item{"pk": attr.S("k")}, Old: attr.Item{"pk": attr.S("k"), "a": attr.N("1")},
		New: attr.Item{"pk": attr.S("k"), "a": attr.N("2")}, Principal: store.ServiceTTL}
	at := time.UnixMilli(1700000000123)
	for _, view := range []string{KeysOnly, NewImage, OldImage, NewAndOldImages} {
		r, err := decodeRecord(7, encodeRecord(nil, &c, view, at))
		if err != nil {
			t.Fatal(err)
		}
		if r.EventName != Modify || r.ViewType != view || !r.Time.Equal(at) || r.Principal != store.ServiceTTL ||
			(r.New != nil) != (view == NewImage || view == NewAndOldImages) ||
			(r.Old != nil) != (view == OldImage || view == NewAndOldImages) || r.SizeBytes <= 0 {
			t.Errorf("%s: %+v", view, r)
		}
	}
	if _, err := decodeRecord(1, []byte{1, 2}); err == nil {
		t.Error("truncated record decoded")
	}
	if s, err := ParseSeq(Seq(42).String()); err != nil || s != 42 || len(Seq(42).String()) != 21 {
		t.Errorf("seq round trip: %v %v", s, err)
	}
}

// TestIteratorPrefix: an iterator is "<stream ARN>|1|<token>"; another
// stream's ARN in front of the token is rejected, and a bare token (the
// format before the prefix) is still read.
func TestIteratorPrefix(t *testing.T) {
	_, l, _ := openLog(t)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	arn := l.arn("t", "2026-01-01T00:00:00.000")
	it, err := l.NewIterator(arn, onlyShard(t, l), TrimHorizon, "")
	if err != nil {
		t.Fatal(err)
	}
	token, ok := strings.CutPrefix(it, arn+"|1|")
	if !ok {
		t.Fatalf("iterator %q does not start with %q", it, arn+"|1|")
	}
	if _, _, err := l.ReadIterator(l.arn("u", "2026-01-01T00:00:00.000")+"|1|"+token, 10); !errors.Is(err, ErrBadIterator) {
		t.Fatalf("foreign ARN prefix: err %v, want ErrBadIterator", err)
	}
	if _, next, err := l.ReadIterator(token, 10); err != nil || !strings.HasPrefix(next, arn+"|1|") {
		t.Fatalf("bare token: next %q, err %v", next, err)
	}
}

// TestReadEncoded: ReadEncoded's records render the JSON Read's render (as
// a JSON value: member order may differ), Key and Decode give Read's
// items, Count counts what Read reads, and a corrupt image is refused at
// read time, not when rendered.
func TestReadEncoded(t *testing.T) {
	db, l, tb := openLog(t)
	key := attr.Item{"pk": attr.S("x")}
	for _, v := range []string{"1", "2"} {
		if _, err := db.Write(context.Background(), store.WriteOptions{}, store.Mutation{Table: tb, Key: key, Apply: func(attr.Item) (attr.Item, error) {
			return attr.Item{"pk": attr.S("x"), "v": attr.N(v), "m": attr.M(attr.Item{"s": attr.SS([]string{"a\n", "é"})}), "b": attr.B([]byte{0, 1})}, nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	shard := onlyShard(t, l)
	plain, err := l.Read(shard, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := l.ReadEncoded(shard, 0, 10)
	if err != nil || len(enc.Records) != 2 || len(plain.Records) != 2 || enc.Next != plain.Next {
		t.Fatalf("read %+v %v; encoded %+v", plain, err, enc)
	}
	if n, first, err := l.Count(shard, 0, 10); err != nil || n != 2 || !first.Equal(plain.Records[0].Time) {
		t.Fatalf("count %d %v %v", n, first, err)
	}
	if n, _, _ := l.Count(shard, plain.Records[0].Seq, 10); n != 1 {
		t.Fatalf("count after the first: %d", n)
	}
	for i := range enc.Records {
		p, e := &plain.Records[i], &enc.Records[i]
		if !e.Encoded() || e.Keys != nil || e.New != nil || e.Key("pk").Str() != "x" || e.Key("nope").Type() != 0 {
			t.Fatalf("encoded record %d: %+v", i, e)
		}
		var pj, ej any
		if err := json.Unmarshal(l.AppendRecordJSON(nil, p), &pj); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(l.AppendRecordJSON(nil, e), &ej); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pj, ej) {
			t.Fatalf("record %d: Read renders %v, ReadEncoded %v", i, pj, ej)
		}
		if err := e.Decode(); err != nil || e.Encoded() || !reflect.DeepEqual(e.Keys, p.Keys) || !reflect.DeepEqual(e.New, p.New) || !reflect.DeepEqual(e.Old, p.Old) {
			t.Fatalf("record %d decoded: %+v, want %+v (%v)", i, e, p, err)
		}
	}
	c := store.Change{Keys: attr.Item{"pk": attr.S("k")}, New: attr.Item{"pk": attr.S("k")}}
	v := encodeRecord(nil, &c, NewImage, time.Now())
	v[len(v)-len(attr.AppendBinary(nil, c.New))] = 0x7f // the new image's format byte
	if _, err := decodeRecordEncoded(1, v); err == nil {
		t.Fatal("a corrupt image read encoded")
	}
}
