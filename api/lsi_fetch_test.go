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
