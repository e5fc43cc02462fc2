package mappings_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// stampSink records when each v was reported by the handler.
type stampSink struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (s *stampSink) Emit(_ context.Context, _ string, doc []byte) error {
	now := time.Now()
	var c call
	_ = json.Unmarshal(doc, &c)
	s.mu.Lock()
	for _, v := range c.Vs {
		s.seen[v] = now
	}
	s.mu.Unlock()
	return nil
}

// BenchmarkAckToInvoke: PutItem acknowledged → handler invoked, BatchSize
// 1, no window; reports p50/p99.
func BenchmarkAckToInvoke(b *testing.B) {
	sk := &stampSink{seen: map[string]time.Time{}}
	srv := eddytest.Start(b, server.Options{Sinks: sk, Mappings: fastOptions()})
	e := &env{t: b, srv: srv, ctx: context.Background()}
	e.clients()
	arn := e.table("src")
	e.function("f", nil)
	if _, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: aws.String(arn), BatchSize: aws.Int32(1), StartingPosition: ltypes.EventSourcePositionLatest}); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		v := "v" + strconv.Itoa(i)
		_, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i%50)}, "v": &ddbtypes.AttributeValueMemberS{Value: v}}})
		acked := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		for {
			sk.mu.Lock()
			at, ok := sk.seen[v]
			sk.mu.Unlock()
			if ok {
				lat = append(lat, max(0, at.Sub(acked)))
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkThroughput: records/s, BatchSize 100, from a backlog written
// before the mapping starts, through
//
//   - trivial: the empty guest (reads nothing, returns null): what the
//     host costs per record (read, render, invoke, checkpoint);
//   - decode: the esm guest, which decodes every record into typed values
//     with the guest SDK (encoding/json inside wasm) — guarded and with
//     server.Options.TrustedFunctions;
//   - view: the materialized-view handler (trusted).
func BenchmarkThroughput(b *testing.B) {
	for _, c := range []struct {
		name    string
		trusted bool
		view    bool
		guest   string
	}{{"trivial/guarded", false, false, "empty"}, {"trivial/trusted", true, false, "empty"},
		{"decode/guarded", false, false, "esm"}, {"decode/trusted", true, false, "esm"}, {"view/trusted", true, true, "esm"}} {
		b.Run(c.name, func(b *testing.B) {
			srv := eddytest.Start(b, server.Options{NoSync: true, TrustedFunctions: c.trusted, Mappings: fastOptions()})
			e := &env{t: b, srv: srv, ctx: context.Background()}
			e.clients()
			arn := e.table("src")
			vars := map[string]string{"QUIET": "1"}
			if c.view {
				e.table("totals")
				vars["VIEW"] = "totals"
			}
			e.functionFrom("f", c.guest, vars)
			n := b.N * 1000
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < n; i += 8 {
						_, _ = e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
							"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}, "v": &ddbtypes.AttributeValueMemberS{Value: "x"},
							"customer": &ddbtypes.AttributeValueMemberS{Value: "c" + strconv.Itoa(i%100)},
							"amount":   &ddbtypes.AttributeValueMemberN{Value: "3"}}})
					}
				}()
			}
			wg.Wait()
			b.ResetTimer()
			start := time.Now()
			out, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
				EventSourceArn: aws.String(arn), BatchSize: aws.Int32(100), StartingPosition: ltypes.EventSourcePositionTrimHorizon})
			if err != nil {
				b.Fatal(err)
			}
			for {
				st, _ := srv.Mappings().Status(aws.ToString(out.UUID))
				done := true
				for _, s := range st {
					done = done && s.PendingRecords == 0
				}
				if done {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
		})
	}
}
