package global

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/lifecycle"
)

// Control-plane changes of a global table are serialized across regions by
// one key per table in the JetStream key-value bucket <Stream>_CTL (its
// stream replicated like the others): a region starting a change creates
// the key (kv.Create, which JetStream refuses when the key exists: the
// check is the stream's, no consensus of eddy's own), and deletes it once
// the change is done everywhere (replicas created or deleted, settings or
// the Time to Live applied in every region). A second change meanwhile, in
// any region, is refused as DynamoDB refuses a change to a table being
// updated:
//
//   - ReplicaUpdates (and an MRSC creation or deletion) and a TTL change
//     over a replica change: ResourceInUseException "Attempt to change a
//     resource which is still in use: Table is being updated: NAME";
//   - UpdateTimeToLive over a TTL change: ValidationException "Time to
//     live has been modified multiple times within a fixed interval",
//     DynamoDB's answer to a second TTL change within its interval
//     (recorded from the service: terraform-provider-aws
//     internal/service/dynamodb/table_test.go, "TTL tests must be split").
//
// The key names its holder region and operation, and is a lease: the
// holder renews it (a kv.Update with the revision it last wrote) every
// ControlLockLease/4 while its change runs, and a change in another region
// that finds it not renewed for longer than ControlLockLease takes it over
// (a kv.Update with the revision it read: of two regions taking it over at
// once, one fails), logging the holder it replaces. A holder whose renewal
// or release finds another revision has lost the lease: it logs it once and
// writes the key no more, so it never releases another change's lock. A
// region that finds its own key while it runs no change (it crashed between
// taking the key and finishing) takes it over at once; at connect it drops
// its own idle keys and renews those of the changes it resumes.
//
// The lease is the client's, not the bucket's TTL: a key JetStream expires
// leaves no trace of its holder to log, a bucket's TTL is one setting for
// every region's Options, and a per-key TTL needs nats-server 2.11 (eddy
// runs on Debian's 2.9.10). A key's age is the stream's clock at its last
// renewal (the entry's Created) against the stream's clock now (StreamInfo's
// ts, nats-server 2.10 and later), or this region's clock on an older
// server: there, clocks apart by more than ControlLockLease × 3/4 could take
// a live lock over (its holder then logs the loss at its next renewal).
type ctlHold struct {
	Region string    `json:"region"`
	Op     string    `json:"op"` // opReplicas or opTTL
	At     time.Time `json:"at"`
}

const (
	opReplicas = "replicas"
	opTTL      = "ttl"
)

// errTTLInterval is DynamoDB's answer to a TTL change while one is
// in progress.
func errTTLInterval() error {
	return ddberr.Validationf("Time to live has been modified multiple times within a fixed interval")
}

func errTableUpdating(table string) error {
	return ddberr.New(ddberr.KindResourceInUse, "Attempt to change a resource which is still in use: Table is being updated: %s", table)
}

func (m *Manager) ctlBucket() string { return m.opts.Stream + "_CTL" }

// ctlKey is the table's key: hex, as table names may hold characters (a
// leading '.', "..") that KV keys may not.
func ctlKey(table string) string { return hex.EncodeToString([]byte(table)) }

func (m *Manager) ensureCtlBucket(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, m.ctlBucket())
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, err
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: m.ctlBucket(), History: 1, Storage: jetstream.FileStorage,
		Replicas: max(m.opts.StreamReplicas, 1)})
	if err != nil {
		if kv2, err2 := js.KeyValue(ctx, m.ctlBucket()); err2 == nil {
			return kv2, nil // another region created it first
		}
	}
	return kv, err
}

// ctlBusy reports whether this region runs a control change of table: a
// replica not ACTIVE, or a settings or TTL push not done yet.
func (m *Manager) ctlBusy(table string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctlPending[table] > 0 {
		return true
	}
	ts := m.tables[table]
	if ts == nil {
		return false
	}
	for _, r := range ts.set.Replicas {
		if r.Status != StatusActive {
			return true
		}
	}
	return false
}

// lockTable takes table's key for a change (op) by this region, or answers
// DynamoDB's refusal when another change holds it. It answers
// InternalServerError when the key-value store cannot be reached within
// StrongTimeout (a control change needs the NATS system).
func (m *Manager) lockTable(ctx context.Context, table, op string) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.StrongTimeout)
	defer cancel()
	kv, err := m.ctlKV(ctx)
	if err != nil {
		return errStrongUnavailable("global table control lock", err)
	}
	val := mustJSON(ctlHold{Region: m.opts.Region, Op: op, At: time.Now().UTC()})
	key := ctlKey(table)
	// A change that just ended is released a moment after the other
	// regions learn of it (DescribeTable there shows ACTIVE first): a key
	// held is waited for ControlLockWait before the change is refused.
	grace := time.Now().Add(m.opts.ControlLockWait)
	for attempt := 0; attempt < 3; attempt++ {
		var rev uint64
		if rev, err = kv.Create(ctx, key, val); err == nil {
			m.holdLease(table, val, rev)
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			break
		}
		e, gerr := kv.Get(ctx, key)
		if errors.Is(gerr, jetstream.ErrKeyNotFound) || errors.Is(gerr, jetstream.ErrKeyDeleted) {
			continue // released meanwhile
		}
		if gerr != nil {
			err = gerr
			break
		}
		var h ctlHold
		_ = json.Unmarshal(e.Value(), &h) // an unreadable holder is no region's
		if h.Region == m.opts.Region && !m.ctlBusy(table) {
			// Our own key from a change that ended without releasing it
			// yet (its release pending, or a crash): taken over, checked by
			// its revision.
			m.endLease(table)
			if rev, err = kv.Update(ctx, key, val, e.Revision()); err == nil {
				m.holdLease(table, val, rev)
				return nil
			}
			continue
		}
		if h.Region != m.opts.Region {
			if age := m.ctlAge(ctx, kv, e); age > m.opts.ControlLockLease {
				// Not renewed within the lease: its holder is gone.
				if rev, err = kv.Update(ctx, key, val, e.Revision()); err == nil {
					m.log.Warn("global tables: control lock taken over, its holder did not renew it within the lease",
						"table", table, "op", op, "holder", h.Region, "holding", h.Op, "heldSince", h.At, "notRenewedFor", age.Round(time.Millisecond),
						"lease", m.opts.ControlLockLease)
					m.holdLease(table, val, rev)
					return nil
				}
				continue
			}
		}
		if time.Now().Before(grace) && lifecycle.Sleep(ctx, 50*time.Millisecond) {
			attempt--
			continue
		}
		m.log.Info("global tables: control change refused, another is in progress", "table", table, "op", op, "holder", h.Region, "holding", h.Op)
		if op == opTTL && h.Op == opTTL {
			return errTTLInterval()
		}
		return errTableUpdating(table)
	}
	return errStrongUnavailable("global table control lock", err)
}

// ctlKV waits for the connection and returns the bucket.
func (m *Manager) ctlKV(ctx context.Context) (jetstream.KeyValue, error) {
	if _, _, err := m.jetStream(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.kv == nil {
		return nil, fmt.Errorf("global: the control bucket %s is not open", m.ctlBucket())
	}
	return m.kv, nil
}

// releaseIfIdle deletes table's key if this region holds it and runs no
// change of it any more; retried in the background until it is done.
func (m *Manager) releaseIfIdle(table string) {
	if m.ctlBusy(table) {
		return
	}
	m.group.Go("release control lock "+table, func(ctx context.Context) {
		fail := lifecycle.Failures{Log: m.log.With("table", table), What: "global tables: releasing the control lock", Level: slog.LevelWarn}
		for {
			err := m.release(ctx, table)
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

func (m *Manager) release(ctx context.Context, table string) error {
	kv, err := m.ctlKV(ctx)
	if err != nil {
		return err
	}
	if l := m.lease(table); l != nil {
		return l.release(ctx, m, kv)
	}
	if m.ctlBusy(table) {
		return nil // a new change of ours started meanwhile: it holds the key
	}
	e, err := kv.Get(ctx, ctlKey(table))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil
	}
	if err != nil {
		return err
	}
	var h ctlHold
	if json.Unmarshal(e.Value(), &h) != nil || h.Region != m.opts.Region {
		return nil // not ours
	}
	err = kv.Delete(ctx, ctlKey(table), jetstream.LastRevision(e.Revision()))
	if revisionMismatch(err) {
		return nil // changed meanwhile (taken over): no longer ours to drop
	}
	return err
}

// releaseStale drops, once connected, the keys this region holds for
// tables it runs no change of (a change interrupted by a crash).
func (m *Manager) releaseStale(ctx context.Context) {
	kv, err := m.ctlKV(ctx)
	if err != nil {
		return
	}
	lister, err := kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return
	}
	if err != nil {
		m.log.Warn("global tables: listing the control locks", "err", err)
		return
	}
	var tables []string
	for k := range lister.Keys() {
		if b, err := hex.DecodeString(k); err == nil {
			tables = append(tables, string(b))
		}
	}
	for _, t := range tables {
		if !m.ctlBusy(t) {
			m.releaseIfIdle(t)
			continue
		}
		// A change of ours resumed after a restart (a replica still
		// CREATING or DELETING): its key is renewed again if it is still
		// ours; one taken over meanwhile is left to its new holder.
		e, err := kv.Get(ctx, ctlKey(t))
		if err != nil {
			continue // released meanwhile, or unreadable: nothing to renew
		}
		var h ctlHold
		if json.Unmarshal(e.Value(), &h) == nil && h.Region == m.opts.Region && m.lease(t) == nil {
			m.holdLease(t, e.Value(), e.Revision())
		}
	}
}

// internalKey marks the context of a DynamoDB call this package makes
// itself (a replica's DeleteTable for a "delete" control request): it runs
// under the requesting region's lock.
type internalKey struct{}

func internal(ctx context.Context) context.Context {
	return context.WithValue(ctx, internalKey{}, true)
}

// BeginDeleteTable runs before DeleteTable of a table of region: a global
// table's replica leaves the replica set (watchCatalog), a control change,
// so it takes the table's lock across regions and holds it until the other
// replicas were told. done reports whether the table was deleted.
func (m *Manager) BeginDeleteTable(ctx context.Context, region, table string) (done func(applied bool), err error) {
	if region != m.opts.Region || ctx.Value(internalKey{}) != nil || !m.isGlobal(table) {
		return func(bool) {}, nil
	}
	if set, ok := m.set(table); ok && set.Consistency == ConsistencyStrong {
		// An MRSC table's replicas leave together (UpdateTable,
		// DeleteStrong), never one by DeleteTable: DynamoDB's answer in
		// every replica's region (DDB-TABLE-260, strong.go).
		return nil, ddberr.Validationf(errMsgStrongDeleteOne)
	}
	if err := m.lockTable(ctx, table, opReplicas); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.ctlPending[table]++
	m.leaving[table]++
	m.mu.Unlock()
	return func(applied bool) {
		if !applied {
			m.leftSet(table)
		}
	}, nil
}

// leftSet ends a DeleteTable begun here: the other replicas were told (or
// the table was not deleted).
func (m *Manager) leftSet(table string) {
	m.mu.Lock()
	n := m.leaving[table]
	if n > 1 {
		m.leaving[table] = n - 1
	} else {
		delete(m.leaving, table)
	}
	m.mu.Unlock()
	if n > 0 {
		m.ctlDone(table)
	}
}

// ctlStart and ctlDone count a settings or TTL push in progress here.
func (m *Manager) ctlStart(table string) {
	m.mu.Lock()
	m.ctlPending[table]++
	m.mu.Unlock()
}

func (m *Manager) ctlDone(table string) {
	m.mu.Lock()
	if m.ctlPending[table] > 0 {
		m.ctlPending[table]--
	}
	if m.ctlPending[table] == 0 {
		delete(m.ctlPending, table)
	}
	m.mu.Unlock()
	m.releaseIfIdle(table)
}

// ctlLease is this region's hold on a table's control lock: the revision
// of the key it last wrote, renewed in the background until released or
// lost. mu serializes its renewals and its release (each a KV write
// checked against rev); lock order: a lease's mu before Manager.mu.
type ctlLease struct {
	table string
	val   []byte // the key's value, written again at each renewal
	stop  chan struct{}

	mu    sync.Mutex
	rev   uint64
	ended bool // released, lost or replaced: the key is not ours to write
}

// holdLease records the key of table written by this region at rev and
// starts renewing it.
func (m *Manager) holdLease(table string, val []byte, rev uint64) {
	l := &ctlLease{table: table, val: val, rev: rev, stop: make(chan struct{})}
	m.mu.Lock()
	old := m.leases[table]
	m.leases[table] = l
	m.mu.Unlock()
	if old != nil {
		old.end(m, false)
	}
	every := max(m.opts.ControlLockLease/4, time.Millisecond)
	m.group.Go("renew control lock "+table, func(ctx context.Context) {
		fail := lifecycle.Failures{Log: m.log.With("table", table), What: "global tables: renewing the control lock", Level: slog.LevelWarn}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-l.stop:
				return
			case <-t.C:
			}
			kv, err := m.ctlKV(ctx)
			if err == nil {
				err = l.renew(ctx, m, kv)
			}
			if ctx.Err() != nil {
				return
			}
			fail.Report(err)
		}
	})
}

// lease returns the lease this region holds on table's lock, if any.
func (m *Manager) lease(table string) *ctlLease {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leases[table]
}

// endLease ends this region's lease on table, if any, without writing the
// key (this region takes the key over again itself).
func (m *Manager) endLease(table string) {
	if l := m.lease(table); l != nil {
		l.end(m, false)
	}
}

// end stops the lease and forgets it; locked tells whether the caller
// holds l.mu.
func (l *ctlLease) end(m *Manager, locked bool) {
	if !locked {
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	if !l.ended {
		l.ended = true
		close(l.stop)
	}
	m.mu.Lock()
	if m.leases[l.table] == l {
		delete(m.leases, l.table)
	}
	m.mu.Unlock()
}

// renew writes the key again, checked against the revision the lease
// last wrote; a mismatch means the lease was lost.
func (l *ctlLease) renew(ctx context.Context, m *Manager, kv jetstream.KeyValue) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.StrongTimeout)
	defer cancel()
	rev, err := kv.Update(ctx, ctlKey(l.table), l.val, l.rev)
	if revisionMismatch(err) || errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		l.lost(ctx, m, kv)
		return nil
	}
	if err != nil {
		return err
	}
	l.rev = rev
	return nil
}

// release deletes the key, checked against the revision the lease last
// wrote, unless a change of this region runs again (it keeps the lease).
func (l *ctlLease) release(ctx context.Context, m *Manager, kv jetstream.KeyValue) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended || m.ctlBusy(l.table) {
		return nil
	}
	err := kv.Delete(ctx, ctlKey(l.table), jetstream.LastRevision(l.rev))
	if revisionMismatch(err) {
		l.lost(ctx, m, kv)
		return nil
	}
	if err != nil {
		return err
	}
	l.end(m, true)
	return nil
}

// lost ends a lease another region took over (l.mu held), naming the new
// holder; the key is left to it.
func (l *ctlLease) lost(ctx context.Context, m *Manager, kv jetstream.KeyValue) {
	var h ctlHold
	if e, err := kv.Get(ctx, ctlKey(l.table)); err == nil {
		_ = json.Unmarshal(e.Value(), &h)
	}
	m.log.Warn("global tables: lost the control lock of a change in progress: not renewed within the lease, another change took it over",
		"table", l.table, "holder", h.Region, "holding", h.Op, "lease", m.opts.ControlLockLease)
	l.end(m, true)
}

// ctlAge is how long ago e was last written (taken or renewed), by the
// stream's clock when the server tells it (nats-server 2.10 and later),
// else by this region's.
func (m *Manager) ctlAge(ctx context.Context, kv jetstream.KeyValue, e jetstream.KeyValueEntry) time.Duration {
	now := time.Now()
	if st, err := kv.Status(ctx); err == nil {
		if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok && bs.StreamInfo() != nil && !bs.StreamInfo().TimeStamp.IsZero() {
			now = bs.StreamInfo().TimeStamp
		}
	}
	return now.Sub(e.Created())
}

// revisionMismatch reports whether err is JetStream's refusal of a write
// checked against a key's revision that is no longer its last.
func revisionMismatch(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
