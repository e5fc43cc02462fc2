package global

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// Multi-Region strong consistency (MRSC).
//
// A table whose replica set has Consistency STRONG does not use the outbox
// and the per-origin consumers. Instead:
//
//  1. Write (Prepare, item locks held, the condition already evaluated on
//     the local item): the change is published synchronously to the stream
//     EDDY_GLOBAL_SC (replicated across the regions' NATS servers: R3 in a
//     JetStream cluster) on the item's subject
//     <prefix>.sc.<table>.<epoch>.<sha256(key)[:16] hex>, with
//     Nats-Expected-Last-Subject-Sequence = the stream sequence of the
//     item's last write applied here (0: none). JetStream accepts it only if
//     no other write to the item came between: the write is then ordered,
//     and the local batch records the item with its new sequence. A wrong
//     last sequence means another region's write to the item came first:
//     ReplicatedWriteConflictException, nothing written. No ack within
//     StrongTimeout: InternalServerError, nothing written here (a publish
//     the stream did store is applied by the consumer later, as any write).
//  2. Apply: one ordered consumer per table reads the table's subjects
//     from the checkpoint on and applies each change whose sequence is
//     above the item's ('q' key), committing the item, its sequence and
//     the checkpoint in one batch. A change this region wrote is already
//     there (same sequence) and only moves the checkpoint.
//  3. Read barrier (strongly consistent reads, and before every write so
//     that conditions see the latest item): the last sequence of the
//     item's subject (GetItem, a write) or of the table's subjects (Query,
//     Scan), asked of the stream (its leader: a quorum); then wait until
//     the item's sequence, or the table's current position (strongTable:
//     not the consumer's position), reaches it. No answer within
//     StrongTimeout: InternalServerError. Eventually consistent reads read
//     locally and never wait.
//
// Linearizability: writes to one item are totally ordered by the stream;
// a write is acknowledged only once stored by the stream and applied
// here; a read returns the item as of a sequence at least the last one
// the stream held when the read began.

// Multi-Region consistency modes, as DynamoDB's MultiRegionConsistency.
const (
	ConsistencyStrong   = "STRONG"
	ConsistencyEventual = "EVENTUAL"
)

// scOrigin is the origin of the MRSC consumer's checkpoint key ('c' table
// 0x00 scOrigin): no region is named "*".
const scOrigin = "*"

// errStrongUnavailable: the stream did not answer within StrongTimeout (this
// region cannot reach a quorum of the NATS servers).
func errStrongUnavailable(what string, err error) error {
	return fmt.Errorf("global: %s: %w: %w", what, err, ddberr.New(ddberr.KindInternal, ""))
}

// strongTable is the MRSC state of one table in this region.
//
// The stream keeps each item's last write only (ensureStrongStream), so the
// consumer's position (applied) does not say that every write at or below
// it is reflected here: a write it skipped, deleted from the stream by the
// item's next write, is reflected only once that next write is applied,
// which may sit beyond the position. So the table barrier (Query, Scan)
// waits for current instead: a position at which the consumer had nothing
// left to read (NumPending 0). At that moment each item's last write was
// still in the stream (only a newer write to the item deletes it), at or
// below the position, and was therefore delivered and applied; every write
// stored before it, and so every write at or below current, is reflected.
// An item's barrier (GetItem, a write) waits for the item's own sequence
// ('q') instead, which the consumer moves to the item's last write or a
// later one.
type strongTable struct {
	mu      sync.Mutex
	applied uint64        // the consumer's position: the last sequence applied (the checkpoint)
	current uint64        // every write at or below it is reflected here (above)
	changed chan struct{} // closed (and replaced) on every apply here
}

func newStrongTable() *strongTable { return &strongTable{changed: make(chan struct{})} }

// advance records that sequences up to seq are applied (seq 0: an item's
// sequence moved, not the position), that the consumer had then read all
// the stream held (caughtUp: current moves to the position), and wakes the
// barriers.
func (s *strongTable) advance(seq uint64, caughtUp bool) {
	s.mu.Lock()
	s.applied = max(s.applied, seq)
	if caughtUp {
		s.current = s.applied
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// state returns the position, current and the channel closed on the next
// advance.
func (s *strongTable) state() (applied, current uint64, changed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied, s.current, s.changed
}

func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (m *Manager) strongStream() string { return m.opts.Stream + "_SC" }

// strongTablePrefix is the subject prefix of a table's MRSC changes.
func (m *Manager) strongTablePrefix(table, epoch string) string {
	tok := []byte(table)
	for i, c := range tok {
		if c == '.' {
			tok[i] = '~'
		}
	}
	return m.opts.Subject + ".sc." + string(tok) + "." + epoch
}

// strongSubject is an item's subject: two items whose hashes collide share
// it, which makes their writes conflict more often, and (the stream keeping
// one message per subject) would leave a region catching up without the
// older one's last write; with 128 bits of SHA-256 that takes about 2^64
// items of one table.
func (m *Manager) strongSubject(t *store.Table, epoch string, keys attr.Item) string {
	k := attr.AppendKey(nil, keys[t.Hash.Name])
	if t.Range != nil {
		k = attr.AppendKey(k, keys[t.Range.Name])
	}
	h := sha256.Sum256(k)
	return m.strongTablePrefix(t.Name, epoch) + "." + hex.EncodeToString(h[:16])
}

// itemSeqKey is 'q' <table id:4> enc(pk) [enc(sk)]: the stream sequence of
// the item's last MRSC write applied here (u64be).
func (m *Manager) itemSeqKey(t *store.Table, keys attr.Item) []byte {
	k := m.itemMetaKey(t, keys)
	k[0] = pItemSeq
	return k
}

func (m *Manager) itemSeq(key []byte) (uint64, error) {
	v, ok, err := m.ks.Get(key)
	if err != nil || !ok || len(v) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

// strong returns the table's MRSC state and replica set, nil when the
// table is not an MRSC global table of this region.
func (m *Manager) strong(table string) (*strongTable, replicaSet) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil || ts.set.Consistency != ConsistencyStrong {
		return nil, replicaSet{}
	}
	return ts.strong, ts.set
}

// Witnesses are DescribeTable's GlobalTableWitnesses: the MRSC table's
// witness regions (ACTIVE from the start: nothing is created there).
func (m *Manager) Witnesses(region, table string) []Replica {
	if region != m.opts.Region {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil {
		return nil
	}
	var out []Replica
	for _, r := range ts.set.Replicas {
		if r.Witness {
			out = append(out, r)
		}
	}
	return out
}

// Consistency is DescribeTable's MultiRegionConsistency of a global table
// ("" when the table is not global).
func (m *Manager) Consistency(region, table string) string {
	if region != m.opts.Region {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	switch {
	case ts == nil:
		return ""
	case ts.set.Consistency == ConsistencyStrong:
		return ConsistencyStrong
	default:
		return ConsistencyEventual
	}
}

// strongChange is a local change of an MRSC table, with its replica set.
type strongChange struct {
	c   store.Change
	set replicaSet
}

// prepareStrong publishes the local changes of MRSC tables of one write
// and records each item's new sequence in b (invariant 1 above). Several
// (BatchWriteItem) are published as one JetStream atomic batch: each with
// its item's expected last sequence, stored all together (on consecutive
// sequences) or not at all, so a conflict on one item refuses the whole
// request with ReplicatedWriteConflictException and leaves nothing of it
// anywhere; DynamoDB's message says as much ("one or more items in the
// request are being modified by a request in another Region"). On a stream
// that does not take atomic batches (a nats-server before 2.12) they are
// published one by one, and a conflict leaves the items before it stored.
func (m *Manager) prepareStrong(b *store.Batch, changes []strongChange) error {
	if len(changes) == 0 {
		return nil
	}
	msgs := make([]*nats.Msg, len(changes))
	keys := make([][]byte, len(changes))
	for i, sc := range changes {
		c := sc.c
		keys[i] = m.itemSeqKey(c.Table, c.Keys)
		prev, err := m.itemSeq(keys[i])
		if err != nil {
			return err
		}
		body, err := json.Marshal(change{Table: c.Table.Name, Keys: c.Keys, New: c.New, TS: time.Now().UnixMicro(), Region: m.opts.Region})
		if err != nil {
			return err
		}
		if m.opts.BeforeStrongPublish != nil {
			m.opts.BeforeStrongPublish(c.Table.Name, c.Keys)
		}
		msgs[i] = nats.NewMsg(m.strongSubject(c.Table, sc.set.Epoch, c.Keys))
		msgs[i].Data = body
		msgs[i].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(prev, 10))
	}
	ctx, cancel := context.WithTimeout(m.group.Context(), m.opts.StrongTimeout)
	defer cancel()
	js, nc, err := m.jetStream(ctx)
	if err != nil {
		return errStrongUnavailable("MRSC write", err)
	}
	m.mu.Lock()
	atomic := m.atomic
	m.mu.Unlock()
	seqs := make([]uint64, len(msgs))
	if len(msgs) > 1 && atomic {
		last, err := publishAtomic(ctx, js, nc, msgs)
		if err != nil {
			return m.strongPublishError(err)
		}
		for i := range seqs {
			seqs[i] = last - uint64(len(msgs)-1-i)
		}
	} else {
		for i, msg := range msgs {
			ack, err := js.PublishMsg(ctx, msg)
			if err != nil {
				return m.strongPublishError(err)
			}
			seqs[i] = ack.Sequence
		}
	}
	m.scFail.Report(nil)
	for i, k := range keys {
		if err := m.ks.Set(b, k, binary.BigEndian.AppendUint64(nil, seqs[i])); err != nil {
			return err
		}
	}
	return nil
}

// strongPublishError maps a refused or unanswered MRSC publish to
// DynamoDB's error.
func (m *Manager) strongPublishError(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return ddberr.New(ddberr.KindReplicatedWriteConflict, "")
	}
	m.scFail.Report(err)
	return errStrongUnavailable("MRSC write", err)
}

// publishAtomic publishes msgs as one JetStream atomic batch (ADR-50:
// Nats-Batch-Id, Nats-Batch-Sequence from 1, Nats-Batch-Commit on the
// last) and returns the stream sequence of the last; the batch's messages
// are stored on consecutive sequences, or none is.
func publishAtomic(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, msgs []*nats.Msg) (uint64, error) {
	id := newEpoch()
	for i, msg := range msgs {
		msg.Header.Set("Nats-Batch-Id", id)
		msg.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		switch {
		case i == len(msgs)-1:
			msg.Header.Set("Nats-Batch-Commit", "1")
			ack, err := js.PublishMsg(ctx, msg)
			if err != nil {
				return 0, err
			}
			return ack.Sequence, nil
		case i == 0:
			// The first is a request: the stream answers once the batch
			// is open (or refuses it).
			if _, err := nc.RequestMsgWithContext(ctx, msg); err != nil {
				return 0, err
			}
		default:
			if err := nc.PublishMsg(msg); err != nil {
				return 0, err
			}
		}
	}
	return 0, errors.New("global: an empty atomic batch")
}

// ReadBarrier waits until this region has applied every MRSC write the
// stream held when it was called: to the item of keys, or to the whole
// table when keys is nil. It returns at once for a table that is not an
// MRSC global table of this region, and InternalServerError when the
// stream does not answer within StrongTimeout.
func (m *Manager) ReadBarrier(ctx context.Context, region, table string, t *store.Table, keys attr.Item) error {
	if region != m.opts.Region {
		return nil
	}
	st, set := m.strong(table)
	if st == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.StrongTimeout)
	defer cancel()
	js, _, err := m.jetStream(ctx)
	if err != nil {
		return errStrongUnavailable("MRSC read barrier", err)
	}
	subj := m.strongTablePrefix(table, set.Epoch) + ".>"
	if keys != nil {
		subj = m.strongSubject(t, set.Epoch, keys)
	}
	// The stream's answer; a failure (no leader while one is elected, a
	// link down) is retried until StrongTimeout.
	var last *jetstream.RawStreamMsg
	for {
		var stream jetstream.Stream
		stream, err = js.Stream(ctx, m.strongStream())
		if err == nil {
			last, err = stream.GetLastMsgForSubject(ctx, subj)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				m.scFail.Report(nil)
				return nil
			}
		}
		if err == nil {
			break
		}
		if !lifecycle.Sleep(ctx, 50*time.Millisecond) {
			m.scFail.Report(err)
			return errStrongUnavailable("MRSC read barrier", err)
		}
	}
	m.scFail.Report(nil)
	var key []byte
	if keys != nil {
		key = m.itemSeqKey(t, keys)
	}
	for {
		_, current, changed := st.state()
		if key == nil && current >= last.Sequence {
			return nil
		}
		if key != nil {
			seq, err := m.itemSeq(key)
			if err != nil {
				return err
			}
			if seq >= last.Sequence {
				return nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return errStrongUnavailable("MRSC read barrier: waiting for sequence "+strconv.FormatUint(last.Sequence, 10), ctx.Err())
		}
	}
}

// syncStrongLocked starts the table's MRSC consumer (one for all regions)
// if it has none. m.mu is held.
func (m *Manager) syncStrongLocked(table string, ts *tableState) {
	if ts.strong == nil {
		ts.strong = newStrongTable()
		if cp, err := m.checkpoint(table, scOrigin); err == nil {
			ts.strong.applied = cp
		}
	}
	if ts.consumers[scOrigin] != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.group.Context())
	ts.consumers[scOrigin] = cancel
	st, epoch := ts.strong, ts.set.Epoch
	m.group.Go("MRSC consumer "+table, func(context.Context) {
		fail := lifecycle.Failures{Log: m.log.With("table", table), What: "global tables: applying MRSC changes", Level: slog.LevelWarn}
		for {
			err := m.consumeStrong(ctx, table, epoch, st)
			if ctx.Err() != nil {
				return
			}
			fail.Report(err)
			if !lifecycle.Sleep(ctx, m.opts.RetryBackoff) {
				return
			}
		}
	})
}

func (m *Manager) consumeStrong(ctx context.Context, table, epoch string, st *strongTable) error {
	cons, err := m.orderedAfterCheckpoint(ctx, m.strongStream(), []string{m.strongTablePrefix(table, epoch) + ".>"}, table, scOrigin)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		if m.opts.BeforeStrongApply != nil {
			m.opts.BeforeStrongApply(table, 0)
		}
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			p, err := decodeChange(msg)
			if err != nil {
				return err
			}
			md, err := msg.Metadata()
			if err != nil {
				return err
			}
			if m.opts.BeforeStrongApply != nil {
				m.opts.BeforeStrongApply(table, p.seq)
			}
			if err := m.applyStrong(ctx, p); err != nil {
				return err
			}
			st.advance(p.seq, md.NumPending == 0)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		if n == 0 {
			// Nothing new: a table idle since this region's restart has
			// delivered nothing that says the position is current.
			if applied, current, _ := st.state(); current < applied {
				info, err := cons.Info(ctx)
				if err != nil {
					return err
				}
				if info.NumPending == 0 {
					st.advance(0, true)
				}
			}
		}
	}
	return ctx.Err()
}

// applyStrong applies one MRSC change if it is newer than the item here,
// with the item's sequence and the checkpoint, in one batch.
func (m *Manager) applyStrong(ctx context.Context, p pending) error {
	t := m.db.TableIn(m.opts.Region, p.c.Table)
	if t == nil {
		return fmt.Errorf("%w: %s", errNoTable, p.c.Table)
	}
	key := m.itemSeqKey(t, p.c.Keys)
	won := false
	_, err := m.db.Write(ctx, store.WriteOptions{Principal: store.Principal{Type: PrincipalType, ID: p.c.Region}, Op: "Replication",
		Extra: func(b *store.Batch) error {
			if won {
				if err := m.ks.Set(b, key, binary.BigEndian.AppendUint64(nil, p.seq)); err != nil {
					return err
				}
			}
			return m.ks.Set(b, checkpointKey(p.c.Table, scOrigin), binary.BigEndian.AppendUint64(nil, p.seq))
		}}, store.Mutation{Table: t, Key: t.KeyOf(p.c.Keys), Apply: func(old attr.Item) (attr.Item, error) {
		cur, err := m.itemSeq(key)
		if err != nil {
			return nil, err
		}
		won = cur < p.seq
		if !won {
			return old, nil
		}
		return p.c.New, nil
	}})
	return err
}

// ensureStrongStream creates EDDY_GLOBAL_SC, or bounds one made before its
// retention was: MaxMsgsPerSubject 1 keeps only each item subject's last
// write (a full image, or a delete), which is all that the protocol reads:
//
//   - the expected last subject sequence of a write is the subject's last
//     message, which is kept;
//   - a read barrier asks for the last message of the item's subject, or
//     of the table's (the table's last is the last of its own subject);
//   - a region catching up from its checkpoint gets, for each item written
//     since, its last write, whose image is the item's state after every
//     earlier one (those it skips); a write at or below the checkpoint is
//     applied already. So a region down for any time catches up from the
//     stream itself: it replays one message per item changed meanwhile,
//     which is the re-backfill, and nothing is ever trimmed unseen.
//
// The stream holds one message per item key ever written (a deleted key
// keeps its delete, as the 'q' key does here): bounded by the tables'
// keys, not by time. Two items whose subject hashes (128 bits) collide
// would lose the older's message; see strongSubject.
//
// Direct gets stay off: with them nats.go asks any replica for a subject's
// last message, and a replica behind would give a read barrier a sequence
// older than a write already acknowledged.
//
// It also allows atomic batches (a BatchWriteItem's items, prepareStrong),
// and records whether the server took that setting (nats-server 2.12 and
// later do; an older one ignores it).
func (m *Manager) ensureStrongStream(ctx context.Context, js jetstream.JetStream) error {
	s, err := js.Stream(ctx, m.strongStream())
	switch {
	case err == nil:
		if cfg := s.CachedInfo().Config; cfg.MaxMsgsPerSubject != 1 || !cfg.AllowAtomicPublish || cfg.AllowDirect {
			cfg.MaxMsgsPerSubject, cfg.AllowAtomicPublish, cfg.AllowDirect = 1, true, false
			if s, err = js.UpdateStream(ctx, cfg); err != nil {
				return err
			}
		}
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return err
	default:
		s, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: m.strongStream(), Subjects: []string{m.opts.Subject + ".sc.>"},
			Storage: jetstream.FileStorage, MaxMsgsPerSubject: 1, AllowAtomicPublish: true, Replicas: max(m.opts.StreamReplicas, 1)})
		if err != nil {
			var err2 error
			if s, err2 = js.Stream(ctx, m.strongStream()); err2 != nil {
				return err
			}
			// another region created it first
		}
	}
	atomic := s.CachedInfo().Config.AllowAtomicPublish
	if !atomic {
		m.log.Warn("global tables: the NATS server does not take atomic batches (nats-server 2.12 or later does): an MRSC BatchWriteItem is published item by item")
	}
	m.mu.Lock()
	m.atomic = atomic
	m.mu.Unlock()
	return nil
}

// The refusals of MRSC's control plane use DynamoDB's messages as a
// behaviour catalogue recorded them from the service (ack-api-quirks
// services/dynamodb, table-global-tables.md, DDB-TABLE-202, -257, -260,
// -261, verified 2026-10-09), unless marked eddy's wording.
const (
	errMsgStrongCount      = "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG."
	errMsgStrongRegions    = "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [%s]."
	errMsgWitnessLocal     = "Cannot add a witness in the same region as an existing replica when creating a global table with MultiRegionConsistency set to STRONG."
	errMsgSameRegion       = "Cannot target multiple regions with the same action"
	errMsgModeExisting     = "MultiRegionConsistency parameter is unsupported on existing global table"
	errMsgStrongAddReplica = "Cannot add replicas to a global table with strong MultiRegionConsistency"
	errMsgStrongDeleteOne  = "Deletion of only one table replica is not supported for global tables with MultiRegionConsistency set to STRONG."
	errMsgStrongWitnesses  = "Update table delete operation does not include all witnesses."
)

// CreateStrong makes a table of this region an MRSC global table with
// replicas in the regions of replicas: UpdateTable with ReplicaUpdates
// (Create) and MultiRegionConsistency STRONG. DynamoDB's rules, in the order
// it checks them (DDB-TABLE-257, -202): exactly three regions (this one and
// two replicas, or one replica and a witness); every region able to hold
// an MRSC table (eddy: one of --global-regions); the witness in none of the
// replicas' regions; a table not yet global. The table must also be empty
// and have no Time to Live. No Region set rule: DynamoDB documents one
// (CreateGlobalTableWitnessGroupMemberAction) but accepted a eu-west-1
// replica with a us-east-2 witness of a us-west-2 table (DDB-TABLE-257).
// The replicas are created in the background as UpdateReplica's are.
func (m *Manager) CreateStrong(ctx context.Context, region, table string, replicas, witnesses []string) error {
	if region != m.opts.Region {
		return ddberr.Validationf("Global tables of this server are in region %s (--region); %s is not", m.opts.Region, region)
	}
	if len(witnesses) > 1 {
		// The API's constraint refuses it first (api/strong.go); eddy's
		// wording.
		return ddberr.Validationf("An MRSC global table can have only one witness; got %d", len(witnesses))
	}
	if len(replicas)+len(witnesses) != 2 {
		return ddberr.Validationf(errMsgStrongCount)
	}
	for _, w := range witnesses {
		if w == m.opts.Region {
			return ddberr.Validationf(errMsgWitnessLocal)
		}
	}
	all := append(slices.Clone(replicas), witnesses...)
	var unsupported []string
	for _, r := range all {
		if r == m.opts.Region {
			// DynamoDB's answer for a replica in the table's own region
			// (aws/aws-cli#4906).
			return ddberr.Validationf("Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.")
		}
		if !slices.Contains(m.opts.Regions, r) && !slices.Contains(unsupported, r) {
			unsupported = append(unsupported, r)
		}
	}
	if len(unsupported) > 0 {
		// DynamoDB's answer for a region that holds no MRSC tables
		// (us-west-1); eddy's regions are those of --global-regions.
		return ddberr.Validationf(errMsgStrongRegions, strings.Join(unsupported, ", "))
	}
	if all[0] == all[1] {
		// Recorded for the witness in the replica's region; two replica
		// Creates of one region are answered alike (eddy's assumption).
		return ddberr.Validationf(errMsgSameRegion)
	}
	t := m.db.TableIn(region, table)
	if t == nil {
		return ddberr.TableNotFound(table)
	}
	if m.isGlobal(table) {
		return ddberr.Validationf(errMsgModeExisting)
	}
	if t.TTL.Enabled {
		return errStrongTTL(table)
	}
	if t.HasLocalIndexes() {
		// "Local secondary indexes (LSIs) are not supported for MRSC global
		// tables" (developer guide, "Global tables core concepts", MRSC).
		// eddy's wording, not compared with the service.
		return ddberr.Validationf("Local secondary indexes are not supported on global tables with MultiRegionConsistency STRONG: table %s", table)
	}
	empty := true
	if _, err := m.db.Read(ctx, &store.ReadSpec{Table: t, Limit: 1}, func(store.Row) error { empty = false; return nil }); err != nil {
		return err
	}
	if !empty {
		// DynamoDB: a table must be empty to become an MRSC global table
		// (developer guide's MRSC example: "Table must be empty when
		// enabling MRSC"). eddy's wording, not compared with the service.
		return ddberr.Validationf("Table %s must be empty to become a global table with MultiRegionConsistency STRONG", table)
	}
	if m.opts.StreamReplicas > 1 {
		_, nc, err := m.jetStream(ctx)
		if err != nil {
			return err
		}
		if v := nc.ConnectedServerVersion(); !serializesConditionalPublish(v) {
			// Not a DynamoDB error: eddy refuses a guarantee its NATS
			// cannot keep (natsversion.go) rather than acknowledge
			// conflicting writes. eddy's wording.
			return ddberr.Validationf("MultiRegionConsistency STRONG needs nats-server 2.10 or later when the global streams are replicated (--global-stream-replicas %d); this region's nats-server is %s, which can accept two conflicting writes to one item (nats-io/nats-server#4320)", m.opts.StreamReplicas, v)
		}
	}
	if err := m.lockTable(ctx, table, opReplicas); err != nil {
		return err
	}
	err := m.createStrongLocked(table, replicas, witnesses)
	if err != nil {
		m.releaseIfIdle(table)
	}
	return err
}

func (m *Manager) createStrongLocked(table string, replicas, witnesses []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tables[table] != nil {
		// A global table already (made one since CreateStrong checked).
		return ddberr.Validationf(errMsgModeExisting)
	}
	set := replicaSet{Replicas: []Replica{{Region: m.opts.Region, Status: StatusActive}}, Consistency: ConsistencyStrong, Epoch: newEpoch()}
	for _, r := range replicas {
		set.Replicas = append(set.Replicas, Replica{Region: r, Status: StatusCreating, By: m.opts.Region})
	}
	for _, w := range witnesses {
		set.Replicas = append(set.Replicas, Replica{Region: w, Status: StatusActive, Witness: true})
	}
	if err := m.saveLocked(table, set); err != nil {
		return err
	}
	m.goCreateInTurn(table, replicas)
	return nil
}

// goCreateInTurn creates the replicas one after the other: each creation
// ends by sending the replica set to every replica, and two such sends
// racing could leave a region with the older set.
func (m *Manager) goCreateInTurn(table string, targets []string) {
	m.group.Go("create MRSC replicas of "+table, func(ctx context.Context) {
		for _, target := range targets {
			m.retry(ctx, "creating replica", table, target, m.createReplica)
		}
		m.releaseIfIdle(table)
	})
}

// DeleteStrong removes replicas (and the witness) of an MRSC global table
// of this region: UpdateTable with ReplicaUpdates Delete (and
// GlobalTableWitnessUpdates Delete). DynamoDB's rules: an MRSC global table
// of three replicas loses two in one UpdateTable, and one of two replicas
// and a witness loses the replica and the witness together; either leaves
// this region's table a single-Region table (developer guide, "Deleting an
// MRSC global table"; recorded from the service, DDB-TABLE-260, -261: one
// replica of three is refused with "Deletion of only one table replica is
// not supported ...", the replica without the witness with "Update table
// delete operation does not include all witnesses."; a witness Delete
// alone counts as no change, api/strong.go). The replicas are deleted in
// the background, one after the other, as UpdateReplica's are; the witness
// leaves the set at once (nothing runs there).
func (m *Manager) DeleteStrong(ctx context.Context, region, table string, replicas, witnesses []string) error {
	if region != m.opts.Region {
		return ddberr.Validationf("Global tables of this server are in region %s (--region); %s is not", m.opts.Region, region)
	}
	for _, r := range append(slices.Clone(replicas), witnesses...) {
		if r == m.opts.Region {
			return ddberr.Validationf("Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.")
		}
	}
	if m.db.TableIn(region, table) == nil {
		return ddberr.TableNotFound(table)
	}
	if err := m.lockTable(ctx, table, opReplicas); err != nil {
		return err
	}
	err := m.deleteStrongLocked(table, replicas, witnesses)
	if err != nil {
		m.releaseIfIdle(table)
	}
	return err
}

func (m *Manager) deleteStrongLocked(table string, replicas, witnesses []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil || ts.set.Consistency != ConsistencyStrong {
		return ddberr.Validationf("GlobalTableWitnessUpdates Delete applies to a global table with MultiRegionConsistency STRONG; table %s is not one", table)
	}
	set := ts.set.clone()
	hasWitness := slices.ContainsFunc(set.Replicas, func(r Replica) bool { return r.Witness })
	for _, r := range set.Replicas {
		if r.Status != StatusActive {
			return ddberr.New(ddberr.KindResourceInUse, "Attempt to change a resource which is still in use: Table is being updated: %s", table)
		}
	}
	for _, r := range replicas {
		if i := set.find(r); i < 0 || set.Replicas[i].Witness {
			return ddberr.Validationf("Failed to delete the replica of table %s in region %s: the region has none", table, r)
		}
	}
	for _, w := range witnesses {
		if i := set.find(w); i < 0 || !set.Replicas[i].Witness {
			return ddberr.Validationf("Failed to delete the witness of table %s in region %s: the region is not its witness", table, w)
		}
	}
	switch {
	case len(witnesses) > 0 && len(replicas) == 0:
		// Unreachable through UpdateTable, which answers a witness Delete
		// alone as no change; the API reference's sentence
		// (DeleteGlobalTableWitnessGroupMemberAction).
		return ddberr.Validationf("You cannot delete a single witness from a MRSC global table - you must delete both a replica and the witness together.")
	case hasWitness && len(witnesses) == 0:
		return ddberr.Validationf(errMsgStrongWitnesses)
	case hasWitness && len(replicas) != 1:
		// eddy's wording, not compared with the service.
		return ddberr.Validationf("A global table with MultiRegionConsistency STRONG and a witness loses its replica and its witness together, in one UpdateTable; got %d replica and %d witness deletions", len(replicas), len(witnesses))
	case len(replicas) == 2 && replicas[0] == replicas[1]:
		return ddberr.Validationf(errMsgSameRegion)
	case !hasWitness && len(replicas) == 1:
		return ddberr.Validationf(errMsgStrongDeleteOne)
	case !hasWitness && len(replicas) != 2:
		// eddy's wording, not compared with the service.
		return ddberr.Validationf("A global table with MultiRegionConsistency STRONG and three replicas loses two of them together, in one UpdateTable, leaving a single-Region table; got %d replica deletion(s)", len(replicas))
	}
	set.Replicas = slices.DeleteFunc(set.Replicas, func(r Replica) bool { return r.Witness })
	for _, r := range replicas {
		i := set.find(r)
		set.Replicas[i].Status, set.Replicas[i].By = StatusDeleting, m.opts.Region
	}
	if err := m.saveLocked(table, set); err != nil {
		return err
	}
	m.goDeleteInTurn(table, replicas)
	return nil
}

// goDeleteInTurn deletes the replicas one after the other (as
// goCreateInTurn creates them).
func (m *Manager) goDeleteInTurn(table string, targets []string) {
	m.group.Go("delete MRSC replicas of "+table, func(ctx context.Context) {
		for _, target := range targets {
			m.retry(ctx, "deleting replica", table, target, m.deleteReplica)
		}
		m.releaseIfIdle(table)
	})
}
