package dlq_test

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/dlq"
)

// TestCrashDuringRedrive kills "eddy serve" (SIGKILL) in the middle of a
// redrive of one large entry (BatchSize 1, so one synced commit per
// record). After the restart the entry is "interrupted" with the reason,
// nothing was replayed by itself, the records processed before the crash
// plus the records kept add up to the original batch, and a second
// redrive processes exactly the rest.
func TestCrashDuringRedrive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the eddy binary")
	}
	e := startCrashEnv(t)
	ctx := context.Background()
	ddb, lam, proc, bin, addr, data := e.ddb, e.lam, e.proc, e.bin, e.addr, e.data
	base := e.base
	const n = 400
	for i := range n {
		// One key: every record in one shard, in one batch.
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}, "v": &ddbtypes.AttributeValueMemberS{Value: "bad"}, "i": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := lam.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: e.streamArn, StartingPosition: ltypes.EventSourcePositionTrimHorizon,
		BatchSize: aws.Int32(1000), MaximumRetryAttempts: aws.Int32(0)})
	if err != nil {
		t.Fatal(err)
	}
	var entries []dlq.Summary
	waitFor(t, "every record dead-lettered", 30*time.Second, func() bool {
		var l struct{ Entries []dlq.Summary }
		httpDo(t, base, "GET", "/eddy/dlq/entries", &l)
		entries = l.Entries
		total := 0
		for _, e := range l.Entries {
			total += e.Records
		}
		return total == n
	})
	big := entries[0]
	for _, e := range entries {
		if e.Records > big.Records {
			big = e
		}
	}
	if big.Records < 100 {
		t.Fatalf("largest entry has %d records: want one large batch", big.Records)
	}
	// Fix the function (no FAIL_ON) and redrive one record per commit.
	if _, err := lam.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f"),
		Environment: &ltypes.Environment{Variables: map[string]string{"QUIET": "1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lam.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: m.UUID, BatchSize: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/eddy/dlq/entries/%d", big.ID)
	go func() {
		// Ends with an error when the server is killed.
		req, _ := http.NewRequest("POST", base+path+"/redrive", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	var mid dlq.Entry
	waitFor(t, "the redrive to be under way", 30*time.Second, func() bool {
		mid = dlq.Entry{}
		httpDo(t, base, "GET", path, &mid)
		return mid.Redrive != nil && mid.Redrive.Delivered >= 10
	})
	if err := syscall.Kill(proc.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	if mid.Redrive.State != dlq.RedriveRunning || len(mid.Records) == 0 {
		t.Fatalf("the redrive finished before the kill: %+v, %d records", mid.Redrive, len(mid.Records))
	}
	serveProc(t, bin, addr, data)

	var after dlq.Entry
	if code := httpDo(t, base, "GET", path, &after); code != 200 {
		t.Fatalf("GET after restart: %d", code)
	}
	rd := after.Redrive
	if rd == nil || rd.State != dlq.RedriveInterrupted || rd.LastError != dlq.InterruptedError || rd.Count != 1 {
		t.Fatalf("after restart: %+v", rd)
	}
	if rd.Delivered < mid.Redrive.Delivered || len(after.Records) == 0 || rd.Delivered+len(after.Records) != big.Records {
		t.Fatalf("after restart: %d processed + %d kept, want %d (at least %d processed before the kill)",
			rd.Delivered, len(after.Records), big.Records, mid.Redrive.Delivered)
	}
	// Nothing replayed by itself: the entry does not move.
	time.Sleep(200 * time.Millisecond)
	var still dlq.Entry
	httpDo(t, base, "GET", path, &still)
	if still.Redrive.Delivered != rd.Delivered || len(still.Records) != len(after.Records) {
		t.Fatalf("the entry changed without a redrive: %+v, %d records", still.Redrive, len(still.Records))
	}
	var done dlq.Entry
	if code := httpDo(t, base, "POST", path+"/redrive", &done); code != 200 || done.Redrive.State != dlq.RedriveDone ||
		done.Redrive.Count != 2 || done.Redrive.Delivered != big.Records || len(done.Records) != 0 {
		t.Fatalf("resumed redrive: %d %+v, %d records", code, done.Redrive, len(done.Records))
	}
	t.Logf("killed after %d of %d records redriven; %d processed before the crash, %d resumed", mid.Redrive.Delivered, big.Records, rd.Delivered, len(after.Records))
}
