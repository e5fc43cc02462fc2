package api_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// match is the model of one item of the composite-key tests: "" and -1
// mean the attribute is absent.
type match struct {
	pk, t, r, rd, player string
	n                    int
}

func (m match) item() item {
	it := item{"pk": S(m.pk)}
	for name, v := range map[string]string{"t": m.t, "r": m.r, "rd": m.rd, "player": m.player} {
		if v != "" {
			it[name] = S(v)
		}
	}
	if m.n >= 0 {
		it["n"] = N(fmt.Sprint(m.n))
	}
	return it
}

// compositeQuery is a Query of an index with a multi-attribute key and
// the model's answer to it.
type compositeQuery struct {
	index, cond string
	vals        item
	match       func(m match) bool
	// less orders the model's matches as the index does (sort key
	// attributes as a tuple, then the table key).
	less func(a, b match) bool
}

func byRoundN(a, b match) bool {
	if a.rd != b.rd {
		return a.rd < b.rd
	}
	if a.n != b.n {
		return a.n < b.n
	}
	return a.pk < b.pk
}

// runComposite runs q page by page (Limit limit) in both directions and
// compares the items' table keys, in order, with the model's; every page's
// LastEvaluatedKey holds the table key and all index key attributes.
func runComposite(t *testing.T, c *dynamodb.Client, model []match, q compositeQuery, limit int32, keyNames []string) {
	t.Helper()
	var want []string
	var sel []match
	for _, m := range model {
		if q.match(m) {
			sel = append(sel, m)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return q.less(sel[i], sel[j]) })
	for _, m := range sel {
		want = append(want, m.pk)
	}
	for _, fwd := range []bool{true, false} {
		var got []string
		var start item
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatalf("%s: paging does not end", q.cond)
			}
			out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("matches"), IndexName: aws.String(q.index),
				KeyConditionExpression: aws.String(q.cond), ExpressionAttributeValues: q.vals, Limit: aws.Int32(limit),
				ScanIndexForward: aws.Bool(fwd), ExclusiveStartKey: start})
			if err != nil {
				t.Fatalf("%s: %v", q.cond, err)
			}
			for _, it := range out.Items {
				got = append(got, it["pk"].(*types.AttributeValueMemberS).Value)
			}
			if start = out.LastEvaluatedKey; start == nil {
				break
			}
			if len(start) != len(keyNames) {
				t.Fatalf("%s: LastEvaluatedKey %v, want the attributes %v", q.cond, normalize(start), keyNames)
			}
			for _, n := range keyNames {
				if start[n] == nil {
					t.Fatalf("%s: LastEvaluatedKey %v lacks %s", q.cond, normalize(start), n)
				}
			}
		}
		w := want
		if !fwd {
			w = make([]string, len(want))
			for i, pk := range want {
				w[len(want)-1-i] = pk
			}
		}
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("%s (limit %d, forward %v):\n got %v\nwant %v", q.cond, limit, fwd, got, w)
		}
	}
}

// TestCompositeGSIKeys: a global index keyed by two partition and two sort
// attributes (api/composite.go has the rules and their sources) is
// described as created, indexes only complete items, answers every key
// condition shape in tuple order with paging both ways, follows updates
// that change one key attribute and deletes, survives a restart, is read
// by PartiQL, is backfilled by UpdateTable, and its table's stream records
// are the table's.
func TestCompositeGSIKeys(t *testing.T) {
	s := eddytest.Start(t, server.Options{DataDir: t.TempDir()})
	c := s.DDB
	hashRange := func(hash []string, rng ...string) []types.KeySchemaElement {
		var ks []types.KeySchemaElement
		for _, h := range hash {
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(h), KeyType: types.KeyTypeHash})
		}
		for _, r := range rng {
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(r), KeyType: types.KeyTypeRange})
		}
		return ks
	}
	tbl, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("matches"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: defs("pk", "S", "t", "S", "r", "S", "rd", "S", "n", "N"),
		KeySchema:            hashRange([]string{"pk"}),
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byTR"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			KeySchema: hashRange([]string{"t", "r"}, "rd", "n")}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("matches")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range d.Table.GlobalSecondaryIndexes[0].KeySchema {
		got = append(got, *k.AttributeName+" "+string(k.KeyType))
	}
	if strings.Join(got, ", ") != "t HASH, r HASH, rd RANGE, n RANGE" {
		t.Fatalf("DescribeTable KeySchema %v", got)
	}

	var model []match
	rounds := []string{"final", "quarter", "semi"}
	for i := 0; i < 24; i++ {
		m := match{pk: fmt.Sprintf("m%02d", i), t: "W24", r: []string{"EU", "US"}[i%2], rd: rounds[i%3], n: i % 5, player: []string{"p1", "p2", ""}[i%3]}
		switch i {
		case 20:
			m.r = "" // sparse: no partition attribute r
		case 21:
			m.n = -1 // sparse: no sort attribute n
		case 22:
			m.t = "S25"
		}
		model = append(model, m)
		put(t, c, "matches", m.item())
	}
	indexed := func(m match) bool { return m.t != "" && m.r != "" && m.rd != "" && m.n >= 0 }
	eu := func(m match) bool { return indexed(m) && m.t == "W24" && m.r == "EU" }
	lek := []string{"pk", "t", "r", "rd", "n"}
	queries := []compositeQuery{
		{"byTR", "t = :t AND r = :r", item{}, eu, byRoundN},
		{"byTR", "r = :r AND t = :t AND rd = :rd", item{":rd": S("semi")}, func(m match) bool { return eu(m) && m.rd == "semi" }, byRoundN},
		{"byTR", "t = :t AND r = :r AND rd > :rd", item{":rd": S("final")}, func(m match) bool { return eu(m) && m.rd > "final" }, byRoundN},
		{"byTR", "t = :t AND r = :r AND begins_with(rd, :rd)", item{":rd": S("qu")}, func(m match) bool { return eu(m) && m.rd == "quarter" }, byRoundN},
		{"byTR", "t = :t AND r = :r AND rd = :rd AND n = :n", item{":rd": S("semi"), ":n": N("2")}, func(m match) bool { return eu(m) && m.rd == "semi" && m.n == 2 }, byRoundN},
		{"byTR", "t = :t AND r = :r AND rd = :rd AND n < :n", item{":rd": S("final"), ":n": N("3")}, func(m match) bool { return eu(m) && m.rd == "final" && m.n < 3 }, byRoundN},
		{"byTR", "t = :t AND r = :r AND rd = :rd AND n >= :n", item{":rd": S("quarter"), ":n": N("2")}, func(m match) bool { return eu(m) && m.rd == "quarter" && m.n >= 2 }, byRoundN},
		{"byTR", "t = :t AND r = :r AND rd = :rd AND n BETWEEN :a AND :b", item{":rd": S("semi"), ":a": N("1"), ":b": N("3")},
			func(m match) bool { return eu(m) && m.rd == "semi" && m.n >= 1 && m.n <= 3 }, byRoundN},
	}
	for i := range queries {
		if _, ok := queries[i].vals[":t"]; !ok {
			queries[i].vals[":t"], queries[i].vals[":r"] = S("W24"), S("EU")
		}
	}
	checkAll := func(stage string) {
		t.Helper()
		for _, q := range queries {
			for _, limit := range []int32{1, 3, 100} {
				runComposite(t, c, model, q, limit, lek)
			}
		}
		// The index holds exactly the items with every key attribute.
		var n int
		for start := item(nil); ; {
			out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("matches"), IndexName: aws.String("byTR"), Limit: aws.Int32(4), ExclusiveStartKey: start})
			if err != nil {
				t.Fatalf("%s: Scan: %v", stage, err)
			}
			n += len(out.Items)
			if start = out.LastEvaluatedKey; start == nil {
				break
			}
		}
		want := 0
		for _, m := range model {
			if indexed(m) {
				want++
			}
		}
		if n != want {
			t.Errorf("%s: Scan of the index: %d items, want %d", stage, n, want)
		}
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("matches")})
		if err != nil {
			t.Fatal(err)
		}
		if got := *d.Table.GlobalSecondaryIndexes[0].ItemCount; got != int64(want) {
			t.Errorf("%s: index ItemCount %d, want %d", stage, got, want)
		}
	}
	checkAll("after puts")

	update := func(i int, expr string, vals item, apply func(*match)) {
		t.Helper()
		in := &dynamodb.UpdateItemInput{TableName: aws.String("matches"), Key: item{"pk": S(model[i].pk)}, UpdateExpression: aws.String(expr)}
		if len(vals) > 0 {
			in.ExpressionAttributeValues = vals
		}
		if _, err := c.UpdateItem(ctx, in); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		apply(&model[i])
	}
	// A partition attribute changes: the entry moves to another partition.
	update(0, "SET r = :r", item{":r": S("US")}, func(m *match) { m.r = "US" })
	update(1, "SET r = :r", item{":r": S("EU")}, func(m *match) { m.r = "EU" })
	// A sort attribute changes: the entry moves within the partition.
	update(2, "SET n = :n", item{":n": N("77")}, func(m *match) { m.n = 77 })
	update(4, "SET rd = :rd", item{":rd": S("final")}, func(m *match) { m.rd = "final" })
	// A key attribute goes: the entry goes; it comes back when the item
	// is complete again.
	update(6, "REMOVE n", nil, func(m *match) { m.n = -1 })
	update(21, "SET n = :n", item{":n": N("3")}, func(m *match) { m.n = 3 })
	// Another attribute changes: the entry stays.
	update(8, "SET score = :s", item{":s": N("5")}, func(*match) {})
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("matches"), Key: item{"pk": S(model[10].pk)}}); err != nil {
		t.Fatal(err)
	}
	model = append(model[:10], model[11:]...)
	checkAll("after updates and a delete")
	// The descriptor and the entries survive a restart.
	s.Restart()
	c = s.DDB
	checkAll("after a restart")
	// PartiQL reads the index too (whole, the WHERE clause filtering).
	st, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{
		Statement: aws.String(`SELECT pk FROM "matches"."byTR" WHERE t = 'W24' AND r = 'EU' AND rd = 'semi'`)})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, m := range model {
		if eu(m) && m.rd == "semi" {
			want++
		}
	}
	if len(st.Items) != want {
		t.Errorf("PartiQL SELECT on the index: %d items, want %d", len(st.Items), want)
	}

	// The stream records the table's changes; an index key moving is a
	// MODIFY of the item, keyed by the table key.
	sc := dynamodbstreams.NewFromConfig(s.Config())
	desc, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: tbl.TableDescription.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	var moved *stypes.StreamRecord
	var records int
	for _, sh := range desc.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: tbl.TableDescription.LatestStreamArn,
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1000)})
		if err != nil {
			t.Fatal(err)
		}
		records += len(recs.Records)
		for _, r := range recs.Records {
			if r.EventName == stypes.OperationTypeModify && r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value == "m00" {
				moved = r.Dynamodb
			}
		}
	}
	// 24 puts, 7 updates, 1 delete.
	if records != 32 {
		t.Errorf("stream: %d records, want 32", records)
	}
	if moved == nil || len(moved.Keys) != 1 || moved.OldImage["r"].(*stypes.AttributeValueMemberS).Value != "EU" ||
		moved.NewImage["r"].(*stypes.AttributeValueMemberS).Value != "US" {
		t.Errorf("stream record of the moved item: %+v", moved)
	}

	// UpdateTable adds a second composite index; the backfill indexes the
	// existing items, skipping those without a key attribute and one whose
	// player is over the 2048-byte partition key limit (written while no
	// index held player to it).
	long := match{pk: "long", t: "W24", player: strings.Repeat("p", 2049), n: 1}
	put(t, c, "matches", long.item())
	model = append(model, long)
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("matches"), AttributeDefinitions: defs("t", "S", "player", "S", "n", "N"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String("byPlayer"), KeySchema: hashRange([]string{"t", "player"}, "n"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}}}}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitFor(t, "the backfill of byPlayer", 30*time.Second, func() bool {
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("matches")})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range d.Table.GlobalSecondaryIndexes {
			if *g.IndexName == "byPlayer" {
				return g.IndexStatus == types.IndexStatusActive
			}
		}
		t.Fatal("byPlayer is not described")
		return false
	})
	byN := func(a, b match) bool {
		if a.n != b.n {
			return a.n < b.n
		}
		return a.pk < b.pk
	}
	p1 := func(m match) bool { return m.t == "W24" && m.player == "p1" && m.n >= 0 }
	d, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("matches")})
	if err != nil {
		t.Fatal(err)
	}
	wantPlayers := 0
	for _, m := range model {
		if m.t != "" && m.player != "" && len(m.player) <= 2048 && m.n >= 0 {
			wantPlayers++
		}
	}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		if *g.IndexName == "byPlayer" && *g.ItemCount != int64(wantPlayers) {
			t.Errorf("byPlayer after the backfill: ItemCount %d, want %d", *g.ItemCount, wantPlayers)
		}
	}
	for _, q := range []compositeQuery{
		{"byPlayer", "t = :t AND player = :p", item{":t": S("W24"), ":p": S("p1")}, p1, byN},
		{"byPlayer", "t = :t AND player = :p AND n > :n", item{":t": S("W24"), ":p": S("p1"), ":n": N("1")}, func(m match) bool { return p1(m) && m.n > 1 }, byN},
	} {
		runComposite(t, c, model, q, 2, []string{"pk", "t", "player", "n"})
	}
}
