package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestServeDLQFlags: --dlq-retention, --dlq-aws-endpoint and --dlq-nats-url
// reach the dead-letter store; without the flags the environment variables
// still apply, and a flag wins over its variable.
func TestServeDLQFlags(t *testing.T) {
	t.Setenv("EDDY_DLQ_AWS_ENDPOINT", "http://127.0.0.1:4566")
	t.Setenv("EDDY_DLQ_NATS_URL", "nats://127.0.0.1:4333")
	parse := func(args ...string) server.Options {
		t.Helper()
		var opts server.Options
		if err := serveFlags(&opts, new(sinkFlags)).Parse(append([]string{"--in-memory"}, args...)); err != nil {
			t.Fatal(err)
		}
		opts.DataDir = "" // in memory (the flag's default is ./eddy-data)
		return opts
	}

	srv := eddytest.Start(t, parse())
	o := srv.DLQ().Options()
	if o.Retention != 14*24*time.Hour || o.AWSEndpoint != "http://127.0.0.1:4566" || o.NATSURL != "nats://127.0.0.1:4333" {
		t.Fatalf("defaults: retention %v, AWS %q, NATS %q", o.Retention, o.AWSEndpoint, o.NATSURL)
	}
	srv.Stop()

	srv = eddytest.Start(t, parse("--dlq-retention", "36h", "--dlq-aws-endpoint", "http://127.0.0.1:5000", "--dlq-nats-url", "nats://127.0.0.1:4444"))
	o = srv.DLQ().Options()
	if o.Retention != 36*time.Hour || o.AWSEndpoint != "http://127.0.0.1:5000" || o.NATSURL != "nats://127.0.0.1:4444" {
		t.Fatalf("flags: retention %v, AWS %q, NATS %q", o.Retention, o.AWSEndpoint, o.NATSURL)
	}
	srv.Stop()

	if _, err := server.New(parse("--dlq-retention", "-1h")); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("negative retention: %v", err)
	}

	var help bytes.Buffer
	var opts server.Options
	fs := serveFlags(&opts, new(sinkFlags))
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, f := range []string{"-init", "-dlq-retention duration", "-dlq-aws-endpoint string", "$EDDY_DLQ_AWS_ENDPOINT", "-dlq-nats-url string", "$EDDY_DLQ_NATS_URL"} {
		if !strings.Contains(help.String(), f) {
			t.Errorf("eddy serve -h lacks %q:\n%s", f, help.String())
		}
	}
}

// TestServeHTTPLimitFlags: the --http-* flags fill server.HTTPLimits; their
// defaults are HTTPLimits' own.
func TestServeHTTPLimitFlags(t *testing.T) {
	parse := func(args ...string) server.HTTPLimits {
		t.Helper()
		var opts server.Options
		if err := serveFlags(&opts, new(sinkFlags)).Parse(args); err != nil {
			t.Fatal(err)
		}
		return opts.HTTP
	}
	want := server.HTTPLimits{MaxConnections: server.DefaultMaxConnections, HeaderTimeout: server.DefaultHeaderTimeout,
		ReadTimeout: server.DefaultReadTimeout, WriteTimeout: server.DefaultWriteTimeout, MinRate: server.DefaultMinRate,
		IdleTimeout: server.DefaultIdleTimeout, MaxInFlight: server.DefaultMaxInFlight, MaxQueued: server.DefaultMaxQueued,
		QueueWait: server.DefaultQueueWait, ResponseBudget: server.DefaultResponseBudget}
	if got := parse(); got != want {
		t.Fatalf("defaults: %+v, want %+v", got, want)
	}
	got := parse("--http-max-conns", "100", "--http-header-timeout", "1s", "--http-read-timeout", "2s",
		"--http-write-timeout", "3s", "--http-min-rate", "1000", "--http-idle-timeout", "4s", "--http-max-in-flight", "5",
		"--http-max-queued", "-1", "--http-queue-wait", "6ms", "--http-response-budget", "7")
	want = server.HTTPLimits{MaxConnections: 100, HeaderTimeout: time.Second, ReadTimeout: 2 * time.Second,
		WriteTimeout: 3 * time.Second, MinRate: 1000, IdleTimeout: 4 * time.Second, MaxInFlight: 5, MaxQueued: -1,
		QueueWait: 6 * time.Millisecond, ResponseBudget: 7}
	if got != want {
		t.Fatalf("flags: %+v, want %+v", got, want)
	}
}

// TestParseBytes: --memory-limit takes GOMEMLIMIT's syntax.
func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"384MiB": 384 << 20, "1GiB": 1 << 30, "4096": 4096, "10B": 10, "2KiB": 2048, "1TiB": 1 << 40} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "0", "1.5GiB", "12MB", "99999999999TiB"} {
		if n, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, n)
		}
	}
}

// TestServeStreamFlags: --stream-rollover and --stream-split-writes reach
// the streams options (bench/torture shortens them to exercise shard
// lineage under kills).
func TestServeStreamFlags(t *testing.T) {
	var opts server.Options
	if err := serveFlags(&opts, new(sinkFlags)).Parse(nil); err != nil {
		t.Fatal(err)
	}
	if opts.Streams.RolloverInterval != 4*time.Hour || opts.Streams.SplitWritesPerSecond != 10000 {
		t.Fatalf("defaults: rollover %v, split %v", opts.Streams.RolloverInterval, opts.Streams.SplitWritesPerSecond)
	}
	opts = server.Options{}
	if err := serveFlags(&opts, new(sinkFlags)).Parse([]string{"--stream-rollover", "3s", "--stream-split-writes", "-1"}); err != nil {
		t.Fatal(err)
	}
	if opts.Streams.RolloverInterval != 3*time.Second || opts.Streams.SplitWritesPerSecond != -1 {
		t.Fatalf("flags: rollover %v, split %v", opts.Streams.RolloverInterval, opts.Streams.SplitWritesPerSecond)
	}
}

// TestServeNATSFlags: --nats defaults to "" (the embedded server when a
// relay is configured), --nats-listen to a free loopback port.
func TestServeNATSFlags(t *testing.T) {
	var opts server.Options
	if err := serveFlags(&opts, new(sinkFlags)).Parse(nil); err != nil {
		t.Fatal(err)
	}
	if opts.NATS != "" || opts.NATSListen != "127.0.0.1:0" || opts.Relay.Duplicates != 10*time.Minute {
		t.Fatalf("defaults: --nats %q, --nats-listen %q, --relay-duplicates %v", opts.NATS, opts.NATSListen, opts.Relay.Duplicates)
	}
	opts = server.Options{}
	if err := serveFlags(&opts, new(sinkFlags)).Parse([]string{"--nats", "embedded", "--nats-listen", "127.0.0.1:14222", "--relay-duplicates", "1h"}); err != nil {
		t.Fatal(err)
	}
	if opts.NATS != server.NATSEmbedded || opts.NATSListen != "127.0.0.1:14222" || opts.Relay.Duplicates != time.Hour {
		t.Fatalf("flags: --nats %q, --nats-listen %q, --relay-duplicates %v", opts.NATS, opts.NATSListen, opts.Relay.Duplicates)
	}
}

// TestServeRemoteStreamsFlag: --remote-streams-endpoint, repeated, reaches
// server.Options.RemoteStreams.
func TestServeRemoteStreamsFlag(t *testing.T) {
	var opts server.Options
	if err := serveFlags(&opts, new(sinkFlags)).Parse([]string{"--remote-streams-endpoint", "111111111111:us-east-1=http://127.0.0.1:8001",
		"--remote-streams-endpoint", "eu-west-1=,profile=prod"}); err != nil {
		t.Fatal(err)
	}
	if r := opts.RemoteStreams; len(r) != 2 || r[0].Account != "111111111111" || r[0].URL != "http://127.0.0.1:8001" || r[1].Profile != "prod" || r[1].URL != "" {
		t.Fatalf("RemoteStreams %+v", r)
	}
}

// TestServeGlobalRegionsFlag: --global-regions, comma-separated, reaches
// server.Options.GlobalRegions; none by default (no global tables).
func TestServeGlobalRegionsFlag(t *testing.T) {
	var opts server.Options
	if err := serveFlags(&opts, new(sinkFlags)).Parse(nil); err != nil {
		t.Fatal(err)
	}
	if opts.GlobalRegions != nil {
		t.Fatalf("default --global-regions %v", opts.GlobalRegions)
	}
	if opts.Global.StreamReplicas != 1 || opts.Global.StrongTimeout != 5*time.Second {
		t.Fatalf("default --global-stream-replicas %d, --global-strong-timeout %v", opts.Global.StreamReplicas, opts.Global.StrongTimeout)
	}
	if err := serveFlags(&opts, new(sinkFlags)).Parse([]string{"--global-regions", "us-east-1, us-west-2,,eu-west-1", "--global-stream-replicas", "3",
		"--global-strong-timeout", "2s"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(opts.GlobalRegions, " "); got != "us-east-1 us-west-2 eu-west-1" || opts.Global.StreamReplicas != 3 || opts.Global.StrongTimeout != 2*time.Second {
		t.Fatalf("--global-regions: %q, --global-stream-replicas %d, --global-strong-timeout %v", got, opts.Global.StreamReplicas, opts.Global.StrongTimeout)
	}
}
