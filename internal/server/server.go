package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/appautoscaling"
	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/console"
	"github.com/eddydb/eddy/cwlogs"
	"github.com/eddydb/eddy/cwmetrics"
	"github.com/eddydb/eddy/dataport"
	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/dlq/destinations"
	"github.com/eddydb/eddy/iam/policies"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/lambdaapi"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/mappings/remote"
	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/relay"
	"github.com/eddydb/eddy/sinks"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"
)

// Options configure a Server. Zero values mean the documented defaults.
type Options struct {
	// Addr is the listen address. Default "127.0.0.1:8000"; use
	// "127.0.0.1:0" for a random port (tests).
	Addr string
	// DataDir is where Pebble keeps its files (and the trigger host its
	// compiled-code cache). Default "./eddy-data"; ignored when InMemory.
	DataDir string
	// InMemory keeps all data in memory (tests, throwaway development).
	// Default false.
	InMemory bool
	// Init creates a new database in DataDir when it is missing (with its
	// parents) or empty, and refuses a DataDir that holds anything
	// (store.Options.Init). Default false: a missing DataDir is refused (it
	// may have been deleted: never silently recreated), an empty one gets a
	// new database, an eddy database is opened, anything else is refused.
	Init bool
	// Region and AccountID appear in ARNs. Defaults "us-east-1" and
	// "000000000000".
	Region    string
	AccountID string
	// ShutdownTimeout bounds how long Shutdown waits for requests in
	// flight. Default 10s.
	ShutdownTimeout time.Duration
	// SinkConfigs are created, or updated, at every start (eddy serve's
	// --sink flags); sinks created through the API persist on their own.
	SinkConfigs []outbox.Config
	// OpenSink makes a sink's target. Default sinks.Open (every kind).
	OpenSink outbox.Opener
	// SinkRetryBackoff and SinkMaxRetryBackoff pace a sink's deliveries
	// after a failure: the first wait, doubling up to the maximum.
	// Defaults outbox.Options' (200ms, 30s); tests shrink them.
	SinkRetryBackoff    time.Duration
	SinkMaxRetryBackoff time.Duration
	// Sinks, when set, replaces the outbox as the receiver of what
	// functions emit (eddy.emit): every emit goes to it at once, also
	// during stream invocations, unbuffered (tests that observe
	// invocations). Default: the outbox.
	Sinks triggers.Sinks
	// WALMinSyncInterval is the shortest time between two WAL fsyncs:
	// concurrent writes arriving meanwhile share the next sync. Default
	// 200µs (measured with go run ./bench -scenarios put: server CPU per
	// durable PutItem 68 µs vs 85-99 µs at 16 clients, single-client p50
	// unchanged at ~230 µs). Negative disables it.
	WALMinSyncInterval time.Duration
	// StallUnhealthy is how long commits may wait with none finishing
	// before /healthz answers 503 (store.Options.StallUnhealthy). Default
	// 10s; negative disables the check.
	StallUnhealthy time.Duration
	// NoSync disables WAL fsync (benchmarks of the engine only). Default
	// false: acknowledged writes are durable.
	NoSync bool
	// Streams configures DynamoDB Streams (shards, rollover, retention,
	// iterator lifetime); see streams.Options. Default: streams.Options'
	// defaults; Region and AccountID default to the server's, Logger to the
	// server's.
	Streams streams.Options
	// Mappings configures event source mappings (retry backoff, shard
	// polling). Default: mappings.Options' defaults.
	Mappings mappings.Options
	// RemoteStreams are other endpoints' DynamoDB Streams APIs: a mapping
	// whose EventSourceArn's region (and account) match one reads that
	// endpoint's stream (package mappings/remote). Default: none, every
	// stream is eddy's own.
	RemoteStreams []remote.Endpoint
	// DLQ configures the dead-letter store of event source mappings
	// (retention, outbox backoff, SQS/SNS/S3 endpoint, NATS URL); see
	// dlq.Options. Default: dlq.Options' defaults; Region and AccountID
	// default to the server's, Logger to the server's.
	DLQ dlq.Options
	// TTLSweepInterval is how often the Time to Live sweeper looks for
	// expired items (each pass reads at most 1000 items per table).
	// Default 5s; negative disables the sweeper. DynamoDB itself deletes
	// expired items within about 48 hours.
	TTLSweepInterval time.Duration
	// TrustedFunctions compiles trigger functions without wazero's
	// close-on-context-done guard (triggers.Options.TrustedCode): guests
	// run several times faster, but a function stuck in a loop is no
	// longer stopped at its timeout. Default false: only for code you
	// trust.
	TrustedFunctions bool
	// FunctionLimits bound what functions consume together: concurrency
	// (and the share reservations may take), queued Event invocations and
	// total wasm memory. Default: triggers.Limits' defaults (64 concurrent
	// executions, 10 unreservable, 1000 queued events or 64 MiB, 2048 MB,
	// GOMAXPROCS-1 guests executing at once).
	FunctionLimits triggers.Limits
	// FunctionLogs bounds the functions' in-memory logs served through the
	// CloudWatch Logs API (see cwlogs.Options for the defaults). Region and
	// Account default to the server's.
	FunctionLogs cwlogs.Options
	// Builtins adds host-side handlers a mapping may name ("eddy.NAME",
	// see mappings.Builtin) beside the server's own (eddy.replicate): for
	// embedding programs and the native ceiling of the handler benchmarks.
	Builtins func(name string) (mappings.Builtin, bool)
	// S3Endpoint is the S3-compatible endpoint exports are written to and
	// imports read from (credentials from the SDK's default chain: the
	// environment, ~/.aws). Empty: AWS's S3. A file:///abs/dir bucket is a
	// local directory either way.
	S3Endpoint string
	// HTTP bounds what clients can hold: connections, read and write
	// timeouts, requests in flight and their queue, response bytes to slow
	// readers. Default: HTTPLimits' defaults.
	HTTP HTTPLimits
	// NATS is the NATS server the relays publish to: a URL
	// (nats://host:4222, several separated by commas), "embedded" (an
	// in-process nats-server with JetStream, its files under
	// DataDir/nats, started with the server), or "" (the default: the
	// embedded server, started when the first relay needs it).
	NATS string
	// NATSListen is where the embedded nats-server listens. Default
	// "127.0.0.1:0": a free port, logged at start.
	NATSListen string
	// Relay tunes the relays (stream name, subject prefix, duplicates
	// window, in-flight window); URL, Connect, Region, EnsureStream and
	// Logger are the server's. Default: relay.Options' defaults.
	Relay relay.Options
	// Metrics bounds the CloudWatch metrics (AWS/DynamoDB) kept in memory
	// (see cwmetrics.Options: 3 hours of 1-minute data, 4096 series by
	// default); its Now defaults to Clock.
	Metrics cwmetrics.Options
	// MetricsInterval is how often provisioned capacity is sampled into
	// the metrics and the auto scaling policies are evaluated (Tick).
	// Default 1 minute; negative disables the tick (tests call Tick).
	MetricsInterval time.Duration
	// Clock is the time the metrics, auto scaling, point-in-time recovery
	// (the history's stamps, the recovery window) and exports run on.
	// Default time.Now; tests compress time with eddytest.Clock.
	Clock func() time.Time
	// Credentials are the access keys requests must be signed with (AWS
	// Signature Version 4), with CredentialsFile's. Default none: without
	// either, eddy verifies nothing (every request is anonymous) and
	// refuses to listen on anything but a loopback address unless
	// InsecureOpen is set.
	Credentials []auth.Credential
	// CredentialsFile is an AWS shared-credentials file of access keys
	// (auth.LoadCredentialsFile), read at New and again at Reload.
	CredentialsFile string
	// InsecureOpen lets eddy run without credentials on a non-loopback
	// address. Default false.
	InsecureOpen bool
	// MetricsPublic serves /metrics without a signature when credentials
	// are configured (for a Prometheus that does not sign). Default false.
	MetricsPublic bool
	// TLS serves HTTPS instead of HTTP. Default: HTTP.
	TLS TLSOptions
	// Principal maps the access key ID of a DynamoDB or Streams request
	// (its SigV4 credential scope) to the ARN of the IAM principal it acts
	// as, whose policies (/eddy/policies) then authorize it; "" is
	// anonymous and allowed. Default: the ARN of the verified key's user
	// (Credentials, CredentialsFile, the users store), "" while eddy runs
	// open; tests map keys to users.
	Principal func(accessKeyID string) string
	// Capacity configures the capacity limiter (eddy serve --capacity):
	// Mode (enforce, the default, or report), the clock, the burst window.
	// Size and Metrics are the server's; Observer, when set, receives
	// throttle and consumption events.
	Capacity capacity.Options
	// Logger receives startup and shutdown lines and every subsystem's
	// background failures (each with a "subsystem" attribute). Default:
	// nil, which discards; eddy serve logs to stderr.
	Logger *slog.Logger
}

// EnsureDefaults fills in defaults.
func (o *Options) EnsureDefaults() {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8000"
	}
	if o.DataDir == "" && !o.InMemory {
		o.DataDir = "./eddy-data"
	}
	if o.Region == "" {
		o.Region = arn.DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = arn.DefaultAccount
	}
	if o.WALMinSyncInterval == 0 {
		o.WALMinSyncInterval = 200 * time.Microsecond
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.TTLSweepInterval == 0 {
		o.TTLSweepInterval = 5 * time.Second
	}
	if o.NATSListen == "" {
		o.NATSListen = "127.0.0.1:0"
	}
	o.HTTP.ensureDefaults()
}

// Server is one eddy: every subsystem on one Pebble database, served on one
// listener. Build it with New, serve with Start, stop with Shutdown.
type Server struct {
	opts Options
	log  *slog.Logger

	db       *store.DB
	streams  *streams.Log
	triggers *triggers.Host
	dlq      *dlq.Store
	outbox   *outbox.Outbox
	relay    *relay.Relay
	mappings *mappings.Manager
	fnlogs   *cwlogs.Store           // the functions' logs (CloudWatch Logs API)
	cwm      *cwmetrics.Store        // AWS/DynamoDB metrics (CloudWatch API)
	scaling  *appautoscaling.Service // Application Auto Scaling API and scaler
	dataport *dataport.Manager       // ExportTableToPointInTime, ImportTable
	metrics  *prometheus.Registry
	api      *api.Server
	policies *policies.Store
	capacity *capacity.Limiter
	mux      *http.ServeMux
	limits   *httpLimiter
	authn    *authenticator
	users    *users        // the users store (/eddy/users)
	certs    *certReloader // nil without TLS

	// closers close what New opened, in opening order; Shutdown (or a
	// failed New) runs them backwards.
	closers []closer
	nats    embeddedNATS
	ttl     *store.TTLSweeper // nil when disabled

	http  *http.Server
	ln    net.Listener
	serve *lifecycle.Group // the HTTP serve loop
	ready atomic.Bool
	done  chan error

	shutdownOnce sync.Once
	shutdownErr  error
}

type closer struct {
	what  string
	close func() error
}

// New opens, in order, the store, the stream log, the sinks' outbox, the
// embedded nats-server (with --nats embedded, or a relay configured and no
// URL given), the relays, the trigger host, the dead-letter store and the
// event source mappings, registers their metrics
// on one registry, builds the HTTP mux, and starts the store's background
// work (TTL sweeper, interrupted index backfills). Start begins serving.
// On an error everything opened so far is closed again.
func New(opts Options) (_ *Server, err error) {
	opts.EnsureDefaults()
	log := lifecycle.Or(opts.Logger)
	s := &Server{opts: opts, log: log, mux: http.NewServeMux(), done: make(chan error, 1)}
	if opts.Principal == nil {
		opts.Principal = s.verifiedPrincipal
		s.opts.Principal = opts.Principal
	}
	defer func() {
		if err != nil {
			_ = s.closeAll()
		}
	}()
	sub := func(name string) *slog.Logger { return log.With("subsystem", name) }
	if err := opts.HTTP.validate(); err != nil {
		return nil, err
	}
	s.limits = newHTTPLimiter(opts.HTTP, sub("http"))

	s.db, err = store.Open(store.Options{Dir: opts.DataDir, InMemory: opts.InMemory, Init: opts.Init, NoSync: opts.NoSync,
		WALMinSyncInterval: max(opts.WALMinSyncInterval, 0), StallUnhealthy: opts.StallUnhealthy, Logger: sub("store"), Region: opts.Region,
		Now: opts.Clock})
	if err != nil {
		return nil, err
	}
	s.opened("store", s.db.Close)
	s.users = &users{ks: s.db.KeySpace(store.SpaceUsers), account: opts.AccountID, change: s.keysChanged}
	if err := s.openAuth(sub("auth")); err != nil {
		return nil, err
	}
	if err := s.openTLS(sub("tls")); err != nil {
		return nil, err
	}

	so := opts.Streams
	if so.Region == "" {
		so.Region = opts.Region
	}
	if so.AccountID == "" {
		so.AccountID = opts.AccountID
	}
	if so.Logger == nil {
		so.Logger = sub("streams")
	}
	if s.streams, err = streams.Open(s.db, so); err != nil {
		return nil, err
	}
	s.opened("streams", s.streams.Close)
	s.db.RegisterChangeLog(s.streams)
	if err := s.openCapWatch(); err != nil {
		return nil, err
	}
	s.metrics = prometheus.NewRegistry()
	co := opts.Capacity
	co.Metrics = s.metrics
	co.Size = func(t *store.Table) int64 { _, n, _ := s.db.Stats(t); return n }
	if co.Observer == nil {
		co.Observer = throttleMetrics{s.cwm} // ReadThrottleEvents, WriteThrottleEvents, ThrottledRequests
	}
	s.capacity = capacity.New(co)
	s.db.SetAdmitter(s.capacity)
	if s.policies, err = policies.Open(s.db.KeySpace(store.SpacePolicies)); err != nil {
		return nil, err
	}
	s.dataport = s.newDataport(sub("dataport"))
	s.api = api.New(api.Deps{DB: s.db, Log: s.streams, Logger: sub("api"), Admit: s.limits.admit, Capacity: s.capacity,
		Usage: s.recordUsage, Policies: s.policies, Principal: opts.Principal, Ops: dataportOps(s.dataport),
		Denied: func(principal, action, resource string) {
			if s.authn != nil {
				s.authn.authorized(principal, action, resource)
			}
		}},
		api.Config{Region: opts.Region, AccountID: opts.AccountID})
	s.opened("dataport", func() error { s.dataport.Close(); return nil })

	open := opts.OpenSink
	if open == nil {
		open = sinks.Open
	}
	sinkDir := ""
	if !opts.InMemory {
		sinkDir = filepath.Join(opts.DataDir, "sinks")
	}
	if s.outbox, err = outbox.Open(s.db, open, outbox.Options{Dir: sinkDir, Logger: sub("sinks"), ScanTable: s.scanTable,
		RetryBackoff: opts.SinkRetryBackoff, MaxRetryBackoff: opts.SinkMaxRetryBackoff,
		Settled: func(ctx context.Context, seq uint64) error { return s.streams.Settled(ctx, streams.Seq(seq)) }}); err != nil {
		return nil, err
	}
	s.opened("sinks", s.outbox.Close)
	for _, cfg := range opts.SinkConfigs {
		if err := s.outbox.Ensure(cfg); err != nil {
			return nil, fmt.Errorf("sink %s: %w", cfg.Name, err)
		}
	}
	if err := s.openRelay(sub); err != nil {
		return nil, err
	}

	var emits triggers.Sinks = s.outbox
	if opts.Sinks != nil {
		emits = opts.Sinks
	}
	codeDir := opts.DataDir
	if opts.InMemory {
		codeDir = ""
	}
	lo := opts.FunctionLogs // every invocation's log lines, for the CloudWatch Logs API
	lo.Region, lo.Account = cmp.Or(lo.Region, opts.Region), cmp.Or(lo.Account, opts.AccountID)
	lo.HomeRegion = s.db.HomeRegion()
	s.fnlogs = cwlogs.New(lo)
	s.triggers, err = triggers.New(triggers.Deps{
		DB:      s.db.KeySpace(store.SpaceFunctions),
		Tables:  guestTables{s.api},
		Sinks:   emits,
		Logs:    s.fnlogs,
		Logger:  sub("triggers"),
		Metrics: s.metrics,
	}, triggers.Options{
		DataDir:     codeDir,
		Region:      opts.Region,
		HomeRegion:  s.db.HomeRegion(),
		Account:     opts.AccountID,
		TrustedCode: opts.TrustedFunctions,
		Limits:      opts.FunctionLimits,
	})
	if err != nil {
		return nil, err
	}
	s.opened("triggers", s.triggers.Close)

	do := opts.DLQ
	if do.Region == "" {
		do.Region, do.Account = opts.Region, opts.AccountID
	}
	if do.Logger == nil {
		do.Logger = sub("dlq")
	}
	if do.Destinations == nil {
		do.Destinations = destinations.New
	}
	if s.dlq, err = dlq.Open(s.db, do); err != nil {
		return nil, err
	}
	s.opened("dlq", s.dlq.Close)

	md := mappings.Deps{DB: s.db, Log: s.streams, Host: s.triggers, DLQ: s.dlq,
		Outbox: s.outbox, Builtins: s.builtins, Metrics: s.metrics, Logger: sub("mappings")}
	if len(opts.RemoteStreams) > 0 {
		rs, err := remote.New(context.Background(), opts.RemoteStreams)
		if err != nil {
			return nil, err
		}
		md.Remote = rs.Source
	}
	if s.mappings, err = mappings.New(md, opts.Mappings); err != nil {
		return nil, err
	}
	s.opened("mappings", s.mappings.Close)
	s.dlq.Start()

	s.limits.register(s.metrics)
	s.metrics.MustRegister(s.cwm.Collector())
	s.metrics.MustRegister(s.authn.denied, s.authn.forbidden)
	s.metrics.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "eddy_storage_failed",
			Help: "1 while the store is in its failed state (a failed WAL write or sync, a failing flush, a vanished data directory): writes are refused and /healthz answers 503."},
			func() float64 { return b2f(s.db.Failed()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "eddy_storage_commit_stall_seconds",
			Help: "How long commits have been in flight with none finishing (0 when none is in flight); /healthz answers 503 past --stall-unhealthy."},
			func() float64 { return s.db.Stalled().Seconds() }),
	)
	s.mux.HandleFunc("/healthz", s.healthz)
	s.mux.Handle("/eddy/backup", s.backupHandler())
	s.mux.Handle("/eddy/dlq/", dlq.NewHandler(s.dlq, s.mappings, dlq.InRegion(opts.Region)))
	s.mux.Handle("/eddy/capacity/tables/", s.capacity.Handler(func(region, name string) *store.Table {
		return s.db.TableIn(cmp.Or(region, opts.Region), name)
	}))
	s.mux.Handle("/eddy/mappings/", mappings.NewHandler(s.mappings, opts.Region))
	s.mux.Handle("/eddy/workers/", mappings.WorkerHandler(s.mappings, guestTables{s.api}.apply))
	sinkAPI := outbox.NewHandler(s.outbox)
	s.mux.Handle("/eddy/sinks", sinkAPI)
	s.mux.Handle("/eddy/sinks/", sinkAPI)
	s.mux.Handle("/eddy/users", s.users)
	s.mux.Handle("/eddy/users/", s.users)
	policyAPI := policies.Handler(s.policies, opts.Principal)
	s.mux.Handle(policies.Prefix, policyAPI)
	s.mux.Handle(policies.Prefix+"/", policyAPI)
	relayAPI := relaysInRegion(relay.NewHandler(s.relay), opts.Region)
	s.mux.Handle("/eddy/relays", relayAPI)
	s.mux.Handle("/eddy/relays/", relayAPI)
	reps := s.replicationsHandler()
	s.mux.Handle("/eddy/replications", reps)
	s.mux.Handle("/eddy/replications/", reps)
	lambdaAPI := lambdaapi.NewHandler(s.triggers, lambdaapi.WithMappings(s.mappings), lambdaapi.WithPolicies(s.policies, opts.Principal),
		lambdaapi.WithDenied(s.authn.authorized))
	s.mux.Handle("/2015-03-31/", lambdaAPI)
	s.mux.Handle(lambdaapi.ConcurrencyPrefix2017, lambdaAPI)
	s.mux.Handle(lambdaapi.ConcurrencyPrefix2019, lambdaAPI)
	s.mux.Handle(console.Prefix, console.Handler())
	s.mux.Handle("/console", console.Handler())
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	s.mux.Handle("POST "+cwmetrics.CBORPath, s.cwm.Handler(opts.Region))
	s.mux.Handle("/", s.rpc())
	s.http = &http.Server{
		Handler:           s.limits.handler(s.authn.handler(s.authn.adminActions(s.mux))),
		ReadHeaderTimeout: max(opts.HTTP.HeaderTimeout, 0),
		IdleTimeout:       max(opts.HTTP.IdleTimeout, 0),
		ErrorLog:          slog.NewLogLogger(sub("http").Handler(), slog.LevelWarn),
		// The limits find a request's connection (reserve or not) in its
		// context, and follow which connections are idle.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if lc, ok := unwrapConn(c).(*limitConn); ok {
				return context.WithValue(ctx, connKey{}, lc)
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if cl := s.limits.conns.Load(); cl != nil {
				cl.connState(unwrapConn(c), st)
			}
		},
	}

	// The store's background work, once every change log it writes
	// through is open; Shutdown stops the sweeper before closing them.
	s.ttl = s.db.StartTTLSweeper(opts.TTLSweepInterval)
	s.db.ResumeBackfills()
	s.startCapWatch()
	return s, nil
}

// rpc serves POST /: the CloudWatch Logs JSON protocol (X-Amz-Target
// Logs_20140328.*) for the functions' logs, CloudWatch (JSON 1.0 target
// GraniteServiceVersion20100801.*, or an awsquery form) for the
// AWS/DynamoDB metrics, Application Auto Scaling (AnyScaleFrontendService.*),
// everything else by api (DynamoDB and DynamoDB Streams, and api's answers
// to other targets). CloudWatch's RPC v2 CBOR requests have their own path.
func (s *Server) rpc() http.Handler {
	logs := s.fnlogs.Handler()
	cw := s.cwm.Handler(s.opts.Region)
	scaling := s.scaling.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		switch {
		case strings.HasPrefix(target, cwlogs.TargetPrefix):
			logs.ServeHTTP(w, r)
		case strings.HasPrefix(target, cwmetrics.TargetPrefix) || cwmetrics.IsQuery(r):
			cw.ServeHTTP(w, r)
		case strings.HasPrefix(target, appautoscaling.TargetPrefix):
			scaling.ServeHTTP(w, r)
		default:
			s.api.ServeHTTP(w, r)
		}
	})
}

func (s *Server) opened(what string, close func() error) {
	s.closers = append(s.closers, closer{what, close})
}

// closeAll stops the TTL sweeper, then closes what New opened in reverse
// order: mappings, dlq, triggers, relays (after their last acks), the
// embedded nats-server, sinks, streams, store.
func (s *Server) closeAll() error {
	s.ttl.Stop()
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		c := s.closers[i]
		if err := c.close(); err != nil {
			errs = append(errs, fmt.Errorf("server: close %s: %w", c.what, err))
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Handle mounts another handler (e.g. net/http/pprof) on the server's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// DB returns the storage engine.
func (s *Server) DB() *store.DB { return s.db }

// Streams returns the stream log.
func (s *Server) Streams() *streams.Log { return s.streams }

// Outbox returns the sinks and their undelivered documents.
func (s *Server) Outbox() *outbox.Outbox { return s.outbox }

// Policies returns the IAM policies attached to principals.
func (s *Server) Policies() *policies.Store { return s.policies }

// Relay returns the relays of change records to JetStream.
func (s *Server) Relay() *relay.Relay { return s.relay }

// Mappings returns the event source mapping manager.
func (s *Server) Mappings() *mappings.Manager { return s.mappings }

// DLQ returns the dead-letter store, with the mappings' redrive.
func (s *Server) DLQ() mappings.DeadLetters { return s.mappings.DeadLetters() }

// Call runs a DynamoDB operation in process (api.Server.Call).
func (s *Server) Call(ctx context.Context, op string, req []byte, principal string) ([]byte, error) {
	return s.api.Call(ctx, op, req, principal)
}

// Start listens and serves in the background; /healthz answers 200 once it
// returns.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", s.opts.Addr, err)
	}
	if s.opts.HTTP.MaxConnections > 0 {
		cl := newConnListener(ln, s.opts.HTTP.MaxConnections, s.limits.m, s.limits.log)
		s.limits.conns.Store(cl)
		ln = cl
	}
	if s.certs != nil {
		ln = tls.NewListener(ln, &tls.Config{GetCertificate: s.certs.get, MinVersion: tls.VersionTLS12})
	}
	s.ln = ln
	s.ready.Store(true)
	s.serve = lifecycle.New(context.Background(), "server", s.log)
	s.serve.Go("http serve", func(context.Context) {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	})
	data := s.opts.DataDir
	if s.opts.InMemory {
		data = "memory"
	}
	s.log.Info("eddy serving", "url", s.URL(), "data", data, "fsync", !s.opts.NoSync,
		"max_connections", s.opts.HTTP.MaxConnections, "max_in_flight", s.opts.HTTP.MaxInFlight)
	return nil
}

// Addr returns the address the server listens on (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns http://addr, or https://addr with TLS.
func (s *Server) URL() string {
	if s.certs != nil {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Shutdown stops accepting connections, lets requests in flight finish
// (bounded by ShutdownTimeout or ctx), stops the TTL sweeper, then closes
// mappings, dlq, triggers, streams and store: the reverse of New's order.
// It is idempotent: later calls return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() { s.shutdownErr = s.shutdown(ctx) })
	return s.shutdownErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.ready.Store(false)
	ctx, cancel := context.WithTimeout(ctx, s.opts.ShutdownTimeout)
	defer cancel()
	var errs []error
	if s.ln != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := <-s.done; err != nil {
			errs = append(errs, err)
		}
		s.serve.Stop()
	}
	if err := s.closeAll(); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	if err != nil {
		s.log.Warn("eddy stopped with errors", "err", err)
	} else {
		s.log.Info("eddy stopped cleanly")
	}
	return err
}

// healthz answers 200 "ok" when the server serves and its store accepts
// writes; 503 while starting or stopping, and 503 with the reason while the
// store is in its failed state (store.DB.Health: a failed WAL write or
// sync, a failing flush, a vanished data directory) or while commits have
// waited longer than Options.StallUnhealthy with none finishing (a hung
// disk, a write stall that does not end).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	if err := s.db.Health(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
