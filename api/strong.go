package api

import (
	"context"
	"encoding/json"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// StrongTables is what Deps.Global also implements when global tables in
// multi-Region strong consistency (MRSC) are built (package global).
type StrongTables interface {
	// Consistency is DescribeTable's MultiRegionConsistency: "STRONG",
	// "EVENTUAL", or "" for a table that is not global.
	Consistency(region, table string) string
	// ReadBarrier waits until a strongly consistent read of the item of
	// keys (of the whole table when keys is nil) reflects every write
	// acknowledged in any region; nil at once for a table that is not MRSC.
	ReadBarrier(ctx context.Context, region, table string, t *store.Table, keys attr.Item) error
	// CreateStrong makes a table an MRSC global table with replicas in
	// replicas (and witnesses); the error is a *ddberr.Error for a request
	// DynamoDB would refuse.
	CreateStrong(ctx context.Context, region, table string, replicas, witnesses []string) error
	// Witnesses are DescribeTable's GlobalTableWitnesses.
	Witnesses(region, table string) []Replica
	// DeleteStrong removes replicas (and the witness) of an MRSC global
	// table: ReplicaUpdates Delete (and GlobalTableWitnessUpdates Delete).
	DeleteStrong(ctx context.Context, region, table string, replicas, witnesses []string) error
}

func (s *Server) strongTables() StrongTables {
	st, _ := s.global.(StrongTables)
	return st
}

// barrier is the MRSC read barrier before a strongly consistent read and
// before every write (whose condition is evaluated on the local item).
func (s *Server) barrier(ctx context.Context, t *store.Table, keys attr.Item) error {
	st := s.strongTables()
	if st == nil || t == nil {
		return nil
	}
	return st.ReadBarrier(ctx, t.Region, t.Name, t, keys)
}

// refuseStrong refuses a transaction on an MRSC table: DynamoDB does not
// support TransactWriteItems and TransactGetItems on MRSC global tables
// (developer guide, "Multi-Region strong consistency"; the message is
// eddy's wording, not compared with the service).
func (s *Server) refuseStrong(region string, tables []*string) error {
	st := s.strongTables()
	if st == nil {
		return nil
	}
	for _, name := range tables {
		if name != nil && st.Consistency(region, *name) == "STRONG" {
			return ddberr.Validationf("Transactions are not supported on global tables with MultiRegionConsistency STRONG: table %s", *name)
		}
	}
	return nil
}

type witnessUpdWire struct {
	Create *struct {
		RegionName *string `json:"RegionName"`
	} `json:"Create"`
	Delete *struct {
		RegionName *string `json:"RegionName"`
	} `json:"Delete"`
}

// updateStrong is UpdateTable with MultiRegionConsistency or
// GlobalTableWitnessUpdates; ok is false when the request has neither.
func (s *Server) updateStrong(ctx context.Context, c *call, table string) (out any, ok bool, err error) {
	var in struct {
		MultiRegionConsistency    *string          `json:"MultiRegionConsistency"`
		ReplicaUpdates            []replicaUpdWire `json:"ReplicaUpdates"`
		GlobalTableWitnessUpdates []witnessUpdWire `json:"GlobalTableWitnessUpdates"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return nil, false, nil // the main decode reports it
	}
	var v constraints
	if in.MultiRegionConsistency != nil {
		v.enum(*in.MultiRegionConsistency, "multiRegionConsistency", "EVENTUAL", "STRONG")
	}
	witnessDelete := false
	for i, w := range in.GlobalTableWitnessUpdates {
		p := "globalTableWitnessUpdates." + itoa(i+1) + ".member"
		if w.Create != nil {
			v.notNull(w.Create.RegionName != nil, p+".create.regionName")
		}
		if w.Delete != nil {
			v.notNull(w.Delete.RegionName != nil, p+".delete.regionName")
			witnessDelete = true
		}
	}
	if err := v.err(); err != nil {
		return nil, true, err
	}
	if witnessDelete || (in.MultiRegionConsistency == nil && in.GlobalTableWitnessUpdates == nil && s.strongDeletes(c.region, table, in.ReplicaUpdates)) {
		return s.deleteStrong(ctx, c, table, in.MultiRegionConsistency != nil, in.ReplicaUpdates, in.GlobalTableWitnessUpdates)
	}
	if in.MultiRegionConsistency == nil && in.GlobalTableWitnessUpdates == nil {
		return nil, false, nil
	}
	if in.MultiRegionConsistency != nil && *in.MultiRegionConsistency == "EVENTUAL" && in.GlobalTableWitnessUpdates == nil {
		return nil, false, nil // MREC, the default: ReplicaUpdates as usual
	}
	if in.MultiRegionConsistency == nil || *in.MultiRegionConsistency != "STRONG" {
		return nil, true, ddberr.Validationf("GlobalTableWitnessUpdates requires MultiRegionConsistency STRONG")
	}
	t, err := s.lookupTable(c, &table)
	if err != nil {
		return nil, true, err
	}
	st := s.strongTables()
	if st == nil {
		return nil, true, ddberr.Validationf("Global tables are not configured on this server (eddy serve --global-regions)")
	}
	var replicas, witnesses []string
	for _, u := range in.ReplicaUpdates {
		if u.Create == nil || u.Create.RegionName == nil || u.Update != nil || u.Delete != nil {
			return nil, true, ddberr.Validationf("eddy creates an MRSC global table from ReplicaUpdates that are all Create")
		}
		replicas = append(replicas, *u.Create.RegionName)
	}
	for _, w := range in.GlobalTableWitnessUpdates {
		if w.Create == nil || w.Delete != nil {
			return nil, true, ddberr.Validationf("A GlobalTableWitnessUpdate must have exactly one of Create or Delete")
		}
		witnesses = append(witnesses, *w.Create.RegionName)
	}
	if err := st.CreateStrong(ctx, c.region, table, replicas, witnesses); err != nil {
		return nil, true, err
	}
	return map[string]any{"TableDescription": s.describe(t, "UPDATING")}, true, nil
}

// strongDeletes reports whether ups are all Delete and the table is an
// MRSC global table: their deletion follows MRSC's rules (DeleteStrong).
func (s *Server) strongDeletes(region, table string, ups []replicaUpdWire) bool {
	st := s.strongTables()
	if st == nil || len(ups) == 0 || st.Consistency(region, table) != "STRONG" {
		return false
	}
	for _, u := range ups {
		if u.Delete == nil || u.Create != nil || u.Update != nil {
			return false
		}
	}
	return true
}

// deleteStrong is UpdateTable deleting an MRSC global table's replicas
// (ReplicaUpdates Delete) and witness (GlobalTableWitnessUpdates Delete).
func (s *Server) deleteStrong(ctx context.Context, c *call, table string, mode bool, ups []replicaUpdWire, wups []witnessUpdWire) (any, bool, error) {
	t, err := s.lookupTable(c, &table)
	if err != nil {
		return nil, true, err
	}
	st := s.strongTables()
	if st == nil {
		return nil, true, ddberr.Validationf("Global tables are not configured on this server (eddy serve --global-regions)")
	}
	if mode {
		// MultiRegionConsistency applies to a global table being created
		// (API reference, UpdateTable). eddy's wording.
		return nil, true, ddberr.Validationf("MultiRegionConsistency applies only when a global table is created with ReplicaUpdates Create")
	}
	var replicas, witnesses []string
	for _, u := range ups {
		if u.Delete == nil || u.Delete.RegionName == nil || u.Create != nil || u.Update != nil {
			return nil, true, ddberr.Validationf("A GlobalTableWitnessUpdates Delete goes with ReplicaUpdates that are all Delete")
		}
		replicas = append(replicas, *u.Delete.RegionName)
	}
	for _, w := range wups {
		if w.Delete == nil || w.Create != nil {
			return nil, true, ddberr.Validationf("A GlobalTableWitnessUpdate must have exactly one of Create or Delete")
		}
		witnesses = append(witnesses, *w.Delete.RegionName)
	}
	if err := st.DeleteStrong(ctx, c.region, table, replicas, witnesses); err != nil {
		return nil, true, err
	}
	return map[string]any{"TableDescription": s.describe(t, "UPDATING")}, true, nil
}

// txTables lists the tables a TransactWriteItems request names.
func txTables(items []transactWriteItem) []*string {
	var out []*string
	for _, ti := range items {
		for _, a := range []*txAction{ti.Put, ti.Update, ti.Delete, ti.ConditionCheck} {
			if a != nil {
				out = append(out, a.TableName)
			}
		}
	}
	return out
}
