package e2e

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/attr"
)

// TestStrongBatchWriteAtomic: a BatchWriteItem on an MRSC table is
// published as one JetStream atomic batch. Three items written in one
// region are read strongly in another, and each can then be written
// conditionally in the first (its recorded sequence is the stream's). When
// another region wrote one of a batch's items in the meantime, the whole
// request gets ReplicatedWriteConflictException ("one or more items in the
// request are being modified by a request in another Region") and none of
// its items is written in any region.
func TestStrongBatchWriteAtomic(t *testing.T) {
	hold := make(chan struct{})
	entered := make(chan struct{}, 1)
	var holding atomic.Bool
	c := strongCluster(t, func(region int) func(string, attr.Item) {
		if region != 0 {
			return nil
		}
		return func(_ string, keys attr.Item) {
			if keys["pk"].Str() == "bw2" && holding.Load() {
				entered <- struct{}{}
				<-hold
			}
		}
	})
	ctx := context.Background()
	c.createStrong()
	put := func(pk, v string) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s(pk), "v": s(v)}}}
	}
	if _, err := c.srvs[1].DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"glob.t": {put("a1", "1"), put("a2", "1"), put("a3", "1")}}}); err != nil {
		t.Fatal(err)
	}
	get := func(i int, pk string) string {
		t.Helper()
		out, err := c.srvs[i].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := out.Item["v"].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	for _, pk := range []string{"a1", "a2", "a3"} {
		if got := get(2, pk); got != "1" {
			t.Errorf("%s: a strongly consistent read in %s got %q", pk, regions[2], got)
		}
		if _, err := c.srvs[1].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s(pk), "v": s("2")},
			ConditionExpression: aws.String("v = :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": s("1")}}); err != nil {
			t.Errorf("%s: a conditional write after the batch: %v", pk, err)
		}
	}

	holding.Store(true)
	errc := make(chan error, 1)
	go func() {
		_, err := c.srvs[0].DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
			"glob.t": {put("bw1", "east"), put("bw2", "east"), put("bw3", "east")}}})
		errc <- err
	}()
	<-entered
	if _, err := c.srvs[1].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("bw2"), "v": s("west")}}); err != nil {
		t.Fatal(err)
	}
	holding.Store(false)
	close(hold)
	err := <-errc
	wantError(t, "the batch that lost the race", err, "ReplicatedWriteConflictException",
		"The request was rejected because one or more items in the request are being modified by a request in another Region.")
	for i := range c.srvs {
		for pk, want := range map[string]string{"bw1": "", "bw2": "west", "bw3": ""} {
			if got := get(i, pk); got != want {
				t.Errorf("%s after the refused batch: %s holds %q, want %q", regions[i], pk, got, want)
			}
		}
	}
}
