package eddytest

import (
	"cmp"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/triggers/triggerstest"
)

// StreamTable creates an on-demand table keyed by pk (S) with a
// NEW_AND_OLD_IMAGES stream and returns the stream ARN.
func (s *Server) StreamTable(t testing.TB, name string) string {
	t.Helper()
	out, err := s.DDB.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

// DeployGuest builds the test guest triggers/testdata/<guest> and creates
// the function name from it through the Lambda API (handler "handle",
// environment vars).
func (s *Server) DeployGuest(t testing.TB, name, guest string, vars map[string]string) {
	t.Helper()
	s.DeployGuestIn(t, "", name, guest, vars)
}

// DeployGuestIn is DeployGuest through region's endpoint (empty: the
// server's): functions are per region.
func (s *Server) DeployGuestIn(t testing.TB, region, name, guest string, vars map[string]string) {
	t.Helper()
	code, err := triggerstest.Build(guest)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Config()
	cfg.Region = cmp.Or(region, cfg.Region)
	_, err = lambda.NewFromConfig(cfg).CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"),
		Code:        &ltypes.FunctionCode{ZipFile: code},
		Environment: &ltypes.Environment{Variables: vars},
		// Not Lambda's 3 s: on a loaded machine an invocation can take
		// that long, and a timed-out batch is retried, so a test sink
		// (which records emits as they happen) would see its records
		// twice. Tests of timeouts deploy their own functions.
		Timeout: aws.Int32(60),
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
}

// Mapping creates an event source mapping (StartingPosition defaults to
// TRIM_HORIZON) and returns its UUID.
func (s *Server) Mapping(t testing.TB, in *lambda.CreateEventSourceMappingInput) string {
	t.Helper()
	if in.StartingPosition == "" {
		in.StartingPosition = ltypes.EventSourcePositionTrimHorizon
	}
	out, err := lambda.NewFromConfig(s.Config()).CreateEventSourceMapping(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateEventSourceMapping: %v", err)
	}
	return aws.ToString(out.UUID)
}

// WaitFor polls cond every 10 ms until it holds, failing the test after d.
func WaitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
