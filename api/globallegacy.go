package api

import (
	"context"

	"github.com/eddydb/eddy/internal/ddberr"
)

// The global tables version 2017.11.29 (Legacy) operations, answered as
// DynamoDB answers them in 2026: no legacy global table can be created any
// more, so none exists. Recorded from the real service (ack-api-quirks
// dynamodb findings DDB-GLOBALTABLE-002, -003, -004 and
// DDB-GLOBALTABLESETTINGS-001, verified 2026-10-09):
//
//	CreateGlobalTable, UpdateGlobalTable Create   ValidationException legacyUnsupported
//	                                              (shape errors first; before any existence check)
//	DescribeGlobalTable, UpdateGlobalTable Delete GlobalTableNotFoundException "Global table not found: ..."
//	Describe/UpdateGlobalTableSettings            GlobalTableNotFoundException "Global table with name: ..."
//	UpdateGlobalTable ReplicaUpdates []           ValidationException "One or more parameter values were invalid"
//	ListGlobalTables                              200 {"GlobalTables": []}
//
// for a regional table, a missing name and a 2019.11.21 global table alike.
// Global tables are made with UpdateTable's ReplicaUpdates (replicas.go).

const legacyUnsupported = "One or more parameter values were invalid: DynamoDB global tables version 2017.11.29 is not supported. " +
	"We recommend using DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy)."

func (s *Server) registerGlobalLegacyOps() {
	s.ops["CreateGlobalTable"] = s.createGlobalTable
	s.ops["UpdateGlobalTable"] = s.updateGlobalTable
	s.ops["DescribeGlobalTable"] = s.describeGlobalTable
	s.ops["ListGlobalTables"] = s.listGlobalTables
	s.ops["DescribeGlobalTableSettings"] = s.globalTableSettings
	s.ops["UpdateGlobalTableSettings"] = s.globalTableSettings
}

type regionWire struct {
	RegionName *string `json:"RegionName"`
}

func (s *Server) createGlobalTable(ctx context.Context, c *call) (any, error) {
	var in struct {
		GlobalTableName  *string      `json:"GlobalTableName"`
		ReplicationGroup []regionWire `json:"ReplicationGroup"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	globalName(&v, in.GlobalTableName)
	v.notNull(in.ReplicationGroup != nil, "replicationGroup")
	for i, r := range in.ReplicationGroup {
		v.notNull(r.RegionName != nil, "replicationGroup."+itoa(i+1)+".member.regionName")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return nil, ddberr.Validationf("%s", legacyUnsupported)
}

func (s *Server) updateGlobalTable(ctx context.Context, c *call) (any, error) {
	var in struct {
		GlobalTableName *string `json:"GlobalTableName"`
		ReplicaUpdates  []struct {
			Create *regionWire `json:"Create"`
			Delete *regionWire `json:"Delete"`
		} `json:"ReplicaUpdates"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	globalName(&v, in.GlobalTableName)
	v.notNull(in.ReplicaUpdates != nil, "replicaUpdates")
	create := false
	for i, u := range in.ReplicaUpdates {
		p := "replicaUpdates." + itoa(i+1) + ".member"
		if u.Create != nil {
			v.notNull(u.Create.RegionName != nil, p+".create.regionName")
			create = true
		}
		if u.Delete != nil {
			v.notNull(u.Delete.RegionName != nil, p+".delete.regionName")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(in.ReplicaUpdates) == 0 {
		return nil, ddberr.Validationf("One or more parameter values were invalid")
	}
	if create {
		return nil, ddberr.Validationf("%s", legacyUnsupported)
	}
	return nil, ddberr.New(ddberr.KindGlobalTableNotFound, "Global table not found: Global table with name: '%s' does not exist.", *in.GlobalTableName)
}

func (s *Server) describeGlobalTable(ctx context.Context, c *call) (any, error) {
	name, err := globalTableName(c)
	if err != nil {
		return nil, err
	}
	return nil, ddberr.New(ddberr.KindGlobalTableNotFound, "Global table not found: Global table with name: '%s' does not exist.", name)
}

func (s *Server) globalTableSettings(ctx context.Context, c *call) (any, error) {
	name, err := globalTableName(c)
	if err != nil {
		return nil, err
	}
	return nil, ddberr.New(ddberr.KindGlobalTableNotFound, "Global table with name: '%s' does not exist.", name)
}

func globalTableName(c *call) (string, error) {
	var in struct {
		GlobalTableName *string `json:"GlobalTableName"`
	}
	if err := c.decode(&in); err != nil {
		return "", err
	}
	var v constraints
	globalName(&v, in.GlobalTableName)
	if err := v.err(); err != nil {
		return "", err
	}
	return *in.GlobalTableName, nil
}

// globalName checks a GlobalTableName: required, then a table name.
func globalName(v *constraints, name *string) {
	v.notNull(name != nil, "globalTableName")
	if name != nil {
		v.tableName(name, "globalTableName")
	}
}

func (s *Server) listGlobalTables(ctx context.Context, c *call) (any, error) {
	var in struct {
		ExclusiveStartGlobalTableName *string `json:"ExclusiveStartGlobalTableName"`
		Limit                         *int64  `json:"Limit"`
		RegionName                    *string `json:"RegionName"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	if in.ExclusiveStartGlobalTableName != nil {
		v.tableName(in.ExclusiveStartGlobalTableName, "exclusiveStartGlobalTableName")
	}
	if in.Limit != nil && *in.Limit < 1 {
		v.fail(*in.Limit, "limit", "Member must have value greater than or equal to 1")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return map[string]any{"GlobalTables": []any{}}, nil
}
