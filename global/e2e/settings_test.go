package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
)

// TestReplicaSettingsOverride: UpdateTable's ReplicaUpdates Update
// (UpdateReplicationGroupMemberAction, API reference) sets a replica's
// ProvisionedThroughputOverride ReadCapacityUnits, TableClassOverride and an
// index's ProvisionedThroughputOverride:
// the replica's table in its region takes them, the source keeps its own,
// and DescribeTable's Replicas shows them (ProvisionedThroughputOverride,
// ReplicaTableClassSummary).
func TestReplicaSettingsOverride(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	name := aws.String("glob.p")
	_, err := c.srvs[0].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: name,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byG"),
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(3), WriteCapacityUnits: aws.Int64(3)}}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}})
	if err != nil {
		t.Fatal(err)
	}
	describe := func(i int) *types.TableDescription {
		t.Helper()
		out, err := c.srvs[i].DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: name})
		if err != nil {
			t.Fatal(err)
		}
		return out.Table
	}
	update := func(u types.ReplicationGroupUpdate) {
		t.Helper()
		if _, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: name, ReplicaUpdates: []types.ReplicationGroupUpdate{u}}); err != nil {
			t.Fatal(err)
		}
	}
	update(types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}})
	eddytest.WaitFor(t, "replica ACTIVE", 20*time.Second, func() bool {
		d := describe(0)
		return d.TableStatus == types.TableStatusActive && len(d.Replicas) == 1 && d.Replicas[0].ReplicaStatus == types.ReplicaStatusActive
	})
	update(types.ReplicationGroupUpdate{Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String(regions[1]),
		ProvisionedThroughputOverride: &types.ProvisionedThroughputOverride{ReadCapacityUnits: aws.Int64(7)},
		TableClassOverride:            types.TableClassStandardInfrequentAccess,
		GlobalSecondaryIndexes: []types.ReplicaGlobalSecondaryIndex{{IndexName: aws.String("byG"),
			ProvisionedThroughputOverride: &types.ProvisionedThroughputOverride{ReadCapacityUnits: aws.Int64(9)}}}}})
	eddytest.WaitFor(t, "the override applied in "+regions[1], 20*time.Second, func() bool {
		d := describe(1)
		return aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) == 7 && aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits) == 5 &&
			d.TableClassSummary != nil && d.TableClassSummary.TableClass == types.TableClassStandardInfrequentAccess &&
			len(d.GlobalSecondaryIndexes) == 1 && aws.ToInt64(d.GlobalSecondaryIndexes[0].ProvisionedThroughput.ReadCapacityUnits) == 9 &&
			aws.ToInt64(d.GlobalSecondaryIndexes[0].ProvisionedThroughput.WriteCapacityUnits) == 3
	})
	d := describe(0)
	if aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) != 5 {
		t.Errorf("the source's ReadCapacityUnits became %d", aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits))
	}
	if len(d.Replicas) != 1 {
		t.Fatalf("Replicas %+v", d.Replicas)
	}
	r := d.Replicas[0]
	if r.ProvisionedThroughputOverride == nil || aws.ToInt64(r.ProvisionedThroughputOverride.ReadCapacityUnits) != 7 ||
		r.ReplicaTableClassSummary == nil || r.ReplicaTableClassSummary.TableClass != types.TableClassStandardInfrequentAccess {
		t.Errorf("source's Replicas[0] %+v: want the override", r)
	}
	if len(r.GlobalSecondaryIndexes) != 1 || aws.ToString(r.GlobalSecondaryIndexes[0].IndexName) != "byG" ||
		r.GlobalSecondaryIndexes[0].ProvisionedThroughputOverride == nil ||
		aws.ToInt64(r.GlobalSecondaryIndexes[0].ProvisionedThroughputOverride.ReadCapacityUnits) != 9 {
		t.Errorf("source's Replicas[0].GlobalSecondaryIndexes %+v: want byG's override", r.GlobalSecondaryIndexes)
	}
	if n := aws.ToInt64(d.GlobalSecondaryIndexes[0].ProvisionedThroughput.ReadCapacityUnits); n != 3 {
		t.Errorf("the source's index ReadCapacityUnits became %d", n)
	}
	// The replica region's view of the source shows no override.
	if rs := describe(1).Replicas; len(rs) != 1 || rs[0].ProvisionedThroughputOverride != nil || rs[0].ReplicaTableClassSummary != nil {
		t.Errorf("%s's Replicas %+v: want %s without overrides", regions[1], rs, regions[0])
	}
}
