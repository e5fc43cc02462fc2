package mappings_test

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/mappings"
)

func (e *env) failures(uuid string, n int) []mappings.FailureRecord {
	e.t.Helper()
	var fr []mappings.FailureRecord
	e.waitFor(strconv.Itoa(n)+" failure records", 10*time.Second, func() bool {
		var err error
		fr, err = e.srv.Mappings().Failures(uuid)
		if err != nil {
			e.t.Fatal(err)
		}
		return len(fr) >= n
	})
	return fr
}

func TestFailNTimesThenSucceed(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", map[string]string{"FAIL_TIMES": "2"})
	for _, v := range vals("a", 3) {
		e.put("src", "k", v, nil)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn)})
	e.caughtUp(uuid, 10*time.Second)
	calls := e.sink.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3 (2 failures, 1 success): %v", len(calls), calls)
	}
	for _, c := range calls {
		if !slices.Equal(c.Vs, vals("a", 3)) {
			t.Fatalf("retry delivered %v, want the whole batch again", c.Vs)
		}
	}
	if fr, _ := e.srv.Mappings().Failures(uuid); len(fr) != 0 {
		t.Fatalf("failure records %v", fr)
	}
}

func TestRetriesExhaustedGoToFailureStore(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", map[string]string{"FAIL_ON": "bad"})
	for _, v := range []string{"a0", "bad", "a1"} {
		e.put("src", "k", v, nil)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(2),
		DestinationConfig:    &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:000000000000:dlq")}}})
	fr := e.failures(uuid, 1)[0]
	if fr.RequestContext.Condition != "RetryAttemptsExhausted" || fr.RequestContext.ApproximateInvokeCount != 3 ||
		fr.DDBStreamBatchInfo.BatchSize != 3 || fr.DDBStreamBatchInfo.StreamArn != arn || fr.ResponseContext.FunctionError != "Unhandled" {
		t.Fatalf("failure record %+v", fr)
	}
	e.put("src", "k", "a2", nil) // the shard moved on
	e.waitFor("a2", 10*time.Second, func() bool { return slices.Contains(e.sink.vs(), "a2") })
	if n := len(e.sink.Calls()); n != 4 {
		t.Fatalf("%d calls, want 3 attempts + 1", n)
	}
	out, _ := e.lam.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	if d := out.DestinationConfig; d == nil || aws.ToString(d.OnFailure.Destination) != "arn:aws:sqs:us-east-1:000000000000:dlq" {
		t.Fatalf("DestinationConfig %+v", d)
	}
}

func TestBisectIsolatesPoisonRecord(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", map[string]string{"FAIL_ON": "bad"})
	all := vals("a", 8)
	all[5] = "bad"
	for _, v := range all {
		e.put("src", "k", v, nil)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		BisectBatchOnFunctionError: aws.Bool(true), MaximumRetryAttempts: aws.Int32(0)})
	fr := e.failures(uuid, 1)
	e.caughtUp(uuid, 5*time.Second)
	if len(fr) != 1 || fr[0].DDBStreamBatchInfo.BatchSize != 1 {
		t.Fatalf("failure records %+v, want the poison record alone", fr)
	}
	var ok []string
	for _, c := range e.sink.Calls() {
		if !slices.Contains(c.Vs, "bad") {
			ok = append(ok, c.Vs...)
		}
	}
	want := slices.DeleteFunc(slices.Clone(all), func(v string) bool { return v == "bad" })
	if !slices.Equal(ok, want) {
		t.Fatalf("successfully delivered %v, want %v", ok, want)
	}
}

func TestPartialBatchResponse(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", map[string]string{"PARTIAL_ON": "bad"})
	for _, v := range []string{"a0", "a1", "bad", "a2"} {
		e.put("src", "k", v, nil)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures},
		MaximumRetryAttempts:  aws.Int32(1)})
	fr := e.failures(uuid, 1)[0]
	calls := e.sink.Calls()
	if len(calls) != 2 || !slices.Equal(calls[0].Vs, []string{"a0", "a1", "bad", "a2"}) || !slices.Equal(calls[1].Vs, []string{"bad", "a2"}) {
		t.Fatalf("calls %v: want the batch, then a retry from the failed record", calls)
	}
	if fr.DDBStreamBatchInfo.BatchSize != 2 || fr.DDBStreamBatchInfo.StartSequenceNumber != calls[1].Seqs[0] {
		t.Fatalf("failure record %+v", fr.DDBStreamBatchInfo)
	}
}

func TestFilterCriteria(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{
			{Pattern: aws.String(`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"v":{"S":[{"prefix":"keep"}]}}}}`)},
			{Pattern: aws.String(`{"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",10,"<=",20]}]}}}}`)},
		}}})
	num := func(n string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"n": &ddbtypes.AttributeValueMemberN{Value: n}}
	}
	e.put("src", "k1", "keep1", nil)
	e.put("src", "k2", "drop1", nil)
	e.put("src", "k1", "keep2", nil) // MODIFY: filtered out
	e.put("src", "k3", "num15", num("15"))
	e.put("src", "k4", "num25", num("25"))
	e.put("src", "k5", "keep3", nil)
	e.caughtUp(uuid, 10*time.Second)
	e.waitFor("keep3", 5*time.Second, func() bool { return slices.Contains(e.sink.vs(), "keep3") })
	got := e.sink.vs()
	sort.Strings(got)
	// num15 is not delivered: its n is {"N":"15"}, a string, and Lambda's
	// numeric matcher never matches a string (AWS's recorded behaviour,
	// TestAWSFilterNumericOnDynamoDBNumber).
	if !slices.Equal(got, []string{"keep1", "keep3"}) {
		t.Fatalf("delivered %v", got)
	}
	_, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		StartingPosition: ltypes.EventSourcePositionLatest,
		FilterCriteria:   &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(`{"eventName":"INSERT"}`)}}}})
	if err == nil {
		t.Fatal("a pattern with a non-array leaf was accepted")
	}
}

// Concurrent writers, ParallelizationFactor 10: each item's changes arrive
// in write order, every change exactly once (no failures, no restarts).
func TestParallelizationKeepsItemOrder(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		ParallelizationFactor: aws.Int32(10), BatchSize: aws.Int32(5), StartingPosition: ltypes.EventSourcePositionLatest})
	const writers, keys, per = 8, 5, 20
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				for k := 0; k < keys; k++ {
					pk := fmt.Sprintf("w%d-k%d", w, k)
					_, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
						"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "v": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("%s-%03d", pk, i)}}})
					if err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	total := writers * keys * per
	e.waitFor("all records", 20*time.Second, func() bool { return len(e.sink.vs()) >= total })
	e.caughtUp(uuid, 5*time.Second)
	seen := map[string][]string{}
	for _, c := range e.sink.Calls() {
		for i, pk := range c.Pks {
			seen[pk] = append(seen[pk], c.Vs[i])
		}
	}
	for pk, vs := range seen {
		if len(vs) != per || !slices.IsSorted(vs) {
			t.Fatalf("%s: delivered %v, want %d changes in order", pk, vs, per)
		}
	}
	if len(seen) != writers*keys || len(e.sink.vs()) != total {
		t.Fatalf("%d items, %d records", len(seen), len(e.sink.vs()))
	}
}

// A restart in the middle of a backlog loses nothing, and redelivers at
// most the batches in flight.
func TestRestartResumesFromCheckpoint(t *testing.T) {
	e := start(t, t.TempDir())
	arn := e.table("src")
	e.function("f", nil)
	const n = 400
	for i := 0; i < n; i++ {
		e.put("src", "k"+strconv.Itoa(i%20), fmt.Sprintf("v%04d", i), nil)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(10)})
	e.waitFor("some progress", 10*time.Second, func() bool { return len(e.sink.vs()) >= 60 })
	e.restart()
	e.waitFor("all records", 20*time.Second, func() bool {
		seen := map[string]bool{}
		for _, v := range e.sink.vs() {
			seen[v] = true
		}
		return len(seen) == n
	})
	e.caughtUp(uuid, 10*time.Second)
	dups := len(e.sink.vs()) - n
	shards, _ := e.srv.Mappings().Status(uuid)
	if dups > 10*len(shards) {
		t.Fatalf("%d duplicates, more than one in-flight batch per shard (%d shards)", dups, len(shards))
	}
	t.Logf("%d duplicates after restart", dups)
}

// TestThrottledMappingWaits: a mapping whose function has no concurrency
// to spare (reserved 0) is throttled, not failed: Lambda retries throttles
// without counting them against MaximumRetryAttempts, so nothing is
// dead-lettered, and the batch is delivered once the function may run.
func TestThrottledMappingWaits(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	if _, err := e.lam.PutFunctionConcurrency(e.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("f"),
		ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	for _, v := range vals("a", 3) {
		e.put("src", "k", v, nil)
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(0)})
	// With MaximumRetryAttempts 0 and 20 ms backoffs, a throttle taken for
	// a failure would be dead-lettered within milliseconds.
	time.Sleep(300 * time.Millisecond)
	if fr, _ := e.srv.Mappings().Failures(uuid); len(fr) != 0 {
		t.Fatalf("throttled batch dead-lettered: %v", fr)
	}
	if n := len(e.sink.Calls()); n != 0 {
		t.Fatalf("%d calls while reserved 0", n)
	}
	if _, err := e.lam.DeleteFunctionConcurrency(e.ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	e.caughtUp(uuid, 10*time.Second)
	if calls := e.sink.Calls(); len(calls) != 1 || !slices.Equal(calls[0].Vs, vals("a", 3)) {
		t.Fatalf("calls %v, want the batch once", calls)
	}
	if fr, _ := e.srv.Mappings().Failures(uuid); len(fr) != 0 {
		t.Fatalf("failure records %v", fr)
	}
}
