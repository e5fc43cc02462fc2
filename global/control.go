package global

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/internal/lifecycle"
	"github.com/eddydb/eddy/store"
)

// A control request, sent with NATS request/reply to <Subject>.ctl.<region>.
//
//	create  make the table a replica here: CreateTable from the source's
//	        DescribeTable (Table) unless it exists as a replica already, save
//	        the replica set, start consuming the other regions' changes
//	config  save the replica set (a region added or removed, a status changed)
//	delete  stop replicating the table here and DeleteTable it
//	backfill publish a snapshot of the table again, for a region whose
//	        consumer found a gap (resync.go); answered at once, Done once
//	        published
type controlRequest struct {
	Op       string          `json:"op"`
	Table    string          `json:"table"`
	Describe json.RawMessage `json:"describe,omitempty"`
	Set      replicaSet      `json:"set"`
	ID       string          `json:"id,omitempty"`   // backfill: the request's ID (resync.go)
	From     string          `json:"from,omitempty"` // backfill: the requesting region (its snapshot is framed for it)
	Own      int64           `json:"own,omitempty"`  // backfill: From's writes stamped before it are published (sweep.go)
}

type controlReply struct {
	Error string `json:"error,omitempty"`
	Done  bool   `json:"done,omitempty"` // backfill: the snapshot is published
}

// Replicas returns a table's replica set (every region, this one included)
// and whether the table is global.
func (m *Manager) Replicas(region, table string) ([]Replica, bool) {
	if region != m.opts.Region {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil {
		return nil, false
	}
	return slices.DeleteFunc(slices.Clone(ts.set.Replicas), func(r Replica) bool { return r.Witness }), true
}

// Status is a replica set with the lag of the changes applied here from
// each other region (eddy tables replicas).
type Status struct {
	Table    string    `json:"table"`
	Region   string    `json:"region"`
	Version  string    `json:"globalTableVersion"`
	Replicas []Replica `json:"replicas"`
	Lag      []Lag     `json:"lag"`
	Outbox   int       `json:"pendingPublish"` // local changes not yet acknowledged by JetStream (all tables)
	// Consistency is STRONG for an MRSC table, whose Applied is the last
	// sequence of its stream applied here (strong.go); EVENTUAL otherwise.
	Consistency string `json:"multiRegionConsistency"`
	Applied     uint64 `json:"appliedSequence,omitempty"`
}

// Status reports a global table's replicas and replication lag; ok is
// false when the table is not global.
func (m *Manager) Status(table string) (Status, bool) {
	m.mu.Lock()
	ts := m.tables[table]
	if ts == nil {
		m.mu.Unlock()
		return Status{}, false
	}
	st := Status{Table: table, Region: m.opts.Region, Version: Version, Replicas: slices.Clone(ts.set.Replicas), Consistency: ConsistencyEventual}
	if ts.strong != nil {
		st.Consistency = ConsistencyStrong
		st.Applied, _, _ = ts.strong.state()
	}
	for _, r := range ts.set.Replicas {
		if l := ts.lag[r.Region]; l != nil {
			st.Lag = append(st.Lag, l.summary(r.Region))
		}
	}
	m.mu.Unlock()
	_ = m.ks.Scan([]byte{pOutbox}, []byte{pOutbox + 1}, func(_, _ []byte) error { st.Outbox++; return nil })
	return st, true
}

// UpdateReplica starts adding (create) or removing a replica of a table of
// this region in target; UpdateTable's ReplicaUpdates. It returns once the
// change is recorded (the replica CREATING or DELETING); the rest runs in
// the background, and survives a restart.
func (m *Manager) UpdateReplica(ctx context.Context, region, table string, create bool, target string) error {
	if region != m.opts.Region {
		// eddy's own rule: a server replicates the tables of its --region.
		return ddberr.Validationf("Global tables of this server are in region %s (--region); %s is not", m.opts.Region, region)
	}
	if target == m.opts.Region {
		// DynamoDB's answer (aws/aws-cli#4906).
		return ddberr.Validationf("Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.")
	}
	if set, ok := m.set(table); ok && set.Consistency == ConsistencyStrong && create {
		// DynamoDB's answer (DDB-TABLE-260, strong.go), whatever the
		// region; before the Streams check: MRSC needs no Streams.
		return ddberr.Validationf(errMsgStrongAddReplica)
	}
	if !slices.Contains(m.opts.Regions, target) {
		return ddberr.Validationf("Region %s is not one of this server's global regions (--global-regions %v)", target, m.opts.Regions)
	}
	t := m.db.TableIn(region, table)
	if t == nil {
		return ddberr.TableNotFound(table)
	}
	if !t.Stream.Enabled || t.Stream.ViewType != "NEW_AND_OLD_IMAGES" {
		return ddberr.Validationf("Table %s must have DynamoDB Streams enabled with StreamViewType NEW_AND_OLD_IMAGES to have replicas", table)
	}
	// The table's control lock across regions (ctllock.go), but to undo a
	// creation still running here, which holds it already.
	undo := false
	if set, ok := m.set(table); ok && !create {
		if i := set.find(target); i >= 0 && set.Replicas[i].Status == StatusCreating && set.Replicas[i].By == m.opts.Region {
			undo = true
		}
	}
	if !undo {
		if err := m.lockTable(ctx, table, opReplicas); err != nil {
			return err
		}
	}
	err := m.updateReplicaLocked(table, create, target)
	if err != nil {
		m.releaseIfIdle(table)
	}
	return err
}

// updateReplicaLocked records the replica change and starts it, the
// control lock held.
func (m *Manager) updateReplicaLocked(table string, create bool, target string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	set := replicaSet{Replicas: []Replica{{Region: m.opts.Region, Status: StatusActive}}}
	if ts != nil && ts.set.Consistency == ConsistencyStrong {
		if create {
			// DynamoDB's answer (DDB-TABLE-260, strong.go): made MRSC
			// since UpdateReplica checked.
			return ddberr.Validationf(errMsgStrongAddReplica)
		}
		// Deletions of an MRSC table's replicas go through DeleteStrong
		// (api/strong.go routes them); eddy's wording, not compared with
		// the service.
		return ddberr.Validationf("eddy does not add or remove replicas of a global table with MultiRegionConsistency STRONG")
	}
	if ts != nil {
		set = ts.set.clone()
		for _, r := range set.Replicas {
			// A replica still CREATING may be deleted: a creation that
			// cannot finish (the region has a table of the name that is not
			// a replica) is undone that way.
			if r.Status != StatusActive && !(!create && r.Region == target && r.Status == StatusCreating) {
				return ddberr.New(ddberr.KindResourceInUse, "Attempt to change a resource which is still in use: Table is being updated: %s", table)
			}
		}
	}
	i := set.find(target)
	switch {
	case create && i >= 0:
		return ddberr.Validationf("Failed to create a replica of table %s in region %s: the region already has one", table, target)
	case !create && i < 0:
		return ddberr.Validationf("Failed to delete the replica of table %s in region %s: the region has none", table, target)
	case create:
		set.Replicas = append(set.Replicas, Replica{Region: target, Status: StatusCreating, By: m.opts.Region})
	default:
		set.Replicas[i].Status, set.Replicas[i].By = StatusDeleting, m.opts.Region
	}
	if err := m.saveLocked(table, set); err != nil {
		return err
	}
	if create {
		m.goCreate(table, target)
	} else {
		m.goDelete(table, target)
	}
	return nil
}

// saveLocked records a table's replica set and (re)starts its consumers;
// an empty set makes the table local again. m.mu is held.
func (m *Manager) saveLocked(table string, set replicaSet) error {
	others := slices.ContainsFunc(set.Replicas, func(r Replica) bool { return r.Region != m.opts.Region })
	err := m.ks.Write(true, func(w kv.Writer) error {
		if !others {
			return w.Delete(configKey(table))
		}
		b, err := json.Marshal(set)
		if err != nil {
			return err
		}
		return w.Set(configKey(table), b)
	})
	if err != nil {
		return err
	}
	ts := m.tables[table]
	if !others {
		if ts != nil {
			for _, cancel := range ts.consumers {
				cancel()
			}
			delete(m.tables, table)
		}
		return nil
	}
	if ts == nil {
		ts = &tableState{consumers: map[string]context.CancelFunc{}, lag: map[string]*lagStats{}}
		m.tables[table] = ts
	}
	ts.set = set
	m.syncConsumersLocked(table, ts)
	return nil
}

func (m *Manager) goCreate(table, target string) {
	m.group.Go("create replica "+table+" in "+target, func(ctx context.Context) {
		m.retry(ctx, "creating replica", table, target, m.createReplica)
		m.releaseIfIdle(table)
	})
}

func (m *Manager) goDelete(table, target string) {
	m.group.Go("delete replica "+table+" in "+target, func(ctx context.Context) {
		m.retry(ctx, "deleting replica", table, target, m.deleteReplica)
		m.releaseIfIdle(table)
	})
}

func (m *Manager) retry(ctx context.Context, what, table, target string, f func(ctx context.Context, table, target string) error) {
	fail := lifecycle.Failures{Log: m.log.With("table", table, "replica", target), What: "global tables: " + what, Level: slog.LevelWarn}
	for {
		err := f(ctx, table, target)
		if ctx.Err() != nil {
			return
		}
		fail.Report(err)
		if err == nil || !lifecycle.Sleep(ctx, m.opts.RetryBackoff) {
			return
		}
	}
}

// createReplica has target create the table, backfills it with a
// snapshot, then marks it ACTIVE everywhere. Each step may run again
// (after a failure or a restart): target accepts a create for a replica it
// already holds, and a backfill sent twice changes nothing (last writer
// wins).
func (m *Manager) createReplica(ctx context.Context, table, target string) error {
	desc, err := m.opts.Call(ctx, m.opts.Region, "DescribeTable", mustJSON(map[string]string{"TableName": table}))
	if err != nil {
		return err
	}
	var d struct{ Table json.RawMessage }
	if err := json.Unmarshal(desc, &d); err != nil {
		return err
	}
	set, ok := m.set(table)
	if i := set.find(target); !ok || i < 0 || set.Replicas[i].Status != StatusCreating {
		return nil // deleted meanwhile
	}
	if err := m.request(ctx, target, controlRequest{Op: "create", Table: table, Describe: d.Table, Set: set}); err != nil {
		return err
	}
	if err := m.backfill(ctx, table, "", 0); err != nil {
		return err
	}
	if err := m.pushTTL(ctx, table, target); err != nil {
		return err
	}
	return m.setStatus(ctx, table, target, StatusActive)
}

func (m *Manager) deleteReplica(ctx context.Context, table, target string) error {
	if err := m.request(ctx, target, controlRequest{Op: "delete", Table: table}); err != nil {
		return err
	}
	m.mu.Lock()
	ts := m.tables[table]
	if ts == nil {
		m.mu.Unlock()
		return nil
	}
	set := ts.set.clone()
	set.Replicas = slices.DeleteFunc(set.Replicas, func(r Replica) bool { return r.Region == target })
	err := m.saveLocked(table, set)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	return m.broadcast(ctx, table, set, "")
}

// watchCatalog notices a replica's table deleted here by DeleteTable: the
// region leaves the table's replica set, as DynamoDB removes a replica whose
// table is deleted, and tells the other replicas (a table created again
// under the name is an ordinary table).
func (m *Manager) watchCatalog(ctx context.Context, changed <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		// Which tables are gone is read without m.mu: Prepare takes m.mu
		// inside the store's catalog lock, so m.mu is never held while
		// waiting for it.
		var gone []string
		for _, name := range m.globalNames() {
			if m.db.TableIn(m.opts.Region, name) == nil {
				gone = append(gone, name)
			}
		}
		m.mu.Lock()
		var left []string
		var sets []replicaSet
		for _, name := range gone {
			ts := m.tables[name]
			if ts == nil || m.dropping[name] {
				continue
			}
			rest := ts.set.clone()
			rest.Replicas = slices.DeleteFunc(rest.Replicas, func(r Replica) bool { return r.Region == m.opts.Region })
			if err := m.saveLocked(name, replicaSet{}); err != nil {
				m.log.Error("global tables: leaving the replica set of a deleted table", "table", name, "err", err)
				continue
			}
			left, sets = append(left, name), append(sets, rest)
		}
		m.mu.Unlock()
		for i, name := range left {
			m.log.Info("global tables: replica deleted by DeleteTable, left its replica set", "table", name)
			m.group.Go("leave "+name, func(ctx context.Context) {
				m.retry(ctx, "telling the replicas of a deleted table", name, "", func(ctx context.Context, table, _ string) error {
					return m.broadcast(ctx, table, sets[i], "")
				})
				if ctx.Err() == nil {
					m.leftSet(name)
				}
			})
		}
	}
}

func (m *Manager) globalNames() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.tables))
	for name := range m.tables {
		names = append(names, name)
	}
	return names
}

func (m *Manager) set(table string) (replicaSet, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil {
		return replicaSet{}, false
	}
	return ts.set.clone(), true
}

// setStatus records target's status here and tells every other replica.
func (m *Manager) setStatus(ctx context.Context, table, target, status string) error {
	m.mu.Lock()
	ts := m.tables[table]
	if ts == nil {
		m.mu.Unlock()
		return nil
	}
	set := ts.set.clone()
	if i := set.find(target); i >= 0 {
		set.Replicas[i].Status, set.Replicas[i].By = status, ""
	}
	err := m.saveLocked(table, set)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	return m.broadcast(ctx, table, set, "")
}

// broadcast sends the replica set to every other region in it (and to
// also, when set).
func (m *Manager) broadcast(ctx context.Context, table string, set replicaSet, also string) error {
	for _, r := range set.Replicas {
		if r.Region == m.opts.Region || r.Witness {
			continue
		}
		if err := m.request(ctx, r.Region, controlRequest{Op: "config", Table: table, Set: set}); err != nil {
			return err
		}
	}
	if also != "" {
		return m.request(ctx, also, controlRequest{Op: "config", Table: table, Set: set})
	}
	return nil
}

func (m *Manager) request(ctx context.Context, region string, req controlRequest) error {
	rep, err := m.requestReply(ctx, region, req)
	if err != nil {
		return err
	}
	if rep.Error != "" {
		return fmt.Errorf("global: %s %s in %s: %s", req.Op, req.Table, region, rep.Error)
	}
	return nil
}

// requestReply sends a control request and returns the reply as it is.
func (m *Manager) requestReply(ctx context.Context, region string, req controlRequest) (controlReply, error) {
	var rep controlReply
	_, nc, err := m.jetStream(ctx)
	if err != nil {
		return rep, err
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, m.opts.Subject+".ctl."+region, mustJSON(req))
	if err != nil {
		return rep, fmt.Errorf("global: %s %s in %s: %w", req.Op, req.Table, region, err)
	}
	err = json.Unmarshal(msg.Data, &rep)
	return rep, err
}

// control answers a control request from another region.
func (m *Manager) control(msg *nats.Msg) {
	var req controlRequest
	var rep controlReply
	err := json.Unmarshal(msg.Data, &req)
	if err == nil && req.Op == "backfill" {
		rep.Done, err = m.handleBackfill(req)
	} else if err == nil {
		ctx, cancel := context.WithTimeout(m.group.Context(), 8*time.Second)
		err = m.handle(ctx, req)
		cancel()
	}
	if err != nil {
		rep.Error = err.Error()
		// Debug: the requesting region retries and logs it once per change
		// of state (a refused creation is retried every RetryBackoff).
		m.log.Debug("global tables: control request refused", "op", req.Op, "table", req.Table, "err", err)
	}
	_ = msg.Respond(mustJSON(rep))
}

func (m *Manager) handle(ctx context.Context, req controlRequest) error {
	switch req.Op {
	case "create":
		if m.db.TableIn(m.opts.Region, req.Table) == nil {
			create, err := createRequest(req.Describe)
			if err != nil {
				return err
			}
			if _, err := m.opts.Call(ctx, m.opts.Region, "CreateTable", create); err != nil {
				return err
			}
		} else if _, ok := m.set(req.Table); !ok {
			return fmt.Errorf("a table %s that is not a replica exists in %s", req.Table, m.opts.Region)
		}
		fallthrough
	case "config":
		if req.Set.find(m.opts.Region) < 0 {
			return nil // not for us (a stale request)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.saveLocked(req.Table, req.Set)
	case "delete":
		// Only a replica's table is deleted: a table of the name that never
		// became a replica here (its creation was refused) is left alone.
		if _, ok := m.set(req.Table); !ok {
			return nil
		}
		// While the table is deleted and its set not yet emptied,
		// watchCatalog must not take it for a user's DeleteTable: it would
		// tell the other replicas this region's set, which may be older
		// than the requester's (an MRSC table's witness, a replica being
		// deleted), and the requester would save it again.
		m.mu.Lock()
		m.dropping[req.Table] = true
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			delete(m.dropping, req.Table)
			m.mu.Unlock()
		}()
		if m.db.TableIn(m.opts.Region, req.Table) != nil {
			if _, err := m.opts.Call(internal(ctx), m.opts.Region, "DeleteTable", mustJSON(map[string]string{"TableName": req.Table})); err != nil {
				return err
			}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.saveLocked(req.Table, replicaSet{})
	case "ttl":
		return m.handleTTL(req)
	case "settings":
		return m.handleSettings(ctx, req)
	}
	return fmt.Errorf("unknown control operation %q", req.Op)
}

// createRequest builds the CreateTable request of a replica from its
// source's DescribeTable: the same keys, indexes, billing and stream.
func createRequest(describe json.RawMessage) ([]byte, error) {
	var d struct {
		TableName             string
		AttributeDefinitions  []map[string]string
		KeySchema             []map[string]string
		BillingModeSummary    *struct{ BillingMode string }
		ProvisionedThroughput struct {
			ReadCapacityUnits, WriteCapacityUnits int64
		}
		StreamSpecification    json.RawMessage
		GlobalSecondaryIndexes []struct {
			IndexName             string
			KeySchema             json.RawMessage
			Projection            json.RawMessage
			ProvisionedThroughput struct{ ReadCapacityUnits, WriteCapacityUnits int64 }
		}
		LocalSecondaryIndexes []struct {
			IndexName  string
			KeySchema  json.RawMessage
			Projection json.RawMessage
		}
	}
	if err := json.Unmarshal(describe, &d); err != nil {
		return nil, err
	}
	req := map[string]any{"TableName": d.TableName, "AttributeDefinitions": d.AttributeDefinitions, "KeySchema": d.KeySchema,
		"StreamSpecification": d.StreamSpecification}
	onDemand := d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode == "PAY_PER_REQUEST"
	if onDemand {
		req["BillingMode"] = "PAY_PER_REQUEST"
	} else {
		req["ProvisionedThroughput"] = map[string]int64{"ReadCapacityUnits": max(d.ProvisionedThroughput.ReadCapacityUnits, 1),
			"WriteCapacityUnits": max(d.ProvisionedThroughput.WriteCapacityUnits, 1)}
	}
	var gsis []map[string]any
	for _, g := range d.GlobalSecondaryIndexes {
		gi := map[string]any{"IndexName": g.IndexName, "KeySchema": g.KeySchema, "Projection": g.Projection}
		if !onDemand {
			gi["ProvisionedThroughput"] = map[string]int64{"ReadCapacityUnits": max(g.ProvisionedThroughput.ReadCapacityUnits, 1),
				"WriteCapacityUnits": max(g.ProvisionedThroughput.WriteCapacityUnits, 1)}
		}
		gsis = append(gsis, gi)
	}
	if gsis != nil {
		req["GlobalSecondaryIndexes"] = gsis
	}
	var lsis []map[string]any
	for _, l := range d.LocalSecondaryIndexes {
		lsis = append(lsis, map[string]any{"IndexName": l.IndexName, "KeySchema": l.KeySchema, "Projection": l.Projection})
	}
	if lsis != nil {
		req["LocalSecondaryIndexes"] = lsis
	}
	return json.Marshal(req)
}

// backfill publishes a snapshot of the table, as changes from this region:
// every item with the (timestamp, region) of its last write (0 and this
// region for an item written before the table was global), read with its
// meta under the item's lock, and every tombstone. Writes made meanwhile
// are published by the outbox as well; last writer wins sorts them out.
//
// A re-backfill for region forRegion ("" for a new replica's backfill) is
// framed: a begin marker, the items and tombstones tagged with the
// snapshot's ID, an end marker with the snapshot's timestamp, taken before
// the scan once every local write stamped before it has committed
// (snapshotTS). Every write of this region stamped before it is then in
// the snapshot or was overwritten by one that is, or the item is gone and
// its tombstone collected: forRegion deletes the items it holds last
// written here before it that the snapshot lacks (sweep.go). When
// forRegion's writes stamped before own are published, the snapshot waits
// until this region has applied them all, and its end marker says so:
// forRegion deletes its own writes before own that the snapshot lacks too.
func (m *Manager) backfill(ctx context.Context, table, forRegion string, own int64) error {
	t := m.db.TableIn(m.opts.Region, table)
	if t == nil {
		return fmt.Errorf("global: table %s is gone", table)
	}
	js, _, err := m.jetStream(ctx)
	if err != nil {
		return err
	}
	var futs []jetstream.PubAckFuture
	send := func(c change) error {
		subj := m.subject(table, m.opts.Region)
		if c.Mark != "" {
			subj = m.markSubject(table, m.opts.Region)
		}
		msg := nats.NewMsg(subj)
		msg.Data = mustJSON(c)
		fut, err := js.PublishMsgAsync(msg)
		if err != nil {
			return err
		}
		futs = append(futs, fut)
		return nil
	}
	var snap string
	var snapTS int64
	if forRegion != "" {
		snap = newEpoch()
		if own > 0 && !m.appliedAll(ctx, table, forRegion) {
			own = 0
		}
		if snapTS, err = m.snapshotTS(ctx); err != nil {
			return err
		}
		if err := send(change{Table: table, TS: snapTS, Region: m.opts.Region, Snap: snap, Mark: markBegin, For: forRegion}); err != nil {
			return err
		}
	}
	spec := &store.ReadSpec{Table: t, Limit: 500}
	for {
		var keys []attr.Item
		page, err := m.db.Read(ctx, spec, func(r store.Row) error {
			keys = append(keys, t.KeyOf(r.Item))
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			var item attr.Item
			var md meta
			key := m.itemMetaKey(t, k)
			_, err := m.db.Write(ctx, store.WriteOptions{}, store.Mutation{Table: t, Key: k, ReadOnly: true,
				Apply: func(old attr.Item) (attr.Item, error) {
					item = old
					cur, ok, err := m.getMeta(key)
					if !ok {
						cur = meta{Region: m.opts.Region}
					}
					md = cur
					return old, err
				}})
			if err != nil {
				return err
			}
			if item == nil {
				continue // deleted since the scan: its delete is in the outbox
			}
			if err := send(change{Table: table, Keys: k, New: item, TS: md.TS, Region: md.Region, Snap: snap}); err != nil {
				return err
			}
		}
		if !page.More {
			break
		}
		spec.Start = page.LastKey
	}
	// Tombstones, so that an older put still on its way cannot resurrect
	// an item here.
	prefix := metaPrefix(t.ID)
	var tombs []change
	err = m.ks.Scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
		md, err := decodeMeta(v)
		if err != nil || !md.Deleted {
			return err
		}
		if md.Keys != nil {
			tombs = append(tombs, change{Table: table, Keys: md.Keys, TS: md.TS, Region: md.Region, Snap: snap})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range tombs {
		if err := send(c); err != nil {
			return err
		}
	}
	if forRegion != "" {
		if err := send(change{Table: table, TS: snapTS, Region: m.opts.Region, Snap: snap, Mark: markEnd, For: forRegion, Own: own}); err != nil {
			return err
		}
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
