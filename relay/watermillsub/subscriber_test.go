package watermillsub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/relay"
	"github.com/eddydb/eddy/relay/watermillsub"
	"github.com/eddydb/eddy/streams"
)

// startRelayed starts eddy relaying table's change records into ns.
func startRelayed(t *testing.T, ns *natsserver.Server, table string) *eddytest.Server {
	t.Helper()
	s := eddytest.Start(t, server.Options{NATS: ns.ClientURL(),
		Relay:   relay.Options{RetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond, PollInterval: 20 * time.Millisecond},
		Streams: streams.Options{ShardCount: 2}})
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
	return s
}

// waitConsumed waits until cond holds, and otherwise fails with what
// JetStream knows: the records relayed and the consumers' positions.
func waitConsumed(t *testing.T, js jetstream.JetStream, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var state []string
			if st, err := js.Stream(ctx, "EDDY"); err != nil {
				state = append(state, "stream: "+err.Error())
			} else {
				info, _ := st.Info(ctx)
				if info != nil {
					state = append(state, fmt.Sprintf("stream: %d records", info.State.Msgs))
				}
				for ci := range st.ListConsumers(ctx).Info() {
					state = append(state, fmt.Sprintf("consumer %s: delivered %d, ack floor %d, ack pending %d, pending %d, waiting pulls %d",
						ci.Name, ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumAckPending, ci.NumPending, ci.NumWaiting))
				}
			}
			t.Fatalf("timed out waiting for %s; %s", what, strings.Join(state, "; "))
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	ns := natstest.Start(t)
	const table = "orders.v2"
	s := startRelayed(t, ns, table)
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

	nc, js := natstest.Connect(t, ns.ClientURL())
	defer nc.Close()
	got := &seen{byKey: map[string][]int{}, uuids: map[string]int{}}
	var failedOnce sync.Map
	run := func() (stop func()) {
		sub, err := watermillsub.New(js, watermillsub.Config{Durable: "svc", NackDelay: 100 * time.Millisecond, AckWait: 5 * time.Second,
			Logger: testLogger{t}})
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
	waitConsumed(t, js, "the first router to handle 40 records", func() bool { return got.count() >= 40 })
	stop()
	write(80, 160)
	stop = run()
	waitConsumed(t, js, "every record handled", func() bool { return got.count() >= 160 })
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

// TestSubscriptionOutlivesAStalledConnection: when nothing comes from NATS
// for longer than twice the pull heartbeat (a stalled server or network),
// the subscription logs it and goes on once NATS answers again; its
// channel stays open and later records arrive.
func TestSubscriptionOutlivesAStalledConnection(t *testing.T) {
	ns := natstest.Start(t)
	const table = "stalls"
	s := startRelayed(t, ns, table)
	put := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			_, err := s.DDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
				Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}}})
			if err != nil {
				t.Fatalf("put %d: %v", i, err)
			}
		}
	}
	proxy := startProxy(t, ns.Addr().String())
	nc, js := natstest.Connect(t, "nats://"+proxy.addr)
	defer nc.Close()
	logs := &testLogger{t: t}
	sub, err := watermillsub.New(js, watermillsub.Config{Heartbeat: 500 * time.Millisecond, Logger: logs})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	put(0, 5)
	eddytest.WaitFor(t, "the relay to make its stream", time.Minute, func() bool {
		_, err := js.Stream(ctx, "EDDY")
		return err == nil
	})
	msgs, err := sub.Subscribe(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	receive := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("the subscription ended after %d of %d records", i, n)
				}
				m.Ack()
			case <-time.After(time.Minute):
				waitConsumed(t, js, fmt.Sprintf("record %d of %d", i+1, n), func() bool { return false })
			}
		}
	}
	receive(5)
	eddytest.WaitFor(t, "the fifth record's ack", time.Minute, func() bool {
		st, err := js.Stream(ctx, "EDDY")
		if err != nil {
			return false
		}
		for ci := range st.ListConsumers(ctx).Info() {
			if ci.NumAckPending == 0 && ci.AckFloor.Stream == 5 {
				return true
			}
		}
		return false
	})
	proxy.pause()
	time.Sleep(3 * time.Second) // six heartbeats missed
	proxy.resume()
	put(5, 10)
	receive(5)
}

// testLogger is a watermill logger writing to the test's log.
type testLogger struct{ t *testing.T }

func (l testLogger) Error(msg string, err error, fields watermill.LogFields) {
	l.t.Logf("ERROR %s: %v %v", msg, err, fields)
}
func (l testLogger) Info(msg string, fields watermill.LogFields)  { l.t.Logf("INFO %s %v", msg, fields) }
func (l testLogger) Debug(msg string, fields watermill.LogFields) {}
func (l testLogger) Trace(msg string, fields watermill.LogFields) {}
func (l testLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return l
}

// proxy forwards TCP connections to a server; pause holds back what the
// server sends until resume, as a stalled network or server would.
type proxy struct {
	addr string
	gate sync.Mutex
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String()}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Add(2)
			go func() { defer conns.Done(); _, _ = io.Copy(up, c); up.Close() }()
			go func() {
				defer conns.Done()
				defer c.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := up.Read(buf)
					p.gate.Lock()
					p.gate.Unlock() //nolint:staticcheck // waits out a pause
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

func (p *proxy) pause()  { p.gate.Lock() }
func (p *proxy) resume() { p.gate.Unlock() }
