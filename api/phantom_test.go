package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestUpdateOnlyRemovingWritesNoAbsentItem: an UpdateItem (or a
// transaction's Update) whose actions only REMOVE attributes or DELETE from
// sets, on an item that does not exist, writes nothing and emits no stream
// record, as DynamoDB does (scylladb/scylladb#5862). REMOVE of a nested path
// is then no error, and ALL_NEW returns no Attributes. An update that also
// sets something still creates the item.
func TestUpdateOnlyRemovingWritesNoAbsentItem(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "phantom", false)
	tbl, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("phantom"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}})
	if err != nil {
		t.Fatal(err)
	}
	key := func(pk string) item { return item{"pk": S(pk)} }
	for _, u := range []struct {
		name string
		in   dynamodb.UpdateItemInput
	}{
		{"REMOVE", dynamodb.UpdateItemInput{UpdateExpression: aws.String("REMOVE a, b")}},
		{"REMOVE nested", dynamodb.UpdateItemInput{UpdateExpression: aws.String("REMOVE a.b[2].c")}},
		{"DELETE from set", dynamodb.UpdateItemInput{UpdateExpression: aws.String("DELETE s :v"),
			ExpressionAttributeValues: item{":v": &types.AttributeValueMemberSS{Value: []string{"x"}}}}},
		{"REMOVE and DELETE, ALL_NEW", dynamodb.UpdateItemInput{UpdateExpression: aws.String("REMOVE a DELETE s :v"), ReturnValues: types.ReturnValueAllNew,
			ExpressionAttributeValues: item{":v": &types.AttributeValueMemberSS{Value: []string{"x"}}}}},
		{"legacy DELETE", dynamodb.UpdateItemInput{AttributeUpdates: map[string]types.AttributeValueUpdate{"a": {Action: types.AttributeActionDelete}}}},
		{"legacy DELETE from set", dynamodb.UpdateItemInput{AttributeUpdates: map[string]types.AttributeValueUpdate{
			"s": {Action: types.AttributeActionDelete, Value: &types.AttributeValueMemberSS{Value: []string{"x"}}}}}},
	} {
		in := u.in
		in.TableName, in.Key = aws.String("phantom"), key("gone-"+u.name)
		out, err := c.UpdateItem(ctx, &in)
		if err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
		if out.Attributes != nil {
			t.Errorf("%s: Attributes %v, want none", u.name, out.Attributes)
		}
		got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("phantom"), Key: key("gone-" + u.name), ConsistentRead: aws.Bool(true)})
		if err != nil || got.Item != nil {
			t.Errorf("%s: the update created %v (%v)", u.name, got.Item, err)
		}
	}
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("phantom"), Key: key("gone-tx"), UpdateExpression: aws.String("REMOVE a")}},
	}}); err != nil {
		t.Fatal(err)
	}
	// A condition is still checked: attribute_exists fails on the absent item.
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("phantom"), Key: key("gone-cond"),
		UpdateExpression: aws.String("REMOVE a"), ConditionExpression: aws.String("attribute_exists(pk)")})
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	// SET with REMOVE creates the item; REMOVE on an existing item updates it.
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("phantom"), Key: key("made"),
		UpdateExpression: aws.String("SET x = :x REMOVE a"), ExpressionAttributeValues: item{":x": N("1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("phantom"), Key: key("made"), UpdateExpression: aws.String("REMOVE x")}); err != nil {
		t.Fatal(err)
	}
	scan, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("phantom"), ConsistentRead: aws.Bool(true)})
	if err != nil || len(scan.Items) != 1 {
		t.Fatalf("scan: %d items (%v), want only 'made'", len(scan.Items), err)
	}

	// The stream holds the two changes of "made" and nothing else.
	sc := dynamodbstreams.NewFromConfig(s.Config())
	desc, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: tbl.TableDescription.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, sh := range desc.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: tbl.TableDescription.LatestStreamArn,
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			events = append(events, string(r.EventName)+" "+r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value)
		}
	}
	if len(events) != 2 || events[0] != "INSERT made" || events[1] != "MODIFY made" {
		t.Fatalf("stream records %v, want [INSERT made MODIFY made]", events)
	}
}
