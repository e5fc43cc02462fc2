// Package audittrailas_test builds the AssemblyScript example with npm, as
// its README tells users to, and runs it in a real eddy.
package audittrailas_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/tetratelabs/wazero"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks"
)

var built struct {
	once       sync.Once
	code, trap []byte
	err        string
}

// build returns the example's .wasm, built once per test process: it
// installs the pinned packages (npm ci, cached under the user cache
// directory by the hash of package.json and package-lock.json) and runs
// npm run build on a copy of the sources.
func build(t *testing.T) []byte {
	t.Helper()
	buildAll(t)
	return built.code
}

// buildTrap returns testdata/trap.ts built with the example's asconfig.json.
func buildTrap(t *testing.T) []byte {
	t.Helper()
	buildAll(t)
	return built.trap
}

func buildAll(t *testing.T) {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed")
	}
	built.once.Do(func() {
		// A failing t.Fatal inside stops this goroutine; record it for
		// the next callers.
		built.err = "the first build failed"
		built.code, built.trap = buildOnce(t, npm)
		built.err = ""
	})
	if built.err != "" {
		t.Fatal(built.err)
	}
}

func buildOnce(t *testing.T, npm string) (code, trap []byte) {
	t.Helper()
	deps := installDeps(t, npm)
	work := t.TempDir()
	for _, f := range []string{"package.json", "asconfig.json", "assembly", "testdata"} {
		copyTree(t, f, filepath.Join(work, f))
	}
	if err := os.Symlink(filepath.Join(deps, "node_modules"), filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	run(t, 2*time.Minute, work, npm, "run", "build")
	run(t, 2*time.Minute, work, npm, "exec", "--", "asc", "testdata/trap.ts", "--target", "release", "--outFile", "build/trap.wasm")
	code, err := os.ReadFile(filepath.Join(work, "build", "audit-trail-as.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	trap, err = os.ReadFile(filepath.Join(work, "build", "trap.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return code, trap
}

// installDeps returns a directory holding node_modules as npm ci installs
// it from this example's lock file.
func installDeps(t *testing.T, npm string) string {
	t.Helper()
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = t.TempDir()
	}
	base = filepath.Join(base, "eddy-tests")
	dir := filepath.Join(base, "audit-trail-as-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "asc")); err == nil {
		return dir
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(base, "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp) // left over only if the rename below fails
	for _, f := range []string{"package.json", "package-lock.json"} {
		copyTree(t, f, filepath.Join(tmp, f))
	}
	run(t, 5*time.Minute, tmp, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "node_modules")); statErr != nil {
			t.Fatal(err)
		}
		// Another test process installed it first.
	}
	return dir
}

func run(t *testing.T, timeout time.Duration, dir, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 10 * time.Second // npm's children may hold the output open
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// copyTree copies the file or directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, strings.TrimPrefix(p, src))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkModule checks the module's shape against triggers/ABI.md: the
// marker, the handler () -> i32, memory, and imports only from eddy and
// wasi_snapshot_preview1 (no AssemblyScript env.abort).
func checkModule(t *testing.T, code []byte) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	exp := cm.ExportedFunctions()
	if _, ok := exp["eddy_abi_v1"]; !ok {
		t.Error("no eddy_abi_v1 export")
	}
	if h, ok := exp["handle"]; !ok || len(h.ParamTypes()) != 0 || len(h.ResultTypes()) != 1 {
		t.Error("no handle () -> i32 export")
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		t.Error("no memory export")
	}
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != "eddy" && mod != "wasi_snapshot_preview1" {
			t.Errorf("imports %s.%s: eddy allows only eddy and wasi_snapshot_preview1", mod, name)
		}
	}
}

// sink is the server's triggers.Sinks: it fails the first failFirst emits,
// then records every document.
type sink struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	docs      []envelope
}

type envelope struct {
	Op    string `json:"op"`
	ID    string `json:"id"`
	Seq   string `json:"seq"`
	Table string `json:"table"`
	Doc   struct {
		Event string         `json:"event"`
		Keys  map[string]any `json:"keys"`
		New   map[string]any `json:"new"`
		Old   map[string]any `json:"old"`
		At    json.Number    `json:"at"`
	} `json:"doc"`
}

func (s *sink) Emit(_ context.Context, name string, doc []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.failFirst {
		return errors.New("index unavailable")
	}
	if name != "audit-index" {
		return fmt.Errorf("no sink %q", name)
	}
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var e envelope
	if err := d.Decode(&e); err != nil {
		return fmt.Errorf("%v: %s", err, doc)
	}
	s.docs = append(s.docs, e)
	return nil
}

// byID returns the documents by id; a retried record may send its document
// again, which must then be the same.
func (s *sink) byID() (map[string]envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]envelope{}
	for _, d := range s.docs {
		if p, ok := out[d.ID]; ok && !reflect.DeepEqual(p, d) {
			return nil, fmt.Errorf("%s sent twice, differently: %+v and %+v", d.ID, p, d)
		}
		out[d.ID] = d
	}
	return out, nil
}

func zipWasm(t *testing.T, code []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("audit-trail-as.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(code); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// av converts an attribute value to the DynamoDB JSON a stream record
// carries, decoded into Go values ({"S":"x"} -> map[string]any{"S":"x"}).
func av(v ddbtypes.AttributeValue) any {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *ddbtypes.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *ddbtypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *ddbtypes.AttributeValueMemberM:
		return map[string]any{"M": item(v.Value)}
	case *ddbtypes.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, x := range v.Value {
			l[i] = av(x)
		}
		return map[string]any{"L": l}
	}
	return fmt.Sprintf("unexpected %T", v)
}

func item(it map[string]ddbtypes.AttributeValue) map[string]any {
	if it == nil {
		return nil
	}
	m := make(map[string]any, len(it))
	for k, v := range it {
		m[k] = av(v)
	}
	return m
}

func s(v string) *ddbtypes.AttributeValueMemberS { return &ddbtypes.AttributeValueMemberS{Value: v} }
func n(v string) *ddbtypes.AttributeValueMemberN { return &ddbtypes.AttributeValueMemberN{Value: v} }

// env is a running eddy with the example deployed as function
// "audit-trail-as".
type env struct {
	t   *testing.T
	ctx context.Context
	srv *eddytest.Server
	ddb *dynamodb.Client
	lam *lambda.Client
}

func start(t *testing.T, opts server.Options) *env {
	t.Helper()
	opts.Mappings = mappings.Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}
	srv := eddytest.Start(t, opts)
	return &env{t: t, ctx: context.Background(), srv: srv, ddb: srv.DDB, lam: lambda.NewFromConfig(srv.Config())}
}

// table creates a table keyed by hash and rng (both S) with a
// NEW_AND_OLD_IMAGES stream and returns the stream ARN.
func (e *env) table(name, hash, rng string) string {
	e.t.Helper()
	out, err := e.ddb.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(hash), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(rng), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange},
		},
		BillingMode:         ddbtypes.BillingModePayPerRequest,
		StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		e.t.Fatalf("CreateTable %s: %v", name, err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

// deploy creates function name from code (zipped, as the AWS CLI sends
// it) with vars as its environment.
func (e *env) deploy(name string, code []byte, vars map[string]string) {
	e.t.Helper()
	if _, err := e.lam.CreateFunction(e.ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"),
		Code:        &ltypes.FunctionCode{ZipFile: zipWasm(e.t, code)},
		Environment: &ltypes.Environment{Variables: vars},
	}); err != nil {
		e.t.Fatalf("CreateFunction: %v", err)
	}
}

// mapping maps the stream to the function as the README says (report
// failures, bisect, a retry limit) and returns the mapping's UUID.
func (e *env) mapping(streamARN string) string {
	e.t.Helper()
	m, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("audit-trail-as"), EventSourceArn: aws.String(streamARN),
		StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(10),
		FunctionResponseTypes:      []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures},
		MaximumRetryAttempts:       aws.Int32(100),
		BisectBatchOnFunctionError: aws.Bool(true),
	})
	if err != nil {
		e.t.Fatalf("CreateEventSourceMapping: %v", err)
	}
	return aws.ToString(m.UUID)
}

func (e *env) result(uuid string) string {
	c, err := e.srv.Mappings().Get(uuid)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.LastProcessingResult
}

func (e *env) put(table string, it map[string]ddbtypes.AttributeValue) {
	e.t.Helper()
	if _, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		e.t.Fatalf("PutItem: %v", err)
	}
}

func key(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": s(pk), "sk": s(sk)}
}

// with returns a copy of it with name set to v.
func with(it map[string]ddbtypes.AttributeValue, name string, v ddbtypes.AttributeValue) map[string]ddbtypes.AttributeValue {
	out := map[string]ddbtypes.AttributeValue{name: v}
	for n, x := range it {
		out[n] = x
	}
	return out
}

// TestAuditTrailAS deploys the AssemblyScript build through the Lambda API
// and maps a table's stream to it. The audit table is missing at first,
// so the first invocations fail and are retried; then the sink fails its
// first emits, which are retried too. In the end every change has exactly
// one audit item and one document, with the record's keys and images.
func TestAuditTrailAS(t *testing.T) {
	code := build(t)
	checkModule(t, code)

	sk := &sink{failFirst: 2}
	e := start(t, server.Options{Sinks: sk})
	ctx, ddb := e.ctx, e.ddb
	arn := e.table("items", "pk", "sk")
	e.deploy("audit-trail-as", code, map[string]string{"AUDIT_TABLE": "audit_log", "SINK": "audit-index"})

	// Not a stream event: a handler error, before any table call.
	inv, err := e.lam.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("audit-trail-as"), Payload: []byte(`{"hello":"world"}`)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if aws.ToString(inv.FunctionError) == "" || !strings.Contains(string(inv.Payload), `"errorType":"InvalidEvent"`) {
		t.Errorf("Invoke with a non-stream payload: FunctionError %q, payload %s", aws.ToString(inv.FunctionError), inv.Payload)
	}

	uuid := e.mapping(arn)
	put := func(it map[string]ddbtypes.AttributeValue) { t.Helper(); e.put("items", it) }
	a, b := key("a", "1"), key("b", "1")
	odd := key(`c "q" \ é 😀`, "2") // escapes and non-ASCII through the JSON code
	nested := &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
		"l": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{s("x\ny"), &ddbtypes.AttributeValueMemberBOOL{Value: true}}},
	}}

	before := time.Now().Add(-time.Second).Unix()
	put(with(a, "v", s("v1")))
	eddytest.WaitFor(t, "the handler to fail while the audit table is missing", 10*time.Second, func() bool {
		return e.result(uuid) == "PROBLEM: Function call failed"
	})
	put(with(b, "v", s("v1")))
	put(with(a, "v", s("v2")))
	if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: b}); err != nil {
		t.Fatalf("DeleteItem: %v", err)
	}
	oddItem := with(odd, "n", n("1.5"))
	oddItem["nested"] = nested
	put(oddItem)
	if _, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("items"), Key: odd, UpdateExpression: aws.String("SET n = n + :one"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": n("1")},
	}); err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	e.table("audit_log", "itemKey", "seq")

	type change struct {
		itemKey, event string
		keys, old, new map[string]ddbtypes.AttributeValue
	}
	oddUpdated := with(odd, "n", n("2.5"))
	oddUpdated["nested"] = nested
	want := []change{
		{"pk=a|sk=1", "INSERT", a, nil, with(a, "v", s("v1"))},
		{"pk=a|sk=1", "MODIFY", a, with(a, "v", s("v1")), with(a, "v", s("v2"))},
		{"pk=b|sk=1", "INSERT", b, nil, with(b, "v", s("v1"))},
		{"pk=b|sk=1", "REMOVE", b, with(b, "v", s("v1")), nil},
		{`pk=c "q" \ é 😀|sk=2`, "INSERT", odd, nil, oddItem},
		{`pk=c "q" \ é 😀|sk=2`, "MODIFY", odd, oddItem, oddUpdated},
	}

	// The audit table: one item per change, in sequence order per item.
	var audit []map[string]ddbtypes.AttributeValue
	str := func(it map[string]ddbtypes.AttributeValue, name string) string {
		switch v := it[name].(type) {
		case *ddbtypes.AttributeValueMemberS:
			return v.Value
		case *ddbtypes.AttributeValueMemberN:
			return v.Value
		}
		return ""
	}
	image := func(it map[string]ddbtypes.AttributeValue, name string) map[string]any {
		if m, ok := it[name].(*ddbtypes.AttributeValueMemberM); ok {
			return item(m.Value)
		}
		return nil
	}
	eddytest.WaitFor(t, "one audit item per change", 20*time.Second, func() bool {
		out, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("audit_log"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		audit = out.Items
		return len(audit) >= len(want)
	})
	sort.SliceStable(audit, func(i, j int) bool {
		if k1, k2 := str(audit[i], "itemKey"), str(audit[j], "itemKey"); k1 != k2 {
			return k1 < k2
		}
		return str(audit[i], "seq") < str(audit[j], "seq")
	})
	if len(audit) != len(want) {
		t.Fatalf("%d audit items, want %d: %v", len(audit), len(want), audit)
	}
	for i, w := range want {
		it := audit[i]
		got := fmt.Sprintf("%s %s keys=%v old=%v new=%v", str(it, "itemKey"), str(it, "eventName"), image(it, "keys"), image(it, "oldImage"), image(it, "newImage"))
		exp := fmt.Sprintf("%s %s keys=%v old=%v new=%v", w.itemKey, w.event, item(w.keys), item(w.old), item(w.new))
		if got != exp {
			t.Errorf("audit item %d:\n got %s\nwant %s", i, got, exp)
		}
		if seq := str(it, "seq"); len(seq) != 21 {
			t.Errorf("audit item %d: seq %q is not a sequence number", i, seq)
		}
		if str(it, "source") != "items" {
			t.Errorf("audit item %d: source %q", i, str(it, "source"))
		}
		at, err := strconv.ParseFloat(str(it, "writtenAt"), 64)
		if err != nil || int64(at) < before || int64(at) > time.Now().Unix()+1 {
			t.Errorf("audit item %d: writtenAt %q is not the time of the write", i, str(it, "writtenAt"))
		}
	}

	// The sink: one document per change (retries may repeat one), whose
	// envelope and contents match the audit item.
	var docs map[string]envelope
	eddytest.WaitFor(t, "one document per change", 10*time.Second, func() bool {
		docs, err = sk.byID()
		if err != nil {
			t.Fatal(err)
		}
		return len(docs) >= len(audit)
	})
	if len(docs) != len(audit) {
		t.Errorf("%d documents for %d changes", len(docs), len(audit))
	}
	for _, it := range audit {
		id := "items/" + str(it, "itemKey") + "/" + str(it, "seq")
		d, ok := docs[id]
		if !ok {
			t.Errorf("no document %q (have %v)", id, docs)
			continue
		}
		if d.Op != "index" || d.Seq != str(it, "seq") || d.Table != "items" {
			t.Errorf("%s: envelope op=%q seq=%q table=%q", id, d.Op, d.Seq, d.Table)
		}
		got := fmt.Sprintf("%s at=%s keys=%v old=%v new=%v", d.Doc.Event, d.Doc.At, d.Doc.Keys, d.Doc.Old, d.Doc.New)
		exp := fmt.Sprintf("%s at=%s keys=%v old=%v new=%v", str(it, "eventName"), str(it, "writtenAt"), image(it, "keys"), image(it, "oldImage"), image(it, "newImage"))
		if got != exp {
			t.Errorf("%s:\n got %s\nwant %s", id, got, exp)
		}
	}
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.calls <= sk.failFirst {
		t.Errorf("%d emits; the sink failed the first %d", sk.calls, sk.failFirst)
	}
}

// TestAuditTrailASOutbox runs the example with the defaults (table
// "audit", sink "audit") against eddy's own outbox and a file sink, as
// the README deploys it: the envelope must pass the outbox's checks, and
// each change arrives once, its seq as the document's version.
func TestAuditTrailASOutbox(t *testing.T) {
	code := build(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cfg, err := sinks.ParseFlag("audit=file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, server.Options{SinkConfigs: []outbox.Config{cfg}})
	arn := e.table("items", "pk", "sk")
	e.table("audit", "itemKey", "seq")
	e.deploy("audit-trail-as", code, nil)
	uuid := e.mapping(arn)

	a, b := key("a", "1"), key("b", "1")
	e.put("items", with(a, "v", s("v1")))
	e.put("items", with(b, "v", s("v1")))
	e.put("items", with(a, "v", s("v2")))
	if _, err := e.ddb.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: b}); err != nil {
		t.Fatalf("DeleteItem: %v", err)
	}

	type line struct {
		ID      string `json:"id"`
		Version uint64 `json:"version"`
		Table   string `json:"table"`
		Doc     struct {
			Event string `json:"event"`
		} `json:"doc"`
	}
	var lines []line
	eddytest.WaitFor(t, "four lines in the sink's file", 20*time.Second, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		lines = lines[:0]
		complete := string(b[:bytes.LastIndexByte(b, '\n')+1]) // not a line being written
		for _, l := range strings.Split(complete, "\n") {
			if l == "" {
				continue
			}
			var x line
			if err := json.Unmarshal([]byte(l), &x); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			lines = append(lines, x)
		}
		return len(lines) >= 4
	})
	var got []string
	for _, l := range lines {
		parts := strings.Split(l.ID, "/")
		seq, err := strconv.ParseUint(parts[len(parts)-1], 10, 64)
		if err != nil || seq != l.Version || l.Table != "items" {
			t.Errorf("line %+v: the id's sequence number is not the version", l)
		}
		got = append(got, strings.Join(parts[:len(parts)-1], "/")+" "+l.Doc.Event)
	}
	sort.Strings(got)
	want := []string{"items/pk=a|sk=1 INSERT", "items/pk=a|sk=1 MODIFY", "items/pk=b|sk=1 INSERT", "items/pk=b|sk=1 REMOVE"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("documents %q, want %q (mapping: %s)", got, want, e.result(uuid))
	}
	out, err := e.ddb.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String("audit"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 4 {
		t.Errorf("%d audit items, want 4", len(out.Items))
	}
}

// TestAbort: AssemblyScript's abort (here a failed assert) becomes a
// "panic:" line on stderr, which eddy quotes in the Runtime.Trap error and
// keeps in the function's log, as for a Go panic.
func TestAbort(t *testing.T) {
	code := buildTrap(t)
	checkModule(t, code)
	e := start(t, server.Options{})
	e.deploy("trap", code, nil)
	out, err := e.lam.Invoke(e.ctx, &lambda.InvokeInput{FunctionName: aws.String("trap"), Payload: []byte(`{}`), LogType: ltypes.LogTypeTail})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var fe struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(out.Payload, &fe); err != nil {
		t.Fatalf("%v: %s", err, out.Payload)
	}
	const panicLine = "panic: abort: input is never shorter than nothing at testdata/trap.ts:"
	if aws.ToString(out.FunctionError) != "Unhandled" || fe.ErrorType != "Runtime.Trap" || !strings.Contains(fe.ErrorMessage, panicLine) {
		t.Errorf("FunctionError %q, payload %s; want Unhandled, Runtime.Trap quoting %q", aws.ToString(out.FunctionError), out.Payload, panicLine)
	}
	tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tail), "about to fail") || !strings.Contains(string(tail), panicLine) {
		t.Errorf("log tail %q lacks the handler's line or the panic line", tail)
	}
}
