package api_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func putReq(it item) types.WriteRequest {
	return types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
}

func delReq(key item) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key}}
}

func getItem(t *testing.T, c *dynamodb.Client, table string, key item) item {
	t.Helper()
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestBatchWriteAndGet(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "bt1", false)
	createTable(t, c, "bt2", true)

	var reqs1, reqs2 []types.WriteRequest
	for i := 0; i < 15; i++ {
		reqs1 = append(reqs1, putReq(item{"pk": S(fmt.Sprint("k", i)), "v": N(fmt.Sprint(i))}))
	}
	for i := 0; i < 10; i++ {
		reqs2 = append(reqs2, putReq(item{"pk": S("p"), "sk": N(fmt.Sprint(i)), "blob": S(strings.Repeat("x", 1500))}))
	}
	out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
		RequestItems:           map[string][]types.WriteRequest{"bt1": reqs1, "bt2": reqs2},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedItems) != 0 {
		t.Fatalf("unprocessed: %v", out.UnprocessedItems)
	}
	caps := map[string]float64{}
	for _, cc := range out.ConsumedCapacity {
		caps[*cc.TableName] = *cc.CapacityUnits
	}
	if caps["bt1"] != 15 || caps["bt2"] != 20 { // 1.5 KB items cost 2 units each
		t.Fatalf("capacity %v", caps)
	}

	// BatchGetItem across tables, with a projection on one of them.
	var keys1 []item
	for i := 0; i < 15; i++ {
		keys1 = append(keys1, item{"pk": S(fmt.Sprint("k", i))})
	}
	keys1 = append(keys1, item{"pk": S("missing")})
	g, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{
			"bt1": {Keys: keys1, ProjectionExpression: aws.String("#v"), ExpressionAttributeNames: map[string]string{"#v": "v"}, ConsistentRead: aws.Bool(true)},
			"bt2": {Keys: []item{{"pk": S("p"), "sk": N("3")}}, ProjectionExpression: aws.String("sk")}, // AttributesToGet here would mix styles, which DynamoDB refuses
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Responses["bt1"]) != 15 || len(g.UnprocessedKeys) != 0 {
		t.Fatalf("responses %d, unprocessed %d", len(g.Responses["bt1"]), len(g.UnprocessedKeys))
	}
	for _, it := range g.Responses["bt1"] {
		if len(it) != 1 || it["v"] == nil {
			t.Fatalf("projection not applied: %v", it)
		}
	}
	assertItem(t, g.Responses["bt2"][0], item{"sk": N("3")})
	caps = map[string]float64{}
	for _, cc := range g.ConsumedCapacity {
		caps[*cc.TableName] = *cc.CapacityUnits
	}
	if caps["bt1"] != 16 || caps["bt2"] != 0.5 {
		t.Fatalf("read capacity %v", caps)
	}

	// Deletes and puts mixed.
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"bt1": {delReq(item{"pk": S("k0")}), putReq(item{"pk": S("k1"), "v": S("new")})},
	}}); err != nil {
		t.Fatal(err)
	}
	if it := getItem(t, c, "bt1", item{"pk": S("k0")}); it != nil {
		t.Fatalf("k0 not deleted: %v", it)
	}
	assertItem(t, getItem(t, c, "bt1", item{"pk": S("k1")}), item{"pk": S("k1"), "v": S("new")})
}

func TestBatchErrors(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "bte", false)
	write := func(items map[string][]types.WriteRequest) error {
		_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: items})
		return err
	}
	apiErr(t, write(map[string][]types.WriteRequest{"bte": {putReq(item{"pk": S("a")}), delReq(item{"pk": S("a")})}}),
		"ValidationException", "Provided list of item keys contains duplicates")
	var many []types.WriteRequest
	for i := 0; i < 13; i++ {
		many = append(many, putReq(item{"pk": S(fmt.Sprint(i))}))
	}
	createTable(t, c, "bte2", false)
	apiErr(t, write(map[string][]types.WriteRequest{"bte": many, "bte2": many}), "ValidationException", "Too many items requested for the BatchWriteItem call")
	// A missing table or a bad key writes nothing at all.
	apiErr(t, write(map[string][]types.WriteRequest{"bte": {putReq(item{"pk": S("x")})}, "nope": {putReq(item{"pk": S("y")})}}),
		"ResourceNotFoundException", "Requested resource not found")
	apiErr(t, write(map[string][]types.WriteRequest{"bte": {putReq(item{"pk": S("x")}), putReq(item{"pk": N("1")})}}),
		"ValidationException", "The provided key element does not match the schema") // not PutItem's "Type mismatch for key"
	if it := getItem(t, c, "bte", item{"pk": S("x")}); it != nil {
		t.Fatalf("partial batch written: %v", it)
	}

	get := func(items map[string]types.KeysAndAttributes) error {
		_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: items})
		return err
	}
	apiErr(t, get(map[string]types.KeysAndAttributes{"bte": {Keys: []item{{"pk": S("a")}, {"pk": S("a")}}}}),
		"ValidationException", "Provided list of item keys contains duplicates")
	var keys []item
	for i := 0; i < 51; i++ {
		keys = append(keys, item{"pk": S(fmt.Sprint(i))})
	}
	apiErr(t, get(map[string]types.KeysAndAttributes{"bte": {Keys: keys}, "bte2": {Keys: keys}}),
		"ValidationException", "Too many items requested for the BatchGetItem call")
	apiErr(t, get(map[string]types.KeysAndAttributes{"bte": {Keys: keys[:1], AttributesToGet: []string{"a"}, ProjectionExpression: aws.String("a")}}),
		"ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
	// Each block consistent, but the tables mix the two styles: DynamoDB
	// refuses the whole request (dynamodb-conformance checks the type only).
	apiErr(t, get(map[string]types.KeysAndAttributes{"bte": {Keys: keys[:1], ProjectionExpression: aws.String("a")}, "bte2": {Keys: keys[:1], AttributesToGet: []string{"a"}}}),
		"ValidationException", "")
	apiErr(t, get(map[string]types.KeysAndAttributes{"nope": {Keys: keys[:1]}}), "ResourceNotFoundException", "Requested resource not found")
}

// TestBatchGetUnprocessedKeys reads 60 items of ~300 KB (18 MB): the answer
// stops below 16 MB and hands the rest back as UnprocessedKeys, which a
// second call completes.
func TestBatchGetUnprocessedKeys(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "big", false)
	blob := strings.Repeat("z", 300*1024)
	var keys []item
	for i := 0; i < 60; i += 20 {
		var reqs []types.WriteRequest
		for j := i; j < i+20; j++ {
			reqs = append(reqs, putReq(item{"pk": S(fmt.Sprintf("k%02d", j)), "blob": S(blob)}))
			keys = append(keys, item{"pk": S(fmt.Sprintf("k%02d", j))})
		}
		if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"big": reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	req := map[string]types.KeysAndAttributes{"big": {Keys: keys}}
	calls := 0
	for len(req) > 0 {
		calls++
		out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for _, it := range out.Responses["big"] {
			got[it["pk"].(*types.AttributeValueMemberS).Value] = true
			size += len(it["blob"].(*types.AttributeValueMemberS).Value)
		}
		if size > 16<<20 {
			t.Fatalf("response of %d bytes", size)
		}
		if calls == 1 && len(out.UnprocessedKeys["big"].Keys) == 0 {
			t.Fatal("no UnprocessedKeys past 16 MB")
		}
		req = out.UnprocessedKeys
	}
	if len(got) != 60 || calls != 2 {
		var ks []string
		for k := range got {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		t.Fatalf("got %d items in %d calls: %v", len(got), calls, ks)
	}
}
