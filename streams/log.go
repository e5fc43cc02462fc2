package streams

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/store"
)

// Log is the change log of every table stream: a store.ChangeLog that
// appends one record per item change to the batch of the write, plus the
// read side (Reader) and the background maintenance (rollover, splits,
// trimming).
//
// # Key layout (key spaces 0x10..0x13 of the store, see store.KeySpace)
//
//	0x10 'h'                                  → sequence high-water mark (u64be)
//	0x10 'k'                                  → iterator HMAC key (32 bytes)
//	0x10 'n'                                  → last stream ID (u32be)
//	0x11 <stream id:4>                        → stream descriptor (JSON)
//	0x12 <stream id:4> <ordinal:4>            → shard descriptor (JSON)
//	0x13 <stream id:4> <ordinal:4> <seq:8>    → record (see encodeRecord)
//
//	┌────┬───────────┬────────────┬────────────┐
//	│0x13│ stream id │ ordinal    │ seq u64be  │   one shard's records are
//	└────┴───────────┴────────────┴────────────┘   one key range, in seq order
//
// The first byte is the space (stream-meta, streams, shards,
// stream-records); the keys the log builds are relative to it.
//
// Trimming is one DeleteRange per shard; dropping a shard deletes its
// descriptor and its whole record range.
//
// # Sequence numbers and visibility
//
// One counter hands out sequence numbers (Seq) for all shards. Prepare
// reserves a Seq per change under the shard's mutex, adds it to the shard's
// in-flight list, writes the record and the high-water mark into the
// write's batch; done(committed) removes it from the list. A shard's visible
// watermark is (lowest in-flight Seq − 1), or its last reserved Seq when
// nothing is in flight: readers only read records ≤ the watermark, so a
// record is read only once its batch is durable, and a reader never skips a
// Seq that is later filled in. A failed commit leaves no record (it was in
// the batch) and its Seq leaves the in-flight list: a gap, never filled,
// that readers pass.
//
// On open the counter resumes above max(high-water mark, every shard's
// start and end, every shard's last record): concurrent batches may commit
// their high-water marks out of order, but their records carry the truth.
//
// # Locks
//
// lifeMu → mu → shard.mu. lifeMu serializes everything that writes
// descriptors (stream creation, rollover, splits, disabling, trimming);
// mu guards the topology (streams, their shards, the open set) and is held
// shared by Prepare while it routes and reserves, exclusively while a
// lifecycle change commits and installs. shard.mu guards one shard's
// sequence state. Nothing holding these calls into the store's catalog
// (Table, TableNames): the write path holds the catalog lock while it calls
// Prepare.
//
// A Log is safe for concurrent use.
type Log struct {
	db   *store.DB
	ks   keySpaces
	opts Options
	key  []byte // iterator HMAC key

	seq atomic.Uint64 // last reserved Seq

	lifeMu   sync.Mutex
	mu       sync.RWMutex
	streams  map[uint32]*stream
	byTable  map[tableLabel]*stream
	byArn    map[string]*stream
	shardIDs map[string]*shard
	lastID   uint32

	// bg runs background maintenance (maintainLoop); Close stops it.
	bg *lifecycle.Group
	// maintained logs maintenance failures once per change of state.
	maintained lifecycle.Failures
}

type tableLabel struct {
	id    uint32
	label string
}

// streamDesc is a stream's persisted descriptor.
type streamDesc struct {
	ID        uint32 `json:"id"`
	TableName string `json:"table"`
	TableID   uint32 `json:"tableId"`
	// Region is the table's region (store.Table.Region); a descriptor
	// from before regions has none and belongs to the store's home region.
	Region     string       `json:"region,omitempty"`
	Label      string       `json:"label"`
	ViewType   string       `json:"view"`
	KeySchema  []KeyElement `json:"keys"`
	Created    time.Time    `json:"created"`
	Disabled   bool         `json:"disabled,omitempty"`
	DisabledAt time.Time    `json:"disabledAt,omitzero"`
}

// KeyElement is one element of a stream's key schema.
type KeyElement struct {
	AttributeName string
	KeyType       string // HASH or RANGE
}

// shardDesc is a shard's persisted descriptor.
type shardDesc struct {
	Stream   uint32       `json:"stream"`
	Ordinal  uint32       `json:"ord"`
	Parent   uint32       `json:"parent,omitempty"` // ordinal; 0 = none
	Range    shards.Range `json:"range"`
	Start    Seq          `json:"start"`
	End      Seq          `json:"end,omitempty"`
	Closed   bool         `json:"closed,omitempty"`
	Created  time.Time    `json:"created"`
	ClosedAt time.Time    `json:"closedAt,omitzero"`
	Trim     Seq          `json:"trim"` // records below are gone
}

type stream struct {
	desc   streamDesc // guarded by Log.mu
	arn    string
	region string   // desc.Region, which never changes: read without Log.mu
	shards []*shard // by ordinal; guarded by Log.mu
	open   []*shard // sorted by range; guarded by Log.mu
	nextOr uint32   // guarded by Log.lifeMu
}

type shard struct {
	st       *stream
	id       string
	parentID string
	desc     shardDesc // immutable fields: Ordinal, Parent, Range, Start, Created
	writes   atomic.Uint64

	mu       sync.Mutex
	closed   bool
	end      Seq
	closedAt time.Time
	last     Seq   // last reserved
	inflight []Seq // ascending
	visible  Seq
	trim     Seq // lowest Seq that may still be present
	gone     bool
	notify   chan struct{}
}

// keySpaces are the log's key spaces.
type keySpaces struct {
	meta    store.KeySpace // 0x10: hwmKey, hmacKey, lastIDKey
	streams store.KeySpace // 0x11: streamKey
	shards  store.KeySpace // 0x12: shardKey
	records store.KeySpace // 0x13: recordKey
}

// Keys, relative to their spaces.
var (
	hwmKey    = []byte{'h'}
	hmacKey   = []byte{'k'}
	lastIDKey = []byte{'n'}
)

func streamKey(id uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, id)
}

func shardKey(stream, ord uint32) []byte {
	k := binary.BigEndian.AppendUint32(make([]byte, 0, 8), stream)
	return binary.BigEndian.AppendUint32(k, ord)
}

func recordKey(dst []byte, stream, ord uint32, seq Seq) []byte {
	dst = binary.BigEndian.AppendUint32(dst, stream)
	dst = binary.BigEndian.AppendUint32(dst, ord)
	return binary.BigEndian.AppendUint64(dst, uint64(seq))
}

// Open loads the streams of db and starts background maintenance. Register
// the returned Log with db.RegisterChangeLog before serving writes; Close it
// before closing db.
func Open(db *store.DB, opts Options) (*Log, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	l := &Log{
		db: db, opts: opts,
		ks: keySpaces{
			meta:    db.KeySpace(store.SpaceStreamMeta),
			streams: db.KeySpace(store.SpaceStreams),
			shards:  db.KeySpace(store.SpaceShards),
			records: db.KeySpace(store.SpaceStreamRecords),
		},
		streams: map[uint32]*stream{}, byTable: map[tableLabel]*stream{},
		byArn: map[string]*stream{}, shardIDs: map[string]*shard{},
		bg:         lifecycle.New(context.Background(), "streams", opts.Logger),
		maintained: lifecycle.Failures{Log: opts.Logger, What: "streams maintenance", Level: slog.LevelWarn},
	}
	if err := l.load(); err != nil {
		return nil, err
	}
	l.bg.Go("maintenance", l.maintainLoop)
	// Catalog changes (a stream enabled or disabled, a table deleted) reach
	// the log at once, not at the next maintenance tick.
	db.OnCatalogChange(func() {
		if l.bg.Context().Err() == nil {
			_ = l.Sync() // a failure is retried (and logged) by maintenance
		}
	})
	return l, nil
}

// Close stops background maintenance. Idempotent.
func (l *Log) Close() error {
	l.bg.Stop()
	return nil
}

func (l *Log) load() error {
	v, ok, err := l.ks.meta.Get(hmacKey)
	if err != nil {
		return err
	}
	if !ok {
		v = make([]byte, 32)
		_, _ = rand.Read(v)
		if err := l.ks.meta.Write(true, func(w kv.Writer) error { return w.Set(hmacKey, v) }); err != nil {
			return err
		}
	}
	l.key = v
	maxSeq := Seq(0)
	if v, ok, err := l.ks.meta.Get(hwmKey); err != nil {
		return err
	} else if ok && len(v) == 8 {
		maxSeq = Seq(binary.BigEndian.Uint64(v))
	}
	if v, ok, err := l.ks.meta.Get(lastIDKey); err != nil {
		return err
	} else if ok && len(v) == 4 {
		l.lastID = binary.BigEndian.Uint32(v)
	}
	if err := l.ks.streams.Scan(nil, nil, func(_, v []byte) error {
		var d streamDesc
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("streams: corrupt stream descriptor: %w", err)
		}
		l.addStream(d)
		return nil
	}); err != nil {
		return err
	}
	if err := l.ks.shards.Scan(nil, nil, func(_, v []byte) error {
		var d shardDesc
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("streams: corrupt shard descriptor: %w", err)
		}
		st := l.streams[d.Stream]
		if st == nil {
			return nil // stream dropped; shard left over from a crash mid-drop
		}
		sh := l.newShard(st, d)
		last, err := l.lastRecord(d.Stream, d.Ordinal)
		if err != nil {
			return err
		}
		sh.last = max(d.Start, last)
		if d.Closed {
			sh.end = d.End
			sh.last = max(sh.last, d.End)
		}
		sh.visible = sh.last
		maxSeq = max(maxSeq, sh.last)
		l.installShard(sh)
		return nil
	}); err != nil {
		return err
	}
	l.seq.Store(uint64(maxSeq))
	for _, st := range l.streams {
		if st.nextOr == 0 {
			st.nextOr = 1
		}
	}
	return nil
}

// lastRecord returns the Seq of the shard's last stored record, or 0.
func (l *Log) lastRecord(stream, ord uint32) (Seq, error) {
	lo := recordKey(nil, stream, ord, 0)
	hi := recordKey(nil, stream, ord+1, 0)
	it, err := l.ks.records.NewIter(lo, hi)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if it.Last() {
		k := it.Key()
		return Seq(binary.BigEndian.Uint64(k[len(k)-8:])), nil
	}
	return 0, it.Error()
}

// addStream installs a stream in memory; caller holds mu (or is loading).
func (l *Log) addStream(d streamDesc) *stream {
	if d.Region == "" {
		d.Region = l.db.HomeRegion()
	}
	a := l.opts.account()
	a.Region = d.Region
	st := &stream{desc: d, arn: a.Stream(d.TableName, d.Label), region: d.Region, nextOr: 1}
	l.streams[d.ID] = st
	l.byTable[tableLabel{d.TableID, d.Label}] = st
	l.byArn[st.arn] = st
	return st
}

func (l *Log) newShard(st *stream, d shardDesc) *shard {
	sh := &shard{st: st, desc: d, id: shards.FormatID(d.Created, d.Stream, d.Ordinal),
		closed: d.Closed, closedAt: d.ClosedAt, trim: d.Trim, notify: make(chan struct{})}
	if d.Parent != 0 {
		sh.parentID = shards.FormatID(parentCreated(st, d.Parent), d.Stream, d.Parent)
	}
	sh.last, sh.visible = d.Start, d.Start
	return sh
}

func parentCreated(st *stream, ord uint32) time.Time {
	for _, p := range st.shards {
		if p.desc.Ordinal == ord {
			return p.desc.Created
		}
	}
	return time.Time{}
}

// installShard adds sh to its stream; caller holds mu (or is loading).
// Shards are installed in ordinal order, parents first.
func (l *Log) installShard(sh *shard) {
	st := sh.st
	st.shards = append(st.shards, sh)
	sort.Slice(st.shards, func(i, j int) bool { return st.shards[i].desc.Ordinal < st.shards[j].desc.Ordinal })
	if !sh.closed {
		st.open = append(st.open, sh)
		sort.Slice(st.open, func(i, j int) bool { return st.open[i].desc.Range.Lo < st.open[j].desc.Range.Lo })
	}
	if sh.desc.Ordinal >= st.nextOr {
		st.nextOr = sh.desc.Ordinal + 1
	}
	l.shardIDs[sh.id] = sh
}

// route returns the open shard of st for partition hash h; caller holds mu.
func (st *stream) route(h uint64) *shard {
	i := sort.Search(len(st.open), func(i int) bool { return st.open[i].desc.Range.Hi >= h })
	if i < len(st.open) && st.open[i].desc.Range.Contains(h) {
		return st.open[i]
	}
	return nil
}

type reservation struct {
	sh  *shard
	seq Seq
}

var errNoShard = errors.New("streams: no open shard for the change (stream closed concurrently)")

// Prepare implements store.ChangeLog: for every change to a table whose
// stream is enabled it reserves a Seq in the item's shard and appends the
// record, and the high-water mark, to b. The returned done publishes the
// records (committed) or releases the reservations.
func (l *Log) Prepare(b *store.Batch, changes []store.Change) (func(bool), error) {
	streamed := false
	for i := range changes {
		t := changes[i].Table
		if !t.Stream.Enabled {
			continue
		}
		streamed = true
		l.mu.RLock()
		st := l.byTable[tableLabel{t.ID, t.Stream.Label}]
		l.mu.RUnlock()
		if st == nil {
			if _, err := l.ensureStream(t); err != nil {
				return nil, err
			}
		}
	}
	if !streamed {
		return nil, nil
	}
	res := make([]reservation, 0, len(changes))
	done := func(committed bool) { l.release(res) }
	var maxSeq Seq
	var key, val []byte
	now := l.opts.Now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	for i := range changes {
		c := &changes[i]
		t := c.Table
		if !t.Stream.Enabled {
			continue
		}
		st := l.byTable[tableLabel{t.ID, t.Stream.Label}]
		if st == nil || st.desc.Disabled {
			return done, errNoShard
		}
		sh := st.route(store.PartitionHash(c.Keys[t.Hash.Name]))
		if sh == nil {
			return done, errNoShard
		}
		sh.mu.Lock()
		seq := Seq(l.seq.Add(1))
		sh.last = seq
		sh.inflight = append(sh.inflight, seq)
		sh.mu.Unlock()
		sh.writes.Add(1)
		res = append(res, reservation{sh, seq})
		maxSeq = seq
		key = recordKey(key[:0], st.desc.ID, sh.desc.Ordinal, seq)
		val = encodeRecord(val[:0], c, st.desc.ViewType, now)
		if err := l.ks.records.Set(b, key, val); err != nil {
			return done, err
		}
	}
	if err := l.ks.meta.Set(b, hwmKey, binary.BigEndian.AppendUint64(nil, uint64(maxSeq))); err != nil {
		return done, err
	}
	return done, nil
}

// release takes reservations out of their shards' in-flight lists and
// advances visibility, waking waiters.
func (l *Log) release(res []reservation) {
	for _, r := range res {
		sh := r.sh
		sh.mu.Lock()
		for i, s := range sh.inflight {
			if s == r.seq {
				sh.inflight = append(sh.inflight[:i], sh.inflight[i+1:]...)
				break
			}
		}
		sh.advanceLocked()
		sh.mu.Unlock()
	}
}

// advanceLocked recomputes the visible watermark; caller holds sh.mu.
func (sh *shard) advanceLocked() {
	v := sh.last
	if len(sh.inflight) > 0 {
		v = sh.inflight[0] - 1
	}
	if v > sh.visible {
		sh.visible = v
		sh.wakeLocked()
	}
}

func (sh *shard) wakeLocked() {
	close(sh.notify)
	sh.notify = make(chan struct{})
}
