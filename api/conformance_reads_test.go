package api_test

// Read behaviour the nubo-db/dynamodb-conformance suite (tests verified
// against DynamoDB) asserts only in part: counts, relations between two
// responses, the key set of a LastEvaluatedKey, the union of a paged or
// parallel walk, attributes present or absent. Each test asserts what the
// suite asserts and no more; the checks whose whole response is certain are in
// testdata/errors/conformance-reads-behaviour.txt. Sources:
//
//	tests/tier1/query/{basic,gsi,lsi,gsiHashOnlyPagination,consumedCapacity,
//	expressions,select}.test.ts
//	tests/tier1/scan/{basic,gsi,lsi,gsiPagination,lsiPagination,parallel,
//	consumedCapacity,select,filterOperators}.test.ts
//	tests/tier1/batchGetItem/basic.test.ts

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

type crIndex struct {
	name, hash, rng string
	projection      types.ProjectionType
	nonKey          []string
}

// crTable creates a table the way the suite's helpers.ts does: string key
// attributes, provisioned 5/5 unless onDemand.
func crTable(t *testing.T, c *dynamodb.Client, name, hash, rng string, onDemand bool, gsis, lsis []crIndex) {
	t.Helper()
	defs := map[string]bool{}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	attr := func(a string) {
		if a != "" && !defs[a] {
			defs[a] = true
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS})
		}
	}
	schema := func(h, r string) []types.KeySchemaElement {
		attr(h)
		attr(r)
		ks := []types.KeySchemaElement{{AttributeName: aws.String(h), KeyType: types.KeyTypeHash}}
		if r != "" {
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(r), KeyType: types.KeyTypeRange})
		}
		return ks
	}
	proj := func(x crIndex) *types.Projection {
		return &types.Projection{ProjectionType: x.projection, NonKeyAttributes: x.nonKey}
	}
	pt := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	in.KeySchema = schema(hash, rng)
	for _, g := range gsis {
		gi := types.GlobalSecondaryIndex{IndexName: aws.String(g.name), KeySchema: schema(g.hash, g.rng), Projection: proj(g)}
		if !onDemand {
			gi.ProvisionedThroughput = pt
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gi)
	}
	for _, l := range lsis {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{IndexName: aws.String(l.name), KeySchema: schema(hash, l.rng), Projection: proj(l)})
	}
	if onDemand {
		in.BillingMode = types.BillingModePayPerRequest
	} else {
		in.ProvisionedThroughput = pt
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
}

// crComposite creates the suite's compositeTableDef.
func crComposite(t *testing.T, c *dynamodb.Client) {
	crTable(t, c, "composite", "pk", "sk", false,
		[]crIndex{
			{name: "gsi1", hash: "lsi1sk", projection: types.ProjectionTypeAll},
			{name: "gsi2", hash: "lsi1sk", rng: "lsi2sk", projection: types.ProjectionTypeInclude, nonKey: []string{"data"}},
		},
		[]crIndex{
			{name: "lsi1", rng: "lsi1sk", projection: types.ProjectionTypeAll},
			{name: "lsi2", rng: "lsi2sk", projection: types.ProjectionTypeInclude, nonKey: []string{"lsi1sk"}},
		})
}

func crS(t *testing.T, it item, name string) string {
	t.Helper()
	v, ok := it[name].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("%s is not a string in %v", name, it)
	}
	return v.Value
}

func crStrings(t *testing.T, items []item, name string) []string {
	t.Helper()
	var out []string
	for _, it := range items {
		out = append(out, crS(t, it, name))
	}
	sort.Strings(out)
	return out
}

func crKeys(m item) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func crEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func crHas(t *testing.T, it item, present, absent []string) {
	t.Helper()
	for _, a := range present {
		if _, ok := it[a]; !ok {
			t.Errorf("%s missing from %v", a, crKeys(it))
		}
	}
	for _, a := range absent {
		if _, ok := it[a]; ok {
			t.Errorf("%s present in %v", a, crKeys(it))
		}
	}
}

func crQuery(t *testing.T, c *dynamodb.Client, in *dynamodb.QueryInput) *dynamodb.QueryOutput {
	t.Helper()
	out, err := c.Query(ctx, in)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	return out
}

func crScan(t *testing.T, c *dynamodb.Client, in *dynamodb.ScanInput) *dynamodb.ScanOutput {
	t.Helper()
	out, err := c.Scan(ctx, in)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

// tests/tier1/query/gsi.test.ts
func TestConformanceReadsQueryGSI(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crComposite(t, c)
	put(t, c, "composite", item{"pk": S("gsi-q-1"), "sk": S("a"), "lsi1sk": S("gsi-hash-A"), "lsi2sk": S("gsi-range-1"), "data": S("item1")})
	put(t, c, "composite", item{"pk": S("gsi-q-2"), "sk": S("b"), "lsi1sk": S("gsi-hash-A"), "lsi2sk": S("gsi-range-2"), "data": S("item2")})
	put(t, c, "composite", item{"pk": S("gsi-q-3"), "sk": S("c"), "lsi1sk": S("gsi-hash-B"), "lsi2sk": S("gsi-range-3"), "data": S("item3")})
	hashA := func() *dynamodb.QueryOutput {
		return crQuery(t, c, &dynamodb.QueryInput{TableName: aws.String("composite"), IndexName: aws.String("gsi1"),
			KeyConditionExpression: aws.String("lsi1sk = :v"), ExpressionAttributeValues: item{":v": S("gsi-hash-A")}})
	}
	crEqual(t, "hash-only GSI items", len(hashA().Items), 2)

	// A sparse item (no GSI key) does not appear in the index.
	put(t, c, "composite", item{"pk": S("gsi-sparse"), "sk": S("x")})
	if pks := crStrings(t, hashA().Items, "pk"); strings.Contains(strings.Join(pks, ","), "gsi-sparse") {
		t.Errorf("sparse item in gsi1: %v", pks)
	}
}

// tests/tier1/query/gsi.test.ts and lsi.test.ts: pagination across tied
// index sort keys; the LastEvaluatedKey carries the table key too.
func TestConformanceReadsQueryTiedIndexPagination(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crComposite(t, c)
	for i := 0; i < 4; i++ {
		put(t, c, "composite", item{"pk": S(fmt.Sprintf("gsi-tie-%d", i)), "sk": S(fmt.Sprintf("s-%d", i)), "lsi1sk": S("gsi-tie-hash"), "lsi2sk": S("gsi-tie-range"), "data": S(fmt.Sprintf("d%d", i))})
		put(t, c, "composite", item{"pk": S("lsi-tie"), "sk": S(fmt.Sprintf("s-%d", i)), "lsi1sk": S("lsi-tie-sk"), "data": S(fmt.Sprintf("d%d", i))})
	}
	walk := func(index, kce string, vals item, consistent bool, seenAttr string, wantKeys []string) []string {
		t.Helper()
		var seen []string
		var last item
		for pages := 1; ; pages++ {
			out := crQuery(t, c, &dynamodb.QueryInput{TableName: aws.String("composite"), IndexName: aws.String(index),
				KeyConditionExpression: aws.String(kce), ExpressionAttributeValues: vals, ConsistentRead: aws.Bool(consistent),
				Limit: aws.Int32(1), ExclusiveStartKey: last})
			for _, it := range out.Items {
				seen = append(seen, crS(t, it, seenAttr))
			}
			last = out.LastEvaluatedKey
			if last != nil {
				crEqual(t, index+" LastEvaluatedKey attributes", crKeys(last), wantKeys)
			}
			if pages > 5 {
				t.Fatalf("%s: more than 5 pages for 4 items", index)
			}
			if last == nil {
				break
			}
		}
		return seen
	}
	seen := walk("gsi2", "lsi1sk = :h AND lsi2sk = :r", item{":h": S("gsi-tie-hash"), ":r": S("gsi-tie-range")}, false, "pk", []string{"lsi1sk", "lsi2sk", "pk", "sk"})
	sort.Strings(seen)
	crEqual(t, "gsi2 walk", seen, []string{"gsi-tie-0", "gsi-tie-1", "gsi-tie-2", "gsi-tie-3"})
	seen = walk("lsi1", "pk = :p AND lsi1sk = :v", item{":p": S("lsi-tie"), ":v": S("lsi-tie-sk")}, true, "sk", []string{"lsi1sk", "pk", "sk"})
	sort.Strings(seen)
	crEqual(t, "lsi1 walk", seen, []string{"s-0", "s-1", "s-2", "s-3"})
}

// tests/tier1/query/gsiHashOnlyPagination.test.ts
func TestConformanceReadsGSIHashOnlyPagination(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crTable(t, c, "gho", "pk", "sk", false, []crIndex{{name: "gho", hash: "gh", projection: types.ProjectionTypeAll}}, nil)
	for i := 0; i < 5; i++ {
		put(t, c, "gho", item{"pk": S("p"), "sk": S(fmt.Sprintf("s%d", i)), "gh": S("gho-shared")})
	}
	seen := map[string]bool{}
	var last item
	for pages := 0; pages < 10; pages++ {
		out := crQuery(t, c, &dynamodb.QueryInput{TableName: aws.String("gho"), IndexName: aws.String("gho"),
			KeyConditionExpression: aws.String("#gh = :gh"), ExpressionAttributeNames: map[string]string{"#gh": "gh"},
			ExpressionAttributeValues: item{":gh": S("gho-shared")}, Limit: aws.Int32(2), ExclusiveStartKey: last})
		for _, it := range out.Items {
			seen[crS(t, it, "sk")] = true
		}
		if last = out.LastEvaluatedKey; last == nil {
			break
		}
	}
	crEqual(t, "distinct items walked", len(seen), 5)
}

// crPagedScan walks a Scan to its end, failing past maxPages pages.
func crPagedScan(t *testing.T, c *dynamodb.Client, in dynamodb.ScanInput, maxPages int) []item {
	t.Helper()
	var all []item
	for pages := 1; ; pages++ {
		if pages > maxPages {
			t.Fatalf("more than %d pages", maxPages)
		}
		out := crScan(t, c, &in)
		all = append(all, out.Items...)
		if in.ExclusiveStartKey = out.LastEvaluatedKey; in.ExclusiveStartKey == nil {
			return all
		}
	}
}

func crNumIn() (string, item) {
	vals := item{}
	var names []string
	for i := 0; i < 10; i++ {
		vals[fmt.Sprintf(":v%d", i)] = N(strconv.Itoa(i * 5))
		names = append(names, fmt.Sprintf(":v%d", i))
	}
	return "Num IN (" + strings.Join(names, ", ") + ")", vals
}

// tests/tier1/scan/gsiPagination.test.ts and lsiPagination.test.ts
func TestConformanceReadsScanIndexPagination(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crTable(t, c, "gsipage", "ID", "", true, []crIndex{{name: "TypeIndex", hash: "Type", rng: "ID", projection: types.ProjectionTypeAll}}, nil)
	crTable(t, c, "lsipage", "ID", "SK", true, nil, []crIndex{{name: "LsiIndex", rng: "Lsk", projection: types.ProjectionTypeAll}})
	for i := 0; i < 50; i++ {
		put(t, c, "gsipage", item{"ID": S(fmt.Sprintf("item-%03d", i)), "Type": S("widget"), "Num": N(strconv.Itoa(i))})
		put(t, c, "lsipage", item{"ID": S("widget"), "SK": S(fmt.Sprintf("item-%03d", i)), "Lsk": S(fmt.Sprintf("group-%d", i%5)), "Num": N(strconv.Itoa(i))})
	}
	filter, vals := crNumIn()
	for _, x := range []struct{ table, index string }{{"gsipage", "TypeIndex"}, {"lsipage", "LsiIndex"}} {
		all := crPagedScan(t, c, dynamodb.ScanInput{TableName: aws.String(x.table), IndexName: aws.String(x.index), Limit: aws.Int32(10)}, 10)
		crEqual(t, x.index+" items", len(all), 50)
		all = crPagedScan(t, c, dynamodb.ScanInput{TableName: aws.String(x.table), IndexName: aws.String(x.index), Limit: aws.Int32(10),
			FilterExpression: aws.String(filter), ExpressionAttributeValues: vals}, 20)
		crEqual(t, x.index+" filtered items", len(all), 10)
	}
}

// tests/tier1/scan/parallel.test.ts
func TestConformanceReadsParallelScan(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crTable(t, c, "hash", "pk", "", true, nil, nil)
	for i := 0; i < 20; i++ {
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("parallel-scan-%03d", i)), "val": N(strconv.Itoa(i))})
	}
	put(t, c, "hash", item{"pk": S("other")})
	base := dynamodb.ScanInput{TableName: aws.String("hash"), FilterExpression: aws.String("begins_with(pk, :prefix)"),
		ExpressionAttributeValues: item{":prefix": S("parallel-scan-")}, ConsistentRead: aws.Bool(true)}
	segments := make([][]item, 4)
	var wg sync.WaitGroup
	for seg := range segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := base
			in.TotalSegments, in.Segment = aws.Int32(4), aws.Int32(int32(seg))
			var all []item
			for {
				out, err := c.Scan(ctx, &in)
				if err != nil {
					t.Errorf("segment %d: %v", seg, err)
					return
				}
				all = append(all, out.Items...)
				if in.ExclusiveStartKey = out.LastEvaluatedKey; in.ExclusiveStartKey == nil {
					break
				}
			}
			segments[seg] = all
		}()
	}
	wg.Wait()
	parallel := map[string]bool{}
	shape := regexp.MustCompile(`^parallel-scan-\d{3}$`)
	for seg, items := range segments {
		for _, it := range items {
			pk := crS(t, it, "pk")
			if parallel[pk] {
				t.Errorf("segment %d repeats %s", seg, pk)
			}
			parallel[pk] = true
			if !shape.MatchString(pk) {
				t.Errorf("segment %d: unexpected pk %q", seg, pk)
			}
			if n := nval(t, it["val"]); n < 0 || n >= 20 {
				t.Errorf("segment %d: val %d", seg, n)
			}
		}
	}
	full := crPagedScan(t, c, base, 100)
	crEqual(t, "parallel union size", len(parallel), len(full))
	for _, it := range full {
		if !parallel[crS(t, it, "pk")] {
			t.Errorf("%s missing from the parallel scan", crS(t, it, "pk"))
		}
	}
}

// tests/tier1/query/consumedCapacity.test.ts and scan/consumedCapacity.test.ts:
// a read is sized before its filter and projection.
func TestConformanceReadsConsumedCapacity(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crComposite(t, c)
	put(t, c, "composite", item{"pk": S("other"), "sk": S("x"), "lsi1sk": S("y")})
	for _, pk := range []string{"query-cc", "scan-cc"} {
		for i := 0; i < 6; i++ {
			keep := "no"
			if i == 0 {
				keep = "yes"
			}
			put(t, c, "composite", item{"pk": S(pk), "sk": S(fmt.Sprintf("s%d", i)), "keep": S(keep), "filler": S(strings.Repeat("x", 200))})
		}
	}
	type res struct {
		units float64
		count int32
	}
	query := func(filter, projection string, k string) res {
		t.Helper()
		vals := item{":p": S("query-cc")}
		if k != "" {
			vals[":k"] = S(k)
		}
		out := crQuery(t, c, &dynamodb.QueryInput{TableName: aws.String("composite"), KeyConditionExpression: aws.String("pk = :p"),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, FilterExpression: optional(filter), ProjectionExpression: optional(projection),
			ExpressionAttributeValues: vals})
		return res{aws.ToFloat64(out.ConsumedCapacity.CapacityUnits), out.Count}
	}
	scan := func(filter, projection string, k string) res {
		t.Helper()
		var vals item
		if k != "" {
			vals = item{":k": S(k)}
		}
		out := crScan(t, c, &dynamodb.ScanInput{TableName: aws.String("composite"), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			FilterExpression: optional(filter), ProjectionExpression: optional(projection), ExpressionAttributeValues: vals})
		return res{aws.ToFloat64(out.ConsumedCapacity.CapacityUnits), out.Count}
	}

	plain, one := query("", "", ""), query("keep = :k", "", "yes")
	crEqual(t, "query counts", []int32{plain.count, one.count}, []int32{6, 1})
	crEqual(t, "query filtered units", one.units, plain.units)
	none := query("keep = :k", "", "no-such-value")
	crEqual(t, "query empty count", none.count, 0)
	crEqual(t, "query empty units", none.units, plain.units)
	crEqual(t, "query projected units", query("", "sk", "").units, plain.units)

	splain, sone := scan("", "", ""), scan("keep = :k", "", "yes")
	if sone.count >= splain.count {
		t.Errorf("filtered scan count %d not below %d", sone.count, splain.count)
	}
	crEqual(t, "scan filtered units", sone.units, splain.units)
	snone := scan("keep = :k", "", "no-such-value")
	crEqual(t, "scan empty count", snone.count, 0)
	crEqual(t, "scan empty units", snone.units, splain.units)
	crEqual(t, "scan projected units", scan("", "pk", "").units, splain.units)
	crEqual(t, "scan filtered and projected units", scan("keep = :k", "pk", "yes").units, splain.units)
}

// tests/tier1/scan/basic.test.ts and select.test.ts
func TestConformanceReadsScanBasic(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crTable(t, c, "hash", "pk", "", true, nil, nil)
	for i := 0; i < 5; i++ {
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("scan-basic-%d", i)), "val": N(strconv.Itoa(i))})
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("scan-page-%d", i)), "val": N(strconv.Itoa(i))})
	}
	for i, s := range []string{"active", "inactive", "active"} {
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("scan-filter-%d", i)), "status": S(s)})
	}
	for i, cat := range []string{"alpha", "beta", "alpha"} {
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("scan-select-%d", i)), "category": S(cat)})
	}
	for i := 0; i < 4; i++ {
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("sesk-%d", i)), "val": N(strconv.Itoa(i))})
	}
	put(t, c, "hash", item{"pk": S("scan-proj"), "a": S("alpha"), "b": S("beta")})
	tbl := aws.String("hash")
	yes := aws.Bool(true)

	out := crScan(t, c, &dynamodb.ScanInput{TableName: tbl, ConsistentRead: yes})
	if len(out.Items) < 5 || int(out.Count) != len(out.Items) || int(out.ScannedCount) != len(out.Items) {
		t.Errorf("plain scan: %d items, Count %d, ScannedCount %d", len(out.Items), out.Count, out.ScannedCount)
	}

	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, FilterExpression: aws.String("pk = :impossible"),
		ExpressionAttributeValues: item{":impossible": S("no-item-has-this-pk-value-xyz")}, ConsistentRead: yes})
	if out.Count != 0 || out.ScannedCount <= 0 || out.Items == nil || len(out.Items) != 0 {
		t.Errorf("filter removing all: Count %d, ScannedCount %d, Items %v", out.Count, out.ScannedCount, out.Items)
	}

	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, FilterExpression: aws.String("#s = :status AND begins_with(pk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#s": "status"}, ExpressionAttributeValues: item{":status": S("active"), ":prefix": S("scan-filter-")}, ConsistentRead: yes})
	if len(out.Items) != 2 || out.ScannedCount < out.Count {
		t.Errorf("filtered scan: %d items, Count %d, ScannedCount %d", len(out.Items), out.Count, out.ScannedCount)
	}

	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, Limit: aws.Int32(2), ConsistentRead: yes})
	if len(out.Items) > 2 || (len(out.Items) == 2 && out.LastEvaluatedKey == nil) {
		t.Errorf("Limit 2: %d items, LastEvaluatedKey %v", len(out.Items), out.LastEvaluatedKey)
	}
	if all := crPagedScan(t, c, dynamodb.ScanInput{TableName: tbl, Limit: aws.Int32(2), ConsistentRead: yes}, 100); len(all) < 5 {
		t.Errorf("paged scan: %d items", len(all))
	}

	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, ProjectionExpression: aws.String("a"), FilterExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: item{":pk": S("scan-proj")}, ConsistentRead: yes})
	if len(out.Items) != 1 {
		t.Fatalf("projected scan: %d items", len(out.Items))
	}
	crEqual(t, "projected a", crS(t, out.Items[0], "a"), "alpha")
	crHas(t, out.Items[0], nil, []string{"b", "pk"})

	// ExclusiveStartKey is exclusive.
	sesk := item{":p": S("sesk-")}
	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, Limit: aws.Int32(1), ConsistentRead: yes, FilterExpression: aws.String("begins_with(pk, :p)"), ExpressionAttributeValues: sesk})
	start := out.LastEvaluatedKey
	if start == nil {
		t.Fatal("Limit 1: no LastEvaluatedKey")
	}
	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, ExclusiveStartKey: start, ConsistentRead: yes, FilterExpression: aws.String("begins_with(pk, :p)"), ExpressionAttributeValues: sesk})
	for _, it := range out.Items {
		if crS(t, it, "pk") == crS(t, start, "pk") {
			t.Errorf("the item at ExclusiveStartKey %s came back", crS(t, start, "pk"))
		}
	}

	// Limit counts items read, not items matched.
	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, Limit: aws.Int32(1), FilterExpression: aws.String("val > :hi"),
		ExpressionAttributeValues: item{":hi": N("100")}, ConsistentRead: yes})
	if out.ScannedCount != 1 || out.Count != 0 || out.LastEvaluatedKey == nil {
		t.Errorf("Limit 1 with a filter matching nothing: ScannedCount %d, Count %d, LastEvaluatedKey %v", out.ScannedCount, out.Count, out.LastEvaluatedKey)
	}

	// Select COUNT returns no Items.
	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, Select: types.SelectCount, ConsistentRead: yes})
	if out.Count <= 0 || out.Items != nil {
		t.Errorf("Select COUNT: Count %d, Items %v", out.Count, out.Items)
	}
	out = crScan(t, c, &dynamodb.ScanInput{TableName: tbl, Select: types.SelectCount, FilterExpression: aws.String("#c = :cat AND begins_with(pk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#c": "category"}, ExpressionAttributeValues: item{":cat": S("alpha"), ":prefix": S("scan-select-")}, ConsistentRead: yes})
	if out.Count != 2 || out.ScannedCount < 3 || out.Items != nil {
		t.Errorf("Select COUNT with a filter: Count %d, ScannedCount %d, Items %v", out.Count, out.ScannedCount, out.Items)
	}
}

// tests/tier1/scan/gsi.test.ts and lsi.test.ts
func TestConformanceReadsScanIndexes(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crComposite(t, c)
	put(t, c, "composite", item{"pk": S("scan-gsi-1"), "sk": S("a"), "lsi1sk": S("scan-gsi-hash-A"), "lsi2sk": S("r1"), "data": S("val1"), "extra": S("should-not-appear-in-gsi2")})
	put(t, c, "composite", item{"pk": S("scan-gsi-2"), "sk": S("b"), "lsi1sk": S("scan-gsi-hash-A"), "lsi2sk": S("r2"), "data": S("val2"), "extra": S("also-not-in-gsi2")})
	put(t, c, "composite", item{"pk": S("scan-gsi-3"), "sk": S("c"), "lsi1sk": S("scan-gsi-hash-B"), "lsi2sk": S("r3"), "data": S("val3"), "extra": S("nope")})
	put(t, c, "composite", item{"pk": S("scan-lsi-1"), "sk": S("a"), "lsi1sk": S("sort-a"), "lsi2sk": S("r-a"), "data": S("val1")})
	put(t, c, "composite", item{"pk": S("scan-lsi-1"), "sk": S("b"), "lsi1sk": S("sort-b"), "lsi2sk": S("r-b"), "data": S("val2")})
	put(t, c, "composite", item{"pk": S("scan-lsi-2"), "sk": S("a"), "lsi1sk": S("sort-c"), "lsi2sk": S("r-c"), "data": S("val3")})
	scan := func(index, filter string, names map[string]string, vals item, consistent bool) *dynamodb.ScanOutput {
		t.Helper()
		return crScan(t, c, &dynamodb.ScanInput{TableName: aws.String("composite"), IndexName: aws.String(index), FilterExpression: aws.String(filter),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ConsistentRead: aws.Bool(consistent)})
	}
	gsiPrefix := item{":prefix": S("scan-gsi-hash-")}
	out := scan("gsi1", "begins_with(lsi1sk, :prefix)", nil, gsiPrefix, false)
	crEqual(t, "gsi1 scan items", len(out.Items), 3)
	for _, it := range out.Items {
		crHas(t, it, []string{"pk", "sk", "lsi1sk", "data", "extra"}, nil)
	}
	out = scan("gsi2", "begins_with(lsi1sk, :prefix)", nil, gsiPrefix, false)
	crEqual(t, "gsi2 scan items", len(out.Items), 3)
	for _, it := range out.Items {
		crHas(t, it, []string{"lsi1sk", "lsi2sk", "data"}, []string{"extra"})
	}
	out = scan("gsi1", "lsi1sk = :v AND #d = :data", map[string]string{"#d": "data"}, item{":v": S("scan-gsi-hash-A"), ":data": S("val1")}, false)
	if len(out.Items) != 1 || out.ScannedCount < out.Count {
		t.Fatalf("gsi1 filtered scan: %d items, Count %d, ScannedCount %d", len(out.Items), out.Count, out.ScannedCount)
	}
	crEqual(t, "gsi1 filtered pk", crS(t, out.Items[0], "pk"), "scan-gsi-1")

	lsiPrefix := item{":prefix": S("scan-lsi-")}
	out = scan("lsi1", "begins_with(pk, :prefix)", nil, lsiPrefix, true)
	crEqual(t, "lsi1 scan items", len(out.Items), 3)
	for _, it := range out.Items {
		crHas(t, it, []string{"pk", "sk", "lsi1sk", "data"}, nil)
	}
	out = scan("lsi1", "pk = :pk AND #d = :data", map[string]string{"#d": "data"}, item{":pk": S("scan-lsi-1"), ":data": S("val1")}, true)
	if len(out.Items) != 1 || out.ScannedCount < out.Count {
		t.Fatalf("lsi1 filtered scan: %d items, Count %d, ScannedCount %d", len(out.Items), out.Count, out.ScannedCount)
	}
	crEqual(t, "lsi1 filtered lsi1sk", crS(t, out.Items[0], "lsi1sk"), "sort-a")
	out = scan("lsi2", "begins_with(pk, :prefix)", nil, lsiPrefix, true)
	crEqual(t, "lsi2 scan items", len(out.Items), 3)
	for _, it := range out.Items {
		crHas(t, it, []string{"pk", "sk", "lsi2sk", "lsi1sk"}, []string{"data"})
	}
}

// tests/tier1/batchGetItem/basic.test.ts
func TestConformanceReadsBatchGet(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crTable(t, c, "hash", "pk", "", true, nil, nil)
	var keys []item
	for i := 0; i < 5; i++ {
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("bg-%d", i)), "val": N(strconv.Itoa(i * 10))})
		keys = append(keys, item{"pk": S(fmt.Sprintf("bg-%d", i))})
	}
	get := func(keys []item) *dynamodb.BatchGetItemOutput {
		t.Helper()
		out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"hash": {Keys: keys, ConsistentRead: aws.Bool(true)}}})
		if err != nil {
			t.Fatalf("BatchGetItem: %v", err)
		}
		return out
	}
	crEqual(t, "five keys", len(get(keys).Responses["hash"]), 5)
	crEqual(t, "found of three keys", len(get([]item{keys[0], {"pk": S("does-not-exist-123")}, keys[1]}).Responses["hash"]), 2)
	if u, ok := get(keys[:1]).UnprocessedKeys["hash"]; ok {
		t.Errorf("UnprocessedKeys for a small batch: %v", u)
	}
}

// tests/tier1/query/expressions.test.ts
func TestConformanceReadsQueryFilters(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crComposite(t, c)
	ss := func(v ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: v} }
	l := func(v ...string) types.AttributeValue {
		var out []types.AttributeValue
		for _, s := range v {
			out = append(out, S(s))
		}
		return &types.AttributeValueMemberL{Value: out}
	}
	m := func(kv ...string) types.AttributeValue {
		out := item{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = S(kv[i+1])
		}
		return &types.AttributeValueMemberM{Value: out}
	}
	pk := S("query-expr")
	put(t, c, "composite", item{"pk": pk, "sk": S("1"), "name": S("alice"), "age": N("30"), "tags": ss("admin", "user"), "mapAttr": m("nested", "deep-value"), "listAttr": l("first", "second")})
	put(t, c, "composite", item{"pk": pk, "sk": S("2"), "name": S("bob"), "age": N("25"), "tags": ss("user"), "mapAttr": m("nested", "other-value"), "listAttr": l("alpha", "beta")})
	put(t, c, "composite", item{"pk": pk, "sk": S("3"), "name": S("carol"), "age": N("35"), "tags": ss("admin", "manager"), "mapAttr": m("nested", "deep-value"), "listAttr": l("first", "gamma")})
	put(t, c, "composite", item{"pk": pk, "sk": S("4"), "name": S("dave"), "age": N("28"), "tags": ss("viewer"), "mapAttr": m("nested", "v0", "k1", "v1", "k2", "v2", "k3", "v3"),
		"listAttr": l("x", "y", "z", "w"), "binAttr": &types.AttributeValueMemberB{Value: []byte{1, 2, 3, 4, 5}}})
	put(t, c, "composite", item{"pk": S("size-enc"), "sk": S("1"), "s": S("é\U0001D11E")})
	q := func(p types.AttributeValue, filter string, names map[string]string, vals item) []item {
		t.Helper()
		vals[":pk"] = p
		return crQuery(t, c, &dynamodb.QueryInput{TableName: aws.String("composite"), KeyConditionExpression: aws.String("pk = :pk"),
			FilterExpression: aws.String(filter), ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ConsistentRead: aws.Bool(true)}).Items
	}
	n := map[string]string{"#n": "name"}
	crEqual(t, "size(name) > 3", crStrings(t, q(pk, "size(#n) > :len", n, item{":len": N("3")}), "name"), []string{"alice", "carol", "dave"})
	crEqual(t, "contains(name, lic)", crStrings(t, q(pk, "contains(#n, :substr)", n, item{":substr": S("lic")}), "name"), []string{"alice"})
	crEqual(t, "contains(tags, admin)", crStrings(t, q(pk, "contains(tags, :elem)", nil, item{":elem": S("admin")}), "sk"), []string{"1", "3"})
	crEqual(t, "attribute_type(name, S)", len(q(pk, "attribute_type(#n, :t)", n, item{":t": S("S")})), 4)
	crEqual(t, "begins_with(name, car)", crStrings(t, q(pk, "begins_with(#n, :prefix)", n, item{":prefix": S("car")}), "name"), []string{"carol"})
	crEqual(t, "name IN", crStrings(t, q(pk, "#n IN (:v1, :v2)", n, item{":v1": S("alice"), ":v2": S("carol")}), "name"), []string{"alice", "carol"})
	crEqual(t, "NOT contains", crStrings(t, q(pk, "NOT contains(tags, :elem)", nil, item{":elem": S("admin")}), "name"), []string{"bob", "dave"})
	crEqual(t, "AND", crStrings(t, q(pk, "#n = :name AND age > :minAge", n, item{":name": S("alice"), ":minAge": N("20")}), "name"), []string{"alice"})
	crEqual(t, "OR", crStrings(t, q(pk, "#n = :v1 OR #n = :v2", n, item{":v1": S("alice"), ":v2": S("bob")}), "name"), []string{"alice", "bob"})
	crEqual(t, "BETWEEN", crStrings(t, q(pk, "age BETWEEN :lo AND :hi", nil, item{":lo": N("26"), ":hi": N("34")}), "name"), []string{"alice", "dave"})
	crEqual(t, "map path", crStrings(t, q(pk, "mapAttr.nested = :val", nil, item{":val": S("deep-value")}), "sk"), []string{"1", "3"})
	crEqual(t, "list index", crStrings(t, q(pk, "listAttr[0] = :val", nil, item{":val": S("first")}), "sk"), []string{"1", "3"})
	crEqual(t, "size(list) = 4", crStrings(t, q(pk, "size(#la) = :sz", map[string]string{"#la": "listAttr"}, item{":sz": N("4")}), "sk"), []string{"4"})
	if sks := crStrings(t, q(pk, "size(#t) = :sz", map[string]string{"#t": "tags"}, item{":sz": N("1")}), "sk"); !strings.Contains(strings.Join(sks, ","), "4") {
		t.Errorf("size(tags) = 1: %v lacks 4", sks)
	}
	crEqual(t, "size(map) > 2", crStrings(t, q(pk, "size(#ma) > :sz", map[string]string{"#ma": "mapAttr"}, item{":sz": N("2")}), "sk"), []string{"4"})
	crEqual(t, "size(binary) > 3", crStrings(t, q(pk, "size(#ba) > :sz", map[string]string{"#ba": "binAttr"}, item{":sz": N("3")}), "sk"), []string{"4"})
	// size() of a string counts UTF-16 code units; an absent attribute has no size.
	enc, sn := S("size-enc"), map[string]string{"#s": "s"}
	crEqual(t, "size(s) = 3", len(q(enc, "size(#s) = :three", sn, item{":three": N("3")})), 1)
	crEqual(t, "size(s) = 6", len(q(enc, "size(#s) = :six", sn, item{":six": N("6")})), 0)
	crEqual(t, "size(absent) = 0", len(q(enc, "size(#m) = :zero", map[string]string{"#m": "no_such_attr"}, item{":zero": N("0")})), 0)
}

// tests/tier1/scan/filterOperators.test.ts
func TestConformanceReadsScanFilterOperators(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	crTable(t, c, "hash", "pk", "", true, nil, nil)
	put(t, c, "hash", item{"pk": S("other"), "strVal": S("apple")})
	for i, v := range []struct {
		str, num string
		bin      []byte
		set      []string
	}{{"apple", "10", []byte{1, 2}, []string{"a", "b"}}, {"banana", "20", []byte{3, 4}, []string{"b", "c"}}, {"cherry", "30", []byte{5, 6}, []string{"a", "c"}}} {
		put(t, c, "hash", item{"pk": S(fmt.Sprintf("fo-%d", i+1)), "strVal": S(v.str), "numVal": N(v.num),
			"binVal": &types.AttributeValueMemberB{Value: v.bin}, "setVal": &types.AttributeValueMemberSS{Value: v.set}})
	}
	names := map[string]string{"#sv": "strVal", "#nv": "numVal", "#bv": "binVal", "#pk": "pk"}
	scan := func(filter string, vals item) []string {
		t.Helper()
		used := map[string]string{}
		for k, v := range names {
			if strings.Contains(filter, k) {
				used[k] = v
			}
		}
		var nm map[string]string
		if len(used) > 0 {
			nm = used
		}
		return crStrings(t, crScan(t, c, &dynamodb.ScanInput{TableName: aws.String("hash"), FilterExpression: aws.String(filter),
			ExpressionAttributeNames: nm, ExpressionAttributeValues: vals, ConsistentRead: aws.Bool(true)}).Items, "pk")
	}
	fo := S("fo-")
	b := func(v ...byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }
	crEqual(t, "EQ string", scan("#sv = :val", item{":val": S("banana")}), []string{"fo-2"})
	crEqual(t, "NE number", scan("#nv <> :val AND begins_with(#pk, :prefix)", item{":val": N("20"), ":prefix": fo}), []string{"fo-1", "fo-3"})
	crEqual(t, "GT number", scan("#nv > :val AND begins_with(#pk, :prefix)", item{":val": N("15"), ":prefix": fo}), []string{"fo-2", "fo-3"})
	crEqual(t, "LE string", scan("#sv <= :val AND begins_with(#pk, :prefix)", item{":val": S("banana"), ":prefix": fo}), []string{"fo-1", "fo-2"})
	crEqual(t, "contains string", scan("contains(#sv, :sub) AND begins_with(#pk, :prefix)", item{":sub": S("an"), ":prefix": fo}), []string{"fo-2"})
	crEqual(t, "attribute_exists", len(scan("attribute_exists(#sv) AND begins_with(#pk, :prefix)", item{":prefix": fo})), 3)
	crEqual(t, "binary GT", scan("#bv > :val AND begins_with(#pk, :prefix)", item{":val": b(3, 4), ":prefix": fo}), []string{"fo-3"})
	crEqual(t, "binary begins_with", scan("begins_with(#bv, :prefix) AND begins_with(#pk, :pkPrefix)", item{":prefix": b(3), ":pkPrefix": fo}), []string{"fo-2"})
	crEqual(t, "binary BETWEEN", scan("#bv BETWEEN :lo AND :hi AND begins_with(#pk, :prefix)", item{":lo": b(1, 2), ":hi": b(3, 4), ":prefix": fo}), []string{"fo-1", "fo-2"})
	crEqual(t, "set EQ", scan("setVal = :expected AND begins_with(#pk, :prefix)", item{":expected": &types.AttributeValueMemberSS{Value: []string{"b", "a"}}, ":prefix": fo}), []string{"fo-1"})
	crEqual(t, "set NE", scan("setVal <> :expected AND begins_with(#pk, :prefix)", item{":expected": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, ":prefix": fo}), []string{"fo-2", "fo-3"})
}
