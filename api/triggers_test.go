package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// TestTriggerFunctionsOnRealTables deploys a guest through the Lambda API on
// eddy's own port and has it read and write real eddy tables through
// eddy.table_call: the same handlers, validation and errors as HTTP clients.
func TestTriggerFunctionsOnRealTables(t *testing.T) {
	code, err := triggerstest.Build("kitchen")
	if err != nil {
		t.Fatal(err)
	}
	s := eddytest.Start(t, server.Options{})
	createTable(t, s.DDB, "views", false)
	lc := lambda.NewFromConfig(s.Config())
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("kitchen"), Handler: aws.String("handle"), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/x"), Code: &ltypes.FunctionCode{ZipFile: code},
	}); err != nil {
		t.Fatal(err)
	}
	invoke := func(payload string) map[string]any {
		t.Helper()
		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("kitchen"), Payload: []byte(payload)})
		if err != nil {
			t.Fatal(err)
		}
		if out.FunctionError != nil {
			t.Fatalf("function error %s: %s", *out.FunctionError, out.Payload)
		}
		var m map[string]any
		if err := json.Unmarshal(out.Payload, &m); err != nil {
			t.Fatalf("%s: %v", out.Payload, err)
		}
		return m
	}
	r := invoke(`{"action":"put","table":"views","item":{"pk":{"S":"c1"},"total":{"N":"12.50"}}}`)
	if r["error"] != "" {
		t.Fatalf("guest put: %v", r)
	}
	g, err := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("views"), Key: item{"pk": S("c1")}})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, g.Item, item{"pk": S("c1"), "total": N("12.5")})

	r = invoke(`{"action":"update","table":"views","key":{"pk":{"S":"c1"}}}`)
	if r["error"] != "" || !strings.Contains(string(mustJSON(r["resp"])), `"n":{"N":"1"}`) {
		t.Fatalf("guest update: %v", r)
	}
	// A DynamoDB error reaches the guest as DynamoDB's error JSON.
	r = invoke(`{"action":"put","table":"views","item":{"nokey":{"S":"x"}}}`)
	if e, _ := r["error"].(string); !strings.Contains(e, "ValidationException") || !strings.Contains(e, "Missing the key pk in the item") {
		t.Fatalf("guest error: %v", r)
	}
	r = invoke(`{"action":"get","table":"missing","key":{"pk":{"S":"x"}}}`)
	if e, _ := r["error"].(string); !strings.Contains(e, "ResourceNotFoundException") {
		t.Fatalf("guest missing table: %v", r)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
