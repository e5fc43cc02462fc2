package global

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
// The key names its holder region and operation. A region that finds its
// own key while it runs no change (it crashed between taking the key and
// finishing) takes it over; at connect it drops its own idle keys. A key
// whose holder region is gone for good stays: delete it with the nats CLI
// (nats kv del <Stream>_CTL <hex(table)>).
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
		if _, err = kv.Create(ctx, key, val); err == nil {
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
		if json.Unmarshal(e.Value(), &h) == nil && h.Region == m.opts.Region && !m.ctlBusy(table) {
			// Our own key from a change that ended without releasing it
			// (a crash): taken over, checked by its revision.
			if _, err = kv.Update(ctx, key, val, e.Revision()); err == nil {
				return nil
			}
			continue
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
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
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
		m.releaseIfIdle(t)
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
