package lambdaapi_test

// Invoke answers AWS Lambda gave, as localstack's validated snapshot tests
// recorded them (tests/aws/services/lambda_/test_lambda.snapshot.json:
// TestLambdaFeatures::test_invoke_exceptions, test_invocation_type_event,
// test_invocation_type_dry_run, test_invocation_with_logs,
// test_invocation_type_no_return_payload; TestLambdaAliases::
// test_lambda_alias_moving; TestLambdaBehavior::test_lambda_invoke_with_timeout;
// TestLambdaErrors::test_lambda_runtime_exit_segfault, test_lambda_handler_error,
// test_lambda_invoke_payload_encoding_error; TestLambdaBaseFeatures::
// test_lambda_large_response, test_lambda_too_large_response). Only the
// account, region, names and request ids differ.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

type invokeResp struct {
	rawResp
	header http.Header
}

// invokeRaw POSTs body to /2015-03-31/functions/{fn}/invocations with the
// given headers; fn may end in "?Qualifier=...".
func (e *env) invokeRaw(t *testing.T, fn string, headers map[string]string, body []byte) invokeResp {
	t.Helper()
	fn, query, _ := strings.Cut(fn, "?")
	if query != "" {
		query = "?" + query
	}
	req, err := http.NewRequest("POST", e.srv.URL+"/2015-03-31/functions/"+fn+"/invocations"+query, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := invokeResp{rawResp{status: resp.StatusCode, errTyp: resp.Header.Get("X-Amzn-Errortype"), raw: string(b)}, resp.Header}
	_ = json.Unmarshal(b, &r.body)
	return r
}

// keys lists the members of a JSON object, sorted.
func keys(t *testing.T, raw string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestAWSInvokeSnapshot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:"
	code := guest(t, "kitchen")
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("inv"), Code: &types.FunctionCode{ZipFile: code}})
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("slow"), Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(1)})
	// A handler that returns without writing a response.
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("quiet"), Code: &types.FunctionCode{ZipFile: wasmModule(true, []byte{0x41, 0x00})}})
	if _, err := e.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("inv")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("inv"), Name: aws.String("alias1"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	echo := []byte(`{"action":"echo"}`)

	t.Run("not found", func(t *testing.T) {
		// test_invoke_exceptions (recorded 24-11-2025): the unqualified
		// function is named by its $LATEST ARN.
		r := e.invokeRaw(t, "doesnotexist", nil, nil)
		wantErr(t, "Invoke missing function", r.rawResp, 404, "ResourceNotFoundException",
			"Function not found: "+arn+"doesnotexist:$LATEST")
		// test_lambda_alias_moving: an alias that does not exist.
		r = e.invokeRaw(t, "inv?Qualifier=non-existent-alias", nil, echo)
		wantErr(t, "Invoke missing alias", r.rawResp, 404, "ResourceNotFoundException",
			"Function not found: "+arn+"inv:non-existent-alias")
		for _, typ := range []string{"Event", "DryRun"} {
			r = e.invokeRaw(t, "doesnotexist", map[string]string{"X-Amz-Invocation-Type": typ}, nil)
			if r.status != 404 || r.errTyp != "ResourceNotFoundException" {
				t.Errorf("%s missing function: %d %s %s", typ, r.status, r.errTyp, r.raw)
			}
		}
	})

	t.Run("request response", func(t *testing.T) {
		// test_invocation_type_request_response: 200, ExecutedVersion, no
		// FunctionError.
		r := e.invokeRaw(t, "inv", map[string]string{"X-Amz-Invocation-Type": "RequestResponse"}, echo)
		if r.status != 200 || r.header.Get("X-Amz-Executed-Version") != "$LATEST" || r.header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("RequestResponse: %d %v %s", r.status, r.header, r.raw)
		}
		// test_lambda_alias_moving: an alias runs its version.
		r = e.invokeRaw(t, "inv?Qualifier=alias1", nil, echo)
		if r.status != 200 || r.header.Get("X-Amz-Executed-Version") != "1" {
			t.Errorf("alias: %d %v", r.status, r.header)
		}
	})

	t.Run("event", func(t *testing.T) {
		// test_invocation_type_event: 202, empty payload, no ExecutedVersion.
		r := e.invokeRaw(t, "inv", map[string]string{"X-Amz-Invocation-Type": "Event"}, echo)
		if r.status != 202 || r.raw != "" || r.header.Get("X-Amz-Executed-Version") != "" || r.header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("Event: %d %v %q", r.status, r.header, r.raw)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		// test_invocation_type_dry_run: 204, empty payload, no ExecutedVersion.
		r := e.invokeRaw(t, "inv", map[string]string{"X-Amz-Invocation-Type": "DryRun"}, echo)
		if r.status != 204 || r.raw != "" || r.header.Get("X-Amz-Executed-Version") != "" {
			t.Errorf("DryRun: %d %v %q", r.status, r.header, r.raw)
		}
	})

	t.Run("no return payload", func(t *testing.T) {
		// test_invocation_type_no_return_payload: the payload is null.
		r := e.invokeRaw(t, "quiet", nil, nil)
		if r.status != 200 || r.raw != "null" || r.header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("no payload: %d %v %q", r.status, r.header, r.raw)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		// test_lambda_invoke_with_timeout (recorded 25-11-2025) and
		// test_lambda_runtime_exit_segfault: exactly errorType and
		// errorMessage, the message prefixed with the request id.
		r := e.invokeRaw(t, "slow", nil, []byte(`{"action":"loop"}`))
		id := r.header.Get("X-Amzn-Requestid")
		if r.status != 200 || r.header.Get("X-Amz-Function-Error") != "Unhandled" || r.header.Get("X-Amz-Executed-Version") != "$LATEST" ||
			keys(t, r.raw) != "errorMessage,errorType" || r.body["errorType"] != "Sandbox.Timedout" ||
			r.body["errorMessage"] != "RequestId: "+id+" Error: Task timed out after 1.00 seconds" {
			t.Errorf("timeout: %d %v %s", r.status, r.header, r.raw)
		}
	})

	t.Run("log tail", func(t *testing.T) {
		// test_invocation_with_logs: LogResult is base64 of START, the
		// function's output, END and REPORT, which on a cold start (only)
		// ends with Init Duration.
		e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("cold"), Code: &types.FunctionCode{ZipFile: code}})
		for _, initRe := range []string{`Init Duration: [0-9]+\.[0-9]{2} ms\t`, ""} {
			r := e.invokeRaw(t, "cold", map[string]string{"X-Amz-Log-Type": "Tail"}, []byte(`{"action":"log"}`))
			logs, err := base64.StdEncoding.DecodeString(r.header.Get("X-Amz-Log-Result"))
			if err != nil {
				t.Fatal(err)
			}
			id := regexp.QuoteMeta(r.header.Get("X-Amzn-Requestid"))
			re := regexp.MustCompile(`^START RequestId: ` + id + ` Version: \$LATEST\n(?s:.*)END RequestId: ` + id + `\n` +
				`REPORT RequestId: ` + id + `\tDuration: [0-9]+\.[0-9]{2} ms\tBilled Duration: [0-9]+ ms\tMemory Size: 128 MB\tMax Memory Used: [0-9]+ MB\t` + initRe + `\n$`)
			if !re.Match(logs) {
				t.Errorf("logs (init %q): %q", initRe, logs)
			}
		}
		// Without LogType there is no LogResult.
		if r := e.invokeRaw(t, "inv", nil, echo); r.header.Get("X-Amz-Log-Result") != "" {
			t.Errorf("LogResult without Tail: %v", r.header)
		}
	})

	t.Run("response size", func(t *testing.T) {
		// test_lambda_large_response: a 6 MiB response is served;
		// test_lambda_too_large_response: over 6291556 bytes the invocation
		// fails, and the function keeps serving. The echo guest writes each
		// '<' of doc as \u003c, so a 1 MB request makes a 6 MB response.
		// Its own function with a generous timeout: building 6 MB in the
		// guest must not hit the default 3 s on a loaded machine.
		e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("inv-big"), Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(120)})
		sized := func(n int) invokeResp {
			t.Helper()
			base := len(e.invokeRaw(t, "inv-big", nil, []byte(`{"action":"echo","doc":""}`)).raw)
			k, j := (n-base)/6, (n-base)%6
			return e.invokeRaw(t, "inv-big", nil, []byte(`{"action":"echo","doc":"`+strings.Repeat("a", j)+strings.Repeat("<", k)+`"}`))
		}
		if r := sized(6291556); r.status != 200 || len(r.raw) != 6291556 || r.header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("6291556-byte response: %d %v %d bytes", r.status, r.header, len(r.raw))
		}
		for i := 0; i < 2; i++ {
			r := sized(6291557)
			if r.status != 200 || r.header.Get("X-Amz-Function-Error") != "Unhandled" || r.header.Get("X-Amz-Executed-Version") != "$LATEST" ||
				r.raw != `{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}` {
				t.Errorf("too large response %d: %d %v %.300s", i, r.status, r.header, r.raw)
			}
		}
		// The instance is kept: the next call is warm (no Init Duration).
		r := e.invokeRaw(t, "inv-big", map[string]string{"X-Amz-Log-Type": "Tail"}, echo)
		if r.status != 200 || r.header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("after a too large response: %d %s", r.status, r.raw)
		}
		if tail, err := base64.StdEncoding.DecodeString(r.header.Get("X-Amz-Log-Result")); err != nil ||
			!strings.Contains(string(tail), "REPORT RequestId") || strings.Contains(string(tail), "Init Duration") {
			t.Errorf("after a too large response, a cold start or no REPORT: %q %v", tail, err)
		}
	})

	t.Run("invalid payload", func(t *testing.T) {
		// test_lambda_invoke_payload_encoding_error: 400
		// InvalidRequestContentException; AWS's message goes on with its
		// JSON parser's own words, so only the prefix is compared.
		const prefix = "Could not parse request body into json: Could not parse payload into json: "
		for _, p := range []string{"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt", "\x99\xeb,j\x07\xa1zYh", "{not json"} {
			for _, typ := range []string{"RequestResponse", "Event"} {
				r := e.invokeRaw(t, "inv", map[string]string{"X-Amz-Invocation-Type": typ}, []byte(p))
				msg, _ := r.body["message"].(string)
				if r.status != 400 || r.errTyp != "InvalidRequestContentException" || r.body["Type"] != "User" || !strings.HasPrefix(msg, prefix) {
					t.Errorf("%s %q: %d %s %s", typ, p, r.status, r.errTyp, r.raw)
				}
			}
		}
	})

	t.Run("request too large", func(t *testing.T) {
		// Not in the snapshots: AWS's documented 6 MiB synchronous limit.
		// An Event over every asynchronous limit is refused too, not
		// accepted and dropped.
		big := []byte(`{"doc":"` + strings.Repeat("a", 7<<20) + `"}`)
		r := e.invokeRaw(t, "inv", nil, big)
		if r.status != 413 || !strings.Contains(r.raw, "Request must be smaller than 6291456 bytes for the InvokeFunction operation") {
			t.Errorf("sync: %d %s", r.status, r.raw)
		}
		if r := e.invokeRaw(t, "inv", map[string]string{"X-Amz-Invocation-Type": "Event"}, big); r.status != 413 {
			t.Errorf("Event: %d %s", r.status, r.raw)
		}
	})

	t.Run("handler error", func(t *testing.T) {
		// test_lambda_handler_error: 200, X-Amz-Function-Error Unhandled,
		// ExecutedVersion, and errorMessage/errorType in the payload. (AWS's
		// Python runtime adds requestId and stackTrace; the payload is the
		// runtime's, here the Go guest SDK's, which writes these two, as
		// AWS's Go runtime does.)
		r := e.invokeRaw(t, "inv", nil, []byte(`{"action":"fail"}`))
		if r.status != 200 || r.header.Get("X-Amz-Function-Error") != "Unhandled" || r.header.Get("X-Amz-Executed-Version") != "$LATEST" ||
			r.body["errorMessage"] != "the handler said no" || r.body["errorType"] != "HandlerError" {
			t.Errorf("handler error: %d %v %s", r.status, r.header, r.raw)
		}
	})
}
