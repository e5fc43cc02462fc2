package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// Errors of the relay operations.
var (
	ErrNotFound = errors.New("relay: no relay for that table")
	// ErrInvalid wraps a configuration the relay refuses.
	ErrInvalid = errors.New("invalid relay")
	// ErrNoTable is returned by Options.EnsureStream for a missing table.
	ErrNoTable = errors.New("relay: no such table")
)

// Log is what a relay reads: the change log's streams and shards
// (streams.Log implements it).
type Log interface {
	streams.Reader
	// Streams lists a table's streams, enabled or not.
	Streams(table string) []streams.StreamInfo
	// AppendRecordJSON renders a record as GetRecords does.
	AppendRecordJSON(dst []byte, r *streams.Record) []byte
	// HighWater is the last sequence number given out.
	HighWater() streams.Seq
}

// Options are a relay's settings. Zero values mean the documented defaults.
type Options struct {
	// URL is the NATS server (nats://host:4222, or several separated by
	// commas). When empty, Connect is asked for one the first time a relay
	// needs it (the server's embedded nats-server).
	URL string
	// Connect returns the URL to use when URL is empty; nil: relays stay
	// FAILING with "no NATS server configured".
	Connect func() (string, error)
	// Stream is the JetStream stream the records go to. Default "EDDY".
	// It is created when missing, with the subjects "<SubjectPrefix>.<region>.>",
	// file storage, Duplicates and MaxAge; an existing stream must capture
	// that subject.
	Stream string
	// SubjectPrefix is the first token of every subject. Default "eddy".
	SubjectPrefix string
	// Region is the second token (the server's region). Default "us-east-1".
	Region string
	// Duplicates is the duplicates window of the stream eddy creates: a
	// message whose Nats-Msg-Id was stored within it is dropped. Default
	// 10m: an eddy restarted within 10 minutes of a crash republishes
	// nothing twice. The server keeps every ID of the window in memory
	// (about 100 bytes each).
	Duplicates time.Duration
	// MaxAge is how long the stream eddy creates keeps messages. Default
	// 7 days (168h).
	MaxAge time.Duration
	// MaxInFlight bounds the records of one shard published and not yet
	// acknowledged. Default 1024.
	MaxInFlight int
	// AckTimeout bounds the wait for one acknowledgement. Default 10s.
	AckTimeout time.Duration
	// RetryBackoff is the first wait after a failure, doubling up to
	// MaxRetryBackoff. Defaults 200ms and 10s.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// PollInterval is how often a relay looks for new streams and shards
	// of its table (a finished parent starts its children at once).
	// Default 1s.
	PollInterval time.Duration
	// EnsureStream is called by Enable: it fails with ErrNoTable when the
	// table does not exist, and enables a stream on a table that has none.
	// Nil: Enable checks nothing.
	EnsureStream func(ctx context.Context, table string) error
	Logger       *slog.Logger
	Now          func() time.Time
}

// EnsureDefaults fills in defaults.
func (o *Options) EnsureDefaults() {
	if o.Stream == "" {
		o.Stream = "EDDY"
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = "eddy"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Duplicates == 0 {
		o.Duplicates = 10 * time.Minute
	}
	if o.MaxAge == 0 {
		o.MaxAge = 7 * 24 * time.Hour
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 1024
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = 10 * time.Second
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = 200 * time.Millisecond
	}
	if o.MaxRetryBackoff == 0 {
		o.MaxRetryBackoff = 10 * time.Second
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports every problem with the options at once.
func (o *Options) Validate() error {
	var errs []error
	if strings.ContainsAny(o.Stream, ">*. /\\\t\r\n") {
		errs = append(errs, fmt.Errorf("relay: stream %q: no spaces, '.', '*', '>', '/' or '\\'", o.Stream))
	}
	if !validSubject(o.SubjectPrefix) {
		errs = append(errs, fmt.Errorf("relay: subject prefix %q is not a subject", o.SubjectPrefix))
	}
	if o.Duplicates < 0 || o.MaxAge < 0 || o.AckTimeout < 0 || o.RetryBackoff < 0 || o.MaxRetryBackoff < 0 || o.PollInterval < 0 {
		errs = append(errs, errors.New("relay: durations must not be negative"))
	}
	if o.MaxInFlight < 0 || o.MaxInFlight > 65536 {
		errs = append(errs, errors.New("relay: MaxInFlight must be 1 to 65536"))
	}
	return errors.Join(errs...)
}

func validSubject(s string) bool {
	for _, t := range strings.Split(s, ".") {
		if t == "" || t != Token(t) {
			return false
		}
	}
	return true
}

// Config is one relay, as enabled.
type Config struct {
	Table string `json:"Table"`
	// StartingPosition is TRIM_HORIZON (default: every record the
	// table's streams still hold, then every change) or LATEST (changes
	// from the moment it is enabled).
	StartingPosition string `json:"StartingPosition"`
	// StartAfter: records with a sequence number up to it are skipped
	// (LATEST: the high-water mark when the relay was enabled).
	StartAfter uint64    `json:"StartAfter,omitempty"`
	Created    time.Time `json:"Created"`
}

// Relay runs every table's relay on one NATS connection. Safe for
// concurrent use.
type Relay struct {
	db   *store.DB
	ks   store.KeySpace
	log  Log
	opts Options
	lg   *slog.Logger
	g    *lifecycle.Group

	mu     sync.Mutex // guards tables and closed
	tables map[string]*table
	closed bool

	cmu      sync.Mutex // guards the connection
	nc       *nats.Conn
	js       jetstream.JetStream
	ensured  bool
	url      string
	streamOK error // why the stream is unusable (an existing stream that does not capture our subjects)
}

// Open loads the relays stored in db and starts them. Nothing connects to
// NATS before a relay publishes.
func Open(db *store.DB, log Log, opts Options) (*Relay, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &Relay{db: db, ks: db.KeySpace(store.SpaceRelay), log: log, opts: opts,
		lg: lifecycle.Or(opts.Logger).With("component", "relay"), tables: map[string]*table{}}
	r.g = lifecycle.New(context.Background(), "relay", r.lg)
	var cfgs []Config
	err := r.ks.Scan([]byte{tagConfig}, []byte{tagConfig + 1}, func(_, v []byte) error {
		var c Config
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("relay: a stored relay is corrupt: %v", err)
		}
		cfgs = append(cfgs, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cfgs {
		t, err := r.start(c)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.tables[c.Table] = t
	}
	return r, nil
}

// Configured reports whether any relay is enabled.
func (r *Relay) Configured() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tables) > 0
}

// Subject returns the subject of a table's shard.
func (r *Relay) Subject(table, shardID string) string {
	return r.opts.SubjectPrefix + "." + Token(r.opts.Region) + "." + Token(table) + "." + shardID
}

// streamSubjects is what the stream eddy creates captures.
func (r *Relay) streamSubjects() string {
	return r.opts.SubjectPrefix + "." + Token(r.opts.Region) + ".>"
}

// Enable starts relaying table (idempotent: an enabled table's relay is
// returned as it is, created false).
func (r *Relay) Enable(ctx context.Context, cfg Config) (st Status, created bool, err error) {
	pos := strings.ToUpper(cfg.StartingPosition)
	switch pos {
	case "":
		pos = "TRIM_HORIZON"
	case "TRIM_HORIZON", "LATEST":
	default:
		return Status{}, false, fmt.Errorf("%w: StartingPosition must be TRIM_HORIZON or LATEST, not %q", ErrInvalid, cfg.StartingPosition)
	}
	if cfg.Table == "" || strings.IndexByte(cfg.Table, 0) >= 0 {
		return Status{}, false, fmt.Errorf("%w: a relay needs Table", ErrInvalid)
	}
	if t := r.get(cfg.Table); t != nil {
		return t.status(), false, nil
	}
	if r.opts.EnsureStream != nil {
		if err := r.opts.EnsureStream(ctx, cfg.Table); err != nil {
			return Status{}, false, err
		}
	}
	cfg.StartingPosition = pos
	cfg.Created = r.opts.Now().UTC()
	if pos == "LATEST" {
		cfg.StartAfter = uint64(r.log.HighWater())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return Status{}, false, errors.New("relay: closed")
	}
	if t := r.tables[cfg.Table]; t != nil {
		return t.status(), false, nil
	}
	v, _ := json.Marshal(cfg)
	b := r.ks.NewBatch()
	defer b.Close()
	lo, hi := positionSpan(cfg.Table)
	if err := errors.Join(r.ks.Set(b, configKey(cfg.Table), v), r.ks.DeleteRange(b, lo, hi),
		r.ks.Delete(b, totalsKey(cfg.Table))); err != nil {
		return Status{}, false, err
	}
	if err := b.Commit(true); err != nil {
		return Status{}, false, err
	}
	t, err := r.start(cfg)
	if err != nil {
		return Status{}, false, err
	}
	r.tables[cfg.Table] = t
	r.lg.Info("relay enabled", "table", cfg.Table, "from", pos, "subjects", r.opts.SubjectPrefix+"."+Token(r.opts.Region)+"."+Token(cfg.Table)+".*", "stream", r.opts.Stream)
	return t.status(), true, nil
}

// Disable stops relaying table and forgets its positions (enabling it
// again starts over from its StartingPosition).
func (r *Relay) Disable(table string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tables[table]
	if t == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, table)
	}
	t.stop()
	b := r.ks.NewBatch()
	defer b.Close()
	lo, hi := positionSpan(table)
	if err := errors.Join(r.ks.Delete(b, configKey(table)), r.ks.DeleteRange(b, lo, hi),
		r.ks.Delete(b, totalsKey(table))); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	delete(r.tables, table)
	r.lg.Info("relay disabled", "table", table, "published", t.published())
	return nil
}

func (r *Relay) get(table string) *table {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tables[table]
}

// Describe returns the status of table's relay.
func (r *Relay) Describe(table string) (Status, error) {
	t := r.get(table)
	if t == nil {
		return Status{}, fmt.Errorf("%w: %s", ErrNotFound, table)
	}
	return t.status(), nil
}

// List returns the status of every relay, by table.
func (r *Relay) List() []Status {
	r.mu.Lock()
	ts := make([]*table, 0, len(r.tables))
	for _, t := range r.tables {
		ts = append(ts, t)
	}
	r.mu.Unlock()
	out := make([]Status, len(ts))
	for i, t := range ts {
		out[i] = t.status()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}

// Close stops every relay (each waits briefly for the acknowledgements of
// what it published, and commits them) and closes the NATS connection.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	ts := make([]*table, 0, len(r.tables))
	for _, t := range r.tables {
		ts = append(ts, t)
	}
	r.mu.Unlock()
	for _, t := range ts {
		t.stop()
	}
	r.g.Stop()
	r.cmu.Lock()
	if r.nc != nil {
		r.nc.Close()
		r.nc, r.js = nil, nil
	}
	r.cmu.Unlock()
	return nil
}

// jetStream returns the connection's JetStream context, connecting and
// making sure the stream exists first when needed.
func (r *Relay) jetStream(ctx context.Context) (jetstream.JetStream, error) {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	if r.nc != nil && r.nc.IsClosed() {
		r.nc, r.js, r.ensured = nil, nil, false
	}
	if r.nc == nil {
		url := r.opts.URL
		if url == "" {
			if r.opts.Connect == nil {
				return nil, errors.New("no NATS server configured (eddy serve --nats URL or --nats embedded)")
			}
			var err error
			if url, err = r.opts.Connect(); err != nil {
				return nil, fmt.Errorf("starting the embedded NATS server: %w", err)
			}
		}
		nc, err := nats.Connect(url, nats.Name("eddy relay"), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
			nats.Timeout(5*time.Second), nats.ReconnectBufSize(-1))
		if err != nil {
			return nil, fmt.Errorf("connecting to NATS at %s: %w", url, err)
		}
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1<<20), jetstream.WithPublishAsyncTimeout(r.opts.AckTimeout))
		if err != nil {
			nc.Close()
			return nil, err
		}
		r.nc, r.js, r.url = nc, js, url
	}
	if !r.ensured {
		if err := r.ensureStream(ctx); err != nil {
			return nil, err
		}
		r.ensured = true
	}
	return r.js, nil
}

// ensureStream creates the stream when missing; an existing one must
// capture the relay's subjects.
func (r *Relay) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.AckTimeout)
	defer cancel()
	subj := r.streamSubjects()
	s, err := r.js.Stream(ctx, r.opts.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = r.js.CreateStream(ctx, jetstream.StreamConfig{Name: r.opts.Stream, Subjects: []string{subj},
			Storage: jetstream.FileStorage, Duplicates: r.opts.Duplicates, MaxAge: r.opts.MaxAge,
			Description: "eddy's change records (package relay)"})
		if err == nil {
			r.lg.Info("created the JetStream stream of the relays", "stream", r.opts.Stream, "subjects", subj,
				"duplicates", r.opts.Duplicates, "max_age", r.opts.MaxAge)
		}
		return err
	}
	if err != nil {
		return err
	}
	cfg := s.CachedInfo().Config
	for _, have := range cfg.Subjects {
		if subjectCovers(have, subj) {
			if cfg.Duplicates < r.opts.Duplicates {
				r.lg.Warn("the relays' JetStream stream has a shorter duplicates window than eddy's: a restart after longer may republish records twice",
					"stream", r.opts.Stream, "duplicates", cfg.Duplicates, "want", r.opts.Duplicates)
			}
			return nil
		}
	}
	return fmt.Errorf("JetStream stream %s exists with subjects %v, which do not capture %s", r.opts.Stream, cfg.Subjects, subj)
}

// subjectCovers reports whether filter have matches every subject of want
// (both may hold wildcards).
func subjectCovers(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i, t := range h {
		if t == ">" {
			return i < len(w)
		}
		if i >= len(w) {
			return false
		}
		if t != "*" && t != w[i] || t == "*" && w[i] == ">" {
			return false
		}
	}
	return len(h) == len(w)
}

// connFailed forgets the stream check after a failure, so the next attempt
// checks again (a server restarted without its data has lost the stream).
func (r *Relay) connFailed() {
	r.cmu.Lock()
	r.ensured = false
	r.cmu.Unlock()
}

// URL returns the NATS server the relays publish to ("" before they
// connected).
func (r *Relay) URL() string {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	return r.url
}

// shardOrigin says how sh came to be, given its stream's shards.
func shardOrigin(sh shards.Info, all []shards.Info) string {
	if sh.ParentID == "" {
		return "INITIAL"
	}
	for _, p := range all {
		if p.ID == sh.ParentID {
			if p.Range == sh.Range {
				return "ROLLOVER"
			}
			return "SPLIT"
		}
	}
	return ""
}
