package watermillsub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/relay"
	"github.com/eddydb/eddy/relay/watermillsub"
	"github.com/eddydb/eddy/streams"
)

func startNATS(t testing.TB) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// seen is what the handler recorded: every acknowledged record's n per
// item, in handling order.
type seen struct {
	mu    sync.Mutex
	byKey map[string][]int
	uuids map[string]int
	total int
}

func (s *seen) add(pk string, n int, uuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byKey[pk] = append(s.byKey[pk], n)
	s.uuids[uuid]++
	s.total++
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// record is the part of a change record the test reads.
type record struct {
	EventName string
	Dynamodb  struct {
		Keys           map[string]map[string]string
		NewImage       map[string]map[string]string
		SequenceNumber string
	}
}

// TestWatermillRouterConsumesEveryRecordInOrder: a watermill router whose
// handler fails some records once (the router nacks them) consumes every
// change record of a relayed table exactly once as acknowledged, every
// item's changes in order; a second router with the same durable name,
// started after the first was closed mid-stream, resumes where it
// stopped.
func TestWatermillRouterConsumesEveryRecordInOrder(t *testing.T) {
	ns := startNATS(t)
	s := eddytest.Start(t, server.Options{NATS: ns.ClientURL(),
		Relay:   relay.Options{RetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond, PollInterval: 20 * time.Millisecond},
		Streams: streams.Options{ShardCount: 2}})
	const table = "orders.v2"
	s.StreamTable(t, table)
	body, _ := json.Marshal(map[string]string{"Table": table})
	resp, err := http.Post(s.URL()+"/eddy/relays", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("enable relay: %d", resp.StatusCode)
	}
	const keys = 8
	write := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			_, err := s.DDB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(table),
				Key:                       map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i%keys)}},
				UpdateExpression:          aws.String("ADD n :one"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
	}

	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	got := &seen{byKey: map[string][]int{}, uuids: map[string]int{}}
	var failedOnce sync.Map
	run := func() (stop func()) {
		sub, err := watermillsub.New(js, watermillsub.Config{Durable: "svc", NackDelay: 100 * time.Millisecond, AckWait: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		router.AddConsumerHandler("audit", table, sub, func(m *message.Message) error {
			var r record
			if err := json.Unmarshal(m.Payload, &r); err != nil {
				t.Errorf("payload %s: %v", m.Payload, err)
				return nil
			}
			pk, n := r.Dynamodb.Keys["pk"]["S"], r.Dynamodb.NewImage["n"]["N"]
			if m.Metadata.Get("Eddy-Table") != table || m.Metadata.Get("Eddy-Sequence-Number") != r.Dynamodb.SequenceNumber || m.UUID == "" {
				t.Errorf("metadata %v, uuid %q for %s", m.Metadata, m.UUID, r.Dynamodb.SequenceNumber)
			}
			if n == "3" {
				if _, loaded := failedOnce.LoadOrStore(pk, true); !loaded {
					return errors.New("the third change of each item fails once") // nacked, redelivered
				}
			}
			v, _ := strconv.Atoi(n)
			got.add(pk, v, m.UUID)
			return nil
		})
		done := make(chan error, 1)
		go func() { done <- router.Run(context.Background()) }()
		<-router.Running()
		return func() {
			if err := router.Close(); err != nil {
				t.Errorf("router close: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("router run: %v", err)
			}
			_ = sub.Close()
		}
	}

	write(0, 80)
	stop := run()
	eddytest.WaitFor(t, "the first router to handle 40 records", time.Minute, func() bool { return got.count() >= 40 })
	stop()
	write(80, 160)
	stop = run()
	eddytest.WaitFor(t, "every record handled", time.Minute, func() bool { return got.count() >= 160 })
	time.Sleep(200 * time.Millisecond) // a duplicate would show up now
	stop()

	got.mu.Lock()
	defer got.mu.Unlock()
	if got.total != 160 {
		t.Fatalf("%d records handled, want 160", got.total)
	}
	for uuid, n := range got.uuids {
		if n != 1 {
			t.Fatalf("%s handled %d times", uuid, n)
		}
	}
	for pk, ns := range got.byKey {
		for i, n := range ns {
			if n != i+1 {
				t.Fatalf("%s: changes handled in the order %v", pk, ns)
			}
		}
	}
	if len(got.byKey) != keys {
		t.Fatalf("%d items, want %d", len(got.byKey), keys)
	}
}
