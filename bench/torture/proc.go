package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/childproc"
	"github.com/eddydb/eddy/internal/sdkretry"
)

// proc is one `eddy serve` child process.
type proc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// buildEddy builds ./cmd/eddy of the module holding the working directory
// into dir.
func buildEddy(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(dir, "eddy")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/eddy")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/eddy: %v\n%s", err, msg)
	}
	return bin, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startEddy runs bin serve on addr and dir and waits until /healthz answers.
func startEddy(ctx context.Context, bin, addr, dir string, out io.Writer, extra ...string) (*proc, error) {
	// --capacity report: a crash test writes as fast as it can, and is about what survives a crash, not capacity.
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", dir, "--capacity", "report"}, extra...)...)
	childproc.DieWithParent(cmd) // the harness's eddy dies with the harness
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("eddy serve exited before it was healthy: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.kill()
			return nil, fmt.Errorf("eddy on %s never became healthy", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill sends SIGKILL to the process by its PID and waits until it is reaped.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// clients are SDK clients. Writes have retries off: a request cut off by
// the kill surfaces as an error, and its write's outcome is then unknown
// (a retry could apply it twice). The checks' reads (read, the streams
// client, getJSON) retry only net.ErrClosed, the client-side race of Go's
// transport and the SDK that sdkretry describes: they are idempotent.
type clients struct {
	ddb  *dynamodb.Client
	read *dynamodb.Client
	str  *dynamodbstreams.Client
	lam  *lambda.Client
	hc   *http.Client
	tr   *http.Transport
	url  string
}

func newClients(url string) *clients {
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	creds := credentials.NewStaticCredentialsProvider("eddy", "eddy", "")
	return &clients{
		ddb: dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds,
			HTTPClient: hc, Retryer: aws.NopRetryer{}}),
		read: dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds,
			HTTPClient: hc, Retryer: sdkretry.ClosedConn()}),
		str: dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds,
			HTTPClient: hc, Retryer: sdkretry.ClosedConn()}),
		lam: lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds,
			HTTPClient: hc, Retryer: aws.NopRetryer{}}),
		hc: hc, tr: tr, url: url,
	}
}

func (c *clients) close() { c.tr.CloseIdleConnections() }
