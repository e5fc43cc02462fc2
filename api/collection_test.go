package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// checkCollection asserts one ItemCollectionMetrics entry: the partition key
// and DynamoDB's [0.0, 1.0] estimate of a collection under 1 GB.
func checkCollection(t *testing.T, what string, m *types.ItemCollectionMetrics, pk string) {
	t.Helper()
	if m == nil {
		t.Fatalf("%s: no ItemCollectionMetrics", what)
	}
	assertItem(t, m.ItemCollectionKey, item{"pk": S(pk)})
	if r := m.SizeEstimateRangeGB; len(r) != 2 || r[0] != 0 || r[1] != 1 {
		t.Fatalf("%s: SizeEstimateRangeGB %v, want [0 1]", what, r)
	}
}

// TestItemCollectionMetrics: writes to a table with a local secondary index
// report their item collection when asked for SIZE; without an LSI, or
// without SIZE, nothing is reported (as DynamoDB does).
func TestItemCollectionMetrics(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createOrders(t, c) // LSI byStatus
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("plain"), AttributeDefinitions: defs("pk", "S", "sk", "N"), KeySchema: ks("pk", "sk"), BillingMode: "PAY_PER_REQUEST",
	})
	if err != nil {
		t.Fatal(err)
	}
	const size = types.ReturnItemCollectionMetricsSize

	p, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), ReturnItemCollectionMetrics: size,
		Item: item{"pk": S("o1"), "sk": N("1"), "st": S("open")}})
	if err != nil {
		t.Fatal(err)
	}
	checkCollection(t, "PutItem", p.ItemCollectionMetrics, "o1")
	u, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("orders"), ReturnItemCollectionMetrics: size,
		Key: item{"pk": S("o1"), "sk": N("2")}, UpdateExpression: aws.String("SET st = :s"), ExpressionAttributeValues: item{":s": S("done")}})
	if err != nil {
		t.Fatal(err)
	}
	checkCollection(t, "UpdateItem", u.ItemCollectionMetrics, "o1")
	d, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("orders"), ReturnItemCollectionMetrics: size,
		Key: item{"pk": S("o1"), "sk": N("2")}})
	if err != nil {
		t.Fatal(err)
	}
	checkCollection(t, "DeleteItem", d.ItemCollectionMetrics, "o1")

	// Not asked, or no local index: nothing.
	p, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: item{"pk": S("o1"), "sk": N("3")}})
	if err != nil || p.ItemCollectionMetrics != nil {
		t.Fatalf("PutItem without SIZE: %+v, %v", p, err)
	}
	p, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("plain"), ReturnItemCollectionMetrics: size, Item: item{"pk": S("a"), "sk": N("1")}})
	if err != nil || p.ItemCollectionMetrics != nil {
		t.Fatalf("PutItem on a table without LSI: %+v, %v", p, err)
	}

	// BatchWriteItem: one entry per partition key value written, per table
	// with a local index.
	b, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{ReturnItemCollectionMetrics: size, RequestItems: map[string][]types.WriteRequest{
		"orders": {
			{PutRequest: &types.PutRequest{Item: item{"pk": S("o2"), "sk": N("1")}}},
			{PutRequest: &types.PutRequest{Item: item{"pk": S("o2"), "sk": N("2")}}},
			{DeleteRequest: &types.DeleteRequest{Key: item{"pk": S("o1"), "sk": N("3")}}},
		},
		"plain": {{PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("1")}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.ItemCollectionMetrics) != 1 || len(b.ItemCollectionMetrics["orders"]) != 2 {
		t.Fatalf("BatchWriteItem ItemCollectionMetrics: %+v", b.ItemCollectionMetrics)
	}
	got := map[string]bool{}
	for i := range b.ItemCollectionMetrics["orders"] {
		m := &b.ItemCollectionMetrics["orders"][i]
		pk := m.ItemCollectionKey["pk"].(*types.AttributeValueMemberS).Value
		checkCollection(t, "BatchWriteItem "+pk, m, pk)
		got[pk] = true
	}
	if !got["o1"] || !got["o2"] {
		t.Fatalf("BatchWriteItem collections: %v, want o1 and o2", got)
	}

	// TransactWriteItems: the same map; a condition check writes nothing.
	// Replayed with its ClientRequestToken, it reports the collections again.
	for _, what := range []string{"TransactWriteItems", "TransactWriteItems replayed"} {
		tw, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ReturnItemCollectionMetrics: size,
			ClientRequestToken: aws.String("collection-token"), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String("orders"), Item: item{"pk": S("o3"), "sk": N("1")}}},
				{ConditionCheck: &types.ConditionCheck{TableName: aws.String("orders"), Key: item{"pk": S("o2"), "sk": N("1")},
					ConditionExpression: aws.String("attribute_exists(pk)")}},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tw.ItemCollectionMetrics) != 1 || len(tw.ItemCollectionMetrics["orders"]) != 1 || len(tw.ConsumedCapacity) != 1 {
			t.Fatalf("%s: metrics %+v, capacity %+v", what, tw.ItemCollectionMetrics, tw.ConsumedCapacity)
		}
		checkCollection(t, what, &tw.ItemCollectionMetrics["orders"][0], "o3")
	}
}
