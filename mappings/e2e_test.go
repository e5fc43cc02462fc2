package mappings_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// One item key: every record lands on one shard, so the expected delivery
// order is the write order.
func TestDeliversInOrderAndCheckpoints(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("f"), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(3),
	})
	want := vals("a", 10)
	for _, v := range want {
		e.put("src", "k", v, nil)
	}
	e.waitFor("10 records", 10*time.Second, func() bool { return len(e.sink.vs()) >= 10 })
	e.caughtUp(uuid, 5*time.Second)
	if got := e.sink.vs(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for _, c := range e.sink.Calls() {
		if len(c.Vs) > 3 {
			t.Fatalf("batch of %d records exceeds BatchSize 3", len(c.Vs))
		}
	}
	got, err := e.lam.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.State) != "Enabled" || aws.ToString(got.LastProcessingResult) != "OK" || aws.ToInt32(got.BatchSize) != 3 ||
		aws.ToInt32(got.MaximumRetryAttempts) != -1 || aws.ToInt32(got.ParallelizationFactor) != 1 {
		t.Fatalf("mapping %+v", got)
	}
}
