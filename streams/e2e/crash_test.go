package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/internal/sdkretry"
)

// process is an eddy serve child process.
type process struct {
	cmd  *exec.Cmd
	addr string
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startProcess(t *testing.T, bin, data string) *process {
	t.Helper()
	p := &process{addr: freeAddr(t)}
	// --capacity report: a crash test writes as fast as it can, and is about what survives a crash, not capacity.
	p.cmd = exec.Command(bin, "serve", "--addr", p.addr, "--data", data, "--capacity", "report")
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("eddy serve never became healthy")
	return nil
}

// kill sends SIGKILL to the process (by PID) and reaps it; idempotent.
func (p *process) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = p.cmd.Process.Wait()
	p.cmd.ProcessState = &os.ProcessState{}
}

// clients points SDK clients at the process. Writers under a kill get no
// retries, so a write cut off by the kill surfaces as an error; readers
// (verify) retry only the client-side closed-connection race
// (sdkretry.ClosedConn), since reads are idempotent.
func (p *process) clients(verify bool) (*dynamodb.Client, *env) {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCRASH", "secret", ""),
		BaseEndpoint: aws.String("http://" + p.addr),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	if verify {
		cfg.Retryer = sdkretry.ClosedConn
	}
	d := dynamodb.NewFromConfig(cfg)
	return d, &env{S: dynamodbstreams.NewFromConfig(cfg)}
}

// TestCrash kills eddy with SIGKILL under write load, restarts it and
// checks the stream against what was acknowledged: nothing acknowledged
// missing, nothing visible that the table does not reflect, sequence
// numbers still increasing.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the eddy binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "eddy")
	build := exec.Command("go", "build", "-o", bin, "./cmd/eddy")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil { // empty: a new database; missing would be refused
		t.Fatal(err)
	}
	p := startProcess(t, bin, data)
	ddb, _ := p.clients(false)
	ctx := context.Background()
	out, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("crash"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TableDescription.LatestStreamArn)

	// Writers: each owns items and PUTs v = 0, 1, 2, ... to them in turn.
	const writers, items = 6, 5
	var mu sync.Mutex
	acked := map[string]int{} // pk → last acknowledged v
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for v := 0; ; v++ {
				for i := 0; i < items; i++ {
					select {
					case <-stop:
						return
					default:
					}
					pk := fmt.Sprintf("w%d-%d", w, i)
					_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("crash"),
						Item: map[string]ddbtypes.AttributeValue{"pk": s(pk), "v": n(strconv.Itoa(v))}})
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					acked[pk] = v
					mu.Unlock()
				}
			}
		}(w)
	}
	// Let the load run until a good number of writes are acknowledged.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		v := acked["w0-0"]
		mu.Unlock()
		if n == writers*items && v >= 20 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.kill()
	close(stop)
	wg.Wait()

	p = startProcess(t, bin, data)
	ddb, e := p.clients(true)
	recs := e.readAll(t, arn)
	type hist struct {
		last string
		n    int
	}
	hs := map[string]*hist{}
	var maxSeq string
	for _, r := range recs {
		pk := strAttr(r.Dynamodb.Keys, "pk")
		h := hs[pk]
		if h == nil {
			h = &hist{}
			hs[pk] = h
		}
		if got := numAttr(r.Dynamodb.OldImage, "v"); got != h.last {
			t.Fatalf("item %s: OldImage v=%q after NewImage v=%q", pk, got, h.last)
		}
		if got := numAttr(r.Dynamodb.NewImage, "v"); got != strconv.Itoa(h.n) {
			t.Fatalf("item %s: record %d has v=%s", pk, h.n, got)
		}
		h.last = numAttr(r.Dynamodb.NewImage, "v")
		h.n++
		if sq := aws.ToString(r.Dynamodb.SequenceNumber); sq > maxSeq {
			maxSeq = sq
		}
	}
	total := 0
	for pk, v := range acked {
		total += v + 1
		h := hs[pk]
		if h == nil || h.n-1 < v {
			t.Errorf("item %s: acknowledged v=%d, stream has %+v", pk, v, h)
			continue
		}
		if h.n-1 > v+1 {
			t.Errorf("item %s: stream has v=%d, more than one past acknowledged v=%d", pk, h.n-1, v)
		}
		// A record of an unacknowledged write must be reflected by the item.
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("crash"),
			Key: map[string]ddbtypes.AttributeValue{"pk": s(pk)}})
		if err != nil {
			t.Fatal(err)
		}
		if v := got.Item["v"].(*ddbtypes.AttributeValueMemberN).Value; v != h.last {
			t.Errorf("item %s: table has v=%s, stream's last NewImage v=%s", pk, v, h.last)
		}
	}
	t.Logf("%d acknowledged writes, %d records after SIGKILL", total, len(recs))

	// Sequence numbers keep increasing after the restart.
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("crash"),
		Item: map[string]ddbtypes.AttributeValue{"pk": s("after"), "v": n("0")}}); err != nil {
		t.Fatal(err)
	}
	var after string
	for _, r := range e.readAll(t, arn) {
		if strAttr(r.Dynamodb.Keys, "pk") == "after" {
			after = aws.ToString(r.Dynamodb.SequenceNumber)
		}
	}
	if after == "" || len(after) != len(maxSeq) || after <= maxSeq {
		t.Errorf("sequence number after restart %q, before %q", after, maxSeq)
	}
	_ = types.ShardIteratorTypeTrimHorizon
	p.kill()
}
