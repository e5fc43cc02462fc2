package dlq_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/childproc"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// crashEnv is "eddy serve" as a child process (SIGKILL-able) with the
// stream table "src" (NEW_IMAGE) and the test guest "f", which fails on
// records whose v is "bad".
type crashEnv struct {
	bin, addr, data string
	base            string // http://addr
	proc            *exec.Cmd
	ddb             *dynamodb.Client
	lam             *lambda.Client
	streamArn       *string
}

var eddyBin struct {
	once sync.Once
	path string
	err  error
}

// buildEddy builds ./cmd/eddy once per test process.
func buildEddy(t *testing.T) string {
	t.Helper()
	eddyBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "dlq-eddy-")
		if err != nil {
			eddyBin.err = err
			return
		}
		eddyBin.path = filepath.Join(dir, "eddy")
		build := exec.Command("go", "build", "-o", eddyBin.path, "./cmd/eddy")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			eddyBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if eddyBin.err != nil {
		t.Fatal(eddyBin.err)
	}
	return eddyBin.path
}

func startCrashEnv(t *testing.T) *crashEnv {
	t.Helper()
	e := &crashEnv{bin: buildEddy(t), data: filepath.Join(t.TempDir(), "data")}
	if err := os.Mkdir(e.data, 0o755); err != nil { // empty: a new database; missing would be refused
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	ln.Close()
	e.base = "http://" + e.addr
	e.proc = serveProc(t, e.bin, e.addr, e.data)

	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: testCreds, BaseEndpoint: aws.String(e.base)}
	e.ddb = dynamodb.NewFromConfig(cfg)
	e.lam = lambda.NewFromConfig(cfg)
	out, err := e.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("src"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.streamArn = out.TableDescription.LatestStreamArn
	code, err := triggerstest.Build("esm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.lam.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("f"), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"), Code: &ltypes.FunctionCode{ZipFile: code},
		Environment: &ltypes.Environment{Variables: map[string]string{"FAIL_ON": "bad", "QUIET": "1"}},
		Timeout:     aws.Int32(60), // not 3 s: see eddytest.DeployGuest
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// serveProc runs "eddy serve" as a child process until the test ends.
func serveProc(t *testing.T, bin, addr, dir string) *exec.Cmd {
	t.Helper()
	// --capacity report: a crash test writes as fast as it can, and is about what survives a crash, not capacity.
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", dir, "--capacity", "report")
	childproc.DieWithParent(cmd)
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
	e := startCrashEnv(t)
	ctx := context.Background()
	ddb, lam, proc, bin, addr, data := e.ddb, e.lam, e.proc, e.bin, e.addr, e.data
	const n = 300
	for i := range n {
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("k%03d", i)}, "v": &ddbtypes.AttributeValueMemberS{Value: "bad"},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lam.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: e.streamArn, StartingPosition: ltypes.EventSourcePositionTrimHorizon,
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
