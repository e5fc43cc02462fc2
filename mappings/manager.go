package mappings

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/uuid"
	"github.com/eddydb/eddy/outbox"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"
)

// Deps are what a Manager works with, owned by its caller (the server
// opens them before New and closes them after Close).
type Deps struct {
	// DB is the store the checkpoints, mappings and buffered handler writes
	// commit to. Required.
	DB *store.DB
	// Log is the change log the mappings read. Required.
	Log *streams.Log
	// Host runs the functions. Required.
	Host *triggers.Host
	// DLQ is the dead-letter store discarded batches are appended to (in
	// the checkpoint's batch). Default: a store opened on DB with
	// dlq.Options{} and not started (no external delivery, no trimming).
	DLQ *dlq.Store
	// Logger is where background failures are logged (a mapping's change
	// between OK and failing, a recovered panic); nil discards.
	Logger *slog.Logger
	// Builtins are the host-side handlers a mapping may name instead of a
	// function: FunctionName "eddy.NAME[:QUALIFIER]" (a dot cannot appear
	// in a Lambda function name, so no user function is shadowed). Nil:
	// none.
	Builtins func(name string) (Builtin, bool)
	// Outbox receives the documents handlers emit during stream
	// invocations, committed with the checkpoint. Nil: emits go wherever
	// the host's triggers.Sinks sends them, and are not buffered.
	Outbox *outbox.Outbox
	// Metrics is where the mappings' metrics are registered (the server's
	// one registry, served at GET /metrics). Nil: a private registry no one
	// scrapes.
	Metrics prometheus.Registerer
	// Remote returns the Source of a stream another endpoint serves (a
	// DynamoDB Streams API: package mappings/remote), ok false when
	// streamArn is not such a stream: it is then eddy's own. Nil: every
	// stream is eddy's.
	Remote func(streamArn string) (src Source, ok bool)
}

// source returns the Source of a stream ARN and whether it is remote.
func (m *Manager) source(streamArn string) (Source, bool) {
	if m.deps.Remote != nil {
		if s, ok := m.deps.Remote(streamArn); ok {
			return s, true
		}
	}
	return localSource{log: m.deps.Log, arn: streamArn}, false
}

// Options are a Manager's settings. Zero values take the documented
// defaults.
type Options struct {
	// RetryBackoff is the first wait after a failed invocation; it doubles
	// per retry up to MaxRetryBackoff. Defaults 100ms and 10s. Tests shrink
	// both.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// ShardPollInterval is how often a running mapping looks for new shards
	// (rollover, splits) and for its stream being disabled. Records
	// themselves are never polled for: readers wake on commit. Default 1s.
	ShardPollInterval time.Duration
	// MaxPayload caps one invocation's event. Default 6 MiB (Lambda's).
	MaxPayload int
	// Now is the clock for record ages and timestamps. Default time.Now.
	Now func() time.Time
	// OnWorkers reports whether the mappings of a function run on remote
	// trigger workers (workers.go) instead of in this process. Nil: none.
	OnWorkers func(function string) bool
}

func (o *Options) ensureDefaults() {
	if o.RetryBackoff == 0 {
		o.RetryBackoff = 100 * time.Millisecond
	}
	if o.MaxRetryBackoff == 0 {
		o.MaxRetryBackoff = 10 * time.Second
	}
	if o.ShardPollInterval == 0 {
		o.ShardPollInterval = time.Second
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = 6 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate(d *Deps) error {
	var errs []error
	if d.DB == nil || d.Log == nil || d.Host == nil {
		errs = append(errs, errors.New("mappings: Deps.DB, Log and Host are required"))
	}
	if o.RetryBackoff < 0 || o.MaxRetryBackoff < o.RetryBackoff {
		errs = append(errs, errors.New("mappings: need 0 <= RetryBackoff <= MaxRetryBackoff"))
	}
	return errors.Join(errs...)
}

// Manager owns the event source mappings: their configuration (persisted in
// its key space), one runner per enabled mapping, and the metrics. It is safe for
// concurrent use. Create with New, stop with Close (before the trigger host
// and the store close).
//
// Lock order: Manager.mu → shardWorker.mu. Manager.mu is never held while
// a function runs or a batch commits.
type Manager struct {
	deps    Deps
	opts    Options
	ks      keySpaces
	metrics *metrics
	log     *slog.Logger

	mu     sync.Mutex
	closed bool
	maps   map[string]*entry
}

type entry struct {
	cfg     Configuration
	filters []*filter // cfg.FilterCriteria, compiled by setConfig
	badCfg  error     // a stored filter that does not compile
	run     *runner
	lastErr string  // the last failure's text of a runner that ended
	series  *series // the last hour's activity, across runner restarts (seriesOf)
}

// setConfig sets e's configuration and compiles its filters once, for its
// runner and its redrives.
func (e *entry) setConfig(c Configuration) {
	e.cfg = c
	e.filters, e.badCfg = compileFilters(c.FilterCriteria)
}

// New loads the stored mappings and starts the enabled ones; each resumes
// from its checkpoints.
func New(deps Deps, opts Options) (*Manager, error) {
	opts.ensureDefaults()
	if err := opts.validate(&deps); err != nil {
		return nil, err
	}
	if deps.DLQ == nil {
		q, err := dlq.Open(deps.DB, dlq.Options{})
		if err != nil {
			return nil, err
		}
		deps.DLQ = q
	}
	m := &Manager{deps: deps, opts: opts, ks: newKeySpaces(deps.DB), metrics: newMetrics(deps.Metrics), log: lifecycle.Or(deps.Logger), maps: map[string]*entry{}}
	loaded, err := loadMappings(m.ks.mappings)
	if err != nil {
		return nil, err
	}
	for id, s := range loaded {
		c := s.Configuration
		c.FunctionName, c.Qualifier, c.Enabled = s.Function, s.Qual, s.IsEnabled
		// Mappings saved by earlier versions: no ARN, eddy's old reason.
		if c.EventSourceMappingArn == "" {
			c.EventSourceMappingArn = m.mappingArn(arn.RegionOf(c.EventSourceArn), id)
		}
		if c.StateTransitionReason == "USER_INITIATED" {
			c.StateTransitionReason = userAction
		}
		c.normalize()
		e := &entry{lastErr: s.LastError}
		e.setConfig(c)
		m.maps[id] = e
		m.settle(e)
	}
	return m, nil
}

// Close stops every runner, waiting for batches in flight to finish or be
// abandoned (an abandoned batch is redelivered after restart). Idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	var runs []*runner
	for _, e := range m.maps {
		if e.run != nil {
			runs = append(runs, e.run)
			e.run = nil
		}
	}
	m.mu.Unlock()
	for _, r := range runs {
		r.stop()
	}
	return nil
}

// settle starts or stops e's runner to match its configuration and sets
// the resulting State. Caller holds m.mu (or is in New).
func (m *Manager) settle(e *entry) {
	if e.cfg.Enabled && e.run == nil && !m.closed {
		e.cfg.State = StateEnabled
		if m.onWorkers(&e.cfg) {
			return // run by `eddy worker` processes (workers.go)
		}
		if e.badCfg != nil {
			// Create and Update reject such filters: the stored mapping
			// is corrupt. Deliver nothing rather than unfiltered records.
			e.cfg.LastProcessingResult = "PROBLEM: " + e.badCfg.Error()
			m.log.Error("event source mapping not started", "uuid", e.cfg.UUID, "error", e.badCfg)
			return
		}
		e.run = m.startRunner(e.cfg, e.filters, m.seriesOf(e))
		e.run.lastErr = e.lastErr // what it failed with before a restart or an update
	}
	if !e.cfg.Enabled {
		e.cfg.State = StateDisabled
	}
}

// checkFunction reports whether a mapping of region's stream can name
// function name (qualified): a built-in, or a function on the host in that
// region (functions are per region, as Lambda's).
func (m *Manager) checkFunction(region, name, qual string) error {
	if isBuiltin(name) {
		if _, ok := m.builtin(name); !ok {
			return newErr(ErrInvalidParameter, "Function not found: %s", m.functionArn(region, name, qual))
		}
		return nil
	}
	if _, err := m.deps.Host.GetFunction(m.deps.Host.FunctionKey(region, name), qual); err != nil {
		if errors.Is(err, triggers.ErrNotFound) {
			return newErr(ErrInvalidParameter, "Function not found: %s", m.functionArn(region, name, qual))
		}
		return err
	}
	return nil
}

// functionArn is the ARN of a function in region (empty: the host's).
func (m *Manager) functionArn(region, name, qualifier string) string {
	o := m.deps.Host.Options()
	return arn.Account{Region: cmp.Or(region, o.Region), ID: o.Account}.Function(name, qualifier)
}

// mappingArn is a mapping's EventSourceMappingArn
// (arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>), in its
// stream's region.
func (m *Manager) mappingArn(region, uuid string) string {
	o := m.deps.Host.Options()
	return arn.Account{Region: cmp.Or(region, o.Region), ID: o.Account}.Mapping(uuid)
}

// Create validates spec, persists a new mapping (with the LATEST starting
// positions fixed now) and starts it when enabled. The returned
// configuration has State Creating, as Lambda answers.
func (m *Manager) Create(spec *Spec) (Configuration, error) {
	if err := checkSpec(spec, true); err != nil {
		return Configuration{}, err
	}
	if spec.EventSourceArn == nil || *spec.EventSourceArn == "" {
		return Configuration{}, newErr(ErrInvalidParameter, "Unrecognized event source, must be DynamoDB Streams stream ARN.")
	}
	if spec.StartingPosition == nil {
		return Configuration{}, newErr(ErrInvalidParameter, "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null")
	}
	name, qual, err := parseFunction(*spec.FunctionName)
	if err != nil {
		return Configuration{}, err
	}
	region := arn.RegionOf(*spec.EventSourceArn)
	if err := m.checkFunction(region, name, qual); err != nil {
		return Configuration{}, err
	}
	arn := *spec.EventSourceArn
	src, remote := m.source(arn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	info, shs, err := src.Describe(ctx)
	cancel()
	if err != nil {
		if errors.Is(err, streams.ErrStreamNotFound) {
			return Configuration{}, newErr(ErrInvalidParameter, "Stream not found: %s", arn)
		}
		return Configuration{}, err
	}
	if !info.Enabled {
		return Configuration{}, newErr(ErrInvalidParameter, "Stream is disabled: %s", arn)
	}
	id := uuid.New()
	c := Configuration{
		UUID: id, EventSourceMappingArn: m.mappingArn(region, id), FunctionName: name, Qualifier: qual, FunctionArn: m.functionArn(region, name, qual),
		EventSourceArn: arn, StartingPosition: *spec.StartingPosition,
		BatchSize: 100, ParallelizationFactor: 1, MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1,
		FunctionResponseTypes: []string{}, Enabled: true,
		StateTransitionReason: userAction, LastProcessingResult: "No records processed",
		LastModified: epoch(m.opts.Now()),
	}
	c.apply(spec)
	c.normalize()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Configuration{}, newErr(ErrClosed, "eddy is shutting down")
	}
	for _, e := range m.maps {
		if e.cfg.EventSourceArn == arn && e.cfg.FunctionArn == c.FunctionArn {
			return Configuration{}, newErr(ErrConflict, "The event source arn (\" %s \") and function (\" %s \") provided mapping already exists. Please update or delete the existing mapping with UUID %s", arn, name, e.cfg.UUID)
		}
	}
	b := m.deps.DB.NewBatch()
	defer b.Close()
	if c.StartingPosition == "LATEST" {
		if err := m.latestPositions(b, c.UUID, c.ParallelizationFactor, shs, remote); err != nil {
			return Configuration{}, err
		}
	}
	if err := saveMapping(m.ks, b, &c, ""); err != nil {
		return Configuration{}, err
	}
	if err := b.Commit(true); err != nil {
		return Configuration{}, err
	}
	e := &entry{}
	e.setConfig(c)
	m.maps[c.UUID] = e
	m.settle(e)
	out := e.cfg
	out.State = StateCreating
	return out, nil
}

// latestPositions writes checkpoints at the current end of every open
// shard and marks the closed ones finished, so the mapping starts with the
// records written after it was created. A remote shard's end is not known
// until it is read: its lanes start at LatestText, which their reader turns
// into a LATEST iterator when it starts.
func (m *Manager) latestPositions(b *store.Batch, uuid string, factor int, shs []shards.Info, remote bool) error {
	for _, sh := range shs {
		if sh.Closed {
			if err := m.ks.checkpoints.Set(b, ckptKey(uuid, sh.ID, laneDone), nil); err != nil {
				return err
			}
			continue
		}
		end := Position{Text: LatestText}
		if !remote {
			seq, err := m.watermark(sh)
			if err != nil {
				return err
			}
			end = Position{Seq: seq}
		}
		for l := 0; l < factor; l++ {
			if err := m.ks.checkpoints.Set(b, ckptKey(uuid, sh.ID, byte(l)), posBytes(end)); err != nil {
				return err
			}
		}
		if err := m.ks.checkpoints.Set(b, ckptKey(uuid, sh.ID, laneFactor), []byte{byte(factor)}); err != nil {
			return err
		}
	}
	return nil
}

// watermark finds a shard's visible end through the Reader alone: Read(x,
// 1) returns no records exactly when nothing visible lies after x, and then
// its Next is max(x, watermark). A binary search over x finds the last
// record (~64 one-record reads).
func (m *Manager) watermark(sh shards.Info) (streams.Seq, error) {
	lo, hi := streams.Seq(sh.Start), streams.Seq(1)<<62
	b, err := m.deps.Log.Read(sh.ID, lo, 1)
	if err == nil && len(b.Records) == 0 {
		return b.Next, nil
	}
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		b, err := m.deps.Log.Read(sh.ID, mid, 1)
		if errors.Is(err, streams.ErrTrimmed) || (err == nil && len(b.Records) > 0) {
			lo = mid
			continue
		}
		if err != nil {
			return 0, err
		}
		hi = mid
	}
	b, err = m.deps.Log.Read(sh.ID, hi, 1)
	if err != nil {
		return 0, err
	}
	return b.Next, nil
}

// Get returns a mapping.
func (m *Manager) Get(uuid string) (Configuration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.maps[uuid]
	if e == nil {
		return Configuration{}, notFound(uuid)
	}
	return m.view(e), nil
}

// NotFound is the error of a mapping that does not exist (or is not
// visible from the caller's region).
func NotFound(uuid string) error { return notFound(uuid) }

func notFound(uuid string) error {
	return newErr(ErrNotFound, "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: %s)", uuid)
}

// view is e's configuration with the runner's latest processing result.
// Caller holds m.mu.
func (m *Manager) view(e *entry) Configuration {
	c := e.cfg
	if e.run != nil {
		if r, _ := e.run.lastResult(); r != "" {
			c.LastProcessingResult = r
		}
	}
	c.FunctionResponseTypes = slices.Clone(c.FunctionResponseTypes)
	return c
}

// LastError returns the text of a mapping's last delivery failure
// (errorType: errorMessage of a function error, or the invoke error), kept
// after the mapping recovered; "" if it never failed since it started.
// LastProcessingResult holds only Lambda's fixed values.
func (m *Manager) LastError(uuid string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.maps[uuid]
	if e == nil {
		return "", notFound(uuid)
	}
	if e.run != nil {
		_, le := e.run.lastResult()
		return le, nil
	}
	if e.badCfg != nil {
		return e.badCfg.Error(), nil
	}
	return e.lastErr, nil
}

// List returns region's mappings (those of its streams; every region's
// when empty) of a function (name or ARN; "" for all) and/or a stream ARN
// (source), ordered by UUID.
func (m *Manager) List(region, function, source string) ([]Configuration, error) {
	var fnArn string
	if function != "" {
		name, qual, err := parseFunction(function)
		if err != nil {
			return nil, err
		}
		fnArn = m.functionArn(region, name, qual)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Configuration
	for _, e := range m.maps {
		if fnArn != "" && e.cfg.FunctionArn != fnArn {
			continue
		}
		if source != "" && e.cfg.EventSourceArn != source {
			continue
		}
		if region != "" && arn.RegionOf(e.cfg.EventSourceArn) != region {
			continue
		}
		out = append(out, m.view(e))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UUID < out[j].UUID })
	return out, nil
}

// Update changes a mapping. The runner restarts from its checkpoints with
// the new configuration. Changing ParallelizationFactor restarts each shard
// at its slowest lane (records some lanes already processed may be
// delivered again). FunctionName may name another function or version.
func (m *Manager) Update(uuid string, spec *Spec) (Configuration, error) {
	if err := checkSpec(spec, false); err != nil {
		return Configuration{}, err
	}
	if spec.StartingPosition != nil || spec.EventSourceArn != nil {
		return Configuration{}, newErr(ErrInvalidParameter, "StartingPosition and EventSourceArn can not be updated")
	}
	m.mu.Lock()
	e := m.maps[uuid]
	if e == nil {
		m.mu.Unlock()
		return Configuration{}, notFound(uuid)
	}
	c := e.cfg
	m.mu.Unlock()
	if spec.FunctionName != nil {
		name, qual, err := parseFunction(*spec.FunctionName)
		if err != nil {
			return Configuration{}, err
		}
		if err := m.checkFunction(arn.RegionOf(c.EventSourceArn), name, qual); err != nil {
			return Configuration{}, err
		}
		c.FunctionName, c.Qualifier, c.FunctionArn = name, qual, m.functionArn(arn.RegionOf(c.EventSourceArn), name, qual)
	}
	wasEnabled := c.Enabled
	c.apply(spec)
	c.normalize()
	c.LastModified = epoch(m.opts.Now())
	if spec.Enabled != nil {
		c.StateTransitionReason = userAction
	}
	if c.Enabled {
		c.State = StateEnabled
	} else {
		c.State = StateDisabled
	}

	m.mu.Lock()
	if m.maps[uuid] != e {
		m.mu.Unlock()
		return Configuration{}, notFound(uuid)
	}
	run := e.run
	e.run = nil
	m.mu.Unlock()
	if run != nil {
		run.stop()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if run != nil { // the stopped runner's status carries over
		if r, le := run.lastResult(); r != "" {
			c.LastProcessingResult, e.lastErr = r, le
		}
	}
	b := m.deps.DB.NewBatch()
	defer b.Close()
	if err := saveMapping(m.ks, b, &c, e.lastErr); err != nil {
		return Configuration{}, err
	}
	if err := b.Commit(true); err != nil {
		m.settle(e)
		return Configuration{}, err
	}
	e.setConfig(c)
	m.settle(e)
	out := m.view(e)
	switch {
	case c.Enabled && !wasEnabled:
		out.State = StateEnabling
	case !c.Enabled && wasEnabled:
		out.State = StateDisabling
	case c.Enabled:
		out.State = StateUpdating
	}
	return out, nil
}

// Delete stops a mapping and removes it with its checkpoints (its failure
// records stay). The returned configuration has State Deleting.
func (m *Manager) Delete(uuid string) (Configuration, error) {
	m.mu.Lock()
	e := m.maps[uuid]
	if e == nil {
		m.mu.Unlock()
		return Configuration{}, notFound(uuid)
	}
	delete(m.maps, uuid)
	run := e.run
	e.run = nil
	out := m.view(e)
	m.mu.Unlock()
	if run != nil {
		run.stop()
	}
	b := m.deps.DB.NewBatch()
	defer b.Close()
	if err := m.ks.mappings.Delete(b, mappingKey(uuid)); err != nil {
		return Configuration{}, err
	}
	if err := m.ks.mappings.Delete(b, totalsKey(uuid)); err != nil {
		return Configuration{}, err
	}
	if err := deleteCheckpoints(m.ks, b, uuid); err != nil {
		return Configuration{}, err
	}
	if err := b.Commit(true); err != nil {
		return Configuration{}, err
	}
	m.metrics.forget(uuid, out.FunctionName)
	out.State = StateDeleting
	return out, nil
}

// stopped is called by a runner that ended on its own (its stream was
// disabled or its table deleted, and every shard was read to the end): the
// mapping becomes Disabled with the reason.
func (m *Manager) stopped(r *runner, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.maps[r.cfg.UUID]
	if e == nil || e.run != r {
		return
	}
	e.run = nil
	e.cfg.State = StateDisabled
	e.cfg.Enabled = false
	e.cfg.StateTransitionReason = reason
	e.cfg.LastProcessingResult, e.lastErr = r.lastResult()
	b := m.deps.DB.NewBatch()
	defer b.Close()
	err := saveMapping(m.ks, b, &e.cfg, e.lastErr)
	if err == nil {
		err = b.Commit(true)
	}
	if err != nil { // it runs again after a restart, and stops again
		m.log.Warn("event source mapping stopped, its state not saved", "uuid", e.cfg.UUID, "reason", reason, "err", err)
	}
}

// saveStatus persists a running mapping's LastProcessingResult and last
// error when they change (not per batch), so a restart shows what the
// mapping last did.
func (m *Manager) saveStatus(r *runner) {
	result, lastErr := r.lastResult()
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.maps[r.cfg.UUID]
	if e == nil || e.run != r || m.closed {
		return
	}
	e.cfg.LastProcessingResult, e.lastErr = result, lastErr
	b := m.deps.DB.NewBatch()
	defer b.Close()
	err := saveMapping(m.ks, b, &e.cfg, e.lastErr)
	if err == nil {
		err = b.Commit(true)
	}
	if err != nil {
		m.log.Warn("event source mapping status not saved", "uuid", e.cfg.UUID, "err", err)
	}
}

// Totals count what a mapping has settled since it was created, committed
// with its checkpoints (so exact across crashes and restarts).
type Totals struct {
	// RecordsDelivered: records in batches a successful invocation
	// settled (filtered-out records are not counted).
	RecordsDelivered int64
	// RecordsDeadLettered: records given up on and kept in the dead-letter
	// store.
	RecordsDeadLettered int64
}

// Totals returns a mapping's Totals.
func (m *Manager) Totals(uuid string) (Totals, error) {
	if _, err := m.Get(uuid); err != nil {
		return Totals{}, err
	}
	d, f, err := m.ks.mappings.Counts(totalsKey(uuid))
	return Totals{RecordsDelivered: d, RecordsDeadLettered: f}, err
}

// ShardStatus is a mapping's progress on one shard.
type ShardStatus struct {
	ShardID string
	// Position is the checkpoint: every record at or below it is done
	// (the slowest lane's position when ParallelizationFactor > 1).
	Position string
	// Finished: the shard is closed and read to its end.
	Finished bool
	// PendingRecords counts records after Position (capped at 10000); -1
	// for a remote stream's shard, where counting would read the remote.
	PendingRecords int
	// LagMillis is the age of the oldest pending record (0 if none).
	LagMillis int64
}

// Status reports a mapping's progress per shard, parents first.
func (m *Manager) Status(uuid string) ([]ShardStatus, error) {
	c, err := m.Get(uuid)
	if err != nil {
		return nil, err
	}
	ck, err := loadCheckpoints(m.ks.checkpoints, uuid)
	if err != nil {
		return nil, err
	}
	src, remote := m.source(c.EventSourceArn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, shs, err := src.Describe(ctx)
	cancel()
	if err != nil {
		return nil, err
	}
	now := m.opts.Now()
	var out []ShardStatus
	for _, sh := range shs {
		st := ShardStatus{ShardID: sh.ID}
		pos := Position{Seq: streams.Seq(sh.Start)}
		if k := ck[sh.ID]; k != nil {
			st.Finished = k.done
			if len(k.lanes) > 0 {
				pos = k.minPos()
			}
		}
		st.Position = pos.Seq.String()
		if remote {
			// The wire sequence number; what follows it is not counted
			// (that would read the remote shard).
			st.Position, st.PendingRecords = pos.Text, -1
			out = append(out, st)
			continue
		}
		if !st.Finished {
			// Counted on the keys: decoding up to 10,000 records per shard
			// made a Status poll cost as much as a drain's handler.
			if n, first, err := m.deps.Log.Count(sh.ID, pos.Seq, 10000); err == nil && n > 0 {
				st.PendingRecords, st.LagMillis = n, max(0, now.Sub(first).Milliseconds())
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func (c *shardCkpt) minPos() Position {
	first := true
	var lo Position
	for i, s := range c.lanes {
		if first || s < lo.Seq {
			lo, first = Position{Seq: s, Text: c.texts[i]}, false
		}
	}
	return lo
}

func minLane(l map[int]streams.Seq) streams.Seq {
	first := true
	var lo streams.Seq
	for _, s := range l {
		if first || s < lo {
			lo, first = s, false
		}
	}
	return lo
}

// Marker helpers for the API's paging.
func page[T any](all []T, marker string, maxItems int) ([]T, string, error) {
	from := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(all) {
			return nil, "", newErr(ErrInvalidParameter, "Invalid Marker")
		}
		from = n
	}
	if maxItems <= 0 {
		maxItems = 100
	}
	to := min(len(all), from+maxItems)
	next := ""
	if to < len(all) {
		next = strconv.Itoa(to)
	}
	return all[from:to], next, nil
}

// Page applies Lambda's Marker/MaxItems paging to a List result.
func Page(all []Configuration, marker string, maxItems int) ([]Configuration, string, error) {
	return page(all, marker, maxItems)
}
