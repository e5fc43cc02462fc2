package appautoscaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestTargetTrackingScalesOutAndIn: a table at 5 write units with a
// target tracking policy (50% write utilization, 5 to 50 units),
// registered with the AWS CLI. On a compressed clock, 300 write units a
// minute (100% utilization) for one minute change nothing; for two
// consecutive minutes the high alarm raises the table to 10 units. Then,
// with no load, 14 minutes change nothing and the 15th lowers it back to
// the minimum. `aws application-autoscaling describe-scaling-activities`
// shows both steps, newest first.
func TestTargetTrackingScalesOutAndIn(t *testing.T) {
	clis := eddytest.CLIs()
	if len(clis) == 0 {
		t.Skip("no AWS CLI installed")
	}
	cli := clis[len(clis)-1] // Debian's CLI v2 when installed
	env := eddytest.AWSCLIEnv(t)
	clock := eddytest.NewClock()
	srv := eddytest.Start(t, server.Options{Clock: clock.Now, MetricsInterval: -1})
	ctx := context.Background()
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("events"),
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	}); err != nil {
		t.Fatal(err)
	}
	cli.MustRun(t, env, srv.URL(), "application-autoscaling", "register-scalable-target", "--service-namespace", "dynamodb",
		"--resource-id", "table/events", "--scalable-dimension", "dynamodb:table:WriteCapacityUnits", "--min-capacity", "5", "--max-capacity", "50")
	out := cli.MustRun(t, env, srv.URL(), "application-autoscaling", "put-scaling-policy", "--service-namespace", "dynamodb",
		"--resource-id", "table/events", "--scalable-dimension", "dynamodb:table:WriteCapacityUnits", "--policy-name", "events-write",
		"--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
		`{"TargetValue":50,"PredefinedMetricSpecification":{"PredefinedMetricType":"DynamoDBWriteCapacityUtilization"},"ScaleOutCooldown":60,"ScaleInCooldown":60}`)
	if !strings.Contains(out, `"PolicyARN": "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:`) || !strings.Contains(out, "TargetTracking-table/events-AlarmHigh-") {
		t.Fatalf("put-scaling-policy:\n%s", out)
	}

	writeUnits := func() int64 {
		d, err := srv.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("events")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt64(d.Table.ProvisionedThroughput.WriteCapacityUnits)
	}
	// load writes 300 units: 4 batches of 25 items of 3 KB.
	pad := strings.Repeat("x", 2900)
	n := 0
	load := func() {
		for range 4 {
			var reqs []ddbtypes.WriteRequest
			for range 25 {
				n++
				reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{
					"id": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(n)}, "pad": &ddbtypes.AttributeValueMemberS{Value: pad}}}})
			}
			if _, err := srv.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"events": reqs}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := clock.Now()
	clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now)) // the first whole minute after the policy
	load()
	clock.Advance(time.Minute)
	srv.Tick(ctx)
	if w := writeUnits(); w != 5 {
		t.Fatalf("after one minute over the target: %d write units, want 5 (the alarm needs 2 minutes)", w)
	}
	load()
	clock.Advance(time.Minute)
	srv.Tick(ctx)
	if w := writeUnits(); w != 10 {
		t.Fatalf("after two minutes at 100%%: %d write units, want 10 (utilization back to 50%%)", w)
	}
	for i := 1; i <= 15; i++ {
		clock.Advance(time.Minute)
		srv.Tick(ctx)
		want := int64(10)
		if i == 15 {
			want = 5
		}
		if w := writeUnits(); w != want {
			t.Fatalf("%d idle minutes after scaling out: %d write units, want %d", i, w, want)
		}
	}

	out = cli.MustRun(t, env, srv.URL(), "application-autoscaling", "describe-scaling-activities", "--service-namespace", "dynamodb",
		"--resource-id", "table/events")
	var acts struct {
		ScalingActivities []struct {
			ActivityId, ServiceNamespace, ResourceId, ScalableDimension string
			Description, Cause, StatusCode, StatusMessage               string
			StartTime, EndTime                                          json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(out), &acts); err != nil || len(acts.ScalingActivities) != 2 {
		t.Fatalf("describe-scaling-activities: %v\n%s", err, out)
	}
	for i, w := range []struct{ desc, alarm string }{{"Setting write capacity units to 5.", "AlarmLow"}, {"Setting write capacity units to 10.", "AlarmHigh"}} {
		a := acts.ScalingActivities[i]
		if a.Description != w.desc || a.StatusCode != "Successful" || a.ActivityId == "" || a.ServiceNamespace != "dynamodb" ||
			a.ScalableDimension != "dynamodb:table:WriteCapacityUnits" || len(a.StartTime) == 0 || len(a.EndTime) == 0 ||
			!strings.HasPrefix(a.Cause, "monitor alarm TargetTracking-table/events-"+w.alarm+"-") || !strings.HasSuffix(a.Cause, " in state ALARM triggered policy events-write") {
			t.Errorf("activity %d: %+v", i, a)
		}
	}
	t.Logf("%s describe-scaling-activities:\n%s", cli.Version, out)
}

// TestScalingAPIErrors: Application Auto Scaling's answers to bad input,
// through aws-sdk-go-v2.
func TestScalingAPIErrors(t *testing.T) {
	srv := eddytest.Start(t, server.Options{MetricsInterval: -1})
	ctx := context.Background()
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("tab"),
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	}); err != nil {
		t.Fatal(err)
	}
	c := aas.NewFromConfig(srv.Config())
	write := aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits
	policy := &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
		PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeDynamoDBWriteCapacityUtilization}}
	check := func(what string, err error, code, msg string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != msg {
			t.Errorf("%s: %v, want %s: %s", what, err, code, msg)
		}
	}
	_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/nope"), ScalableDimension: write, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)})
	check("missing table", err, "ValidationException", "DynamoDB table does not exist: table/nope")
	_, err = c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/tab"), ScalableDimension: aastypes.ScalableDimensionDynamoDBIndexWriteCapacityUnits, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)})
	check("index dimension on a table", err, "ValidationException", "Unsupported service namespace, resource type or scalable dimension")
	_, err = c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/tab"), ScalableDimension: write, MinCapacity: aws.Int32(20), MaxCapacity: aws.Int32(10)})
	check("min over max", err, "ValidationException", "Minimum capacity cannot be greater than maximum capacity")
	_, err = c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("p"), ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/tab"), ScalableDimension: write, PolicyType: aastypes.PolicyTypeTargetTrackingScaling, TargetTrackingScalingPolicyConfiguration: policy})
	check("policy without target", err, "ObjectNotFoundException", "No scalable target registered for service namespace: dynamodb, resource ID: table/tab, scalable dimension: dynamodb:table:WriteCapacityUnits")

	if _, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/tab"), ScalableDimension: write, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("p"), ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/tab"), ScalableDimension: write, PolicyType: aastypes.PolicyTypeTargetTrackingScaling, TargetTrackingScalingPolicyConfiguration: policy}); err != nil {
		t.Fatal(err)
	}
	ps, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	if err != nil || len(ps.ScalingPolicies) != 1 || aws.ToFloat64(ps.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.TargetValue) != 70 || len(ps.ScalingPolicies[0].Alarms) != 4 {
		t.Fatalf("DescribeScalingPolicies: %+v %v", ps, err)
	}
	ts, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceIds: []string{"table/tab"}})
	if err != nil || len(ts.ScalableTargets) != 1 || aws.ToInt32(ts.ScalableTargets[0].MaxCapacity) != 10 || ts.ScalableTargets[0].CreationTime == nil {
		t.Fatalf("DescribeScalableTargets: %+v %v", ts, err)
	}
	_, err = c.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("q"), ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/tab"), ScalableDimension: write})
	check("delete a missing policy", err, "ObjectNotFoundException", "No scaling policy found for service namespace: dynamodb, resource ID: table/tab, scalable dimension: dynamodb:table:WriteCapacityUnits, policy name: q")
	dereg := func() error {
		_, err := c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
			ResourceId: aws.String("table/tab"), ScalableDimension: write})
		return err
	}
	if err := dereg(); err != nil {
		t.Fatal(err)
	}
	check("deregister twice", dereg(), "ObjectNotFoundException", "No scalable target registered for service namespace: dynamodb, resource ID: table/tab, scalable dimension: dynamodb:table:WriteCapacityUnits")
	ps, err = c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	if err != nil || len(ps.ScalingPolicies) != 0 {
		t.Errorf("policies after deregistering their target: %+v %v", ps, err)
	}
}

// TestIndexScalesOut: a global index's write capacity is its own scalable
// target (table/T/index/I), driven by the index's consumed units and
// changed through UpdateTable's GlobalSecondaryIndexUpdates; the table's
// capacity is left alone.
func TestIndexScalesOut(t *testing.T) {
	clock := eddytest.NewClock()
	srv := eddytest.Start(t, server.Options{Clock: clock.Now, MetricsInterval: -1})
	ctx := context.Background()
	pt := &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("customer"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		ProvisionedThroughput: pt,
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("byCustomer"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("customer"), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly}, ProvisionedThroughput: pt}},
	}); err != nil {
		t.Fatal(err)
	}
	c := aas.NewFromConfig(srv.Config())
	dim := aastypes.ScalableDimensionDynamoDBIndexWriteCapacityUnits
	id := aws.String("table/orders/index/byCustomer")
	if _, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: id, ScalableDimension: dim, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(100)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("gsi"), ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: id, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeDynamoDBWriteCapacityUtilization}}}); err != nil {
		t.Fatal(err)
	}
	// 300 index writes a minute (small items: 1 unit each for the table
	// and the index): 100% of the index's 5 units.
	n := 0
	load := func() {
		for range 12 {
			var reqs []ddbtypes.WriteRequest
			for range 25 {
				n++
				reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{
					"id": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(n)}, "customer": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(n % 7)}}}})
			}
			if _, err := srv.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"orders": reqs}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := clock.Now()
	clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now))
	for range 2 {
		load()
		clock.Advance(time.Minute)
		srv.Tick(ctx)
	}
	d, err := srv.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if w := aws.ToInt64(d.Table.GlobalSecondaryIndexes[0].ProvisionedThroughput.WriteCapacityUnits); w != 10 {
		t.Errorf("index write units %d, want 10", w)
	}
	if w := aws.ToInt64(d.Table.ProvisionedThroughput.WriteCapacityUnits); w != 5 {
		t.Errorf("table write units %d, want 5 (not its target)", w)
	}
	acts, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: id})
	if err != nil || len(acts.ScalingActivities) != 1 || acts.ScalingActivities[0].StatusCode != aastypes.ScalingActivityStatusCodeSuccessful ||
		aws.ToString(acts.ScalingActivities[0].Description) != "Setting write capacity units to 10." {
		t.Errorf("activities %+v %v", acts, err)
	}
}

// TestScalingSurvivesRestart: targets, policies and activities are in the
// data directory: after a restart they are described as before, and the
// policy keeps acting.
func TestScalingSurvivesRestart(t *testing.T) {
	clock := eddytest.NewClock()
	srv := eddytest.Start(t, server.Options{DataDir: t.TempDir(), Clock: clock.Now, MetricsInterval: -1})
	ctx := context.Background()
	if _, err := srv.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("events"),
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	}); err != nil {
		t.Fatal(err)
	}
	c := aas.NewFromConfig(srv.Config())
	dim, id := aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, aws.String("table/events")
	if _, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: id, ScalableDimension: dim, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(100)}); err != nil {
		t.Fatal(err)
	}
	pol, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("w"), ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: id, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeDynamoDBWriteCapacityUtilization}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	load := func(s *eddytest.Server) { // 300 units
		for range 12 {
			var reqs []ddbtypes.WriteRequest
			for range 25 {
				n++
				reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{
					"id": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(n)}}}})
			}
			if _, err := s.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"events": reqs}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := clock.Now()
	clock.Advance(now.Truncate(time.Minute).Add(time.Minute).Sub(now))
	for range 2 {
		load(srv)
		clock.Advance(time.Minute)
		srv.Tick(ctx)
	}

	srv.Restart()
	c = aas.NewFromConfig(srv.Config())
	ts, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	if err != nil || len(ts.ScalableTargets) != 1 || aws.ToInt32(ts.ScalableTargets[0].MaxCapacity) != 100 {
		t.Fatalf("targets after restart: %+v %v", ts, err)
	}
	ps, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	if err != nil || len(ps.ScalingPolicies) != 1 || aws.ToString(ps.ScalingPolicies[0].PolicyARN) != aws.ToString(pol.PolicyARN) {
		t.Fatalf("policies after restart: %+v %v", ps, err)
	}
	acts, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	if err != nil || len(acts.ScalingActivities) != 1 || aws.ToString(acts.ScalingActivities[0].Description) != "Setting write capacity units to 10." {
		t.Fatalf("activities after restart: %+v %v", acts, err)
	}
	// 600 units a minute for 2 minutes: 100% of 10 units, on to 20.
	for range 2 {
		load(srv)
		load(srv)
		clock.Advance(time.Minute)
		srv.Tick(ctx)
	}
	d, err := srv.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("events")})
	if err != nil || aws.ToInt64(d.Table.ProvisionedThroughput.WriteCapacityUnits) != 20 {
		t.Fatalf("after restart and 2 more minutes at 100%%: %+v %v", d.Table.ProvisionedThroughput, err)
	}
}
