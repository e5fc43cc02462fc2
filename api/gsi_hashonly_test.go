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

// TestGSISortKeyOnHashOnlyTable: a global index with a sort key, on a table
// whose own key has none, answers Query sort-key conditions (it answered
// 500: the read looked up the table's missing sort key), pages, reads
// backwards, and serves PartiQL.
func TestGSISortKeyOnHashOnlyTable(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("gsiho"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("r"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byg"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("r"), KeyType: types.KeyTypeRange}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"a", "b", "c"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("gsiho"), Item: item{"pk": S(pk), "g": S("G"), "r": S("r-" + pk)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		cond string
		vals item
		want int
	}{
		{"g = :g AND r = :r", item{":r": S("r-b")}, 1},
		{"g = :g AND r >= :r", item{":r": S("r-b")}, 2},
		{"g = :g AND r < :r", item{":r": S("r-b")}, 1},
		{"g = :g AND begins_with(r, :r)", item{":r": S("r-")}, 3},
		{"g = :g AND r BETWEEN :a AND :b", item{":a": S("r-a"), ":b": S("r-b")}, 2},
		{"g = :g", item{}, 3},
	} {
		q.vals[":g"] = S("G")
		for _, fwd := range []bool{true, false} {
			var got []string
			var start item
			for {
				out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("gsiho"), IndexName: aws.String("byg"), Limit: aws.Int32(1),
					KeyConditionExpression: aws.String(q.cond), ExpressionAttributeValues: q.vals, ScanIndexForward: aws.Bool(fwd), ExclusiveStartKey: start})
				if err != nil {
					t.Fatalf("%s: %v", q.cond, err)
				}
				for _, it := range out.Items {
					got = append(got, it["r"].(*types.AttributeValueMemberS).Value)
				}
				if start = out.LastEvaluatedKey; start == nil {
					break
				}
			}
			if len(got) != q.want {
				t.Errorf("%s (forward %v): %v, want %d items", q.cond, fwd, got, q.want)
			}
			for i := 1; i < len(got); i++ {
				if (got[i-1] < got[i]) != fwd {
					t.Errorf("%s (forward %v): out of order: %v", q.cond, fwd, got)
				}
			}
		}
	}
	var scanned int
	for start := item(nil); ; {
		out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("gsiho"), IndexName: aws.String("byg"), Limit: aws.Int32(1), ExclusiveStartKey: start,
			FilterExpression: aws.String("r > :r"), ExpressionAttributeValues: item{":r": S("r-a")}})
		if err != nil {
			t.Fatalf("Scan of the index: %v", err)
		}
		scanned += len(out.Items)
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	if scanned != 2 {
		t.Errorf("Scan of the index with a filter: %d items, want 2", scanned)
	}
	pq, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "gsiho"."byg" WHERE g = 'G' AND r >= 'r-b'`)})
	if err != nil || len(pq.Items) != 2 {
		t.Fatalf("PartiQL on the index: %v items, %v", len(pq.Items), err)
	}
}

// TestBackfillSkipsEmptyIndexKeys: an index added to a table whose items
// hold an empty string or binary in the new index's key attribute leaves
// those items out of the index, as DynamoDB does, and counts only the rest.
func TestBackfillSkipsEmptyIndexKeys(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "bfempty", false)
	for pk, g := range map[string]types.AttributeValue{"a": S("x"), "b": S(""), "c": S("y"), "d": N("1")} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bfempty"), Item: item{"pk": S(pk), "g": g}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("bfempty"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String("byg"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}}, Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}}}); err != nil {
		t.Fatal(err)
	}
	td := waitActive(t, c, "bfempty")
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("bfempty"), IndexName: aws.String("byg")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, it["pk"].(*types.AttributeValueMemberS).Value)
	}
	if len(got) != 2 || (got[0] != "a" && got[0] != "c") || (got[1] != "a" && got[1] != "c") {
		t.Fatalf("index holds %v, want a and c (b's key is empty, d's is a number)", got)
	}
	if n := aws.ToInt64(td.GlobalSecondaryIndexes[0].ItemCount); n != 2 {
		t.Errorf("index ItemCount %d, want 2", n)
	}
}

// TestIndexKeySizeLimits: an index key value over DynamoDB's limits (2048
// bytes for an index's partition key, 1024 for its sort key) is refused on
// write with DynamoDB's message (recorded in dynalite issue 35), and a
// backfill leaves items holding one out of the index.
func TestIndexKeySizeLimits(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "bfsize", false)
	long := func(n int) types.AttributeValue { return S(strings.Repeat("x", n)) }
	for pk, it := range map[string]item{
		"a": {"g": S("x"), "r": S("r")},
		"b": {"g": long(2049), "r": S("r")},
		"c": {"g": S("y"), "r": long(1025)},
		"d": {"g": long(2048), "r": long(1024)},
	} {
		it["pk"] = S(pk)
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bfsize"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ix := range []struct {
		name string
		keys []types.KeySchemaElement
	}{
		{"byg", []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}}},
		{"bygr", []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("r"), KeyType: types.KeyTypeRange}}},
	} {
		if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("bfsize"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("r"), AttributeType: types.ScalarAttributeTypeS}},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String(ix.name),
				KeySchema: ix.keys, Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}}}}); err != nil {
			t.Fatal(err)
		}
		waitActive(t, c, "bfsize")
	}
	for ix, want := range map[string]string{"byg": "acd", "bygr": "ad"} {
		out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("bfsize"), IndexName: aws.String(ix)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range out.Items {
			got = append(got, it["pk"].(*types.AttributeValueMemberS).Value)
		}
		sort.Strings(got)
		if strings.Join(got, "") != want {
			t.Errorf("index %s holds %v, want %s", ix, got, want)
		}
	}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bfsize"), Item: item{"pk": S("e"), "g": long(2049)}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Size limit exceeded for Index Key g Actual Size: 2049 bytes Max Size: 2048 bytes IndexName: byg")
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("bfsize"), Key: item{"pk": S("a")},
		UpdateExpression: aws.String("SET r = :r"), ExpressionAttributeValues: item{":r": long(1025)}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Size limit exceeded for Index Key r Actual Size: 1025 bytes Max Size: 1024 bytes IndexName: bygr")
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("bfsize"), Item: item{"pk": S("e"), "g": long(2049)}}}}})
	if err == nil {
		t.Error("a transaction wrote an index key over the limit")
	}
}
