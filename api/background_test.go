package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/store"
)

// TestBackfillResumesAfterRestart leaves a global index CREATING on disk,
// as a crash in the middle of its backfill would, and checks that the next
// server start finishes the backfill: the index turns ACTIVE and holds
// every item.
func TestBackfillResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	s := eddytest.Start(t, server.Options{DataDir: dir})
	createTable(t, s.DDB, "orders", false)
	for i := 0; i < 300; i++ {
		if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"),
			Item: item{"pk": S(fmt.Sprint("o", i)), "cust": S(fmt.Sprint("c", i%3))}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Stop()

	// The state a crash mid-backfill leaves: the index is in the
	// descriptor, CREATING, with no entries yet.
	db, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTable("orders", func(t *store.Table) error {
		t.AttrDefs = append(t.AttrDefs, store.KeyElement{Name: "cust", Type: attr.TypeS})
		t.Indexes = append(t.Indexes, store.Index{ID: 1, Name: "byCust", Global: true, Hash: store.KeyElement{Name: "cust", Type: attr.TypeS},
			Projection: "ALL", Status: "CREATING", Backfilling: true})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = eddytest.Start(t, server.Options{DataDir: dir})
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := s.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Table.GlobalSecondaryIndexes) == 1 && d.Table.GlobalSecondaryIndexes[0].IndexStatus == types.IndexStatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("index still %v after restart", d.Table.GlobalSecondaryIndexes)
		}
		time.Sleep(10 * time.Millisecond)
	}
	total := int32(0)
	for c := 0; c < 3; c++ {
		q, err := s.DDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("byCust"),
			KeyConditionExpression: aws.String("cust = :c"), ExpressionAttributeValues: item{":c": S(fmt.Sprint("c", c))}})
		if err != nil {
			t.Fatal(err)
		}
		total += q.Count
	}
	if total != 300 {
		t.Fatalf("index holds %d items after the resumed backfill, want 300", total)
	}
}
