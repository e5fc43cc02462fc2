package api_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestLocalIndexFilterFetch: a Query of a KEYS_ONLY local index whose
// filter reads an attribute the index does not project fetches the items
// from the table to evaluate it, and still returns what Select
// ALL_PROJECTED_ATTRIBUTES (the default on an index) promises: the
// projected attributes only.
func TestLocalIndexFilterFetch(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("lsif"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("l"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("lsik"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("l"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
		BillingMode: types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for i, extra := range []string{"yes", "no"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("lsif"),
			Item: item{"pk": S("p"), "sk": S(string(rune('a' + i))), "l": S("l" + extra), "extra": S(extra)}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("lsif"), IndexName: aws.String("lsik"),
		KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("extra = :y"),
		ExpressionAttributeValues: item{":p": S("p"), ":y": S("yes")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || out.ScannedCount != 2 {
		t.Fatalf("%d items of %d scanned, want 1 of 2", len(out.Items), out.ScannedCount)
	}
	var names []string
	for n := range out.Items[0] {
		names = append(names, n)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "l,pk,sk" {
		t.Fatalf("attributes %s, want the index's projection l,pk,sk", got)
	}
}

// TestLocalIndexFetchChargesPerItem: a read of a local index that fetches
// items from the table charges the table for each fetched item rounded up
// to 4 KB on its own ("The size of each matching item in the base table,
// with each item individually rounded up to the next 4 KB": DynamoDB
// developer guide, LSI.ThroughputConsiderations.Reads), not for their
// total rounded once. So a PartiQL read stopped by Limit after one item
// is charged less than the whole partition, as dynamodb-conformance
// tier2/partiql/indexQualifier ("a bounded reach-back walks fewer rows and
// is charged less") recorded from DynamoDB.
func TestLocalIndexFetchChargesPerItem(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("lsic"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("l"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("lsik"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("l"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
		BillingMode: types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		k := string(rune('a' + i))
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("lsic"),
			Item: item{"pk": S("p"), "sk": S(k), "l": S("l" + k), "extra": S("x" + k)}}); err != nil {
			t.Fatal(err)
		}
	}
	// Query: three tiny items fetched, strongly consistent: 1 unit each.
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("lsic"), IndexName: aws.String("lsik"),
		KeyConditionExpression: aws.String("pk = :p"), ProjectionExpression: aws.String("extra"),
		ExpressionAttributeValues: item{":p": S("p")}, ConsistentRead: aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	cc := out.ConsumedCapacity
	if len(out.Items) != 3 || cc == nil || cc.Table == nil || aws.ToFloat64(cc.Table.CapacityUnits) != 3 ||
		aws.ToFloat64(cc.LocalSecondaryIndexes["lsik"].CapacityUnits) != 1 || aws.ToFloat64(cc.CapacityUnits) != 4 {
		t.Fatalf("%d items, consumed %v (table %v, index %v), want 3 items, total 4, table 3, index 1", len(out.Items),
			aws.ToFloat64(cc.CapacityUnits), aws.ToFloat64(cc.Table.CapacityUnits),
			aws.ToFloat64(cc.LocalSecondaryIndexes["lsik"].CapacityUnits))
	}
	// PartiQL, eventually consistent: half a unit per fetched item.
	tableUnits := func(limit int32) float64 {
		in := &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT extra FROM "lsic"."lsik" WHERE pk = 'p'`),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := c.ExecuteStatement(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToFloat64(out.ConsumedCapacity.Table.CapacityUnits)
	}
	if one, all := tableUnits(1), tableUnits(0); one != 0.5 || all != 1.5 {
		t.Fatalf("table units %v with Limit 1, %v without, want 0.5 and 1.5", one, all)
	}
}
