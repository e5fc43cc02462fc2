package mappings_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
)

// call is one invocation as the esm guest reports it.
type call struct {
	Seqs []string `json:"seqs"`
	Pks  []string `json:"pks"`
	Vs   []string `json:"vs"`
}

// sink collects the guest's reports (emits are not buffered: they show
// every invocation, also failed ones).
type sink struct{ eddytest.Sink[call] }

// delivered returns every v of every reported call, in order.
func (s *sink) vs() []string {
	var out []string
	for _, c := range s.Calls() {
		out = append(out, c.Vs...)
	}
	return out
}

type env struct {
	t    testing.TB
	srv  *eddytest.Server
	ddb  *dynamodb.Client
	lam  *lambda.Client
	sink *sink
	ctx  context.Context
}

func fastOptions() mappings.Options {
	return mappings.Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}
}

func start(t testing.TB, dataDir string) *env {
	t.Helper()
	sk := &sink{}
	srv := eddytest.Start(t, server.Options{DataDir: dataDir, Sinks: sk, Mappings: fastOptions()})
	e := &env{t: t, srv: srv, sink: sk, ctx: context.Background()}
	e.clients()
	return e
}

func (e *env) clients() {
	e.ddb = e.srv.DDB
	e.lam = lambda.NewFromConfig(e.srv.Config())
}

func (e *env) restart() {
	e.srv.Restart()
	e.clients()
}

// table creates a table with key pk (S) and a NEW_AND_OLD_IMAGES stream and
// returns the stream ARN.
func (e *env) table(name string) string { return e.srv.StreamTable(e.t, name) }

func (e *env) function(name string, vars map[string]string) { e.functionFrom(name, "esm", vars) }

// functionFrom deploys the test guest triggers/testdata/<guest> as name.
func (e *env) functionFrom(name, guestName string, vars map[string]string) {
	e.srv.DeployGuest(e.t, name, guestName, vars)
}

func (e *env) mapping(in *lambda.CreateEventSourceMappingInput) string { return e.srv.Mapping(e.t, in) }

func (e *env) put(table, pk, v string, extra map[string]ddbtypes.AttributeValue) {
	e.t.Helper()
	item := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
		"v":  &ddbtypes.AttributeValueMemberS{Value: v},
	}
	for k, x := range extra {
		item[k] = x
	}
	if _, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		e.t.Fatalf("PutItem: %v", err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func (e *env) waitFor(what string, d time.Duration, cond func() bool) {
	e.t.Helper()
	eddytest.WaitFor(e.t, what, d, cond)
}

// caughtUp waits until the mapping has no pending records on any shard.
func (e *env) caughtUp(uuid string, d time.Duration) {
	e.t.Helper()
	e.waitFor("mapping "+uuid+" to catch up", d, func() bool {
		st, err := e.srv.Mappings().Status(uuid)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, s := range st {
			if s.PendingRecords > 0 {
				if testing.Verbose() {
					e.t.Logf("pending %+v", s)
				}
				return false
			}
		}
		return true
	})
}

func vals(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}
