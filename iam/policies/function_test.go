package policies_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestFunctionRoleForbidsTable: a function runs as its CreateFunction
// Role. Its role may read the orders' stream but not write the view table;
// the guest's UpdateItem gets DynamoDB's AccessDeniedException through the
// guest SDK, nothing is written, and the mapping's dead letter says why.
func TestFunctionRoleForbidsTable(t *testing.T) {
	const role = "arn:aws:iam::000000000000:role/x" // eddytest.DeployGuest's
	s := eddytest.Start(t, server.Options{})
	ctx := context.Background()
	streamArn := s.StreamTable(t, "orders")
	if _, err := s.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("totals"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	// The role may do anything but touch the view table.
	if err := s.Policies().Put(role, "no-totals", []byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
		{"Effect":"Deny","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/totals"}]}`)); err != nil {
		t.Fatal(err)
	}
	s.DeployGuest(t, "view", "esm", map[string]string{"VIEW": "totals", "QUIET": "1"})
	out, err := lambda.NewFromConfig(s.Config()).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("view")})
	if err != nil || aws.ToString(out.Configuration.Role) != role {
		t.Fatalf("GetFunction Role = %v (%v), want %s", out.Configuration.Role, err, role)
	}
	uuid := s.Mapping(t, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("view"), EventSourceArn: aws.String(streamArn),
		BatchSize: aws.Int32(10), MaximumRetryAttempts: aws.Int32(0),
	})
	if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "o1"}, "customer": &ddbtypes.AttributeValueMemberS{Value: "c1"},
		"amount": &ddbtypes.AttributeValueMemberN{Value: "5"},
	}}); err != nil {
		t.Fatal(err)
	}
	var lastError, principal string
	eddytest.WaitFor(t, "a dead-letter entry", 60*time.Second, func() bool {
		es, err := s.DLQ().Entries(uuid)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) > 0 {
			lastError, principal = es[0].LastError, es[0].Principal
			return true
		}
		return false
	})
	want := "AccessDeniedException: User: " + role + " is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/totals with an explicit deny in an identity-based policy"
	if !strings.Contains(lastError, want) {
		t.Fatalf("dead letter's error = %q, want it to contain %q", lastError, want)
	}
	if principal != role {
		t.Fatalf("dead letter's principal = %q, want the function's role %q", principal, role)
	}
	got, err := s.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("totals")})
	if err != nil || len(got.Items) != 0 {
		t.Fatalf("the denied write left %d items (%v)", len(got.Items), err)
	}
}
