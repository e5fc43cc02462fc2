package lambdaapi_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/lambdaapi"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/triggers"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// tinyZip is a zip holding a tiny valid eddy-abi-v1 module.
func tinyCode() string {
	return base64.StdEncoding.EncodeToString(triggerstest.Module{MemoryMin: 1}.Bytes())
}

// TestTimeoutOutOfRange: a Timeout that overflowed time.Duration
// (18446744075 s wrapped to about 1 s) and one past Lambda's 900 s are
// refused with Lambda's ValidationException (issue 13, finding 8), by
// CreateFunction and UpdateFunctionConfiguration alike.
//
// AWS's message, as CloudFormation relayed it for Timeout 3000
// (covidatlas/li#575): "1 validation error detected: Value '3000' at
// 'timeout' failed to satisfy constraint: Member must have value less than
// or equal to 900".
func TestTimeoutOutOfRange(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		timeout int64
		msg     string
	}{
		{18446744075, "1 validation error detected: Value '18446744075' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{901, "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{0, "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	} {
		r := e.raw(t, http.MethodPost, "", map[string]any{"FunctionName": "f", "Role": "r", "Timeout": tc.timeout,
			"Code": map[string]any{"ZipFile": tinyCode()}})
		wantErr(t, "CreateFunction", r, http.StatusBadRequest, "ValidationException", tc.msg)
	}
	if r := e.raw(t, http.MethodPost, "", map[string]any{"FunctionName": "f", "Role": "r", "Timeout": 900,
		"Code": map[string]any{"ZipFile": tinyCode()}}); r.status != http.StatusCreated {
		t.Fatalf("Timeout 900: %d %s", r.status, r.raw)
	}
	r := e.raw(t, http.MethodPut, "/f/configuration", map[string]any{"Timeout": int64(18446744075)})
	wantErr(t, "UpdateFunctionConfiguration", r, http.StatusBadRequest, "ValidationException",
		"1 validation error detected: Value '18446744075' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900")
}

// TestReservedEnvironmentKeys: CreateFunction and
// UpdateFunctionConfiguration refuse Lambda's reserved environment keys
// with its InvalidParameterValueException (the recorded text; eddy lists
// the keys sorted) and store nothing; TZ and other keys are accepted.
func TestReservedEnvironmentKeys(t *testing.T) {
	e := newEnv(t)
	const msg = "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: "
	r := e.raw(t, http.MethodPost, "", map[string]any{"FunctionName": "f", "Role": "r",
		"Environment": map[string]any{"Variables": map[string]string{"AWS_REGION": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_ACCESS_KEY_ID": "z", "MINE": "1"}},
		"Code":        map[string]any{"ZipFile": tinyCode()}})
	wantErr(t, "CreateFunction", r, http.StatusBadRequest, "InvalidParameterValueException", msg+"AWS_ACCESS_KEY_ID, AWS_REGION, AWS_SECRET_ACCESS_KEY")
	if r := e.raw(t, http.MethodGet, "/f", nil); r.status != http.StatusNotFound {
		t.Fatalf("the refused function exists: %d %s", r.status, r.raw)
	}
	if r := e.raw(t, http.MethodPost, "", map[string]any{"FunctionName": "f", "Role": "r",
		"Environment": map[string]any{"Variables": map[string]string{"TZ": "UTC", "MINE": "1"}},
		"Code":        map[string]any{"ZipFile": tinyCode()}}); r.status != http.StatusCreated {
		t.Fatalf("TZ and MINE: %d %s", r.status, r.raw)
	}
	r = e.raw(t, http.MethodPut, "/f/configuration", map[string]any{"Environment": map[string]any{"Variables": map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "4096"}}})
	wantErr(t, "UpdateFunctionConfiguration", r, http.StatusBadRequest, "InvalidParameterValueException", msg+"AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
	r = e.raw(t, http.MethodGet, "/f/configuration", nil)
	if r.status != http.StatusOK || !strings.Contains(r.raw, `"MINE":"1"`) || strings.Contains(r.raw, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
		t.Fatalf("after the refused update: %d %s", r.status, r.raw)
	}
}

// bombZip is a zip of one entry name whose deflated stream inflates to
// size bytes of zeros (size a multiple of 1 MiB) without the test
// compressing them: one sync-flushed MiB of zeros, repeated (its
// back-references only ever see zeros), then an empty final block. declared
// is the uncompressed size the headers claim.
func bombZip(t *testing.T, name string, size, declared uint64) []byte {
	t.Helper()
	var chunk bytes.Buffer
	fw, _ := flate.NewWriter(&chunk, flate.BestCompression)
	_, _ = fw.Write(make([]byte, 1<<20))
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate,
		CompressedSize64: uint64(chunk.Len())*(size>>20) + 5, UncompressedSize64: declared, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < size>>20; i++ {
		_, _ = w.Write(chunk.Bytes())
	}
	_, _ = w.Write([]byte{0x01, 0x00, 0x00, 0xff, 0xff})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZipBomb: CreateFunction and UpdateFunctionCode refuse a small zip
// holding a huge .wasm before inflating it (issue 13, finding 1: a 1 MB
// zip of a 1 GiB .wasm took 11 s and +1.6 GB before its 413), with Lambda's
// InvalidParameterValueException "Unzipped size must be smaller than N
// bytes" (N: eddy's MaxCodeSize for the module, Lambda's 262144000 for the
// whole archive; aws/chalice#2081, serverless/serverless#6792 quote it).
// Declared sizes are checked first and never trusted: the inflated bytes
// are counted as they are read.
func TestZipBomb(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	limitMsg := fmt.Sprintf("Unzipped size must be smaller than %d bytes", e.host.Options().MaxCodeSize)
	wantRefused := func(what string, err error, msg string) {
		t.Helper()
		var ae *types.InvalidParameterValueException
		if !errors.As(err, &ae) || aws.ToString(ae.Message) != msg {
			t.Errorf("%s: %v, want InvalidParameterValueException %q", what, err, msg)
		}
	}
	allocated := func(f func()) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		return b.TotalAlloc - a.TotalAlloc
	}

	bomb := bombZip(t, "bomb.wasm", 1<<30, 1<<30)
	t.Logf("bomb: %d bytes of zip, 1 GiB inflated", len(bomb))
	var err error
	n := allocated(func() {
		_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("bomb"),
			Role: aws.String("r"), Code: &types.FunctionCode{ZipFile: bomb}})
	})
	wantRefused("honest 1 GiB", err, "Unzipped size must be smaller than 262144000 bytes")
	if n > 64<<20 {
		t.Errorf("refusing the bomb allocated %d MB", n>>20)
	}
	// Under the archive's 250 MB but over the module's limit.
	bomb = bombZip(t, "bomb.wasm", 100<<20, 100<<20)
	n = allocated(func() {
		_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("bomb"),
			Role: aws.String("r"), Code: &types.FunctionCode{ZipFile: bomb}})
	})
	wantRefused("honest 100 MiB", err, limitMsg)
	if n > 64<<20 {
		t.Errorf("refusing the 100 MiB bomb allocated %d MB", n>>20)
	}

	// Lying headers: declared 1 KiB, inflates to 64 MiB: reading stops at
	// the declaration (a corrupt archive), long before the stream ends.
	liar := bombZip(t, "liar.wasm", 64<<20, 1024)
	n = allocated(func() {
		_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("liar"),
			Role: aws.String("r"), Code: &types.FunctionCode{ZipFile: liar}})
	})
	var ze *types.InvalidZipFileException
	if !errors.As(err, &ze) {
		t.Errorf("lying sizes: %v", err)
	}
	if n > 64<<20 {
		t.Errorf("refusing the liar allocated %d MB", n>>20)
	}

	// The whole archive's declared size is held to Lambda's 250 MB, even
	// for entries eddy would never read.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("f.wasm")
	_, _ = w.Write(triggerstest.Module{MemoryMin: 1}.Bytes())
	w, _ = zw.CreateRaw(&zip.FileHeader{Name: "junk.bin", Method: zip.Store, UncompressedSize64: 300 << 20, CompressedSize64: 0})
	_ = zw.Close()
	_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("junk"),
		Role: aws.String("r"), Code: &types.FunctionCode{ZipFile: buf.Bytes()}})
	wantRefused("300 MB declared", err, "Unzipped size must be smaller than 262144000 bytes")

	// UpdateFunctionCode applies the same bounds.
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("f"), Code: &types.FunctionCode{ZipFile: triggerstest.Module{MemoryMin: 1}.Bytes()}})
	n = allocated(func() {
		_, err = e.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("f"), ZipFile: bomb})
	})
	wantRefused("UpdateFunctionCode", err, limitMsg)
	if n > 64<<20 {
		t.Errorf("UpdateFunctionCode allocated %d MB", n>>20)
	}

	// Paths that escape the archive and too many entries are refused.
	buf.Reset()
	zw = zip.NewWriter(&buf)
	w, _ = zw.Create("../f.wasm")
	_, _ = w.Write(triggerstest.Module{MemoryMin: 1}.Bytes())
	_ = zw.Close()
	_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("escape"),
		Role: aws.String("r"), Code: &types.FunctionCode{ZipFile: buf.Bytes()}})
	if !errors.As(err, &ze) {
		t.Errorf("../f.wasm: %v", err)
	}
	buf.Reset()
	zw = zip.NewWriter(&buf)
	for i := 0; i < 5000; i++ {
		_, _ = zw.Create(fmt.Sprintf("%d", i))
	}
	w, _ = zw.Create("f.wasm")
	_, _ = w.Write(triggerstest.Module{MemoryMin: 1}.Bytes())
	_ = zw.Close()
	_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("many"),
		Role: aws.String("r"), Code: &types.FunctionCode{ZipFile: buf.Bytes()}})
	if !errors.As(err, &ze) {
		t.Errorf("5000 entries: %v", err)
	}
}

// blockingTables holds every table call until release is closed.
type blockingTables struct {
	release chan struct{}
	waiting atomic.Int32
}

func (b *blockingTables) Call(ctx context.Context, _ string, _ []byte) ([]byte, error) {
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	select {
	case <-b.release:
		return []byte(`{}`), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// limitedHost serves a triggers host with limits over httptest (its
// functions' table calls held until tables.release is closed) and returns
// a Lambda client for it; the host and server end with the test.
func limitedHost(t *testing.T, limits triggers.Limits) (*lambda.Client, *blockingTables) {
	t.Helper()
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tables := &blockingTables{release: make(chan struct{})}
	host, err := triggers.New(triggers.Deps{DB: db.KeySpace(store.SpaceFunctions), Tables: tables}, triggers.Options{Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	srv := httptest.NewServer(lambdaapi.NewHandler(host))
	t.Cleanup(srv.Close)
	return lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("eddy", "eddy", ""), RetryMaxAttempts: 1}), tables
}

// TestReservedConcurrency: Put/Get/DeleteFunctionConcurrency through the
// SDK, GetFunction's Concurrency, and Invoke's TooManyRequestsException
// (429, Reason) for RequestResponse and Event invocations past the limits.
func TestReservedConcurrency(t *testing.T) {
	client, tables := limitedHost(t, triggers.Limits{MaxConcurrency: 4, MinUnreservedConcurrency: 2})
	ctx := context.Background()
	code := triggerstest.Module{MemoryMin: 1, Imports: []triggerstest.Import{triggerstest.TableCall}, Handle: triggerstest.TableGetItem}.Bytes()
	if _, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("f"), Role: aws.String("r"),
		Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(60)}); err != nil {
		t.Fatal(err)
	}

	// Lambda's message, with this account's minimum (2 of 4).
	_, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("f"), ReservedConcurrentExecutions: aws.Int32(3)})
	var ip *types.InvalidParameterValueException
	if !errors.As(err, &ip) || aws.ToString(ip.Message) != "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2]." {
		t.Fatalf("reserve 3 of 4: %v", err)
	}
	put, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("f"), ReservedConcurrentExecutions: aws.Int32(1)})
	if err != nil || aws.ToInt32(put.ReservedConcurrentExecutions) != 1 {
		t.Fatalf("PutFunctionConcurrency: %v %v", err, put)
	}
	got, err := client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("f")})
	if err != nil || aws.ToInt32(got.ReservedConcurrentExecutions) != 1 {
		t.Fatalf("GetFunctionConcurrency: %v %v", err, got)
	}
	fn, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")})
	if err != nil || fn.Concurrency == nil || aws.ToInt32(fn.Concurrency.ReservedConcurrentExecutions) != 1 {
		t.Fatalf("GetFunction Concurrency: %v %+v", err, fn)
	}

	// One invocation holds the reserved slot; the next is throttled.
	done := make(chan error, 1)
	go func() {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f")})
		done <- err
	}()
	for tables.waiting.Load() != 1 {
		time.Sleep(5 * time.Millisecond)
	}
	_, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f")})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded ||
		aws.ToString(tm.Message) != "Rate Exceeded." {
		t.Fatalf("second Invoke: %v", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusTooManyRequests {
		t.Fatalf("second Invoke status: %v", err)
	}
	close(tables.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Reserved 0: even Event invocations are refused.
	if _, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("f"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	_, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f"), InvocationType: types.InvocationTypeEvent})
	if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
		t.Fatalf("Event to reserved 0: %v", err)
	}
	if _, err := client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	got, err = client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("f")})
	if err != nil || got.ReservedConcurrentExecutions != nil {
		t.Fatalf("after Delete: %v %v", err, got)
	}
	if _, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
}

// TestLoweredReservationKeepsItsSlots: through the SDK, a reservation
// lowered to 0 or removed while the function runs does not free its
// running invocation's slot for another function: with the account's 2
// slots in use, the next Invoke is TooManyRequestsException
// (ConcurrentInvocationLimitExceeded) until they end, as the account's
// concurrency is a maximum (docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
// eddy ran a third invocation here.
func TestLoweredReservationKeepsItsSlots(t *testing.T) {
	client, tables := limitedHost(t, triggers.Limits{MaxConcurrency: 2, MinUnreservedConcurrency: 1})
	ctx := context.Background()
	var wg sync.WaitGroup
	defer func() {
		close(tables.release)
		wg.Wait()
	}()
	code := triggerstest.Module{MemoryMin: 1, Imports: []triggerstest.Import{triggerstest.TableCall}, Handle: triggerstest.TableGetItem}.Bytes()
	for _, n := range []string{"a", "b"} {
		if _, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(n), Role: aws.String("r"),
			Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(60)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("a"), ReservedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// invoke returns the Invoke's error once it is answered, or nil once
	// it runs (waits in its table call with the running ones).
	invoke := func(name string, running int32) error {
		t.Helper()
		done := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name)})
			done <- err
		}()
		deadline := time.Now().Add(30 * time.Second)
		for {
			select {
			case err := <-done:
				return err
			default:
			}
			if tables.waiting.Load() > running {
				return nil
			}
			if time.Now().After(deadline) {
				t.Fatalf("Invoke %s neither answered nor running", name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := invoke("a", 0); err != nil {
		t.Fatal(err)
	}
	if err := invoke("b", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("a"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	var tm *types.TooManyRequestsException
	if err := invoke("b", 2); !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonConcurrentInvocationLimitExceeded {
		t.Fatalf("b with a reserved 0 while a and b run: %v", err)
	}
	if _, err := client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if err := invoke("b", 2); !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonConcurrentInvocationLimitExceeded {
		t.Fatalf("b with a's reservation removed while a and b run: %v", err)
	}
}

// TestModuleIntakeE2E: through the SDK, CreateFunction refuses a module
// whose declared memory is larger than its MemorySize (issue 13, finding 2)
// or that imports a function eddy does not provide (finding 7), naming
// them; a module whose _initialize traps answers every Invoke with its init
// error at once, not "Task timed out after 10.00 seconds" (finding 7).
func TestModuleIntakeE2E(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	create := func(name string, code []byte, mem int32) error {
		_, err := e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String("r"),
			Code: &types.FunctionCode{ZipFile: code}, MemorySize: aws.Int32(mem)})
		return err
	}
	var ip *types.InvalidParameterValueException
	err := create("huge", triggerstest.Module{MemoryMin: 16384}.Bytes(), 128)
	if !errors.As(err, &ip) || !strings.Contains(aws.ToString(ip.Message), "initial memory of 16384 pages (1024 MB), more than its MemorySize of 128 MB") {
		t.Fatalf("16384 pages under 128 MB: %v", err)
	}
	err = create("sock", triggerstest.Module{MemoryMin: 1, Imports: []triggerstest.Import{{Module: "wasi_snapshot_preview1", Name: "sock_open"}}}.Bytes(), 128)
	if !errors.As(err, &ip) || !strings.Contains(aws.ToString(ip.Message), "wasi_snapshot_preview1.sock_open") {
		t.Fatalf("sock_open import: %v", err)
	}
	if err := create("trapinit", triggerstest.Module{MemoryMin: 1, Init: triggerstest.Unreachable}.Bytes(), 128); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := e.invoke(t, "trapinit", "", `{}`)
	if r.funcErr != "Unhandled" || r.payload["errorType"] != "Runtime.InitError" ||
		!strings.Contains(r.raw, "Init error: Runtime trapped: ") || !strings.Contains(r.raw, "wasm error: unreachable") || strings.Contains(r.raw, "timed out") {
		t.Fatalf("trapping _initialize: %s", r.raw)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("init error took %v", d)
	}
}

// TestCodeRequestTooLarge: a CreateFunction or UpdateFunctionCode request
// past Lambda's 69905067 bytes (a 50 MB zip in base64) is refused as
// Lambda does: 413 RequestEntityTooLargeException "Request must be smaller
// than 69905067 bytes for the CreateFunction operation".
func TestCodeRequestTooLarge(t *testing.T) {
	e := newEnv(t)
	body := func() io.Reader {
		return io.MultiReader(strings.NewReader(`{"FunctionName":"f","Role":"r","ZipFile":"`),
			io.LimitReader(zeros{}, 69905067), strings.NewReader(`","Code":{}}`))
	}
	for _, tc := range []struct{ method, path, op string }{
		{http.MethodPost, "/2015-03-31/functions", "CreateFunction"},
		{http.MethodPut, "/2015-03-31/functions/f/code", "UpdateFunctionCode"},
	} {
		req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, body())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := `"message":"Request must be smaller than 69905067 bytes for the ` + tc.op + ` operation"`
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("X-Amzn-Errortype") != "RequestEntityTooLargeException" ||
			!strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s %s", tc.op, resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), b)
		}
	}
}

// zeros reads as an endless run of 'A' (base64 of zero bytes).
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}
