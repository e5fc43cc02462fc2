package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestBatchStatementChargesIndexes: a write in BatchExecuteStatement charges
// the secondary indexes it changes, as the same write in ExecuteStatement
// (and PutItem/UpdateItem) does: moving an item's GSI key costs the table 1
// and the index 2 (delete the old entry, insert the new).
func TestBatchStatementChargesIndexes(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("pqcap"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("gix"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
		BillingMode: types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"a", "b"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("pqcap"), Item: item{"pk": S(pk), "g": S("x")}}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, cc types.ConsumedCapacity) {
		t.Helper()
		gix, ok := cc.GlobalSecondaryIndexes["gix"]
		if aws.ToFloat64(cc.CapacityUnits) != 3 || cc.Table == nil || aws.ToFloat64(cc.Table.CapacityUnits) != 1 ||
			!ok || aws.ToFloat64(gix.CapacityUnits) != 2 {
			t.Fatalf("%s: %+v (table %+v, indexes %+v), want 3 = table 1 + gix 2", what, cc, cc.Table, cc.GlobalSecondaryIndexes)
		}
	}
	one, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`UPDATE "pqcap" SET g = 'y' WHERE pk = 'a'`),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	check("ExecuteStatement", *one.ConsumedCapacity)
	batch, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{
		Statements:             []types.BatchStatementRequest{{Statement: aws.String(`UPDATE "pqcap" SET g = 'y' WHERE pk = 'b'`)}},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.ConsumedCapacity) != 1 {
		t.Fatalf("BatchExecuteStatement capacity %+v", batch.ConsumedCapacity)
	}
	check("BatchExecuteStatement", batch.ConsumedCapacity[0])

	// An update that empties an index key is the request's error in
	// ExecuteTransaction too, as in TransactWriteItems and UpdateItem, not a
	// cancellation reason.
	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
		{Statement: aws.String(`UPDATE "pqcap" SET g = '' WHERE pk = 'a'`)}}})
	apiErr(t, err, "ValidationException", "One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty string value.")
}
