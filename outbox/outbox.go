package outbox

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// Errors of the sink operations.
var (
	ErrNotFound = errors.New("outbox: no such sink")
	ErrExists   = errors.New("outbox: a sink of that name exists")
	// ErrInvalid wraps a configuration the outbox or the sink's kind
	// refuses.
	ErrInvalid = errors.New("invalid sink")
)

// Options are the outbox's settings.
type Options struct {
	// Dir holds each sink's own directory (Env.Dir); "" keeps targets'
	// state in memory (eddy serve --in-memory).
	Dir    string
	Logger *slog.Logger
	// RetryBackoff is the first wait after a failed delivery, doubling up
	// to MaxRetryBackoff (defaults 200ms and 30s).
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// DeliverTimeout bounds one Deliver call (default 60s).
	DeliverTimeout time.Duration
	Now            func() time.Time
	// ScanTable reads a page of region's table (empty region: the
	// server's default) for a replication's snapshot (the server: a
	// consistent Scan through the DynamoDB API). Nil: snapshots do not run.
	ScanTable func(ctx context.Context, region, table string, start json.RawMessage) (ScanPage, error)
	// Settled waits until every write whose stream record has a sequence
	// number up to seq has committed or failed (streams.Log.Settled).
	Settled func(ctx context.Context, seq uint64) error
}

// Outbox holds every sink: their configurations, their undelivered
// documents, and one delivery loop each. Safe for concurrent use.
type Outbox struct {
	db   *store.DB
	ks   store.KeySpace
	open Opener
	opts Options
	log  *slog.Logger
	g    *lifecycle.Group

	mu        sync.Mutex // guards sinks, lastID and configuration changes
	sinks     map[string]*sink
	lastID    uint64
	closed    bool
	snapshots map[string]context.CancelFunc // running replication snapshots
}

// record is a sink as stored ('c' keys).
type record struct {
	ID      uint64    `json:"ID"`
	Config  Config    `json:"Config"`
	Created time.Time `json:"Created"`
}

// Open loads the sinks stored in db, opens their targets through open and
// starts their delivery loops. Documents left by sinks that no longer
// exist are dropped. A sink whose target cannot be opened (a bad setting
// stored by an older version) is logged and left stopped: it can still be
// described and removed.
func Open(db *store.DB, open Opener, opts Options) (*Outbox, error) {
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 200 * time.Millisecond
	}
	if opts.MaxRetryBackoff <= 0 {
		opts.MaxRetryBackoff = 30 * time.Second
	}
	if opts.DeliverTimeout <= 0 {
		opts.DeliverTimeout = 60 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	o := &Outbox{db: db, ks: db.KeySpace(store.SpaceOutbox), open: open, opts: opts,
		log: lifecycle.Or(opts.Logger).With("component", "outbox"), sinks: map[string]*sink{},
		snapshots: map[string]context.CancelFunc{}}
	o.g = lifecycle.New(context.Background(), "outbox", o.log)
	var recs []record
	err := o.ks.Scan([]byte{tagConfig}, []byte{tagConfig + 1}, func(_, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("outbox: a stored sink is corrupt: %v", err)
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v, ok, err := o.ks.Get([]byte{tagLastID}); err != nil {
		return nil, err
	} else if ok && len(v) == 8 {
		o.lastID = binary.BigEndian.Uint64(v)
	}
	live := map[uint64]bool{}
	for _, r := range recs {
		live[r.ID] = true
	}
	if err := o.dropOrphans(live); err != nil {
		return nil, err
	}
	for _, r := range recs {
		s, err := o.start(r)
		if err != nil {
			o.Close()
			return nil, err
		}
		o.sinks[r.Config.Name] = s
	}
	reps, err := o.Replications()
	if err != nil {
		o.Close()
		return nil, err
	}
	for _, r := range reps {
		if r.Snapshot != nil && !r.Snapshot.Done {
			o.StartSnapshot(r.UUID)
		}
	}
	return o, nil
}

// dropOrphans deletes the documents and state of sink IDs not in live.
func (o *Outbox) dropOrphans(live map[uint64]bool) error {
	var dead []uint64
	for _, tag := range []byte{tagDoc, tagRejected, tagState} {
		var last uint64
		seen := false
		err := o.ks.Scan([]byte{tag}, []byte{tag + 1}, func(k, _ []byte) error {
			if len(k) < 9 {
				return nil
			}
			id := idOf(k)
			if (!seen || id != last) && !live[id] {
				dead = append(dead, id)
			}
			last, seen = id, true
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(dead) == 0 {
		return nil
	}
	b := o.ks.NewBatch()
	defer b.Close()
	for _, id := range dead {
		if err := o.deleteSinkKeys(b, id); err != nil {
			return err
		}
	}
	o.log.Info("dropped the documents of removed sinks", "sinks", len(dead))
	return b.Commit(true)
}

func (o *Outbox) deleteSinkKeys(b *store.Batch, id uint64) error {
	lo, hi := docSpan(tagDoc, id)
	rlo, rhi := docSpan(tagRejected, id)
	return errors.Join(o.ks.DeleteRange(b, lo, hi), o.ks.DeleteRange(b, rlo, rhi), o.ks.Delete(b, stateKey(id)))
}

// dir is the directory of sink r ("" in memory).
func (o *Outbox) dir(r record) string {
	if o.opts.Dir == "" {
		return ""
	}
	return filepath.Join(o.opts.Dir, fmt.Sprintf("%s-%d", r.Config.Name, r.ID))
}

// start opens r's target and starts its loop. A target that cannot be
// opened leaves the sink stopped (described with the error), not an error
// of Open.
func (o *Outbox) start(r record) (*sink, error) {
	s, err := newSink(o, r)
	if err != nil {
		return nil, err
	}
	dir := o.dir(r)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			s.setBroken(err)
			return s, nil
		}
	}
	t, err := o.open(r.Config, Env{Dir: dir, Logger: o.log.With("sink", r.Config.Name)})
	if err != nil {
		o.log.Error("sink cannot be opened; it is stopped", "sink", r.Config.Name, "err", err)
		s.setBroken(err)
		return s, nil
	}
	s.target = t
	if !o.g.Go("sink "+r.Config.Name, s.loop) {
		close(s.done) // the outbox is closing
	}
	return s, nil
}

// normalize checks cfg and fills its defaults.
func normalize(cfg *Config) error {
	if !validName(cfg.Name) {
		return fmt.Errorf("outbox: sink name %q: 1 to 64 of A-Z a-z 0-9 _ . -", cfg.Name)
	}
	if cfg.BatchSize < 0 || cfg.BatchSize > 10000 {
		return fmt.Errorf("outbox: sink %s: BatchSize must be 1 to 10000", cfg.Name)
	}
	if cfg.BatchBytes < 0 || cfg.BatchBytes > 100<<20 {
		return fmt.Errorf("outbox: sink %s: BatchBytes must be up to 100 MiB", cfg.Name)
	}
	if cfg.MaxBacklog < 0 {
		return fmt.Errorf("outbox: sink %s: MaxBacklog must not be negative", cfg.Name)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 500
	}
	if cfg.BatchBytes == 0 {
		cfg.BatchBytes = 5 << 20
	}
	if cfg.MaxBacklog == 0 {
		cfg.MaxBacklog = 100000
	}
	return nil
}

// Create adds a sink and starts delivering to it. The target's settings
// are checked (the Opener) before anything is stored.
func (o *Outbox) Create(cfg Config) (Status, error) {
	if err := normalize(&cfg); err != nil {
		return Status{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return Status{}, errors.New("outbox: closed")
	}
	if _, ok := o.sinks[cfg.Name]; ok {
		return Status{}, fmt.Errorf("%w: %s", ErrExists, cfg.Name)
	}
	return o.createLocked(cfg)
}

func (o *Outbox) createLocked(cfg Config) (Status, error) {
	if err := o.validate(cfg); err != nil {
		return Status{}, err
	}
	r := record{ID: o.lastID + 1, Config: cfg, Created: o.opts.Now().UTC()}
	v, err := json.Marshal(r)
	if err != nil {
		return Status{}, err
	}
	var idb [8]byte
	binary.BigEndian.PutUint64(idb[:], r.ID)
	b := o.ks.NewBatch()
	defer b.Close()
	if err := errors.Join(o.ks.Set(b, configKey(cfg.Name), v), o.ks.Set(b, []byte{tagLastID}, idb[:]),
		o.deleteSinkKeys(b, r.ID)); err != nil {
		return Status{}, err
	}
	if err := b.Commit(true); err != nil {
		return Status{}, err
	}
	o.lastID = r.ID
	s, err := o.start(r)
	if err != nil {
		return Status{}, err
	}
	o.sinks[cfg.Name] = s
	o.log.Info("sink created", "sink", cfg.Name, "kind", cfg.Kind)
	return s.status(), nil
}

// validate checks cfg with its kind's Opener, which must not contact the
// target, and closes the target it made.
func (o *Outbox) validate(cfg Config) error {
	t, err := o.open(cfg, Env{Logger: o.log.With("sink", cfg.Name)})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := t.Close(); err != nil {
		o.log.Warn("closing a sink's validation target", "sink", cfg.Name, "err", err)
	}
	return nil
}

// Ensure creates the sink cfg, or updates a sink of that name whose
// configuration differs (keeping its undelivered documents): what a
// --sink flag does at every start.
func (o *Outbox) Ensure(cfg Config) error {
	if err := normalize(&cfg); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	cur, ok := o.sinks[cfg.Name]
	if !ok {
		_, err := o.createLocked(cfg)
		return err
	}
	if reflect.DeepEqual(cur.rec.Config, cfg) {
		return nil
	}
	if err := o.validate(cfg); err != nil {
		return err
	}
	r := cur.rec
	r.Config = cfg
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b := o.ks.NewBatch()
	defer b.Close()
	if err := o.ks.Set(b, configKey(cfg.Name), v); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	cur.stop()
	s, err := o.start(r)
	if err != nil {
		return err
	}
	o.sinks[cfg.Name] = s
	o.log.Info("sink updated", "sink", cfg.Name, "kind", cfg.Kind)
	return nil
}

// Delete removes a sink: its loop stops, its target is closed, and its
// undelivered and rejected documents and its directory are deleted.
func (o *Outbox) Delete(name string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.sinks[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	reps, err := o.Replications()
	if err != nil {
		return err
	}
	for _, r := range reps {
		if r.Sink == name {
			return fmt.Errorf("%w: replication %s (table %s) feeds sink %s; remove it first (eddy replicate --remove %s)", ErrInUse, r.UUID, r.Table, name, r.UUID)
		}
	}
	s.stop()
	b := o.ks.NewBatch()
	defer b.Close()
	if err := errors.Join(o.ks.Delete(b, configKey(name)), o.deleteSinkKeys(b, s.rec.ID)); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	delete(o.sinks, name)
	if dir := o.dir(s.rec); dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			o.log.Warn("removing a deleted sink's directory", "sink", name, "err", err)
		}
	}
	o.log.Info("sink removed", "sink", name, "undelivered", s.backlog())
	return nil
}

// List returns the status of every sink, by name.
func (o *Outbox) List() []Status {
	o.mu.Lock()
	ss := make([]*sink, 0, len(o.sinks))
	for _, s := range o.sinks {
		ss = append(ss, s)
	}
	o.mu.Unlock()
	out := make([]Status, len(ss))
	for i, s := range ss {
		out[i] = s.status()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Describe returns the status of sink name.
func (o *Outbox) Describe(name string) (Status, error) {
	s := o.get(name)
	if s == nil {
		return Status{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return s.status(), nil
}

func (o *Outbox) get(name string) *sink {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sinks[name]
}

// Search queries sink name, which must be a Searcher (the embedded index).
func (o *Outbox) Search(ctx context.Context, name string, body []byte) ([]byte, error) {
	s := o.get(name)
	if s == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	sr, ok := s.target.(Searcher)
	if !ok {
		return nil, &SearchError{Status: 400, Type: "illegal_argument_exception",
			Reason: fmt.Sprintf("sink %s is of kind %s, which cannot be searched (kind search can)", name, s.rec.Config.Kind)}
	}
	return sr.Search(ctx, body)
}

// Rejected returns up to limit documents sink name rejected, oldest first.
func (o *Outbox) Rejected(name string, limit int) ([]Rejection, error) {
	s := o.get(name)
	if s == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	var out []Rejection
	lo, hi := docSpan(tagRejected, s.rec.ID)
	errStop := errors.New("stop")
	err := o.ks.Scan(lo, hi, func(k, v []byte) error {
		if len(out) >= limit {
			return errStop
		}
		var e entry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		out = append(out, Rejection{Seq: seqOf(k), Op: e.Op, ID: e.ID, Version: e.Version, Table: e.Table, Doc: e.Doc, Reason: e.Reason, At: e.At})
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}

// Rejection is a document a sink's target refused for good.
type Rejection struct {
	Seq     uint64          `json:"Seq"`
	Op      Op              `json:"Op"`
	ID      string          `json:"Id"`
	Version uint64          `json:"Version"`
	Table   string          `json:"Table,omitempty"`
	Doc     json.RawMessage `json:"Doc,omitempty"`
	Reason  string          `json:"Reason"`
	At      string          `json:"At"`
}

// Close stops every loop and closes the targets. Documents not delivered
// stay in the outbox for the next Open.
func (o *Outbox) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	for _, cancel := range o.snapshots {
		cancel()
	}
	ss := make([]*sink, 0, len(o.sinks))
	for _, s := range o.sinks {
		ss = append(ss, s)
	}
	o.mu.Unlock()
	var errs []error
	for _, s := range ss {
		errs = append(errs, s.stop())
	}
	o.g.Stop()
	return errors.Join(errs...)
}
