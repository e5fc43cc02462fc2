package api_test

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/store"
)

// DynamoDB's messages (capacity/limiter.go has their sources).
const (
	msgPTETable = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
	msgPTEIndex = "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API"
)

// stepClock is a test clock: it moves only when told, or by step at every
// reading once step is set (so that a retrying client sees time pass).
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *stepClock) SetStep(d time.Duration) {
	c.mu.Lock()
	c.step = d
	c.mu.Unlock()
}

func startCapacity(t *testing.T, mode capacity.Mode) (*eddytest.Server, *stepClock) {
	clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := eddytest.Start(t, server.Options{Capacity: capacity.Options{Mode: mode, Now: clk.Now}})
	return s, clk
}

func createProvisioned(t *testing.T, c *dynamodb.Client, in *dynamodb.CreateTableInput, rcu, wcu int64) {
	t.Helper()
	if in.AttributeDefinitions == nil {
		in.AttributeDefinitions = []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}}
		in.KeySchema = []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}}
	}
	in.BillingMode = types.BillingModeProvisioned
	in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(rcu), WriteCapacityUnits: aws.Int64(wcu)}
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}

// streamInserts returns the keys of every INSERT record in the table's
// stream.
func streamInserts(t *testing.T, s *eddytest.Server, streamArn *string) map[string]bool {
	t.Helper()
	sc := dynamodbstreams.NewFromConfig(s.Config())
	desc, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: streamArn})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, sh := range desc.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: streamArn,
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			recs, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs.Records) == 0 {
				break
			}
			for _, r := range recs.Records {
				if r.EventName == stypes.OperationTypeInsert {
					keys[r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value] = true
				}
			}
			iter = recs.NextShardIterator
		}
	}
	return keys
}

func tableKeys(t *testing.T, c *dynamodb.Client, table string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			keys[it["pk"].(*types.AttributeValueMemberS).Value] = true
		}
	}
	return keys
}

// TestCapacityBurstThenSteady is issue 20's first "must show": a table at 5
// write units and a client writing 20 items a second (compressed clock).
// The table starts with a full burst allowance (300 s of 5 units); the
// first throttle comes once it is spent (in the 100th second: 1,500 units
// of burst plus 99 s refilled at 5, 1,995 writes), then 5 writes a second
// succeed; aws-sdk-go-v2's standard retryer gets every write through; the
// table and its stream hold exactly the writes that succeeded.
func TestCapacityBurstThenSteady(t *testing.T) {
	s, clk := startCapacity(t, capacity.Enforce)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("burst"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly}}, 5, 5)

	written := map[string]bool{}
	put := func(c *dynamodb.Client, key string) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("burst"), Item: map[string]types.AttributeValue{"pk": S(key), "v": N("1")}})
		if err == nil {
			written[key] = true
		}
		return err
	}
	n, first := 0, -1
	for sec := 0; first < 0 && sec < 200; sec++ {
		for i := 0; i < 20; i++ {
			err := put(s.DDB, fmt.Sprintf("k%05d", n))
			if err != nil {
				apiErr(t, err, "ProvisionedThroughputExceededException", msgPTETable)
				first = n
				break
			}
			n++
		}
		clk.Advance(time.Second)
	}
	if first != 1995 {
		t.Fatalf("first throttle at write %d, want 1995 (the burst of 1,500 units spent at 20/s with 5/s refilled)", first)
	}
	for sec := 0; sec < 5; sec++ {
		ok := 0
		for i := 0; i < 20; i++ {
			if err := put(s.DDB, fmt.Sprintf("s%d-%02d", sec, i)); err == nil {
				ok++
			} else {
				apiErr(t, err, "ProvisionedThroughputExceededException", msgPTETable)
			}
		}
		if ok != 5 {
			t.Fatalf("second %d after the burst: %d writes succeeded, want 5", sec, ok)
		}
		clk.Advance(time.Second)
	}

	// The SDK's standard retryer (its own classification of throttling
	// errors; a short backoff and no retry quota so the test is quick; the
	// clock moves 100 ms at each reading, so capacity comes back).
	cfg := s.Config()
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 50
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	retrying := dynamodb.NewFromConfig(cfg)
	clk.SetStep(100 * time.Millisecond)
	for i := 0; i < 40; i++ {
		if err := put(retrying, fmt.Sprintf("r%02d", i)); err != nil {
			t.Fatalf("write %d through the standard retryer: %v", i, err)
		}
	}

	// Nothing throttled was written or streamed.
	if got := tableKeys(t, s.DDB, "burst"); !sameKeys(got, written) {
		t.Fatalf("table holds %d items, want the %d written", len(got), len(written))
	}
	desc, err := s.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("burst")})
	if err != nil {
		t.Fatal(err)
	}
	if got := streamInserts(t, s, desc.Table.LatestStreamArn); !sameKeys(got, written) {
		t.Fatalf("stream holds %d inserts, want the %d written", len(got), len(written))
	}
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// batchPut writes items with BatchWriteItem, 25 at a time.
func batchPut(c *dynamodb.Client, table string, items []map[string]types.AttributeValue) error {
	var reqs []types.WriteRequest
	for _, it := range items {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
	}
	_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
	return err
}

// TestCapacityHotPartitionAdaptive: a table of 4 partitions (6,000 read and
// 2,000 write units: ceil(6000/3000 + 2000/1000)), so 500 write units a
// second per partition. One hot partition key takes 1,000 units in a
// second, twice its share, from the table's unused throughput (adaptive
// capacity), and is throttled beyond the per-partition ceiling of 1,000,
// while a key of another partition is still served.
func TestCapacityHotPartitionAdaptive(t *testing.T) {
	s, clk := startCapacity(t, capacity.Enforce)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("hot"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}}, 6000, 2000)

	part := func(pk string) int { return capacity.PartitionOf(store.PartitionHash(attr.S(pk)), 4) }
	cold := ""
	for i := 0; cold == ""; i++ {
		if k := fmt.Sprintf("cold%d", i); part(k) != part("hot") {
			cold = k
		}
	}
	items := func(pk string, from, n int) []map[string]types.AttributeValue {
		var out []map[string]types.AttributeValue
		for i := from; i < from+n; i++ {
			out = append(out, map[string]types.AttributeValue{"pk": S(pk), "sk": N(fmt.Sprint(i))})
		}
		return out
	}
	for b := 0; b < 40; b++ { // 1,000 one-unit writes within one second
		if err := batchPut(s.DDB, "hot", items("hot", b*25, 25)); err != nil {
			t.Fatalf("hot key, write %d of its second: %v (adaptive capacity should serve up to 1,000)", b*25, err)
		}
	}
	err := batchPut(s.DDB, "hot", items("hot", 1000, 25))
	apiErr(t, err, "ProvisionedThroughputExceededException", msgPTETable)
	if err := batchPut(s.DDB, "hot", items(cold, 0, 25)); err != nil {
		t.Fatalf("a key of another partition: %v (the table has unused capacity)", err)
	}
	clk.Advance(time.Second)
	if err := batchPut(s.DDB, "hot", items("hot", 1000, 25)); err != nil {
		t.Fatalf("hot key a second later: %v", err)
	}
	out, err := s.DDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("hot"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": S("hot")}, Select: types.SelectCount})
	if err != nil || out.Count != 1025 {
		t.Fatalf("hot key holds %d items (%v), want 1025: a throttled batch writes nothing", out.Count, err)
	}
}

// TestCapacityGSIBackPressure: a global index at 1 write unit (300 units
// of burst) throttles the base table's writes that touch it, with
// DynamoDB's index message, and not those that do not.
func TestCapacityGSIBackPressure(t *testing.T) {
	s, _ := startCapacity(t, capacity.Enforce)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("gsi"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byG"),
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)}}},
	}, 100, 100)

	indexed := func(from, n int) []map[string]types.AttributeValue {
		var out []map[string]types.AttributeValue
		for i := from; i < from+n; i++ {
			out = append(out, map[string]types.AttributeValue{"pk": S(fmt.Sprintf("i%04d", i)), "g": S(fmt.Sprint(i % 7))})
		}
		return out
	}
	for b := 0; b < 12; b++ { // the index's 300 units of burst
		if err := batchPut(s.DDB, "gsi", indexed(b*25, 25)); err != nil {
			t.Fatalf("indexed write %d: %v", b*25, err)
		}
	}
	err := batchPut(s.DDB, "gsi", indexed(300, 25))
	apiErr(t, err, "ProvisionedThroughputExceededException", msgPTEIndex)
	_, err = s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("gsi"), Item: map[string]types.AttributeValue{"pk": S("x"), "g": S("1")}})
	apiErr(t, err, "ProvisionedThroughputExceededException", msgPTEIndex)
	for i := 0; i < 50; i++ { // items without the index key: the index is not touched
		if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("gsi"), Item: map[string]types.AttributeValue{"pk": S(fmt.Sprintf("n%02d", i))}}); err != nil {
			t.Fatalf("write that does not touch the index: %v", err)
		}
	}
	// An update that leaves the index entry alone does not touch it either.
	if _, err := s.DDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("gsi"), Key: map[string]types.AttributeValue{"pk": S("n00")},
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": N("1")}}); err != nil {
		t.Fatalf("update without an index key: %v", err)
	}
	// One batch of both kinds: the items that touch the index come back in
	// UnprocessedItems, the others are written.
	var reqs []types.WriteRequest
	for i := 0; i < 10; i++ {
		it := map[string]types.AttributeValue{"pk": S(fmt.Sprintf("m%d", i))}
		if i%2 == 0 {
			it["g"] = S("m")
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
	}
	bw, err := s.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"gsi": reqs}})
	if err != nil {
		t.Fatalf("mixed batch: %v", err)
	}
	var unprocessed []string
	for _, wr := range bw.UnprocessedItems["gsi"] {
		unprocessed = append(unprocessed, wr.PutRequest.Item["pk"].(*types.AttributeValueMemberS).Value)
	}
	if strings.Join(unprocessed, ",") != "m0,m2,m4,m6,m8" || len(bw.UnprocessedItems) != 1 {
		t.Fatalf("UnprocessedItems %v, want the five items with an index key", unprocessed)
	}
	keys := tableKeys(t, s.DDB, "gsi")
	if len(keys) != 355 || keys["x"] || keys["i0300"] || keys["m0"] || !keys["m1"] {
		t.Fatalf("table holds %d items (x: %v, i0300: %v, m0: %v, m1: %v), want the 355 admitted", len(keys), keys["x"], keys["i0300"], keys["m0"], keys["m1"])
	}
}

// TestCapacityReportMode: --capacity report admits everything and counts
// what would have been throttled in /metrics.
func TestCapacityReportMode(t *testing.T) {
	s, _ := startCapacity(t, capacity.Report)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("rep")}, 1, 1)
	var items []map[string]types.AttributeValue
	for i := 0; i < 25; i++ {
		items = append(items, map[string]types.AttributeValue{"pk": S(fmt.Sprint(i))})
	}
	for b := 0; b < 13; b++ { // 325 writes at 1 unit: 300 of burst, then over
		for _, it := range items {
			it["v"] = N(fmt.Sprint(b))
		}
		if err := batchPut(s.DDB, "rep", items); err != nil {
			t.Fatalf("report mode refused a write: %v", err)
		}
	}
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "eddy_capacity_") && strings.Contains(l, `table="rep"`) && strings.Contains(l, `direction="write"`) {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	want := []string{
		`eddy_capacity_consumed_units_total{direction="write",index="",region="us-east-1",table="rep"} 325`,
		`eddy_capacity_throttle_events_total{direction="write",index="",region="us-east-1",table="rep"} 1`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("metrics:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestWarmThroughputAndDecreaseBudget: DescribeTable's WarmThroughput and
// the budget of throughput decreases, as recorded from DynamoDB in 2026-10
// (ack-api-quirks dynamodb DDB-TABLE-058, -184, -326): warm throughput is
// the highest throughput the table had (12,000/4,000 on demand); after 4
// decreases in a UTC day the 5th is LimitExceededException, and a refused
// decrease changes nothing.
func TestWarmThroughputAndDecreaseBudget(t *testing.T) {
	s, _ := startCapacity(t, capacity.Enforce)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("dec")}, 10, 10)
	for r := int64(9); r >= 6; r-- {
		if _, err := s.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("dec"),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(10)}}); err != nil {
			t.Fatalf("decrease to %d: %v", r, err)
		}
	}
	_, err := s.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("dec"),
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(10)}})
	apiErr(t, err, "LimitExceededException", "")
	if msg := err.Error(); !strings.Contains(msg, "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the first 4 decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 seconds. Number of decreases today: 4. Last decrease at ") ||
		!strings.Contains(msg, "Coordinated Universal Time. Next decrease can be made at ") {
		t.Fatalf("message: %s", msg)
	}
	// An increase is not limited.
	if _, err := s.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("dec"),
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(50), WriteCapacityUnits: aws.Int64(10)}}); err != nil {
		t.Fatalf("increase: %v", err)
	}
	if _, err := s.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("dec"),
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(50), WriteCapacityUnits: aws.Int64(10)}}); err == nil {
		t.Fatal("an unchanged throughput was accepted")
	}
	d, err := s.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("dec")})
	if err != nil {
		t.Fatal(err)
	}
	pt, wt := d.Table.ProvisionedThroughput, d.Table.WarmThroughput
	if *pt.ReadCapacityUnits != 50 || *pt.NumberOfDecreasesToday != 4 {
		t.Fatalf("throughput %d, %d decreases today; want 50 and 4", *pt.ReadCapacityUnits, *pt.NumberOfDecreasesToday)
	}
	if wt == nil || *wt.ReadUnitsPerSecond != 50 || *wt.WriteUnitsPerSecond != 10 || wt.Status != types.TableStatusActive {
		t.Fatalf("WarmThroughput %+v, want 50/10 ACTIVE", wt)
	}
	if _, err := s.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("dec"), BillingMode: types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	d, err = s.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("dec")})
	if err != nil {
		t.Fatal(err)
	}
	if wt := d.Table.WarmThroughput; wt == nil || *wt.ReadUnitsPerSecond != 12000 || *wt.WriteUnitsPerSecond != 4000 {
		t.Fatalf("on demand: WarmThroughput %+v, want 12000/4000", wt)
	}
}

// TestCapacityTransactionThrottled: a transaction one of whose actions has
// no capacity left is TransactionCanceledException with that action's
// reason ProvisionedThroughputExceeded and None for the others (API
// reference, TransactWriteItems); nothing is written.
func TestCapacityTransactionThrottled(t *testing.T) {
	s, _ := startCapacity(t, capacity.Enforce)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("txa")}, 1, 1)
	createTable(t, s.DDB, "txb", false)
	for b := 0; b < 12; b++ { // the 300 units of burst
		var items []map[string]types.AttributeValue
		for i := 0; i < 25; i++ {
			items = append(items, map[string]types.AttributeValue{"pk": S(fmt.Sprint(b*25 + i))})
		}
		if err := batchPut(s.DDB, "txa", items); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.DDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("txb"), Item: map[string]types.AttributeValue{"pk": S("b")}}},
		{Put: &types.Put{TableName: aws.String("txa"), Item: map[string]types.AttributeValue{"pk": S("a")}}},
	}})
	apiErr(t, err, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ProvisionedThroughputExceeded]")
	var tce *types.TransactionCanceledException
	if !asErr(err, &tce) || len(tce.CancellationReasons) != 2 || *tce.CancellationReasons[1].Message != msgPTETable {
		t.Fatalf("reasons: %+v", tce)
	}
	out, err := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("txb"), Key: map[string]types.AttributeValue{"pk": S("b")}})
	if err != nil || out.Item != nil {
		t.Fatalf("the throttled transaction wrote its other action: %v %v", out.Item, err)
	}
}

// TestCapacityBatchGetPartial: BatchGetItem admits each key on its own: the
// keys past the table's read capacity are UnprocessedKeys, and the error
// comes only when every key was throttled.
func TestCapacityBatchGetPartial(t *testing.T) {
	s, _ := startCapacity(t, capacity.Enforce)
	createProvisioned(t, s.DDB, &dynamodb.CreateTableInput{TableName: aws.String("bget")}, 1, 100) // 300 read units of burst
	var keys []map[string]types.AttributeValue
	for b := 0; b < 4; b++ {
		var items []map[string]types.AttributeValue
		for i := 0; i < 25; i++ {
			items = append(items, map[string]types.AttributeValue{"pk": S(fmt.Sprint(b*25 + i))})
			keys = append(keys, map[string]types.AttributeValue{"pk": S(fmt.Sprint(b*25 + i))})
		}
		if err := batchPut(s.DDB, "bget", items); err != nil {
			t.Fatal(err)
		}
	}
	get := func(consistent bool) (*dynamodb.BatchGetItemOutput, error) {
		return s.DDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			"bget": {Keys: keys, ConsistentRead: aws.Bool(consistent)}}})
	}
	for i := 0; i < 5; i++ { // 5 × 100 eventually consistent reads: 250 units
		out, err := get(false)
		if err != nil || len(out.Responses["bget"]) != 100 {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	out, err := get(true) // 50 units left: 50 strongly consistent reads
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Responses["bget"]) != 50 || len(out.UnprocessedKeys["bget"].Keys) != 50 || !*out.UnprocessedKeys["bget"].ConsistentRead {
		t.Fatalf("%d items and %d unprocessed keys, want 50 and 50", len(out.Responses["bget"]), len(out.UnprocessedKeys["bget"].Keys))
	}
	_, err = get(false)
	apiErr(t, err, "ProvisionedThroughputExceededException", msgPTETable)
	_, err = s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bget"), Key: keys[0]})
	apiErr(t, err, "ProvisionedThroughputExceededException", msgPTETable)
}
