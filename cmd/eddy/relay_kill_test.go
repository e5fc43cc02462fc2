package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/childproc"
	"github.com/eddydb/eddy/internal/natstest"
)

// TestRelayAcrossKill is issue 16's relay acceptance test with the
// nats-server embedded in the test process (it must outlive eddy): eddy
// relays a table to it while 5,000 changes are written, is SIGKILLed
// mid-publish, restarted, and the rest written. Then JetStream holds every
// record of the table's stream exactly once (by Nats-Msg-Id), each shard's
// in sequence order, each item's changes in order, and nothing else.
func TestRelayAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it as a child process")
	}
	tmp := t.TempDir()
	ns := natstest.StartWith(t, func(o *natsserver.Options) { o.StoreDir = filepath.Join(tmp, "nats") })
	relayAcrossKill(t, tmp, ns.ClientURL())
}

// TestRelayAcrossKillExternalNATS is the same against a separate
// nats-server process (Debian's nats-server package; .ci/run installs it).
func TestRelayAcrossKillExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it as a child process")
	}
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server on PATH (apt-get install nats-server; .ci/run does)")
	}
	tmp := t.TempDir()
	url := startNATSProcess(t, bin, filepath.Join(tmp, "nats"))
	relayAcrossKill(t, tmp, url)
}

// startNATSProcess runs `nats-server -js` on a free loopback port and
// returns its URL once it accepts connections; it is stopped (by its PID)
// when the test ends.
func startNATSProcess(t *testing.T, bin, dir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", port, "-sd", dir)
	childproc.DieWithParent(cmd)
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	url := "nats://127.0.0.1:" + port
	deadline := time.Now().Add(20 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			js, _ := jetstream.New(nc)
			_, err = js.AccountInfo(context.Background())
			nc.Close()
			if err == nil {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server on %s never became ready: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func relayAcrossKill(t *testing.T, tmp, natsURL string) {
	bin := buildEddy(t, tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dataDir := filepath.Join(tmp, "data")
	mkdir(t, dataDir)
	addr := freeAddr(t)
	// Shards roll over every 2 s, so the kill and the restart fall among
	// parents and children.
	flags := []string{"--nats", natsURL, "--stream-rollover", "2s", "--stream-shards", "3"}
	p := startEddy(t, bin, addr, dataDir, flags...)
	c := newClients(p.url)
	streamArn := ordersTable(t, c.ddb, "items")
	var st struct {
		Published uint64
		State     string
	}
	if err := callJSONBody(ctx, http.DefaultClient, "POST", p.url+"/eddy/relays", map[string]string{"Table": "items"}, &st); err != nil {
		t.Fatal(err)
	}

	// 5,000 changes over 500 items from 4 writers, each adding 1 to the
	// item's n: every acknowledged change is one stream record, and an
	// item's records carry n = 1, 2, 3, ... in the order they were made.
	const total, keys = 5000, 500
	var acked atomic.Int64
	run := func(cl *clients, from, to int64) {
		var wg sync.WaitGroup
		var next atomic.Int64
		next.Store(from)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= to {
						return
					}
					_, err := cl.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"),
						Key:                       map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("k%03d", i%keys)}},
						UpdateExpression:          aws.String("ADD n :one"),
						ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
					if err != nil {
						return // the server died
					}
					acked.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); run(c, 0, total) }()
	// Kill once the relay has published some of what was written, and
	// while writes (and so publishes) go on.
	for {
		if err := callJSON(ctx, http.DefaultClient, "GET", p.url+"/eddy/relays/items", &st); err != nil {
			t.Fatal(err)
		}
		if st.Published >= 500 && acked.Load() >= 2000 {
			break
		}
		if acked.Load() >= total-500 {
			t.Fatalf("the relay published only %d records of %d written (state %s)", st.Published, acked.Load(), st.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.kill(t)
	wg.Wait()
	c.tr.CloseIdleConnections()
	before := acked.Load()
	t.Logf("killed eddy after %d acknowledged changes; the relay had committed %d", before, st.Published)

	p = startEddy(t, bin, addr, dataDir, flags...)
	c = newClients(p.url)
	defer c.tr.CloseIdleConnections()
	run(c, before, total)
	t.Logf("written %d changes", acked.Load())

	// The truth: every record of the table's stream, read through the
	// Streams API (a write cut off by the kill may or may not be there).
	sc := dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url),
		Credentials: credentials.NewStaticCredentialsProvider("eddy", "eddy", "")})
	want := map[string][]string{} // shard → message IDs in sequence order
	records := 0
	desc, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamArn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range desc.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamArn),
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				want[aws.ToString(sh.ShardId)] = append(want[aws.ToString(sh.ShardId)], streamArn+"/"+aws.ToString(r.Dynamodb.SequenceNumber))
				records++
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	t.Logf("read %d records through the Streams API", records)
	if records < total {
		t.Fatalf("the stream holds %d records for %d acknowledged changes", records, total)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var full struct {
			Published  uint64
			LagSeconds float64
			State      string
		}
		if err := callJSON(ctx, http.DefaultClient, "GET", p.url+"/eddy/relays/items", &full); err != nil {
			t.Fatal(err)
		}
		if full.Published >= uint64(records) && full.LagSeconds == 0 {
			if full.Published != uint64(records) || full.State != "ACTIVE" {
				t.Fatalf("status says %d published (%s) for %d records", full.Published, full.State, records)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay never caught up: %+v for %d records", full, records)
		}
		time.Sleep(20 * time.Millisecond)
	}

	t.Logf("the relay caught up")
	// JetStream: every record once, each shard's in order, each item's n
	// counting up by one, nothing else.
	nc, js := natstest.Connect(t, natsURL)
	defer nc.Close()
	stream, err := js.Stream(ctx, "EDDY")
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(records) {
		t.Fatalf("JetStream holds %d messages for %d records", info.State.Msgs, records)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	seen := map[string]bool{}
	lastN := map[string]int{}
	for n := 0; n < records; {
		batch, err := cons.Fetch(min(1000, records-n), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			n++
			id := m.Headers().Get("Nats-Msg-Id")
			if seen[id] {
				t.Fatalf("%s stored twice", id)
			}
			seen[id] = true
			shard := m.Headers().Get("Eddy-Shard-Id")
			if m.Subject() != "eddy.us-east-1.items."+shard {
				t.Fatalf("subject %s for shard %s", m.Subject(), shard)
			}
			got[shard] = append(got[shard], id)
			var rec struct {
				Dynamodb struct {
					NewImage struct {
						Pk struct{ S string } `json:"pk"`
						N  struct{ N string } `json:"n"`
					}
				} `json:"dynamodb"`
			}
			if err := json.Unmarshal(m.Data(), &rec); err != nil {
				t.Fatal(err)
			}
			v, _ := strconv.Atoi(rec.Dynamodb.NewImage.N.N)
			if pk := rec.Dynamodb.NewImage.Pk.S; v != lastN[pk]+1 {
				t.Fatalf("item %s: n=%d after n=%d (per-item order broken)", pk, v, lastN[pk])
			} else {
				lastN[pk] = v
			}
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("JetStream has records of %d shards, the stream %d", len(got), len(want))
	}
	for shard, ids := range want {
		g := got[shard]
		if len(g) != len(ids) {
			t.Fatalf("shard %s: %d messages, %d records", shard, len(g), len(ids))
		}
		for i := range ids {
			if g[i] != ids[i] {
				t.Fatalf("shard %s, record %d: JetStream has %s, the stream %s (order or identity differs)", shard, i, g[i], ids[i])
			}
		}
	}
	t.Logf("%d records over %d shards: each in JetStream once, in order", records, len(want))
}
