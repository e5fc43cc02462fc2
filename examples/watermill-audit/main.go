// Command watermill-audit is a Go service that consumes an eddy table's
// changes with a watermill router, on any machine that reaches NATS: it
// prints one audit line per change and retries a failing handler with
// watermill's Retry middleware, never skipping a record.
//
//	eddy serve --nats embedded --nats-listen 127.0.0.1:4222 &
//	eddy relay enable orders
//	go run ./examples/watermill-audit --nats nats://127.0.0.1:4222 --table orders
//
// Records arrive in the table's order, each item's changes in the order
// they were made; the durable consumer ("audit-orders") resumes after the
// last acknowledged record when the service restarts.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/relay/watermillsub"
)

func main() {
	url := flag.String("nats", nats.DefaultURL, "NATS server URL")
	table := flag.String("table", "orders", "table whose changes to consume")
	region := flag.String("region", "us-east-1", "the eddy server's --region")
	flag.Parse()
	if err := run(*url, *table, *region); err != nil {
		fmt.Fprintln(os.Stderr, "watermill-audit:", err)
		os.Exit(1)
	}
}

func run(url, table, region string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	logger := watermill.NewSlogLogger(slog.Default())
	sub, err := watermillsub.New(js, watermillsub.Config{Region: region, Durable: "audit", Logger: logger})
	if err != nil {
		return err
	}
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		return err
	}
	router.AddMiddleware(middleware.Retry{MaxRetries: 5, InitialInterval: 100 * time.Millisecond, Logger: logger}.Middleware)
	router.AddConsumerHandler("audit", table, sub, audit)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return router.Run(ctx)
}

// audit prints who changed what: the item's key, the event and the new
// image.
func audit(m *message.Message) error {
	var r struct {
		EventName    string
		UserIdentity *struct{ PrincipalId string } `json:"userIdentity"`
		Dynamodb     struct {
			Keys                        map[string]any
			NewImage                    map[string]any
			ApproximateCreationDateTime float64
		}
	}
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		return fmt.Errorf("record %s: %w", m.UUID, err)
	}
	keys, _ := json.Marshal(r.Dynamodb.Keys)
	img, _ := json.Marshal(r.Dynamodb.NewImage)
	at := time.Unix(int64(r.Dynamodb.ApproximateCreationDateTime), 0).UTC().Format(time.RFC3339)
	fmt.Printf("%s %s %s %s shard=%s new=%s\n", at, m.Metadata.Get("Eddy-Table"), r.EventName, keys, m.Metadata.Get("Eddy-Shard-Id"), img)
	return nil
}
