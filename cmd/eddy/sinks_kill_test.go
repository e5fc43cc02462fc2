package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/natstest"
)

func httpJSON(ctx context.Context, method, url string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: %v", b, err)
		}
	}
	return resp.StatusCode, nil
}

// plainOf renders an item as eddy.replicate does (plain JSON, keys sorted).
func plainOf(item map[string]ddbtypes.AttributeValue) string {
	names := make([]string, 0, len(item))
	for n := range item {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		b.Write(k)
		b.WriteByte(':')
		switch v := item[n].(type) {
		case *ddbtypes.AttributeValueMemberS:
			s, _ := json.Marshal(v.Value)
			b.Write(s)
		case *ddbtypes.AttributeValueMemberN:
			b.WriteString(v.Value)
		default:
			panic(fmt.Sprintf("plainOf: %T", v))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// TestSinksAcrossKillAndOutage is issue 15's acceptance test. A table is
// replicated (no code) into the embedded search index and into a JetStream
// stream while 10,000 puts, updates and deletes run; the NATS server goes
// down for a while (an outage of the target) and eddy is SIGKILLed mid
// stream and restarted. Afterwards the index holds exactly the live items
// with their latest values and a query finds them, and the JetStream
// stream holds no duplicate message ID and ends, per item, with its latest
// state.
func TestSinksAcrossKillAndOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it as a child process")
	}
	tmp := t.TempDir()
	bin := buildEddy(t, tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	natsDir := filepath.Join(tmp, "nats")
	ns := natstest.StartWith(t, func(o *natsserver.Options) { o.StoreDir = natsDir })
	natsPort := ns.Addr().(interface{ String() string }).String()
	natsPort = natsPort[strings.LastIndex(natsPort, ":")+1:]
	port, _ := strconv.Atoi(natsPort)

	dataDir := filepath.Join(tmp, "data")
	mkdir(t, dataDir)
	addr := freeAddr(t)
	flags := []string{"--sink", "idx=search", "--sink", "bus=nats://127.0.0.1:" + natsPort + "/eddy.items?stream=ITEMS"}
	p := startEddy(t, bin, addr, dataDir, flags...)
	c := newClients(p.url)
	ordersTable(t, c.ddb, "items")
	for _, sink := range []string{"idx", "bus"} {
		var out map[string]any
		code, err := httpJSON(ctx, "POST", p.url+"/eddy/replications", map[string]any{"Table": "items", "Sink": sink}, &out)
		if err != nil || code != http.StatusCreated {
			t.Fatalf("replicate into %s: %d %v %v", sink, code, out, err)
		}
	}

	// 10,000 changes over 3,000 keys from 4 writers; a change whose answer
	// was lost to the kill may or may not have happened: the truth is the
	// table afterwards.
	const total, keys = 10000, 3000
	var done atomic.Int64
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima")
	run := func(cl *clients, from, to int64) {
		var wg sync.WaitGroup
		var next atomic.Int64
		next.Store(from)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewSource(from + int64(w)))
				for {
					i := next.Add(1) - 1
					if i >= to {
						return
					}
					pk := fmt.Sprintf("k%04d", rng.Intn(keys))
					key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}}
					var err error
					switch op := rng.Intn(10); {
					case op < 6:
						_, err = cl.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]ddbtypes.AttributeValue{
							"pk":    key["pk"],
							"title": &ddbtypes.AttributeValueMemberS{Value: words[rng.Intn(len(words))] + " " + words[rng.Intn(len(words))] + " " + strconv.FormatInt(i, 10)},
							"price": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(rng.Intn(100000)) + "12345678901234567890.25"},
							"n":     &ddbtypes.AttributeValueMemberN{Value: "0"},
						}})
					case op < 8:
						_, err = cl.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"), Key: key,
							UpdateExpression:          aws.String("SET n = if_not_exists(n, :z) + :one, title = :t"),
							ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":z": &ddbtypes.AttributeValueMemberN{Value: "0"}, ":one": &ddbtypes.AttributeValueMemberN{Value: "1"}, ":t": &ddbtypes.AttributeValueMemberS{Value: "updated " + words[rng.Intn(len(words))]}}})
					default:
						_, err = cl.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: key})
					}
					if err != nil {
						return // the server died
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); run(c, 0, 6000) }()
	for done.Load() < 1500 {
		time.Sleep(5 * time.Millisecond)
	}
	ns.Shutdown() // the target's outage begins
	ns.WaitForShutdown()
	for done.Load() < 4000 {
		time.Sleep(5 * time.Millisecond)
	}
	p.kill(t)
	wg.Wait()
	c.tr.CloseIdleConnections()
	t.Logf("killed eddy after %d acknowledged changes, during the NATS outage", done.Load())

	p = startEddy(t, bin, addr, dataDir, flags...)
	c = newClients(p.url)
	defer c.tr.CloseIdleConnections()
	run(c, 100000, 100000+total-done.Load()) // up to 10,000 acknowledged changes in all
	// The outage ends.
	ns = natstest.StartWith(t, func(o *natsserver.Options) { o.Port, o.StoreDir = port, natsDir })

	// Converged: both sinks have nothing left to deliver and the
	// replications have read everything.
	type sinkStatus struct {
		Name    string
		Backlog int64
		State   string
	}
	items, err := scanAll(ctx, c.read, "items")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, it := range items {
		want["pk="+it["pk"].(*ddbtypes.AttributeValueMemberS).Value] = plainOf(it)
	}
	search := func(body any) (ids map[string]string, totalHits int) {
		var resp struct {
			Hits struct {
				Total struct{ Value int }
				Hits  []struct {
					ID     string          `json:"_id"`
					Source json.RawMessage `json:"_source"`
				}
			}
		}
		code, err := httpJSON(ctx, "POST", p.url+"/eddy/sinks/idx/_search", body, &resp)
		if err != nil || code != http.StatusOK {
			t.Fatalf("search: %d %v", code, err)
		}
		ids = map[string]string{}
		for _, h := range resp.Hits.Hits {
			ids[h.ID] = string(h.Source)
		}
		return ids, resp.Hits.Total.Value
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var l struct{ Sinks []sinkStatus }
		if _, err := httpJSON(ctx, "GET", p.url+"/eddy/sinks", nil, &l); err != nil {
			t.Fatal(err)
		}
		idle := len(l.Sinks) == 2
		for _, s := range l.Sinks {
			idle = idle && s.Backlog == 0
		}
		if idle {
			if got, n := search(map[string]any{"query": map[string]any{"match_all": map[string]any{}}, "size": 10000}); n == len(want) && len(got) == len(want) {
				same := true
				for id, src := range want {
					same = same && got[id] == src
				}
				if same {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			got, n := search(map[string]any{"query": map[string]any{"match_all": map[string]any{}}, "size": 10000})
			diff := 0
			for id, src := range want {
				if got[id] != src {
					if diff < 5 {
						t.Errorf("%s: index %s, table %s", id, got[id], src)
					}
					diff++
				}
			}
			t.Fatalf("the index never converged: %d hits for %d live items, %d differ; sinks %+v", n, len(want), diff, l.Sinks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A query finds them: every live item titled "updated ..." and no
	// other.
	updated := 0
	for _, src := range want {
		if strings.Contains(src, `"title":"updated `) {
			updated++
		}
	}
	if got, n := search(map[string]any{"query": map[string]any{"match": map[string]any{"title": "updated"}}, "size": 10000}); n != updated || len(got) != updated {
		t.Fatalf("match title:updated found %d (%d hits), want %d", n, len(got), updated)
	}

	// JetStream: no duplicate message IDs; per item the last message is
	// its latest state (index with its image, or a delete).
	nc, js := natstest.Connect(t, ns.ClientURL())
	defer nc.Close()
	stream, err := js.Stream(ctx, "ITEMS")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msgIDs := map[string]bool{}
	last := map[string]string{}
	lastVersion := map[string]uint64{}
	for n := uint64(0); n < info.State.Msgs; {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			n++
			id := m.Headers().Get("Nats-Msg-Id")
			if msgIDs[id] {
				t.Fatalf("message ID %s published twice", id)
			}
			msgIDs[id] = true
			var env struct {
				Op      string
				ID      string
				Version uint64
				Doc     json.RawMessage
			}
			if err := json.Unmarshal(m.Data(), &env); err != nil {
				t.Fatal(err)
			}
			if env.Version < lastVersion[env.ID] {
				continue // a retried publish may land after a newer version; consumers order by version
			}
			lastVersion[env.ID] = env.Version
			last[env.ID] = env.Op + " " + string(env.Doc)
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	live := 0
	for id, state := range last {
		if src, ok := want[id]; ok {
			live++
			if state != "index "+src {
				t.Fatalf("JetStream's latest for %s is %q, the table has %s", id, state, src)
			}
		} else if !strings.HasPrefix(state, "delete") {
			t.Fatalf("JetStream's latest for deleted %s is %q", id, state)
		}
	}
	if live != len(want) {
		t.Fatalf("JetStream has %d live items, the table %d", live, len(want))
	}
	t.Logf("%d changes acknowledged, %d live items: index exact, %d JetStream messages with unique IDs", done.Load(), len(want), len(msgIDs))
}
