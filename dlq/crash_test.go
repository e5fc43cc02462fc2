package dlq_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// serveProc runs "eddy serve" as a child process until the test ends.
func serveProc(t *testing.T, bin, addr, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", dir)
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitFor(t, "eddy serve to be healthy", 20*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return cmd
}

// TestCrashExactlyOnce kills "eddy serve" (SIGKILL) while batches are
// being dead-lettered and restarts it: every discarded batch is in the
// store exactly once.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the eddy binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "eddy")
	build := exec.Command("go", "build", "-o", bin, "./cmd/eddy")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(dir, "data")
	proc := serveProc(t, bin, addr, data)

	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String("http://" + addr)}
	ddb := dynamodb.NewFromConfig(cfg)
	lam := lambda.NewFromConfig(cfg)
	out, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("src"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, err := triggerstest.Build("esm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lam.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("f"), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"), Code: &ltypes.FunctionCode{ZipFile: code},
		Environment: &ltypes.Environment{Variables: map[string]string{"FAIL_ON": "bad", "QUIET": "1"}},
	}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("k%03d", i)}, "v": &ddbtypes.AttributeValueMemberS{Value: "bad"},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lam.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: out.TableDescription.LatestStreamArn, StartingPosition: ltypes.EventSourcePositionTrimHorizon,
		BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}

	entries := func() []dlq.Summary {
		var l struct{ Entries []dlq.Summary }
		httpDo(t, "http://"+addr, "GET", "/eddy/dlq/entries", &l)
		return l.Entries
	}
	seen := 0
	waitFor(t, "batches to be dead-lettered", 30*time.Second, func() bool { seen = len(entries()); return seen >= 20 })
	if err := syscall.Kill(proc.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	if seen >= n {
		t.Fatalf("every batch was dead-lettered before the kill (%d): the test did not crash mid-way", seen)
	}
	serveProc(t, bin, addr, data)

	var es []dlq.Summary
	waitFor(t, "every batch dead-lettered after the restart", 60*time.Second, func() bool {
		es = entries()
		return distinct(es) == n
	})
	if len(es) != n {
		t.Fatalf("%d entries for %d distinct batches (killed after %d): a batch was dead-lettered twice", len(es), n, seen)
	}
	t.Logf("killed after %d entries; after restart %d entries, %d distinct", seen, len(es), distinct(es))
}

func distinct(es []dlq.Summary) int {
	seen := map[string]bool{}
	for _, e := range es {
		if e.BatchSize != 1 || e.Start != e.End {
			return -1
		}
		seen[e.ShardID+"/"+e.Start] = true
	}
	return len(seen)
}
