// Package e2e tests global tables end to end: three eddy servers, each its
// own region and data directory, sharing one nats-server, driven through
// aws-sdk-go-v2.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/global"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/store"
)

var regions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// history records every local write the regions acknowledged, with the
// timestamp eddy gave it (global.Options.OnLocalWrite).
type history struct {
	mu     sync.Mutex
	writes []global.Write
}

func (h *history) add(w global.Write) {
	h.mu.Lock()
	h.writes = append(h.writes, w)
	h.mu.Unlock()
}

// last returns, per key, the write that wins by (timestamp, region).
func (h *history) last() map[string]global.Write {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]global.Write{}
	for _, w := range h.writes {
		k := w.Keys["pk"].Str()
		cur, ok := out[k]
		if !ok || w.TS > cur.TS || (w.TS == cur.TS && w.Region > cur.Region) {
			out[k] = w
		}
	}
	return out
}

func (h *history) has(region, wid string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.writes {
		if w.Region == region && w.New != nil && w.New["w"].Str() == wid {
			return true
		}
	}
	return false
}

// testLogger logs warnings and errors through t.Log.
func testLogger(t testing.TB, region string) *slog.Logger { return keptLogger(t, region, nil) }

// keptLogger is testLogger keeping the lines in l as well (when set).
func keptLogger(t testing.TB, region string, l *logs) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t, l}, &slog.HandlerOptions{Level: slog.LevelWarn})).With("server", region)
}

type tWriter struct {
	t    testing.TB
	logs *logs // also kept here, when set
}

func (w tWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	w.t.Log(line)
	if w.logs != nil {
		w.logs.add(line)
	}
	return len(p), nil
}

// logs keeps the warnings and errors the regions logged.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

// count returns how many lines hold every one of parts.
func (l *logs) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

type cluster struct {
	t    testing.TB
	srvs []*eddytest.Server
	h    *history
	nats string
	logs *logs // every region's warnings and errors
}

// startCluster starts three regions on one nats-server; urls, when
// given, are the NATS URLs of each region (a proxy in front of it).
func startCluster(t testing.TB, urls ...func(nats string) string) *cluster {
	return startClusterWith(t, nil, urls...)
}

// startClusterWith is startCluster with each region's global.Options
// tuned by tune (when set).
func startClusterWith(t testing.TB, tune func(*global.Options), urls ...func(nats string) string) *cluster {
	ns := natstest.Start(t)
	c := &cluster{t: t, h: &history{}, nats: ns.ClientURL(), logs: &logs{}}
	for i, r := range regions {
		url := ns.ClientURL()
		if i < len(urls) && urls[i] != nil {
			url = urls[i](url)
		}
		o := global.Options{RetryBackoff: 50 * time.Millisecond, AckTimeout: 2 * time.Second, OnLocalWrite: c.h.add}
		if tune != nil {
			tune(&o)
		}
		c.srvs = append(c.srvs, eddytest.Start(t, server.Options{Region: r, DataDir: t.TempDir(), NoSync: os.Getenv("EDDY_BENCH_SYNC") == "",
			NATS: url, GlobalRegions: regions, TTLSweepInterval: -1, Logger: keptLogger(t, r, c.logs), Global: o}))
	}
	return c
}

// proxy cuts a region's link to NATS (natstest.Proxy).
type proxy = natstest.Proxy

func startProxy(t testing.TB, target string) *proxy { return natstest.StartProxy(t, target) }

func (c *cluster) describe(i int) *types.TableDescription {
	c.t.Helper()
	return c.describeTable(i, "glob.t")
}

// describeTable is DescribeTable of table in region i.
func (c *cluster) describeTable(i int, table string) *types.TableDescription {
	c.t.Helper()
	out, err := c.srvs[i].DDB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		c.t.Fatal(err)
	}
	return out.Table
}

// addReplica adds a replica from region 0 and waits for it to be ACTIVE.
func (c *cluster) addReplica(region string) {
	c.t.Helper()
	out, err := c.srvs[0].DDB.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(region)}}}})
	if err != nil {
		c.t.Fatal(err)
	}
	if out.TableDescription.TableStatus != types.TableStatusUpdating {
		c.t.Errorf("UpdateTable answered %s, want UPDATING", out.TableDescription.TableStatus)
	}
	found := false
	for _, r := range out.TableDescription.Replicas {
		if aws.ToString(r.RegionName) == region && r.ReplicaStatus == types.ReplicaStatusCreating {
			found = true
		}
	}
	if !found {
		c.t.Errorf("UpdateTable's Replicas %+v lack %s CREATING", out.TableDescription.Replicas, region)
	}
	eddytest.WaitFor(c.t, "replica "+region+" ACTIVE", 20*time.Second, func() bool {
		d := c.describe(0)
		for _, r := range d.Replicas {
			if aws.ToString(r.RegionName) == region {
				return r.ReplicaStatus == types.ReplicaStatusActive && d.TableStatus == types.TableStatusActive
			}
		}
		return false
	})
}

// items reads a region's table from its store.
func (c *cluster) items(i int) map[string]attr.Item {
	s := c.srvs[i]
	t := s.DB().TableIn(regions[i], "glob.t")
	out := map[string]attr.Item{}
	if t == nil {
		return out
	}
	spec := &store.ReadSpec{Table: t, Limit: 1000}
	for {
		page, err := s.DB().Read(context.Background(), spec, func(r store.Row) error {
			out[r.Item["pk"].Str()] = r.Item
			return nil
		})
		if err != nil {
			c.t.Fatal(err)
		}
		if !page.More {
			return out
		}
		spec.Start = page.LastKey
	}
}

func same(a, b map[string]attr.Item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		if y, ok := b[k]; !ok || !attr.ItemsEqual(x, y) {
			return false
		}
	}
	return true
}

// converge waits until the three replicas hold the same items, then checks
// each item is the last write by (timestamp, region).
func (c *cluster) converge() {
	c.t.Helper()
	var a map[string]attr.Item
	eddytest.WaitFor(c.t, "replicas to converge", 30*time.Second, func() bool {
		a = c.items(0)
		return same(a, c.items(1)) && same(a, c.items(2))
	})
	want := c.h.last()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w := want[k]
		got, ok := a[k]
		switch {
		case w.New == nil && ok:
			c.t.Errorf("%s: replicas hold %v, the last write (%d, %s) deleted it", k, got, w.TS, w.Region)
		case w.New != nil && (!ok || !attr.ItemsEqual(got, w.New)):
			c.t.Errorf("%s: replicas hold %v, the last write (%d, %s) is %v", k, got, w.TS, w.Region, w.New)
		}
	}
	for k := range a {
		if _, ok := want[k]; !ok && k[0] == 'k' {
			c.t.Errorf("%s: replicas hold an item no write made", k)
		}
	}
}

// writes runs random puts, updates and deletes on keys k0..k7 from every
// region in live, n per writer, two writers per region; every put's w is
// checked against the history afterwards.
func (c *cluster) writes(live []int, n int, seed uint64) {
	c.t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var puts [][2]string
	var firstErr error
	for _, i := range live {
		for g := 0; g < 2; g++ {
			wg.Add(1)
			ddb := c.srvs[i].DDB
			rnd := rand.New(rand.NewPCG(seed, uint64(i*10+g)))
			go func() {
				defer wg.Done()
				ctx := context.Background()
				for j := 0; j < n; j++ {
					key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k" + strconv.Itoa(rnd.IntN(8))}}
					wid := fmt.Sprintf("%s-%d-%d-%d", regions[i], seed, g, j)
					var err error
					switch op := rnd.IntN(10); {
					case op < 5:
						_, err = ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{
							"pk": key["pk"], "w": &types.AttributeValueMemberS{Value: wid}, "from": &types.AttributeValueMemberS{Value: regions[i]}}})
						if err == nil {
							mu.Lock()
							puts = append(puts, [2]string{regions[i], wid})
							mu.Unlock()
						}
					case op < 8:
						_, err = ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("glob.t"), Key: key,
							UpdateExpression:          aws.String("SET w = :w ADD n :one"),
							ExpressionAttributeValues: map[string]types.AttributeValue{":w": &types.AttributeValueMemberS{Value: wid}, ":one": &types.AttributeValueMemberN{Value: "1"}}})
					default:
						_, err = ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("glob.t"), Key: key})
					}
					if err != nil {
						mu.Lock()
						firstErr = errors.Join(firstErr, err)
						mu.Unlock()
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if firstErr != nil {
		c.t.Error(firstErr) // Error, not Fatal: writes may run beside the test's goroutine
		return
	}
	for _, p := range puts {
		if !c.h.has(p[0], p[1]) {
			c.t.Errorf("acknowledged put %s in %s is not in the history", p[1], p[0])
		}
	}
}

func (c *cluster) setup() {
	c.t.Helper()
	c.createTable()
	c.addReplica(regions[1])
	c.addReplica(regions[2])
	c.checkReplicas()
	eddytest.WaitFor(c.t, "the backfill", 20*time.Second, func() bool { return len(c.items(1)) == 5 && len(c.items(2)) == 5 })
}

// checkReplicas: every region's DescribeTable shows the two others ACTIVE.
func (c *cluster) checkReplicas() {
	c.t.Helper()
	for i := range c.srvs {
		d := c.describe(i)
		if aws.ToString(d.GlobalTableVersion) != "2019.11.21" || len(d.Replicas) != 2 {
			c.t.Errorf("%s: GlobalTableVersion %q, Replicas %+v", regions[i], aws.ToString(d.GlobalTableVersion), d.Replicas)
		}
		for _, r := range d.Replicas {
			if aws.ToString(r.RegionName) == regions[i] || r.ReplicaStatus != types.ReplicaStatusActive {
				c.t.Errorf("%s: replica %s %s", regions[i], aws.ToString(r.RegionName), r.ReplicaStatus)
			}
		}
	}
}

func (c *cluster) createTable() {
	c.t.Helper()
	ctx := context.Background()
	_, err := c.srvs[0].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("glob.t"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}})
	if err != nil {
		c.t.Fatal(err)
	}
	// Items written before the table is global reach the replicas by the
	// backfill.
	for i := range 5 {
		_, err := c.srvs[0].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "pre" + strconv.Itoa(i)}}})
		if err != nil {
			c.t.Fatal(err)
		}
	}
}

// TestGlobalTableConverges: concurrent random writes to the same keys in
// three regions; afterwards every replica holds the same items, each the
// last write by (timestamp, region).
func TestGlobalTableConverges(t *testing.T) {
	c := startCluster(t)
	c.setup()
	c.writes([]int{0, 1, 2}, 60, 1)
	c.converge()
	c.noLoops()
	c.status()
	c.replicatedInStream(1)
	c.deleteReplica(2)
	c.deleteTable(1)
}

// deleteTable deletes region i's replica with DeleteTable: it leaves the
// global table, so the last one left is a table of its own region again,
// and a table created again under the name in region i is not replicated.
func (c *cluster) deleteTable(i int) {
	c.t.Helper()
	ctx := context.Background()
	// The change before (from another region) holds the table's control
	// lock until it is done everywhere, released just after: DynamoDB's
	// ResourceInUseException until then.
	var err error
	eddytest.WaitFor(c.t, "DeleteTable accepted", 20*time.Second, func() bool {
		_, err = c.srvs[i].DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("glob.t")})
		var riu *types.ResourceInUseException
		return !errors.As(err, &riu)
	})
	if err != nil {
		c.t.Fatal(err)
	}
	eddytest.WaitFor(c.t, regions[0]+" to be global no more", 20*time.Second, func() bool {
		d := c.describe(0)
		return d.GlobalTableVersion == nil && d.Replicas == nil
	})
	_, err = c.srvs[i].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("glob.t"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	if err != nil {
		c.t.Fatal(err)
	}
	if d := c.describe(i); d.GlobalTableVersion != nil {
		c.t.Errorf("the table created again in %s is global", regions[i])
	}
}

// streamRecords reads every record of region i's DynamoDB stream of
// glob.t, shard by shard from the trim horizon.
func (c *cluster) streamRecords(i int) []stypes.Record {
	c.t.Helper()
	ctx := context.Background()
	sc := dynamodbstreams.NewFromConfig(c.srvs[i].Config())
	arn := c.describe(i).LatestStreamArn
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		c.t.Fatal(err)
	}
	var recs []stypes.Record
	for _, sh := range ds.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sh.ShardId,
			ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			c.t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				c.t.Fatal(err)
			}
			if len(out.Records) == 0 {
				break
			}
			recs = append(recs, out.Records...)
			iter = out.NextShardIterator
		}
	}
	return recs
}

// replicatedInStream: region i's DynamoDB stream holds the writes it
// applied for the other regions, with no userIdentity (only TTL's Service
// principal gets one), beside its own.
func (c *cluster) replicatedInStream(i int) {
	c.t.Helper()
	from := map[string]int{}
	for _, r := range c.streamRecords(i) {
		if r.UserIdentity != nil {
			c.t.Errorf("a stream record has userIdentity %+v", r.UserIdentity)
		}
		if v, ok := r.Dynamodb.NewImage["from"].(*stypes.AttributeValueMemberS); ok {
			from[v.Value]++
		}
	}
	for _, r := range regions {
		if from[r] == 0 {
			c.t.Errorf("%s's stream has no put made in %s: %v", regions[i], r, from)
		}
	}
}

// deleteReplica removes region i's replica from region 0: the table is
// deleted there and the other replicas list it no more.
func (c *cluster) deleteReplica(i int) {
	c.t.Helper()
	ctx := context.Background()
	out, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String(regions[i])}}}})
	if err != nil {
		c.t.Fatal(err)
	}
	if out.TableDescription.TableStatus != types.TableStatusUpdating {
		c.t.Errorf("UpdateTable answered %s, want UPDATING", out.TableDescription.TableStatus)
	}
	eddytest.WaitFor(c.t, "the replica's table deleted", 20*time.Second, func() bool {
		_, err := c.srvs[i].DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("glob.t")})
		var nf *types.ResourceNotFoundException
		return errors.As(err, &nf)
	})
	for _, j := range []int{0, 1} {
		eddytest.WaitFor(c.t, regions[j]+" to list one replica", 20*time.Second, func() bool {
			d := c.describe(j)
			return len(d.Replicas) == 1 && aws.ToString(d.Replicas[0].RegionName) == regions[1-j] && d.TableStatus == types.TableStatusActive
		})
	}
}

// noLoops: JetStream holds every local write once and the two backfills'
// five items, nothing a replica applied published again.
func (c *cluster) noLoops() {
	c.t.Helper()
	nc, js := natstest.Connect(c.t, c.nats)
	defer nc.Close()
	c.h.mu.Lock()
	want := uint64(len(c.h.writes) + 10)
	c.h.mu.Unlock()
	var got uint64
	eddytest.WaitFor(c.t, "every change in JetStream", 10*time.Second, func() bool {
		s, err := js.Stream(context.Background(), "EDDY_GLOBAL")
		if err != nil {
			c.t.Fatal(err)
		}
		got = s.CachedInfo().State.Msgs
		return got >= want
	})
	if got != want {
		c.t.Errorf("JetStream holds %d changes, want %d (local writes + backfills)", got, want)
	}
}

// status: GET /eddy/global/tables/NAME (eddy tables replicas) shows the
// replicas and the lag of the changes applied from the two other regions.
func (c *cluster) status() {
	c.t.Helper()
	resp, err := http.Get(c.srvs[1].URL() + "/eddy/global/tables/glob.t")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st global.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		c.t.Fatal(err)
	}
	if st.Region != regions[1] || len(st.Replicas) != 3 || len(st.Lag) != 2 || st.Version != "2019.11.21" {
		c.t.Fatalf("status %+v", st)
	}
	for _, l := range st.Lag {
		if l.Samples == 0 || l.Applied == 0 || l.Origin == regions[1] {
			c.t.Errorf("lag %+v", l)
		}
	}
}

// TestGlobalTableAddReplicaUnderWrites: a replica added while two regions
// keep writing the same keys is backfilled from a snapshot plus the changes
// after it, and converges with the others.
func TestGlobalTableAddReplicaUnderWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("-short (the race run): TestGlobalTableConverges and TestGlobalTableRegionRestart cover the same code")
	}
	c := startCluster(t)
	c.createTable()
	c.addReplica(regions[1])
	done := make(chan struct{})
	go func() { defer close(done); c.writes([]int{0, 1}, 150, 8) }()
	c.addReplica(regions[2])
	<-done
	c.checkReplicas()
	c.converge()
}

// TestGlobalTableRegionRestart: one region stops mid-run and restarts on
// the same data directory while the others keep writing; it catches up
// without loss, and its own writes made before the stop are not lost.
func TestGlobalTableRegionRestart(t *testing.T) {
	c := startCluster(t)
	c.setup()
	c.writes([]int{0, 1, 2}, 30, 2)
	c.srvs[1].Stop()
	c.writes([]int{0, 2}, 40, 3)
	c.srvs[1].Restart()
	c.writes([]int{0, 1, 2}, 30, 4)
	c.converge()
}

// TestGlobalTableLinkCut: one region's link to NATS is cut mid-run and
// restored; it keeps serving reads and writes meanwhile, and afterwards
// every replica converges with nothing lost.
func TestGlobalTableLinkCut(t *testing.T) {
	if testing.Short() {
		t.Skip("-short (the race run): TestGlobalTableConverges and TestGlobalTableRegionRestart cover the same code")
	}
	var p *proxy
	c := startCluster(t, nil, nil, func(url string) string { p = startProxy(t, url); return p.URL() })
	c.setup()
	c.writes([]int{0, 1, 2}, 30, 5)
	p.SetCut(true)
	c.writes([]int{0, 1, 2}, 40, 6) // region 2 writes locally while cut off
	if len(c.items(2)) == 0 {
		t.Fatal("the cut-off region serves nothing")
	}
	p.SetCut(false)
	c.writes([]int{0, 1, 2}, 30, 7)
	c.converge()
}

// TestReplicaCreationResumes: a replica added while its region is down stays
// CREATING; the region running the change restarts, then the replica's
// region starts, and the creation finishes, backfill included.
func TestReplicaCreationResumes(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	c.createTable()
	c.srvs[1].Stop()
	_, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}}}})
	if err != nil {
		t.Fatal(err)
	}
	c.srvs[0].Restart()
	if d := c.describe(0); len(d.Replicas) != 1 || d.Replicas[0].ReplicaStatus != types.ReplicaStatusCreating {
		t.Fatalf("after the restart: %+v", d.Replicas)
	}
	c.srvs[1].Restart()
	eddytest.WaitFor(t, "the replica ACTIVE", 20*time.Second, func() bool {
		d := c.describe(0)
		return len(d.Replicas) == 1 && d.Replicas[0].ReplicaStatus == types.ReplicaStatusActive && d.TableStatus == types.TableStatusActive
	})
	eddytest.WaitFor(t, "the backfill", 20*time.Second, func() bool { return len(c.items(1)) == 5 })
}

// TestReplicaOverExistingTable: a region that has a table of the name that
// is not a replica refuses to become one (the replica stays CREATING), and
// deleting that replica undoes the attempt without deleting the region's
// own table.
func TestReplicaOverExistingTable(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	c.createTable()
	_, err := c.srvs[1].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("glob.t"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.srvs[1].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "mine"}}}); err != nil {
		t.Fatal(err)
	}
	update := func(u types.ReplicationGroupUpdate) error {
		_, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"), ReplicaUpdates: []types.ReplicationGroupUpdate{u}})
		return err
	}
	if err := update(types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}}); err != nil {
		t.Fatal(err)
	}
	// Another change waits for this one.
	err = update(types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[2])}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceInUseException" {
		t.Errorf("a second replica change: %v, want ResourceInUseException", err)
	}
	if err := update(types.ReplicationGroupUpdate{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String(regions[1])}}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitFor(t, "the attempt undone", 20*time.Second, func() bool {
		d := c.describe(0)
		return d.Replicas == nil && d.TableStatus == types.TableStatusActive
	})
	if got := c.items(1); len(got) != 1 || got["mine"] == nil {
		t.Errorf("%s's own table now holds %v", regions[1], got)
	}
	if d := c.describe(1); d.GlobalTableVersion != nil {
		t.Errorf("%s's own table became global", regions[1])
	}
}

// TestReplicaUpdatesErrors: what UpdateTable refuses.
func TestReplicaUpdatesErrors(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	_, err := c.srvs[0].DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("glob.t"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	update := func(u types.ReplicationGroupUpdate) error {
		_, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"), ReplicaUpdates: []types.ReplicationGroupUpdate{u}})
		return err
	}
	for _, tc := range []struct {
		u    types.ReplicationGroupUpdate
		want string
	}{
		// DynamoDB's answer for the local region (aws/aws-cli#4906).
		{types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[0])}},
			"Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required."},
		{types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("ap-south-1")}},
			"Region ap-south-1 is not one of this server's global regions (--global-regions [us-east-1 us-west-2 eu-west-1])"},
		{types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[1])}},
			"Table glob.t must have DynamoDB Streams enabled with StreamViewType NEW_AND_OLD_IMAGES to have replicas"},
	} {
		err := update(tc.u)
		var ae smithy.APIError
		switch {
		case !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException":
			t.Errorf("got %v, want a ValidationException", err)
		case ae.ErrorMessage() != tc.want:
			t.Errorf("message %q, want %q", ae.ErrorMessage(), tc.want)
		}
	}
	if d := c.describe(0); d.GlobalTableVersion != nil || d.Replicas != nil {
		t.Errorf("a refused update made the table global: %+v %+v", d.GlobalTableVersion, d.Replicas)
	}
}
