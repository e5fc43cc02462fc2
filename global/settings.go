package global

import (
	"context"
	"maps"

	"github.com/eddydb/eddy/internal/ddberr"
)

// Settings are a replica's own settings (UpdateTable's ReplicaUpdates
// Update, UpdateReplicationGroupMemberAction): what it overrides of its
// source table's. Zero values override nothing.
type Settings struct {
	// ReadCapacityUnits is ProvisionedThroughputOverride's.
	ReadCapacityUnits int64 `json:"rcu,omitempty"`
	// TableClass is TableClassOverride (STANDARD, STANDARD_INFREQUENT_ACCESS).
	TableClass string `json:"class,omitempty"`
	// Indexes are the global secondary indexes' ReadCapacityUnits
	// overrides (GlobalSecondaryIndexes' ProvisionedThroughputOverride), by
	// index name.
	Indexes map[string]int64 `json:"gsi,omitempty"`
}

// UpdateReplicaSettings records target's settings in the replica set and
// has target apply them to its table (an UpdateTable there), then tells the
// other replicas; the work after the record runs in the background and is
// retried until it succeeds.
func (m *Manager) UpdateReplicaSettings(ctx context.Context, region, table, target string, s Settings) error {
	if region != m.opts.Region {
		return ddberr.Validationf("Global tables of this server are in region %s (--region); %s is not", m.opts.Region, region)
	}
	if target == m.opts.Region {
		// DynamoDB's answer (aws/aws-cli#4906).
		return ddberr.Validationf("Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.")
	}
	if m.db.TableIn(region, table) == nil {
		return ddberr.TableNotFound(table)
	}
	if _, ok := m.set(table); ok {
		if err := m.lockTable(ctx, table, opReplicas); err != nil {
			return err
		}
	}
	err := m.updateSettingsLocked(table, target, s)
	if err != nil {
		m.releaseIfIdle(table)
	}
	return err
}

func (m *Manager) updateSettingsLocked(table, target string, s Settings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.tables[table]
	if ts == nil {
		return ddberr.Validationf("Failed to update the replica of table %s in region %s: the table has no replicas", table, target)
	}
	set := ts.set.clone() // an MRSC table's mode and epoch included
	for _, r := range set.Replicas {
		if r.Status != StatusActive {
			return ddberr.New(ddberr.KindResourceInUse, "Attempt to change a resource which is still in use: Table is being updated: %s", table)
		}
	}
	i := set.find(target)
	if i < 0 || set.Replicas[i].Witness {
		return ddberr.Validationf("Failed to update the replica of table %s in region %s: the region has none", table, target)
	}
	cur := set.Replicas[i].Settings
	cur.Indexes = maps.Clone(cur.Indexes)
	if s.ReadCapacityUnits != 0 {
		cur.ReadCapacityUnits = s.ReadCapacityUnits
	}
	if s.TableClass != "" {
		cur.TableClass = s.TableClass
	}
	for name, n := range s.Indexes {
		if cur.Indexes == nil {
			cur.Indexes = map[string]int64{}
		}
		cur.Indexes[name] = n
	}
	set.Replicas[i].Settings = cur
	if err := m.saveLocked(table, set); err != nil {
		return err
	}
	m.ctlPending[table]++ // m.mu held; ctlDone when pushed
	m.group.Go("settings of "+table+" in "+target, func(ctx context.Context) {
		defer func() {
			if ctx.Err() == nil {
				m.ctlDone(table)
			}
		}()
		m.retry(ctx, "applying replica settings", table, target, func(ctx context.Context, table, target string) error {
			set, ok := m.set(table)
			if !ok {
				return nil
			}
			if err := m.request(ctx, target, controlRequest{Op: "settings", Table: table, Set: set}); err != nil {
				return err
			}
			return m.broadcast(ctx, table, set, "")
		})
	})
	return nil
}

// handleSettings saves the replica set sent by the region that ran
// UpdateTable and applies this region's settings to its table.
func (m *Manager) handleSettings(ctx context.Context, req controlRequest) error {
	i := req.Set.find(m.opts.Region)
	if i < 0 {
		return nil // not for us (a stale request)
	}
	m.mu.Lock()
	err := m.saveLocked(req.Table, req.Set)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	s := req.Set.Replicas[i].Settings
	t := m.db.TableIn(m.opts.Region, req.Table)
	if t == nil {
		return nil
	}
	up := map[string]any{"TableName": req.Table}
	if s.ReadCapacityUnits != 0 && t.BillingMode != "PAY_PER_REQUEST" && t.Throughput.Read != s.ReadCapacityUnits {
		up["ProvisionedThroughput"] = map[string]int64{"ReadCapacityUnits": s.ReadCapacityUnits, "WriteCapacityUnits": t.Throughput.Write}
	}
	if s.TableClass != "" && s.TableClass != t.TableClass {
		up["TableClass"] = s.TableClass
	}
	if len(up) > 1 {
		if _, err := m.opts.Call(ctx, m.opts.Region, "UpdateTable", mustJSON(up)); err != nil {
			return err
		}
	}
	// One index per UpdateTable, as DynamoDB changes one index at a time.
	for _, ix := range t.Indexes {
		n := s.Indexes[ix.Name]
		if !ix.Global || n == 0 || n == ix.Throughput.Read || t.BillingMode == "PAY_PER_REQUEST" {
			continue
		}
		gu := map[string]any{"TableName": req.Table, "GlobalSecondaryIndexUpdates": []any{map[string]any{"Update": map[string]any{
			"IndexName": ix.Name, "ProvisionedThroughput": map[string]int64{"ReadCapacityUnits": n, "WriteCapacityUnits": ix.Throughput.Write}}}}}
		if _, err := m.opts.Call(ctx, m.opts.Region, "UpdateTable", mustJSON(gu)); err != nil {
			return err
		}
	}
	return nil
}
