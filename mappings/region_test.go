package mappings_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// TestMappingsArePerRegion: a mapping belongs to its stream's region (its
// ARNs name it, another region neither lists nor finds it, and a mapping
// of another region's stream is refused), and its handler's table writes
// go to that region's tables.
func TestMappingsArePerRegion(t *testing.T) {
	e := start(t, "")
	cfg := e.srv.Config()
	cfg.Region = "us-east-2"
	ddb2, lam2 := dynamodb.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	var arn string
	for _, name := range []string{"orders", "totals"} {
		out, err := ddb2.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
		})
		if err != nil {
			t.Fatal(err)
		}
		if name == "orders" {
			arn = *out.TableDescription.LatestStreamArn
		}
	}
	e.table("totals")                                                                                     // a us-east-1 table of the same name, which must stay empty
	e.function("view", map[string]string{"VIEW": "totals", "QUIET": "1"})                                 // us-east-1's view
	e.srv.DeployGuestIn(t, "us-east-2", "view", "esm", map[string]string{"VIEW": "totals", "QUIET": "1"}) // functions are per region too

	in := &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("view"), EventSourceArn: aws.String(arn),
		StartingPosition: ltypes.EventSourcePositionTrimHorizon}
	_, err := e.lam.CreateEventSourceMapping(e.ctx, in)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValueException" {
		t.Fatalf("us-east-1 mapping of a us-east-2 stream: %v", err)
	}
	m, err := lam2.CreateEventSourceMapping(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*m.EventSourceMappingArn, "arn:aws:lambda:us-east-2:") || !strings.HasPrefix(*m.FunctionArn, "arn:aws:lambda:us-east-2:") {
		t.Fatalf("ARNs %s %s", *m.EventSourceMappingArn, *m.FunctionArn)
	}
	if l, err := e.lam.ListEventSourceMappings(e.ctx, &lambda.ListEventSourceMappingsInput{}); err != nil || len(l.EventSourceMappings) != 0 {
		t.Fatalf("us-east-1 lists %v, %v", l, err)
	}
	if l, err := lam2.ListEventSourceMappings(e.ctx, &lambda.ListEventSourceMappingsInput{}); err != nil || len(l.EventSourceMappings) != 1 {
		t.Fatalf("us-east-2 lists %v, %v", l, err)
	}
	// eddy's own per-mapping API (the console's charts) is per region too.
	for _, c := range []struct {
		scope string
		want  int
	}{{"", http.StatusNotFound}, {"us-east-1", http.StatusNotFound}, {"us-east-2", http.StatusOK}} {
		req, _ := http.NewRequest("GET", e.srv.URL()+"/eddy/mappings/"+*m.UUID+"/series", nil)
		if c.scope != "" {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/"+c.scope+"/lambda/aws4_request, SignedHeaders=host, Signature=00")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("/eddy/mappings/UUID/series signed for %q: %d, want %d", c.scope, resp.StatusCode, c.want)
		}
	}
	_, err = e.lam.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: m.UUID})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
		t.Fatalf("us-east-1 Get: %v", err)
	}
	_, err = e.lam.DeleteEventSourceMapping(e.ctx, &lambda.DeleteEventSourceMappingInput{UUID: m.UUID})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
		t.Fatalf("us-east-1 Delete: %v", err)
	}

	if _, err := ddb2.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "o1"}, "customer": &ddbtypes.AttributeValueMemberS{Value: "c1"},
		"amount": &ddbtypes.AttributeValueMemberN{Value: "5"},
	}}); err != nil {
		t.Fatal(err)
	}
	e.caughtUp(*m.UUID, 20*time.Second)
	sc, err := ddb2.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String("totals")})
	if err != nil || len(sc.Items) != 1 {
		t.Fatalf("us-east-2 totals: %v, %v", sc, err)
	}
	if got := e.totals("totals"); len(got) != 0 {
		t.Fatalf("the handler wrote us-east-1's totals: %v", got)
	}
}

// TestInvokeActsInItsRegion: a direct Invoke's table calls act in the
// function's region, the one the Invoke was signed for; a Lambda request whose signature names
// no credential scope is refused.
func TestInvokeActsInItsRegion(t *testing.T) {
	e := start(t, "")
	cfg := e.srv.Config()
	cfg.Region = "us-east-2"
	ddb2, lam2 := dynamodb.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	e.table("tab")
	if _, err := ddb2.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("tab"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	e.srv.DeployGuestIn(t, "us-east-2", "k", "kitchen", nil)
	out, err := lam2.Invoke(e.ctx, &lambda.InvokeInput{FunctionName: aws.String("k"),
		Payload: []byte(`{"action":"put","table":"tab","item":{"pk":{"S":"a"},"v":{"S":"x"}}}`)})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("invoke: %v %s", err, out.Payload)
	}
	key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}}
	if g, err := ddb2.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("tab"), Key: key}); err != nil || g.Item == nil {
		t.Fatalf("us-east-2 item: %v %v", g, err)
	}
	if g, err := e.ddb.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("tab"), Key: key}); err != nil || g.Item != nil {
		t.Fatalf("us-east-1 item: %v %v", g.Item, err)
	}

	req, _ := http.NewRequest("GET", e.srv.URL()+"/2015-03-31/functions/", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-Errortype") != "IncompleteSignatureException" {
		t.Fatalf("malformed scope: %d %v", resp.StatusCode, resp.Header)
	}
}
