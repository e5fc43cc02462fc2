package natssink_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/natstest"
	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks/natssink"
)

var ctx = context.Background()

func connect(t *testing.T, ns *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, js := natstest.Connect(t, ns.ClientURL())
	t.Cleanup(nc.Close)
	return nc, js
}

func newSink(t *testing.T, url string, opts map[string]string) *natssink.Sink {
	t.Helper()
	s, err := natssink.New(outbox.Config{Name: "out", Kind: "nats", URL: url, Options: opts}, outbox.Env{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func doc(seq uint64, table string) outbox.Doc {
	return outbox.Doc{Seq: seq, Op: outbox.OpIndex, ID: fmt.Sprintf("k%d", seq), Version: seq * 10, Table: table, Body: []byte(fmt.Sprintf(`{"n":%d}`, seq))}
}

// envelope is what doc(seq, table) is published as.
func envelope(d outbox.Doc) string {
	t := ""
	if d.Table != "" {
		t = fmt.Sprintf(`,"table":%q`, d.Table)
	}
	if d.Op == outbox.OpDelete {
		return fmt.Sprintf(`{"seq":%d,"op":"delete","id":%q,"version":%d%s}`, d.Seq, d.ID, d.Version, t)
	}
	return fmt.Sprintf(`{"seq":%d,"op":"index","id":%q,"version":%d%s,"doc":%s}`, d.Seq, d.ID, d.Version, t, d.Body)
}

func checkMsg(t *testing.T, subject string, hdr nats.Header, data []byte, wantSubject string, d outbox.Doc) {
	t.Helper()
	if subject != wantSubject {
		t.Errorf("doc %d on %q, want %q", d.Seq, subject, wantSubject)
	}
	want := nats.Header{
		"Nats-Msg-Id":  {d.MsgID()},
		"Eddy-Op":      {string(d.Op)},
		"Eddy-Id":      {d.ID},
		"Eddy-Version": {fmt.Sprint(d.Version)},
		"Eddy-Seq":     {fmt.Sprint(d.Seq)},
	}
	if d.Table != "" {
		want["Eddy-Table"] = []string{d.Table}
	}
	if fmt.Sprint(hdr) != fmt.Sprint(want) {
		t.Errorf("doc %d headers %v, want %v", d.Seq, hdr, want)
	}
	if string(data) != envelope(d) {
		t.Errorf("doc %d data %s, want %s", d.Seq, data, envelope(d))
	}
}

func msgCount(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

// TestJetStream: the stream is created when missing; every document is
// stored once, with its headers and envelope; delivering the same
// documents again stores nothing more.
func TestJetStream(t *testing.T) {
	ns := natstest.Start(t)
	_, js := connect(t, ns)
	s := newSink(t, ns.ClientURL(), map[string]string{"stream": "EDDY", "subject": "eddy.out.{table}", "duplicates": "5m"})
	docs := []outbox.Doc{doc(1, "orders"), doc(2, ""), doc(3, "a.b c"), {Seq: 4, Op: outbox.OpDelete, ID: "k1", Version: 40, Table: "orders"}}
	subjects := []string{"eddy.out.orders", "eddy.out.-", "eddy.out.a_b_c", "eddy.out.orders"}
	if err := s.Deliver(ctx, docs); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "EDDY")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if !slices.Equal(cfg.Subjects, []string{"eddy.out.*"}) || cfg.Duplicates != 5*time.Minute {
		t.Fatalf("stream subjects %v, duplicates %v", cfg.Subjects, cfg.Duplicates)
	}
	for i, d := range docs {
		m, err := st.GetMsg(ctx, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		checkMsg(t, m.Subject, m.Header, m.Data, subjects[i], d)
	}
	if err := s.Deliver(ctx, docs[1:]); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if n := msgCount(t, js, "EDDY"); n != 4 {
		t.Fatalf("%d messages after redelivery, want 4", n)
	}
	if err := s.Deliver(ctx, []outbox.Doc{doc(5, "orders")}); err != nil {
		t.Fatal(err)
	}
	if n := msgCount(t, js, "EDDY"); n != 5 {
		t.Fatalf("%d messages, want 5", n)
	}
}

// TestExistingStream: a stream that captures the subject is used as it
// is; one that does not is an error naming it.
func TestExistingStream(t *testing.T) {
	ns := natstest.Start(t)
	_, js := connect(t, ns)
	for name, subj := range map[string]string{"ALL": "eddy.>", "OTHER": "other.*"} {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := newSink(t, ns.ClientURL(), map[string]string{"stream": "ALL"}).Deliver(ctx, []outbox.Doc{doc(1, "")}); err != nil {
		t.Fatal(err)
	}
	if n := msgCount(t, js, "ALL"); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	err := newSink(t, ns.ClientURL(), map[string]string{"stream": "OTHER"}).Deliver(ctx, []outbox.Doc{doc(1, "")})
	if err == nil || !strings.Contains(err.Error(), "does not capture subject eddy.out") {
		t.Fatalf("Deliver = %v", err)
	}
}

// TestRejected: a message beyond the server's max_payload and a body that
// is not JSON are rejected; the others are stored.
func TestRejected(t *testing.T) {
	ns := natstest.StartWith(t, func(o *server.Options) { o.MaxPayload = 1024 })
	_, js := connect(t, ns)
	s := newSink(t, ns.ClientURL(), map[string]string{"stream": "EDDY"})
	docs := []outbox.Doc{doc(1, ""), doc(2, ""), doc(3, ""), doc(4, "")}
	docs[1].Body = []byte(`{"big":"` + strings.Repeat("x", 2000) + `"}`)
	docs[2].Body = []byte(`not json`)
	err := s.Deliver(ctx, docs)
	var p *outbox.Partial
	if !errors.As(err, &p) || len(p.Failed) != 0 || !slices.Equal(p.Rejected, []int{1, 2}) {
		t.Fatalf("Deliver = %v, want 1 and 2 rejected", err)
	}
	if n := msgCount(t, js, "EDDY"); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
}

// TestCore: without a stream, messages go to core NATS subscribers.
func TestCore(t *testing.T) {
	ns := natstest.Start(t)
	nc, _ := connect(t, ns)
	sub, err := nc.SubscribeSync("eddy.out")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, ns.ClientURL(), nil)
	docs := []outbox.Doc{doc(1, "t"), {Seq: 2, Op: outbox.OpDelete, ID: "k1", Version: 20}}
	if err := s.Deliver(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		checkMsg(t, m.Subject, m.Header, m.Data, "eddy.out", d)
	}
}

// TestRestart: New does not contact the server; with the server stopped
// Deliver fails; once it is back, Deliver converges and the stream holds
// each document once.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	ns := natstest.StartWith(t, func(o *server.Options) { o.StoreDir = dir })
	port := ns.Addr().(*net.TCPAddr).Port
	url := ns.ClientURL()
	s := newSink(t, url, map[string]string{"stream": "EDDY", "timeout": "2s"})
	docs := []outbox.Doc{doc(1, ""), doc(2, ""), doc(3, ""), doc(4, "")}
	if err := s.Deliver(ctx, docs[:2]); err != nil {
		t.Fatal(err)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	if err := s.Deliver(ctx, docs[2:]); err == nil {
		t.Fatal("Deliver worked with the server down")
	}
	ns = natstest.StartWith(t, func(o *server.Options) { o.Port, o.StoreDir = port, dir })
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := s.Deliver(ctx, docs)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Deliver after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, js := connect(t, ns)
	if n := msgCount(t, js, "EDDY"); n != 4 {
		t.Fatalf("%d messages, want 4", n)
	}

	// New never connects; Deliver to nobody is an error.
	s2 := newSink(t, "nats://127.0.0.1:1", map[string]string{"timeout": "1s"})
	if err := s2.Deliver(ctx, docs); err == nil {
		t.Fatal("Deliver to a closed port worked")
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []outbox.Config{
		{Name: "a", URL: ""},
		{Name: "a", URL: "http://127.0.0.1:4222"},
		{Name: "a", URL: "nats://127.0.0.1:4222/subject"},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"subject": "eddy.t_{table}"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"subject": "eddy..x"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"subject": "eddy.*"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"stream": "a.b"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"duplicates": "2m"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"stream": "S", "duplicates": "soon"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"timeout": "0s"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"token": "t", "user": "u"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"password": "p"}},
		{Name: "a", URL: "nats://127.0.0.1:4222", Options: map[string]string{"index": "x"}},
	} {
		if _, err := natssink.New(c, outbox.Env{}); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if _, err := natssink.New(outbox.Config{Name: "a", URL: "nats://h1:4222, tls://h2:4222", Options: map[string]string{
		"stream": "S", "subject": "x.{table}.y", "duplicates": "1h", "timeout": "3s", "user": "u", "password": "p"}}, outbox.Env{}); err != nil {
		t.Error(err)
	}
}

// TestAckFailed: documents whose ack is an error (a full stream that
// discards new messages) are the Partial's Failed; the others are stored,
// and the next Deliver (on a new connection) stores the failed ones once
// the stream has room.
func TestAckFailed(t *testing.T) {
	ns := natstest.Start(t)
	_, js := connect(t, ns)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SMALL", Subjects: []string{"eddy.out"}, MaxMsgs: 2, Discard: jetstream.DiscardNew})
	if err != nil {
		t.Fatal(err)
	}
	s := newSink(t, ns.ClientURL(), map[string]string{"stream": "SMALL"})
	docs := []outbox.Doc{doc(1, ""), doc(2, ""), doc(3, ""), doc(4, "")}
	err = s.Deliver(ctx, docs)
	var p *outbox.Partial
	if !errors.As(err, &p) || !slices.Equal(p.Failed, []int{2, 3}) || len(p.Rejected) != 0 {
		t.Fatalf("Deliver = %v, want 2 and 3 failed", err)
	}
	if err := st.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(ctx, docs[2:]); err != nil {
		t.Fatal(err)
	}
	if n := msgCount(t, js, "SMALL"); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
}
