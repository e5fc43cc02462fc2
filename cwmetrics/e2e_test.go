package cwmetrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/cwmetrics"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// run is a table "orders" (5 read, 5 write units, global index "byCustomer"
// at 2/2) after a run on a compressed clock: in minute 0, 10 PutItems of
// ~1.5 KB (2 write units each for the table, 2 for the index) and one
// strongly consistent Query of them (4 read units: 15 KB); in minute 1,
// 3 throttled PutItems reported through Store.RecordThrottle (as the
// capacity limiter will), one of them also throttled by the index.
type run struct {
	srv   *eddytest.Server
	start time.Time // minute 0
	cw    *cloudwatch.Client
}

func startRun(t *testing.T) *run {
	t.Helper()
	clock := eddytest.NewClock()
	now := clock.Now()
	clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now)) // minute 0 starts now
	srv := eddytest.Start(t, server.Options{Clock: clock.Now, MetricsInterval: -1})
	ctx := context.Background()
	_, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("customer"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName:             aws.String("byCustomer"),
			KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("customer"), KeyType: ddbtypes.KeyTypeHash}},
			Projection:            &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
			ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(2), WriteCapacityUnits: aws.Int64(2)},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{srv: srv, start: clock.Now(), cw: cloudwatch.NewFromConfig(srv.Config())}
	pad := strings.Repeat("x", 1500)
	for i := range 10 {
		if _, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
			"id": &ddbtypes.AttributeValueMemberS{Value: string(rune('a' + i))}, "customer": &ddbtypes.AttributeValueMemberS{Value: "c1"},
			"pad": &ddbtypes.AttributeValueMemberS{Value: pad}}}); err != nil {
			t.Fatal(err)
		}
	}
	q, err := srv.DDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("byCustomer"),
		KeyConditionExpression:    aws.String("customer = :c"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":c": &ddbtypes.AttributeValueMemberS{Value: "c1"}}})
	if err != nil || q.Count != 10 {
		t.Fatalf("query: %v %v", q, err)
	}
	// Transactions and PartiQL on table "ledger": 2 transactional Puts
	// (2 units each), an INSERT (1), a TransactGetItems of both items (2
	// each), a SELECT by key (0.5).
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("ledger"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	key := func(id string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}
	}
	if _, err := srv.DDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String("ledger"), Item: key("x")}}, {Put: &ddbtypes.Put{TableName: aws.String("ledger"), Item: key("y")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DDB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`INSERT INTO ledger VALUE {'id': 'z'}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DDB.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []ddbtypes.TransactGetItem{
		{Get: &ddbtypes.Get{TableName: aws.String("ledger"), Key: key("x")}}, {Get: &ddbtypes.Get{TableName: aws.String("ledger"), Key: key("y")}}}}); err != nil {
		t.Fatal(err)
	}
	if out, err := srv.DDB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM ledger WHERE id = 'z'`)}); err != nil || len(out.Items) != 1 {
		t.Fatal(out, err)
	}
	srv.Tick(ctx) // samples the provisioned units in minute 0
	clock.Advance(time.Minute)
	for i := range 3 {
		th := &cwmetrics.Throttle{Region: "us-east-1", Table: "orders", Op: "PutItem", Write: 1}
		if i == 0 {
			th.Indexes = []cwmetrics.IndexThrottle{{Name: "byCustomer", Write: 1}}
		}
		srv.Metrics().RecordThrottle(th)
	}
	clock.Advance(time.Minute)
	return r
}

// TestMetricsThroughTheSDK: GetMetricData and ListMetrics through
// aws-sdk-go-v2 (which speaks Smithy RPC v2 CBOR to CloudWatch), and
// CloudWatch's errors for bad queries.
func TestMetricsThroughTheSDK(t *testing.T) {
	r := startRun(t)
	ctx := context.Background()
	stat := func(id, metric, st string, dims ...string) cwtypes.MetricDataQuery {
		var d []cwtypes.Dimension
		for i := 0; i < len(dims); i += 2 {
			d = append(d, cwtypes.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
		}
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(metric), Dimensions: d},
			Period: aws.Int32(60), Stat: aws.String(st)}}
	}
	out, err := r.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(r.start.Add(-time.Hour)), EndTime: aws.Time(r.start.Add(time.Hour)), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{
			stat("w", "ConsumedWriteCapacityUnits", "Sum", "TableName", "orders"),
			stat("wn", "ConsumedWriteCapacityUnits", "SampleCount", "TableName", "orders"),
			stat("wi", "ConsumedWriteCapacityUnits", "Sum", "TableName", "orders", "GlobalSecondaryIndexName", "byCustomer"),
			stat("ri", "ConsumedReadCapacityUnits", "Sum", "TableName", "orders", "GlobalSecondaryIndexName", "byCustomer"),
			stat("items", "ReturnedItemCount", "Sum", "TableName", "orders", "Operation", "Query"),
			stat("lat", "SuccessfulRequestLatency", "SampleCount", "TableName", "orders", "Operation", "PutItem"),
			stat("pw", "ProvisionedWriteCapacityUnits", "Maximum", "TableName", "orders"),
			stat("thr", "WriteThrottleEvents", "Sum", "TableName", "orders"),
			stat("thri", "WriteThrottleEvents", "Sum", "TableName", "orders", "GlobalSecondaryIndexName", "byCustomer"),
			stat("treq", "ThrottledRequests", "Sum", "TableName", "orders", "Operation", "PutItem"),
			stat("none", "ConsumedWriteCapacityUnits", "Sum", "TableName", "other"),
			stat("lw", "ConsumedWriteCapacityUnits", "Sum", "TableName", "ledger"),
			stat("lwn", "ConsumedWriteCapacityUnits", "SampleCount", "TableName", "ledger"),
			stat("lr", "ConsumedReadCapacityUnits", "Sum", "TableName", "ledger"),
			stat("pqitems", "ReturnedItemCount", "Sum", "TableName", "ledger", "Operation", "ExecuteStatement"),
			stat("nopw", "ProvisionedWriteCapacityUnits", "Maximum", "TableName", "ledger"), // on-demand: none
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		minute int
		value  float64
	}{
		"w": {0, 20}, "wn": {0, 10}, "wi": {0, 20}, "ri": {0, 2}, // 15 KB eventually consistent from the index: 4 KB units halved
		"lw": {0, 5}, "lwn": {0, 2}, "lr": {0, 4.5}, "pqitems": {0, 1},
		"items": {0, 10}, "lat": {0, 10}, "pw": {0, 5}, "thr": {1, 3}, "thri": {1, 1}, "treq": {1, 3},
	}
	for _, res := range out.MetricDataResults {
		id := aws.ToString(res.Id)
		w, ok := want[id]
		if !ok {
			if len(res.Values) != 0 {
				t.Errorf("%s: %v, want no data points", id, res.Values)
			}
			continue
		}
		if len(res.Values) != 1 || res.Values[0] != w.value || !res.Timestamps[0].Equal(r.start.Add(time.Duration(w.minute)*time.Minute)) {
			t.Errorf("%s: %v at %v, want %v at minute %d (%v)", id, res.Values, res.Timestamps, w.value, w.minute, r.start)
		}
		if res.StatusCode != cwtypes.StatusCodeComplete {
			t.Errorf("%s: status %s", id, res.StatusCode)
		}
		delete(want, id)
	}
	if len(want) > 0 {
		t.Errorf("no results for %v", want)
	}

	lm, err := r.cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/DynamoDB"),
		Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("GlobalSecondaryIndexName"), Value: aws.String("byCustomer")}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range lm.Metrics {
		names = append(names, aws.ToString(m.MetricName))
		if len(m.Dimensions) != 2 || aws.ToString(m.Dimensions[0].Name) != "TableName" || aws.ToString(m.Dimensions[0].Value) != "orders" {
			t.Errorf("dimensions %+v", m.Dimensions)
		}
	}
	if got := strings.Join(names, ","); got != "ConsumedReadCapacityUnits,ConsumedWriteCapacityUnits,ProvisionedReadCapacityUnits,ProvisionedWriteCapacityUnits,WriteThrottleEvents" {
		t.Errorf("ListMetrics: %s", got)
	}

	// Bad input gets CloudWatch's errors.
	for _, c := range []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"period", func() error {
			q := stat("q", "ConsumedWriteCapacityUnits", "Sum", "TableName", "orders")
			q.MetricStat.Period = aws.Int32(90)
			_, err := r.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(r.start), EndTime: aws.Time(r.start.Add(time.Hour)), MetricDataQueries: []cwtypes.MetricDataQuery{q}})
			return err
		}, "InvalidParameterValue", "The parameter MetricDataQueries.member.1.MetricStat.Period must be a multiple of 60."},
		{"id", func() error {
			_, err := r.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(r.start), EndTime: aws.Time(r.start.Add(time.Hour)),
				MetricDataQueries: []cwtypes.MetricDataQuery{stat("Q", "ConsumedWriteCapacityUnits", "Sum", "TableName", "orders")}})
			return err
		}, "ValidationError", "The value Q for parameter MetricDataQueries.member.1.Id is invalid."},
		{"window", func() error {
			_, err := r.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ConsumedWriteCapacityUnits"),
				StartTime: aws.Time(r.start), EndTime: aws.Time(r.start), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
			return err
		}, "InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime."},
		{"no statistics", func() error {
			_, err := r.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ConsumedWriteCapacityUnits"),
				StartTime: aws.Time(r.start), EndTime: aws.Time(r.start.Add(time.Hour)), Period: aws.Int32(60)})
			return err
		}, "InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics"},
		{"too many points", func() error {
			_, err := r.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ConsumedWriteCapacityUnits"),
				StartTime: aws.Time(r.start), EndTime: aws.Time(r.start.Add(48 * time.Hour)), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
			return err
		}, "InvalidParameterCombination", "You have requested up to 2,880 datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."},
	} {
		err := c.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code || ae.ErrorMessage() != c.msg {
			t.Errorf("%s: %v, want %s: %s", c.name, err, c.code, c.msg)
		}
	}

	// A Period past CloudWatch's Integer (whose seconds would wrap to a
	// zero duration) is refused, over JSON 1.0.
	req, _ := http.NewRequest("POST", r.srv.URL()+"/", strings.NewReader(`{"Namespace":"AWS/DynamoDB","MetricName":"ConsumedWriteCapacityUnits",`+
		`"StartTime":1,"EndTime":100000,"Period":2161727821137838080,"Statistics":["Sum"]}`))
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricStatistics")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Query-Error") != "ValidationError;Sender" || !strings.Contains(string(b), `"__type":"com.amazonaws.cloudwatch#ValidationError"`) {
		t.Errorf("huge Period: %d %s %s", resp.StatusCode, resp.Header, b)
	}

	// The same figures in Prometheus.
	resp, err = http.Get(r.srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		`eddy_dynamodb_consumed_write_capacity_units_total{index="",region="us-east-1",table="orders"} 20`,
		`eddy_dynamodb_consumed_write_capacity_units_total{index="byCustomer",region="us-east-1",table="orders"} 20`,
		`eddy_dynamodb_write_throttle_events_total{index="",region="us-east-1",table="orders"} 3`,
		`eddy_dynamodb_throttled_requests_total{operation="PutItem",region="us-east-1",table="orders"} 3`,
		`eddy_dynamodb_provisioned_write_capacity_units{index="",region="us-east-1",table="orders"} 5`,
		`eddy_dynamodb_successful_request_latency_seconds_count{operation="PutItem",region="us-east-1",table="orders"} 10`,
		`eddy_dynamodb_returned_items_total{operation="Query",region="us-east-1",table="orders"} 10`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// TestGetMetricStatisticsThroughTheCLI: `aws cloudwatch
// get-metric-statistics` returns the consumed and throttled figures of the
// run, with every CLI installed (v2.9 sends awsquery, v1.45 RPC v2 CBOR),
// and JSON 1.0 (botocore's third protocol) answers the same.
func TestGetMetricStatisticsThroughTheCLI(t *testing.T) {
	r := startRun(t)
	clis := eddytest.CLIs()
	if len(clis) == 0 {
		t.Skip("no AWS CLI installed")
	}
	env := eddytest.AWSCLIEnv(t)
	from, to := r.start.Add(-10*time.Minute).Format(time.RFC3339), r.start.Add(10*time.Minute).Format(time.RFC3339)
	for _, cli := range clis {
		var got struct {
			Label      string
			Datapoints []struct {
				Timestamp    json.RawMessage // ISO 8601, or epoch seconds from CLI v1 (its timestamp format "none" prints what the parser got)
				Sum, Maximum float64
				SampleCount  float64
				Unit         string
			}
		}
		out := cli.MustRun(t, env, r.srv.URL(), "cloudwatch", "get-metric-statistics", "--namespace", "AWS/DynamoDB",
			"--metric-name", "ConsumedWriteCapacityUnits", "--dimensions", "Name=TableName,Value=orders",
			"--start-time", from, "--end-time", to, "--period", "300", "--statistics", "Sum", "SampleCount", "Maximum")
		if err := json.Unmarshal([]byte(out), &got); err != nil || got.Label != "ConsumedWriteCapacityUnits" || len(got.Datapoints) != 1 {
			t.Fatalf("%s: %v\n%s", cli.Version, err, out)
		}
		if dp := got.Datapoints[0]; dp.Sum != 20 || dp.SampleCount != 10 || dp.Maximum != 2 || dp.Unit != "Count" {
			t.Errorf("%s: %+v", cli.Version, dp)
		}
		t.Logf("%s: get-metric-statistics returned the run's consumed units", cli.Version)
		if !strings.HasPrefix(cli.Version, "aws-cli/2") && cli != clis[len(clis)-1] {
			continue // the rest with CLI v2 (Debian's /usr/bin/aws, listed last), or the one CLI there is
		}
		out = cli.MustRun(t, env, r.srv.URL(), "cloudwatch", "get-metric-statistics", "--namespace", "AWS/DynamoDB",
			"--metric-name", "ThrottledRequests", "--dimensions", "Name=TableName,Value=orders", "Name=Operation,Value=PutItem",
			"--start-time", from, "--end-time", to, "--period", "60", "--statistics", "Sum")
		got.Datapoints = nil
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Datapoints) != 1 || got.Datapoints[0].Sum != 3 {
			t.Errorf("%s ThrottledRequests: %v\n%s", cli.Version, err, out)
		}
		_, stderr, err := cli.Run(env, r.srv.URL(), "cloudwatch", "get-metric-statistics", "--namespace", "AWS/DynamoDB",
			"--metric-name", "ThrottledRequests", "--start-time", from, "--end-time", to, "--period", "60")
		if err == nil || !strings.Contains(stderr, "(InvalidParameterCombination) when calling the GetMetricStatistics operation: Must specify either Statistics or ExtendedStatistics") {
			t.Errorf("%s without statistics: %v\n%s", cli.Version, err, stderr)
		}
		out = cli.MustRun(t, env, r.srv.URL(), "cloudwatch", "get-metric-data", "--start-time", from, "--end-time", to, "--scan-by", "TimestampAscending",
			"--metric-data-queries", `[{"Id":"w","MetricStat":{"Metric":{"Namespace":"AWS/DynamoDB","MetricName":"ConsumedWriteCapacityUnits",`+
				`"Dimensions":[{"Name":"TableName","Value":"orders"},{"Name":"GlobalSecondaryIndexName","Value":"byCustomer"}]},"Period":60,"Stat":"Sum"}},`+
				`{"Id":"t","Label":"throttles","MetricStat":{"Metric":{"Namespace":"AWS/DynamoDB","MetricName":"WriteThrottleEvents",`+
				`"Dimensions":[{"Name":"TableName","Value":"orders"}]},"Period":60,"Stat":"Sum"}}]`)
		var md struct {
			MetricDataResults []struct {
				Id, Label, StatusCode string
				Values                []float64
			}
		}
		if err := json.Unmarshal([]byte(out), &md); err != nil || len(md.MetricDataResults) != 2 ||
			md.MetricDataResults[0].Id != "w" || len(md.MetricDataResults[0].Values) != 1 || md.MetricDataResults[0].Values[0] != 20 ||
			md.MetricDataResults[1].Label != "throttles" || len(md.MetricDataResults[1].Values) != 1 || md.MetricDataResults[1].Values[0] != 3 {
			t.Errorf("%s get-metric-data: %v\n%s", cli.Version, err, out)
		}
		t.Logf("%s: get-metric-statistics returned the run's throttles, get-metric-data its index units, and CloudWatch's error without statistics", cli.Version)
	}

	// JSON 1.0.
	body := `{"Namespace":"AWS/DynamoDB","MetricName":"WriteThrottleEvents","Dimensions":[{"Name":"TableName","Value":"orders"}],` +
		`"StartTime":` + jsonEpoch(r.start) + `,"EndTime":` + jsonEpoch(r.start.Add(time.Hour)) + `,"Period":60,"Statistics":["Sum"]}`
	req, _ := http.NewRequest("POST", r.srv.URL()+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricStatistics")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"Label":"WriteThrottleEvents","Datapoints":[{"Timestamp":` + jsonEpoch(r.start.Add(time.Minute)) + `,"Sum":3,"Unit":"Count"}]}`; resp.StatusCode != 200 || string(b) != want {
		t.Errorf("JSON 1.0: %d %s\nwant %s", resp.StatusCode, b, want)
	}
}

func jsonEpoch(t time.Time) string { return itoa(t.Unix()) }

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestLimiterThrottlesReachCloudWatch: throttles the capacity limiter
// enforces (a table at 1 write unit, a one-second burst) are CloudWatch's
// WriteThrottleEvents and ThrottledRequests of the table, as on AWS.
func TestLimiterThrottlesReachCloudWatch(t *testing.T) {
	clock := eddytest.NewClock()
	now := clock.Now()
	clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now))
	start := clock.Now()
	srv := eddytest.Start(t, server.Options{Clock: clock.Now, MetricsInterval: -1,
		Capacity: capacity.Options{Mode: capacity.Enforce, Now: clock.Now, BurstSeconds: 1}})
	ctx := context.Background()
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("slow"),
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
	}); err != nil {
		t.Fatal(err)
	}
	throttled := 0
	for i := 0; i < 50 && throttled < 3; i++ {
		_, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("slow"),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: string(rune('a' + i%26))}}})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ProvisionedThroughputExceededException" {
			throttled++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if throttled != 3 {
		t.Fatalf("%d throttles in 50 writes to a 1-unit table", throttled)
	}
	clock.Advance(time.Minute)
	cw := cloudwatch.NewFromConfig(srv.Config())
	for _, metric := range []string{"WriteThrottleEvents", "ThrottledRequests"} {
		in := &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(metric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("slow")}},
			StartTime:  aws.Time(start), EndTime: aws.Time(start.Add(time.Minute)), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}}
		if metric == "ThrottledRequests" {
			in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String("Operation"), Value: aws.String("PutItem")})
		}
		out, err := cw.GetMetricStatistics(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Datapoints) != 1 || aws.ToFloat64(out.Datapoints[0].Sum) != 3 {
			t.Fatalf("%s: %+v, want one data point of Sum 3", metric, out.Datapoints)
		}
	}
}

// TestMetricsSurviveRestart: the data points of the retention are kept in
// the data directory: those flushed by the minute's Tick and those of the
// minute in progress, flushed when the server closes, are all there after
// a restart.
func TestMetricsSurviveRestart(t *testing.T) {
	clock := eddytest.NewClock()
	now := clock.Now()
	clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now)) // minute 0 starts now
	start := clock.Now()
	srv := eddytest.Start(t, server.Options{DataDir: t.TempDir(), Clock: clock.Now, MetricsInterval: -1})
	ctx := context.Background()
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("kept"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	put := func(n int) {
		for i := range n {
			if _, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("kept"),
				Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: string(rune('a' + i))}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(4)
	srv.Tick(ctx) // flushes minute 0
	clock.Advance(time.Minute)
	put(2) // minute 1: flushed on shutdown
	srv.Restart()
	out, err := cloudwatch.NewFromConfig(srv.Config()).GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ConsumedWriteCapacityUnits"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("kept")}},
		StartTime:  aws.Time(start.Add(-time.Hour)), EndTime: aws.Time(start.Add(time.Hour)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]float64{}
	for _, p := range out.Datapoints {
		got[int64(p.Timestamp.Sub(start)/time.Minute)] = aws.ToFloat64(p.Sum)
		if aws.ToFloat64(p.Sum) != aws.ToFloat64(p.SampleCount) {
			t.Errorf("%v: Sum %v, SampleCount %v, want equal (one unit a request)", p.Timestamp, aws.ToFloat64(p.Sum), aws.ToFloat64(p.SampleCount))
		}
	}
	if len(got) != 2 || got[0] != 4 || got[1] != 2 {
		t.Fatalf("after a restart: %v (by minute), want 4 in minute 0 and 2 in minute 1", got)
	}
}
