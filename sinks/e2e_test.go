package sinks_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks"
)

var ctx = context.Background()

// line is one envelope of a file sink.
type line struct {
	Seq     uint64          `json:"seq"`
	Op      string          `json:"op"`
	ID      string          `json:"id"`
	Version uint64          `json:"version"`
	Table   string          `json:"table"`
	Doc     json.RawMessage `json:"doc"`
}

func readLines(t *testing.T, path string) []line {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func fileSink(t *testing.T, name string) (outbox.Config, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".jsonl")
	cfg, err := sinks.ParseFlag(name + "=file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

func call(t *testing.T, s *eddytest.Server, method, path string, body any) (int, []byte) {
	t.Helper()
	return callTB(t, s, method, path, body)
}

func callTB(t testing.TB, s *eddytest.Server, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL()+path, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func put(t *testing.T, s *eddytest.Server, table string, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func str(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func num(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: v} }

// A replication (no code) of a table without a stream: eddy enables one,
// and every change reaches the file sink once, in order, as index and
// delete documents keyed by the item's key and versioned by sequence
// number, with exact numbers and only the chosen fields.
func TestReplicateIntoFile(t *testing.T) {
	cfg, path := fileSink(t, "audit")
	s := eddytest.Start(t, server.Options{SinkConfigs: []outbox.Config{cfg}})
	_, err := s.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("products"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	code, body := call(t, s, "POST", "/eddy/replications", map[string]any{"Table": "products", "Sink": "audit", "Fields": []string{"price", "tags"}})
	if code != http.StatusCreated {
		t.Fatalf("create replication: %d %s", code, body)
	}
	var rep struct{ UUID, State string }
	_ = json.Unmarshal(body, &rep)
	// The snapshot of the (empty) table ends before the writes, so that
	// each change is in the file once (a scan racing them would add
	// documents of the snapshot's version: TestReplicationSnapshot).
	eddytest.WaitFor(t, "the snapshot", 10*time.Second, func() bool {
		_, body := call(t, s, "GET", "/eddy/replications", nil)
		var l struct {
			Replications []struct{ Snapshot struct{ Done bool } }
		}
		return json.Unmarshal(body, &l) == nil && len(l.Replications) == 1 && l.Replications[0].Snapshot.Done
	})
	put(t, s, "products", map[string]ddbtypes.AttributeValue{"pk": str("p1"), "sk": num("1"), "price": num("12345678901234567890123456789012345678"), "secret": str("x"),
		"tags": &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}}})
	put(t, s, "products", map[string]ddbtypes.AttributeValue{"pk": str("p2"), "sk": num("2"), "price": num("-0.5")})
	put(t, s, "products", map[string]ddbtypes.AttributeValue{"pk": str("p1"), "sk": num("1"), "price": num("7")})
	if _, err := s.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("products"),
		Key: map[string]ddbtypes.AttributeValue{"pk": str("p2"), "sk": num("2")}}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitFor(t, "4 documents in the file", 10*time.Second, func() bool { return len(readLines(t, path)) == 4 })
	// Order holds per item (items may sit in different stream shards):
	// each item's documents in write order, versions growing, positions
	// growing.
	ls := readLines(t, path)
	var got []string
	last := map[string]line{}
	for _, l := range ls {
		got = append(got, fmt.Sprintf("%s %s %s %s", l.ID, l.Op, l.Table, l.Doc))
		if p, ok := last[l.ID]; ok && (l.Version <= p.Version || l.Seq <= p.Seq) {
			t.Errorf("%s: version %d (position %d) after %d (%d)", l.ID, l.Version, l.Seq, p.Version, p.Seq)
		}
		last[l.ID] = l
	}
	sort.SliceStable(got, func(i, j int) bool { return strings.SplitN(got[i], " ", 2)[0] < strings.SplitN(got[j], " ", 2)[0] })
	want := []string{
		`pk=p1|sk=1 index products {"pk":"p1","price":12345678901234567890123456789012345678,"sk":1,"tags":["a","b"]}`,
		`pk=p1|sk=1 index products {"pk":"p1","price":7,"sk":1}`,
		`pk=p2|sk=2 index products {"pk":"p2","price":-0.5,"sk":2}`,
		`pk=p2|sk=2 delete products `,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("file sink:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	eddytest.WaitFor(t, "delivered", 5*time.Second, func() bool {
		st, _ := s.Outbox().Describe("audit")
		return st.Backlog == 0 && st.Delivered == 4
	})

	// The sink is in use: it cannot be removed before its replication.
	if code, body := call(t, s, "DELETE", "/eddy/sinks/audit", nil); code != http.StatusConflict || !strings.Contains(string(body), rep.UUID) {
		t.Fatalf("removing a sink in use: %d %s", code, body)
	}
	if code, body := call(t, s, "DELETE", "/eddy/replications/"+rep.UUID, nil); code != http.StatusOK {
		t.Fatalf("remove replication: %d %s", code, body)
	}
	if code, body := call(t, s, "DELETE", "/eddy/sinks/audit", nil); code != http.StatusOK {
		t.Fatalf("remove sink: %d %s", code, body)
	}
	if code, _ := call(t, s, "GET", "/eddy/sinks/audit", nil); code != http.StatusNotFound {
		t.Fatalf("a removed sink answers %d", code)
	}
}

// A handler's emits commit with the checkpoint: the esm guest reports
// every invocation to sink "calls" and fails its first invocations after
// emitting; the file holds each record exactly once (the failed
// invocations' emits were dropped with them), and a restart between
// delivery and nothing else changes that.
func TestHandlerEmitsAreExactlyOnce(t *testing.T) {
	cfg, path := fileSink(t, "calls")
	dir := t.TempDir()
	s := eddytest.Start(t, server.Options{DataDir: dir, SinkConfigs: []outbox.Config{cfg}})
	arn := s.StreamTable(t, "orders")
	s.DeployGuest(t, "rep", "esm", map[string]string{"FAIL_TIMES": "2"})
	s.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("rep"), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(4)})
	for i := 0; i < 10; i++ {
		put(t, s, "orders", map[string]ddbtypes.AttributeValue{"pk": str(fmt.Sprintf("o%02d", i)), "v": str("x")})
	}
	pks := func() []string {
		var out []string
		for _, l := range readLines(t, path) {
			var rep struct{ Pks []string }
			if err := json.Unmarshal(l.Doc, &rep); err != nil {
				t.Fatal(err)
			}
			out = append(out, rep.Pks...)
		}
		sort.Strings(out)
		return out
	}
	eddytest.WaitFor(t, "10 records reported", 20*time.Second, func() bool { return len(pks()) >= 10 })
	s.Restart()
	for i := 10; i < 15; i++ {
		put(t, s, "orders", map[string]ddbtypes.AttributeValue{"pk": str(fmt.Sprintf("o%02d", i)), "v": str("x")})
	}
	eddytest.WaitFor(t, "15 records reported", 20*time.Second, func() bool { return len(pks()) >= 15 })
	time.Sleep(100 * time.Millisecond)
	var want []string
	for i := 0; i < 15; i++ {
		want = append(want, fmt.Sprintf("o%02d", i))
	}
	if got := pks(); !slices.Equal(got, want) {
		t.Fatalf("records reported by committed invocations:\n%v\nwant each once:\n%v", got, want)
	}
}

// indexState returns the embedded index's documents (ID → _source).
func indexState(t *testing.T, s *eddytest.Server, sink string) map[string]string {
	t.Helper()
	code, body := call(t, s, "POST", "/eddy/sinks/"+sink+"/_search", map[string]any{"query": map[string]any{"match_all": map[string]any{}}, "size": 10000})
	if code != http.StatusOK {
		t.Fatalf("search: %d %s", code, body)
	}
	var r struct {
		Hits struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range r.Hits.Hits {
		out[h.ID] = string(h.Source)
	}
	return out
}

// tableState returns what a replication of table should hold: "pk=X" →
// {"n":N,"pk":"X"} for every item.
func tableState(t *testing.T, s *eddytest.Server, table string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var start map[string]ddbtypes.AttributeValue
	for {
		page, err := s.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			pk := it["pk"].(*ddbtypes.AttributeValueMemberS).Value
			out["pk="+pk] = fmt.Sprintf(`{"n":%s,"pk":%q}`, it["n"].(*ddbtypes.AttributeValueMemberN).Value, pk)
		}
		if start = page.LastEvaluatedKey; len(start) == 0 {
			return out
		}
	}
}

func converged(t *testing.T, s *eddytest.Server, sink, table string) {
	t.Helper()
	var idx, tbl map[string]string
	deadline := time.Now().Add(20 * time.Second)
	for {
		idx, tbl = indexState(t, s, sink), tableState(t, s, table)
		if fmt.Sprint(idx) == fmt.Sprint(tbl) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index never converged:\nindex %v\ntable %v", idx, tbl)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Reindexing: a replication removed while the table changes and added
// again at TRIM_HORIZON replays the stream over the index it left (older
// versions are skipped, newer ones applied) and converges; so does one
// into a sink removed and created again (an empty index rebuilt from the
// stream). Neither gets stuck on deletes of documents the index never had.
func TestReindexConverges(t *testing.T) {
	s := eddytest.Start(t, server.Options{SinkConfigs: []outbox.Config{{Name: "idx", Kind: "search"}}})
	s.StreamTable(t, "items")
	change := func(from, to int) {
		for i := from; i < to; i++ {
			pk := fmt.Sprintf("k%02d", i%17)
			if i%5 == 4 {
				if _, err := s.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: map[string]ddbtypes.AttributeValue{"pk": str(pk)}}); err != nil {
					t.Fatal(err)
				}
				continue
			}
			put(t, s, "items", map[string]ddbtypes.AttributeValue{"pk": str(pk), "n": num(fmt.Sprint(i))})
		}
	}
	replicate := func() string {
		code, body := call(t, s, "POST", "/eddy/replications", map[string]any{"Table": "items", "Sink": "idx", "StartingPosition": "TRIM_HORIZON"})
		if code != http.StatusCreated {
			t.Fatalf("replicate: %d %s", code, body)
		}
		var r struct{ UUID string }
		_ = json.Unmarshal(body, &r)
		return r.UUID
	}
	remove := func(uuid string) {
		if code, body := call(t, s, "DELETE", "/eddy/replications/"+uuid, nil); code != http.StatusOK {
			t.Fatalf("remove replication: %d %s", code, body)
		}
	}
	change(0, 60)
	r := replicate()
	converged(t, s, "idx", "items")
	remove(r)
	change(60, 140)
	r = replicate()
	converged(t, s, "idx", "items")

	// Drop the index and rebuild it from the stream.
	remove(r)
	if code, body := call(t, s, "DELETE", "/eddy/sinks/idx", nil); code != http.StatusOK {
		t.Fatalf("remove sink: %d %s", code, body)
	}
	if code, body := call(t, s, "POST", "/eddy/sinks", map[string]any{"Name": "idx", "Kind": "search"}); code != http.StatusCreated {
		t.Fatalf("create sink: %d %s", code, body)
	}
	change(140, 170)
	replicate()
	converged(t, s, "idx", "items")
	st, err := s.Outbox().Describe("idx")
	if err != nil || st.Rejected != 0 || st.State != "OK" {
		t.Fatalf("sink after reindexing: %+v %v", st, err)
	}
}

// A target that is down pauses the replication once the sink's backlog
// reaches MaxBacklog (visible in the sink's state and the mapping's
// LastProcessingResult), and everything is delivered, once, when it comes
// back.
func TestBacklogBoundPausesAndResumes(t *testing.T) {
	var mu sync.Mutex
	up := false
	got := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		got[r.Header.Get("Idempotency-Key")]++
	}))
	defer hook.Close()
	s := eddytest.Start(t, server.Options{SinkConfigs: []outbox.Config{{Name: "hook", Kind: "http", URL: hook.URL, MaxBacklog: 5}},
		SinkRetryBackoff: 10 * time.Millisecond, SinkMaxRetryBackoff: 100 * time.Millisecond})
	s.StreamTable(t, "items")
	// TRIM_HORIZON: from the stream only (a snapshot scan racing the puts
	// would add documents of version = its start for the items it saw).
	code, body := call(t, s, "POST", "/eddy/replications", map[string]any{"Table": "items", "Sink": "hook", "BatchSize": 1, "StartingPosition": "TRIM_HORIZON"})
	if code != http.StatusCreated {
		t.Fatalf("replicate: %d %s", code, body)
	}
	var rep struct{ UUID string }
	_ = json.Unmarshal(body, &rep)
	for i := range 20 {
		put(t, s, "items", map[string]ddbtypes.AttributeValue{"pk": str(fmt.Sprintf("k%02d", i)), "n": num("1")})
	}
	eddytest.WaitFor(t, "the replication to pause", 20*time.Second, func() bool {
		st, _ := s.Outbox().Describe("hook")
		c, _ := s.Mappings().Get(rep.UUID)
		return st.State == "BACKLOG_FULL" && strings.Contains(c.LastProcessingResult, "paused: sink hook")
	})
	time.Sleep(100 * time.Millisecond)
	// The bound may be passed by what the lanes in flight commit: one
	// document each here (BatchSize 1, one lane per shard, 4 shards).
	if st, _ := s.Outbox().Describe("hook"); st.Backlog > 5+4 || !strings.Contains(st.LastError, "503") {
		t.Fatalf("a paused sink holds %d documents (bound 5, 4 lanes), last error %q", st.Backlog, st.LastError)
	}
	mu.Lock()
	up = true
	mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 20 {
			break
		}
		if time.Now().After(deadline) {
			st, _ := s.Outbox().Describe("hook")
			c, _ := s.Mappings().Get(rep.UUID)
			t.Fatalf("%d of 20 delivered; sink %+v; mapping %s %s", n, st, c.State, c.LastProcessingResult)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 20 {
		t.Errorf("%d documents delivered for 20 changes", len(got))
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}

// A replication of a table that already holds items copies them (the
// snapshot) beside the stream: with writes racing the scan and a restart
// in the middle of it, the index ends equal to the table.
func TestReplicationSnapshot(t *testing.T) {
	s := eddytest.Start(t, server.Options{DataDir: t.TempDir(), SinkConfigs: []outbox.Config{{Name: "idx", Kind: "search"}}})
	if _, err := s.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("items"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	const n = 1600 // four pages of the snapshot's scan
	for i := 0; i < n; i += 25 {
		var reqs []ddbtypes.WriteRequest
		for j := i; j < i+25; j++ {
			reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"pk": str(fmt.Sprintf("k%04d", j)), "n": num("0")}}})
		}
		if _, err := s.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"items": reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	code, body := call(t, s, "POST", "/eddy/replications", map[string]any{"Table": "items", "Sink": "idx"})
	if code != http.StatusCreated {
		t.Fatalf("replicate: %d %s", code, body)
	}
	// Writes race the scan: updates and deletes over the whole key range.
	for i := 0; i < 300; i++ {
		pk := fmt.Sprintf("k%04d", (i*37)%n)
		if i%4 == 3 {
			if _, err := s.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: map[string]ddbtypes.AttributeValue{"pk": str(pk)}}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		put(t, s, "items", map[string]ddbtypes.AttributeValue{"pk": str(pk), "n": num(fmt.Sprint(i + 1))})
		if i == 150 {
			s.Restart()
		}
	}
	converged(t, s, "idx", "items")
	_, body = call(t, s, "GET", "/eddy/replications", nil)
	var l struct {
		Replications []struct{ Snapshot struct{ Done bool } }
	}
	if err := json.Unmarshal(body, &l); err != nil || len(l.Replications) != 1 || !l.Replications[0].Snapshot.Done {
		t.Fatalf("replications: %s", body)
	}
}
