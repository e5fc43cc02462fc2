package global

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// errNoTable: a change arrived before its replica table exists here (the
// replica is being created); the consumer retries from its checkpoint.
var errNoTable = errors.New("global: the replica table does not exist here yet")

// syncConsumersLocked starts a consumer for every other region of the
// table's replica set that has none, and stops those of regions no longer
// in it. m.mu is held.
func (m *Manager) syncConsumersLocked(table string, ts *tableState) {
	if ts.set.Consistency == ConsistencyStrong {
		m.syncStrongLocked(table, ts)
		return
	}
	want := map[string]bool{}
	for _, r := range ts.set.Replicas {
		if r.Region != m.opts.Region {
			want[r.Region] = true
		}
	}
	for origin, cancel := range ts.consumers {
		if !want[origin] {
			cancel()
			delete(ts.consumers, origin)
		}
	}
	for origin := range want {
		if ts.consumers[origin] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(m.group.Context())
		ts.consumers[origin] = cancel
		if ts.lag[origin] == nil {
			ts.lag[origin] = &lagStats{}
		}
		lag := ts.lag[origin]
		m.group.Go("consumer "+table+" from "+origin, func(context.Context) { m.consume(ctx, table, origin, lag) })
	}
}

// consume applies origin's changes to table, from the checkpoint on, until
// ctx is done; a failure starts again from the checkpoint after a pause.
func (m *Manager) consume(ctx context.Context, table, origin string, lag *lagStats) {
	fail := lifecycle.Failures{Log: m.log.With("table", table, "origin", origin), What: "global tables: applying changes", Level: slog.LevelWarn}
	for {
		err := m.consumeOnce(ctx, table, origin, lag)
		if ctx.Err() != nil {
			return
		}
		fail.Report(err)
		m.streamLost(ctx, err)
		if !lifecycle.Sleep(ctx, m.opts.RetryBackoff) {
			return
		}
	}
}

func (m *Manager) checkpoint(table, origin string) (uint64, error) {
	seq, _, err := m.checkpointOf(table, origin)
	return seq, err
}

// checkpointOf returns a checkpoint's sequence and the creation time
// (unix ns) of the stream it counts in (0: not recorded: an MRSC
// checkpoint, or one written before it was).
func (m *Manager) checkpointOf(table, origin string) (uint64, int64, error) {
	v, ok, err := m.ks.Get(checkpointKey(table, origin))
	if err != nil || !ok || len(v) < 8 {
		return 0, 0, err
	}
	var created int64
	if len(v) >= 16 {
		created = int64(binary.BigEndian.Uint64(v[8:]))
	}
	return binary.BigEndian.Uint64(v), created, nil
}

// checkpointValue is an MREC checkpoint: the stream sequence, and the
// stream's creation time, which tells a stream made again (resync.go).
func checkpointValue(seq uint64, created int64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, seq), uint64(created))
}

// orderedAfterCheckpoint opens an ordered consumer of subject in stream
// that starts right after the (table, origin) checkpoint kept in Pebble:
// the checkpoint is the only position, so nothing is kept on the NATS side.
func (m *Manager) orderedAfterCheckpoint(ctx context.Context, stream string, subjects []string, table, origin string) (jetstream.Consumer, error) {
	js, _, err := m.jetStream(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := m.checkpoint(table, origin)
	if err != nil {
		return nil, err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	// One attempt per Fetch to recreate the server-side consumer (the
	// ordered consumer makes a new one each Fetch): a failure (a stream or
	// meta leader being elected after a NATS node died) comes back to the
	// caller, which retries after RetryBackoff, rather than nats.go's
	// default of retrying forever with a backoff growing to 10 s, which
	// kept a region refusing MRSC reads and writes for up to 30 s after
	// the cluster had recovered (cmd/eddy TestStrongAcrossProcesses).
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: subjects, MaxResetAttempts: 1}
	if cp > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, cp+1
	}
	return s.OrderedConsumer(ctx, cfg)
}

func (m *Manager) consumeOnce(ctx context.Context, table, origin string, lag *lagStats) error {
	cp, cpCreated, err := m.checkpointOf(table, origin)
	if err != nil {
		return err
	}
	js, _, err := m.jetStream(ctx)
	if err != nil {
		return err
	}
	s, err := js.Stream(ctx, m.opts.Stream)
	if err != nil {
		return err
	}
	info := s.CachedInfo()
	created := info.Created.UnixNano()
	if cp > 0 && ((cpCreated != 0 && cpCreated != created) || (cpCreated == 0 && info.State.LastSeq < cp)) {
		// The stream was made again since the checkpoint (resync.go): the
		// consumer starts again from its beginning after a re-backfill.
		return m.resetAfterStreamLoss(ctx, table, origin, cp, created, lag)
	}
	cons, err := m.orderedAfterCheckpoint(ctx, m.opts.Stream, m.changeSubjects(table, origin), table, origin)
	if err != nil {
		return err
	}
	g := &gapCheck{probed: time.Now(), created: created}
	if cp > 0 {
		g.expect = cp + 1 // resync.go: no checkpoint, no check
	}
	for ctx.Err() == nil {
		if m.opts.BeforeApply != nil {
			m.opts.BeforeApply(table, origin)
		}
		if err := m.resyncAsked(ctx, table, origin); err != nil {
			return err
		}
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		if err := m.checkGap(ctx, cons, g, table, origin, lag); err != nil {
			return err
		}
		applied := false
		// Changes already delivered are applied together (one batch, one
		// sync) up to the first that touches an item twice; the first of a
		// round is applied as soon as it arrives.
		msgs := batch.Messages()
		for open := true; open; {
			msg, ok := <-msgs
			if !ok {
				break
			}
			var pend []pending
			seen := map[string]bool{}
			flush := func() error {
				if len(pend) == 0 {
					return nil
				}
				if err := m.applyAll(ctx, pend, origin, created, lag); err != nil {
					return err
				}
				g.expect, g.probed = pend[len(pend)-1].seq+1, time.Now()
				pend, seen = pend[:0], map[string]bool{}
				return nil
			}
			for {
				p, err := decodeChange(msg)
				if err != nil {
					return err
				}
				if p.c.Mark != "" {
					// A re-backfill's marker (sweep.go): after the changes
					// before it, alone.
					if err := flush(); err != nil {
						return err
					}
					if err := m.applyMark(ctx, p, origin, created); err != nil {
						return err
					}
					g.expect = p.seq + 1
				} else {
					k := p.c.Table + "\x00" + string(attr.AppendBinary(nil, p.c.Keys))
					if seen[k] {
						if err := flush(); err != nil {
							return err
						}
					}
					seen[k] = true
					pend = append(pend, p)
					if len(pend) == applyBatch {
						break
					}
				}
				select {
				case msg, open = <-msgs:
				default:
					msg = nil
				}
				if msg == nil {
					break
				}
			}
			if err := flush(); err != nil {
				return err
			}
			applied = true
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		if !applied {
			if err := m.probeIdle(ctx, g, table, origin); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// applyBatch is the most changes one Pebble batch applies.
const applyBatch = 256

type pending struct {
	c   change
	seq uint64 // JetStream stream sequence
}

func decodeChange(msg jetstream.Msg) (pending, error) {
	md, err := msg.Metadata()
	if err != nil {
		return pending{}, err
	}
	var c change
	if err := json.Unmarshal(msg.Data(), &c); err != nil {
		return pending{}, fmt.Errorf("global: change at stream sequence %d: %w", md.Sequence.Stream, err)
	}
	return pending{c: c, seq: md.Sequence.Stream}, nil
}

// applyAll applies changes of distinct items in one write (all or none),
// with the checkpoint of the last.
func (m *Manager) applyAll(ctx context.Context, pend []pending, origin string, created int64, lag *lagStats) error {
	if len(pend) == 0 {
		return nil
	}
	muts := make([]store.Mutation, len(pend))
	keys := make([][]byte, len(pend))
	seen := make([][]byte, len(pend)) // 'r' keys of the items of the snapshot being received (sweep.go)
	won := make([]bool, len(pend))
	snap := ""
	for _, p := range pend {
		if p.c.Snap != "" {
			var err error
			if snap, err = m.receiving(p.c.Table, origin); err != nil {
				return err
			}
			break
		}
	}
	for i, p := range pend {
		t := m.db.TableIn(m.opts.Region, p.c.Table)
		if t == nil {
			return fmt.Errorf("%w: %s", errNoTable, p.c.Table)
		}
		keys[i] = m.itemMetaKey(t, p.c.Keys)
		if snap != "" && p.c.Snap == snap {
			seen[i] = seenKey(t.ID, origin, keys[i])
		}
		muts[i] = store.Mutation{Table: t, Key: t.KeyOf(p.c.Keys), Apply: func(old attr.Item) (attr.Item, error) {
			cur, ok, err := m.getMeta(keys[i])
			if err != nil {
				return nil, err
			}
			won[i] = !ok || cur.newer(p.c.TS, p.c.Region)
			if !won[i] {
				return old, nil
			}
			return p.c.New, nil
		}}
	}
	last := pend[len(pend)-1]
	_, err := m.db.Write(ctx, store.WriteOptions{Principal: store.Principal{Type: PrincipalType, ID: origin}, Op: "Replication",
		Extra: func(b *store.Batch) error {
			for i, p := range pend {
				if seen[i] != nil {
					if err := m.ks.Set(b, seen[i], nil); err != nil {
						return err
					}
				}
				if won[i] {
					if err := m.ks.Set(b, keys[i], meta{TS: p.c.TS, Region: p.c.Region, Deleted: p.c.New == nil, Keys: p.c.Keys}.encode()); err != nil {
						return err
					}
				}
			}
			return m.ks.Set(b, checkpointKey(last.c.Table, origin), checkpointValue(last.seq, created))
		}}, muts...)
	if err != nil {
		return err
	}
	now := time.Now().UnixMicro()
	for _, p := range pend {
		lag.add(now-p.c.TS, p.seq)
		// A backfilled item written before the table was global has no
		// timestamp (0): its "latency" is no replication's.
		if m.opts.OnApplied != nil && p.c.TS > 0 {
			m.opts.OnApplied(p.c.Table, origin, time.Duration(now-p.c.TS)*time.Microsecond)
		}
	}
	return nil
}

// lagStats keeps the replication lag of the last changes applied from one
// region: the time from the origin's write to the apply here.
type lagStats struct {
	mu      sync.Mutex
	samples []int64 // µs, a ring of the last lagSamples
	next    int
	applied uint64 // the last stream sequence applied
	at      time.Time
	resyncs uint64 // gaps repaired by a re-backfill (resync.go)
}

func (l *lagStats) resynced() {
	l.mu.Lock()
	l.resyncs++
	l.mu.Unlock()
}

const lagSamples = 4096

func (l *lagStats) add(us int64, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) < lagSamples {
		l.samples = append(l.samples, us)
	} else {
		l.samples[l.next] = us
		l.next = (l.next + 1) % lagSamples
	}
	l.applied, l.at = seq, time.Now()
}

// Lag summarizes the replication lag from one region.
type Lag struct {
	Origin       string        `json:"origin"`
	Applied      uint64        `json:"appliedSequence"` // the last JetStream sequence applied
	LastApplied  time.Time     `json:"lastApplied,omitzero"`
	Resyncs      uint64        `json:"resyncs"` // gaps (changes trimmed unseen) repaired by a re-backfill
	Samples      int           `json:"samples"`
	P50, P99, Mx time.Duration `json:"-"`
	P50ms        float64       `json:"p50Ms"`
	P99ms        float64       `json:"p99Ms"`
	MaxMs        float64       `json:"maxMs"`
}

func (l *lagStats) summary(origin string) Lag {
	l.mu.Lock()
	s := slices.Clone(l.samples)
	out := Lag{Origin: origin, Applied: l.applied, LastApplied: l.at, Samples: len(s), Resyncs: l.resyncs}
	l.mu.Unlock()
	if len(s) == 0 {
		return out
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) time.Duration { return time.Duration(s[int(p*float64(len(s)-1))]) * time.Microsecond }
	out.P50, out.P99, out.Mx = q(0.5), q(0.99), time.Duration(s[len(s)-1])*time.Microsecond
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	out.P50ms, out.P99ms, out.MaxMs = ms(out.P50), ms(out.P99), ms(out.Mx)
	return out
}
