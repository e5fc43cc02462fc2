package global

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// Time to Live of a global table is one setting for every replica:
// UpdateTimeToLive on any replica applies to all of them, as DynamoDB's
// global tables (2019.11.21) keep it (CloudFormation's
// AWS::DynamoDB::GlobalTable TimeToLiveSpecification: "All replicas will
// have the same time to live configuration"). TTL deletes replicate like
// any delete: Prepare publishes them.
//
// A catalog watch compares each global table's TTL with the one last seen
// or applied here (ttlSync.known); a change made here is sent to every other
// replica (control op "ttl", the spec in Describe), which applies it with
// the known TTL updated first, so the change does not travel back. A new
// replica gets its source's TTL before it turns ACTIVE (pushTTL). Two
// regions changing the TTL at the same moment may end up disagreeing (no
// last writer wins on settings): DynamoDB refuses a TTL change while one is
// in progress, eddy does not.
type ttlSync struct {
	mu    sync.Mutex
	known map[string]store.TTLSpec // by table: the TTL last seen or applied here
	begun map[string]int           // by table: changes begun here (BeginTTL) not pushed yet
	wake  chan struct{}
}

// BeginTTL runs before UpdateTimeToLive of a table of region: for a global
// table it takes the table's control lock across regions (ctllock.go), so
// that a TTL change made while another is being applied to the replicas is
// refused, as DynamoDB refuses a second change within its interval. done
// reports whether the change was applied; the lock is released once it has
// been sent to every replica (or at once when it was not applied).
func (m *Manager) BeginTTL(ctx context.Context, region, table string) (done func(applied bool), err error) {
	if region != m.opts.Region || !m.isGlobal(table) {
		return func(bool) {}, nil
	}
	if st, _ := m.strong(table); st != nil {
		return nil, errStrongTTL(table)
	}
	if err := m.lockTable(ctx, table, opTTL); err != nil {
		return nil, err
	}
	m.ttl.mu.Lock()
	m.ttl.begun[table]++
	m.ttl.mu.Unlock()
	m.ctlStart(table)
	return func(applied bool) {
		if !applied {
			m.ttlPushed(table)
		}
	}, nil
}

// ttlPushed ends a change begun here: its push is done (or it was not
// applied).
func (m *Manager) ttlPushed(table string) {
	m.ttl.mu.Lock()
	n := m.ttl.begun[table]
	if n > 0 {
		m.ttl.begun[table] = n - 1
	}
	m.ttl.mu.Unlock()
	if n > 0 {
		m.ctlDone(table)
	}
}

// errStrongTTL refuses Time to Live on an MRSC table: "Global tables
// configured for multi-Region strong consistency (MRSC) do not support
// configuring Time To Live (TTL) deletion" (developer guide, "Global
// tables core concepts", Time To Live). The wording is eddy's.
func errStrongTTL(table string) error {
	return ddberr.Validationf("Time to Live is not supported on global tables with MultiRegionConsistency STRONG: table %s", table)
}

// errTTLSame is returned by the catalog update of a TTL that is already
// the table's, so that nothing is written.
var errTTLSame = errors.New("global: TTL unchanged")

// startTTLSync records the global tables' TTL and starts the catalog watch.
// It runs from Open, once m.group exists.
func (m *Manager) startTTLSync() {
	m.ttl.known = map[string]store.TTLSpec{}
	m.ttl.begun = map[string]int{}
	m.ttl.wake = make(chan struct{}, 1)
	for _, name := range m.globalNames() {
		if t := m.db.TableIn(m.opts.Region, name); t != nil {
			m.ttl.known[name] = t.TTL
		}
	}
	m.db.OnCatalogChange(func() {
		select {
		case m.ttl.wake <- struct{}{}:
		default:
		}
	})
	m.group.Go("ttl sync", m.watchTTL)
}

// watchTTL sends every TTL change made here to the other replicas.
func (m *Manager) watchTTL(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.ttl.wake:
		}
		for _, name := range m.globalNames() {
			m.ttl.mu.Lock()
			t := m.db.TableIn(m.opts.Region, name)
			if t == nil {
				m.ttl.mu.Unlock()
				continue
			}
			prev := m.ttl.known[name] // a table not seen yet: TTL disabled
			m.ttl.known[name] = t.TTL
			m.ttl.mu.Unlock()
			if prev == t.TTL {
				continue
			}
			m.log.Info("global tables: TTL changed here, sending it to the replicas", "table", name, "enabled", t.TTL.Enabled, "attribute", t.TTL.AttributeName)
			m.group.Go("ttl "+name, func(ctx context.Context) {
				m.retry(ctx, "sending the TTL setting", name, "", func(ctx context.Context, table, _ string) error {
					return m.pushTTL(ctx, table, "")
				})
				if ctx.Err() == nil {
					m.ttlPushed(name)
				}
			})
		}
	}
}

// pushTTL sends the table's current TTL to target, or to every other
// replica when target is empty. Sending it again changes nothing.
func (m *Manager) pushTTL(ctx context.Context, table, target string) error {
	t := m.db.TableIn(m.opts.Region, table)
	if t == nil {
		return nil // deleted meanwhile: it left the replica set
	}
	set, ok := m.set(table)
	if !ok {
		return nil
	}
	req := controlRequest{Op: "ttl", Table: table, Describe: mustJSON(t.TTL)}
	for _, r := range set.Replicas {
		if r.Region == m.opts.Region || r.Witness || (target != "" && r.Region != target) {
			continue
		}
		if err := m.request(ctx, r.Region, req); err != nil {
			return err
		}
	}
	return nil
}

// handleTTL applies another replica's TTL setting to this region's table.
func (m *Manager) handleTTL(req controlRequest) error {
	var spec store.TTLSpec
	if err := json.Unmarshal(req.Describe, &spec); err != nil {
		return err
	}
	if _, ok := m.set(req.Table); !ok {
		return nil // not a replica here (a stale request)
	}
	m.ttl.mu.Lock()
	defer m.ttl.mu.Unlock()
	_, err := m.db.UpdateTableIn(m.opts.Region, req.Table, func(t *store.Table) error {
		if t.TTL == spec {
			return errTTLSame
		}
		t.TTL = spec
		return nil
	})
	if err != nil && !errors.Is(err, errTTLSame) {
		return fmt.Errorf("global: applying the TTL of %s: %w", req.Table, err)
	}
	m.ttl.known[req.Table] = spec
	if err == nil {
		m.log.Info("global tables: TTL changed by another replica", "table", req.Table, "enabled", spec.Enabled, "attribute", spec.AttributeName)
	}
	return nil
}
