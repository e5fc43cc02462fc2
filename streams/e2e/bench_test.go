package e2e

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/streams"
)

// BenchmarkPutItem measures PutItem through the SDK against an in-process
// server on a data directory (fsync on), 16 concurrent clients, with and
// without a NEW_AND_OLD_IMAGES stream on the table.
func BenchmarkPutItem(b *testing.B) {
	for _, view := range []string{"", "NEW_AND_OLD_IMAGES"} {
		name := "no-stream"
		if view != "" {
			name = view
		}
		b.Run(name, func(b *testing.B) {
			e := start(b, server.Options{DataDir: b.TempDir()})
			e.createTable(b, "bench", view)
			ddb := concurrentDDB(b, e)
			var ctr atomic.Int64
			b.SetParallelism(16 / max(1, parallelism()))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := ctr.Add(1)
					if _, err := ddb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("bench"),
						Item: map[string]ddbtypes.AttributeValue{"pk": s(fmt.Sprint(i % 1000)), "v": n(fmt.Sprint(i)),
							"payload": s("a moderately sized attribute value of some eighty bytes or so, to be realistic")}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// parallelism is GOMAXPROCS: RunParallel starts SetParallelism×GOMAXPROCS
// goroutines, so 16/GOMAXPROCS gives 16 clients.
func parallelism() int { return runtime.GOMAXPROCS(0) }

// BenchmarkVisibility measures write-acknowledged-to-visible latency: the
// time from PutItem returning to a consumer holding the record, for an
// in-process subscriber (Reader.Wait) and for a GetRecords poller that
// polls without pause. Reports p50 and p99 in microseconds (negative
// latencies, where the consumer saw the record before the client got the
// HTTP response, count as 0).
func BenchmarkVisibility(b *testing.B) {
	for _, mode := range []string{"subscriber", "poller"} {
		b.Run(mode, func(b *testing.B) {
			var o server.Options
			o.DataDir = b.TempDir()
			o.Streams.ShardCount = 1
			e := start(b, o)
			arn := e.createTable(b, "vis", "KEYS_ONLY")
			shs, _ := e.Streams().Shards(arn)
			shard := shs[0]
			var mu sync.Mutex
			seen := map[string]time.Time{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				if mode == "subscriber" {
					subscribe(ctx, e.Streams(), shard.ID, streams.Seq(shard.Start), &mu, seen)
				} else {
					poll(ctx, e.S, arn, shard.ID, &mu, seen)
				}
			}()
			acks := make([]time.Time, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("vis"),
					Item: map[string]ddbtypes.AttributeValue{"pk": s(fmt.Sprint(i))}}); err != nil {
					b.Fatal(err)
				}
				acks[i] = time.Now()
			}
			b.StopTimer()
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				got := len(seen)
				mu.Unlock()
				if got >= b.N || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			<-done
			lat := make([]time.Duration, 0, b.N)
			mu.Lock()
			for i := 0; i < b.N; i++ {
				t, ok := seen[fmt.Sprint(i)]
				if !ok {
					b.Fatalf("record %d never seen", i)
				}
				lat = append(lat, max(0, t.Sub(acks[i])))
			}
			mu.Unlock()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func subscribe(ctx context.Context, r streams.Reader, shard string, pos streams.Seq, mu *sync.Mutex, seen map[string]time.Time) {
	for ctx.Err() == nil {
		if err := r.Wait(ctx, shard, pos); err != nil {
			return
		}
		batch, err := r.Read(shard, pos, 1000)
		if err != nil {
			return
		}
		now := time.Now()
		mu.Lock()
		for _, rec := range batch.Records {
			seen[rec.Keys["pk"].Str()] = now
		}
		mu.Unlock()
		pos = batch.Next
	}
}

func poll(ctx context.Context, c *dynamodbstreams.Client, arn, shard string, mu *sync.Mutex, seen map[string]time.Time) {
	it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		return
	}
	iter := it.ShardIterator
	for ctx.Err() == nil && iter != nil {
		out, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return
		}
		now := time.Now()
		mu.Lock()
		for _, rec := range out.Records {
			seen[strAttr(rec.Dynamodb.Keys, "pk")] = now
		}
		mu.Unlock()
		iter = out.NextShardIterator
	}
}
