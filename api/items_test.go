package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

type item = map[string]types.AttributeValue

func L(v ...types.AttributeValue) types.AttributeValue { return &types.AttributeValueMemberL{Value: v} }
func M(m item) types.AttributeValue                    { return &types.AttributeValueMemberM{Value: m} }

// allTypes is one item holding every attribute type, with the edge values
// DynamoDB allows: 38-digit numbers at both ends of the range, empty
// strings and binaries outside keys, deep nesting.
func allTypes(pk string) item {
	return item{
		"pk":     S(pk),
		"s":      S("héllo \"world\"\n\u2028"),
		"empty":  S(""),
		"n38":    N("12345678901234567890123456789012345678"),
		"nneg":   N("-0.0000000000000000000000000000000000012345678901234567890123456789012345678"),
		"nbig":   N("9.9999999999999999999999999999999999999E+125"),
		"nsml":   N("1E-130"),
		"b":      &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"bempty": &types.AttributeValueMemberB{Value: []byte{}},
		"t":      &types.AttributeValueMemberBOOL{Value: true},
		"f":      &types.AttributeValueMemberBOOL{Value: false},
		"null":   &types.AttributeValueMemberNULL{Value: true},
		"ss":     &types.AttributeValueMemberSS{Value: []string{"a", "b", ""}},
		"ns":     &types.AttributeValueMemberNS{Value: []string{"1", "-2.5", "1e10"}},
		"bs":     &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"m": M(item{"l": L(N("1"), M(item{"deep": L(L(L(S("x"))))}), &types.AttributeValueMemberNULL{Value: true}),
			"emptyM": M(item{}), "emptyL": L()}),
	}
}

func TestAllTypesRoundTrip(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "types", false)
	in := allTypes("k1")
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("types"), Item: in}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("types"), Key: item{"pk": S("k1")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	want := allTypes("k1")
	// Numbers come back canonical, as DynamoDB returns them.
	want["nneg"] = N("-0.0000000000000000000000000000000000012345678901234567890123456789012345678")
	want["nbig"] = N("99999999999999999999999999999999999999" + strings.Repeat("0", 88))
	want["nsml"] = N("0." + strings.Repeat("0", 129) + "1")
	want["ns"] = &types.AttributeValueMemberNS{Value: []string{"1", "-2.5", "10000000000"}}
	assertItem(t, out.Item, want)
}

func TestConditionsAndUpdates(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "things", true)
	key := item{"pk": S("a"), "sk": N("1")}
	put := func(it item, cond string, names map[string]string, vals item) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("things"), Item: it, ConditionExpression: optional(cond),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
		return err
	}
	base := item{"pk": S("a"), "sk": N("1"), "count": N("5"), "tags": &types.AttributeValueMemberSS{Value: []string{"x", "y"}},
		"colors": &types.AttributeValueMemberSS{Value: []string{"red", "blue"}}, "name": S("alpha"), "list": L(N("1"), N("2"), N("3")), "m": M(item{"k": S("v")}), "bin": &types.AttributeValueMemberB{Value: []byte("abc")}}
	if err := put(base, "attribute_not_exists(pk)", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := put(base, "attribute_not_exists(pk)", nil, nil)
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")

	// Each condition function and comparator, true and false.
	conds := []struct {
		expr string
		vals item
		want bool
	}{
		{"#c = :v", item{":v": N("5")}, true},
		{"#c <> :v", item{":v": N("5")}, false},
		{"#c < :v", item{":v": N("5.0000000000000000000000000000000000001")}, true},
		{"#c <= :v", item{":v": N("5")}, true},
		{"#c > :v", item{":v": N("4.99999999999999999999999999999999999")}, true},
		{"#c >= :v", item{":v": N("6")}, false},
		{"#c BETWEEN :a AND :b", item{":a": N("1"), ":b": N("5")}, true},
		{"#c IN (:a, :b)", item{":a": N("1"), ":b": N("5")}, true},
		{"attribute_exists(#c) AND attribute_not_exists(nope)", nil, true},
		{"attribute_type(#c, :t)", item{":t": S("N")}, true},
		{"attribute_type(tags, :t)", item{":t": S("SS")}, true},
		{"begins_with(#n, :p)", item{":p": S("al")}, true},
		{"begins_with(bin, :p)", item{":p": &types.AttributeValueMemberB{Value: []byte("ab")}}, true},
		{"contains(#n, :p)", item{":p": S("ph")}, true},
		{"contains(tags, :p)", item{":p": S("y")}, true},
		{"contains(#l, :p)", item{":p": N("2")}, true},
		{"size(#n) = :v", item{":v": N("5")}, true},
		{"size(tags) = :v AND size(#l) = :w AND size(m) = :x", item{":v": N("2"), ":w": N("3"), ":x": N("1")}, true},
		{"NOT (#c = :v) OR (m.k = :s)", item{":v": N("5"), ":s": S("v")}, true},
		{"#l[1] = :v", item{":v": N("2")}, true},
		{"#c = :s", item{":s": S("5")}, false}, // type mismatch is false, not an error
	}
	for _, tc := range conds {
		names := map[string]string{"#c": "count"}
		if strings.Contains(tc.expr, "#n") {
			names["#n"] = "name"
		}
		if strings.Contains(tc.expr, "#l") {
			names["#l"] = "list"
		}
		if !strings.Contains(tc.expr, "#c") {
			delete(names, "#c")
		}
		if len(names) == 0 {
			names = nil // DynamoDB rejects an empty map
		}
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("things"), Key: key,
			ConditionExpression: aws.String(tc.expr + " AND attribute_not_exists(pk)"), ExpressionAttributeNames: names, ExpressionAttributeValues: tc.vals})
		// "AND attribute_not_exists(pk)" keeps the item; we only learn the condition's value.
		apiErr(t, err, "ConditionalCheckFailedException", "")
		_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("things"), Key: key, UpdateExpression: aws.String("SET probe = :probe"),
			ConditionExpression: aws.String(tc.expr), ExpressionAttributeNames: names, ExpressionAttributeValues: merge(tc.vals, item{":probe": S(tc.expr)})})
		if tc.want && err != nil {
			t.Errorf("%s: want true, got %v", tc.expr, err)
		}
		if !tc.want {
			apiErr(t, err, "ConditionalCheckFailedException", "")
		}
	}

	// Every update action, with ReturnValues.
	up, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("things"), Key: key,
		UpdateExpression: aws.String("SET #c = #c + :one, newattr = if_not_exists(newattr, :z), #l = list_append(#l, :more), m.k2 = :v " +
			"REMOVE probe ADD tags :t, visits :one DELETE colors :x"),
		ExpressionAttributeNames:  map[string]string{"#c": "count", "#l": "list"},
		ExpressionAttributeValues: item{":one": N("1"), ":z": N("0"), ":more": L(N("4")), ":v": S("w"), ":t": &types.AttributeValueMemberSS{Value: []string{"z"}}, ":x": &types.AttributeValueMemberSS{Value: []string{"red"}}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, up.Attributes, item{"pk": S("a"), "sk": N("1"), "count": N("6"), "newattr": N("0"), "list": L(N("1"), N("2"), N("3"), N("4")),
		"m": M(item{"k": S("v"), "k2": S("w")}), "tags": &types.AttributeValueMemberSS{Value: []string{"x", "y", "z"}}, "visits": N("1"),
		"colors": &types.AttributeValueMemberSS{Value: []string{"blue"}},
		"name":   S("alpha"), "bin": &types.AttributeValueMemberB{Value: []byte("abc")}})

	up, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("things"), Key: key,
		UpdateExpression: aws.String("SET #c = #c - :one, m.k = :v REMOVE #l[0]"), ExpressionAttributeNames: map[string]string{"#c": "count", "#l": "list"},
		ExpressionAttributeValues: item{":one": N("1"), ":v": S("new")}, ReturnValues: types.ReturnValueUpdatedOld})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, up.Attributes, item{"count": N("6"), "m": M(item{"k": S("v")}), "list": L(N("1"))})
	up, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("things"), Key: key,
		UpdateExpression: aws.String("SET #c = #c - :one"), ExpressionAttributeNames: map[string]string{"#c": "count"},
		ExpressionAttributeValues: item{":one": N("1")}, ReturnValues: types.ReturnValueUpdatedNew})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, up.Attributes, item{"count": N("4")})

	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("things"), Key: key,
		UpdateExpression: aws.String("SET pk = :v"), ExpressionAttributeValues: item{":v": S("b")}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key")

	// UpdateItem creates a missing item from its key.
	up, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("things"), Key: item{"pk": S("new"), "sk": N("2")},
		UpdateExpression: aws.String("ADD hits :one"), ExpressionAttributeValues: item{":one": N("1")}, ReturnValues: types.ReturnValueAllNew})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, up.Attributes, item{"pk": S("new"), "sk": N("2"), "hits": N("1")})

	// ReturnValuesOnConditionCheckFailure hands back the current item.
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("things"), Item: item{"pk": S("new"), "sk": N("2")},
		ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !asErr(err, &ccf) || ccf.Item == nil {
		t.Fatalf("want ConditionalCheckFailedException with Item, got %v", err)
	}
	assertItem(t, ccf.Item, item{"pk": S("new"), "sk": N("2"), "hits": N("1")})

	// Put and Delete ReturnValues ALL_OLD, capacity units.
	p, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("things"), Item: item{"pk": S("new"), "sk": N("2"), "big": S(strings.Repeat("x", 3000))},
		ReturnValues: types.ReturnValueAllOld, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, p.Attributes, item{"pk": S("new"), "sk": N("2"), "hits": N("1")})
	if *p.ConsumedCapacity.CapacityUnits != 3 || *p.ConsumedCapacity.TableName != "things" {
		t.Fatalf("put capacity: %+v", p.ConsumedCapacity)
	}
	g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("things"), Key: item{"pk": S("new"), "sk": N("2")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes,
		ProjectionExpression: aws.String("pk, big")})
	if err != nil || *g.ConsumedCapacity.CapacityUnits != 0.5 || *g.ConsumedCapacity.Table.CapacityUnits != 0.5 || len(g.Item) != 2 {
		t.Fatalf("get: %+v %v", g, err)
	}
	g, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("things"), Key: item{"pk": S("new"), "sk": N("2")}, ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || *g.ConsumedCapacity.CapacityUnits != 1 {
		t.Fatalf("consistent get capacity: %+v %v", g.ConsumedCapacity, err)
	}
	d, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("things"), Key: item{"pk": S("new"), "sk": N("2")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || len(d.Attributes) != 3 {
		t.Fatalf("delete: %+v %v", d, err)
	}
	g, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("things"), Key: item{"pk": S("new"), "sk": N("2")}})
	if err != nil || g.Item != nil {
		t.Fatalf("deleted item still there: %+v %v", g.Item, err)
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := eddytest.Start(t, server.Options{DataDir: dir})
	createTable(t, s.DDB, "durable", false)
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("durable"), Item: allTypes(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("durable"), Key: item{"pk": S("b")}}); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	for k, present := range map[string]bool{"a": true, "b": false, "c": true} {
		g, err := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("durable"), Key: item{"pk": S(k)}})
		if err != nil {
			t.Fatal(err)
		}
		if (g.Item != nil) != present {
			t.Fatalf("item %s present=%v after restart", k, g.Item != nil)
		}
	}
	d, err := s.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("durable")})
	if err != nil || *d.Table.ItemCount != 2 {
		t.Fatalf("after restart: %+v %v", d, err)
	}
	// New tables after a restart get fresh IDs (no resurrected items).
	createTable(t, s.DDB, "durable2", false)
	g, _ := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("durable2"), Key: item{"pk": S("a")}})
	if g.Item != nil {
		t.Fatal("new table sees another table's item")
	}
}
