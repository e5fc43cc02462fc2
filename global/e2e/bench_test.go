package e2e

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
)

// BenchmarkReplication measures, on this machine, three regions on one
// nats-server (NoSync data directories, so the figures are replication's,
// not the disk's, unless EDDY_BENCH_SYNC=1):
//
//   - lag-p50-ms, lag-p99-ms: from a write's timestamp in its region to its
//     apply in another, over every pair, for writes from all three regions
//     (4 writers each, b.N writes each);
//   - catchup-changes/s: a region cut off from NATS while another writes
//     5,000 changes, from the restore until it applied them all.
//
// go test ./global/e2e -run '^$' -bench Replication -benchtime 500x
func BenchmarkReplication(b *testing.B) {
	var p *proxy
	c := startCluster(b, nil, nil, func(url string) string { p = startProxy(b, url); return p.URL() })
	c.setup()
	ctx := context.Background()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range c.srvs {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range b.N {
					_, err := c.srvs[i].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: regions[i] + "-" + strconv.Itoa(g) + "-" + strconv.Itoa(j)}}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	b.StopTimer()
	want := 5 + 12*b.N
	eddytest.WaitFor(b, "replication", time.Minute, func() bool {
		return len(c.items(0)) == want && len(c.items(1)) == want && len(c.items(2)) == want
	})
	var p50, p99 []float64
	for i := range c.srvs {
		st, _ := c.srvs[i].Global().Status("glob.t")
		for _, l := range st.Lag {
			p50, p99 = append(p50, l.P50ms), append(p99, l.P99ms)
		}
	}
	b.ReportMetric(slices.Max(p50), "lag-p50-ms")
	b.ReportMetric(slices.Max(p99), "lag-p99-ms")

	// Catch-up after a partition.
	p.SetCut(true)
	const n = 5000
	var cwg sync.WaitGroup
	for g := range 8 {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for j := g; j < n; j += 8 {
				_, err := c.srvs[0].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: "cut-" + strconv.Itoa(j)}}})
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	cwg.Wait()
	before := len(c.items(2))
	start := time.Now()
	p.SetCut(false)
	eddytest.WaitFor(b, "catch-up", 2*time.Minute, func() bool { return len(c.items(2)) == before+n })
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "catchup-changes/s")
}
