package sinks_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/outbox"
)

// BenchmarkReplicateIntoSearch measures a zero-code replication into the
// embedded index, end to end through a real server on disk: 20,000 items
// are written with BatchWriteItem by 8 clients (writes/s), then a
// replication starting at TRIM_HORIZON indexes them all (docs/s: stream
// read, eddy.replicate, the outbox commit with the checkpoint, delivery in
// batches into bleve, until a search counts them); then 200 single
// PutItems one after another, each timed from its acknowledgement until a
// search finds it (write→searchable p50/p99). Run it once:
//
//	go test -run x -bench ReplicateIntoSearch -benchtime 1x ./sinks/
func BenchmarkReplicateIntoSearch(b *testing.B) {
	const items, clients, probes = 20000, 8, 200
	for range b.N {
		s := eddytest.Start(b, server.Options{DataDir: b.TempDir(), SinkConfigs: []outbox.Config{{Name: "idx", Kind: "search"}}})
		if _, err := s.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String("products"),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
		}); err != nil {
			b.Fatal(err)
		}
		count := func(query map[string]any) int {
			code, body := callTB(b, s, "POST", "/eddy/sinks/idx/_search", map[string]any{"query": query, "size": 0})
			var r struct {
				Hits struct{ Total struct{ Value int } }
			}
			if code != http.StatusOK || json.Unmarshal(body, &r) != nil {
				b.Fatalf("search: %d %s", code, body)
			}
			return r.Hits.Total.Value
		}
		start := time.Now()
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c * 25; i < items; i += clients * 25 {
					var reqs []ddbtypes.WriteRequest
					for j := i; j < i+25 && j < items; j++ {
						reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: product(j)}})
					}
					if _, err := s.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"products": reqs}}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		written := time.Since(start)
		// The stream holds every change; the replication starts at
		// TRIM_HORIZON and indexes them as fast as it can.
		start = time.Now()
		code, body := callTB(b, s, "POST", "/eddy/replications", map[string]any{"Table": "products", "Sink": "idx"})
		if code != http.StatusCreated {
			b.Fatalf("replicate: %d %s", code, body)
		}
		for count(map[string]any{"match_all": map[string]any{}}) < items {
			if time.Since(start) > 5*time.Minute {
				b.Fatal("the index never caught up")
			}
			time.Sleep(5 * time.Millisecond)
		}
		indexed := time.Since(start)
		b.ReportMetric(float64(items)/indexed.Seconds(), "docs/s")
		b.ReportMetric(float64(items)/written.Seconds(), "writes/s")

		var lat []time.Duration
		for i := range probes {
			word := fmt.Sprintf("probe%d", i)
			it := product(items + i)
			it["name"] = &ddbtypes.AttributeValueMemberS{Value: word}
			if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("products"), Item: it}); err != nil {
				b.Fatal(err)
			}
			acked := time.Now()
			for count(map[string]any{"match": map[string]any{"name": word}}) == 0 {
				if time.Since(acked) > 10*time.Second {
					b.Fatalf("%s never became searchable", word)
				}
				time.Sleep(200 * time.Microsecond)
			}
			lat = append(lat, time.Since(acked))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		s.Stop()
	}
}

func product(i int) map[string]ddbtypes.AttributeValue {
	words := strings.Fields("kettle toaster blender mixer grinder press scale timer")
	return map[string]ddbtypes.AttributeValue{
		"pk":    &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("p%06d", i)},
		"name":  &ddbtypes.AttributeValueMemberS{Value: words[i%len(words)] + " " + words[(i/8)%len(words)]},
		"price": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprintf("%d.%02d", i%500, i%100)},
		"stock": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i % 37)},
		"tags":  &ddbtypes.AttributeValueMemberSS{Value: []string{"kitchen", words[i%3]}},
		"desc":  &ddbtypes.AttributeValueMemberS{Value: "A sturdy " + words[i%len(words)] + " for every kitchen, with a two year warranty."},
	}
}
