package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestUpdateTableGSIAttributeDefinitions: UpdateTable's AttributeDefinitions
// serve a GSI Create alone. A definition giving an existing attribute another
// type that the new index does not key on is ignored and the table's
// definitions stay as they were; an empty GlobalSecondaryIndexUpdates beside
// a change refuses the request and the change is not applied (a behaviour
// catalogue verified against DynamoDB 2026-10-08/09, DDB-TABLE-162 and
// DDB-TABLE-359; scylladb test_gsi_updatetable.py).
func TestUpdateTableGSIAttributeDefinitions(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "gsiup", false)

	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:                   aws.String("gsiup"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{},
		DeletionProtectionEnabled:   aws.Bool(true),
	})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: List of GlobalSecondaryIndexUpdates is empty")
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("gsiup")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(d.Table.DeletionProtectionEnabled) {
		t.Fatal("the refused UpdateTable turned deletion protection on")
	}

	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String("gsiup"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS},
		},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("byg"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}},
	})
	if err != nil {
		t.Fatalf("a Create with an unused conflicting definition: %v", err)
	}
	d, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("gsiup")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]types.ScalarAttributeType{}
	for _, a := range d.Table.AttributeDefinitions {
		got[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	if len(got) != 2 || got["pk"] != types.ScalarAttributeTypeS || got["g"] != types.ScalarAttributeTypeS {
		t.Fatalf("AttributeDefinitions = %v, want pk S and g S", got)
	}
}
