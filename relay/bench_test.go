package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/relay"
	"github.com/eddydb/eddy/streams"
)

// BenchmarkRelayIntoJetStream measures the relay's throughput from a
// backlog: 20,000 records (200-byte items, NEW_AND_OLD_IMAGES) are written
// to a table of 4 shards, then a relay is enabled (TRIM_HORIZON) and timed
// until JetStream (a nats-server in this process, file storage) has
// acknowledged and the relay committed every one. README's figure:
//
//	nice -n 10 go test ./relay -run '^$' -bench RelayIntoJetStream -benchtime 1x -count 3
func BenchmarkRelayIntoJetStream(b *testing.B) {
	const records = 20000
	for range b.N {
		b.StopTimer()
		ns := natstest.Start(b)
		s := eddytest.Start(b, server.Options{NATS: ns.ClientURL(), Relay: relay.Options{PollInterval: 10 * time.Millisecond},
			Streams: streams.Options{ShardCount: 4}})
		s.StreamTable(b, "bench")
		pad := fmt.Sprintf("%0180d", 0)
		for i := 0; i < records; i += 25 {
			var reqs []any
			for j := i; j < i+25; j++ {
				reqs = append(reqs, map[string]any{"PutRequest": map[string]any{"Item": map[string]any{
					"pk": map[string]string{"S": fmt.Sprintf("k%06d", j)}, "pad": map[string]string{"S": pad}}}})
			}
			req, _ := json.Marshal(map[string]any{"RequestItems": map[string]any{"bench": reqs}})
			if _, err := s.Call(context.Background(), "BatchWriteItem", req, ""); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		if _, _, err := s.Relay().Enable(context.Background(), relay.Config{Table: "bench"}); err != nil {
			b.Fatal(err)
		}
		for {
			st, err := s.Relay().Describe("bench")
			if err != nil {
				b.Fatal(err)
			}
			if st.Published >= records {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		took := time.Since(start)
		b.StopTimer()
		b.ReportMetric(records/took.Seconds(), "records/s")
		s.Stop()
	}
}
