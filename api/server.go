package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"
)

// Options configure a Server. Zero values mean the documented defaults.
type Options struct {
	// Addr is the listen address. Default "127.0.0.1:8000"; use
	// "127.0.0.1:0" for a random port (tests).
	Addr string
	// DataDir is where Pebble keeps its files. Default "./eddy-data".
	DataDir string
	// InMemory keeps all data in memory (tests, throwaway development).
	InMemory bool
	// Region and AccountID appear in ARNs. Defaults "us-east-1" and
	// "000000000000".
	Region    string
	AccountID string
	// ShutdownTimeout bounds how long Shutdown waits for requests in
	// flight. Default 10s.
	ShutdownTimeout time.Duration
	// Sinks receives documents trigger functions emit (eddy.emit). Default:
	// none configured; an emit then fails with a clear error.
	Sinks triggers.Sinks
	// WALMinSyncInterval is the shortest time between two WAL fsyncs:
	// concurrent writes arriving meanwhile share the next sync. Default
	// 200µs (measured with go run ./bench -scenarios put: server CPU per
	// durable PutItem 68 µs vs 85-99 µs at 16 clients, single-client p50
	// unchanged at ~230 µs). Negative disables it.
	WALMinSyncInterval time.Duration
	// NoSync disables WAL fsync (benchmarks of the engine only). Default
	// false: acknowledged writes are durable.
	NoSync bool
	// Streams configures DynamoDB Streams (shards, rollover, retention,
	// iterator lifetime); see streams.Options. Region and AccountID default
	// to the server's.
	Streams streams.Options
	// Mappings configures event source mappings (retry backoff, shard
	// polling); the server sets its DB, Log, Host and DLQ.
	Mappings mappings.Options
	// DLQ configures the dead-letter store of event source mappings
	// (retention, outbox backoff, SQS/SNS/S3 endpoint, NATS URL); see
	// dlq.Options. Region and AccountID default to the server's.
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
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "000000000000"
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
}

// opFunc handles one DynamoDB operation. It returns the response body: a
// rawJSON is sent as is, anything else through encoding/json.
type opFunc func(ctx context.Context, c *call) (any, error)

// rawJSON is a response body built by hand on hot paths.
type rawJSON []byte

// Server is eddy's network face: the DynamoDB and DynamoDB Streams JSON
// protocols on POST /, the Lambda REST API under /2015-03-31/, /healthz.
type Server struct {
	opts Options
	db   *store.DB
	log  *streams.Log
	ops  map[string]opFunc

	triggers *triggers.Host
	mappings *mappings.Manager
	dlq      *dlq.Store
	mux      *http.ServeMux
	http     *http.Server
	ln       net.Listener
	ready    atomic.Bool
	done     chan error

	txTokens tokenLocks        // TransactWriteItems ClientRequestToken serialization
	ttl      *store.TTLSweeper // nil when disabled

	shutdownOnce sync.Once
	shutdownErr  error
}

// New opens the store and builds the server; Start begins serving.
func New(opts Options) (*Server, error) {
	opts.EnsureDefaults()
	db, err := store.Open(store.Options{Dir: opts.DataDir, InMemory: opts.InMemory, NoSync: opts.NoSync,
		WALMinSyncInterval: max(opts.WALMinSyncInterval, 0)})
	if err != nil {
		return nil, err
	}
	so := opts.Streams
	if so.Region == "" {
		so.Region = opts.Region
	}
	if so.AccountID == "" {
		so.AccountID = opts.AccountID
	}
	log, err := streams.Open(db, so)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.RegisterChangeLog(log)
	s := &Server{opts: opts, db: db, log: log, mux: http.NewServeMux(), done: make(chan error, 1)}
	s.ops = map[string]opFunc{}
	s.registerTableOps()
	s.registerItemOps()
	s.registerReadOps()
	s.registerStreamOps()
	s.registerBatchOps()
	s.registerTransactOps()
	s.registerTTLOps()
	s.registerPartiQLOps()
	if err := s.startTriggers(); err != nil {
		log.Close()
		db.Close()
		return nil, err
	}
	s.ttl = db.StartTTLSweeper(opts.TTLSweepInterval)
	db.ResumeBackfills()
	s.mux.HandleFunc("/healthz", s.healthz)
	s.mux.HandleFunc("/", s.serveRPC)
	s.http = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	return s, nil
}

// Handle mounts another handler (the Lambda API, metrics) on the server's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// DB returns the storage engine.
func (s *Server) DB() *store.DB { return s.db }

// Options returns the effective options.
func (s *Server) Options() Options { return s.opts }

// Start listens and serves in the background; /healthz answers 200 once it
// returns.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("api: listen %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	s.ready.Store(true)
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr returns the address the server listens on (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns http://addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Shutdown stops accepting connections, lets requests in flight finish
// (bounded by ShutdownTimeout or ctx), then closes the store cleanly.
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
	}
	s.ttl.Stop()
	if s.mappings != nil {
		if err := s.mappings.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.dlq != nil {
		_ = s.dlq.Close()
	}
	if err := s.log.Close(); err != nil {
		errs = append(errs, err)
	}
	if s.triggers != nil {
		if err := s.triggers.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Amzn-Requestid"] = []string{newRequestID()}
	if r.Method != http.MethodPost {
		if r.URL.Path == "/" && r.Method == http.MethodGet {
			// DynamoDB answers a GET / with a health text; so do we.
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("healthy: eddy\n"))
			return
		}
		// DynamoDB answers other methods with a bare XML 404.
		body := []byte("<UnknownOperationException/>\n")
		w.Header()["X-Amz-Crc32"] = []string{strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)}
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(body)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	var op string
	switch {
	case strings.HasPrefix(target, targetDynamoDB):
		op = target[len(targetDynamoDB):]
	case strings.HasPrefix(target, targetStreams):
		op = "Streams." + target[len(targetStreams):]
	}
	f := s.ops[op]
	if f == nil {
		writeError(w, ddberr.New(ddberr.KindUnknownOperation, ""))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	c := &call{op: op, body: body, principal: principalOf(r)}
	resp, err := s.dispatch(r.Context(), f, c)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
	c.recycle(resp)
}

// dispatch runs a handler and renders its response body; a panic in a
// handler becomes an InternalServerError instead of a dropped connection.
func (s *Server) dispatch(ctx context.Context, f opFunc, c *call) (body []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ddberr.New(ddberr.KindInternal, "")
			body = nil
		}
	}()
	out, err := f(ctx, c)
	if err != nil {
		return nil, err
	}
	switch o := out.(type) {
	case rawJSON:
		return o, nil
	case nil:
		return []byte("{}"), nil
	}
	return json.Marshal(out)
}

// Call runs a DynamoDB operation in process, with the same validation and
// semantics as over HTTP: the trigger host's table functions use it. The
// error, if any, is a *ddberr.Error.
func (s *Server) Call(ctx context.Context, op string, req []byte, principal string) ([]byte, error) {
	f := s.ops[op]
	if f == nil || strings.HasPrefix(op, "Streams.") {
		return nil, ddberr.New(ddberr.KindUnknownOperation, "")
	}
	return s.dispatch(ctx, f, &call{op: op, body: req, principal: principal})
}
