package mappings_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// windowReport is what the window guest emits on a window's final
// invocation.
type windowReport struct {
	Start   string  `json:"start"`
	End     string  `json:"end"`
	ShardID string  `json:"shardId"`
	ARN     string  `json:"eventSourceARN"`
	Sum     int     `json:"sum"`
	Count   int     `json:"count"`
	MinT    float64 `json:"minT"`
	MaxT    float64 `json:"maxT"`
	Invokes int     `json:"invokes"`
	Early   bool    `json:"early"`
}

type windowSink = eddytest.Sink[windowReport]

func startWindows(t *testing.T, dataDir string) (*env, *windowSink) {
	sk := &windowSink{}
	srv := eddytest.Start(t, server.Options{DataDir: dataDir, Sinks: sk, Mappings: fastOptions()})
	e := &env{t: t, srv: srv, ctx: context.Background()}
	e.clients()
	return e, sk
}

func (e *env) windowFunction(name string, vars map[string]string) {
	e.t.Helper()
	code, err := triggerstest.Build("window")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.lam.CreateFunction(e.ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"),
		Code: &ltypes.FunctionCode{ZipFile: code}, Environment: &ltypes.Environment{Variables: vars},
		Timeout: aws.Int32(60), // not 3 s: see eddytest.DeployGuest
	}); err != nil {
		e.t.Fatalf("CreateFunction: %v", err)
	}
}

// Records of one item (one shard) are summed per 3-second window by a
// handler whose state is carried from invocation to invocation (BatchSize
// 2, so a window takes several), across a restart, and reported on each
// window's final invocation: every record is counted exactly once, in the
// window that holds its creation time.
func TestTumblingWindowSums(t *testing.T) {
	const secs = 3
	e, sk := startWindows(t, t.TempDir())
	arn := e.table("src")
	e.windowFunction("sum", nil)
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("sum"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(2), TumblingWindowInSeconds: aws.Int32(secs)})
	got, err := e.lam.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	if err != nil || aws.ToInt32(got.TumblingWindowInSeconds) != secs {
		t.Fatalf("GetEventSourceMapping: %v, TumblingWindowInSeconds %d", err, aws.ToInt32(got.TumblingWindowInSeconds))
	}
	// Start right after a window boundary, so the first window most likely
	// spans the restart.
	for time.Now().Unix()%secs != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	total, n := 0, 0
	put := func(k int) {
		e.put("src", "k", "v", map[string]ddbtypes.AttributeValue{"n": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(k)}})
		total += k
		n++
	}
	for k := 1; k <= 5; k++ {
		put(k)
	}
	e.caughtUp(uuid, 5*time.Second)
	e.restart()
	for k := 10; k <= 50; k += 10 {
		put(k)
	}
	e.waitFor("every record in a final window report", 3*secs*time.Second, func() bool {
		c := 0
		for _, r := range sk.Calls() {
			c += r.Count
		}
		return c >= n
	})
	sum, count, multi := 0, 0, false
	seen := map[string]bool{}
	for _, r := range sk.Calls() {
		start, err1 := time.Parse(time.RFC3339, r.Start)
		end, err2 := time.Parse(time.RFC3339, r.End)
		if err1 != nil || err2 != nil || end.Sub(start) != secs*time.Second || start.Unix()%secs != 0 {
			t.Fatalf("window %s .. %s", r.Start, r.End)
		}
		if r.ARN != arn || r.ShardID == "" || r.Early {
			t.Fatalf("report %+v (stream %s)", r, arn)
		}
		if r.Count > 0 && (r.MinT < float64(start.Unix()) || r.MaxT >= float64(end.Unix())) {
			t.Fatalf("window %s .. %s holds records created at %v .. %v", r.Start, r.End, r.MinT, r.MaxT)
		}
		if seen[r.ShardID+r.Start] {
			t.Fatalf("window %s of %s finalized twice", r.Start, r.ShardID)
		}
		seen[r.ShardID+r.Start] = true
		sum += r.Sum
		count += r.Count
		multi = multi || r.Invokes > 1
		t.Logf("window %s: %d records in %d invocations, sum %d", r.Start, r.Count, r.Invokes, r.Sum)
	}
	if sum != total || count != n {
		t.Fatalf("windows sum to %d over %d records, written %d over %d", sum, count, total, n)
	}
	if !multi {
		t.Fatal("no window took more than one invocation: state was never carried")
	}
	e.caughtUp(uuid, 5*time.Second)
}

// A tumbling-window response without a "state" object is a failed
// invocation.
func TestTumblingWindowResponseWithoutState(t *testing.T) {
	e, _ := startWindows(t, "")
	arn := e.table("src")
	e.windowFunction("nostate", map[string]string{"NO_STATE": "1"})
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("nostate"), EventSourceArn: aws.String(arn),
		TumblingWindowInSeconds: aws.Int32(60), MaximumRetryAttempts: aws.Int32(1)})
	e.put("src", "k", "v", map[string]ddbtypes.AttributeValue{"n": &ddbtypes.AttributeValueMemberN{Value: "1"}})
	fr := e.failures(uuid, 1)
	if c := fr[0].RequestContext; c.Condition != "RetryAttemptsExhausted" || c.ApproximateInvokeCount != 2 {
		t.Fatalf("failure record %+v", fr[0])
	}
	if _, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("nostate"),
		EventSourceArn: aws.String(arn), StartingPosition: ltypes.EventSourcePositionLatest, TumblingWindowInSeconds: aws.Int32(901)}); err == nil ||
		!contains(err.Error(), "ValidationException") {
		t.Fatalf("TumblingWindowInSeconds 901: %v", err)
	}
}
