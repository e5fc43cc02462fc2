package api_test

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func ks(hash, rng string) []types.KeySchemaElement {
	k := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: "HASH"}}
	if rng != "" {
		k = append(k, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: "RANGE"})
	}
	return k
}

func defs(nameTypes ...string) []types.AttributeDefinition {
	var out []types.AttributeDefinition
	for i := 0; i < len(nameTypes); i += 2 {
		out = append(out, types.AttributeDefinition{AttributeName: aws.String(nameTypes[i]), AttributeType: types.ScalarAttributeType(nameTypes[i+1])})
	}
	return out
}

// orders: pk=order id; GSI byCustomer (customer, total) KEYS_ONLY+INCLUDE;
// LSI byStatus (pk, status) KEYS_ONLY.
func createOrders(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("orders"),
		AttributeDefinitions: defs("pk", "S", "sk", "N", "customer", "S", "amt", "N", "st", "S"),
		KeySchema:            ks("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byCustomer"), KeySchema: ks("customer", "amt"),
			Projection: &types.Projection{ProjectionType: "INCLUDE", NonKeyAttributes: []string{"note"}}}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("byStatus"), KeySchema: ks("pk", "st"),
			Projection: &types.Projection{ProjectionType: "KEYS_ONLY"}}},
		BillingMode: "PAY_PER_REQUEST",
	})
	if err != nil {
		t.Fatal(err)
	}
}

func queryIndex(t *testing.T, c *dynamodb.Client, index, kce string, v item, mod func(*dynamodb.QueryInput)) *dynamodb.QueryOutput {
	t.Helper()
	in := &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String(index), KeyConditionExpression: aws.String(kce), ExpressionAttributeValues: v}
	if mod != nil {
		mod(in)
	}
	out, err := c.Query(ctx, in)
	if err != nil {
		t.Fatalf("Query %s %s: %v", index, kce, err)
	}
	return out
}

func strs(t *testing.T, items []item, name string) []string {
	var out []string
	for _, it := range items {
		switch v := it[name].(type) {
		case *types.AttributeValueMemberS:
			out = append(out, v.Value)
		case *types.AttributeValueMemberN:
			out = append(out, v.Value)
		default:
			out = append(out, "?")
		}
	}
	return out
}

func TestGlobalSecondaryIndex(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createOrders(t, c)
	put(t, c, "orders", item{"pk": S("o1"), "sk": N("1"), "customer": S("alice"), "amt": N("30"), "note": S("n1"), "secret": S("x"), "st": S("open")})
	put(t, c, "orders", item{"pk": S("o2"), "sk": N("1"), "customer": S("alice"), "amt": N("10"), "st": S("done")})
	put(t, c, "orders", item{"pk": S("o3"), "sk": N("1"), "customer": S("bob"), "amt": N("20")})
	put(t, c, "orders", item{"pk": S("o4"), "sk": N("1"), "amt": N("5")}) // sparse: no customer

	out := queryIndex(t, c, "byCustomer", "customer = :c", item{":c": S("alice")}, nil)
	if fmt.Sprint(strs(t, out.Items, "pk")) != "[o2 o1]" {
		t.Fatalf("alice: %v", strs(t, out.Items, "pk"))
	}
	// INCLUDE projection: keys + note, not secret or status.
	assertItem(t, out.Items[1], item{"pk": S("o1"), "sk": N("1"), "customer": S("alice"), "amt": N("30"), "note": S("n1")})

	// Move o1 from alice to bob, drop o2 out of the sparse index.
	put(t, c, "orders", item{"pk": S("o1"), "sk": N("1"), "customer": S("bob"), "amt": N("30")})
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("orders"), Key: item{"pk": S("o2"), "sk": N("1")},
		UpdateExpression: aws.String("REMOVE customer")}); err != nil {
		t.Fatal(err)
	}
	if out := queryIndex(t, c, "byCustomer", "customer = :c", item{":c": S("alice")}, nil); out.Count != 0 {
		t.Fatalf("alice after moves: %v", out.Items)
	}
	out = queryIndex(t, c, "byCustomer", "customer = :c AND amt >= :t", item{":c": S("bob"), ":t": N("20")}, func(in *dynamodb.QueryInput) {
		in.ScanIndexForward = aws.Bool(false)
		in.Limit = aws.Int32(1)
	})
	if fmt.Sprint(strs(t, out.Items, "pk")) != "[o1]" {
		t.Fatalf("bob desc: %v", strs(t, out.Items, "pk"))
	}
	// LastEvaluatedKey holds the table key and the index key.
	assertItem(t, out.LastEvaluatedKey, item{"pk": S("o1"), "sk": N("1"), "customer": S("bob"), "amt": N("30")})
	out = queryIndex(t, c, "byCustomer", "customer = :c AND amt >= :t", item{":c": S("bob"), ":t": N("20")}, func(in *dynamodb.QueryInput) {
		in.ScanIndexForward = aws.Bool(false)
		in.ExclusiveStartKey = item{"pk": S("o1"), "sk": N("1"), "customer": S("bob"), "amt": N("30")}
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	})
	if fmt.Sprint(strs(t, out.Items, "pk")) != "[o3]" {
		t.Fatalf("bob page 2: %v", strs(t, out.Items, "pk"))
	}
	if cc := out.ConsumedCapacity; cc == nil || cc.GlobalSecondaryIndexes["byCustomer"].CapacityUnits == nil || *cc.GlobalSecondaryIndexes["byCustomer"].CapacityUnits != 0.5 {
		t.Fatalf("capacity: %+v", out.ConsumedCapacity)
	}
	// Errors.
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: item{"pk": S("o9"), "sk": N("1"), "customer": N("7")}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Type mismatch for Index Key customer Expected: S Actual: N IndexName: byCustomer")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("byCustomer"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("customer = :c"), ExpressionAttributeValues: item{":c": S("bob")}})
	apiErr(t, err, "ValidationException", "Consistent reads are not supported on global secondary indexes")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("byCustomer"), Select: types.SelectAllAttributes,
		KeyConditionExpression: aws.String("customer = :c"), ExpressionAttributeValues: item{":c": S("bob")}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byCustomer because its projection type is not ALL")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("byCustomer"),
		KeyConditionExpression: aws.String("pk = :c"), ExpressionAttributeValues: item{":c": S("bob")}})
	apiErr(t, err, "ValidationException", "Query condition missed key schema element: customer")

	// DescribeTable shows both indexes with their counts.
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	g := d.Table.GlobalSecondaryIndexes[0]
	if *g.IndexName != "byCustomer" || g.IndexStatus != "ACTIVE" || *g.ItemCount != 2 || g.Projection.ProjectionType != "INCLUDE" ||
		*g.IndexArn != *d.Table.TableArn+"/index/byCustomer" || *g.IndexSizeBytes == 0 {
		t.Fatalf("GSI description: %+v", g)
	}
	l := d.Table.LocalSecondaryIndexes[0]
	if *l.IndexName != "byStatus" || *l.ItemCount != 1 || *l.KeySchema[1].AttributeName != "st" {
		t.Fatalf("LSI description: %+v (count %d)", l, *l.ItemCount)
	}
}

func TestIndexScan(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createOrders(t, c)
	for i := 0; i < 40; i++ {
		it := item{"pk": S(fmt.Sprint("o", i)), "sk": N("1"), "amt": N(strconv.Itoa(i))}
		if i%4 != 0 {
			it["customer"] = S(fmt.Sprint("c", i%3))
		}
		put(t, c, "orders", it)
	}
	seen := map[string]int{}
	for seg := int32(0); seg < 4; seg++ {
		out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("orders"), IndexName: aws.String("byCustomer"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(4)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range strs(t, out.Items, "pk") {
			seen[p]++
		}
	}
	if len(seen) != 30 {
		t.Fatalf("index scan saw %d items, want 30", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", k, n)
		}
	}
}

func TestLocalSecondaryIndex(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createOrders(t, c)
	for i, st := range []string{"b", "a", "c", "a"} {
		put(t, c, "orders", item{"pk": S("o1"), "sk": N(strconv.Itoa(i)), "st": S(st), "secret": S(fmt.Sprint("s", i))})
	}
	put(t, c, "orders", item{"pk": S("o1"), "sk": N("9")}) // not in the LSI
	out := queryIndex(t, c, "byStatus", "pk = :p AND st BETWEEN :a AND :b", item{":p": S("o1"), ":a": S("a"), ":b": S("b")},
		func(in *dynamodb.QueryInput) { in.ConsistentRead = aws.Bool(true) })
	if fmt.Sprint(strs(t, out.Items, "sk")) != "[1 3 0]" {
		t.Fatalf("LSI order: %v", strs(t, out.Items, "sk"))
	}
	// KEYS_ONLY: secret is not projected ...
	if _, ok := out.Items[0]["secret"]; ok {
		t.Fatalf("KEYS_ONLY returned %v", out.Items[0])
	}
	// ... but ALL_ATTRIBUTES on a local index fetches it from the table.
	out = queryIndex(t, c, "byStatus", "pk = :p AND st = :a", item{":p": S("o1"), ":a": S("c")},
		func(in *dynamodb.QueryInput) {
			in.Select = types.SelectAllAttributes
			in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
		})
	assertItem(t, out.Items[0], item{"pk": S("o1"), "sk": N("2"), "st": S("c"), "secret": S("s2")})
	if cc := out.ConsumedCapacity; cc == nil || *cc.CapacityUnits != 1 || *cc.Table.CapacityUnits != 0.5 {
		t.Fatalf("LSI fetch capacity: %+v", out.ConsumedCapacity)
	}
	out = queryIndex(t, c, "byStatus", "pk = :p", item{":p": S("o1")}, func(in *dynamodb.QueryInput) { in.Select = types.SelectCount })
	if out.Count != 4 {
		t.Fatalf("LSI count: %d", out.Count)
	}
}

func TestGSIBackfill(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "bfill", true)
	for i := 0; i < 600; i++ {
		it := item{"pk": S(fmt.Sprint("p", i%7)), "sk": N(strconv.Itoa(i))}
		if i%2 == 0 {
			it["color"] = S([]string{"red", "blue"}[i%4/2])
		}
		put(t, c, "bfill", it)
	}
	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("bfill"), AttributeDefinitions: defs("color", "S"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String("byColor"), KeySchema: ks("color", "sk"), Projection: &types.Projection{ProjectionType: "ALL"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Writes during the backfill are indexed too.
	put(t, c, "bfill", item{"pk": S("new"), "sk": N("1000"), "color": S("red")})
	deadline := time.Now().Add(10 * time.Second)
	var g types.GlobalSecondaryIndexDescription
	for {
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bfill")})
		if err != nil {
			t.Fatal(err)
		}
		g = d.Table.GlobalSecondaryIndexes[0]
		if g.IndexStatus == "ACTIVE" {
			break
		}
		if g.IndexStatus != "CREATING" || g.Backfilling == nil || !*g.Backfilling {
			t.Fatalf("during backfill: %s %v", g.IndexStatus, g.Backfilling)
		}
		if time.Now().After(deadline) {
			t.Fatal("backfill never finished")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if g.Backfilling != nil || *g.ItemCount != 301 {
		t.Fatalf("after backfill: backfilling %v count %d", g.Backfilling, *g.ItemCount)
	}
	var got []int
	var start item
	for {
		out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("bfill"), IndexName: aws.String("byColor"),
			KeyConditionExpression: aws.String("color = :c"), ExpressionAttributeValues: item{":c": S("red")}, Limit: aws.Int32(50), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, sks(t, out.Items)...)
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	if len(got) != 151 || !sort.IntsAreSorted(got) || got[150] != 1000 {
		t.Fatalf("red: %d items, sorted %v", len(got), sort.IntsAreSorted(got))
	}
	// Delete the index: gone from the description and from reads.
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("bfill"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("byColor")}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("bfill"), IndexName: aws.String("byColor"),
		KeyConditionExpression: aws.String("color = :c"), ExpressionAttributeValues: item{":c": S("red")}})
	apiErr(t, err, "ValidationException", "The table does not have the specified index: byColor")
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("bfill"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("byColor")}}}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Index: byColor not found")
}

func TestIndexDefinitionErrors(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	base := func() *dynamodb.CreateTableInput {
		return &dynamodb.CreateTableInput{TableName: aws.String("bad"), AttributeDefinitions: defs("pk", "S", "sk", "S", "g", "S"),
			KeySchema: ks("pk", "sk"), BillingMode: "PAY_PER_REQUEST"}
	}
	gsi := func(name, hash, rng, proj string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: ks(hash, rng), Projection: &types.Projection{ProjectionType: types.ProjectionType(proj)}}
	}
	cases := []struct {
		name string
		mod  func(*dynamodb.CreateTableInput)
		msg  string
	}{
		{"undefined key", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("ix1", "zz", "", "ALL")}
		}, "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [zz], AttributeDefinitions: [pk, sk, g]"},
		{"duplicate", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("ix1", "g", "", "ALL"), gsi("ix1", "g", "", "ALL")}
		}, "One or more parameter values were invalid: Duplicate index name: ix1"},
		{"nonkey without include", func(in *dynamodb.CreateTableInput) {
			ix := gsi("ix1", "g", "", "ALL")
			ix.Projection.NonKeyAttributes = []string{"a"}
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{ix}
		}, "One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified"},
		{"lsi other hash", func(in *dynamodb.CreateTableInput) {
			in.LocalSecondaryIndexes = []types.LocalSecondaryIndex{{IndexName: aws.String("lix"), KeySchema: ks("g", "sk"), Projection: &types.Projection{ProjectionType: "ALL"}}}
		}, "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: lix. index hash key: g, table hash key: pk"},
		{"unused definition", func(in *dynamodb.CreateTableInput) {
			in.AttributeDefinitions = defs("pk", "S", "sk", "S", "g", "S", "h", "S")
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("ix1", "g", "", "ALL")}
		}, "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
		{"short name", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("ix", "g", "", "ALL")}
		}, "1 validation error detected: Value 'ix' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.mod(in)
			_, err := c.CreateTable(ctx, in)
			apiErr(t, err, "ValidationException", tc.msg)
		})
	}
}
