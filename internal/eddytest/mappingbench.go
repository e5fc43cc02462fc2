package eddytest

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
)

// MappingBench is the harness of the event source mapping benchmarks,
// shared by package mappings (the table in the consumer's own eddy) and
// package mappings/remote (the table in another eddy, read through its
// Streams API): items written into Table through Source reach a mapping of
// Function in Consumer. Only the source differs, so the two sets of
// figures compare.
type MappingBench struct {
	Consumer  *Server          // runs Function and its mapping
	Source    *dynamodb.Client // where the writes go: Consumer.DDB or another eddy's
	Table     string           // the table written, in Source's eddy
	StreamArn string           // Table's stream, as the mapping names it
	Function  string           // deployed in Consumer
}

// Throughput writes a backlog of b.N*1000 items into Table (8 writers;
// each item has pk, v, customer and amount, for the view guest), then,
// timed, maps Function to the stream (BatchSize 100, TRIM_HORIZON) and
// waits until the mapping's Totals count every record delivered (Totals
// commit with the checkpoint), and reports records/s.
func (m MappingBench) Throughput(b *testing.B) {
	b.Helper()
	n := b.N * 1000
	var wg sync.WaitGroup
	var failed sync.Once
	var werr error
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				_, err := m.Source.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(m.Table), Item: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}, "v": &ddbtypes.AttributeValueMemberS{Value: "x"},
					"customer": &ddbtypes.AttributeValueMemberS{Value: "c" + strconv.Itoa(i%100)},
					"amount":   &ddbtypes.AttributeValueMemberN{Value: "3"}}})
				if err != nil {
					failed.Do(func() { werr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if werr != nil {
		b.Fatalf("writing the backlog: %v", werr)
	}
	b.ResetTimer()
	start := time.Now()
	uuid := m.mapping(b, 100)
	for {
		tot, err := m.Consumer.Mappings().Totals(uuid)
		if err != nil {
			b.Fatal(err)
		}
		if tot.RecordsDelivered >= int64(n) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
}

// AckToInvoke maps Function (which must emit each record's v to stamps,
// as the esm guest does: the consumer's server.Options.Sinks) with
// BatchSize 1, then writes one item at a time, each once the last was
// seen, and reports the p50 and p99 from PutItem's acknowledgement to the
// emit. before, when set, runs before each write.
func (m MappingBench) AckToInvoke(b *testing.B, stamps *Stamps, before func()) {
	b.Helper()
	m.mapping(b, 1)
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		if before != nil {
			before()
		}
		v := "v" + strconv.Itoa(i)
		_, err := m.Source.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(m.Table), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i%50)}, "v": &ddbtypes.AttributeValueMemberS{Value: v}}})
		acked := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		for {
			if at, ok := stamps.at(v); ok {
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

// mapping maps Function to StreamArn from TRIM_HORIZON with batchSize and
// returns the mapping's UUID.
func (m MappingBench) mapping(b *testing.B, batchSize int32) string {
	b.Helper()
	out, err := lambda.NewFromConfig(m.Consumer.Config()).CreateEventSourceMapping(context.Background(), &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(m.Function), EventSourceArn: aws.String(m.StreamArn), BatchSize: aws.Int32(batchSize),
		StartingPosition: ltypes.EventSourcePositionTrimHorizon})
	if err != nil {
		b.Fatal(err)
	}
	return aws.ToString(out.UUID)
}

// Stamps is an emit sink (server.Options.Sinks) that keeps when each
// value of "vs" in an emitted document arrived (the esm guest emits the
// v of every record it was handed). Its zero value is ready to use.
type Stamps struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// Emit stamps every v of doc with the time now; a document that is not
// the esm guest's report is an error.
func (s *Stamps) Emit(_ context.Context, _ string, doc []byte) error {
	now := time.Now()
	var c struct {
		Vs []string `json:"vs"`
	}
	if err := json.Unmarshal(doc, &c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	for _, v := range c.Vs {
		s.seen[v] = now
	}
	return nil
}

func (s *Stamps) at(v string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.seen[v]
	return at, ok
}
