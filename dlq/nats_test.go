package dlq_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/natstest"
)

// TestNATSDestination: an arn:eddy:nats destination receives each entry
// once, as the record with its payload, with a Nats-Msg-Id header.
func TestNATSDestination(t *testing.T) {
	ns := natstest.StartWith(t, func(o *server.Options) { o.JetStream = false })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	got := map[string]int{}
	var msgs []*nats.Msg
	if _, err := nc.Subscribe("eddy.failures", func(m *nats.Msg) {
		mu.Lock()
		got[m.Header.Get("Nats-Msg-Id")]++
		msgs = append(msgs, m)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	e := start(t, dlq.Options{NATSURL: ns.ClientURL()})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad", "QUIET": "1"})
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(0), BatchSize: aws.Int32(1),
		DestinationConfig: &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String("arn:eddy:nats:us-east-1:000000000000:eddy.failures")}}})
	const n = 4
	for i := range n {
		e.put("src", fmt.Sprintf("k%d", i), "bad")
	}
	waitFor(t, "every entry delivered", 15*time.Second, func() bool {
		es, _ := e.srv.DLQ().Entries(uuid)
		if len(es) != n {
			return false
		}
		for _, x := range es {
			if x.Delivery == nil || x.Delivery.Delivered.IsZero() {
				return false
			}
		}
		return true
	})
	_ = nc.Flush()
	mu.Lock()
	defer mu.Unlock()
	if len(msgs) != n || len(got) != n {
		t.Fatalf("%d messages, %d distinct IDs; want %d", len(msgs), len(got), n)
	}
	var m struct {
		dlq.Record
		Payload struct {
			Records []json.RawMessage `json:"Records"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(msgs[0].Data, &m); err != nil || len(m.Payload.Records) != 1 || m.DDBStreamBatchInfo.StreamArn != arn {
		t.Fatalf("message %v: %s", err, msgs[0].Data)
	}
}
