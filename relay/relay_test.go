package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/relay"
	"github.com/eddydb/eddy/streams"
)

// fast are relay options for tests: quick retries and shard walks.
func fast() relay.Options {
	return relay.Options{RetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond,
		PollInterval: 20 * time.Millisecond, AckTimeout: 5 * time.Second}
}

func call(t *testing.T, method, url string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

func status(t *testing.T, s *eddytest.Server, table string) relay.Status {
	t.Helper()
	var st relay.Status
	if code := call(t, "GET", s.URL()+"/eddy/relays/"+table, nil, &st); code != http.StatusOK {
		t.Fatalf("relay status: %d", code)
	}
	return st
}

// msg is one message read back from JetStream.
type msg struct {
	subject string
	h       nats.Header
	data    []byte
}

// readAll reads every message of the relays' stream on subjects filter.
func readAll(t *testing.T, url, filter string) []msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, js := natstest.Connect(t, url)
	defer nc.Close()
	s, err := js.Stream(ctx, "EDDY")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, n := range info.State.Subjects {
		want += n
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	var out []msg
	for uint64(len(out)) < want {
		batch, err := cons.Fetch(int(min(1000, want-uint64(len(out)))), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, msg{m.Subject(), m.Headers(), m.Data()})
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// getRecords reads every record of a stream through the Streams API, raw:
// shard ID → the elements of GetRecords' Records, as sent.
func getRecords(t *testing.T, s *eddytest.Server, streamArn string) map[string][]json.RawMessage {
	t.Helper()
	post := func(op string, in, out any) {
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", s.URL(), bytes.NewReader(b))
		req.Header.Set("X-Amz-Target", "DynamoDBStreams_20120810."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", op, rb)
		}
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatal(err)
		}
	}
	var d struct {
		StreamDescription struct{ Shards []struct{ ShardId string } }
	}
	post("DescribeStream", map[string]string{"StreamArn": streamArn}, &d)
	out := map[string][]json.RawMessage{}
	for _, sh := range d.StreamDescription.Shards {
		var it struct{ ShardIterator string }
		post("GetShardIterator", map[string]string{"StreamArn": streamArn, "ShardId": sh.ShardId, "ShardIteratorType": "TRIM_HORIZON"}, &it)
		iter := it.ShardIterator
		for iter != "" {
			var r struct {
				Records           []json.RawMessage
				NextShardIterator string
			}
			post("GetRecords", map[string]any{"ShardIterator": iter}, &r)
			out[sh.ShardId] = append(out[sh.ShardId], r.Records...)
			if len(r.Records) == 0 {
				break
			}
			iter = r.NextShardIterator
		}
	}
	return out
}

// writes runs n changes over keys items (named prefix+i) from 4 writers,
// each adding one to the item's counter n; it returns how many were
// acknowledged (each is one stream record).
func writes(t *testing.T, s *eddytest.Server, table, prefix string, n, keys int) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				pk := &ddbtypes.AttributeValueMemberS{Value: prefix + strconv.Itoa(i%keys)}
				_, err := s.DDB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(table),
					Key:                       map[string]ddbtypes.AttributeValue{"pk": pk},
					UpdateExpression:          aws.String("ADD n :one"),
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
				if err != nil {
					t.Errorf("write %d: %v", i, err)
					return
				}
				mu.Lock()
				done++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return done
}

func waitPublished(t *testing.T, s *eddytest.Server, table string, n uint64) relay.Status {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := status(t, s, table)
		if st.Published >= n && st.LagSeconds == 0 {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", "  ")
			t.Fatalf("relay of %s never published %d records: %s", table, n, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRelayPublishesEveryRecordOnceInOrder: a table whose name holds a '.'
// is relayed while its shards roll over; every record reaches JetStream
// once, with its headers, on its shard's subject, with the body
// GetRecords returns; each shard's records in sequence order, and every
// item's changes in order across parents and children.
func TestRelayPublishesEveryRecordOnceInOrder(t *testing.T) {
	ns := natstest.Start(t)
	clock := eddytest.NewClock() // rollovers when the test says
	s := eddytest.Start(t, server.Options{NATS: ns.ClientURL(), Relay: fast(),
		Streams: streams.Options{ShardCount: 2, RolloverInterval: time.Hour, MaintenanceInterval: 10 * time.Millisecond, Now: clock.Now}})
	const table = "orders.v2"
	arn := s.StreamTable(t, table)
	var st relay.Status
	if code := call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": table}, &st); code != http.StatusCreated {
		t.Fatalf("enable: %d %+v", code, st)
	}
	if st.Subjects != "eddy.us-east-1.orders%2Ev2.*" {
		t.Fatalf("subjects %q", st.Subjects)
	}
	if code := call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": table}, nil); code != http.StatusOK {
		t.Fatalf("enabling again: %d, want 200 (idempotent)", code)
	}
	// Three rounds of writes, the shards rolling over between them.
	n := 0
	for round := 0; round < 3; round++ {
		if round > 0 {
			shs, _ := s.Streams().Shards(arn)
			clock.Advance(time.Hour)
			eddytest.WaitFor(t, "the shards to roll over", 30*time.Second, func() bool {
				now, _ := s.Streams().Shards(arn)
				return len(now) >= len(shs)+2
			})
		}
		n += writes(t, s, table, "k", 700, 50)
	}
	st = waitPublished(t, s, table, uint64(n))
	if st.State != "ACTIVE" || st.Published != uint64(n) {
		t.Fatalf("status %+v, want ACTIVE with %d published", st, n)
	}

	msgs := readAll(t, ns.ClientURL(), "eddy.us-east-1.orders%2Ev2.*")
	if len(msgs) != n {
		t.Fatalf("%d messages for %d records", len(msgs), n)
	}
	want := getRecords(t, s, arn)
	if len(want) < 3 {
		t.Fatalf("only %d shards: the shards did not roll over during the test", len(want))
	}
	byShard := map[string][]msg{}
	ids := map[string]bool{}
	lastN := map[string]int{}
	origins := map[string]bool{}
	for _, m := range msgs {
		h := m.h
		shard := h.Get("Eddy-Shard-Id")
		seq := h.Get("Eddy-Sequence-Number")
		if m.subject != "eddy.us-east-1.orders%2Ev2."+shard {
			t.Fatalf("subject %s for shard %s", m.subject, shard)
		}
		id := h.Get("Nats-Msg-Id")
		if id != arn+"/"+seq {
			t.Fatalf("Nats-Msg-Id %q, want %s/%s", id, arn, seq)
		}
		if ids[id] {
			t.Fatalf("%s published twice", id)
		}
		ids[id] = true
		if h.Get("Eddy-Stream-Arn") != arn || h.Get("Eddy-Table") != table || h.Get("Eddy-Shard-Closed") == "" {
			t.Fatalf("headers %v", h)
		}
		origins[h.Get("Eddy-Shard-Origin")+"/"+strconv.FormatBool(h.Get("Eddy-Parent-Shard-Id") != "")] = true
		var rec struct {
			EventName string `json:"eventName"`
			Dynamodb  struct {
				SequenceNumber string
				NewImage       struct {
					Pk struct{ S string } `json:"pk"`
					N  struct{ N string } `json:"n"`
				}
			} `json:"dynamodb"`
		}
		if err := json.Unmarshal(m.data, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.EventName != h.Get("Eddy-Event-Name") || rec.Dynamodb.SequenceNumber != seq {
			t.Fatalf("headers %v for record %s", h, m.data)
		}
		// One item's changes in order, across rollovers.
		v, _ := strconv.Atoi(rec.Dynamodb.NewImage.N.N)
		if last, ok := lastN[rec.Dynamodb.NewImage.Pk.S]; ok && v != last+1 {
			t.Fatalf("item %s: n=%d after n=%d", rec.Dynamodb.NewImage.Pk.S, v, last)
		}
		lastN[rec.Dynamodb.NewImage.Pk.S] = v
		byShard[shard] = append(byShard[shard], m)
	}
	for _, o := range []string{"INITIAL/false", "ROLLOVER/true"} {
		if !origins[o] {
			t.Errorf("no record with Eddy-Shard-Origin/parent %s (have %v)", o, origins)
		}
	}
	for shard, recs := range want {
		got := byShard[shard]
		if len(got) != len(recs) {
			t.Fatalf("shard %s: %d messages, GetRecords has %d", shard, len(got), len(recs))
		}
		// Each record names its predecessor in the shard (the first: none),
		// the chain trigger workers order a lane's batches by.
		prev := "000000000000000000000"
		for i, m := range got {
			if p := m.h.Get("Eddy-Previous-Sequence-Number"); p != prev {
				t.Fatalf("shard %s record %d: Eddy-Previous-Sequence-Number %q, want %q", shard, i, p, prev)
			}
			prev = m.h.Get("Eddy-Sequence-Number")
		}
		for i, r := range recs {
			// The same JSON (an item's attributes come in no fixed
			// order, in GetRecords as in any DynamoDB JSON).
			var a, b any
			if json.Unmarshal(r, &a) != nil || json.Unmarshal(got[i].data, &b) != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("shard %s record %d:\nJetStream %s\nGetRecords %s", shard, i, got[i].data, r)
			}
		}
	}
}

// TestRelayRepublishIsDeduplicated: a relay disabled and enabled again
// publishes every record again from the start, with the same Nats-Msg-Id:
// the server stores none of them twice (its duplicates window), as after a
// crash between JetStream's ack and the position's commit.
func TestRelayRepublishIsDeduplicated(t *testing.T) {
	ns := natstest.Start(t)
	s := eddytest.Start(t, server.Options{NATS: ns.ClientURL(), Relay: fast()})
	s.StreamTable(t, "tab1")
	call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": "tab1"}, nil)
	n := writes(t, s, "tab1", "k", 300, 300)
	waitPublished(t, s, "tab1", uint64(n))
	if code := call(t, "DELETE", s.URL()+"/eddy/relays/tab1", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	if code := call(t, "GET", s.URL()+"/eddy/relays/tab1", nil, nil); code != http.StatusNotFound {
		t.Fatalf("status of a disabled relay: %d, want 404", code)
	}
	call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": "tab1"}, nil)
	waitPublished(t, s, "tab1", uint64(n)) // acknowledged again, as duplicates
	if got := readAll(t, ns.ClientURL(), "eddy.us-east-1.tab1.*"); len(got) != n {
		t.Fatalf("%d messages after republishing %d records", len(got), n)
	}
}

// TestRelayNATSDownThenBehindRetention: with NATS down the relay says
// FAILING and keeps its position; when the stream trims past it (the
// retention passes), the relay says BEHIND_RETENTION, logs it once, and
// publishes what is left once NATS is back.
func TestRelayNATSDownThenBehindRetention(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens: NATS is down
	clock := eddytest.NewClock()
	var logs syncBuffer
	s := eddytest.Start(t, server.Options{NATS: "nats://127.0.0.1:" + strconv.Itoa(port), Relay: fast(), Logger: newLogger(&logs),
		Streams: streams.Options{Now: clock.Now, Retention: time.Hour, MaintenanceInterval: 20 * time.Millisecond}})
	s.StreamTable(t, "tab2")
	if code := call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": "tab2"}, nil); code != http.StatusCreated {
		t.Fatalf("enable: %d", code)
	}
	if code := call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": "missing"}, nil); code != http.StatusNotFound {
		t.Fatalf("enable on a missing table: %d, want 404", code)
	}
	old := writes(t, s, "tab2", "k", 100, 100)
	eddytest.WaitFor(t, "the relay to say FAILING", 30*time.Second, func() bool {
		st := status(t, s, "tab2")
		return st.State == "FAILING" && strings.Contains(st.LastError, "connect") && st.Published == 0
	})
	clock.Advance(2 * time.Hour) // the old records pass the retention and are trimmed
	eddytest.WaitFor(t, "the stream to trim", 30*time.Second, func() bool {
		shs, err := s.Streams().Shards(s.Streams().Streams("tab2")[0].Arn)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range shs {
			if b, err := s.Streams().Read(sh.ID, 0, 1); err == nil && len(b.Records) > 0 {
				return false
			}
		}
		return true
	})
	fresh := writes(t, s, "tab2", "fresh", 40, 40)
	natstest.StartWith(t, func(o *natsserver.Options) { o.Port = port }) // NATS is back
	st := waitPublished(t, s, "tab2", uint64(fresh))
	if st.State != "BEHIND_RETENTION" || len(st.Trimmed) == 0 || st.Published != uint64(fresh) {
		t.Fatalf("status %+v: want BEHIND_RETENTION, the trimmed spans, %d published (%d were trimmed)", st, fresh, old)
	}
	if n := strings.Count(logs.String(), "relay fell behind the stream's retention"); n != 1 {
		t.Fatalf("the fall behind retention was logged %d times, want once:\n%s", n, logs.String())
	}
	if got := readAll(t, "nats://127.0.0.1:"+strconv.Itoa(port), "eddy.us-east-1.tab2.*"); len(got) != fresh {
		t.Fatalf("%d messages, want the %d records left", len(got), fresh)
	}
}

// TestRelayEmbeddedNATS: eddy serve --nats embedded runs nats-server in
// process with JetStream under the data directory; what it relayed is
// still there after a clean stop and start, and the relay goes on.
func TestRelayEmbeddedNATS(t *testing.T) {
	dir := t.TempDir()
	s := eddytest.Start(t, server.Options{DataDir: dir, Init: true, NATS: server.NATSEmbedded, Relay: fast()})
	url := s.NATSURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("embedded NATS URL %q", url)
	}
	s.StreamTable(t, "tab3")
	call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": "tab3"}, nil)
	n := writes(t, s, "tab3", "k", 200, 200)
	if st := waitPublished(t, s, "tab3", uint64(n)); st.NATS != url {
		t.Fatalf("status NATS %q, want %s", st.NATS, url)
	}
	if got := readAll(t, url, "eddy.us-east-1.tab3.*"); len(got) != n {
		t.Fatalf("%d messages for %d records", len(got), n)
	}
	s.Stop() // clean: the relay, then the embedded server
	// Again, on a port of our choosing (--nats-listen), and with the
	// default --nats: the relay configured starts the embedded server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	s = eddytest.Start(t, server.Options{DataDir: dir, NATSListen: listen, Relay: fast()})
	if url = s.NATSURL(); url != "nats://"+listen {
		t.Fatalf("embedded NATS at %q, want nats://%s", url, listen)
	}
	if got := readAll(t, url, "eddy.us-east-1.tab3.*"); len(got) != n {
		t.Fatalf("after a restart, %d messages for %d records: JetStream's files are not kept", len(got), n)
	}
	more := writes(t, s, "tab3", "more", 50, 50)
	waitPublished(t, s, "tab3", uint64(n+more))
	if got := readAll(t, url, "eddy.us-east-1.tab3.*"); len(got) != n+more {
		t.Fatalf("%d messages for %d records", len(got), n+more)
	}
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRelayRefusedPublishCommitsNothingPast: the stream exists (created by
// the operator) and refuses new messages past 50 (DiscardNew): the relay
// commits exactly the 50 acknowledged records, says FAILING with the
// server's error, and once the limit is lifted publishes the rest, each
// record once.
func TestRelayRefusedPublishCommitsNothingPast(t *testing.T) {
	ns := natstest.Start(t)
	nc, js := natstest.Connect(t, ns.ClientURL())
	defer nc.Close()
	ctx := context.Background()
	cfg := jetstream.StreamConfig{Name: "EDDY", Subjects: []string{"eddy.>"}, MaxMsgs: 50, Discard: jetstream.DiscardNew, Duplicates: time.Hour}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	s := eddytest.Start(t, server.Options{NATS: ns.ClientURL(), Relay: fast()})
	s.StreamTable(t, "tab4")
	call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": "tab4"}, nil)
	n := writes(t, s, "tab4", "k", 200, 200)
	var st relay.Status
	eddytest.WaitFor(t, "the relay to fail at the stream's limit", 30*time.Second, func() bool {
		st = status(t, s, "tab4")
		return st.State == "FAILING" && st.Published == 50
	})
	if !strings.Contains(st.LastError, "maximum messages") {
		t.Fatalf("last error %q, want the server's", st.LastError)
	}
	time.Sleep(200 * time.Millisecond) // retries go on; the position must not move
	if st = status(t, s, "tab4"); st.Published != 50 {
		t.Fatalf("published %d past the refused records", st.Published)
	}
	cfg.MaxMsgs = -1
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	st = waitPublished(t, s, "tab4", uint64(n))
	if st.State != "ACTIVE" || st.Published != uint64(n) {
		t.Fatalf("status %+v after the limit was lifted", st)
	}
	got := readAll(t, ns.ClientURL(), "eddy.us-east-1.tab4.*")
	ids := map[string]bool{}
	for _, m := range got {
		ids[m.h.Get("Nats-Msg-Id")] = true
	}
	if len(got) != n || len(ids) != n {
		t.Fatalf("%d messages, %d distinct, for %d records", len(got), len(ids), n)
	}
}

// TestRelayFromLatest: a relay enabled with StartingPosition LATEST
// publishes only the changes made after it was enabled.
func TestRelayFromLatest(t *testing.T) {
	ns := natstest.Start(t)
	s := eddytest.Start(t, server.Options{NATS: ns.ClientURL(), Relay: fast()})
	s.StreamTable(t, "tab5")
	writes(t, s, "tab5", "old", 30, 30)
	var st relay.Status
	if code := call(t, "POST", s.URL()+"/eddy/relays", map[string]string{"Table": "tab5", "StartingPosition": "latest"}, &st); code != http.StatusCreated || st.StartingPosition != "LATEST" {
		t.Fatalf("enable: %d %+v", code, st)
	}
	n := writes(t, s, "tab5", "new", 20, 20)
	waitPublished(t, s, "tab5", uint64(n))
	got := readAll(t, ns.ClientURL(), "eddy.us-east-1.tab5.*")
	if len(got) != n {
		t.Fatalf("%d messages, want the %d changes made after enabling", len(got), n)
	}
	for _, m := range got {
		if !bytes.Contains(m.data, []byte(`"pk":{"S":"new`)) {
			t.Fatalf("an older change was published: %s", m.data)
		}
	}
	if st := status(t, s, "tab5"); st.Published != uint64(n) {
		t.Fatalf("published %d, want %d", st.Published, n)
	}
}
