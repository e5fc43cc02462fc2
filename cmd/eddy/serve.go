package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings/remote"
	"github.com/eddydb/eddy/sinks"
)

// sinkFlags collects repeated --sink NAME=URL flags.
type sinkFlags []string

func (s *sinkFlags) String() string     { return strings.Join(*s, ",") }
func (s *sinkFlags) Set(v string) error { *s = append(*s, v); return nil }

// serveFlags returns the flag set of "eddy serve", which fills opts and
// sinks; --log-level and --log-format are read back with Lookup (newLogger).
func serveFlags(opts *server.Options, sinks *sinkFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&opts.DataDir, "data", "./eddy-data", "data directory")
	fs.BoolVar(&opts.InMemory, "in-memory", false, "keep all data in memory (lost on exit)")
	fs.BoolVar(&opts.Init, "init", false,
		"create a new database: the --data directory must be missing or empty (without --init a missing --data directory is\n"+
			"refused, since it may have been deleted; an empty one gets a new database; the default ./eddy-data is created at\n"+
			"the first run, with a warning)")
	fs.StringVar(&opts.Region, "region", arn.DefaultRegion, "region named in ARNs")
	fs.StringVar(&opts.AccountID, "account", arn.DefaultAccount, "account ID named in ARNs")
	fs.IntVar(&opts.Streams.ShardCount, "stream-shards", 4, "shards a new table stream starts with")
	fs.DurationVar(&opts.Streams.RolloverInterval, "stream-rollover", 4*time.Hour,
		"close each open stream shard this long after it opened and continue in a child shard, as DynamoDB does about every 4h")
	fs.Float64Var(&opts.Streams.SplitWritesPerSecond, "stream-split-writes", 10000,
		"split an open stream shard in two when its writes per second exceed this (negative: never)")
	fs.BoolVar(&opts.TrustedFunctions, "trusted-functions", false,
		"run function code without the runaway guard (faster; a stuck function then ignores its timeout: only for code you trust)")
	fs.IntVar(&opts.FunctionLimits.MaxConcurrency, "function-concurrency", 64,
		"function invocations running at once, all functions together (Lambda's account concurrency; over it Invoke answers 429)")
	fs.IntVar(&opts.FunctionLimits.MaxTotalMemoryMB, "function-memory-mb", 2048,
		"linear memory of all function instances together, in MB")
	fs.DurationVar(&opts.DLQ.Retention, "dlq-retention", 14*24*time.Hour,
		"how long dead-lettered batches are kept (eddy dlq list), delivered or not; 0 means the default")
	fs.StringVar(&opts.DLQ.AWSEndpoint, "dlq-aws-endpoint", "",
		"endpoint of SQS, SNS and S3 failure destinations, e.g. a local moto or LocalStack (default $EDDY_DLQ_AWS_ENDPOINT, else AWS)")
	fs.StringVar(&opts.S3Endpoint, "s3-endpoint", os.Getenv("EDDY_S3_ENDPOINT"),
		"S3-compatible endpoint of exports and imports (ExportTableToPointInTime, ImportTable), e.g. a local moto or MinIO;\n"+
			"credentials from the AWS SDK's default chain (default $EDDY_S3_ENDPOINT, else AWS; file:///dir buckets are local directories)")
	fs.StringVar(&opts.DLQ.NATSURL, "dlq-nats-url", "",
		"NATS server of arn:eddy:nats failure destinations (default $EDDY_DLQ_NATS_URL, else nats://127.0.0.1:4222)")
	fs.Var(sinks, "sink", "create or update sink NAME at start (sinks persist; see eddy sinks): NAME=search (embedded index),\n"+
		"NAME=http(s)://... (webhook), NAME=elasticsearch+http://host:9200/INDEX, NAME=nats://host:4222/SUBJECT[?stream=S],\n"+
		"NAME=file:///path; repeat for several sinks")
	fs.Func("remote-streams-endpoint",
		"read the streams of ARNs in REGION (and ACCOUNT) from another endpoint's DynamoDB Streams API:\n"+
			"[ACCOUNT:]REGION=URL[,profile=NAME][,poll=DURATION] (URL empty: AWS's own; credentials from the AWS SDK's default chain or\n"+
			"the named profile; a caught-up shard is polled every 250ms unless poll= says otherwise); a mapping's EventSourceArn that\n"+
			"matches one is read there, with checkpoints in eddy; repeat for several",
		func(v string) error {
			e, err := remote.ParseEndpoint(v)
			opts.RemoteStreams = append(opts.RemoteStreams, e)
			return err
		})
	fs.StringVar(&opts.NATS, "nats", "",
		"NATS server the relays publish to (eddy relay enable TABLE): nats://host:4222 (an existing server or cluster), or embedded\n"+
			"(an in-process nats-server with JetStream, files under DATA/nats); default: embedded, started when a relay is configured")
	fs.Func("global-regions", "comma-separated regions of the eddy servers (this one's --region among them) that hold replicas of global tables\n"+
		"(UpdateTable ReplicaUpdates), reached through --nats (one NATS system for all; default: none, no global tables)",
		func(v string) error {
			for _, r := range strings.Split(v, ",") {
				if r = strings.TrimSpace(r); r != "" {
					opts.GlobalRegions = append(opts.GlobalRegions, r)
				}
			}
			return nil
		})
	fs.IntVar(&opts.Global.StreamReplicas, "global-stream-replicas", 1,
		"replication factor of the JetStream stream of global tables' changes, in a JetStream cluster (3: no change lost with a NATS server)")
	fs.DurationVar(&opts.Global.StrongTimeout, "global-strong-timeout", 5*time.Second,
		"how long an MRSC write or strongly consistent read waits for the JetStream quorum before answering InternalServerError")
	fs.StringVar(&opts.NATSListen, "nats-listen", "127.0.0.1:0", "where the embedded nats-server listens (port 0: a free port, logged at start)")
	fs.Func("worker-functions", "comma-separated function names whose event source mappings run on `eddy worker` processes over the relay, not in eddy",
		func(v string) error {
			names := map[string]bool{}
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names[n] = true
				}
			}
			opts.Mappings.OnWorkers = func(fn string) bool { return names[fn] }
			return nil
		})
	fs.DurationVar(&opts.Relay.Duplicates, "relay-duplicates", 10*time.Minute,
		"duplicates window of the JetStream stream eddy creates for the relays: a record republished after a crash within it is stored once")
	fs.StringVar(&opts.CredentialsFile, "credentials", "",
		"AWS shared-credentials file of the access keys requests must be signed with (SigV4); reread on SIGHUP. Without it eddy accepts\n"+
			"unsigned requests, and only on a loopback --addr")
	fs.BoolVar(&opts.InsecureOpen, "insecure-open", false, "accept unauthenticated requests on a non-loopback --addr (no --credentials)")
	fs.BoolVar(&opts.MetricsPublic, "metrics-public", false, "serve /metrics without a signature when --credentials is given")
	fs.StringVar(&opts.TLS.CertFile, "tls-cert", "", "serve HTTPS with this PEM certificate (chain); reread on SIGHUP")
	fs.StringVar(&opts.TLS.KeyFile, "tls-key", "", "the PEM key of --tls-cert")
	fs.BoolVar(&opts.TLS.SelfSigned, "tls-self-signed", false,
		"serve HTTPS with a development certificate for 127.0.0.1 and localhost, made once under DATA/tls (its path is logged: trust it in clients)")
	httpLimitFlags(fs, &opts.HTTP)
	opts.Capacity.Mode = capacity.Enforce
	fs.Func("capacity", "enforce (the default, as DynamoDB: requests over a table's or index's capacity are throttled) or report (nothing is throttled; what would have been is counted in /metrics)",
		func(s string) (err error) { opts.Capacity.Mode, err = capacity.ParseMode(s); return err })
	fs.DurationVar(&opts.StallUnhealthy, "stall-unhealthy", 10*time.Second,
		"/healthz answers 503 (not ready) while writes have waited this long with none finishing: a hung disk, a write stall that does not end (negative: never)")
	fs.String("memory-limit", "",
		"soft memory limit of the Go runtime, GOMEMLIMIT's syntax (e.g. 384MiB): the garbage collector works harder near it (default $GOMEMLIMIT, else 384MiB)")
	fs.String("log-level", "info", "least severe log level written to stderr: debug, info, warn or error")
	fs.String("log-format", "text", "log line format: text (key=value) or json")
	return fs
}

// httpLimitFlags are the --http-* flags: server.HTTPLimits, each with its
// default; a negative value turns a limit off.
func httpLimitFlags(fs *flag.FlagSet, l *server.HTTPLimits) {
	fs.IntVar(&l.MaxConnections, "http-max-conns", server.DefaultMaxConnections,
		"most client connections open (plus 16 kept for /healthz and /metrics); at the cap an idle or stalled one is closed for the new one, else new ones only get /healthz and /metrics; at most the open-file limit less 256")
	fs.DurationVar(&l.HeaderTimeout, "http-header-timeout", server.DefaultHeaderTimeout, "longest a client may take to send a request's headers")
	fs.DurationVar(&l.ReadTimeout, "http-read-timeout", server.DefaultReadTimeout,
		"longest a client may take to send a request body, plus its size at --http-min-rate; a slower body is cut off")
	fs.DurationVar(&l.WriteTimeout, "http-write-timeout", server.DefaultWriteTimeout,
		"longest a client may take to receive a response once it starts, plus its size at --http-min-rate; a client that does not read is cut off")
	fs.IntVar(&l.MinRate, "http-min-rate", server.DefaultMinRate, "slowest a body or a response may move past its timeout, in bytes per second")
	fs.DurationVar(&l.IdleTimeout, "http-idle-timeout", server.DefaultIdleTimeout, "close keep-alive connections idle this long")
	fs.IntVar(&l.MaxInFlight, "http-max-in-flight", server.DefaultMaxInFlight,
		"most requests running at once (a request counts once its body is read; /healthz and /metrics do not count); beyond it and its queue: RequestLimitExceeded")
	fs.IntVar(&l.MaxQueued, "http-max-queued", server.DefaultMaxQueued, "requests that may wait for a slot beyond --http-max-in-flight")
	fs.DurationVar(&l.QueueWait, "http-queue-wait", server.DefaultQueueWait, "longest a request waits for a slot before RequestLimitExceeded")
	fs.Int64Var(&l.ResponseBudget, "http-response-budget", server.DefaultResponseBudget,
		"most bytes of large responses (64 KiB and more) being written to clients at once; beyond it: RequestLimitExceeded")
}

// parseBytes reads a size in GOMEMLIMIT's syntax: a number of bytes with
// an optional B, KiB, MiB, GiB or TiB suffix.
func parseBytes(s string) (int64, error) {
	num, mult := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: want a positive number of bytes, optionally with B, KiB, MiB, GiB or TiB", s)
	}
	return n * mult, nil
}

// newLogger builds the stderr logger of --log-level and --log-format.
func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// flagGiven reports whether flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// serve is "eddy serve": flags → server.Options → New → Start → wait for
// SIGINT or SIGTERM → Shutdown (requests in flight finish).
func serve(args []string) int {
	var opts server.Options
	var sinkSpecs sinkFlags
	fs := serveFlags(&opts, &sinkSpecs)
	_ = fs.Parse(args)
	log, err := newLogger(fs.Lookup("log-level").Value.String(), fs.Lookup("log-format").Value.String())
	if err != nil {
		fmt.Fprintf(os.Stderr, "eddy: %v\n", err)
		return 2
	}
	opts.Logger = log
	if !opts.InMemory && !opts.Init && !flagGiven(fs, "data") {
		// The first run of the command the README gives: the default data
		// directory is created, loudly. An explicit --data that is missing
		// is refused instead (it may have been deleted or not mounted).
		if _, err := os.Stat(opts.DataDir); errors.Is(err, os.ErrNotExist) {
			log.Warn("no database in the default data directory: creating a new one (pass --data DIR to use another)", "data", opts.DataDir)
			opts.Init = true
		}
	}
	for _, spec := range sinkSpecs {
		cfg, err := sinks.ParseFlag(spec)
		if err != nil {
			log.Error("bad --sink", "err", err)
			return 2
		}
		opts.SinkConfigs = append(opts.SinkConfigs, cfg)
	}

	server.TuneRuntime()
	if v := fs.Lookup("memory-limit").Value.String(); v != "" {
		n, err := parseBytes(v)
		if err != nil {
			log.Error("bad --memory-limit", "err", err)
			return 2
		}
		debug.SetMemoryLimit(n)
	}
	if (opts.TLS.CertFile == "") != (opts.TLS.KeyFile == "") {
		log.Error("--tls-cert and --tls-key go together")
		return 2
	}
	srv, err := server.New(opts)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := srv.Start(); err != nil {
		log.Error("cannot start", "err", err)
		_ = srv.Shutdown(context.Background())
		return 1
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	s := <-sig
	for s == syscall.SIGHUP { // rotated keys, a renewed certificate
		_ = srv.Reload() // logged
		s = <-sig
	}
	log.Debug("signal received: shutting down (requests in flight finish)", "signal", s.String())
	if err := srv.Shutdown(context.Background()); err != nil {
		return 1 // the server logged it
	}
	return 0
}
