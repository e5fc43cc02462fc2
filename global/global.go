package global

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// Version is DescribeTable's GlobalTableVersion for every replica.
const Version = "2019.11.21"

// PrincipalType marks the writes a replica applies for another region:
// the change log skips them (they are never published again), and the
// stream shows them with no userIdentity (only Service principals get one).
const PrincipalType = "Replication"

// Replica statuses, as DynamoDB's ReplicaStatus.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
)

// Options configure a Manager. Region and Regions are required.
type Options struct {
	// Region is this server's region (eddy serve --region): the region of
	// the tables it replicates and of the changes it publishes.
	Region string
	// Regions are the regions of the eddy servers that may hold replicas
	// (--global-regions), this one included.
	Regions []string
	// URL is the NATS server (several separated by commas), or Connect
	// starts one (the embedded server) and returns its URL.
	URL     string
	Connect func() (string, error)
	// Call runs a DynamoDB operation in process in region (api.Server.CallIn):
	// DescribeTable of a table being replicated, CreateTable and DeleteTable
	// of a replica.
	Call func(ctx context.Context, region, op string, req []byte) ([]byte, error)
	// Subject prefixes every subject: <Subject>.chg.<table>.<origin> carries
	// changes, <Subject>.chg.<table>.<origin>.m a re-backfill's markers,
	// <Subject>.ctl.<region> control requests. Default "eddyg".
	Subject string
	// Stream is the JetStream stream of changes. Default "EDDY_GLOBAL".
	Stream string
	// StreamReplicas is the stream's replication factor in a JetStream
	// cluster (3 keeps every change through the loss of a NATS server).
	// Default 1. It applies when this region creates the stream.
	StreamReplicas int
	// MaxAge is how long the stream keeps a change. Default 24h.
	MaxAge time.Duration
	// RetryBackoff is the pause after a failure (publish, apply, control
	// request) before the next attempt. Default 200ms.
	RetryBackoff time.Duration
	// TombstoneTTL is how long a delete's tombstone is kept: it must
	// outlive every write older than the delete that may still arrive, so
	// at least MaxAge (a change older than that is trimmed from the stream)
	// plus the longest a region may stay cut off with writes in its outbox
	// (one older than the delete, published after the tombstones are gone,
	// brings the item back everywhere). A region behind for longer misses
	// the delete itself, which its re-backfills tell from what the
	// snapshots lack (sweep.go). Default 2 × MaxAge (48h).
	TombstoneTTL time.Duration
	// CollectInterval is how often tombstones older than TombstoneTTL are
	// removed. Default 1h.
	CollectInterval time.Duration
	// AckTimeout bounds the wait for JetStream's ack of a publish; the
	// unacknowledged changes are published again after it. Default 10s.
	AckTimeout time.Duration
	// ControlLockWait is how long a control change (ReplicaUpdates,
	// UpdateTimeToLive, DeleteTable of a replica) waits for the table's
	// control lock held by another change before it is refused
	// (ctllock.go): the lock of a change just done is released a moment
	// after the other regions show it done. Default 1s; negative: no wait.
	ControlLockWait time.Duration
	// ControlLockLease bounds how long a table's control lock (ctllock.go)
	// stays held without its holder renewing it. The holder renews it
	// every ControlLockLease/4 while its change runs, however long (a
	// replica creation waits for its region to come up); a lock not
	// renewed for longer than ControlLockLease is taken to be its holder's
	// left behind (the region killed, or its disk lost) and is taken over
	// by the next control change of the table, from any region. Default 1m.
	ControlLockLease time.Duration
	// StrongTimeout bounds an MRSC write's publish and a strongly
	// consistent read's barrier: past it the region answers
	// InternalServerError (it cannot reach a quorum). Default 5s.
	StrongTimeout time.Duration
	// BeforeStrongPublish, when set, runs before an MRSC write is
	// published, with the item's lock held: tests order two regions'
	// writes to one item with it.
	BeforeStrongPublish func(table string, keys attr.Item)
	// BeforeStrongApply, when set, runs in a table's MRSC consumer before
	// each Fetch (seq 0) and before each change is applied (its stream
	// sequence): tests hold the consumer back with it.
	BeforeStrongApply func(table string, seq uint64)
	// BeforeApply, when set, runs in an MREC table's consumer of origin
	// before each Fetch: tests hold one consumer back with it.
	BeforeApply func(table, origin string)
	// OnLocalWrite, when set, hears of every committed local write to a
	// global table with the timestamp it was given (tests check last writer
	// wins with it). It runs after the commit, with the item's lock held:
	// it must not block or write.
	OnLocalWrite func(Write)
	// OnApplied, when set, hears of every change applied here from another
	// region with its replication latency (from the origin's write to the
	// apply here): CloudWatch's ReplicationLatency. It must not block.
	OnApplied func(table, origin string, latency time.Duration)
	// OnResync, when set, hears of every gap a consumer found (changes of
	// origin trimmed from the stream before they were applied here), which
	// it repairs with a re-backfill from origin (resync.go). It must not
	// block.
	OnResync func(table, origin string)
	// Logger receives failures, once per change of state. Default: discard.
	Logger *slog.Logger
}

// Write is a local write as OnLocalWrite hears of it.
type Write struct {
	Table  string
	Keys   attr.Item
	New    attr.Item // nil: deleted
	TS     int64     // microseconds, the write's replication timestamp
	Region string
}

// Replica is one region's copy of a global table.
type Replica struct {
	Region string `json:"region"`
	Status string `json:"status"`
	// By is the region that runs the replica's creation or deletion (the
	// one UpdateTable was sent to): only it resumes the work after a
	// restart. Empty once ACTIVE.
	By string `json:"by,omitempty"`
	// Witness marks an MRSC table's witness region (strong.go): no table,
	// no eddy server needed there; its part is the stream's third copy.
	Witness bool `json:"witness,omitempty"`
	// Settings are the replica's overrides (ReplicaUpdates Update; settings.go).
	Settings Settings `json:"settings,omitzero"`
}

// replicaSet is a global table's configuration in one region (key 'g').
type replicaSet struct {
	Replicas []Replica `json:"replicas"` // every region, this one included
	// Consistency is ConsistencyStrong for an MRSC table ("": MREC), and
	// Epoch names its subjects (strong.go), fixed when it became global.
	Consistency string `json:"consistency,omitempty"`
	Epoch       string `json:"epoch,omitempty"`
}

// clone copies the set (its replicas slice included).
func (s replicaSet) clone() replicaSet {
	s.Replicas = slices.Clone(s.Replicas)
	return s
}

func (s replicaSet) find(region string) int {
	return slices.IndexFunc(s.Replicas, func(r Replica) bool { return r.Region == region })
}

// change is one replicated change, the body of a JetStream message and of
// an outbox entry.
//
// A re-backfill (resync.go) frames its snapshot for the region that asked
// for it: a begin marker, the items and tombstones, an end marker, all
// with the snapshot's ID (Snap); a marker has Mark and For set, no Keys,
// and TS the snapshot's timestamp (every write of the origin stamped
// before it is in the snapshot, or a later write is; sweep.go).
type change struct {
	Table  string    `json:"t"`
	Keys   attr.Item `json:"k"`
	New    attr.Item `json:"n,omitempty"` // nil: a delete
	TS     int64     `json:"ts"`
	Region string    `json:"r"`
	Snap   string    `json:"s,omitempty"` // a re-backfill's snapshot ID
	Mark   string    `json:"m,omitempty"` // markBegin or markEnd: a marker, no item
	For    string    `json:"f,omitempty"` // a marker's requesting region
	// Own, on an end marker: every write of For stamped before it was
	// applied here before the scan (0: not known; sweep.go).
	Own int64 `json:"o,omitempty"`
}

// Manager replicates the global tables of one region: it captures their
// local writes (a store.ChangeLog), publishes them to JetStream, applies
// the other regions' changes, and runs the replica control plane. Safe for
// concurrent use.
type Manager struct {
	db    *store.DB
	ks    store.KeySpace
	opts  Options
	log   *slog.Logger
	group *lifecycle.Group

	// scFail logs MRSC writes and read barriers the stream did not answer,
	// once per change of state (strong.go).
	scFail lifecycle.Failures

	clock atomic.Int64 // the last timestamp handed out (µs)
	// stamped counts the local MREC writes by timestamp between Prepare
	// and their commit (or failure): a re-backfill waits for those stamped
	// before its snapshot's timestamp (sweep.go).
	stampMu sync.Mutex
	stamped map[int64]int
	seq     atomic.Uint64 // the last outbox sequence handed out
	wake    chan struct{}

	mu        sync.Mutex
	tables    map[string]*tableState
	connected chan struct{} // closed once the connection is up
	nc        *nats.Conn
	js        jetstream.JetStream

	ttl ttlSync   // Time to Live shared by the replicas (ttl.go)
	bf  backfills // re-backfills run for other regions (resync.go)

	atomic bool // EDDY_GLOBAL_SC takes atomic batches (strong.go)
	// oneFilter: the nats-server takes one filter subject per consumer
	// (before 2.10; markSubject). Set at connect.
	oneFilter atomic.Bool

	// The control lock (ctllock.go): the key-value bucket, and the settings
	// and TTL pushes in progress per table (under mu).
	kv         jetstream.KeyValue
	ctlPending map[string]int
	leaving    map[string]int       // DeleteTables begun here whose replica set was not told yet
	leases     map[string]*ctlLease // the control locks this region holds, by table
	// dropping: tables a "delete" control request is deleting here
	// (control.go handle): not a user's DeleteTable for watchCatalog.
	dropping map[string]bool
}

type tableState struct {
	set       replicaSet
	consumers map[string]context.CancelFunc // by origin region
	lag       map[string]*lagStats          // by origin region
	strong    *strongTable                  // MRSC tables only (strong.go)
	// resync counts, by origin, the re-backfills asked of its consumer
	// with no gap of its own: another origin's consumer found one
	// (resync.go).
	resync map[string]int
	// waiting holds the origins whose consumer waits for a re-backfill it
	// asked for (resync.go).
	waiting map[string]bool
}

// Open loads the global tables' configuration, registers the change log
// and starts the publisher, the consumers and the control subscriber. Call
// before serving writes; Close stops it all.
func Open(db *store.DB, opts Options) (*Manager, error) {
	if opts.Region == "" {
		return nil, errors.New("global: Options.Region is required")
	}
	if !slices.Contains(opts.Regions, opts.Region) {
		opts.Regions = append(opts.Regions, opts.Region)
	}
	if opts.Subject == "" {
		opts.Subject = "eddyg"
	}
	if opts.Stream == "" {
		opts.Stream = "EDDY_GLOBAL"
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.TombstoneTTL == 0 {
		opts.TombstoneTTL = 2 * opts.MaxAge
	}
	if opts.CollectInterval == 0 {
		opts.CollectInterval = time.Hour
	}
	if opts.AckTimeout == 0 {
		opts.AckTimeout = 10 * time.Second
	}
	if opts.StrongTimeout == 0 {
		opts.StrongTimeout = 5 * time.Second
	}
	if opts.ControlLockWait == 0 {
		opts.ControlLockWait = time.Second
	}
	if opts.ControlLockLease <= 0 {
		opts.ControlLockLease = time.Minute
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 200 * time.Millisecond
	}
	m := &Manager{db: db, ks: db.KeySpace(store.SpaceGlobal), opts: opts, log: lifecycle.Or(opts.Logger),
		wake: make(chan struct{}, 1), stamped: map[int64]int{}, tables: map[string]*tableState{}, connected: make(chan struct{}), ctlPending: map[string]int{}, leaving: map[string]int{},
		leases: map[string]*ctlLease{}, dropping: map[string]bool{}}
	m.scFail = lifecycle.Failures{Log: m.log, What: "global tables: MRSC stream (writes and strongly consistent reads refused)", Level: slog.LevelWarn}
	m.clock.Store(time.Now().UnixMicro())
	m.seq.Store(uint64(time.Now().UnixNano()))
	err := m.ks.Scan([]byte{pOutbox}, []byte{pOutbox + 1}, func(k, _ []byte) error {
		m.seq.Store(max(m.seq.Load(), binary.BigEndian.Uint64(k[1:])))
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = m.ks.Scan([]byte{pConfig}, []byte{pConfig + 1}, func(k, v []byte) error {
		var set replicaSet
		if err := json.Unmarshal(v, &set); err != nil {
			return fmt.Errorf("global: table %s: %w", k[1:], err)
		}
		m.tables[string(k[1:])] = &tableState{set: set, consumers: map[string]context.CancelFunc{}, lag: map[string]*lagStats{}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db.RegisterChangeLog(m)
	m.group = lifecycle.New(context.Background(), "global tables", m.log)
	m.group.Go("connect", m.connect)
	m.group.Go("publisher", m.publish)
	catalog := make(chan struct{}, 1)
	db.OnCatalogChange(func() {
		select {
		case catalog <- struct{}{}:
		default:
		}
	})
	m.group.Go("tombstone collection", m.collectTombstones)
	m.group.Go("catalog watch", func(ctx context.Context) { m.watchCatalog(ctx, catalog) })
	m.startTTLSync()
	m.mu.Lock()
	for name, ts := range m.tables {
		m.syncConsumersLocked(name, ts)
		if ts.set.Consistency == ConsistencyStrong {
			var creating, deleting []string
			for _, r := range ts.set.Replicas {
				if r.By == m.opts.Region && r.Status == StatusCreating {
					creating = append(creating, r.Region)
				}
				if r.By == m.opts.Region && r.Status == StatusDeleting {
					deleting = append(deleting, r.Region)
				}
			}
			if len(creating) > 0 {
				m.goCreateInTurn(name, creating)
			}
			if len(deleting) > 0 {
				m.goDeleteInTurn(name, deleting)
			}
			continue
		}
		for _, r := range ts.set.Replicas {
			if r.By != m.opts.Region {
				continue
			}
			switch r.Status {
			case StatusCreating:
				m.goCreate(name, r.Region)
			case StatusDeleting:
				m.goDelete(name, r.Region)
			}
		}
	}
	m.mu.Unlock()
	return m, nil
}

// Close stops the background work and the NATS connection.
func (m *Manager) Close() error {
	m.group.Stop()
	m.mu.Lock()
	nc := m.nc
	m.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
	return nil
}

// connect dials NATS until it succeeds, then subscribes to this region's
// control subject and creates the stream.
func (m *Manager) connect(ctx context.Context) {
	fail := lifecycle.Failures{Log: m.log, What: "global tables: NATS connection", Level: slog.LevelWarn}
	warned := false // the nats-server's version, once
	for {
		err := func() error {
			url := m.opts.URL
			if m.opts.Connect != nil {
				u, err := m.opts.Connect()
				if err != nil {
					return err
				}
				url = u
			}
			nc, err := nats.Connect(url, nats.Name("eddy global tables "+m.opts.Region), nats.MaxReconnects(-1),
				nats.ReconnectWait(250*time.Millisecond))
			if err != nil {
				return err
			}
			if v := nc.ConnectedServerVersion(); m.opts.StreamReplicas > 1 && !warned && !serializesConditionalPublish(v) {
				warned = true
				m.log.Warn("global tables: this nats-server does not serialize conditional publishes in a clustered stream "+
					"(nats-io/nats-server#4320): two regions' writes to one item of an MRSC table can both succeed; use nats-server 2.10 or later",
					"version", v)
			}
			m.oneFilter.Store(!filtersSeveralSubjects(nc.ConnectedServerVersion()))
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096), jetstream.WithPublishAsyncTimeout(m.opts.AckTimeout))
			if err != nil {
				nc.Close()
				return err
			}
			if _, err := nc.Subscribe(m.opts.Subject+".ctl."+m.opts.Region, m.control); err != nil {
				nc.Close()
				return err
			}
			if err := m.ensureStrongStream(ctx, js); err != nil {
				nc.Close()
				return err
			}
			kv, err := m.ensureCtlBucket(ctx, js)
			if err != nil {
				nc.Close()
				return err
			}
			m.mu.Lock()
			m.nc, m.js, m.kv = nc, js, kv
			close(m.connected)
			m.mu.Unlock()
			return nil
		}()
		fail.Report(err)
		if err == nil {
			m.goEnsureStream()
			m.releaseStale(ctx)
			return
		}
		if !lifecycle.Sleep(ctx, m.opts.RetryBackoff) {
			return
		}
	}
}

// goEnsureStream makes sure of the MREC stream in the background, retried
// until it answers: after the NATS node leading it died, it has no leader
// for the seconds of an election and a request about it goes unanswered
// (5 s, twice: TestStrongAcrossProcesses's restarted region waited ~10 s),
// which MRSC tables need not wait for. Until then, publishing and consuming
// fail and are retried, and make the stream if it is missing (streamLost).
func (m *Manager) goEnsureStream() {
	m.group.Go("MREC stream", func(ctx context.Context) {
		fail := lifecycle.Failures{Log: m.log, What: "global tables: the MREC stream " + m.opts.Stream, Level: slog.LevelWarn}
		for {
			js, _, err := m.jetStream(ctx)
			if err == nil {
				err = m.ensureStream(ctx, js)
			}
			if ctx.Err() != nil {
				return
			}
			fail.Report(err)
			if err == nil || !lifecycle.Sleep(ctx, m.opts.RetryBackoff) {
				return
			}
		}
	})
}

func (m *Manager) ensureStream(ctx context.Context, js jetstream.JetStream) error {
	if _, err := js.Stream(ctx, m.opts.Stream); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: m.opts.Stream, Subjects: []string{m.opts.Subject + ".chg.>"},
		Storage: jetstream.FileStorage, MaxAge: m.opts.MaxAge, Duplicates: min(10*time.Minute, m.opts.MaxAge), Replicas: max(m.opts.StreamReplicas, 1)})
	if err != nil {
		if _, err2 := js.Stream(ctx, m.opts.Stream); err2 == nil {
			return nil // another region created it first
		}
	}
	return err
}

// jetStream waits for the connection.
func (m *Manager) jetStream(ctx context.Context) (jetstream.JetStream, *nats.Conn, error) {
	select {
	case <-m.connected:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.js, m.nc, nil
}

// subject is where origin's changes to table go. Table names may hold '.',
// a subject's separator, and never '~' ([a-zA-Z0-9_.-]+), so '.' becomes '~'.
func (m *Manager) subject(table, origin string) string {
	tok := []byte(table)
	for i, c := range tok {
		if c == '.' {
			tok[i] = '~'
		}
	}
	return m.opts.Subject + ".chg." + string(tok) + "." + origin
}

// markSubject carries the markers of origin's re-backfills of table
// (sweep.go): beside its changes' subject, in the same stream, so that a
// consumer of both gets them in the stream's order, and an eddy from before
// markers, which consumes only the changes' subject, never sees them. A
// nats-server before 2.10 takes one filter subject per consumer: there the
// markers go on the changes' subject itself (an eddy from before markers
// must not share such a server with this one).
func (m *Manager) markSubject(table, origin string) string {
	if m.oneFilter.Load() {
		return m.subject(table, origin)
	}
	return m.subject(table, origin) + ".m"
}

// changeSubjects are the filter subjects of the consumer of origin's
// changes to table: its changes and its re-backfills' markers.
func (m *Manager) changeSubjects(table, origin string) []string {
	if m.oneFilter.Load() {
		return []string{m.subject(table, origin)}
	}
	return []string{m.subject(table, origin), m.markSubject(table, origin)}
}

// tick returns a timestamp after both the last one handed out and prev
// (the item's last write): a hybrid clock, so that a local write always
// wins over the write it overwrites, even one from a region whose clock is
// ahead.
func (m *Manager) tick(prev int64) int64 {
	for {
		last := m.clock.Load()
		ts := max(time.Now().UnixMicro(), last+1, prev+1)
		if m.clock.CompareAndSwap(last, ts) {
			return ts
		}
	}
}

// stampedTick is tick for a local write, counted in m.stamped until
// unstamp: taken under stampMu, so a snapshot's timestamp (snapshotTS) is
// after every stamped write's or before it was stamped.
func (m *Manager) stampedTick(prev int64) int64 {
	m.stampMu.Lock()
	defer m.stampMu.Unlock()
	ts := m.tick(prev)
	m.stamped[ts]++
	return ts
}

func (m *Manager) unstamp(ws []Write) {
	if len(ws) == 0 {
		return
	}
	m.stampMu.Lock()
	defer m.stampMu.Unlock()
	for _, w := range ws {
		if m.stamped[w.TS]--; m.stamped[w.TS] <= 0 {
			delete(m.stamped, w.TS)
		}
	}
}

// snapshotTS returns a timestamp after every local write's so far, once
// each of them has committed or failed: a scan started then sees every
// local write stamped before it.
func (m *Manager) snapshotTS(ctx context.Context) (int64, error) {
	m.stampMu.Lock()
	ts := m.tick(0)
	m.stampMu.Unlock()
	for {
		m.stampMu.Lock()
		busy := false
		for t := range m.stamped {
			if t < ts {
				busy = true
				break
			}
		}
		m.stampMu.Unlock()
		if !busy {
			return ts, nil
		}
		if !lifecycle.Sleep(ctx, time.Millisecond) {
			return 0, ctx.Err()
		}
	}
}

func (m *Manager) nextSeq() uint64 {
	for {
		last := m.seq.Load()
		s := max(uint64(time.Now().UnixNano()), last+1)
		if m.seq.CompareAndSwap(last, s) {
			return s
		}
	}
}

// isGlobal reports whether a table of this region is replicated.
func (m *Manager) isGlobal(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.tables[name]
	return ok
}

func (m *Manager) itemMetaKey(t *store.Table, keys attr.Item) []byte {
	var rng attr.Value
	if t.Range != nil {
		rng = keys[t.Range.Name]
	}
	return metaKey(t.ID, keys[t.Hash.Name], rng)
}

func (m *Manager) getMeta(key []byte) (meta, bool, error) {
	v, ok, err := m.ks.Get(key)
	if err != nil || !ok {
		return meta{}, false, err
	}
	md, err := decodeMeta(v)
	return md, err == nil, err
}

// Prepare is the store.ChangeLog: each local change of a global table gets
// a timestamp after its item's last one, its meta, and an outbox entry, in
// the write's batch. Changes applied for other regions are left alone.
func (m *Manager) Prepare(b *store.Batch, changes []store.Change) (func(bool), error) {
	var local []Write
	var strong []*strongTable
	var strongChanges []strongChange
	handed := false // the done func, which unstamps, is returned
	defer func() {
		if !handed {
			m.unstamp(local)
		}
	}()
	for _, c := range changes {
		if c.Table.Region != m.opts.Region || c.Principal.Type == PrincipalType || !m.isGlobal(c.Table.Name) {
			continue
		}
		if st, set := m.strong(c.Table.Name); st != nil {
			strongChanges = append(strongChanges, strongChange{c: c, set: set})
			strong = append(strong, st)
			continue
		}
		key := m.itemMetaKey(c.Table, c.Keys)
		old, _, err := m.getMeta(key)
		if err != nil {
			return nil, err
		}
		ts := m.stampedTick(old.TS)
		local = append(local, Write{Table: c.Table.Name, Keys: c.Keys, New: c.New, TS: ts, Region: m.opts.Region})
		if err := m.ks.Set(b, key, meta{TS: ts, Region: m.opts.Region, Deleted: c.New == nil, Keys: c.Keys}.encode()); err != nil {
			return nil, err
		}
		body, err := json.Marshal(change{Table: c.Table.Name, Keys: c.Keys, New: c.New, TS: ts, Region: m.opts.Region})
		if err != nil {
			return nil, err
		}
		if err := m.ks.Set(b, outboxKey(m.nextSeq()), body); err != nil {
			return nil, err
		}
	}
	if err := m.prepareStrong(b, strongChanges); err != nil {
		return nil, err
	}
	if len(local) == 0 && len(strong) == 0 {
		return nil, nil
	}
	handed = true
	return func(ok bool) {
		m.unstamp(local)
		for _, st := range strong {
			st.advance(0, false) // the items' sequences moved: wake the barriers
		}
		if !ok {
			return
		}
		select {
		case m.wake <- struct{}{}:
		default:
		}
		if m.opts.OnLocalWrite != nil {
			for _, w := range local {
				m.opts.OnLocalWrite(w)
			}
		}
	}, nil
}
