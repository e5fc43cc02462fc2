package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/eddydb/eddy/worker"
)

// runWorker is `eddy worker`: the trigger host and the delivery engine
// without storage, running the mappings eddy marks for workers (eddy serve
// --worker-functions) over the relay's JetStream subjects.
func runWorker(stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("eddy worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts worker.Options
	fs.StringVar(&opts.NATS, "nats", "", "the NATS server eddy's relay publishes to (nats://host:4222)")
	fs.StringVar(&opts.Control, "control", "http://127.0.0.1:8000", "eddy's URL: mappings, function code, commits")
	fs.StringVar(&opts.Region, "region", envRegion(), "region of the relay's subjects and of the signatures")
	fs.DurationVar(&opts.AckWait, "ack-wait", 10*time.Second, "JetStream AckWait of the lanes' consumers: a dead worker's batch is redelivered after it")
	fs.DurationVar(&opts.PinnedTTL, "pinned-ttl", 5*time.Second, "a lane moves to another worker after its worker stopped pulling this long")
	fs.DurationVar(&opts.PollInterval, "poll", time.Second, "how often to look for mappings and shards")
	fs.BoolVar(&opts.Host.TrustedCode, "trusted-functions", false, "compile functions without the runaway guard (see eddy serve -h)")
	fs.String("log-level", "info", "debug, info, warn or error")
	fs.String("log-format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(fs.Lookup("log-level").Value.String(), fs.Lookup("log-format").Value.String())
	if err != nil {
		fmt.Fprintln(stderr, "eddy worker:", err)
		return 2
	}
	opts.Logger = log
	if c, ok := envCredentials(); ok {
		opts.Credentials = &c
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := worker.Run(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "eddy worker:", err)
		return 1
	}
	return 0
}
