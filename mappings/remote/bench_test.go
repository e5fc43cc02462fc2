package remote_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/mappings/remote"
)

// benchPair starts eddy B (the table, NoSync) and eddy A reading B's
// streams with the default poll interval (250ms), the trigger host
// trusted, emits to sink.
func benchPair(b *testing.B, sink interface {
	Emit(context.Context, string, []byte) error
}) (a, src *eddytest.Server) {
	src = eddytest.Start(b, server.Options{NoSync: true, AccountID: "111111111111"})
	a = eddytest.Start(b, server.Options{NoSync: true, TrustedFunctions: true, Sinks: sink,
		Mappings: mappings.Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 50 * time.Millisecond},
		RemoteStreams: []remote.Endpoint{{Region: "us-east-1", Account: "111111111111", URL: src.URL(),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDREMOTE", "secret", "")}}})
	return a, src
}

// BenchmarkRemoteThroughput: records/s of a mapping in eddy A draining a
// backlog of b.N*1000 records in eddy B's stream (4 shards) through B's
// Streams API, BatchSize 100, the empty guest (trusted): what reading a
// remote stream costs per record, to compare with mappings'
// BenchmarkThroughput/trivial/trusted.
//
//	go test ./mappings/remote -run '^$' -bench RemoteThroughput -benchtime 20x
func BenchmarkRemoteThroughput(b *testing.B) {
	a, src := benchPair(b, nil)
	arn := src.StreamTable(b, "src")
	a.DeployGuest(b, "f", "empty", nil)
	n := b.N * 1000
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				_, _ = src.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}, "v": &ddbtypes.AttributeValueMemberS{Value: "x"},
					"customer": &ddbtypes.AttributeValueMemberS{Value: "c" + strconv.Itoa(i%100)},
					"amount":   &ddbtypes.AttributeValueMemberN{Value: "3"}}})
			}
		}()
	}
	wg.Wait()
	b.ResetTimer()
	start := time.Now()
	out, err := lambda.NewFromConfig(a.Config()).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: aws.String(arn), BatchSize: aws.Int32(100), StartingPosition: ltypes.EventSourcePositionTrimHorizon})
	if err != nil {
		b.Fatal(err)
	}
	for {
		tot, _ := a.Mappings().Totals(aws.ToString(out.UUID))
		if tot.RecordsDelivered >= int64(n) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
}

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

// BenchmarkRemoteAckToInvoke: PutItem acknowledged by eddy B → the handler
// invoked in eddy A, BatchSize 1, one write at a time; p50/p99. Compare
// with mappings' BenchmarkAckToInvoke (the same in one eddy): the
// difference is what the remote hop adds, mostly the poll interval (a
// caught-up remote shard is polled every 250ms; eddy's own log wakes its
// readers on commit).
//
//	go test ./mappings/remote -run '^$' -bench RemoteAckToInvoke -benchtime 100x
func BenchmarkRemoteAckToInvoke(b *testing.B) {
	sk := &stampSink{seen: map[string]time.Time{}}
	a, src := benchPair(b, sk)
	arn := src.StreamTable(b, "src")
	a.DeployGuest(b, "f", "esm", nil)
	if _, err := lambda.NewFromConfig(a.Config()).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: aws.String(arn), BatchSize: aws.Int32(1), StartingPosition: ltypes.EventSourcePositionTrimHorizon}); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; b.Loop(); i++ {
		// Writes at random points of the reader's poll cycle (one at a
		// time, each right after the last was seen, would land at the
		// start of its wait every time: the worst case, not the typical).
		time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
		v := "v" + strconv.Itoa(i)
		_, err := src.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
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
			time.Sleep(100 * time.Microsecond)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
