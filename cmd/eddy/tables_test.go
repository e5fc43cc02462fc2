package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestTablesPartitions: eddy tables partitions NAME shows a table's
// partitions as DynamoDB sizes them (3,000 RCU + 3,000 WCU: 4) and what
// each consumed.
func TestTablesPartitions(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Capacity: capacity.Options{Mode: capacity.Enforce}})
	ctx := context.Background()
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("parts"),
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:           ddbtypes.BillingModeProvisioned,
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(3000), WriteCapacityUnits: aws.Int64(3000)},
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if _, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("parts"),
			Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var out, errw bytes.Buffer
	if code := tablesMain(&out, &errw, []string{"partitions", "parts", "--endpoint", srv.URL()}); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	text := out.String()
	if !strings.Contains(text, "parts PROVISIONED: 4 partitions; read 3000/s") || !strings.Contains(text, "4000000000000000") {
		t.Fatalf("output:\n%s", text)
	}
	out.Reset()
	if code := tablesMain(&out, &errw, []string{"partitions", "parts", "--json", "--endpoint", srv.URL()}); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	if !strings.Contains(out.String(), `"writeUnits"`) {
		t.Fatalf("json: %s", out.String())
	}
	sum := 0.0
	for _, l := range strings.Split(text, "\n")[2:] {
		var p, r, w float64
		var from, to string
		if n, _ := fmt.Sscanf(l, "%g %s %s %g %g", &p, &from, &to, &r, &w); n == 5 {
			sum += w
		}
	}
	if sum != 40 {
		t.Fatalf("partitions' write units sum to %v, want 40:\n%s", sum, text)
	}
	if code := tablesMain(&out, &errw, []string{"partitions", "nope", "--endpoint", srv.URL()}); code != 1 || !strings.Contains(errw.String(), "not found") {
		t.Fatalf("missing table: exit %d, %q", code, errw.String())
	}
}
