package lambdaapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/delivery"
	"github.com/eddydb/eddy/lambdaapi"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/triggers"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// fakeTables is a tiny in-memory DynamoDB keyed by table and pk, recording
// every call. Table "missing" does not exist.
type fakeTables struct {
	mu    sync.Mutex
	calls []string
	items map[string]map[string]json.RawMessage // table/pk -> item
}

func (f *fakeTables) Call(_ context.Context, op string, req []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	var r struct {
		TableName                 string
		Key, Item                 map[string]json.RawMessage
		ExpressionAttributeValues map[string]json.RawMessage
	}
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, &triggers.TableError{Type: "com.amazon.coral.service#SerializationException", Message: err.Error()}
	}
	if r.TableName == "missing" {
		return nil, &triggers.TableError{Type: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", Message: "Requested resource not found"}
	}
	if f.items == nil {
		f.items = map[string]map[string]json.RawMessage{}
	}
	key := func(pk json.RawMessage) string { return r.TableName + "/" + string(pk) }
	switch op {
	case "PutItem":
		f.items[key(r.Item["pk"])] = r.Item
		return []byte(`{}`), nil
	case "GetItem":
		it, ok := f.items[key(r.Key["pk"])]
		if !ok {
			return []byte(`{}`), nil
		}
		return json.Marshal(map[string]any{"Item": it})
	case "UpdateItem":
		it := f.items[key(r.Key["pk"])]
		it["n"] = json.RawMessage(`{"N":"1"}`)
		return json.Marshal(map[string]any{"Attributes": it})
	case "DeleteItem":
		delete(f.items, key(r.Key["pk"]))
		return []byte(`{}`), nil
	case "Query":
		var items []any
		for k, it := range f.items {
			if k == key(r.ExpressionAttributeValues[":pk"]) {
				items = append(items, it)
			}
		}
		return json.Marshal(map[string]any{"Items": items, "Count": len(items), "ScannedCount": len(items)})
	}
	return nil, errors.New("unexpected op " + op)
}

func (f *fakeTables) item(table, pk string) map[string]json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.items[table+`/{"S":"`+pk+`"}`]
}

type fakeSinks struct {
	mu   sync.Mutex
	docs map[string][]string
}

func (f *fakeSinks) Emit(_ context.Context, sink string, doc []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.docs == nil {
		f.docs = map[string][]string{}
	}
	f.docs[sink] = append(f.docs[sink], string(doc))
	return nil
}

func (f *fakeSinks) get(sink string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.docs[sink]...)
}

type env struct {
	host   *triggers.Host
	srv    *httptest.Server
	client *lambda.Client
	tables *fakeTables
	sinks  *fakeSinks
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{tables: &fakeTables{}, sinks: &fakeSinks{}}
	e.host, err = triggers.New(triggers.Deps{DB: db.KeySpace(store.SpaceFunctions), Tables: e.tables, Sinks: e.sinks}, triggers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(lambdaapi.NewHandler(e.host)) // listens on 127.0.0.1
	e.client = lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("eddy", "eddy", ""),
		RetryMaxAttempts: 1,
	})
	t.Cleanup(func() {
		e.srv.Close()
		_ = e.host.Close()
		_ = db.Close()
	})
	return e
}

func guest(t *testing.T, name string) []byte {
	t.Helper()
	code, err := triggerstest.Build(name)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func zipOf(t *testing.T, name string, code []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(code)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) create(t *testing.T, in *lambda.CreateFunctionInput) *lambda.CreateFunctionOutput {
	t.Helper()
	in.Role = aws.String("arn:aws:iam::000000000000:role/ignored")
	out, err := e.client.CreateFunction(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", aws.ToString(in.FunctionName), err)
	}
	return out
}

type invoked struct {
	payload map[string]any
	raw     string
	funcErr string
	logs    string
	version string
}

func (e *env) invoke(t *testing.T, name, qualifier, payload string) invoked {
	t.Helper()
	in := &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload), LogType: types.LogTypeTail}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := e.client.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("Invoke %s %s: %v", name, payload, err)
	}
	logs, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	r := invoked{raw: string(out.Payload), funcErr: aws.ToString(out.FunctionError), logs: string(logs), version: aws.ToString(out.ExecutedVersion)}
	_ = json.Unmarshal(out.Payload, &r.payload)
	return r
}

func TestFunctionLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := guest(t, "kitchen")

	cfg := e.create(t, &lambda.CreateFunctionInput{
		FunctionName: aws.String("k"),
		Runtime:      types.RuntimeProvidedal2023,
		Code:         &types.FunctionCode{ZipFile: zipOf(t, "kitchen.wasm", code)},
		Environment:  &types.Environment{Variables: map[string]string{"GREETING": "hello"}},
	})
	sum := sha256.Sum256(code)
	if got, want := aws.ToString(cfg.CodeSha256), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("CodeSha256 %s, want %s", got, want)
	}
	// Lambda names $LATEST by the unqualified ARN in CreateFunction's answer.
	if aws.ToString(cfg.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:k" ||
		aws.ToInt32(cfg.Timeout) != 3 || aws.ToInt32(cfg.MemorySize) != 128 || cfg.State != types.StateActive ||
		aws.ToString(cfg.Handler) != "handle" || aws.ToString(cfg.Version) != "$LATEST" || cfg.CodeSize != int64(len(code)) {
		t.Errorf("config: %+v", cfg)
	}

	t.Run("event and environment", func(t *testing.T) {
		r := e.invoke(t, "k", "", `{"action":"echo","table":"t1"}`)
		in, _ := r.payload["input"].(map[string]any)
		if r.funcErr != "" || in["table"] != "t1" || r.payload["greeting"] != "hello" || r.version != "$LATEST" {
			t.Fatalf("echo: %s (%s)", r.raw, r.funcErr)
		}
		if !strings.Contains(r.logs, "START RequestId:") || !strings.Contains(r.logs, "REPORT RequestId:") {
			t.Fatalf("logs: %q", r.logs)
		}
	})

	t.Run("table calls", func(t *testing.T) {
		r := e.invoke(t, "k", "", `{"action":"put","table":"t","item":{"pk":{"S":"a"},"v":{"S":"x"}}}`)
		if r.payload["error"] != "" {
			t.Fatalf("put: %s", r.raw)
		}
		if it := e.tables.item("t", "a"); string(it["v"]) != `{"S":"x"}` {
			t.Fatalf("write not visible in the table: %v", it)
		}
		r = e.invoke(t, "k", "", `{"action":"get","table":"t","key":{"pk":{"S":"a"}}}`)
		if item, _ := r.payload["item"].(map[string]any); item == nil || item["v"].(map[string]any)["S"] != "x" {
			t.Fatalf("get: %s", r.raw)
		}
		r = e.invoke(t, "k", "", `{"action":"update","table":"t","key":{"pk":{"S":"a"}}}`)
		if !strings.Contains(r.raw, `"n":{"N":"1"}`) {
			t.Fatalf("update: %s", r.raw)
		}
		r = e.invoke(t, "k", "", `{"action":"query","table":"t","key":{"pk":{"S":"a"}}}`)
		if r.payload["count"] != float64(1) {
			t.Fatalf("query: %s", r.raw)
		}
		r = e.invoke(t, "k", "", `{"action":"delete","table":"t","key":{"pk":{"S":"a"}}}`)
		if r.payload["error"] != "" || e.tables.item("t", "a") != nil {
			t.Fatalf("delete: %s", r.raw)
		}
		r = e.invoke(t, "k", "", `{"action":"get","table":"missing","key":{"pk":{"S":"a"}}}`)
		if r.payload["error"] != "ResourceNotFoundException: Requested resource not found" {
			t.Fatalf("missing table: %s", r.raw)
		}
		r = e.invoke(t, "k", "", `{"action":"badop","table":"t"}`)
		if !strings.HasPrefix(r.payload["error"].(string), "UnknownOperationException") {
			t.Fatalf("badop: %s", r.raw)
		}
		e.tables.mu.Lock()
		calls := strings.Join(e.tables.calls, ",")
		e.tables.mu.Unlock()
		if calls != "PutItem,GetItem,UpdateItem,Query,DeleteItem,GetItem" {
			t.Fatalf("calls: %s", calls)
		}
	})

	t.Run("emit and log", func(t *testing.T) {
		r := e.invoke(t, "k", "", `{"action":"emit","doc":{"hello":"sink"}}`)
		if r.payload["error"] != "" {
			t.Fatalf("emit: %s", r.raw)
		}
		if docs := e.sinks.get("audit"); len(docs) != 1 || docs[0] != `{"hello":"sink"}` {
			t.Fatalf("sink: %v", docs)
		}
		r = e.invoke(t, "k", "", `{"action":"log"}`)
		if r.raw != `"logged"` || !strings.Contains(r.logs, "hello from the guest, action=log\n") || !strings.Contains(r.logs, "stderr line\n") {
			t.Fatalf("log: %s %q", r.raw, r.logs)
		}
	})

	t.Run("handler error", func(t *testing.T) {
		r := e.invoke(t, "k", "", `{"action":"fail"}`)
		if r.funcErr != "Unhandled" || r.payload["errorMessage"] != "the handler said no" || r.payload["errorType"] != "HandlerError" {
			t.Fatalf("fail: %s %s", r.funcErr, r.raw)
		}
	})

	t.Run("stream batch", func(t *testing.T) {
		e.create(t, &lambda.CreateFunctionInput{
			FunctionName: aws.String("streamer"), Handler: aws.String("stream"),
			Code: &types.FunctionCode{ZipFile: code}, // raw wasm is accepted too
		})
		ev := `{"Records":[
		 {"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024","dynamodb":{"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"}},"SequenceNumber":"100"}},
		 {"eventID":"2","eventName":"MODIFY","eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024","dynamodb":{"Keys":{"pk":{"S":"b"}},"NewImage":{"pk":{"S":"b"},"fail":{"BOOL":true}},"SequenceNumber":"200"}},
		 {"eventID":"3","eventName":"REMOVE","eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024","dynamodb":{"Keys":{"pk":{"S":"c"}},"SequenceNumber":"300"}}]}`
		r := e.invoke(t, "streamer", "", ev)
		if r.funcErr != "" || r.raw != `{"batchItemFailures":[{"itemIdentifier":"200"}]}` {
			t.Fatalf("stream: %s %s", r.funcErr, r.raw)
		}
		if ids, ok := delivery.BatchItemFailures([]byte(r.raw)); !ok || len(ids) != 1 || ids[0] != "200" {
			t.Fatalf("BatchItemFailures: %v %v", ids, ok)
		}
		if !strings.Contains(r.logs, "INSERT arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024 100 pk=a") {
			t.Fatalf("stream logs: %q", r.logs)
		}
		if docs := e.sinks.get("changes"); len(docs) != 1 || docs[0] != `{"pk":{"S":"a"}}` {
			t.Fatalf("changes: %v", docs)
		}
	})

	t.Run("versions and aliases", func(t *testing.T) {
		v1, err := e.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("k")})
		if err != nil || aws.ToString(v1.Version) != "1" {
			t.Fatalf("publish 1: %v %v", err, v1)
		}
		_, err = e.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String("k"),
			Environment:  &types.Environment{Variables: map[string]string{"GREETING": "hello", "FN_VERSION": "two"}},
			Timeout:      aws.Int32(5),
		})
		if err != nil {
			t.Fatal(err)
		}
		v2, err := e.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("k"), Description: aws.String("second")})
		if err != nil || aws.ToString(v2.Version) != "2" || aws.ToInt32(v2.Timeout) != 5 {
			t.Fatalf("publish 2: %v %+v", err, v2)
		}
		vs, err := e.client.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("k")})
		if err != nil || len(vs.Versions) != 3 || aws.ToString(vs.Versions[2].Version) != "2" {
			t.Fatalf("versions: %v %v", err, vs)
		}
		al, err := e.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("k"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
		if err != nil || aws.ToString(al.AliasArn) != "arn:aws:lambda:us-east-1:000000000000:function:k:live" {
			t.Fatalf("alias: %v %v", err, al)
		}
		r := e.invoke(t, "k", "live", `{"action":"echo"}`)
		if r.version != "1" || r.payload["version"] != "" {
			t.Fatalf("live->1: %s %s", r.version, r.raw)
		}
		if _, err := e.client.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("k"), Name: aws.String("live"), FunctionVersion: aws.String("2")}); err != nil {
			t.Fatal(err)
		}
		r = e.invoke(t, "k", "live", `{"action":"echo"}`)
		if r.version != "2" || r.payload["version"] != "two" {
			t.Fatalf("live->2: %s %s", r.version, r.raw)
		}
		if r := e.invoke(t, "k:1", "", `{"action":"echo"}`); r.version != "1" {
			t.Fatalf("k:1: %s", r.version)
		}
		ga, err := e.client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("k"), Name: aws.String("live")})
		if err != nil || aws.ToString(ga.FunctionVersion) != "2" {
			t.Fatalf("get alias: %v %v", err, ga)
		}
		la, err := e.client.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("k")})
		if err != nil || len(la.Aliases) != 1 {
			t.Fatalf("list aliases: %v %v", err, la)
		}
		// Version 2 is aliased: it can not be deleted; version 1 can.
		_, err = e.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("k"), Qualifier: aws.String("2")})
		var conflict *types.ResourceConflictException
		if !errors.As(err, &conflict) {
			t.Fatalf("delete aliased version: %v", err)
		}
		if _, err := e.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("k"), Qualifier: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
		_, err = e.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("k"), Qualifier: aws.String("1")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("deleted version: %v", err)
		}
		if _, err := e.client.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("k"), Name: aws.String("live")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("k"), Name: aws.String("live")}); !errors.As(err, &nf) {
			t.Fatalf("deleted alias: %v", err)
		}
	})

	t.Run("dry run, list, errors, delete", func(t *testing.T) {
		out, err := e.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("k"), InvocationType: types.InvocationTypeDryRun})
		if err != nil || out.StatusCode != 204 {
			t.Fatalf("dry run: %v %v", err, out)
		}
		p1, err := e.client.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1)})
		if err != nil || len(p1.Functions) != 1 || p1.NextMarker == nil || aws.ToString(p1.Functions[0].FunctionName) != "k" {
			t.Fatalf("list page 1: %v %+v", err, p1)
		}
		p2, err := e.client.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1), Marker: p1.NextMarker})
		if err != nil || len(p2.Functions) != 1 || p2.NextMarker != nil || aws.ToString(p2.Functions[0].FunctionName) != "streamer" {
			t.Fatalf("list page 2: %v %+v", err, p2)
		}
		_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("k"), Role: aws.String("r"), Code: &types.FunctionCode{ZipFile: code}})
		var conflict *types.ResourceConflictException
		if !errors.As(err, &conflict) {
			t.Fatalf("duplicate: %v", err)
		}
		_, err = e.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("k"), Payload: []byte("{not json")})
		var badContent *types.InvalidRequestContentException
		if !errors.As(err, &badContent) {
			t.Fatalf("bad payload: %v", err)
		}
		// The raw error shape.
		resp, err := http.Get(e.srv.URL + "/2015-03-31/functions/nope")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" ||
			string(body) != `{"Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope","Type":"User"}` {
			t.Fatalf("error shape: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if _, err := e.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("k")}); err != nil {
			t.Fatal(err)
		}
		_, err = e.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("k")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("invoke deleted: %v", err)
		}
	})
}
