package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddydb/eddy/store"
)

// fake is a Target that records what it applied and fails on demand.
type fake struct {
	mu      sync.Mutex
	got     []Doc
	calls   int
	fail    error             // every Deliver fails with it
	partial func([]Doc) error // decides a Partial per call
	closed  bool
}

func (f *fake) Deliver(ctx context.Context, docs []Doc) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return f.fail
	}
	if f.partial != nil {
		if err := f.partial(docs); err != nil {
			var p *Partial
			if errors.As(err, &p) {
				bad := indexSet(append(append([]int(nil), p.Failed...), p.Rejected...))
				for i, d := range docs {
					if !bad[i] {
						f.got = append(f.got, d)
					}
				}
			}
			return err
		}
	}
	f.got = append(f.got, docs...)
	return nil
}

func (f *fake) Close() error { f.mu.Lock(); f.closed = true; f.mu.Unlock(); return nil }

func (f *fake) docs() []Doc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Doc(nil), f.got...)
}

func (f *fake) set(fn func(f *fake)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

// fakes hands out one fake per sink name, kept across reopens.
type fakes struct {
	mu sync.Mutex
	m  map[string]*fake
}

func (fs *fakes) open(cfg Config, env Env) (Target, error) {
	if cfg.Kind != "fake" {
		return nil, fmt.Errorf("unknown kind %q", cfg.Kind)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if env.Logger != nil && fs.m[cfg.Name] == nil {
		fs.m[cfg.Name] = &fake{}
	}
	if f := fs.m[cfg.Name]; f != nil {
		return f, nil
	}
	return &fake{}, nil
}

func (fs *fakes) get(name string) *fake {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.m[name]
}

type env struct {
	t  *testing.T
	db *store.DB
	fs *fakes
	o  *Outbox
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, fs: &fakes{m: map[string]*fake{}}}
	e.reopen()
	t.Cleanup(func() {
		e.o.Close()
		db.Close()
	})
	return e
}

func (e *env) reopen() {
	e.t.Helper()
	if e.o != nil {
		if err := e.o.Close(); err != nil {
			e.t.Fatal(err)
		}
	}
	o, err := Open(e.db, e.fs.open, Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	e.o = o
}

func (e *env) create(name string, mod func(*Config)) *fake {
	e.t.Helper()
	cfg := Config{Name: name, Kind: "fake"}
	if mod != nil {
		mod(&cfg)
	}
	if _, err := e.o.Create(cfg); err != nil {
		e.t.Fatal(err)
	}
	return e.fs.get(name)
}

// commit emits docs as one mapping invocation would and commits them.
func (e *env) commit(sink string, docs ...string) {
	e.t.Helper()
	buf := NewBuffer()
	ctx := WithBuffer(context.Background(), buf)
	for _, d := range docs {
		if err := e.o.Emit(ctx, sink, []byte(d)); err != nil {
			e.t.Fatal(err)
		}
	}
	b := e.db.NewBatch()
	defer b.Close()
	st, err := e.o.Stage(b, buf)
	if err == nil {
		err = b.Commit(true)
	}
	st.Done(err)
	if err != nil {
		e.t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func ids(docs []Doc) string {
	var s []string
	for _, d := range docs {
		s = append(s, fmt.Sprintf("%d:%s:%s@%d", d.Seq, d.Op, d.ID, d.Version))
	}
	return strings.Join(s, " ")
}

func TestDeliversInOrderWithDefaults(t *testing.T) {
	e := newEnv(t)
	f := e.create("s", nil)
	e.commit("s", `{"op":"index","id":"a","seq":"000000000000000000007","doc":{"x":1}}`, `{"title":"bare"}`, `{"id":"named","n":2}`)
	e.commit("s", `{"op":"delete","id":"a","version":9}`)
	waitFor(t, "4 documents", func() bool { return len(f.docs()) == 4 })
	if got, want := ids(f.docs()), "1:index:a@7 2:index:s-2@2 3:index:named@3 4:delete:a@9"; got != want {
		t.Fatalf("delivered %s, want %s", got, want)
	}
	if string(f.docs()[0].Body) != `{"x":1}` || string(f.docs()[1].Body) != `{"title":"bare"}` || f.docs()[3].Body != nil {
		t.Fatalf("bodies: %q %q %q", f.docs()[0].Body, f.docs()[1].Body, f.docs()[3].Body)
	}
	waitFor(t, "settled", func() bool { st, _ := e.o.Describe("s"); return st.Backlog == 0 && st.DeliveredThrough == 4 })
	st, _ := e.o.Describe("s")
	if st.Delivered != 4 || st.State != "OK" || st.LastPosition != 4 {
		t.Fatalf("status %+v", st)
	}
}

func TestBadEmits(t *testing.T) {
	e := newEnv(t)
	e.create("s", nil)
	ctx := WithBuffer(context.Background(), NewBuffer())
	for doc, want := range map[string]string{
		`[1]`:                                              "JSON object",
		`{"op":"upsert","doc":{}}`:                         `"op" must be "index" or "delete"`,
		`{"op":"delete"}`:                                  `needs the "id"`,
		`{"op":"index","id":"a"}`:                          `needs "doc"`,
		`{"op":"index","doc":[]}`:                          `needs "doc"`,
		`{"doc":{},"version":-1}`:                          `"version" must be an integer`,
		`{"doc":{},"version":9223372036854775808}`:         `"version" must be an integer`,
		`{"doc":{},"seq":"12a"}`:                           `"seq" must be`,
		`{"id":"` + strings.Repeat("x", 513) + `"}`:        "the document ID is 513 bytes",
		`{"a":"` + strings.Repeat("x", MaxDocBytes) + `"}`: "the limit is 1048576",
	} {
		err := e.o.Emit(ctx, "s", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Emit(%.60s): %v, want %q", doc, err, want)
		}
	}
	if err := e.o.Emit(ctx, "nope", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `no sink named "nope"`) {
		t.Errorf("unknown sink: %v", err)
	}
	if !BufferFrom(ctx).Empty() {
		t.Error("refused documents were buffered")
	}
}

func TestBufferBounds(t *testing.T) {
	e := newEnv(t)
	e.create("s", nil)
	ctx := WithBuffer(context.Background(), NewBuffer())
	var err error
	n := 0
	for ; n <= MaxBufferedDocs && err == nil; n++ {
		err = e.o.Emit(ctx, "s", []byte(`{}`))
	}
	if err == nil || n != MaxBufferedDocs+1 || !strings.Contains(err.Error(), "at most 10000 documents") {
		t.Fatalf("after %d emits: %v", n, err)
	}
}

func TestPartialRetriesFailedAndKeepsRejected(t *testing.T) {
	e := newEnv(t)
	f := e.create("s", nil)
	round := 0
	f.set(func(f *fake) {
		f.partial = func(docs []Doc) error {
			round++
			if round == 1 {
				// a: applied, b: 429, c: 400 for good, d: applied
				return &Partial{Failed: []int{1}, Rejected: []int{2}, Err: errors.New("mapper_parsing_exception")}
			}
			return nil
		}
	})
	e.commit("s", `{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`, `{"id":"d"}`)
	waitFor(t, "b retried", func() bool { return len(f.docs()) == 3 })
	if got := ids(f.docs()); got != "1:index:a@1 4:index:d@4 2:index:b@2" {
		t.Fatalf("delivered %s", got)
	}
	waitFor(t, "settled", func() bool { st, _ := e.o.Describe("s"); return st.Backlog == 0 })
	st, _ := e.o.Describe("s")
	if st.Delivered != 3 || st.Rejected != 1 || st.DeliveredThrough != 4 {
		t.Fatalf("status %+v", st)
	}
	rej, err := e.o.Rejected("s", 10)
	if err != nil || len(rej) != 1 || rej[0].ID != "c" || !strings.Contains(rej[0].Reason, "mapper_parsing_exception") {
		t.Fatalf("rejected %+v %v", rej, err)
	}
}

func TestOutageThenRestartResumes(t *testing.T) {
	e := newEnv(t)
	f := e.create("s", nil)
	f.set(func(f *fake) { f.fail = errors.New("connection refused") })
	e.commit("s", `{"id":"a"}`, `{"id":"b"}`)
	waitFor(t, "failing", func() bool { st, _ := e.o.Describe("s"); return st.State == "FAILING" })
	st, _ := e.o.Describe("s")
	if st.Backlog != 2 || !strings.Contains(st.LastError, "connection refused") {
		t.Fatalf("status %+v", st)
	}
	e.reopen()
	e.commit("s", `{"id":"c"}`)
	f.set(func(f *fake) { f.fail = nil })
	waitFor(t, "all three", func() bool { return len(f.docs()) == 3 })
	if got := ids(f.docs()); got != "1:index:a@1 2:index:b@2 3:index:c@3" {
		t.Fatalf("delivered %s", got)
	}
	// Positions keep growing across a restart with nothing pending.
	waitFor(t, "settled", func() bool { st, _ := e.o.Describe("s"); return st.Backlog == 0 })
	e.reopen()
	e.commit("s", `{"id":"d"}`)
	waitFor(t, "d", func() bool { return len(f.docs()) == 4 })
	if d := f.docs()[3]; d.Seq != 4 {
		t.Fatalf("after a restart the next position is %d, want 4", d.Seq)
	}
}

func TestWatermarkHoldsLaterCommits(t *testing.T) {
	e := newEnv(t)
	f := e.create("s", nil)
	// Stage a first buffer and hold its commit; commit a second one.
	buf1 := NewBuffer()
	if err := e.o.Emit(WithBuffer(context.Background(), buf1), "s", []byte(`{"id":"first"}`)); err != nil {
		t.Fatal(err)
	}
	b1 := e.db.NewBatch()
	defer b1.Close()
	st1, err := e.o.Stage(b1, buf1)
	if err != nil {
		t.Fatal(err)
	}
	e.commit("s", `{"id":"second"}`)
	time.Sleep(50 * time.Millisecond)
	if n := len(f.docs()); n != 0 {
		t.Fatalf("%d documents delivered past a commit in flight", n)
	}
	err = b1.Commit(true)
	st1.Done(err)
	waitFor(t, "both", func() bool { return len(f.docs()) == 2 })
	if got := ids(f.docs()); got != "1:index:first@1 2:index:second@2" {
		t.Fatalf("delivered %s", got)
	}
	// A failed commit leaves a gap that settles.
	buf3 := NewBuffer()
	_ = e.o.Emit(WithBuffer(context.Background(), buf3), "s", []byte(`{"id":"lost"}`))
	b3 := e.db.NewBatch()
	st3, _ := e.o.Stage(b3, buf3)
	b3.Close()
	st3.Done(errors.New("commit failed"))
	e.commit("s", `{"id":"after"}`)
	waitFor(t, "after", func() bool { return len(f.docs()) == 3 })
	if got := ids(f.docs()[2:]); got != "4:index:after@4" {
		t.Fatalf("delivered %s", got)
	}
}

func TestImmediateEmit(t *testing.T) {
	e := newEnv(t)
	f := e.create("s", nil)
	if err := e.o.Emit(context.Background(), "s", []byte(`{"id":"now"}`)); err != nil {
		t.Fatal(err)
	}
	if got := ids(f.docs()); got != "1:index:now@1" {
		t.Fatalf("delivered %s", got)
	}
	f.set(func(f *fake) { f.fail = errors.New("503 Service Unavailable") })
	err := e.o.Emit(context.Background(), "s", []byte(`{"id":"later"}`))
	if err == nil || !strings.Contains(err.Error(), "stays queued") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("emit to a failing target: %v", err)
	}
	f.set(func(f *fake) { f.fail = nil })
	waitFor(t, "later", func() bool { return len(f.docs()) == 2 })
}

func TestBacklogBoundPauses(t *testing.T) {
	e := newEnv(t)
	f := e.create("s", func(c *Config) { c.MaxBacklog = 2 })
	f.set(func(f *fake) { f.fail = errors.New("down") })
	e.commit("s", `{"id":"a"}`, `{"id":"b"}`)
	buf := NewBuffer()
	_ = e.o.Emit(WithBuffer(context.Background(), buf), "s", []byte(`{"id":"c"}`))
	paused := make(chan int64, 1)
	done := make(chan error, 1)
	go func() {
		done <- e.o.WaitRoom(context.Background(), buf, func(sink string, n int64) { paused <- n })
	}()
	select {
	case n := <-paused:
		if n != 2 {
			t.Fatalf("paused at backlog %d", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a full sink did not pause the commit")
	}
	if st, _ := e.o.Describe("s"); st.State != "BACKLOG_FULL" {
		t.Fatalf("state %s", st.State)
	}
	select {
	case err := <-done:
		t.Fatalf("WaitRoom returned %v while full", err)
	case <-time.After(20 * time.Millisecond):
	}
	f.set(func(f *fake) { f.fail = nil })
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the commit did not resume when the sink drained")
	}
}

func TestDeleteAndRecreateStartsEmpty(t *testing.T) {
	e := newEnv(t)
	f := e.create("s", nil)
	f.set(func(f *fake) { f.fail = errors.New("down") })
	e.commit("s", `{"id":"old"}`)
	if err := e.o.Delete("s"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.Describe("s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("describe after delete: %v", err)
	}
	e.fs.mu.Lock()
	delete(e.fs.m, "s")
	e.fs.mu.Unlock()
	f2 := e.create("s", nil)
	e.commit("s", `{"id":"new"}`)
	waitFor(t, "new", func() bool { return len(f2.docs()) == 1 })
	time.Sleep(20 * time.Millisecond)
	if got := ids(f2.docs()); got != "1:index:new@1" {
		t.Fatalf("the re-created sink got %s", got)
	}
	if _, err := e.o.Create(Config{Name: "s", Kind: "fake"}); !errors.Is(err, ErrExists) {
		t.Fatalf("create twice: %v", err)
	}
	for _, bad := range []Config{{Name: "", Kind: "fake"}, {Name: "a/b", Kind: "fake"}, {Name: "x", Kind: "nope"}, {Name: "x", Kind: "fake", BatchSize: 10001}} {
		if _, err := e.o.Create(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(%+v): %v", bad, err)
		}
	}
}

func TestStageFailsForRemovedSink(t *testing.T) {
	e := newEnv(t)
	e.create("s", nil)
	buf := NewBuffer()
	_ = e.o.Emit(WithBuffer(context.Background(), buf), "s", []byte(`{}`))
	if err := e.o.Delete("s"); err != nil {
		t.Fatal(err)
	}
	b := e.db.NewBatch()
	defer b.Close()
	st, err := e.o.Stage(b, buf)
	st.Done(err)
	if err == nil || !strings.Contains(err.Error(), "sink s was removed") {
		t.Fatalf("stage for a removed sink: %v", err)
	}
}
