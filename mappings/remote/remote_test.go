package remote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/logtest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/mappings/remote"
	"github.com/eddydb/eddy/streams"
)

var ctx = context.Background()

// call is one invocation as the esm guest reports it.
type call struct {
	Seqs []string `json:"seqs"`
	Pks  []string `json:"pks"`
	Vs   []string `json:"vs"`
}

// consumer is eddy A: the mappings, the function, its view table, with
// remote streams read from ep.
type consumer struct {
	t    *testing.T
	srv  *eddytest.Server
	sink *eddytest.Sink[call]
}

func startConsumer(t *testing.T, ep remote.Endpoint) *consumer {
	t.Helper()
	ep.Credentials = credentials.NewStaticCredentialsProvider("AKIDREMOTE", "secret", "")
	ep.PollInterval = 10 * time.Millisecond
	sk := &eddytest.Sink[call]{}
	srv := eddytest.Start(t, server.Options{DataDir: t.TempDir(), Sinks: sk, RemoteStreams: []remote.Endpoint{ep},
		Mappings: mappings.Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 50 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}})
	return &consumer{t: t, srv: srv, sink: sk}
}

// deploy creates the view table and the esm guest as function "view"
// (materialized view of INSERTs into "totals", committed with the
// checkpoint) and maps it to streamArn.
func (c *consumer) deploy(streamArn string, in *lambda.CreateEventSourceMappingInput) string {
	c.t.Helper()
	c.srv.StreamTable(c.t, "totals")
	c.srv.DeployGuest(c.t, "view", "esm", map[string]string{"VIEW": "totals"})
	in.FunctionName, in.EventSourceArn = aws.String("view"), aws.String(streamArn)
	return c.srv.Mapping(c.t, in)
}

// firstSeen returns, per item, the values of v in the order the function
// first saw them (a batch abandoned by a restart is delivered again:
// per-item order is the order of first deliveries), and every wire
// sequence number it was handed.
func (c *consumer) firstSeen() (map[string][]string, []string) {
	out := map[string][]string{}
	seen := map[string]bool{}
	var seqs []string
	for _, cl := range c.sink.Calls() {
		for i, pk := range cl.Pks {
			seqs = append(seqs, cl.Seqs[i])
			if k := pk + "\x00" + cl.Vs[i]; !seen[k] {
				seen[k] = true
				out[pk] = append(out[pk], cl.Vs[i])
			}
		}
	}
	return out, seqs
}

// totals reads the view: customer → "total/orders".
func (c *consumer) totals() map[string]string {
	c.t.Helper()
	out, err := c.srv.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("totals")})
	if err != nil {
		c.t.Fatal(err)
	}
	m := map[string]string{}
	for _, it := range out.Items {
		m[it["pk"].(*ddbtypes.AttributeValueMemberS).Value] = it["total"].(*ddbtypes.AttributeValueMemberN).Value + "/" + it["orders"].(*ddbtypes.AttributeValueMemberN).Value
	}
	return m
}

// workload writes rounds of changes to items k0..k(n-1) of a table and
// keeps what the consumer must end up with.
type workload struct {
	ddb    *dynamodb.Client
	table  string
	n      int
	rounds int
	want   map[string][]string // pk → v in write order
	view   map[string][2]int   // customer → total, orders (INSERTs)
	cust   map[string]string   // pk → customer
	amount map[string]int      // pk → amount
	t      *testing.T
}

func newWorkload(t *testing.T, ddb *dynamodb.Client, table string, n int) *workload {
	return &workload{t: t, ddb: ddb, table: table, n: n, want: map[string][]string{}, view: map[string][2]int{}, cust: map[string]string{}, amount: map[string]int{}}
}

// round puts every item once (the first round INSERTs, the others MODIFY).
func (w *workload) round() {
	w.t.Helper()
	w.rounds++
	v := "r" + strconv.Itoa(w.rounds)
	for i := 0; i < w.n; i++ {
		pk := "k" + strconv.Itoa(i)
		if w.rounds == 1 {
			w.cust[pk] = "c" + strconv.Itoa(i%3)
			w.amount[pk] = 1 + i
			t := w.view[w.cust[pk]]
			w.view[w.cust[pk]] = [2]int{t[0] + w.amount[pk], t[1] + 1}
		}
		_, err := w.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(w.table), Item: map[string]ddbtypes.AttributeValue{
			"pk":       &ddbtypes.AttributeValueMemberS{Value: pk},
			"v":        &ddbtypes.AttributeValueMemberS{Value: v},
			"customer": &ddbtypes.AttributeValueMemberS{Value: w.cust[pk]},
			"amount":   &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(w.amount[pk])},
		}})
		if err != nil {
			w.t.Fatalf("PutItem: %v", err)
		}
		w.want[pk] = append(w.want[pk], v)
	}
}

func (w *workload) records() int { return w.n * w.rounds }

// check waits until the consumer has settled every record and then holds
// it to the workload: every item's changes in write order, the view exact,
// each record settled once (Totals are committed with the checkpoints, so
// a record delivered twice would be counted twice).
func (w *workload) check(c *consumer, uuid string, d time.Duration) {
	w.t.Helper()
	eddytest.WaitFor(w.t, "every record settled", d, func() bool {
		tot, err := c.srv.Mappings().Totals(uuid)
		if err != nil {
			w.t.Fatal(err)
		}
		if testing.Verbose() {
			cfg, _ := c.srv.Mappings().Get(uuid)
			w.t.Logf("settled %d of %d: %s", tot.RecordsDelivered, w.records(), cfg.LastProcessingResult)
		}
		return tot.RecordsDelivered >= int64(w.records())
	})
	tot, err := c.srv.Mappings().Totals(uuid)
	if err != nil {
		w.t.Fatal(err)
	}
	if tot.RecordsDelivered != int64(w.records()) || tot.RecordsDeadLettered != 0 {
		w.t.Errorf("settled %+v, want %d records delivered once, none dead-lettered", tot, w.records())
	}
	got, seqs := c.firstSeen()
	for pk, vs := range w.want {
		if !slices.Equal(got[pk], vs) {
			w.t.Errorf("item %s: the function saw %v, written %v", pk, got[pk], vs)
		}
	}
	// The remote's own sequence numbers reach the function (the reader's
	// ordinals would repeat from shard to shard).
	distinct := map[string]bool{}
	for _, s := range seqs {
		distinct[s] = true
	}
	if len(distinct) != w.records() {
		w.t.Errorf("the function was handed %d distinct sequence numbers for %d records", len(distinct), w.records())
	}
	view := c.totals()
	for cu, t := range w.view {
		if g, want := view[cu], fmt.Sprintf("%d/%d", t[0], t[1]); g != want {
			w.t.Errorf("view of %s: %s, want %s", cu, g, want)
		}
	}
}

// TestRemoteEddyStream: a mapping in eddy A consumes eddy B's stream
// through B's DynamoDB Streams API: every record once, each item's changes
// in order, across shard rollovers on B (parents read before children; the
// clock jump also expires A's iterators, which it gets again after its
// checkpoint) and a restart of A (it resumes from its checkpoints, kept in
// A). The function's view writes go to A's own table with the checkpoint.
func TestRemoteEddyStream(t *testing.T) {
	clock := eddytest.NewClock()
	b := eddytest.Start(t, server.Options{AccountID: "111111111111", Streams: streams.Options{
		ShardCount: 2, RolloverInterval: time.Hour, MaintenanceInterval: time.Hour, Now: clock.Now}})
	streamArn := b.StreamTable(t, "orders")
	px := startProxy(t, b.URL(), 0)
	a := startConsumer(t, remote.Endpoint{Region: "us-east-1", Account: "111111111111", URL: px.url})
	uuid := a.deploy(streamArn, &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(7), ParallelizationFactor: aws.Int32(2)})

	rollover := func() {
		t.Helper()
		clock.Advance(time.Hour)
		if err := b.Streams().Maintain(time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	w := newWorkload(t, b.DDB, "orders", 12)
	w.round()
	rollover()
	w.round()
	eddytest.WaitFor(t, "A to deliver some records", 20*time.Second, func() bool { return len(a.sink.Calls()) > 0 })
	a.srv.Restart()
	// A second mapping, created LATEST: it gets the records written once
	// its readers hold LATEST iterators (one per open shard), nothing
	// before.
	a.srv.DeployGuest(t, "late", "esm", map[string]string{"QUIET": "1"})
	late := a.srv.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("late"), EventSourceArn: aws.String(streamArn),
		StartingPosition: ltypes.EventSourcePositionLatest})
	eddytest.WaitFor(t, "LATEST iterators", 20*time.Second, func() bool { return px.latestIterators() >= 2 })
	before := w.records()
	w.round()
	// The LATEST mapping reads this round before the rollover: the clock
	// jump expires every iterator, and a LATEST reader that has read no
	// record yet asks for LATEST again (the caveat in package remote's
	// doc), which would skip the round. Without the wait the test failed
	// when the rollover came before the reader's next poll.
	eddytest.WaitFor(t, "the LATEST mapping to read the first round after it started", 20*time.Second, func() bool {
		tot, _ := a.srv.Mappings().Totals(late)
		return tot.RecordsDelivered >= int64(w.records()-before)
	})
	rollover()
	w.round()
	w.check(a, uuid, 30*time.Second)
	eddytest.WaitFor(t, "the LATEST mapping to settle its records", 20*time.Second, func() bool {
		tot, _ := a.srv.Mappings().Totals(late)
		return tot.RecordsDelivered >= int64(w.records()-before)
	})
	if tot, _ := a.srv.Mappings().Totals(late); tot.RecordsDelivered != int64(w.records()-before) {
		t.Errorf("the LATEST mapping settled %+v, want the %d records written after it started", tot, w.records()-before)
	}

	st, err := a.srv.Mappings().Status(uuid)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dynamodbstreams.NewFromConfig(b.Config()).DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamArn)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.StreamDescription.Shards); n != 6 || len(st) != n {
		t.Errorf("B has %d shards after two rollovers of 2 (want 6); A's status lists %d", n, len(st))
	}
	finished := 0
	for _, s := range st {
		if s.Finished {
			finished++
		}
		if s.PendingRecords != -1 || (!s.Finished && s.Position == "") {
			t.Errorf("shard status %+v: want PendingRecords -1 (not counted) and the remote's sequence number as Position", s)
		}
	}
	if finished != 4 {
		t.Errorf("A finished %d shards, want the 4 closed ones: %+v", finished, st)
	}
	// The clock jumps expired the iterators A held (B's are valid 15
	// minutes): A got new ones after its checkpoints and lost nothing.
	if px.count("ExpiredIteratorException") == 0 {
		t.Errorf("B never answered ExpiredIteratorException (errors %v): the test did not exercise it", px.errors)
	}
}

// TestRemoteThrottledAndPartialFailures: GetRecords throttled by the
// remote (LimitExceededException) is retried with backoff, logged once
// when it starts failing and once when it recovers, and nothing is lost;
// a partial batch response names records by the remote's sequence
// numbers, and the dead-letter record reports them.
func TestRemoteThrottledAndPartialFailures(t *testing.T) {
	b := eddytest.Start(t, server.Options{AccountID: "111111111111", Streams: streams.Options{ShardCount: 1}})
	streamArn := b.StreamTable(t, "orders")
	px := startProxy(t, b.URL(), 5)
	logs := &logtest.Buffer{}
	ep := remote.Endpoint{Region: "us-east-1", Account: "111111111111", URL: px.url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDREMOTE", "secret", ""), PollInterval: 10 * time.Millisecond,
		MaxAttempts: 1} // every throttle reaches the mapping's own backoff
	sk := &eddytest.Sink[call]{}
	a := &consumer{t: t, sink: sk, srv: eddytest.Start(t, server.Options{Sinks: sk, RemoteStreams: []remote.Endpoint{ep},
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Mappings: mappings.Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 50 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}})}
	a.srv.StreamTable(t, "totals")
	a.srv.DeployGuest(t, "f", "esm", map[string]string{"PARTIAL_ON": "r1-poison"})
	for i, v := range []string{"r1", "r1", "r1-poison", "r1", "r1"} {
		_, err := b.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}, "v": &ddbtypes.AttributeValueMemberS{Value: v}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Written before the mapping starts: its first read takes all five,
	// one batch.
	uuid := a.srv.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(streamArn),
		BatchSize: aws.Int32(10), MaximumRetryAttempts: aws.Int32(0), FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures}})
	eddytest.WaitFor(t, "the batch settled", 30*time.Second, func() bool {
		tot, _ := a.srv.Mappings().Totals(uuid)
		if testing.Verbose() {
			cfg, _ := a.srv.Mappings().Get(uuid)
			t.Logf("settled %+v: %s; remote errors %v", tot, cfg.LastProcessingResult, px.errors)
		}
		return tot.RecordsDeadLettered > 0
	})
	// The batch's records before the reported one are done (checkpointed;
	// Totals count records of successful invocations only); from it on,
	// the batch failed once and, with no retries left, went to the
	// dead-letter store (Lambda's rules; package delivery). Had the
	// reported sequence number not been recognised, the whole batch (5)
	// would have failed.
	tot, _ := a.srv.Mappings().Totals(uuid)
	if tot.RecordsDeadLettered != 3 {
		t.Errorf("totals %+v, want 3 dead-lettered (the poison record and those after it)", tot)
	}
	fs, err := a.srv.Mappings().Failures(uuid)
	if err != nil || len(fs) != 1 {
		t.Fatalf("failures %+v, %v", fs, err)
	}
	var poison string
	for _, c := range sk.Calls() {
		for i, v := range c.Vs {
			if v == "r1-poison" {
				poison = c.Seqs[i]
			}
		}
	}
	if bi := fs[0].DDBStreamBatchInfo; poison == "" || bi.StartSequenceNumber != poison || bi.BatchSize != 3 {
		t.Errorf("dead-letter batch info %+v, want it to start at the poison record's sequence number %q", bi, poison)
	}
	if n := px.count("LimitExceededException (injected)"); n != 5 {
		t.Errorf("%d GetRecords throttled, want 5", n)
	}

	// Redriven with the function now reporting the two records after the
	// poison one: the poison record is settled, the two stay in the entry.
	// The identifiers are the remote's sequence numbers here too (else the
	// whole batch would fail and all three stay).
	if _, err := lambda.NewFromConfig(a.srv.Config()).UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("f"), Environment: &ltypes.Environment{Variables: map[string]string{"PARTIAL_ON": "r1"}}}); err != nil {
		t.Fatal(err)
	}
	es, err := a.srv.Mappings().RedriveAll(ctx, uuid)
	if len(es) != 1 || len(es[0].Records) != 2 {
		n := -1
		if len(es) == 1 {
			n = len(es[0].Records)
		}
		t.Errorf("after the redrive: %d entries, %d records left (%v), want 1 entry with the 2 records the function reported", len(es), n, err)
	}

	out := logs.String()
	if strings.Count(out, "shard read failing") != 1 || strings.Count(out, "shard read recovered") != 1 {
		t.Errorf("want one failing and one recovered line for the throttled reads, log:\n%s", out)
	}
}

// proxy stands between eddy A and the remote: it counts the remote's
// error responses by __type and answers the first failGetRecords
// GetRecords calls itself with DynamoDB Streams' LimitExceededException.
type proxy struct {
	url            string
	mu             sync.Mutex
	errors         map[string]int
	failGetRecords int
	latest         int // GetShardIterator calls of type LATEST
}

func startProxy(t *testing.T, target string, failGetRecords int) *proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{errors: map[string]int{}, failGetRecords: failGetRecords}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		if r.StatusCode != http.StatusBadRequest {
			return nil
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(body, &e)
		p.mu.Lock()
		p.errors[e.Type[strings.LastIndex(e.Type, "#")+1:]]++
		p.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetShardIterator") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte(`"ShardIteratorType":"LATEST"`)) {
				p.mu.Lock()
				p.latest++
				p.mu.Unlock()
			}
		}
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetRecords") {
			p.mu.Lock()
			fail := p.failGetRecords > 0
			if fail {
				p.failGetRecords--
				p.errors["LimitExceededException (injected)"]++
			}
			p.mu.Unlock()
			if fail {
				// DynamoDB Streams' throttling error (API reference,
				// GetRecords, Errors: LimitExceededException, HTTP 400).
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#LimitExceededException","message":"Rate exceeded for shard"}`)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *proxy) latestIterators() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latest
}

func (p *proxy) count(typ string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errors[typ]
}
