package api

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// Backups and point-in-time recovery on the wire: UpdateContinuousBackups,
// DescribeContinuousBackups, RestoreTableToPointInTime, CreateBackup,
// DescribeBackup, ListBackups, DeleteBackup, RestoreTableFromBackup. The
// machinery is the store's (store/pitr.go, store/backup.go); a restore
// runs in the background and the new table is CREATING until it is done.
//
// Error types are the operations' declared ones (API reference); where a
// message was recorded (moto's exceptions.py, scylla's test_backup.py) it
// is used as recorded: "Table not found: NAME", "Backup not found: ARN",
// "Table already exists: NAME". The other messages are the API
// reference's descriptions of the exception.

func (s *Server) registerBackupOps() {
	s.ops["DescribeContinuousBackups"] = s.describeContinuousBackups
	s.ops["UpdateContinuousBackups"] = s.updateContinuousBackups
	s.ops["RestoreTableToPointInTime"] = s.restoreTableToPointInTime
	s.ops["CreateBackup"] = s.createBackup
	s.ops["DescribeBackup"] = s.describeBackup
	s.ops["ListBackups"] = s.listBackups
	s.ops["DeleteBackup"] = s.deleteBackup
	s.ops["RestoreTableFromBackup"] = s.restoreTableFromBackup
}

// backupTable resolves the TableName of a backup operation: a name or the
// table's ARN in the request's region; a missing table is
// TableNotFoundException ("Table not found: NAME": moto, and scylla's
// test_describe_continuous_backups_nonexistent for the type).
func (s *Server) backupTable(c *call, name *string, at string) (*store.Table, error) {
	if name != nil {
		if n, ok := strings.CutPrefix(*name, s.accountIn(c.region).TablePrefix()); ok {
			name = &n
		}
	}
	var v constraints
	v.tableName(name, at)
	if err := v.err(); err != nil {
		return nil, err
	}
	t := s.db.TableIn(c.region, *name)
	if t == nil {
		return nil, ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", *name)
	}
	return t, nil
}

// continuousBackups is ContinuousBackupsDescription: continuous backups are
// ENABLED for every table, as the API reference says and the AWS CLI's
// recorded example shows; point-in-time recovery as the table has it.
func (s *Server) continuousBackups(t *store.Table) map[string]any {
	pitr := map[string]any{"PointInTimeRecoveryStatus": "DISABLED"}
	if earliest, latest, ok := s.db.PITRWindow(t); ok {
		pitr = map[string]any{
			"PointInTimeRecoveryStatus":  "ENABLED",
			"EarliestRestorableDateTime": epochTime(earliest),
			"LatestRestorableDateTime":   epochTime(latest),
			"RecoveryPeriodInDays":       t.PITR.Days,
		}
	}
	return map[string]any{"ContinuousBackupsDescription": map[string]any{
		"ContinuousBackupsStatus":        "ENABLED",
		"PointInTimeRecoveryDescription": pitr,
	}}
}

func (s *Server) describeContinuousBackups(ctx context.Context, c *call) (any, error) {
	var in tableNameInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	t, err := s.backupTable(c, in.TableName, "tableName")
	if err != nil {
		return nil, err
	}
	return s.continuousBackups(t), nil
}

type updateContinuousBackupsInput struct {
	TableName *string `json:"TableName"`
	Spec      *struct {
		Enabled *bool  `json:"PointInTimeRecoveryEnabled"`
		Days    *int64 `json:"RecoveryPeriodInDays"`
	} `json:"PointInTimeRecoverySpecification"`
}

// updateContinuousBackups enables or disables point-in-time recovery and
// sets its recovery period (RecoveryPeriodInDays 1-35, default 35).
func (s *Server) updateContinuousBackups(ctx context.Context, c *call) (any, error) {
	var in updateContinuousBackupsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	if in.Spec == nil {
		v.notNull(false, "pointInTimeRecoverySpecification")
	} else {
		v.notNull(in.Spec.Enabled != nil, "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled")
		if d := in.Spec.Days; d != nil {
			if *d < 1 {
				v.fail(d, "pointInTimeRecoverySpecification.recoveryPeriodInDays", "Member must have value greater than or equal to 1")
			}
			if *d > 35 {
				v.fail(d, "pointInTimeRecoverySpecification.recoveryPeriodInDays", "Member must have value less than or equal to 35")
			}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	t, err := s.backupTable(c, in.TableName, "tableName")
	if err != nil {
		return nil, err
	}
	days := t.PITR.Days
	if in.Spec.Days != nil {
		days = int(*in.Spec.Days)
	}
	if days == 0 {
		days = 35
	}
	if t.Restoring() {
		return nil, ddberr.New(ddberr.KindContinuousBackupsUnavailable, "Backups are being enabled for the table: %s. Please retry later", t.Name)
	}
	t, err = s.db.SetPITR(ctx, c.region, t.Name, *in.Spec.Enabled, days)
	if err != nil {
		return nil, err
	}
	return s.continuousBackups(t), nil
}

// restoreOverrides are the members both restores share.
type restoreOverrides struct {
	TargetTableName               *string           `json:"TargetTableName"`
	BillingModeOverride           string            `json:"BillingModeOverride"`
	ProvisionedThroughputOverride *throughputWire   `json:"ProvisionedThroughputOverride"`
	GlobalSecondaryIndexOverride  []indexWire       `json:"GlobalSecondaryIndexOverride"`
	LocalSecondaryIndexOverride   []indexWire       `json:"LocalSecondaryIndexOverride"`
	SSESpecificationOverride      map[string]any    `json:"SSESpecificationOverride"`
	OnDemandThroughputOverride    map[string]*int64 `json:"OnDemandThroughputOverride"`
}

func (o *restoreOverrides) check(v *constraints) {
	if o.TargetTableName == nil {
		v.notNull(false, "targetTableName")
	} else {
		v.resourceName(*o.TargetTableName, "targetTableName")
	}
	v.enum(o.BillingModeOverride, "billingModeOverride", "PROVISIONED", "PAY_PER_REQUEST")
	if o.ProvisionedThroughputOverride != nil {
		checkThroughput(v, o.ProvisionedThroughputOverride, "provisionedThroughputOverride")
	}
	checkIndexShapes(v, o.LocalSecondaryIndexOverride, "localSecondaryIndexOverride", false)
	checkIndexShapes(v, o.GlobalSecondaryIndexOverride, "globalSecondaryIndexOverride", true)
}

// target builds the restored table's descriptor from the source's (src:
// the table as it is now for a point-in-time restore, as it was for a
// backup) and the overrides. As in DynamoDB, the key schema, attribute
// definitions, indexes, billing mode, throughput and encryption come from
// the source; streams, TTL, tags, deletion protection and point-in-time
// recovery do not (the restored table has them off).
func (s *Server) target(c *call, src *store.Table, o *restoreOverrides) (*store.Table, error) {
	t := src.Clone()
	t.Name, t.Region = *o.TargetTableName, c.region
	t.Stream, t.TTL, t.Tags, t.DeletionProtection, t.PITR = store.StreamSpec{}, store.TTLSpec{}, nil, false, store.PITRSpec{}
	t.Throughput.LastIncrease, t.Throughput.LastDecrease, t.Throughput.NumberOfDecreasesToday = time.Time{}, time.Time{}, 0
	if o.BillingModeOverride != "" && o.BillingModeOverride != t.BillingMode {
		t.BillingMode = o.BillingModeOverride
		if t.BillingMode == "PAY_PER_REQUEST" {
			t.Throughput = store.Throughput{}
			t.PayPerRequestSince = time.Now().UTC()
		} else if o.ProvisionedThroughputOverride == nil {
			return nil, ddberr.Invalidf("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
	}
	if tp := o.ProvisionedThroughputOverride; tp != nil {
		if t.BillingMode == "PAY_PER_REQUEST" {
			return nil, ddberr.Invalidf("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		if err := throughputBounds(tp); err != nil {
			return nil, err
		}
		t.Throughput = store.Throughput{Read: *tp.ReadCapacityUnits, Write: *tp.WriteCapacityUnits}
	}
	if o.SSESpecificationOverride != nil {
		t.SSE = s.sseSpec(c.region, o.SSESpecificationOverride, nil)
	}
	if o.OnDemandThroughputOverride != nil {
		t.OnDemandThroughput = onDemandThroughput(o.OnDemandThroughputOverride)
	}
	if o.GlobalSecondaryIndexOverride == nil && o.LocalSecondaryIndexOverride == nil {
		return t, nil
	}
	defs := map[string]attr.Type{}
	var defNames []string
	for _, d := range t.AttrDefs {
		defs[d.Name] = d.Type
		defNames = append(defNames, d.Name)
	}
	var keep []store.Index
	for _, ix := range t.Indexes {
		if ix.Global && o.GlobalSecondaryIndexOverride == nil || !ix.Global && o.LocalSecondaryIndexOverride == nil {
			keep = append(keep, ix)
		}
	}
	t.Indexes = keep
	names := map[string]bool{}
	for _, ix := range keep {
		names[ix.Name] = true
	}
	for _, list := range []struct {
		defs   []indexWire
		global bool
	}{{o.LocalSecondaryIndexOverride, false}, {o.GlobalSecondaryIndexOverride, true}} {
		if !list.global && len(list.defs) > 0 && t.Range == nil {
			return nil, ddberr.Invalidf("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		for i := range list.defs {
			ix, err := indexDef(&list.defs[i], list.global, t, defs, defNames)
			if err != nil {
				return nil, err
			}
			if names[ix.Name] {
				return nil, ddberr.Invalidf("Duplicate index name: %s", ix.Name)
			}
			names[ix.Name] = true
			t.LastIndexID++
			ix.ID = t.LastIndexID
			t.Indexes = append(t.Indexes, ix)
		}
	}
	if len(o.GlobalSecondaryIndexOverride) > 20 {
		return nil, ddberr.Invalidf("GlobalSecondaryIndex count exceeds the per-table limit of 20")
	}
	if len(o.LocalSecondaryIndexOverride) > 5 {
		return nil, ddberr.Invalidf("Number of LocalSecondaryIndexes exceeds per-table limit of 5")
	}
	return t, nil
}

type restorePITRInput struct {
	restoreOverrides
	SourceTableArn          *string  `json:"SourceTableArn"`
	SourceTableName         *string  `json:"SourceTableName"`
	RestoreDateTime         *float64 `json:"RestoreDateTime"`
	UseLatestRestorableTime bool     `json:"UseLatestRestorableTime"`
}

// epochOf converts a wire timestamp (epoch seconds with a fraction) to a
// time, to the microsecond.
func epochOf(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// restoreTableToPointInTime restores a table with PITR, by name or ARN, to
// RestoreDateTime (eddy: to the microsecond the request names; the SDKs
// send milliseconds) or to the latest restorable time, into a new table.
func (s *Server) restoreTableToPointInTime(ctx context.Context, c *call) (any, error) {
	var in restorePITRInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	if in.SourceTableArn != nil {
		v.arn(in.SourceTableArn, "sourceTableArn", false)
	}
	if in.SourceTableName != nil {
		v.resourceName(*in.SourceTableName, "sourceTableName")
	}
	in.check(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	var name string
	switch {
	case in.SourceTableArn != nil && in.SourceTableName != nil:
		return nil, ddberr.Validationf("Only one of SourceTableArn or SourceTableName may be specified")
	case in.SourceTableArn != nil:
		n, ok := strings.CutPrefix(*in.SourceTableArn, s.accountIn(c.region).TablePrefix())
		if !ok {
			return nil, ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", *in.SourceTableArn)
		}
		name = n
	case in.SourceTableName != nil:
		name = *in.SourceTableName
	default:
		return nil, ddberr.Validationf("Either SourceTableArn or SourceTableName must be specified")
	}
	if in.UseLatestRestorableTime && in.RestoreDateTime != nil {
		return nil, ddberr.Validationf("Only one of RestoreDateTime or UseLatestRestorableTime may be specified")
	}
	if !in.UseLatestRestorableTime && in.RestoreDateTime == nil {
		return nil, ddberr.Validationf("Either RestoreDateTime or UseLatestRestorableTime must be specified")
	}
	src := s.db.TableIn(c.region, name)
	if src == nil {
		return nil, ddberr.New(ddberr.KindTableNotFound, "Table not found: %s", name)
	}
	if s.db.TableIn(c.region, *in.TargetTableName) != nil {
		return nil, ddberr.New(ddberr.KindTableAlreadyExists, "Table already exists: %s", *in.TargetTableName)
	}
	spec, err := s.target(c, src, &in.restoreOverrides)
	if err != nil {
		return nil, err
	}
	spec.Restore = &store.RestoreInfo{SourceTableArn: s.tableArn(src)}
	var at time.Time
	if in.UseLatestRestorableTime {
		_, at, _ = s.db.PITRWindow(src)
	} else {
		at = epochOf(*in.RestoreDateTime)
	}
	t, err := s.db.RestoreAsOf(c.region, name, at, spec)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": s.describe(t, "CREATING")}, nil
}

// Backup ARNs are the table's ARN, /backup/, and the backup's ID.
func (s *Server) backupArn(bk *store.Backup) string {
	return s.accountIn(bk.Region).Table(bk.Table.Name) + "/backup/" + bk.ID
}

// backupByArn finds a backup of the request's region by its ARN:
// BackupNotFoundException ("Backup not found: ARN", moto) otherwise.
func (s *Server) backupByArn(c *call, a *string) (*store.Backup, error) {
	var v constraints
	v.arn(a, "backupArn", true)
	if err := v.err(); err != nil {
		return nil, err
	}
	notFound := ddberr.New(ddberr.KindBackupNotFound, "Backup not found: %s", *a)
	_, id, ok := strings.Cut(strings.TrimPrefix(*a, s.accountIn(c.region).TablePrefix()), "/backup/")
	if !ok || !strings.HasPrefix(*a, s.accountIn(c.region).TablePrefix()) {
		return nil, notFound
	}
	bk, err := s.db.BackupByID(id)
	if err != nil {
		return nil, err
	}
	if bk == nil || bk.Region != c.region || s.backupArn(bk) != *a {
		return nil, notFound
	}
	return bk, nil
}

func (s *Server) backupDetails(bk *store.Backup, status string) map[string]any {
	d := map[string]any{
		"BackupArn":              s.backupArn(bk),
		"BackupName":             bk.Name,
		"BackupSizeBytes":        bk.Bytes,
		"BackupStatus":           status,
		"BackupType":             bk.Type,
		"BackupCreationDateTime": epochTime(bk.Created),
	}
	return d
}

// backupDescription is DescribeBackup's and DeleteBackup's
// BackupDescription.
func (s *Server) backupDescription(bk *store.Backup, status string) map[string]any {
	t := bk.Table
	d := s.describe(t, "ACTIVE")
	src := map[string]any{
		"TableName":             t.Name,
		"TableId":               t.UUID,
		"TableArn":              d.TableArn,
		"TableSizeBytes":        bk.Bytes,
		"ItemCount":             bk.Items,
		"KeySchema":             d.KeySchema,
		"TableCreationDateTime": epochTime(t.CreatedAt),
		"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": t.Throughput.Read, "WriteCapacityUnits": t.Throughput.Write},
		"BillingMode":           t.BillingMode,
	}
	features := map[string]any{}
	trim := func(list []map[string]any, keys ...string) []map[string]any {
		var out []map[string]any
		for _, ix := range list {
			m := map[string]any{}
			for _, k := range keys {
				if v, ok := ix[k]; ok {
					m[k] = v
				}
			}
			out = append(out, m)
		}
		return out
	}
	if d.GlobalSecondaryIndexes != nil {
		features["GlobalSecondaryIndexes"] = trim(d.GlobalSecondaryIndexes, "IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
	}
	if d.LocalSecondaryIndexes != nil {
		features["LocalSecondaryIndexes"] = trim(d.LocalSecondaryIndexes, "IndexName", "KeySchema", "Projection")
	}
	if d.SSEDescription != nil {
		features["SSEDescription"] = d.SSEDescription
	}
	return map[string]any{
		"BackupDetails":             s.backupDetails(bk, status),
		"SourceTableDetails":        src,
		"SourceTableFeatureDetails": features,
	}
}

type createBackupInput struct {
	TableName  *string `json:"TableName"`
	BackupName *string `json:"BackupName"`
}

func (s *Server) createBackup(ctx context.Context, c *call) (any, error) {
	var in createBackupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	if in.BackupName == nil {
		v.notNull(false, "backupName")
	} else {
		v.resourceName(*in.BackupName, "backupName")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	t, err := s.backupTable(c, in.TableName, "tableName")
	if err != nil {
		return nil, err
	}
	bk, err := s.db.CreateBackup(c.region, t.Name, *in.BackupName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupDetails": s.backupDetails(bk, "AVAILABLE")}, nil
}

type backupArnInput struct {
	BackupArn *string `json:"BackupArn"`
}

func (s *Server) describeBackup(ctx context.Context, c *call) (any, error) {
	var in backupArnInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	bk, err := s.backupByArn(c, in.BackupArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BackupDescription": s.backupDescription(bk, "AVAILABLE")}, nil
}

func (s *Server) deleteBackup(ctx context.Context, c *call) (any, error) {
	var in backupArnInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	bk, err := s.backupByArn(c, in.BackupArn)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.DeleteBackup(bk.ID); err != nil {
		return nil, err
	}
	return map[string]any{"BackupDescription": s.backupDescription(bk, "DELETED")}, nil
}

type listBackupsInput struct {
	TableName               *string  `json:"TableName"`
	TimeRangeLowerBound     *float64 `json:"TimeRangeLowerBound"`
	TimeRangeUpperBound     *float64 `json:"TimeRangeUpperBound"`
	BackupType              string   `json:"BackupType"`
	Limit                   *int64   `json:"Limit"`
	ExclusiveStartBackupArn *string  `json:"ExclusiveStartBackupArn"`
}

// listBackups lists the region's on-demand backups (BackupType USER, the
// default, or ALL; eddy has no SYSTEM or AWS_BACKUP backups), oldest first,
// filtered by table and by creation time (the lower bound inclusive, the
// upper exclusive, as the API reference says), Limit (1-100) at a time.
func (s *Server) listBackups(ctx context.Context, c *call) (any, error) {
	var in listBackupsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	if in.TableName != nil {
		v.resourceName(*in.TableName, "tableName")
	}
	v.enum(in.BackupType, "backupType", "USER", "SYSTEM", "AWS_BACKUP", "ALL")
	v.limit(in.Limit, "limit", 100)
	if in.ExclusiveStartBackupArn != nil {
		v.arn(in.ExclusiveStartBackupArn, "exclusiveStartBackupArn", false)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	all, err := s.db.Backups()
	if err != nil {
		return nil, err
	}
	var list []*store.Backup
	for _, bk := range all {
		switch {
		case bk.Region != c.region,
			in.TableName != nil && bk.Table.Name != *in.TableName,
			in.BackupType != "" && in.BackupType != "ALL" && in.BackupType != bk.Type,
			in.TimeRangeLowerBound != nil && bk.Created.Before(epochOf(*in.TimeRangeLowerBound)),
			in.TimeRangeUpperBound != nil && !bk.Created.Before(epochOf(*in.TimeRangeUpperBound)):
			continue
		}
		list = append(list, bk)
	}
	if a := in.ExclusiveStartBackupArn; a != nil {
		for i, bk := range list {
			if s.backupArn(bk) == *a {
				list = list[i+1:]
				break
			}
		}
	}
	out := map[string]any{}
	if in.Limit != nil && int64(len(list)) > *in.Limit {
		list = list[:*in.Limit]
		out["LastEvaluatedBackupArn"] = s.backupArn(list[len(list)-1])
	}
	sums := []map[string]any{}
	for _, bk := range list {
		m := s.backupDetails(bk, "AVAILABLE")
		m["TableName"], m["TableId"], m["TableArn"] = bk.Table.Name, bk.Table.UUID, s.accountIn(bk.Region).Table(bk.Table.Name)
		sums = append(sums, m)
	}
	out["BackupSummaries"] = sums
	return out, nil
}

type restoreBackupInput struct {
	restoreOverrides
	BackupArn *string `json:"BackupArn"`
}

func (s *Server) restoreTableFromBackup(ctx context.Context, c *call) (any, error) {
	var in restoreBackupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.arn(in.BackupArn, "backupArn", true)
	in.check(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	bk, err := s.backupByArn(c, in.BackupArn)
	if err != nil {
		return nil, err
	}
	if s.db.TableIn(c.region, *in.TargetTableName) != nil {
		return nil, ddberr.New(ddberr.KindTableAlreadyExists, "Table already exists: %s", *in.TargetTableName)
	}
	spec, err := s.target(c, bk.Table, &in.restoreOverrides)
	if err != nil {
		return nil, err
	}
	spec.Restore = &store.RestoreInfo{SourceBackupArn: s.backupArn(bk), SourceTableArn: s.accountIn(bk.Region).Table(bk.Table.Name)}
	t, err := s.db.RestoreBackup(bk, spec)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": s.describe(t, "CREATING")}, nil
}
