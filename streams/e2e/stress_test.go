package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/streams"
)

// follow reads every shard of a stream through the in-process Reader,
// parents before children, waking on commits, until every shard is closed
// and read (the test disables the stream at the end). It returns the
// records in the order read.
func follow(ctx context.Context, r streams.Reader, arn string) ([]streams.Record, error) {
	pos := map[string]streams.Seq{}
	ended := map[string]bool{}
	var out []streams.Record
	for {
		shs, err := r.Shards(arn)
		if err != nil {
			return out, err
		}
		all := true
		progress := false
		var waitOn string
		var waitAt streams.Seq
		for _, sh := range shs {
			if ended[sh.ID] {
				continue
			}
			all = false
			if sh.ParentID != "" && !ended[sh.ParentID] && contains(shs, sh.ParentID) {
				continue
			}
			if _, ok := pos[sh.ID]; !ok {
				pos[sh.ID] = streams.Seq(sh.Start)
			}
			b, err := r.Read(sh.ID, pos[sh.ID], 1000)
			if err != nil {
				return out, err
			}
			out = append(out, b.Records...)
			if len(b.Records) > 0 || b.Ended {
				progress = true
			}
			pos[sh.ID] = b.Next
			ended[sh.ID] = b.Ended
			if !b.Ended && waitOn == "" {
				waitOn, waitAt = sh.ID, b.Next
			}
		}
		if all {
			return out, nil
		}
		if progress || waitOn == "" {
			continue
		}
		// Caught up: wait for the first open shard, but re-list shards
		// now and then (a rollover elsewhere creates new ones).
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err = r.Wait(wctx, waitOn, waitAt)
		cancel()
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
}

func contains(shs []shards.Info, id string) bool {
	for _, sh := range shs {
		if sh.ID == id {
			return true
		}
	}
	return false
}

// TestStress: concurrent writers insert, update several times and delete
// many items while shards roll over; a follower sees each acknowledged
// write exactly once, in per-item order, each OldImage equal to the
// previous NewImage.
func TestStress(t *testing.T) {
	var o server.Options
	o.Streams.ShardCount = 4
	o.Streams.RolloverInterval = 20 * time.Millisecond
	o.Streams.MaintenanceInterval = 10 * time.Millisecond
	e := start(t, o)
	arn := e.createTable(t, "stress", "NEW_AND_OLD_IMAGES")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []streams.Record
	var ferr error
	fdone := make(chan struct{})
	go func() {
		defer close(fdone)
		recs, ferr = follow(ctx, e.Streams(), arn)
	}()

	ddb := concurrentDDB(t, e)
	const writers, items, updates = 8, 25, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < items; i++ {
				pk := fmt.Sprintf("w%d-i%d", w, i)
				for v := 0; v <= updates; v++ {
					if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("stress"),
						Item: map[string]ddbtypes.AttributeValue{"pk": s(pk), "v": n(fmt.Sprint(v))}}); err != nil {
						errs <- err
						return
					}
				}
				if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("stress"),
					Key: map[string]ddbtypes.AttributeValue{"pk": s(pk)}}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Close the stream so the follower can finish every shard.
	if _, err := e.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("stress"),
		StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Streams().Sync(); err != nil {
		t.Fatal(err)
	}
	<-fdone
	if ferr != nil {
		t.Fatalf("follower: %v", ferr)
	}
	shs, _ := e.Streams().Shards(arn)
	t.Logf("%d records over %d shards", len(recs), len(shs))
	checkItemHistories(t, recs, writers*items, updates)
}

func checkItemHistories(t *testing.T, recs []streams.Record, nitems, updates int) {
	t.Helper()
	type hist struct {
		n    int
		last string // v of the previous NewImage; "" when absent
	}
	seen := map[string]*hist{}
	seqs := map[streams.Seq]bool{}
	for _, r := range recs {
		if seqs[r.Seq] {
			t.Fatalf("sequence number %v delivered twice", r.Seq)
		}
		seqs[r.Seq] = true
		pk := r.Keys["pk"].Str()
		h := seen[pk]
		if h == nil {
			h = &hist{}
			seen[pk] = h
		}
		if got := vOf(r.Old); got != h.last {
			t.Fatalf("item %s record %d (%s): OldImage v=%q, previous NewImage v=%q", pk, h.n, r.EventName, got, h.last)
		}
		want := fmt.Sprint(h.n)
		if h.n > updates {
			want = ""
		}
		if got := vOf(r.New); got != want {
			t.Fatalf("item %s record %d: NewImage v=%q, want %q (order)", pk, h.n, got, want)
		}
		h.last = vOf(r.New)
		h.n++
	}
	if len(seen) != nitems {
		t.Fatalf("%d items seen, want %d", len(seen), nitems)
	}
	for pk, h := range seen {
		if h.n != updates+2 {
			t.Errorf("item %s: %d records, want %d", pk, h.n, updates+2)
		}
	}
}

func vOf(it attr.Item) string {
	if it == nil {
		return ""
	}
	return it["v"].Str()
}
