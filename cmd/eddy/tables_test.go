package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/store"
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

// heatClock is the capacity limiter's clock in TestTablesPartitionsSplitForHeat:
// it moves only when told.
type heatClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *heatClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *heatClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestTablesPartitionsSplitForHeat: two partition keys of one partition
// that together drive more than its 1,000 write units a second (compressed
// clock) are split apart after sustained heat, and eddy tables partitions
// shows the new partition, marked (heat).
func TestTablesPartitionsSplitForHeat(t *testing.T) {
	clk := &heatClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := eddytest.Start(t, server.Options{Capacity: capacity.Options{Mode: capacity.Enforce, Now: clk.Now, SplitForHeatAfter: 5 * time.Second}})
	ctx := context.Background()
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("heat"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
		BillingMode:           ddbtypes.BillingModeProvisioned,
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(3999)}, // 4 partitions: ceil(1/3000 + 3999/1000)
	}); err != nil {
		t.Fatal(err)
	}
	part := func(k string) int { return capacity.PartitionOf(store.PartitionHash(attr.S(k)), 4) }
	a, b := "hot-a", ""
	for i := 0; b == ""; i++ {
		if k := fmt.Sprint("hot-b", i); part(k) == part(a) {
			b = k
		}
	}
	pad := strings.Repeat("x", 9*1024) // 10 write units an item
	sk := 0
	// One compressed second: 60 items of each key, 1,200 units for a
	// partition of 1,000; what is throttled is left unprocessed.
	second := func() (unprocessed int) {
		for _, k := range []string{a, b, a, b, a, b} {
			var reqs []ddbtypes.WriteRequest
			for i := 0; i < 20; i++ {
				sk++
				reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: k}, "sk": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(sk)},
					"pad": &ddbtypes.AttributeValueMemberS{Value: pad}}}})
			}
			out, err := srv.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"heat": reqs}})
			if err != nil {
				var pte *ddbtypes.ProvisionedThroughputExceededException
				if !errors.As(err, &pte) {
					t.Fatal(err)
				}
				unprocessed += len(reqs)
				continue
			}
			unprocessed += len(out.UnprocessedItems["heat"])
		}
		clk.Advance(time.Second)
		return unprocessed
	}
	if u := second(); u == 0 {
		t.Fatal("two keys of one partition at 1,200 units a second: nothing throttled")
	}
	for i := 0; i < 6; i++ {
		second()
	}
	if u := second(); u != 0 {
		t.Fatalf("after sustained heat: %d items still throttled, want none (the keys split apart)", u)
	}
	var out, errw bytes.Buffer
	if code := tablesMain(&out, &errw, []string{"partitions", "heat", "--endpoint", srv.URL()}); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	if text := out.String(); !strings.Contains(text, "heat PROVISIONED: 5 partitions") || strings.Count(text, " (heat)") != 2 {
		t.Fatalf("output:\n%s", text)
	}
}
