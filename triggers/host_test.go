package triggers_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/triggers"
	"github.com/eddydb/eddy/triggers/guest"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

func guestCode(tb testing.TB, name string) []byte {
	tb.Helper()
	code, err := triggerstest.Build(name)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// memDB returns the functions space of an in-memory store.
func memDB(tb testing.TB) triggers.KV {
	tb.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db.KeySpace(store.SpaceFunctions)
}

// fakeTables records calls and answers from a canned map.
type fakeTables struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeTables) Call(_ context.Context, op string, req []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+string(req))
	if strings.Contains(string(req), "missing") {
		return nil, &triggers.TableError{Type: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", Message: "Requested resource not found"}
	}
	return []byte(`{"Item":{"pk":{"S":"a"},"n":{"N":"7"}}}`), nil
}

func newHost(tb testing.TB, deps triggers.Deps) *triggers.Host {
	tb.Helper()
	if deps.DB == nil {
		deps.DB = memDB(tb)
	}
	h, err := triggers.New(deps, triggers.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}

func TestHostInvokeAndRestart(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	dir := t.TempDir()
	tables := &fakeTables{}
	h, err := triggers.New(triggers.Deps{DB: db, Tables: tables}, triggers.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "k", Code: guestCode(t, "kitchen"),
		Environment: map[string]string{"GREETING": "hi"}}); err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(ctx, "k", "", []byte(`{"action":"get","table":"t","key":{"pk":{"S":"a"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.FunctionError != "" || !strings.Contains(string(res.Payload), `"n":{"N":"7"}`) {
		t.Fatalf("get: %s %s\n%s", res.FunctionError, res.Payload, res.Logs)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen over the same DB and cache dir: the function survives.
	h2, err := triggers.New(triggers.Deps{DB: db, Tables: tables}, triggers.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	res, err = h2.Invoke(ctx, "k", "", []byte(`{"action":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Greeting string }
	if err := json.Unmarshal(res.Payload, &out); err != nil || out.Greeting != "hi" {
		t.Fatalf("echo after restart: %s %v", res.Payload, err)
	}
	if ents, _ := os.ReadDir(dir + "/wasm-cache"); len(ents) == 0 {
		t.Fatal("no compilation cache on disk")
	}
}

// TestHostMemorySizeEnv: a function sees its MemorySize in
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, as on Lambda (a reserved variable: the
// function's own value is ignored), and the guest SDK sets Go's soft
// memory limit to 3/4 of it (guest/gc_wasip1.go), unless the function
// sets GOGC: a handler keeping 40 of its 64 MB live while it churns
// through garbage then completes, where Go's pacing alone (collect at
// twice the live heap) runs out of memory.
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
func TestHostMemorySizeEnv(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	code := guestCode(t, "kitchen")
	for _, c := range []struct {
		name      string
		env       map[string]string
		want      string
		churnFail string // the churn's FunctionError
	}{
		{"limited", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1"}, `{"gogc":100,"memlimit":50331648,"memsize":"64"}`, ""},
		{"gogc", map[string]string{"GOGC": "100"}, `{"gogc":100,"memlimit":9223372036854775807,"memsize":"64"}`, "Unhandled"},
	} {
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: c.name, Code: code, MemoryMB: 64, Environment: c.env}); err != nil {
			t.Fatal(err)
		}
		res, err := h.Invoke(ctx, c.name, "", []byte(`{"action":"runtime"}`))
		if err != nil {
			t.Fatal(err)
		}
		if res.FunctionError != "" || string(res.Payload) != c.want {
			t.Errorf("%s: %s %s, want %s", c.name, res.FunctionError, res.Payload, c.want)
		}
		if res, err = h.Invoke(ctx, c.name, "", []byte(`{"action":"churn","mb":40}`)); err != nil {
			t.Fatal(err)
		}
		if res.FunctionError != c.churnFail || (c.churnFail != "" && !strings.Contains(string(res.Payload), "OutOfMemory")) {
			t.Errorf("%s: churn: %q %s, want FunctionError %q", c.name, res.FunctionError, res.Payload, c.churnFail)
		}
	}
}

func TestHostTimeoutStopsLoop(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "k", Code: guestCode(t, "kitchen"), Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := h.Invoke(ctx, "k", "", []byte(`{"action":"loop"}`))
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("loop ran %v", el)
	}
	if res.FunctionError != "Unhandled" || !strings.Contains(string(res.Payload), "Sandbox.Timedout") {
		t.Fatalf("loop: %s", res.Payload)
	}
}

// TestHostInitNotInTimeout: a cold start's instantiation is bounded by
// InitTimeout, not by the function's Timeout, and is reported apart ("Init
// Duration"), as Lambda does: an init slower than the Timeout still runs the
// handler.
func TestHostInitNotInTimeout(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "slowinit", Code: guestCode(t, "kitchen"), Timeout: time.Second,
		Environment: map[string]string{"INIT_SLEEP_MS": "1500"}}); err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(ctx, "slowinit", "", []byte(`{"action":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.FunctionError != "" {
		t.Fatalf("cold start slower than the timeout: %s %s", res.FunctionError, res.Payload)
	}
	if !strings.Contains(string(res.Logs), "Init Duration: ") {
		t.Fatalf("no Init Duration in the REPORT line: %s", res.Logs)
	}
}

// TestConcurrentInvocations runs invocations in parallel on one function
// (one instance each) while another function times out.
func TestConcurrentInvocations(t *testing.T) {
	h := newHost(t, triggers.Deps{Tables: &fakeTables{}})
	ctx := context.Background()
	code := guestCode(t, "kitchen")
	// b loops until its 1 s timeout; a's invocations must not wait for it.
	// a's timeout is generous: on a loaded machine six cold starts share
	// the guests' CPU slots (triggers.Options.MaxRunningGuests), and
	// waiting for a slot counts against the timeout.
	for n, timeout := range map[string]time.Duration{"a": 20 * time.Second, "b": time.Second} {
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: n, Code: code, Timeout: timeout}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if res, err := h.Invoke(ctx, "b", "", []byte(`{"action":"loop"}`)); err != nil || res.FunctionError == "" {
			errs <- "loop did not fail"
		}
	}()
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				res, err := h.Invoke(ctx, "a", "", []byte(`{"action":"get","table":"t","key":{"pk":{"S":"a"}}}`))
				if err != nil || res.FunctionError != "" {
					errs <- "invoke failed: " + string(res.Payload)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestInvokeCheckOrder: Event and RequestResponse invocations check the
// payload before they look the function up, so both answer a bad payload
// to a missing function the same way.
func TestInvokeCheckOrder(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	if _, err := h.Invoke(context.Background(), "missing", "", []byte("{")); !errors.Is(err, triggers.ErrInvalidPayload) {
		t.Fatalf("Invoke: %v", err)
	}
	if err := h.InvokeAsync("missing", "", []byte("{")); !errors.Is(err, triggers.ErrInvalidPayload) {
		t.Fatalf("InvokeAsync: %v", err)
	}
}

type recordingSinks struct {
	mu   sync.Mutex
	docs []string
}

func (s *recordingSinks) Emit(_ context.Context, sink string, doc []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs = append(s.docs, sink+" "+string(doc))
	return nil
}

// TestCallMany: eddy-abi-v2's call_many runs a batch's writes and emits in
// order in one host call and stops at the first failure, which the guest
// gets as the error of that call (ABI.md).
func TestCallMany(t *testing.T) {
	tables, sinks := &fakeTables{}, &recordingSinks{}
	h := newHost(t, triggers.Deps{Tables: tables, Sinks: sinks})
	ctx := context.Background()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "k", Code: guestCode(t, "kitchen")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req, want string
		calls     []string
		docs      int
	}{
		{`{"action":"batch","table":"t","ops":["PutItem","emit","UpdateItem","DeleteItem"],"doc":{"a":1}}`, `{"calls":4,"done":4,"error":""}`,
			[]string{`PutItem {"TableName":"t","op":"PutItem"}`, `UpdateItem {"TableName":"t","op":"UpdateItem"}`, `DeleteItem {"TableName":"t","op":"DeleteItem"}`}, 1},
		{`{"action":"batch","table":"missing","ops":["PutItem","PutItem"]}`, `{"calls":2,"done":0,"error":"ResourceNotFoundException: Requested resource not found"}`,
			[]string{`PutItem {"TableName":"missing","op":"PutItem"}`}, 0},
		{`{"action":"batch","table":"t","ops":["PutItem","GetItem","PutItem"]}`, `{"calls":3,"done":1,"error":"UnknownOperationException: eddy.call_many does not support operation GetItem (only PutItem, UpdateItem, DeleteItem and emits)"}`,
			[]string{`PutItem {"TableName":"t","op":"PutItem"}`}, 0},
		{`{"action":"batch","table":"t","ops":[]}`, `{"calls":0,"done":0,"error":""}`, nil, 0},
	} {
		tables.calls, sinks.docs = nil, nil
		res, err := h.Invoke(ctx, "k", "", []byte(tc.req))
		if err != nil || res.FunctionError != "" {
			t.Fatalf("%s: %v %s", tc.req, err, res.Payload)
		}
		if string(res.Payload) != tc.want || !slices.Equal(tables.calls, tc.calls) || len(sinks.docs) != tc.docs {
			t.Errorf("%s:\n got %s, calls %q, docs %q\nwant %s, calls %q", tc.req, res.Payload, tables.calls, sinks.docs, tc.want, tc.calls)
		}
	}
}

// TestReusedStreamInGuest: guest.HandleStreamReused, which decodes each
// event into the previous invocation's records and maps, gives a handler
// what encoding/json makes of every event, invocation after invocation on
// one instance: attributes the previous record had and this one lacks are
// gone, absent images are nil, batches grow and shrink.
func TestReusedStreamInGuest(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "typed", Code: guestCode(t, "decode"), Handler: "echotyped"}); err != nil {
		t.Fatal(err)
	}
	rec := func(seq, newImg, oldImg string) string {
		s := `{"eventID":"` + seq + `","eventName":"MODIFY","dynamodb":{"SequenceNumber":"` + seq + `","SizeBytes":10,"Keys":{"pk":{"S":"k` + seq + `"}}`
		if newImg != "" {
			s += `,"NewImage":` + newImg
		}
		if oldImg != "" {
			s += `,"OldImage":` + oldImg
		}
		return s + `}}`
	}
	events := []string{
		`{"Records":[` + rec("1", `{"pk":{"S":"k1"},"v":{"N":"1"},"x":{"S":"gone later"}}`, `{"pk":{"S":"k1"}}`) + `,` +
			rec("2", `{"pk":{"S":"k2"},"m":{"M":{"k":{"BOOL":true}}}}`, "") + `]}`,
		`{"Records":[` + rec("3", `{"pk":{"S":"k3"},"v":{"N":"2"}}`, "") + `,` + rec("4", `{"pk":{"S":"k4"},"y":{"SS":["p","q"]}}`, `{"v":{"N":"9"}}`) + `,` +
			rec("5", `{"pk":{"S":"k5"}}`, `{"pk":{"S":"k5"}}`) + `]}`,
		`{"Records":[` + rec("6", "", `{"pk":{"S":"k6"},"v":{"N":"3"}}`) + `]}`,
	}
	for i, e := range events {
		res, err := h.Invoke(ctx, "typed", "", []byte(e))
		if err != nil || res.FunctionError != "" {
			t.Fatalf("event %d: %v %s", i, err, res.Payload)
		}
		var want guest.StreamEvent
		if err := json.Unmarshal([]byte(e), &want); err != nil {
			t.Fatal(err)
		}
		if w, _ := json.Marshal(want.Records); string(res.Payload) != string(w) {
			t.Errorf("event %d:\n got %s\nwant %s", i, res.Payload, w)
		}
	}
}

// TestEventIndexInGuest: a guest built with the SDK reads a stream event
// through the host's index (eddy-abi-v3's input_index) and reads exactly
// what scanning the JSON itself reads; input the host can not index
// (malformed) is still scanned, and fails as before.
func TestEventIndexInGuest(t *testing.T) {
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	code := guestCode(t, "decode")
	for _, name := range []string{"echo", "echoscan"} {
		if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: name, Code: code, Handler: name}); err != nil {
			t.Fatal(err)
		}
	}
	events := []string{
		`{"Records":[{"eventID":"1","eventName":"MODIFY","dynamodb":{"Keys":{"pk":{"S":"a\"b\u00e9"}},` +
			`"NewImage":{"pk":{"S":"a\"b\u00e9"},"n":{"N":"1.5"},"l":{"L":[{"M":{"x":{"BOOL":true}}},{"NULL":true}]},"s\u0041":{"SS":["x","y"]},"two":{"S":"x","N":"2"}},` +
			`"OldImage":{"pk":{"S":"a\"b\u00e9"},"gone":{"B":"AQI="}},"SequenceNumber":"000000000000000000042","SizeBytes":99}},` +
			`{"eventName":"REMOVE","dynamodb":{"Keys":{"pk":{"N":"7"}},"OldImage":{"pk":{"N":"7"}},"SequenceNumber":"43"}}]}`,
		`{"Records":[]}`,
		`{"other":1}`,
		// A warm instance reuses its index buffer, and "echo" its input
		// buffer (guest.RunRecords): a later, shorter event reads only
		// its own records.
		`{"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"z"}},"NewImage":{"pk":{"S":"z"}},"SequenceNumber":"44"}}]}`,
	}
	for _, ev := range events {
		got, err := h.Invoke(ctx, "echo", "", []byte(ev))
		if err != nil || got.FunctionError != "" {
			t.Fatalf("echo %s: %v %s", ev, err, got.Payload)
		}
		want, err := h.Invoke(ctx, "echoscan", "", []byte(ev))
		if err != nil || want.FunctionError != "" {
			t.Fatalf("echoscan %s: %v %s", ev, err, want.Payload)
		}
		g, ok := strings.CutPrefix(string(got.Payload), `{"indexed":true,`)
		w, ok2 := strings.CutPrefix(string(want.Payload), `{"indexed":false,`)
		if !ok || !ok2 || g != w {
			t.Errorf("%s:\nindexed %s\nscanned %s", ev, got.Payload, want.Payload)
		}
	}
	// Not an event: no index, the guest's own scan fails it.
	res, err := h.Invoke(ctx, "echo", "", []byte(`{"Records":[{"dynamodb":{"Keys":"x"}}]}`))
	if err != nil || res.FunctionError == "" || !strings.Contains(string(res.Payload), "Keys is not an object") {
		t.Fatalf("malformed event: %v %s", err, res.Payload)
	}
}
