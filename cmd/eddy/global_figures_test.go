package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/global"
	"github.com/eddydb/eddy/internal/natstest"
)

// TestGlobalFigures prints issue 21's figures with processes: three eddy
// serve processes, each on its own node of a three-node JetStream cluster
// of nats-server processes (go.mod's version), the streams R3. It measures
// PutItem latency in one region on a table of its own, an MREC global
// table and an MRSC one (sequential, interleaved); MREC replication lag
// between every pair of regions (eddy's own measure: origin's write to the
// apply, GET /eddy/global/tables/NAME); and the catch-up rate of a region
// whose NATS link was cut while another wrote. Not a check: run it with
//
//	EDDY_GLOBAL_FIGURES=1 nice go test ./cmd/eddy -run TestGlobalFigures -v
//
// EDDY_GLOBAL_FIGURES_N sets the writes per measure (default 300; the
// catch-up writes ten times as many).
func TestGlobalFigures(t *testing.T) {
	if os.Getenv("EDDY_GLOBAL_FIGURES") == "" {
		t.Skip("a measurement, not a test: EDDY_GLOBAL_FIGURES=1 runs it")
	}
	n := 300
	if v, err := strconv.Atoi(os.Getenv("EDDY_GLOBAL_FIGURES_N")); err == nil && v > 0 {
		n = v
	}
	tmp := t.TempDir()
	bin := buildEddy(t, tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	nodes := startNATSCluster(t, pinnedNATSServer(t), tmp)
	proxy := natstest.StartProxy(t, nodes[2].url)
	var rs []*regionProc
	for i, name := range procRegions {
		u := nodes[i].url
		if i == 2 {
			u = proxy.URL()
		}
		rs = append(rs, startRegion(t, bin, tmp, name, u, "--global-stream-replicas", "3"))
	}
	ddb, _, _ := rs[0].clients()
	create := func(name string) {
		_, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest})
		if err != nil {
			t.Fatal(err)
		}
	}
	create("plain")
	createGlobal(ctx, t, rs, "mrec")
	create("mrsc")
	_, err := ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("mrsc"),
		MultiRegionConsistency: ddbtypes.MultiRegionConsistencyStrong,
		ReplicaUpdates: []ddbtypes.ReplicationGroupUpdate{
			{Create: &ddbtypes.CreateReplicationGroupMemberAction{RegionName: aws.String(procRegions[1])}},
			{Create: &ddbtypes.CreateReplicationGroupMemberAction{RegionName: aws.String(procRegions[2])}}}})
	if err != nil {
		t.Fatal(err)
	}
	waitReplicas(ctx, t, rs, "mrsc", "")
	natstest.WaitStreamCurrent(t, nodes[0].url, "EDDY_GLOBAL_SC", time.Minute)
	natstest.WaitStreamCurrent(t, nodes[0].url, "EDDY_GLOBAL", time.Minute)

	// 1. PutItem latency in region 0, the three tables interleaved, each
	// iteration starting with the next (what one write leaves to do in the
	// background falls on the others alike).
	lat := map[string][]time.Duration{}
	tables := []string{"plain", "mrec", "mrsc"}
	for i := range n {
		for k := range tables {
			tb := tables[(i+k)%len(tables)]
			start := time.Now()
			_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb), Item: map[string]ddbtypes.AttributeValue{
				"pk": sv("k" + strconv.Itoa(i%50)), "v": sv(strconv.Itoa(i))}})
			if err != nil {
				t.Fatal(err)
			}
			lat[tb] = append(lat[tb], time.Since(start))
		}
	}
	for _, tb := range tables {
		t.Logf("PutItem latency in %s, %-5s table (%d sequential): %s", procRegions[0], tb, n, summary(lat[tb]))
	}

	// 2. MREC replication lag: each region writes n puts (one writer each, at once).
	var wg sync.WaitGroup
	start := time.Now()
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ddb, _, _ := r.clients()
			for j := range n {
				_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("mrec"), Item: map[string]ddbtypes.AttributeValue{
					"pk": sv(fmt.Sprintf("r%d-%d", i, j%50)), "v": sv(strconv.Itoa(j))}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("MREC: %d puts from three regions at once in %v (%.0f/s)", 3*n, time.Since(start).Round(time.Millisecond), float64(3*n)/time.Since(start).Seconds())
	for _, r := range rs {
		_, _, base := r.clients()
		var st global.Status
		waitUntil(t, "lag samples in "+r.name, time.Minute, func() bool {
			if err := getJSON(ctx, base+"/eddy/global/tables/mrec", &st); err != nil {
				t.Fatal(err)
			}
			return len(st.Lag) == 2 && st.Lag[0].Samples > 0 && st.Lag[1].Samples > 0
		})
		for _, l := range st.Lag {
			t.Logf("MREC replication lag %s → %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d changes)", l.Origin, r.name, l.P50ms, l.P99ms, l.MaxMs, l.Samples)
		}
	}

	// 3. Catch-up: region 2's link cut while region 0 writes 10n new items
	// (four writers), then restored.
	count := func(r *regionProc) int {
		_, read, _ := r.clients()
		out, err := read.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("mrec"), Select: ddbtypes.SelectCount})
		if err != nil {
			t.Fatal(err)
		}
		if out.LastEvaluatedKey != nil {
			t.Fatal("Scan COUNT paged")
		}
		return int(out.Count)
	}
	proxy.SetCut(true)
	before := count(rs[2])
	total := 10 * n
	start = time.Now()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < total; j += 4 {
				_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("mrec"), Item: map[string]ddbtypes.AttributeValue{
					"pk": sv("cut-" + strconv.Itoa(j)), "v": sv(strconv.Itoa(j))}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wrote := time.Since(start)
	want := count(rs[0])
	if got := count(rs[2]); got != before {
		t.Fatalf("the cut-off region applied changes: %d items, %d before", got, before)
	}
	proxy.SetCut(false)
	healed := time.Now()
	var first time.Duration
	waitUntil(t, "region 2 to catch up", 10*time.Minute, func() bool {
		c := count(rs[2])
		if c > before && first == 0 {
			first = time.Since(healed)
		}
		return c == want
	})
	caught := time.Since(healed)
	t.Logf("catch-up: %d changes written in %s while %s was cut off (%v, %.0f/s); after the link came back: first applied in %v, all in %v: %.0f changes/s (%.0f/s counted from the first)",
		total, procRegions[0], procRegions[2], wrote.Round(time.Millisecond), float64(total)/wrote.Seconds(),
		first.Round(time.Millisecond), caught.Round(time.Millisecond), float64(total)/caught.Seconds(), float64(total)/(caught-first).Seconds())
}

// summary is "p50 x, p99 y, mean z" of ds.
func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1))] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, mean %.2f ms", ms(q(0.5)), ms(q(0.99)), ms(sum/time.Duration(len(s))))
}
