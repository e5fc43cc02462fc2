package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/streams"
)

// TestDisableReachesReadersAtOnce disables a stream with maintenance
// effectively off: the in-process reader must see its shards end right
// away (the store's catalog hook runs Sync), not at the next maintenance
// tick, and a Wait on the shard must return.
func TestDisableReachesReadersAtOnce(t *testing.T) {
	e := start(t, manual(eddytest.NewClock()))
	arn := e.createTable(t, "cat", "NEW_IMAGE")
	e.put(t, "cat", map[string]ddbtypes.AttributeValue{"pk": s("a")})
	log := e.Streams()
	infos, err := log.Shards(arn)
	if err != nil || len(infos) == 0 {
		t.Fatalf("shards: %v %v", infos, err)
	}
	// Read every shard to its visible end.
	ends := map[string]streams.Seq{}
	for _, sh := range infos {
		b, err := log.Read(sh.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if b.Ended {
			t.Fatalf("shard %s ended before the stream was disabled", sh.ID)
		}
		ends[sh.ID] = b.Next
	}
	waited := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		waited <- log.Wait(ctx, infos[0].ID, ends[infos[0].ID])
	}()
	if _, err := e.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("cat"),
		StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	for _, sh := range infos {
		b, err := log.Read(sh.ID, ends[sh.ID], 1000)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Ended {
			t.Fatalf("shard %s of a disabled stream not ended when UpdateTable returned", sh.ID)
		}
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait on a shard of the disabled stream did not return")
	}
}
