package api_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func put(t testing.TB, c *dynamodb.Client, table string, it item) {
	t.Helper()
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		t.Fatalf("PutItem %v: %v", it, err)
	}
}

func nval(t testing.TB, v types.AttributeValue) int {
	t.Helper()
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("not a number: %#v", v)
	}
	i, err := strconv.Atoi(n.Value)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func sks(t testing.TB, items []item) []int {
	var out []int
	for _, it := range items {
		out = append(out, nval(t, it["sk"]))
	}
	return out
}

func TestQueryKeyConditions(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "qry", true)
	for i := 1; i <= 20; i++ {
		put(t, c, "qry", item{"pk": S("a"), "sk": N(strconv.Itoa(i)), "odd": &types.AttributeValueMemberBOOL{Value: i%2 == 1}, "pad": S(strings.Repeat("x", 100))})
		put(t, c, "qry", item{"pk": S("b"), "sk": N(strconv.Itoa(i))})
	}
	q := func(kce string, v map[string]types.AttributeValue, mod func(*dynamodb.QueryInput)) *dynamodb.QueryOutput {
		t.Helper()
		in := &dynamodb.QueryInput{TableName: aws.String("qry"), KeyConditionExpression: aws.String(kce), ExpressionAttributeValues: v}
		if mod != nil {
			mod(in)
		}
		out, err := c.Query(ctx, in)
		if err != nil {
			t.Fatalf("Query %s: %v", kce, err)
		}
		return out
	}
	a := item{":p": S("a")}
	with := func(k string, v types.AttributeValue) item { return merge(a, item{k: v}) }
	cases := []struct {
		kce  string
		vals item
		want []int
	}{
		{"pk = :p", a, seq(1, 20)},
		{"pk = :p AND sk = :v", with(":v", N("7")), []int{7}},
		{"pk = :p AND sk < :v", with(":v", N("4")), []int{1, 2, 3}},
		{"pk = :p AND sk <= :v", with(":v", N("4")), []int{1, 2, 3, 4}},
		{"pk = :p AND sk > :v", with(":v", N("17")), []int{18, 19, 20}},
		{"pk = :p AND :v < sk", with(":v", N("17")), []int{18, 19, 20}},
		{"pk = :p AND sk >= :v", with(":v", N("17")), []int{17, 18, 19, 20}},
		{"sk BETWEEN :lo AND :hi AND pk = :p", merge(a, item{":lo": N("5"), ":hi": N("8")}), []int{5, 6, 7, 8}},
	}
	for _, tc := range cases {
		out := q(tc.kce, tc.vals, nil)
		if got := sks(t, out.Items); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v want %v", tc.kce, got, tc.want)
		}
		if int(out.Count) != len(tc.want) || int(out.ScannedCount) != len(tc.want) || out.LastEvaluatedKey != nil {
			t.Errorf("%s: Count %d ScannedCount %d LEK %v", tc.kce, out.Count, out.ScannedCount, out.LastEvaluatedKey)
		}
		rev := q(tc.kce, tc.vals, func(in *dynamodb.QueryInput) { in.ScanIndexForward = aws.Bool(false) })
		if got, want := sks(t, rev.Items), reverse(tc.want); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s reverse: got %v want %v", tc.kce, got, want)
		}
	}

	// Filter: Count after, ScannedCount before; Limit counts items read.
	out := q("pk = :p", merge(a, item{":t": &types.AttributeValueMemberBOOL{Value: true}}), func(in *dynamodb.QueryInput) {
		in.FilterExpression = aws.String("odd = :t")
		in.Limit = aws.Int32(6)
	})
	if fmt.Sprint(sks(t, out.Items)) != "[1 3 5]" || out.Count != 3 || out.ScannedCount != 6 {
		t.Fatalf("filter+limit: %v count %d scanned %d", sks(t, out.Items), out.Count, out.ScannedCount)
	}
	assertItem(t, out.LastEvaluatedKey, item{"pk": S("a"), "sk": N("6")})
	out = q("pk = :p", a, func(in *dynamodb.QueryInput) { in.ExclusiveStartKey = item{"pk": S("a"), "sk": N("18")} })
	if fmt.Sprint(sks(t, out.Items)) != "[19 20]" {
		t.Fatalf("ExclusiveStartKey: %v", sks(t, out.Items))
	}
	out = q("pk = :p", a, func(in *dynamodb.QueryInput) {
		in.ExclusiveStartKey = item{"pk": S("a"), "sk": N("3")}
		in.ScanIndexForward = aws.Bool(false)
	})
	if fmt.Sprint(sks(t, out.Items)) != "[2 1]" {
		t.Fatalf("ExclusiveStartKey reverse: %v", sks(t, out.Items))
	}

	// Projection, Select COUNT, ConsumedCapacity.
	out = q("pk = :p AND sk = :v", with(":v", N("2")), func(in *dynamodb.QueryInput) {
		in.ProjectionExpression = aws.String("sk, odd")
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	})
	assertItem(t, out.Items[0], item{"sk": N("2"), "odd": &types.AttributeValueMemberBOOL{Value: false}})
	if out.ConsumedCapacity == nil || *out.ConsumedCapacity.CapacityUnits != 0.5 {
		t.Fatalf("capacity: %+v", out.ConsumedCapacity)
	}
	out = q("pk = :p", a, func(in *dynamodb.QueryInput) {
		in.Select = types.SelectCount
		in.ConsistentRead = aws.Bool(true)
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	})
	if out.Items != nil || out.Count != 20 || out.ScannedCount != 20 {
		t.Fatalf("COUNT: items %v count %d", out.Items, out.Count)
	}
	// 20 items of ~120 bytes: 2.4 KB read, one strongly consistent unit.
	if cc := out.ConsumedCapacity; cc == nil || *cc.CapacityUnits != 1 || cc.Table == nil || *cc.Table.CapacityUnits != 1 {
		t.Fatalf("capacity INDEXES: %+v", out.ConsumedCapacity)
	}
}

func TestQueryBeginsWith(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("bwt"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: "S"}, {AttributeName: aws.String("sk"), AttributeType: "S"}},
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: "HASH"}, {AttributeName: aws.String("sk"), KeyType: "RANGE"}},
		BillingMode: "PAY_PER_REQUEST",
	}); err != nil {
		t.Fatal(err)
	}
	for _, sk := range []string{"a", "ab", "ab\x00c", "abc", "abd", "ac", "b"} {
		put(t, c, "bwt", item{"pk": S("p"), "sk": S(sk)})
	}
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("bwt"),
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :b)"),
		ExpressionAttributeValues: item{":p": S("p"), ":b": S("ab")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, it["sk"].(*types.AttributeValueMemberS).Value)
	}
	if fmt.Sprintf("%q", got) != `["ab" "ab\x00c" "abc" "abd"]` {
		t.Fatalf("begins_with: %q", got)
	}
}

func seq(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

func reverse(s []int) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// TestQueryPagingOverOneMB pages through a 1.5 MB partition both ways:
// every page stops after the item that reaches 1 MB read, and every item
// comes back exactly once, in order.
func TestQueryPagingOverOneMB(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "big", true)
	const n = 150
	pad := strings.Repeat("p", 10*1024)
	for i := 0; i < n; i++ {
		put(t, c, "big", item{"pk": S("P"), "sk": N(strconv.Itoa(i)), "pad": S(pad)})
	}
	put(t, c, "big", item{"pk": S("other"), "sk": N("1")})
	itemSize := len("pk") + 1 + len("sk") + 3 + len("pad") + len(pad) // sk up to 3 digits: 2..3 bytes
	for _, forward := range []bool{true, false} {
		var got []int
		var start item
		pages := 0
		for {
			out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("big"),
				KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("P")},
				ScanIndexForward: aws.Bool(forward), ExclusiveStartKey: start, ProjectionExpression: aws.String("sk")})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, sks(t, out.Items)...)
			if out.LastEvaluatedKey == nil {
				break
			}
			// A page ends with the item that reaches 1 MB.
			if per := (1 << 20) / itemSize; int(out.Count) < per || int(out.Count) > per+2 {
				t.Fatalf("page of %d items, want about %d", out.Count, per+1)
			}
			start = out.LastEvaluatedKey
			if pages > 10 {
				t.Fatal("paging does not end")
			}
		}
		want := seq(0, n-1)
		if !forward {
			want = reverse(want)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || pages != 2 {
			t.Fatalf("forward=%v: %d pages, got %v", forward, pages, got)
		}
	}
}

func TestParallelScan(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "pscan", false)
	const n = 300
	for i := 0; i < n; i++ {
		put(t, c, "pscan", item{"pk": S(fmt.Sprintf("k%d", i)), "i": N(strconv.Itoa(i))})
	}
	seen := map[string]int{}
	for seg := int32(0); seg < 4; seg++ {
		var start item
		segItems := 0
		for {
			out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("pscan"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(4),
				Limit: aws.Int32(17), ExclusiveStartKey: start})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				seen[it["pk"].(*types.AttributeValueMemberS).Value]++
				segItems++
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			start = out.LastEvaluatedKey
		}
		if segItems < n/8 { // hash ranges of equal width: roughly n/4 each
			t.Errorf("segment %d has only %d items", seg, segItems)
		}
	}
	if len(seen) != n {
		t.Fatalf("parallel scan saw %d distinct items, want %d", len(seen), n)
	}
	for k, v := range seen {
		if v != 1 {
			t.Fatalf("%s returned %d times", k, v)
		}
	}
	// Whole-table scan with a filter that may use key attributes.
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("pscan"), FilterExpression: aws.String("pk = :k OR i < :two"),
		ExpressionAttributeValues: item{":k": S("k77"), ":two": N("2")}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 3 || out.ScannedCount != n {
		t.Fatalf("scan filter: count %d scanned %d", out.Count, out.ScannedCount)
	}
}

func TestLegacyReadParameters(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "legacy", true)
	for i := 1; i <= 10; i++ {
		put(t, c, "legacy", item{"pk": S("a"), "sk": N(strconv.Itoa(i)), "color": S([]string{"red", "blue"}[i%2]), "n": N(strconv.Itoa(i * 10))})
	}
	eq := types.ComparisonOperatorEq
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("legacy"),
		KeyConditions: map[string]types.Condition{
			"pk": {ComparisonOperator: eq, AttributeValueList: []types.AttributeValue{S("a")}},
			"sk": {ComparisonOperator: types.ComparisonOperatorBetween, AttributeValueList: []types.AttributeValue{N("2"), N("7")}},
		},
		QueryFilter: map[string]types.Condition{
			"color": {ComparisonOperator: eq, AttributeValueList: []types.AttributeValue{S("red")}},
			"n":     {ComparisonOperator: types.ComparisonOperatorGt, AttributeValueList: []types.AttributeValue{N("30")}},
		},
		AttributesToGet: []string{"sk"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sks(t, out.Items)) != "[4 6]" || out.ScannedCount != 6 || len(out.Items[0]) != 1 {
		t.Fatalf("legacy query: %v scanned %d", out.Items, out.ScannedCount)
	}
	out2, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("legacy"),
		ScanFilter: map[string]types.Condition{
			"sk":    {ComparisonOperator: types.ComparisonOperatorIn, AttributeValueList: []types.AttributeValue{N("1"), N("2"), N("9")}},
			"color": {ComparisonOperator: types.ComparisonOperatorBeginsWith, AttributeValueList: []types.AttributeValue{S("bl")}},
		},
		ConditionalOperator: types.ConditionalOperatorOr,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out2.Count != 6 { // 5 blue (odd) + sk 2
		t.Fatalf("legacy scan OR: count %d", out2.Count)
	}
	g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("legacy"), Key: item{"pk": S("a"), "sk": N("3")}, AttributesToGet: []string{"n", "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, g.Item, item{"n": N("30")})

	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("legacy"),
		KeyConditions:             map[string]types.Condition{"pk": {ComparisonOperator: eq, AttributeValueList: []types.AttributeValue{S("a")}}},
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: item{":p": S("a")}})
	apiErr(t, err, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}")
	_, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("legacy"),
		ScanFilter: map[string]types.Condition{"n": {ComparisonOperator: eq, AttributeValueList: []types.AttributeValue{N("1"), N("2")}}}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator")
}

func TestReadErrors(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "errs", true)
	qv := item{":p": S("a")}
	cases := []struct {
		name string
		err  error
		msg  string
	}{}
	add := func(name string, err error, msg string) {
		cases = append(cases, struct {
			name string
			err  error
			msg  string
		}{name, err, msg})
	}
	query := func(mod func(*dynamodb.QueryInput)) error {
		in := &dynamodb.QueryInput{TableName: aws.String("errs"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: qv}
		mod(in)
		_, err := c.Query(ctx, in)
		return err
	}
	scan := func(mod func(*dynamodb.ScanInput)) error {
		in := &dynamodb.ScanInput{TableName: aws.String("errs")}
		mod(in)
		_, err := c.Scan(ctx, in)
		return err
	}
	add("filter on key", query(func(in *dynamodb.QueryInput) {
		in.FilterExpression = aws.String("sk > :p")
	}), "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk")
	add("segment out of bounds", scan(func(in *dynamodb.ScanInput) { in.Segment, in.TotalSegments = aws.Int32(4), aws.Int32(4) }),
		"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4")
	add("segment without total", scan(func(in *dynamodb.ScanInput) { in.Segment = aws.Int32(1) }),
		"The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	add("total segments too big", scan(func(in *dynamodb.ScanInput) { in.Segment, in.TotalSegments = aws.Int32(0), aws.Int32(1000001) }),
		"1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000")
	add("count with projection", query(func(in *dynamodb.QueryInput) {
		in.Select = types.SelectCount
		in.ProjectionExpression = aws.String("sk")
	}), "1 validation error detected: Cannot specify the ProjectionExpression when choosing to get only the Count")
	add("scan count with projection", scan(func(in *dynamodb.ScanInput) {
		in.Select = types.SelectAllAttributes
		in.AttributesToGet = []string{"sk"}
	}), "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES")
	add("specific without projection", scan(func(in *dynamodb.ScanInput) { in.Select = types.SelectSpecificAttributes }),
		"Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
	add("all projected on table", query(func(in *dynamodb.QueryInput) { in.Select = types.SelectAllProjectedAttributes }),
		"1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
	add("bad select", scan(func(in *dynamodb.ScanInput) { in.Select = "count" }),
		"1 validation error detected: Value 'count' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]")
	add("limit 0", scan(func(in *dynamodb.ScanInput) { in.Limit = aws.Int32(0) }),
		"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	add("no key condition", query(func(in *dynamodb.QueryInput) { in.KeyConditionExpression, in.ExpressionAttributeValues = nil, nil }),
		"Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	add("missing hash", query(func(in *dynamodb.QueryInput) { in.KeyConditionExpression = aws.String("sk = :p") }),
		"Query condition missed key schema element: pk")
	add("wrong type", query(func(in *dynamodb.QueryInput) { in.ExpressionAttributeValues = item{":p": N("1")} }),
		"One or more parameter values were invalid: Condition parameter type does not match schema type")
	add("no such index", query(func(in *dynamodb.QueryInput) { in.IndexName = aws.String("nope") }),
		"The table does not have the specified index: nope")
	add("bad start key", query(func(in *dynamodb.QueryInput) { in.ExclusiveStartKey = item{"pk": S("a")} }),
		"The provided starting key is invalid: The provided key element does not match the schema")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { apiErr(t, tc.err, "ValidationException", tc.msg) })
	}
	_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("nope"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: qv})
	apiErr(t, err, "ResourceNotFoundException", "")
}

// BenchmarkQuery100 queries a 100-item partition through the SDK.
//
//	go test ./api -run '^$' -bench 'Query' -benchtime 2s
func BenchmarkQuery100(b *testing.B) {
	s := eddytest.Start(b, server.Options{InMemory: true})
	c := s.DDB
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("qbench"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: "S"}, {AttributeName: aws.String("sk"), AttributeType: "N"},
			{AttributeName: aws.String("g"), AttributeType: "S"}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: "HASH"}, {AttributeName: aws.String("sk"), KeyType: "RANGE"}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: "HASH"}, {AttributeName: aws.String("sk"), KeyType: "RANGE"}},
			Projection: &types.Projection{ProjectionType: "ALL"}}},
		BillingMode: "PAY_PER_REQUEST",
	}); err != nil {
		b.Fatal(err)
	}
	for p := 0; p < 5; p++ {
		for i := 0; i < 100; i++ {
			it := benchItem(int64(i))
			it["pk"], it["sk"], it["g"] = S(fmt.Sprint("p", p)), N(strconv.Itoa(i)), S(fmt.Sprint("g", p))
			put(b, c, "qbench", it)
		}
	}
	run := func(b *testing.B, index, key string) {
		var lat []float64
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			in := &dynamodb.QueryInput{TableName: aws.String("qbench"), KeyConditionExpression: aws.String(key + " = :p"),
				ExpressionAttributeValues: item{":p": S(fmt.Sprint(key[:1], i%5))}}
			if index != "" {
				in.IndexName = aws.String(index)
			}
			t0 := nanotime()
			out, err := c.Query(ctx, in)
			lat = append(lat, float64(nanotime()-t0)/1e6)
			if err != nil || out.Count != 100 {
				b.Fatalf("query: %v %v", err, out)
			}
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	}
	b.Run("table", func(b *testing.B) { run(b, "", "pk") })
	b.Run("gsi", func(b *testing.B) { run(b, "byG", "g") })
}

func nanotime() int64 { return time.Now().UnixNano() }

// reportPercentiles reports p50 and p99 latencies in milliseconds.
func reportPercentiles(b *testing.B, lat []float64) {
	if len(lat) == 0 {
		return
	}
	sort.Float64s(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
}
