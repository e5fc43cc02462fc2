package dlq_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

func vals(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// TestRetriesExhausted: without bisect the whole batch is one entry with
// every record, Lambda's record, the error and the log tail.
func TestRetriesExhausted(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad"})
	in := []string{"a0", "bad", "a1"}
	for _, v := range in {
		e.put("src", "k", v)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(2)})
	en := e.entries(uuid, 1)[0]
	e.put("src", "k", "after")
	waitFor(t, "the shard to move on", 10*time.Second, func() bool { return slices.Contains(e.sink.vs(), "after") })
	e.caughtUp(uuid)
	if es, _ := e.srv.DLQ().Entries(uuid); len(es) != 1 {
		t.Fatalf("%d entries, want 1", len(es))
	}
	r := en.Record
	if r.Version != "1.0" || r.RequestContext.Condition != dlq.RetryAttemptsExhausted || r.RequestContext.ApproximateInvokeCount != 3 ||
		r.ResponseContext.FunctionError != "Unhandled" || r.ResponseContext.StatusCode != 200 || r.ResponseContext.ExecutedVersion != "$LATEST" ||
		r.DDBStreamBatchInfo.BatchSize != 3 || r.DDBStreamBatchInfo.StreamArn != arn || r.DDBStreamBatchInfo.ShardID == "" ||
		r.RequestContext.FunctionArn == "" || r.Timestamp == "" {
		t.Fatalf("record %+v", r)
	}
	if got := vs(t, en); !slices.Equal(got, in) {
		t.Fatalf("records %v, want %v", got, in)
	}
	if en.Records[0].Seq.String() != r.DDBStreamBatchInfo.StartSequenceNumber || en.Records[2].Seq.String() != r.DDBStreamBatchInfo.EndSequenceNumber {
		t.Fatalf("seqs %v vs %+v", en.Records, r.DDBStreamBatchInfo)
	}
	if !strings.Contains(en.LastError, "poison record bad") || en.LogTail == "" {
		t.Fatalf("lastError %q logTail %q", en.LastError, en.LogTail)
	}
	if en.Destination != "" || en.Delivery != nil {
		t.Fatalf("no destination named, got %q %+v", en.Destination, en.Delivery)
	}
}

// TestBisect: with bisect on, only the poison record is dead-lettered.
func TestBisect(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad"})
	all := vals("a", 8)
	all[5] = "bad"
	for _, v := range all {
		e.put("src", "k", v)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		BisectBatchOnFunctionError: aws.Bool(true), MaximumRetryAttempts: aws.Int32(1)})
	e.entries(uuid, 1)
	e.caughtUp(uuid)
	es, _ := e.srv.DLQ().Entries(uuid)
	if len(es) != 1 || !slices.Equal(vs(t, es[0]), []string{"bad"}) || es[0].Record.DDBStreamBatchInfo.BatchSize != 1 {
		t.Fatalf("entries %+v, want the poison record alone", es)
	}
}

// TestRecordAge: records older than MaximumRecordAgeInSeconds go to the
// store with RecordAgeExceeded, without an invocation.
func TestRecordAge(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", nil)
	for _, v := range vals("old", 3) {
		e.put("src", "k", v)
	}
	e.skew.Store(int64(2 * time.Minute)) // the mapping's clock is 2 minutes ahead
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRecordAgeInSeconds: aws.Int32(60)})
	en := e.entries(uuid, 1)
	e.caughtUp(uuid)
	n := 0
	for _, x := range en {
		if x.Record.RequestContext.Condition != dlq.RecordAgeExceeded || x.Record.RequestContext.ApproximateInvokeCount != 0 {
			t.Fatalf("record %+v", x.Record)
		}
		n += len(x.Records)
	}
	if n != 3 || len(e.sink.vs()) != 0 {
		t.Fatalf("%d records dead-lettered, %d delivered; want 3, 0", n, len(e.sink.vs()))
	}
}

// TestRedriveAfterFix: the function is fixed (UpdateFunctionCode), the
// entry is redriven over HTTP, its records reach the function once and the
// entry is emptied; a second redrive is refused.
func TestRedriveAfterFix(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad"})
	for _, v := range []string{"bad", "b1"} {
		e.put("src", "k1", v)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(1)})
	en := e.entries(uuid, 1)
	e.caughtUp(uuid)
	if len(en) != 1 || !slices.Equal(vs(t, en[0]), []string{"bad"}) {
		t.Fatalf("entries %+v", en)
	}
	id := en[0].ID
	base := e.srv.URL()

	// Still broken: the redrive fails, the record stays.
	var out struct {
		Message string     `json:"message"`
		Entry   *dlq.Entry `json:"entry"`
	}
	var got dlq.Entry
	if code := httpDo(t, base, "POST", fmt.Sprintf("/eddy/dlq/entries/%d/redrive", id), &got); code != 200 ||
		got.Redrive == nil || got.Redrive.State != dlq.RedriveFailed || len(got.Records) != 1 {
		t.Fatalf("redrive of a broken function: %d %+v", code, got.Redrive)
	}

	fixed, err := triggerstest.Build("dlqfixed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.lam.UpdateFunctionCode(e.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("f"), ZipFile: fixed}); err != nil {
		t.Fatal(err)
	}
	before := len(e.sink.vs())
	got = dlq.Entry{}
	if code := httpDo(t, base, "POST", fmt.Sprintf("/eddy/dlq/entries/%d/redrive", id), &got); code != 200 {
		t.Fatalf("redrive: %d", code)
	}
	if got.Redrive.State != dlq.RedriveDone || len(got.Records) != 0 || got.Redrive.Count != 2 || got.Redrive.Delivered != 1 {
		t.Fatalf("after redrive: %+v records %d", got.Redrive, len(got.Records))
	}
	if d := e.sink.vs()[before:]; !slices.Equal(d, []string{"bad"}) {
		t.Fatalf("redrive delivered %v", d)
	}
	if code := httpDo(t, base, "POST", fmt.Sprintf("/eddy/dlq/entries/%d/redrive", id), &out); code != 409 {
		t.Fatalf("second redrive: %d %s", code, out.Message)
	}
	stored, _ := e.srv.DLQ().Get(id)
	if stored.Redrive.State != dlq.RedriveDone || len(stored.Records) != 0 {
		t.Fatalf("stored %+v", stored.Redrive)
	}
	var list struct{ Entries []dlq.Summary }
	if httpDo(t, base, "GET", "/eddy/dlq/entries?mapping="+uuid, &list); len(list.Entries) != 1 || list.Entries[0].Redrive != "done" {
		t.Fatalf("list %+v", list)
	}
	var del struct{ Deleted int }
	if httpDo(t, base, "DELETE", "/eddy/dlq/entries", &del); del.Deleted != 1 {
		t.Fatalf("purge %+v", del)
	}
	if code := httpDo(t, base, "GET", fmt.Sprintf("/eddy/dlq/entries/%d", id), &out); code != 404 {
		t.Fatalf("get after purge: %d", code)
	}
}

// TestRedrivePartialAndBatching: a redrive goes through the mapping's
// rules: batches of BatchSize, partial batch responses keep exactly the
// failed records.
func TestRedrivePartial(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "x02"})
	in := vals("x", 5)
	for _, v := range in {
		e.put("src", "k", v)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(5)})
	en := e.entries(uuid, 1)[0]
	e.caughtUp(uuid)
	// Now report x03 failed through a partial batch response instead, with
	// batches of 2.
	if _, err := e.lam.UpdateFunctionConfiguration(e.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f"),
		Environment: &ltypes.Environment{Variables: map[string]string{"PARTIAL_ON": "x03"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.lam.UpdateEventSourceMapping(e.ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), BatchSize: aws.Int32(2),
		FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures}}); err != nil {
		t.Fatal(err)
	}
	before := len(e.sink.vs())
	got, err := e.srv.DLQ().Redrive(e.ctx, en.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Redrive.State != dlq.RedriveFailed || !slices.Equal(vs(t, got), []string{"x03"}) {
		t.Fatalf("after redrive: %+v %v", got.Redrive, vs(t, got))
	}
	// x00 x01 | x02 x03 (x03 fails: retried from x03) | x04 ...
	calls := e.sink.vs()[before:]
	if len(calls) < 2 || calls[0] != "x00" || calls[1] != "x01" || !slices.Contains(calls, "x04") || count(calls, "x02") != 1 {
		t.Fatalf("redrive calls %v", calls)
	}
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
