package api_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Benchmarks of the multi-item write paths through the SDK, durable
// (fsynced) on a temp-dir data directory:
//
//	go test ./api -run '^$' -bench 'BatchWrite|TransactWrite' -cpu 1,8

// BenchmarkBatchWriteItem25 writes 25 items per call (one Write, one
// fsync per call).
func BenchmarkBatchWriteItem25(b *testing.B) {
	s := benchServer(b)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reqs := make([]types.WriteRequest, 25)
			for i := range reqs {
				reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: benchItem(n.Add(1))}}
			}
			if _, err := s.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"bench": reqs}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*25)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkTransactWriteItems4 runs transactions of 4 actions (two
// conditional updates, a put, a condition check) on distinct items, with a
// ClientRequestToken (the SDK fills one in), so the token record is part of
// each commit.
func BenchmarkTransactWriteItems4(b *testing.B) {
	s := benchServer(b)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			k := func(j int) types.AttributeValue { return S(fmt.Sprintf("tx#%d#%d", i, j)) }
			_, err := s.DDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{TableName: aws.String("bench"), Key: item{"pk": k(0)}, UpdateExpression: aws.String("ADD n :one"),
					ConditionExpression: aws.String("attribute_not_exists(frozen)"), ExpressionAttributeValues: item{":one": N("1")}}},
				{Update: &types.Update{TableName: aws.String("bench"), Key: item{"pk": k(1)}, UpdateExpression: aws.String("ADD n :m"),
					ConditionExpression: aws.String("attribute_not_exists(frozen)"), ExpressionAttributeValues: item{":m": N("-1")}}},
				{Put: &types.Put{TableName: aws.String("bench"), Item: benchItem(i)}},
				{ConditionCheck: &types.ConditionCheck{TableName: aws.String("bench"), Key: item{"pk": k(3)}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
