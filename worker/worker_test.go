package worker_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/eddydb/eddy/internal/childproc"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/relay"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers/triggerstest"
	"github.com/eddydb/eddy/worker"
)

// TestMain doubles as the worker processes of the tests: with
// EDDY_WORKER_CHILD set, the test binary runs worker.Run instead.
func TestMain(m *testing.M) {
	if os.Getenv("EDDY_WORKER_CHILD") != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child runs a worker; with EDDY_WORKER_PAUSE=FILE, once FILE.arm exists
// the first worker to reach a commit (and create FILE) prints PAUSED and
// blocks there, between its handler and its commit, until it is killed.
func child() int {
	opts := workerOptions(os.Getenv("EDDY_WORKER_NATS"), os.Getenv("EDDY_WORKER_CONTROL"))
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	if f := os.Getenv("EDDY_WORKER_PAUSE"); f != "" {
		opts.BeforeCommit = func(string, string) {
			if _, err := os.Stat(f + ".arm"); err != nil {
				return
			}
			if fd, err := os.OpenFile(f, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
				fd.Close()
				fmt.Println("PAUSED")
				select {}
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := worker.Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// workerOptions are quick to fail over: a dead worker's lanes move
// within AckWait (3 s).
func workerOptions(natsURL, control string) worker.Options {
	return worker.Options{NATS: natsURL, Control: control, AckWait: 3 * time.Second, PinnedTTL: 2 * time.Second,
		PollInterval: 200 * time.Millisecond, RetryBackoff: 50 * time.Millisecond}
}

// proc is one worker process.
type proc struct {
	cmd    *exec.Cmd
	paused chan struct{}
	stderr *bytes.Buffer
}

func startWorker(t *testing.T, natsURL, control, pause string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EDDY_WORKER_CHILD=1", "EDDY_WORKER_NATS="+natsURL, "EDDY_WORKER_CONTROL="+control,
		"EDDY_WORKER_PAUSE="+pause)
	p := &proc{cmd: cmd, paused: make(chan struct{}), stderr: &bytes.Buffer{}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	childproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "PAUSED" {
				close(p.paused)
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("worker %d:\n%s", cmd.Process.Pid, p.stderr.String())
		}
	})
	return p
}

func (p *proc) log() string {
	w := p.cmd.Stderr.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return p.stderr.String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// setup starts NATS and eddy with orders relayed, the tables totals and
// seen, and the function viewlog, whose mapping on orders runs on
// workers.
func setup(t *testing.T, relayed bool, so ...streams.Options) (*natsserver.Server, *eddytest.Server, string) {
	t.Helper()
	ns := natstest.Start(t)
	sopts := streams.Options{ShardCount: 4}
	if len(so) > 0 {
		sopts = so[0]
	}
	s := eddytest.Start(t, server.Options{NATS: ns.ClientURL(),
		Relay: relay.Options{RetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond,
			PollInterval: 20 * time.Millisecond},
		Mappings: mappings.Options{OnWorkers: func(fn string) bool { return fn == "viewlog" || fn == "failing" }},
		Streams:  sopts})
	arn := s.StreamTable(t, "orders")
	for table, key := range map[string]string{"totals": "customer", "seen": "pk", "seen2": "pk"} {
		if _, err := s.DDB.CreateTable(context.Background(), &dynamodb.CreateTableInput{
			TableName:            aws.String(table),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if relayed {
		enableRelay(t, s)
	}
	deployViewlog(t, s, "viewlog", nil)
	s.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("viewlog"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(10)})
	return ns, s, arn
}

// deployViewlog creates the function name from worker/testdata/viewlog
// (the materialized view and its log of versions), with the environment
// variables env (nil: none).
func deployViewlog(t *testing.T, s *eddytest.Server, name string, env map[string]string) {
	t.Helper()
	code, err := triggerstest.BuildPackage("./worker/testdata/viewlog")
	if err != nil {
		t.Fatal(err)
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"), Code: &ltypes.FunctionCode{ZipFile: code},
		Timeout: aws.Int32(60),
	}
	if env != nil {
		in.Environment = &ltypes.Environment{Variables: env}
	}
	if _, err := lambda.NewFromConfig(s.Config()).CreateFunction(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// runWorkerInProcess runs a worker in the test's process until the test
// ends, for tests that need no crash (a worker process is startWorker).
func runWorkerInProcess(t *testing.T, ns *natsserver.Server, s *eddytest.Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		opts := workerOptions(ns.ClientURL(), s.URL())
		opts.Logger = slog.New(slog.DiscardHandler)
		_ = worker.Run(ctx, opts)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func enableRelay(t *testing.T, s *eddytest.Server) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"Table": "orders"})
	resp, err := http.Post(s.URL()+"/eddy/relays", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("enabling the relay: %s", resp.Status)
	}
}

// writeRound puts every item at version v, pausing gap between puts.
func writeRound(t *testing.T, s *eddytest.Server, items, v int, gap time.Duration) {
	t.Helper()
	for i := 0; i < items; i++ {
		time.Sleep(gap)
		_, err := s.DDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
			"pk":       &ddbtypes.AttributeValueMemberS{Value: "o" + strconv.Itoa(i)},
			"customer": &ddbtypes.AttributeValueMemberS{Value: "c" + strconv.Itoa(i%7)},
			"amount":   &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa((i*v)%13 + 1)},
			"v":        &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(v)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// scan returns a table's items by key attribute.
func scan(t *testing.T, s *eddytest.Server, table, key string) map[string]map[string]ddbtypes.AttributeValue {
	t.Helper()
	out := map[string]map[string]ddbtypes.AttributeValue{}
	p := dynamodb.NewScanPaginator(s.DDB, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out[it[key].(*ddbtypes.AttributeValueMemberS).Value] = it
		}
	}
	return out
}

func num(t *testing.T, av ddbtypes.AttributeValue) int {
	t.Helper()
	n, ok := av.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%#v is not a number", av)
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestThreeWorkersOneKilledMidBatch: three worker processes share a
// materialized-view mapping over the relay's JetStream subjects (4 shards,
// which roll over halfway: 4 parents, 4 children); one is SIGKILLed between
// its handler and its commit. Every record is
// processed once and in order per item (each item's log of versions is
// exactly 1..n), and the view equals its recomputation from the table.
func TestThreeWorkersOneKilledMidBatch(t *testing.T) {
	clock := eddytest.NewClock() // the shards roll over when the test says
	ns, s, arn := setup(t, true, streams.Options{ShardCount: 4, RolloverInterval: time.Hour, MaintenanceInterval: 10 * time.Millisecond, Now: clock.Now})
	pause := filepath.Join(t.TempDir(), "paused")
	var ps []*proc
	for range 3 {
		ps = append(ps, startWorker(t, ns.ClientURL(), s.URL(), pause))
	}
	// Few items, many versions: a shard's consecutive records are the same
	// few items again and again, so a batch run before the one it follows
	// shows as versions out of order. Writes are slow until a worker is
	// killed, so that batches are partial: the killed worker holds fewer
	// records than MaxAckPending, and the lane's next records reach the
	// worker NATS pins next before the killed batch is redelivered (after
	// AckWait). They must wait for it.
	const items, versions = 8, 30
	paused := make(chan *proc, 3)
	for _, p := range ps {
		go func() {
			<-p.paused
			paused <- p
		}()
	}
	var killed *proc
	var killedAt time.Time
	maybeKill := func() {
		if killed != nil {
			return
		}
		select {
		case killed = <-paused:
			if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killedAt = time.Now()
		default:
		}
	}
	for v := 1; v <= versions; v++ {
		maybeKill()
		gap := 15 * time.Millisecond
		if killed != nil {
			gap = 0
		}
		if v == versions/2 { // parents and children: a child's records wait for its parent's
			shs, _ := s.Streams().Shards(arn)
			clock.Advance(time.Hour)
			eddytest.WaitFor(t, "the shards to roll over", 30*time.Second, func() bool {
				now, _ := s.Streams().Shards(arn)
				return len(now) >= len(shs)+4
			})
		}
		writeRound(t, s, items, v, gap)
		if v == 1 { // the workers are up: arm the pause
			eddytest.WaitFor(t, "the workers to process the first writes", 90*time.Second, func() bool {
				return len(scan(t, s, "seen", "pk")) == items
			})
			if err := os.WriteFile(pause+".arm", nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if killed == nil {
		t.Fatal("no worker was killed: none reached a commit during the writes")
	}

	deadline := time.Now().Add(120 * time.Second)
	for {
		seen := scan(t, s, "seen", "pk")
		done := len(seen) == items
		for pk, it := range seen {
			l, _ := it["vs"].(*ddbtypes.AttributeValueMemberL)
			if l == nil {
				t.Fatalf("%s: no vs: %#v", pk, it)
			}
			for i, x := range l.Value {
				if got := num(t, x); got != i+1 {
					t.Fatalf("%s saw versions out of order or twice: %d at position %d (%d so far)", pk, got, i, len(l.Value))
				}
			}
			done = done && len(l.Value) == versions
		}
		if done {
			// A figure, not asserted: how long the killed worker's lanes
			// took to finish elsewhere (AckWait is 10 s).
			t.Logf("every record processed %.1f s after the kill", time.Since(killedAt).Seconds())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every record was processed: %d items seen", len(seen))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The view against its recomputation from the table.
	want := map[string][2]int{}
	for _, it := range scan(t, s, "orders", "pk") {
		c := it["customer"].(*ddbtypes.AttributeValueMemberS).Value
		w := want[c]
		want[c] = [2]int{w[0] + num(t, it["amount"]), w[1] + 1}
	}
	got := scan(t, s, "totals", "customer")
	if len(got) != len(want) {
		t.Fatalf("view has %d customers, want %d", len(got), len(want))
	}
	for c, w := range want {
		if g := [2]int{num(t, got[c]["total"]), num(t, got[c]["orders"])}; g != w {
			t.Fatalf("view of %s: total, orders = %v, want %v", c, g, w)
		}
	}
}

// TestWorkerFigures measures (it asserts nothing; EDDY_WORKER_FIGURES=1 to
// run it): the latency from an acknowledged PutItem to the remote
// handler's write being visible in eddy (one worker, one write at a
// time), and records/s with 1, 2 and 3 workers over a backlog whose relay
// is enabled once the workers are up. README "Trigger workers" has the figures.
func TestWorkerFigures(t *testing.T) {
	if os.Getenv("EDDY_WORKER_FIGURES") == "" {
		t.Skip("EDDY_WORKER_FIGURES=1 to measure")
	}
	ns, s, _ := setup(t, true)
	startWorker(t, ns.ClientURL(), s.URL(), "")
	var lat []time.Duration
	for i := 0; i < 300; i++ {
		start := time.Now()
		writeRound(t, s, 1, i+1, 0)
		for {
			out, err := s.DDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("seen"),
				Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "o0"}}, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if l, ok := out.Item["vs"].(*ddbtypes.AttributeValueMemberL); ok && len(l.Value) == i+1 {
				break
			}
			if time.Since(start) > 60*time.Second {
				t.Fatal("the worker did not process the write")
			}
			time.Sleep(time.Millisecond)
		}
		if i >= 20 { // the first ones compile and warm the worker
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	t.Logf("write -> remote handler's write visible: p50 %v p99 %v (n=%d)", lat[len(lat)/2], lat[len(lat)*99/100], len(lat))

	for n := 1; n <= 3; n++ {
		ns, s, _ := setup(t, false)
		const items, versions = 100, 40
		var ws []*proc
		for range n {
			ws = append(ws, startWorker(t, ns.ClientURL(), s.URL(), ""))
		}
		running := func() bool { // every worker compiled the function
			for _, p := range ws {
				if !strings.Contains(p.log(), "running event source mapping") {
					return false
				}
			}
			return true
		}
		eddytest.WaitFor(t, "the workers to compile the function", 120*time.Second, running)
		for v := 1; v <= versions; v++ {
			writeRound(t, s, items, v, 0)
		}
		enableRelay(t, s) // the backlog goes to JetStream, and on to the workers
		count := func() int {
			c := 0
			for _, it := range scan(t, s, "seen", "pk") {
				if l, ok := it["vs"].(*ddbtypes.AttributeValueMemberL); ok {
					c += len(l.Value)
				}
			}
			return c
		}
		var t0 time.Time
		c0 := 0
		for {
			c := count()
			if t0.IsZero() && c > 0 {
				t0, c0 = time.Now(), c
			}
			if c == items*versions {
				d := time.Since(t0)
				t.Logf("%d worker(s): %d records in %v from the first commit: %.0f records/s (relay and workers together)", n, c-c0, d.Round(time.Millisecond), float64(c-c0)/d.Seconds())
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestWorkerDeadLetters: a batch a worker gives up on (a function error,
// MaximumRetryAttempts 0) is in eddy's dead-letter store, with its record,
// committed with the checkpoint past it: the next record is processed and
// the failed invocation's writes are not applied.
func TestWorkerDeadLetters(t *testing.T) {
	ns, s, arn := setup(t, true)
	deployViewlog(t, s, "failing", map[string]string{"FAIL_ON": "2", "SEEN_TABLE": "seen2"})
	uuid := s.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("failing"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(0)})
	runWorkerInProcess(t, ns, s)
	for v := 1; v <= 3; v++ {
		writeRound(t, s, 1, v, 0)
	}
	eddytest.WaitFor(t, "the record after the poison one", 120*time.Second, func() bool {
		it := scan(t, s, "seen2", "pk")["o0"]
		l, _ := it["vs"].(*ddbtypes.AttributeValueMemberL)
		return l != nil && len(l.Value) == 2
	})
	l := scan(t, s, "seen2", "pk")["o0"]["vs"].(*ddbtypes.AttributeValueMemberL)
	if num(t, l.Value[0]) != 1 || num(t, l.Value[1]) != 3 {
		t.Fatalf("seen2 o0 = %v, want versions 1 and 3 (2's writes dropped with its failed invocation)", l.Value)
	}
	var list struct {
		Entries []struct {
			ID      uint64 `json:"id"`
			Mapping string `json:"mapping"`
		}
	}
	getJSON(t, s.URL()+"/eddy/dlq/entries?mapping="+uuid, &list)
	if len(list.Entries) != 1 || list.Entries[0].Mapping != uuid {
		t.Fatalf("dead letters %+v, want one of mapping %s", list.Entries, uuid)
	}
	var e struct {
		Record struct {
			RequestContext struct {
				Condition string `json:"condition"`
			} `json:"requestContext"`
		} `json:"record"`
		Records []struct {
			Event json.RawMessage `json:"event"`
		} `json:"records"`
		LastError string `json:"lastError"`
	}
	getJSON(t, s.URL()+"/eddy/dlq/entries/"+strconv.FormatUint(list.Entries[0].ID, 10), &e)
	for i := range e.Records {
		var b bytes.Buffer
		_ = json.Compact(&b, e.Records[i].Event)
		e.Records[i].Event = b.Bytes()
	}
	if e.Record.RequestContext.Condition != "RetryAttemptsExhausted" || len(e.Records) != 1 ||
		!bytes.Contains(e.Records[0].Event, []byte(`"v":{"N":"2"}`)) || !bytes.Contains(e.Records[0].Event, []byte(`"eventSourceARN":`)) ||
		!strings.Contains(e.LastError, "poison record") {
		t.Fatalf("dead letter %+v %s", e, e.Records[0].Event)
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// TestCommitRoute: eddy's commit route applies a worker's writes and
// checkpoint together or not at all: a stale Prev is 409 with the current
// checkpoint and writes nothing, a write eddy refuses is 400 with
// DynamoDB's error and moves nothing, bad requests are 400 or 404, never
// a 500; two updates of one item in one commit both apply (what a
// TransactWriteItems could not hold).
func TestCommitRoute(t *testing.T) {
	_, s, arn := setup(t, false)
	var list struct{ Mappings []mappings.WorkerMapping }
	getJSON(t, s.URL()+"/eddy/workers/mappings", &list)
	if len(list.Mappings) != 1 || list.Mappings[0].Table != "orders" || list.Mappings[0].EventSourceArn != arn || list.Mappings[0].CodeHash == "" {
		t.Fatalf("worker mappings %+v", list.Mappings)
	}
	uuid := list.Mappings[0].UUID
	post := func(body string) (int, string) {
		t.Helper()
		resp, err := http.Post(s.URL()+"/eddy/workers/commit", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	add := func(pk string) string {
		return `{"Op":"UpdateItem","Request":{"TableName":"seen","Key":{"pk":{"S":"` + pk + `"}},"UpdateExpression":"ADD n :one","ExpressionAttributeValues":{":one":{"N":"1"}}}}`
	}
	commit := func(prev, next string, writes ...string) string {
		return `{"Mapping":"` + uuid + `","Shard":"sh1","Prev":"` + prev + `","Next":"` + next + `","Writes":[` + strings.Join(writes, ",") + `]}`
	}
	if code, body := post(commit("0", "5", add("x"), add("x"))); code != http.StatusOK || !strings.Contains(body, `"000000000000000000005"`) {
		t.Fatalf("first commit: %d %s", code, body)
	}
	if n := num(t, scan(t, s, "seen", "pk")["x"]["n"]); n != 2 {
		t.Fatalf("x.n = %d, want 2 (two updates of one item in one commit)", n)
	}
	if code, body := post(commit("0", "7", add("y"))); code != http.StatusConflict || !strings.Contains(body, `"Checkpoint":"000000000000000000005"`) {
		t.Fatalf("stale Prev: %d %s, want 409 with the checkpoint", code, body)
	}
	if code, body := post(commit("5", "9", add("y"), `{"Op":"UpdateItem","Request":{"TableName":"nope","Key":{"pk":{"S":"z"}}}}`)); code != http.StatusBadRequest || !strings.Contains(body, "ResourceNotFoundException") {
		t.Fatalf("refused write: %d %s, want 400 ResourceNotFoundException", code, body)
	}
	if code, body := post(commit("5", "3")); code != http.StatusBadRequest {
		t.Fatalf("a checkpoint moved back: %d %s, want 400", code, body)
	}
	if code, body := post(commit("5", "9", `{"Op":"Scan","Request":{"TableName":"seen"}}`)); code != http.StatusBadRequest {
		t.Fatalf("a Scan: %d %s, want 400", code, body)
	}
	if _, ok := scan(t, s, "seen", "pk")["y"]; ok {
		t.Fatal("y written by a commit that was refused")
	}
	var ck struct {
		Checkpoint string
		Exists     bool
	}
	getJSON(t, s.URL()+"/eddy/workers/checkpoints/"+uuid+"/sh1", &ck)
	if ck.Checkpoint != "000000000000000000005" || !ck.Exists {
		t.Fatalf("checkpoint %+v, want 5", ck)
	}
	if code, body := post(`{"Mapping":`); code != http.StatusBadRequest {
		t.Fatalf("malformed: %d %s, want 400", code, body)
	}
	if code, body := post(`{"Mapping":"no-such-mapping","Shard":"s","Prev":"0","Next":"1"}`); code != http.StatusNotFound {
		t.Fatalf("unknown mapping: %d %s, want 404", code, body)
	}
}

// TestWorkerFilters: a mapping's FilterCriteria apply on a worker as in
// eddy: the function gets only the records that match, and the ones that
// do not settle with their batch (the lane's checkpoint moves past them,
// so the records after them run).
func TestWorkerFilters(t *testing.T) {
	ns, s, arn := setup(t, true)
	deployViewlog(t, s, "failing", map[string]string{"SEEN_TABLE": "seen2"})
	s.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("failing"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(2), FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{
			{Pattern: aws.String(`{"dynamodb":{"NewImage":{"v":{"N":["2","4"]}}}}`)}}}})
	runWorkerInProcess(t, ns, s)
	for v := 1; v <= 5; v++ {
		writeRound(t, s, 1, v, 0)
	}
	// The unfiltered mapping has seen all five: the records reached the
	// workers.
	eddytest.WaitFor(t, "the unfiltered mapping to see every version", 120*time.Second, func() bool {
		l, _ := scan(t, s, "seen", "pk")["o0"]["vs"].(*ddbtypes.AttributeValueMemberL)
		return l != nil && len(l.Value) == 5
	})
	eddytest.WaitFor(t, "the filtered mapping to see version 4", 120*time.Second, func() bool {
		l, _ := scan(t, s, "seen2", "pk")["o0"]["vs"].(*ddbtypes.AttributeValueMemberL)
		return l != nil && len(l.Value) >= 2
	})
	l := scan(t, s, "seen2", "pk")["o0"]["vs"].(*ddbtypes.AttributeValueMemberL)
	if len(l.Value) != 2 || num(t, l.Value[0]) != 2 || num(t, l.Value[1]) != 4 {
		t.Fatalf("the filtered mapping saw versions %v, want 2 and 4", l.Value)
	}
}
