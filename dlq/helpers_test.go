package dlq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if eddyBin.path != "" {
		os.RemoveAll(filepath.Dir(eddyBin.path))
	}
	os.Exit(code)
}

type call struct {
	Vs []string `json:"vs"`
}

// sink collects the test guests' reports; hook, when set, runs before
// each report is kept (a test can hold an invocation there).
type sink struct {
	eddytest.Sink[call]
	hook atomic.Pointer[func()]
}

func (s *sink) Emit(ctx context.Context, name string, doc []byte) error {
	if h := s.hook.Load(); h != nil {
		(*h)()
	}
	return s.Sink.Emit(ctx, name, doc)
}

func (s *sink) vs() []string {
	var out []string
	for _, c := range s.Calls() {
		out = append(out, c.Vs...)
	}
	return out
}

type env struct {
	t    *testing.T
	srv  *eddytest.Server
	ddb  *dynamodb.Client
	lam  *lambda.Client
	sink *sink
	ctx  context.Context
	skew atomic.Int64 // added to the mappings' clock (record age tests)
}

var testCreds = credentials.NewStaticCredentialsProvider("test", "test", "")

func start(t *testing.T, o dlq.Options) *env {
	t.Helper()
	return startDir(t, o, "")
}

// startDir is start with the server's data in dir ("" for in memory).
func startDir(t *testing.T, o dlq.Options, dir string) *env {
	t.Helper()
	e := &env{t: t, sink: &sink{}, ctx: context.Background()}
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Backoff == 0 {
		o.Backoff, o.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	if o.AWSCredentials == nil {
		o.AWSCredentials = testCreds
	}
	o.SendTimeout = 3 * time.Second
	e.srv = eddytest.Start(t, server.Options{DataDir: dir, Sinks: e.sink, DLQ: o, Mappings: mappings.Options{
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) },
	}})
	e.ddb = e.srv.DDB
	e.lam = lambda.NewFromConfig(e.srv.Config())
	return e
}

func (e *env) table(name string) string { return e.srv.StreamTable(e.t, name) }

func (e *env) function(name, guest string, vars map[string]string) {
	e.srv.DeployGuest(e.t, name, guest, vars)
}

func (e *env) mapping(in *lambda.CreateEventSourceMappingInput) string { return e.srv.Mapping(e.t, in) }

func (e *env) put(table, pk, v string) {
	e.t.Helper()
	_, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "v": &ddbtypes.AttributeValueMemberS{Value: v},
	}})
	if err != nil {
		e.t.Fatalf("PutItem: %v", err)
	}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	eddytest.WaitFor(t, what, d, cond)
}

// caughtUp waits until the mapping has nothing pending.
func (e *env) caughtUp(uuid string) {
	e.t.Helper()
	waitFor(e.t, "mapping to catch up", 15*time.Second, func() bool {
		st, err := e.srv.Mappings().Status(uuid)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, s := range st {
			if s.PendingRecords > 0 {
				return false
			}
		}
		return true
	})
}

// entries waits for n entries of a mapping and returns them.
func (e *env) entries(uuid string, n int) []*dlq.Entry {
	e.t.Helper()
	var es []*dlq.Entry
	waitFor(e.t, fmt.Sprintf("%d dead-letter entries", n), 15*time.Second, func() bool {
		var err error
		if es, err = e.srv.DLQ().Entries(uuid); err != nil {
			e.t.Fatal(err)
		}
		return len(es) >= n
	})
	return es
}

// vs returns the NewImage.v of an entry's records.
func vs(t *testing.T, en *dlq.Entry) []string {
	t.Helper()
	var out []string
	for _, r := range en.Records {
		var ev struct {
			DynamoDB struct {
				NewImage struct {
					V struct {
						S string `json:"S"`
					} `json:"v"`
				} `json:"NewImage"`
			} `json:"dynamodb"`
		}
		if err := json.Unmarshal(r.Event, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.DynamoDB.NewImage.V.S)
	}
	return out
}

// httpDo calls eddy's /eddy/dlq API and decodes the JSON answer into out.
func httpDo(t *testing.T, base, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, strings.TrimSpace(string(b)))
		}
	}
	return resp.StatusCode
}
