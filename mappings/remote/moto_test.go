package remote_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/childproc"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/mappings/remote"
)

// startMoto runs moto_server on a free loopback port until the test ends
// and returns its URL; the test is skipped where moto_server is not
// installed (CI machines).
func startMoto(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not on PATH: the test of a mapping over moto's DynamoDB Streams needs it (pip install 'moto[server]')")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	childproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	eddytest.WaitFor(t, "moto_server to answer", 60*time.Second, func() bool {
		select {
		case <-done:
			t.Fatal("moto_server exited")
		default:
		}
		resp, err := http.Get(url + "/moto-api/")
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return true
	})
	return url
}

// TestRemoteMotoStream: a mapping in eddy consumes moto_server's DynamoDB
// Streams (moto's account 123456789012): every record once, each item's
// changes in order, the view in eddy exact.
func TestRemoteMotoStream(t *testing.T) {
	url := startMoto(t)
	ddb := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDMOTO", "secret", "")})
	out, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	streamArn := aws.ToString(out.TableDescription.LatestStreamArn)
	t.Logf("moto stream %s", streamArn)
	a := startConsumer(t, remote.Endpoint{Region: "us-east-1", Account: "123456789012", URL: url})
	uuid := a.deploy(streamArn, &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(5)})
	w := newWorkload(t, ddb, "orders", 10)
	w.round()
	w.round()
	w.round()
	w.check(a, uuid, 30*time.Second)
}
