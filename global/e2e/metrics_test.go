package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
)

// TestReplicationLatencyMetric: a change replicated from us-east-1 to
// us-west-2 is counted in CloudWatch's ReplicationLatency (AWS/DynamoDB,
// milliseconds), in the source region's namespace with dimensions
// TableName and ReceivingRegion, as DynamoDB publishes it for global tables
// (Developer Guide, "Monitoring global tables"). eddy keeps it on the
// receiving region's server: the request goes there, scoped to the source
// region.
func TestReplicationLatencyMetric(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	c.createTable()
	c.addReplica(regions[1])
	for i := range 3 {
		_, err := c.srvs[0].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "m" + string(rune('0'+i))}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	eddytest.WaitFor(t, "the puts in "+regions[1], 20*time.Second, func() bool {
		items := c.items(1)
		return items["m0"] != nil && items["m1"] != nil && items["m2"] != nil
	})
	cfg := c.srvs[1].Config()
	cfg.Region = regions[0]
	cw := cloudwatch.NewFromConfig(cfg)
	dims := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("glob.t")},
		{Name: aws.String("ReceivingRegion"), Value: aws.String(regions[1])}}
	now := time.Now()
	out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/DynamoDB"),
		MetricName: aws.String("ReplicationLatency"), Dimensions: dims, StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)),
		Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSampleCount, cwtypes.StatisticMaximum}})
	if err != nil {
		t.Fatal(err)
	}
	// The 5 items written before the table was global are backfilled with
	// no timestamp and not counted; the 3 puts are.
	var n float64
	for _, p := range out.Datapoints {
		n += aws.ToFloat64(p.SampleCount)
		if p.Unit != cwtypes.StandardUnitMilliseconds || aws.ToFloat64(p.Maximum) < 0 {
			t.Errorf("datapoint %+v: want Milliseconds, not negative", p)
		}
	}
	if n != 3 {
		t.Errorf("ReplicationLatency SampleCount %v, want 3 (datapoints %+v)", n, out.Datapoints)
	}
	lm, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ReplicationLatency")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lm.Metrics) != 1 || len(lm.Metrics[0].Dimensions) != 2 || aws.ToString(lm.Metrics[0].Dimensions[1].Name) != "ReceivingRegion" ||
		aws.ToString(lm.Metrics[0].Dimensions[1].Value) != regions[1] {
		t.Errorf("ListMetrics: %+v", lm.Metrics)
	}
}
