package examples_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/outbox"
)

// The examples are built once per test process into buildDir.
var (
	buildMu  sync.Mutex
	buildDir string
	builds   = map[string]*built{}
)

type built struct {
	once sync.Once
	code []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// build compiles wasm-examples/<name> as users are told to:
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared.
func build(t *testing.T, name string) []byte {
	t.Helper()
	buildMu.Lock()
	b, ok := builds[name]
	if !ok {
		b = &built{}
		builds[name] = b
	}
	var err error
	if buildDir == "" {
		buildDir, err = os.MkdirTemp("", "eddy-examples-")
	}
	dir := buildDir
	buildMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	b.once.Do(func() {
		out := filepath.Join(dir, name+".wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+name)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build %s: %w\n%s", name, err, msg)
			return
		}
		b.code, b.err = os.ReadFile(out)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.code
}

type env struct {
	t   *testing.T
	ctx context.Context
	srv *eddytest.Server
	ddb *dynamodb.Client
	lam *lambda.Client
}

func start(t *testing.T, opts server.Options) *env {
	opts.Mappings = mappings.Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}
	srv := eddytest.Start(t, opts)
	return &env{t: t, ctx: context.Background(), srv: srv, ddb: srv.DDB, lam: lambda.NewFromConfig(srv.Config())}
}

func (e *env) restart() {
	e.srv.Restart()
	e.ddb = e.srv.DDB
	e.lam = lambda.NewFromConfig(e.srv.Config())
}

// table creates a table keyed by hash (S) and, if not empty, rng (S), with a
// NEW_AND_OLD_IMAGES stream; it returns the stream ARN.
func (e *env) table(name, hash, rng string) string {
	e.t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(hash), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	}
	if rng != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(rng), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange})
	}
	out, err := e.ddb.CreateTable(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateTable %s: %v", name, err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

// deploy creates function name from the example and maps the stream to it
// with ReportBatchItemFailures; it returns the mapping's UUID.
func (e *env) deploy(name, example, streamARN string, vars map[string]string) string {
	e.t.Helper()
	_, err := e.lam.CreateFunction(e.ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"),
		Code:        &ltypes.FunctionCode{ZipFile: build(e.t, example)},
		Environment: &ltypes.Environment{Variables: vars},
	})
	if err != nil {
		e.t.Fatalf("CreateFunction: %v", err)
	}
	out, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(name), EventSourceArn: aws.String(streamARN),
		StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(10),
		FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures},
	})
	if err != nil {
		e.t.Fatalf("CreateEventSourceMapping: %v", err)
	}
	return aws.ToString(out.UUID)
}

func (e *env) put(table string, item map[string]ddbtypes.AttributeValue) {
	e.t.Helper()
	if _, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		e.t.Fatalf("PutItem: %v", err)
	}
}

func (e *env) del(table string, key map[string]ddbtypes.AttributeValue) {
	e.t.Helper()
	if _, err := e.ddb.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}); err != nil {
		e.t.Fatalf("DeleteItem: %v", err)
	}
}

func (e *env) scan(table string) []map[string]ddbtypes.AttributeValue {
	e.t.Helper()
	var items []map[string]ddbtypes.AttributeValue
	p := dynamodb.NewScanPaginator(e.ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("Scan %s: %v", table, err)
		}
		items = append(items, out.Items...)
	}
	return items
}

// waitFor polls cond until it returns "" or the deadline passes; cond
// returns what is still wrong.
func (e *env) waitFor(d time.Duration, cond func() string) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %v: %s", d, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) result(uuid string) string {
	c, err := e.srv.Mappings().Get(uuid)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.LastProcessingResult
}

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func n(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: v} }

func str(av ddbtypes.AttributeValue) string {
	switch v := av.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberN:
		return v.Value
	}
	return fmt.Sprintf("%T", av)
}

// The audit table does not exist at first: every PutItem fails, the handler
// reports the record in batchItemFailures and the mapping retries. Once the
// table exists, every change has exactly one audit item with its images.
func TestAuditTrail(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	e := start(t, server.Options{SinkConfigs: []outbox.Config{{Name: "audit-log", Kind: "file", URL: logPath}}})
	arn := e.table("items", "pk", "sk")
	uuid := e.deploy("audit-trail", "audit-trail", arn, map[string]string{"AUDIT_TABLE": "audit", "AUDIT_SINK": "audit-log"})
	key := func(pk, sk string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": s(pk), "sk": s(sk)}
	}
	item := func(pk, sk, v string) map[string]ddbtypes.AttributeValue {
		it := key(pk, sk)
		it["v"] = s(v)
		return it
	}
	before := time.Now().Add(-time.Second).Unix()
	e.put("items", item("a", "1", "v1"))
	e.waitFor(10*time.Second, func() string {
		if r := e.result(uuid); r != "PROBLEM: Function call failed" {
			return "the handler to fail while the audit table is missing; last result " + r
		}
		return ""
	})
	e.put("items", item("b", "1", "v1"))
	e.put("items", item("a", "1", "v2"))
	e.del("items", key("b", "1"))
	e.table("audit", "itemKey", "seq")

	type change struct{ itemKey, event, oldV, newV string }
	want := []change{
		{"pk=a|sk=1", "INSERT", "", "v1"},
		{"pk=a|sk=1", "MODIFY", "v1", "v2"},
		{"pk=b|sk=1", "INSERT", "", "v1"},
		{"pk=b|sk=1", "REMOVE", "v1", ""},
	}
	var items []map[string]ddbtypes.AttributeValue
	image := func(it map[string]ddbtypes.AttributeValue, name string) string {
		img, ok := it[name].(*ddbtypes.AttributeValueMemberM)
		if !ok {
			return ""
		}
		if str(img.Value["pk"])+"|"+str(img.Value["sk"]) != strings.ReplaceAll(strings.ReplaceAll(str(it["itemKey"]), "pk=", ""), "sk=", "") {
			return "wrong key in " + name
		}
		return str(img.Value["v"])
	}
	e.waitFor(15*time.Second, func() string {
		items = e.scan("audit") // sorted by itemKey hash, then seq within
		sort.SliceStable(items, func(i, j int) bool { return str(items[i]["itemKey"]) < str(items[j]["itemKey"]) })
		var got []change
		for _, it := range items {
			got = append(got, change{str(it["itemKey"]), str(it["eventName"]), image(it, "oldImage"), image(it, "newImage")})
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("audit items %v, want %v (mapping: %s)", got, want, e.result(uuid))
		}
		return ""
	})
	for _, it := range items {
		at, err := strconv.ParseFloat(str(it["writtenAt"]), 64)
		if err != nil || int64(at) < before || int64(at) > time.Now().Unix()+1 {
			t.Errorf("writtenAt %q is not the time of the write", str(it["writtenAt"]))
		}
		if str(it["source"]) != "items" {
			t.Errorf("source %q", str(it["source"]))
		}
		if k, ok := it["keys"].(*ddbtypes.AttributeValueMemberM); !ok || len(k.Value) != 2 {
			t.Errorf("keys %#v", it["keys"])
		}
		if len(str(it["seq"])) != 21 {
			t.Errorf("seq %q is not a sequence number", str(it["seq"]))
		}
	}
	// The file sink holds each change once (the invocations that failed
	// while the audit table was missing emitted nothing that stayed).
	var lines []string
	e.waitFor(10*time.Second, func() string {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err.Error()
		}
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != len(want) {
			return fmt.Sprintf("%d lines in the audit log, want %d", len(lines), len(want))
		}
		return ""
	})
	seen := map[string]bool{}
	for _, l := range lines {
		var env struct {
			Op, ID, Table string
			Doc           struct{ EventName struct{ S string } }
		}
		if err := json.Unmarshal([]byte(l), &env); err != nil {
			t.Fatal(err)
		}
		if env.Op != "index" || env.Table != "items" || seen[env.ID] || env.Doc.EventName.S == "" {
			t.Fatalf("audit log line %s", l)
		}
		seen[env.ID] = true
	}
}

// Orders are inserted, changed (amount, customer or both) and deleted, with
// a restart in the middle; the view must equal a recomputation from the
// orders table.
func TestMaterializedView(t *testing.T) {
	e := start(t, server.Options{DataDir: t.TempDir()})
	arn := e.table("orders", "id", "")
	e.table("order_totals", "customer", "")
	uuid := e.deploy("totals", "materialized-view", arn, nil)
	order := func(i, cust int, amount string) {
		e.put("orders", map[string]ddbtypes.AttributeValue{"id": s(fmt.Sprintf("o%03d", i)), "customer": s(fmt.Sprintf("c%d", cust)), "amount": n(amount)})
	}
	amount := func(i int) string { return fmt.Sprintf("%d.%02d", 1+i*7%50, i*13%100) }
	for i := range 60 {
		order(i, i%5, amount(i))
	}
	e.put("orders", map[string]ddbtypes.AttributeValue{"id": s("note"), "text": s("not an order")})
	check := func() {
		e.waitFor(15*time.Second, func() string {
			want := map[string][2]*big.Rat{}
			for _, it := range e.scan("orders") {
				if it["customer"] == nil {
					continue
				}
				c := str(it["customer"])
				a, _ := new(big.Rat).SetString(str(it["amount"]))
				w := want[c]
				if w[0] == nil {
					w = [2]*big.Rat{new(big.Rat), new(big.Rat)}
				}
				w[0].Add(w[0], a)
				w[1].Add(w[1], big.NewRat(1, 1))
				want[c] = w
			}
			got := map[string][2]*big.Rat{}
			for _, it := range e.scan("order_totals") {
				tot, ok1 := new(big.Rat).SetString(str(it["total"]))
				cnt, ok2 := new(big.Rat).SetString(str(it["orders"]))
				if !ok1 || !ok2 {
					return fmt.Sprintf("bad view item %v", it)
				}
				if tot.Sign() == 0 && cnt.Sign() == 0 {
					continue // every order of the customer removed
				}
				got[str(it["customer"])] = [2]*big.Rat{tot, cnt}
			}
			if len(got) != len(want) {
				return fmt.Sprintf("view has %d customers, orders %d (mapping: %s)", len(got), len(want), e.result(uuid))
			}
			for c, w := range want {
				g, ok := got[c]
				if !ok {
					return fmt.Sprintf("customer %s: not in the view (mapping: %s)", c, e.result(uuid))
				}
				if g[0].Cmp(w[0]) != 0 || g[1].Cmp(w[1]) != 0 {
					return fmt.Sprintf("customer %s: view %s/%s, orders say %s/%s (mapping: %s)", c,
						g[0].FloatString(2), g[1].FloatString(0), w[0].FloatString(2), w[1].FloatString(0), e.result(uuid))
				}
			}
			return ""
		})
	}
	check()
	e.restart()
	for i := 0; i < 60; i += 3 {
		switch i % 4 {
		case 0:
			order(i, i%5, amount(i+1)) // new amount
		case 1:
			order(i, (i+1)%5, amount(i)) // new customer
		case 2:
			order(i, (i+2)%5, "0.5") // both
		case 3:
			order(i, i%5, amount(i)) // no change
		}
	}
	for i := 1; i < 60; i += 4 {
		e.del("orders", map[string]ddbtypes.AttributeValue{"id": s(fmt.Sprintf("o%03d", i))})
	}
	for i := 0; i < 60; i += 5 {
		e.del("orders", map[string]ddbtypes.AttributeValue{"id": s(fmt.Sprintf("o%03d", i))}) // c0's orders, some twice
	}
	check()
}

// recordingSink is a triggers.Sinks that records what is emitted; it fails
// the first failFirst emits.
type recordingSink struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	docs      []sinkDoc
}

type sinkDoc struct {
	Op    string         `json:"op"`
	Table string         `json:"table"`
	ID    string         `json:"id"`
	Seq   string         `json:"seq"`
	Doc   map[string]any `json:"doc"`
}

func (r *recordingSink) Emit(_ context.Context, sink string, doc []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.failFirst {
		return errors.New("search index unavailable")
	}
	if sink != "search" {
		return fmt.Errorf("no sink %q", sink)
	}
	d := json.NewDecoder(strings.NewReader(string(doc)))
	d.UseNumber()
	var sd sinkDoc
	if err := d.Decode(&sd); err != nil {
		return err
	}
	r.docs = append(r.docs, sd)
	return nil
}

// latest returns the last document per id, after checking that documents
// of one id arrive in sequence order (a retry may repeat one).
func (r *recordingSink) latest() (map[string]sinkDoc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]sinkDoc{}
	for _, d := range r.docs {
		if p, ok := out[d.ID]; ok && d.Seq < p.Seq {
			return nil, fmt.Errorf("%s: seq %s after %s", d.ID, d.Seq, p.Seq)
		}
		out[d.ID] = d
	}
	return out, nil
}

// The sink fails its first emits: the handler reports the record and the
// mapping retries. Each item's last document is its current state, as
// plain JSON, or a delete marker.
func TestSearchReplication(t *testing.T) {
	sink := &recordingSink{failFirst: 3}
	e := start(t, server.Options{Sinks: sink})
	arn := e.table("products", "pk", "")
	uuid := e.deploy("search-replication", "search-replication", arn, nil)
	e.put("products", map[string]ddbtypes.AttributeValue{
		"pk": s("p1"), "name": s("kettle"), "price": n("19.990"), "big": n("12345678901234567890.5"),
		"tags":  &ddbtypes.AttributeValueMemberSS{Value: []string{"kitchen"}},
		"dims":  &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"h": n("20"), "l": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{s("x"), &ddbtypes.AttributeValueMemberBOOL{Value: true}}}}},
		"gone":  &ddbtypes.AttributeValueMemberNULL{Value: true},
		"bytes": &ddbtypes.AttributeValueMemberB{Value: []byte("hi")},
	})
	e.put("products", map[string]ddbtypes.AttributeValue{"pk": s("p2"), "name": s("toaster")})
	e.put("products", map[string]ddbtypes.AttributeValue{"pk": s("p3"), "name": s("mug")})
	e.put("products", map[string]ddbtypes.AttributeValue{"pk": s("p3"), "name": s("big mug"), "stock": n("4")})
	e.del("products", map[string]ddbtypes.AttributeValue{"pk": s("p2")})

	want := map[string]sinkDoc{
		"pk=p1": {Op: "index", Table: "products", ID: "pk=p1", Doc: map[string]any{
			"pk": "p1", "name": "kettle", "price": json.Number("19.99"), "big": json.Number("12345678901234567890.5"),
			"tags": []any{"kitchen"}, "dims": map[string]any{"h": json.Number("20"), "l": []any{"x", true}},
			"gone": nil, "bytes": "aGk=",
		}},
		"pk=p2": {Op: "delete", Table: "products", ID: "pk=p2"},
		"pk=p3": {Op: "index", Table: "products", ID: "pk=p3", Doc: map[string]any{"pk": "p3", "name": "big mug", "stock": json.Number("4")}},
	}
	e.waitFor(15*time.Second, func() string {
		got, err := sink.latest()
		if err != nil {
			t.Fatal(err)
		}
		for id, d := range got {
			if len(d.Seq) != 21 {
				return fmt.Sprintf("%s: seq %q", id, d.Seq)
			}
			d.Seq = ""
			got[id] = d
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("documents %v, want %v (mapping: %s)", got, want, e.result(uuid))
		}
		return ""
	})
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.calls <= sink.failFirst {
		t.Fatalf("%d emits, the sink failed the first %d", sink.calls, sink.failFirst)
	}
}
