package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// noChange is UpdateTable's answer to a request that changes nothing;
// GlobalTableWitnessUpdates alone counts as nothing.
const noChange = "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, " +
	"ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, " +
	"WarmThroughput or TableClass is required"

// strongUpdate is UpdateTable of table in region i creating (create) or
// deleting replicas and witnesses, with MultiRegionConsistency mode ("":
// none) and DeletionProtectionEnabled when protect.
func (c *cluster) strongUpdate(i int, table string, mode types.MultiRegionConsistency, create bool, replicas, witnesses []string, protect bool) error {
	in := &dynamodb.UpdateTableInput{TableName: aws.String(table), MultiRegionConsistency: mode}
	for _, r := range replicas {
		u := types.ReplicationGroupUpdate{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String(r)}}
		if create {
			u = types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(r)}}
		}
		in.ReplicaUpdates = append(in.ReplicaUpdates, u)
	}
	for _, w := range witnesses {
		u := types.GlobalTableWitnessGroupUpdate{Delete: &types.DeleteGlobalTableWitnessGroupMemberAction{RegionName: aws.String(w)}}
		if create {
			u = types.GlobalTableWitnessGroupUpdate{Create: &types.CreateGlobalTableWitnessGroupMemberAction{RegionName: aws.String(w)}}
		}
		in.GlobalTableWitnessUpdates = append(in.GlobalTableWitnessUpdates, u)
	}
	if protect {
		in.DeletionProtectionEnabled = aws.Bool(true)
	}
	_, err := c.srvs[i].DDB.UpdateTable(context.Background(), in)
	return err
}

// TestStrongRefusals: the requests DynamoDB refuses when making, changing
// and deleting an MRSC global table get its ValidationException and
// message, as a behaviour catalogue recorded them from the service
// (ack-api-quirks services/dynamodb, DDB-TABLE-202, -257, -258, -260,
// verified 2026-10-09), and leave the table as it was. Regions of two
// AWS Region sets (us-east-1, us-west-2, eu-west-1) make one MRSC table:
// the service accepted such a table (DDB-TABLE-257).
func TestStrongRefusals(t *testing.T) {
	c := strongCluster(t, nil)
	ctx := context.Background()
	r0, r1, r2 := regions[0], regions[1], regions[2]
	create := func(name string, lsi bool) {
		in := &dynamodb.CreateTableInput{TableName: aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest}
		if lsi {
			in.AttributeDefinitions = append(in.AttributeDefinitions,
				types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
				types.AttributeDefinition{AttributeName: aws.String("l"), AttributeType: types.ScalarAttributeTypeS})
			in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
			in.LocalSecondaryIndexes = []types.LocalSecondaryIndex{{IndexName: aws.String("byL"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("l"), KeyType: types.KeyTypeRange}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}
		}
		if _, err := c.srvs[0].DDB.CreateTable(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	strong := types.MultiRegionConsistencyStrong
	eventual := types.MultiRegionConsistencyEventual

	// Making one: each refused, nothing changed.
	create("r.t", false)
	wantValidation(t, "STRONG with one replica", c.strongUpdate(0, "r.t", strong, true, []string{r1}, nil, false),
		"Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.")
	wantValidation(t, "STRONG with two replicas and a witness", c.strongUpdate(0, "r.t", strong, true, []string{r1, r2}, []string{"us-east-2"}, false),
		"Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.")
	wantValidation(t, "STRONG with a witness only", c.strongUpdate(0, "r.t", strong, true, nil, []string{r2}, false), noChange)
	wantValidation(t, "a replica and a witness without MultiRegionConsistency", c.strongUpdate(0, "r.t", "", true, []string{r1}, []string{r2}, false),
		"MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present.")
	wantValidation(t, "a replica and a witness with EVENTUAL", c.strongUpdate(0, "r.t", eventual, true, []string{r1}, []string{r2}, false),
		"MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present.")
	wantValidation(t, "the witness in the replica's region", c.strongUpdate(0, "r.t", strong, true, []string{r1}, []string{r1}, false),
		"Cannot target multiple regions with the same action")
	wantValidation(t, "the witness in the table's region", c.strongUpdate(0, "r.t", strong, true, []string{r1}, []string{r0}, false),
		"Cannot add a witness in the same region as an existing replica when creating a global table with MultiRegionConsistency set to STRONG.")
	wantValidation(t, "a witness in a region that holds no MRSC table", c.strongUpdate(0, "r.t", strong, true, []string{r1}, []string{"us-west-1"}, false),
		"Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [us-west-1].")
	wantValidation(t, "two witnesses", c.strongUpdate(0, "r.t", strong, true, []string{r1}, []string{r2, "us-east-2"}, false),
		"1 validation error detected: Value '[GlobalTableWitnessGroupUpdate(create=CreateGlobalTableWitnessGroupMemberAction(regionName=eu-west-1), delete=null), "+
			"GlobalTableWitnessGroupUpdate(create=CreateGlobalTableWitnessGroupMemberAction(regionName=us-east-2), delete=null)]' at 'globalTableWitnessUpdates' "+
			"failed to satisfy constraint: Member must have length less than or equal to 1")
	wantValidation(t, "STRONG with DeletionProtectionEnabled", c.strongUpdate(0, "r.t", strong, true, []string{r1, r2}, nil, true),
		"Requests that modify replicas or witnesses must not also modify other fields")
	wantValidation(t, "STRONG with a replica Delete", c.strongUpdate(0, "r.t", strong, false, []string{r1}, nil, false),
		"Only Replica Create actions are supported when MultiRegionConsistency parameter is provided.")
	wantValidation(t, "two replica Creates without MultiRegionConsistency", c.strongUpdate(0, "r.t", "", true, []string{r1, r2}, nil, false),
		"Update table operation with more than one create or delete replica actions not allowed")
	d := c.describeTable(0, "r.t")
	if d.TableStatus != types.TableStatusActive || d.Replicas != nil || d.MultiRegionConsistency != "" || aws.ToBool(d.DeletionProtectionEnabled) {
		t.Errorf("r.t after the refusals: %s, replicas %v, %q, deletion protection %v", d.TableStatus, d.Replicas, d.MultiRegionConsistency, aws.ToBool(d.DeletionProtectionEnabled))
	}
	// "Local secondary indexes (LSIs) are not supported for MRSC global
	// tables" (developer guide); the message is eddy's.
	create("lsi.t", true)
	wantValidation(t, "a table with a local secondary index", c.strongUpdate(0, "lsi.t", strong, true, []string{r1, r2}, nil, false),
		"Local secondary indexes are not supported on global tables with MultiRegionConsistency STRONG: table lsi.t")

	// Changing one: its mode and members are fixed.
	c.createStrong()
	wantValidation(t, "a replica added", c.strongUpdate(0, "glob.t", "", true, []string{"ap-northeast-1"}, nil, false),
		"Cannot add replicas to a global table with strong MultiRegionConsistency")
	wantValidation(t, "STRONG with one replica, again", c.strongUpdate(0, "glob.t", strong, true, []string{"ap-northeast-1"}, nil, false),
		"Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.")
	wantValidation(t, "EVENTUAL with a replica", c.strongUpdate(0, "glob.t", eventual, true, []string{"ap-northeast-1"}, nil, false),
		"MultiRegionConsistency parameter is unsupported on existing global table")
	wantValidation(t, "one replica of three deleted", c.strongUpdate(1, "glob.t", "", false, []string{r0}, nil, false),
		"Deletion of only one table replica is not supported for global tables with MultiRegionConsistency set to STRONG.")
	wantValidation(t, "a witness Delete alone", c.strongUpdate(0, "glob.t", "", false, nil, []string{r2}, false), noChange)
	wantValidation(t, "two replicas deleted with DeletionProtectionEnabled", c.strongUpdate(0, "glob.t", "", false, []string{r1, r2}, nil, true),
		"Requests that modify replicas or witnesses must not also modify other fields")
	for i := range 2 {
		_, err := c.srvs[i].DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("glob.t")})
		wantValidation(t, "DeleteTable of an MRSC replica in "+regions[i], err,
			"Deletion of only one table replica is not supported for global tables with MultiRegionConsistency set to STRONG.")
	}
	for i := range c.srvs {
		d := c.describe(i)
		if d.TableStatus != types.TableStatusActive || len(d.Replicas) != 2 || d.MultiRegionConsistency != strong || aws.ToBool(d.DeletionProtectionEnabled) {
			t.Errorf("%s after the refusals: %s, replicas %v, %q, deletion protection %v", regions[i], d.TableStatus, d.Replicas, d.MultiRegionConsistency, aws.ToBool(d.DeletionProtectionEnabled))
		}
	}
}
