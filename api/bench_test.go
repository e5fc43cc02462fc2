package api_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// Benchmarks of the item hot path through the real SDK and HTTP, with
// durable (fsynced) writes on a temp-dir data directory. For the
// client-vs-server ceiling comparison use the bench/ harness.
//
//	go test ./api -run '^$' -bench 'Item' -cpu 1,16

func benchServer(b *testing.B) *eddytest.Server {
	s := eddytest.Start(b, server.Options{DataDir: b.TempDir()})
	if _, err := s.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("bench"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: "S"}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: "HASH"}},
		BillingMode:          "PAY_PER_REQUEST",
	}); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchItem(i int64) item {
	return item{"pk": S(fmt.Sprintf("user#%08d", i%10000)), "name": S("a moderately sized string value"), "n": N(fmt.Sprint(i)),
		"tags": L(S("x"), S("y")), "m": M(item{"a": N("1"), "b": S("two")})}
}

func BenchmarkPutItem(b *testing.B) {
	s := benchServer(b)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: benchItem(n.Add(1))}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGetItem(b *testing.B) {
	s := benchServer(b)
	for i := int64(0); i < 1000; i++ {
		if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: benchItem(i)}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("user#%08d", n.Add(1)%1000)
			if _, err := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bench"), Key: item{"pk": S(k)}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
