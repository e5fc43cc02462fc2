package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/relay"
	"github.com/eddydb/eddy/triggers"
)

// Options are a worker's settings. Zero values take the defaults.
type Options struct {
	// NATS is the NATS server's URL (the one eddy's relay publishes to).
	// Required.
	NATS string
	// Control is eddy's URL (http://eddy:8000). Required.
	Control string
	// Region is the region of the subjects and of the requests' signatures.
	// Default us-east-1.
	Region string
	// Credentials sign the requests to eddy (SigV4); nil: unsigned (an
	// eddy without credentials, on loopback).
	Credentials *aws.Credentials
	// Stream and SubjectPrefix are the relay's (relay.Options). Defaults
	// "EDDY" and "eddy".
	Stream, SubjectPrefix string
	// PollInterval is how often the worker asks eddy for its mappings and
	// JetStream for a mapping's shards. Default 1s.
	PollInterval time.Duration
	// AckWait is the consumers' AckWait: a dead worker's records are
	// redelivered after it. Default 10s.
	AckWait time.Duration
	// PinnedTTL is how long a lane stays pinned to a worker that stopped
	// pulling. Default 5s.
	PinnedTTL time.Duration
	// FetchWait bounds one pull when the mapping has no batching window:
	// a batch goes when BatchSize records came or FetchWait passed.
	// Default 100ms.
	FetchWait time.Duration
	// RetryBackoff is the first wait after a failure talking to eddy or
	// NATS, doubling to 10 times it. Default 200ms.
	RetryBackoff time.Duration
	// Host tunes the trigger host (timeouts, limits, TrustedCode). Region
	// is the worker's.
	Host triggers.Options
	// BeforeCommit, when set, runs before each commit a lane sends to eddy
	// (tests use it to kill a worker between its handler and its commit).
	BeforeCommit func(mapping, shard string)
	// Logger: default slog.Default().
	Logger *slog.Logger
	// HTTPClient talks to eddy. Default: a client with a 60 s timeout.
	HTTPClient *http.Client
}

func (o *Options) ensureDefaults() error {
	if o.NATS == "" || o.Control == "" {
		return errors.New("worker: --nats and --control are required")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Stream == "" {
		o.Stream = "EDDY"
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = "eddy"
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.AckWait <= 0 {
		o.AckWait = 10 * time.Second
	}
	if o.PinnedTTL <= 0 {
		o.PinnedTTL = 5 * time.Second
	}
	if o.FetchWait <= 0 {
		o.FetchWait = 100 * time.Millisecond
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	o.Control = strings.TrimRight(o.Control, "/")
	o.Host.Region = o.Region
	return nil
}

// Worker runs the mappings eddy marks for workers. Create with Run.
type Worker struct {
	opts Options
	c    *control
	js   jetstream.JetStream
	host *triggers.Host
	log  *slog.Logger

	mu   sync.Mutex
	runs map[string]*mappingRun // by UUID
}

// mappingRun is one mapping running on this worker.
type mappingRun struct {
	m     mappings.WorkerMapping
	key   string           // what restarts it when it changes
	local string           // the function's name on the worker's host
	keep  mappings.Filters // m.FilterCriteria
	group *lifecycle.Group // nil: not run (unsupported)
}

// Run runs a worker until ctx ends.
func Run(ctx context.Context, opts Options) error {
	if err := opts.ensureDefaults(); err != nil {
		return err
	}
	nc, err := nats.Connect(opts.NATS, nats.Name("eddy worker"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("worker: NATS: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	c := &control{base: opts.Control, region: opts.Region, creds: opts.Credentials, hc: opts.HTTPClient}
	host, err := triggers.New(triggers.Deps{DB: newMemKV(), Tables: tables{c}, Logger: opts.Logger}, opts.Host)
	if err != nil {
		return err
	}
	defer host.Close()
	w := &Worker{opts: opts, c: c, js: js, host: host, log: opts.Logger, runs: map[string]*mappingRun{}}
	defer w.stopAll()
	w.log.Info("worker started", "nats", opts.NATS, "control", opts.Control)
	failing := ""
	for {
		err := w.sync(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && err.Error() != failing:
			w.log.Error("reading the mappings from eddy", "error", err)
			failing = err.Error()
		case err == nil && failing != "":
			w.log.Info("reading the mappings from eddy again")
			failing = ""
		}
		if !lifecycle.Sleep(ctx, opts.PollInterval) {
			return nil
		}
	}
}

// sync starts, restarts and stops mapping runs to match eddy's list.
func (w *Worker) sync(ctx context.Context) error {
	ms, err := w.c.mappings(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range ms {
		m := ms[i]
		seen[m.UUID] = true
		key := runKey(&m)
		w.mu.Lock()
		r := w.runs[m.UUID]
		w.mu.Unlock()
		if r != nil && r.key == key {
			continue
		}
		if r != nil {
			w.stop(r)
		}
		if why := unsupported(&m); why != "" {
			w.log.Error("event source mapping not run on workers", "uuid", m.UUID, "reason", why)
			w.mu.Lock()
			w.runs[m.UUID] = &mappingRun{m: m, key: key}
			w.mu.Unlock()
			continue
		}
		r, err := w.start(ctx, m, key)
		if err != nil {
			w.log.Error("starting an event source mapping", "uuid", m.UUID, "function", m.Function, "error", err)
			continue
		}
		w.mu.Lock()
		w.runs[m.UUID] = r
		w.mu.Unlock()
	}
	w.mu.Lock()
	var gone []*mappingRun
	for id, r := range w.runs {
		if !seen[id] {
			gone = append(gone, r)
			delete(w.runs, id)
		}
	}
	w.mu.Unlock()
	for _, r := range gone {
		w.stop(r)
	}
	return nil
}

// runKey changes whenever the mapping or its function does.
func runKey(m *mappings.WorkerMapping) string {
	return fmt.Sprintf("%v|%s|%s|%s|%d|%d|%v|%d|%d|%d|%v|%v", m.LastModified, m.CodeHash, m.Handler, m.Qualifier, m.TimeoutMs, m.MemoryMB,
		m.Environment, m.BatchSize, m.MaximumRetryAttempts, m.MaximumRecordAgeInSeconds, m.BisectBatchOnFunctionError, m.FunctionResponseTypes)
}

// unsupported says why a mapping cannot run on a worker ("" when it can).
func unsupported(m *mappings.WorkerMapping) string {
	switch {
	case m.TumblingWindowInSeconds > 0:
		return "tumbling windows are not supported on workers"
	case m.ParallelizationFactor > 1:
		return "ParallelizationFactor > 1 is not supported on workers (one lane per shard)"
	case m.Table == "":
		return "its event source is not a table's stream"
	}
	return ""
}

// start deploys the mapping's function on the worker's host and starts
// watching its shards.
func (w *Worker) start(ctx context.Context, m mappings.WorkerMapping, key string) (*mappingRun, error) {
	keep, err := mappings.CompileFilters(m.FilterCriteria)
	if err != nil { // eddy refuses such filters: the mapping is corrupt
		return nil, err
	}
	code, err := w.c.code(ctx, &m)
	if err != nil {
		return nil, fmt.Errorf("fetching the code of %s: %w", m.Function, err)
	}
	sum := sha256.Sum256([]byte(key + m.UUID))
	local := "w-" + hex.EncodeToString(sum[:12])
	_ = w.host.DeleteFunction(local, "")
	if _, err := w.host.CreateFunction(ctx, triggers.FunctionSpec{Name: local, Code: code, Handler: m.Handler,
		Timeout: time.Duration(m.TimeoutMs) * time.Millisecond, MemoryMB: m.MemoryMB, Environment: m.Environment}); err != nil {
		return nil, fmt.Errorf("deploying %s: %w", m.Function, err)
	}
	r := &mappingRun{m: m, key: key, local: local, keep: keep, group: lifecycle.New(context.Background(), "mapping "+m.UUID, w.log)}
	r.group.Go("shards", func(ctx context.Context) { w.watchShards(ctx, r) })
	w.log.Info("running event source mapping", "uuid", m.UUID, "function", m.Function, "table", m.Table)
	return r, nil
}

func (w *Worker) stop(r *mappingRun) {
	if r.group != nil {
		r.group.Stop()
	}
	if r.local != "" {
		_ = w.host.DeleteFunction(r.local, "")
	}
}

func (w *Worker) stopAll() {
	w.mu.Lock()
	runs := w.runs
	w.runs = map[string]*mappingRun{}
	w.mu.Unlock()
	for _, r := range runs {
		w.stop(r)
	}
}

// subject is the relay's subject of a table's shard ("*": all shards).
func (w *Worker) subject(table, shard string) string {
	return w.opts.SubjectPrefix + "." + relay.Token(w.opts.Region) + "." + relay.Token(table) + "." + shard
}

// watchShards starts a lane for each shard of the mapping's table found
// in the JetStream stream, until ctx ends.
func (w *Worker) watchShards(ctx context.Context, r *mappingRun) {
	lanes := map[string]bool{}
	all := w.subject(r.m.Table, "*")
	prefix := strings.TrimSuffix(all, "*")
	for ctx.Err() == nil {
		st, err := w.js.Stream(ctx, w.opts.Stream)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(ctx, jetstream.WithSubjectFilter(all)); err == nil {
				for subj := range info.State.Subjects {
					shard := strings.TrimPrefix(subj, prefix)
					if lanes[shard] {
						continue
					}
					lanes[shard] = true
					l := &lane{w: w, r: r, shard: shard, subj: subj}
					r.group.Go("lane "+shard, l.run)
				}
			}
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			w.log.Warn("listing a mapping's shards", "uuid", r.m.UUID, "error", err)
		}
		if !lifecycle.Sleep(ctx, w.opts.PollInterval) {
			return
		}
	}
}
