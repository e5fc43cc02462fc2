package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/internal/eddytest"
)

// deleteUpdate sends UpdateTable from region i deleting the replicas
// (ReplicaUpdates Delete) and witnesses (GlobalTableWitnessUpdates Delete).
func (c *cluster) deleteUpdate(i int, replicas, witnesses []string) error {
	in := &dynamodb.UpdateTableInput{TableName: aws.String("glob.t")}
	for _, r := range replicas {
		in.ReplicaUpdates = append(in.ReplicaUpdates, types.ReplicationGroupUpdate{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String(r)}})
	}
	for _, w := range witnesses {
		in.GlobalTableWitnessUpdates = append(in.GlobalTableWitnessUpdates, types.GlobalTableWitnessGroupUpdate{Delete: &types.DeleteGlobalTableWitnessGroupMemberAction{RegionName: aws.String(w)}})
	}
	_, err := c.srvs[i].DDB.UpdateTable(context.Background(), in)
	return err
}

// wantValidation checks err is a ValidationException with message want.
func wantValidation(t *testing.T, what string, err error, want string) {
	t.Helper()
	var ae smithy.APIError
	switch {
	case !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException":
		t.Errorf("%s: %v, want ValidationException", what, err)
	case ae.ErrorMessage() != want:
		t.Errorf("%s: message %q, want %q", what, ae.ErrorMessage(), want)
	}
}

// singleRegion waits until region i's table is a single-Region table and
// the regions gone have no table.
func (c *cluster) singleRegion(i int, gone ...int) {
	c.t.Helper()
	ctx := context.Background()
	for _, g := range gone {
		eddytest.WaitFor(c.t, regions[g]+"'s replica deleted", 30*time.Second, func() bool {
			_, err := c.srvs[g].DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("glob.t")})
			var nf *types.ResourceNotFoundException
			return errors.As(err, &nf)
		})
	}
	eddytest.WaitFor(c.t, regions[i]+" to be a single-Region table", 30*time.Second, func() bool {
		d := c.describe(i)
		return d.TableStatus == types.TableStatusActive && d.GlobalTableVersion == nil && d.Replicas == nil &&
			d.MultiRegionConsistency == "" && d.GlobalTableWitnesses == nil
	})
	// Its writes are local ones now: they need no quorum and no stream.
	if _, err := c.srvs[i].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("after"), "v": s("1")}}); err != nil {
		c.t.Fatal(err)
	}
	if st, ok := c.srvs[i].Global().Status("glob.t"); ok {
		c.t.Errorf("%s: still global: %+v", regions[i], st)
	}
}

// TestStrongDeleteReplicas: an MRSC global table of three replicas loses
// two of them together, leaving a single-Region table, as DynamoDB
// documents (developer guide, "Deleting an MRSC global table"); one
// replica alone is refused, and so is a witness deletion on a table
// without one. Time to Live is refused on MRSC tables.
func TestStrongDeleteReplicas(t *testing.T) {
	c := strongCluster(t, nil)
	ctx := context.Background()
	c.createStrong()
	if _, err := c.srvs[1].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("1")}}); err != nil {
		t.Fatal(err)
	}
	// MRSC tables do not support Time to Live (developer guide, "Global
	// tables core concepts": "Global tables configured for multi-Region
	// strong consistency (MRSC) do not support configuring Time To Live (TTL)
	// deletion"): UpdateTimeToLive is refused, and so is a table with TTL
	// enabled becoming one.
	_, err := c.srvs[1].DDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("glob.t"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}})
	wantValidation(t, "UpdateTimeToLive on an MRSC table", err, "Time to Live is not supported on global tables with MultiRegionConsistency STRONG: table glob.t")
	if _, err := c.srvs[0].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("ttl.t"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.srvs[0].DDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("ttl.t"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ttl.t"), MultiRegionConsistency: types.MultiRegionConsistencyStrong,
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}},
			{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	wantValidation(t, "a table with TTL made MRSC", err, "Time to Live is not supported on global tables with MultiRegionConsistency STRONG: table ttl.t")

	wantValidation(t, "one replica of three deleted", c.deleteUpdate(0, []string{regions[1]}, nil),
		"Deletion of only one table replica is not supported for global tables with MultiRegionConsistency set to STRONG.")
	wantValidation(t, "a witness deleted from a table without one", c.deleteUpdate(0, []string{regions[1]}, []string{regions[2]}),
		"Failed to delete the witness of table glob.t in region eu-west-1: the region is not its witness")
	if err := c.deleteUpdate(0, []string{regions[1], regions[2]}, nil); err != nil {
		t.Fatal(err)
	}
	c.singleRegion(0, 1, 2)
	out, err := c.srvs[0].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s("a")}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item["v"] == nil {
		t.Errorf("the remaining table lost the items: %v, %v", out, err)
	}
}
