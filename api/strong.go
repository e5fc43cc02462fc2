package api

import (
	"context"
	"encoding/json"
	"strings"

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

// The refusals of MRSC's control plane below use DynamoDB's messages as a
// behaviour catalogue recorded them from the service (ack-api-quirks
// services/dynamodb, table-global-tables.md, DDB-TABLE-202, -257, -260,
// -261, verified 2026-10-09), unless marked eddy's wording.
const (
	// errMsgStrongOthers: replicas or witnesses changed beside other
	// fields (DDB-TABLE-257).
	errMsgStrongOthers = "Requests that modify replicas or witnesses must not also modify other fields"
	// errMsgStrongModeExisting: MultiRegionConsistency sent for a table that
	// is a global table already (DDB-TABLE-202, -260).
	errMsgStrongModeExisting = "MultiRegionConsistency parameter is unsupported on existing global table"
	// errMsgStrongCreatesOnly: MultiRegionConsistency with ReplicaUpdates
	// other than Create (DDB-TABLE-260).
	errMsgStrongCreatesOnly = "Only Replica Create actions are supported when MultiRegionConsistency parameter is provided."
	// errMsgWitnessNeedsStrong: GlobalTableWitnessUpdates without
	// MultiRegionConsistency STRONG (DDB-TABLE-257).
	errMsgWitnessNeedsStrong = "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present."
)

// updateStrong is UpdateTable with MultiRegionConsistency or
// GlobalTableWitnessUpdates, or with ReplicaUpdates on an MRSC table; ok is
// false when the request is none of these. others: the request changes
// fields besides replicas and witnesses.
func (s *Server) updateStrong(ctx context.Context, c *call, table string, others bool) (out any, ok bool, err error) {
	var in struct {
		MultiRegionConsistency    *string          `json:"MultiRegionConsistency"`
		ReplicaUpdates            []replicaUpdWire `json:"ReplicaUpdates"`
		GlobalTableWitnessUpdates []witnessUpdWire `json:"GlobalTableWitnessUpdates"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		return nil, false, nil // the main decode reports it
	}
	witnessDelete := false
	for _, w := range in.GlobalTableWitnessUpdates {
		witnessDelete = witnessDelete || w.Delete != nil
	}
	st := s.strongTables()
	if in.MultiRegionConsistency == nil && in.GlobalTableWitnessUpdates == nil {
		if !s.strongDeletes(c.region, table, in.ReplicaUpdates) {
			// MREC ReplicaUpdates, or ReplicaUpdates Create or Update of an
			// MRSC table (UpdateReplica refuses a Create), or no replica
			// change.
			return nil, false, nil
		}
		if others {
			return nil, true, ddberr.Validationf(errMsgStrongOthers)
		}
		return s.deleteStrong(ctx, c, table, in.ReplicaUpdates, nil)
	}
	strong := st != nil && st.Consistency(c.region, table) == "STRONG"
	if len(in.ReplicaUpdates) == 0 && in.GlobalTableWitnessUpdates == nil {
		return nil, false, nil // MultiRegionConsistency beside other changes: ignored as absent
	}
	if len(in.ReplicaUpdates) == 0 && !others {
		// Witness updates alone count as no change (DDB-TABLE-257, -260).
		return nil, true, errNoTableUpdate()
	}
	if others {
		return nil, true, ddberr.Validationf(errMsgStrongOthers)
	}
	if in.MultiRegionConsistency != nil && *in.MultiRegionConsistency == "EVENTUAL" && in.GlobalTableWitnessUpdates == nil {
		if strong {
			return nil, true, ddberr.Validationf(errMsgStrongModeExisting)
		}
		return nil, false, nil // MREC, the default: ReplicaUpdates as usual
	}
	if in.MultiRegionConsistency == nil && witnessDelete {
		return s.deleteStrong(ctx, c, table, in.ReplicaUpdates, in.GlobalTableWitnessUpdates)
	}
	if in.MultiRegionConsistency == nil || *in.MultiRegionConsistency != "STRONG" {
		return nil, true, ddberr.Validationf(errMsgWitnessNeedsStrong)
	}
	var replicas, witnesses []string
	for _, u := range in.ReplicaUpdates {
		if u.Create == nil || u.Create.RegionName == nil || u.Update != nil || u.Delete != nil {
			return nil, true, ddberr.Validationf(errMsgStrongCreatesOnly)
		}
		replicas = append(replicas, *u.Create.RegionName)
	}
	for _, w := range in.GlobalTableWitnessUpdates {
		if (w.Create == nil) == (w.Delete == nil) {
			// eddy's wording, not compared with the service.
			return nil, true, ddberr.Validationf("A GlobalTableWitnessUpdate must have exactly one of Create or Delete")
		}
		if w.Delete != nil {
			// STRONG with a witness Delete: as with a replica Delete.
			return nil, true, ddberr.Validationf(errMsgStrongCreatesOnly)
		}
		witnesses = append(witnesses, *w.Create.RegionName)
	}
	t, err := s.lookupTable(c, &table)
	if err != nil {
		return nil, true, err
	}
	if st == nil {
		return nil, true, ddberr.Validationf("Global tables are not configured on this server (eddy serve --global-regions)")
	}
	if err := st.CreateStrong(ctx, c.region, table, replicas, witnesses); err != nil {
		return nil, true, err
	}
	return map[string]any{"TableDescription": s.describe(t, "UPDATING")}, true, nil
}

// checkStrongShapes adds UpdateTable's constraint violations of
// MultiRegionConsistency and GlobalTableWitnessUpdates to v: request
// validation, answered before any other check.
func checkStrongShapes(v *constraints, mode *string, ws []witnessUpdWire) {
	if mode != nil {
		v.enum(*mode, "multiRegionConsistency", "EVENTUAL", "STRONG")
	}
	for i, w := range ws {
		p := "globalTableWitnessUpdates." + itoa(i+1) + ".member"
		if w.Create != nil {
			v.notNull(w.Create.RegionName != nil, p+".create.regionName")
		}
		if w.Delete != nil {
			v.notNull(w.Delete.RegionName != nil, p+".delete.regionName")
		}
	}
	if len(ws) > 1 {
		// DDB-TABLE-257 records "Value '[GlobalTableWitnessGroupUpdate(...)]'
		// at ..."; the members' rendering is eddy's, as javaKeySchema's.
		v.fail(javaWitnessUpdates(ws), "globalTableWitnessUpdates", "Member must have length less than or equal to 1")
	}
}

// javaWitnessUpdates renders GlobalTableWitnessUpdates as DynamoDB's
// validation messages show a list value.
func javaWitnessUpdates(ws []witnessUpdWire) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, w := range ws {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("GlobalTableWitnessGroupUpdate(create=")
		if w.Create != nil {
			b.WriteString("CreateGlobalTableWitnessGroupMemberAction(regionName=" + javaNullable(w.Create.RegionName) + ")")
		} else {
			b.WriteString("null")
		}
		b.WriteString(", delete=")
		if w.Delete != nil {
			b.WriteString("DeleteGlobalTableWitnessGroupMemberAction(regionName=" + javaNullable(w.Delete.RegionName) + ")")
		} else {
			b.WriteString("null")
		}
		b.WriteByte(')')
	}
	b.WriteByte(']')
	return b.String()
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
func (s *Server) deleteStrong(ctx context.Context, c *call, table string, ups []replicaUpdWire, wups []witnessUpdWire) (any, bool, error) {
	t, err := s.lookupTable(c, &table)
	if err != nil {
		return nil, true, err
	}
	st := s.strongTables()
	if st == nil {
		return nil, true, ddberr.Validationf("Global tables are not configured on this server (eddy serve --global-regions)")
	}
	var replicas, witnesses []string
	for _, u := range ups {
		if u.Delete == nil || u.Delete.RegionName == nil || u.Create != nil || u.Update != nil {
			// eddy's wording, not compared with the service.
			return nil, true, ddberr.Validationf("A GlobalTableWitnessUpdates Delete goes with ReplicaUpdates that are all Delete")
		}
		replicas = append(replicas, *u.Delete.RegionName)
	}
	for _, w := range wups {
		if w.Delete == nil || w.Create != nil {
			// eddy's wording, not compared with the service.
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
