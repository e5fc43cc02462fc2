package api_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// indexedTable is a table with a sort key and a global index on g.
func indexedTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	}
}

// contents returns a table's items (or an index's entries) as sorted JSON.
func contents(t *testing.T, c *dynamodb.Client, table, index string) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), IndexName: optional(index)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("Scan %s %s: %v", table, index, err)
		}
		for _, it := range page.Items {
			b, _ := json.Marshal(normalize(it))
			out = append(out, string(b))
		}
	}
	sort.Strings(out)
	return out
}

func putN(t *testing.T, c *dynamodb.Client, table string, from, to int, tag string) {
	t.Helper()
	for i := from; i < to; i++ {
		it := map[string]types.AttributeValue{"pk": S(fmt.Sprintf("p%d", i%3)), "sk": N(fmt.Sprint(i)), "v": S(tag)}
		if i%2 == 0 {
			it["g"] = S(fmt.Sprintf("g%d", i%4))
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
}

// instant returns an instant strictly between the writes before and
// after it, at the millisecond the SDKs send: the clock is read between
// two short pauses, so no write of either side shares its millisecond.
func instant() time.Time {
	time.Sleep(2 * time.Millisecond)
	at := time.Now().Truncate(time.Millisecond)
	time.Sleep(2 * time.Millisecond)
	return at
}

// TestPointInTimeRecovery: UpdateContinuousBackups enables PITR with its
// recovery period; DescribeContinuousBackups reports the window; a table
// restored to an instant (by name, to RestoreDateTime) or to the latest
// restorable time (by ARN, with the global index dropped) is CREATING,
// then ACTIVE with exactly the items and index entries of that instant,
// without the source's stream; and the operations' errors are DynamoDB's.
func TestPointInTimeRecovery(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	mustCreate(t, c, indexedTable("Src"))
	createTable(t, c, "NoPitr", false)
	putN(t, c, "Src", 0, 10, "before") // reach the restore through the base image

	_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("Src"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true), RecoveryPeriodInDays: aws.Int32(36)}})
	apiErr(t, err, "ValidationException", "1 validation error detected: Value '36' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value less than or equal to 35")
	up, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("Src"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true), RecoveryPeriodInDays: aws.Int32(7)}})
	if err != nil {
		t.Fatal(err)
	}
	pd := up.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	if pd.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled || aws.ToInt32(pd.RecoveryPeriodInDays) != 7 ||
		pd.EarliestRestorableDateTime == nil || pd.LatestRestorableDateTime == nil || pd.LatestRestorableDateTime.Before(*pd.EarliestRestorableDateTime) {
		t.Fatalf("after enabling: %+v", pd)
	}
	earliest := *pd.EarliestRestorableDateTime

	putN(t, c, "Src", 10, 20, "first")
	at := instant()
	want, wantIx := contents(t, c, "Src", ""), contents(t, c, "Src", "byG")
	putN(t, c, "Src", 5, 25, "second")
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Src"), Key: map[string]types.AttributeValue{"pk": S("p0"), "sk": N("0")}}); err != nil {
		t.Fatal(err)
	}

	out, err := c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("Src"), TargetTableName: aws.String("AtInstant"), RestoreDateTime: aws.Time(at)})
	if err != nil {
		t.Fatal(err)
	}
	td := out.TableDescription
	if td.TableStatus != types.TableStatusCreating || td.RestoreSummary == nil || !aws.ToBool(td.RestoreSummary.RestoreInProgress) ||
		aws.ToString(td.RestoreSummary.SourceTableArn) != "arn:aws:dynamodb:us-east-1:000000000000:table/Src" || !td.RestoreSummary.RestoreDateTime.Equal(at) {
		t.Fatalf("RestoreTableToPointInTime: %+v %+v", td, td.RestoreSummary)
	}
	td = waitActive(t, c, "AtInstant")
	if td.StreamSpecification != nil || len(td.GlobalSecondaryIndexes) != 1 || aws.ToBool(td.RestoreSummary.RestoreInProgress) {
		t.Fatalf("restored table: %+v", td)
	}
	if got := contents(t, c, "AtInstant", ""); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("restored to the instant:\n got %v\nwant %v", got, want)
	}
	if got := contents(t, c, "AtInstant", "byG"); fmt.Sprint(got) != fmt.Sprint(wantIx) {
		t.Fatalf("restored index:\n got %v\nwant %v", got, wantIx)
	}

	latest := contents(t, c, "Src", "")
	if _, err := c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/Src"), TargetTableName: aws.String("Latest"),
		UseLatestRestorableTime: aws.Bool(true), GlobalSecondaryIndexOverride: []types.GlobalSecondaryIndex{}}); err != nil {
		t.Fatal(err)
	}
	if td := waitActive(t, c, "Latest"); len(td.GlobalSecondaryIndexes) != 0 {
		t.Fatalf("GlobalSecondaryIndexOverride [] kept %v", td.GlobalSecondaryIndexes)
	}
	if got := contents(t, c, "Latest", ""); fmt.Sprint(got) != fmt.Sprint(latest) {
		t.Fatalf("restored to the latest time:\n got %v\nwant %v", got, latest)
	}

	_, err = c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("Src"), TargetTableName: aws.String("Latest"), UseLatestRestorableTime: aws.Bool(true)})
	apiErr(t, err, "TableAlreadyExistsException", "Table already exists: Latest")
	_, err = c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("Nope"), TargetTableName: aws.String("Xx1"), UseLatestRestorableTime: aws.Bool(true)})
	apiErr(t, err, "TableNotFoundException", "Table not found: Nope")
	_, err = c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("NoPitr"), TargetTableName: aws.String("Xx1"), UseLatestRestorableTime: aws.Bool(true)})
	apiErr(t, err, "PointInTimeRecoveryUnavailableException", "")
	_, err = c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("Src"), TargetTableName: aws.String("Xx1"), RestoreDateTime: aws.Time(earliest.Add(-time.Second))})
	apiErr(t, err, "InvalidRestoreTimeException", "")
	_, err = c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("Src"), TargetTableName: aws.String("Xx1"), RestoreDateTime: aws.Time(time.Now().Add(time.Hour))})
	apiErr(t, err, "InvalidRestoreTimeException", "")
	if _, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Xx1")}); err == nil {
		t.Fatal("a refused restore made its target table")
	}

	// Disabling drops the history: the window is gone.
	d, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("Src"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(false)}})
	if err != nil || d.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled {
		t.Fatalf("disable: %v %+v", err, d)
	}
	_, err = c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("Src"), TargetTableName: aws.String("Xx1"), UseLatestRestorableTime: aws.Bool(true)})
	apiErr(t, err, "PointInTimeRecoveryUnavailableException", "")
}

// TestOnDemandBackups: CreateBackup, DescribeBackup, ListBackups (table
// filter, time range, paging), RestoreTableFromBackup (the contents as of
// the backup, indexes included, with a billing-mode override), and
// DeleteBackup, with DynamoDB's errors.
func TestOnDemandBackups(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	mustCreate(t, c, indexedTable("Src"))
	createTable(t, c, "Other", false)
	putN(t, c, "Src", 0, 30, "v1")
	want, wantIx := contents(t, c, "Src", ""), contents(t, c, "Src", "byG")

	cb, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("Src"), BackupName: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	bd := cb.BackupDetails
	arn := aws.ToString(bd.BackupArn)
	if bd.BackupStatus != types.BackupStatusAvailable || bd.BackupType != types.BackupTypeUser || aws.ToString(bd.BackupName) != "first" ||
		aws.ToInt64(bd.BackupSizeBytes) <= 0 || len(arn) < 37 || arn[:len("arn:aws:dynamodb:us-east-1:000000000000:table/Src/backup/")] != "arn:aws:dynamodb:us-east-1:000000000000:table/Src/backup/" {
		t.Fatalf("CreateBackup: %+v %s", bd, arn)
	}
	putN(t, c, "Src", 10, 40, "v2") // after the backup: not restored
	if _, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("Other"), BackupName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}

	db, err := c.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if sd := db.BackupDescription.SourceTableDetails; aws.ToString(sd.TableName) != "Src" || aws.ToInt64(sd.ItemCount) != int64(len(want)) ||
		len(db.BackupDescription.SourceTableFeatureDetails.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("DescribeBackup: %+v %+v", sd, db.BackupDescription.SourceTableFeatureDetails)
	}

	l, err := c.ListBackups(ctx, &dynamodb.ListBackupsInput{TableName: aws.String("Src")})
	if err != nil || len(l.BackupSummaries) != 1 || aws.ToString(l.BackupSummaries[0].BackupArn) != arn {
		t.Fatalf("ListBackups of Src: %v %+v", err, l)
	}
	l, err = c.ListBackups(ctx, &dynamodb.ListBackupsInput{Limit: aws.Int32(1)})
	if err != nil || len(l.BackupSummaries) != 1 || aws.ToString(l.LastEvaluatedBackupArn) != arn {
		t.Fatalf("ListBackups page 1: %v %+v", err, l)
	}
	l, err = c.ListBackups(ctx, &dynamodb.ListBackupsInput{Limit: aws.Int32(1), ExclusiveStartBackupArn: aws.String(arn)})
	if err != nil || len(l.BackupSummaries) != 1 || aws.ToString(l.BackupSummaries[0].TableName) != "Other" || l.LastEvaluatedBackupArn != nil {
		t.Fatalf("ListBackups page 2: %v %+v", err, l)
	}
	l, err = c.ListBackups(ctx, &dynamodb.ListBackupsInput{TimeRangeUpperBound: bd.BackupCreationDateTime})
	if err != nil || len(l.BackupSummaries) != 0 {
		t.Fatalf("ListBackups before the first backup (upper bound exclusive): %v %+v", err, l)
	}

	r, err := c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: aws.String(arn), TargetTableName: aws.String("FromBackup"),
		BillingModeOverride: types.BillingModeProvisioned, ProvisionedThroughputOverride: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(6)}})
	if err != nil {
		t.Fatal(err)
	}
	if r.TableDescription.TableStatus != types.TableStatusCreating || aws.ToString(r.TableDescription.RestoreSummary.SourceBackupArn) != arn {
		t.Fatalf("RestoreTableFromBackup: %+v", r.TableDescription)
	}
	td := waitActive(t, c, "FromBackup")
	if aws.ToInt64(td.ProvisionedThroughput.WriteCapacityUnits) != 6 || td.StreamSpecification != nil {
		t.Fatalf("restored table: %+v", td)
	}
	if got := contents(t, c, "FromBackup", ""); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("restored from backup:\n got %v\nwant %v", got, want)
	}
	if got := contents(t, c, "FromBackup", "byG"); fmt.Sprint(got) != fmt.Sprint(wantIx) {
		t.Fatalf("restored index:\n got %v\nwant %v", got, wantIx)
	}

	_, err = c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: aws.String(arn), TargetTableName: aws.String("Other")})
	apiErr(t, err, "TableAlreadyExistsException", "Table already exists: Other")
	_, err = c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("Nope"), BackupName: aws.String("x12")})
	apiErr(t, err, "TableNotFoundException", "Table not found: Nope")
	if _, err := c.DeleteBackup(ctx, &dynamodb.DeleteBackupInput{BackupArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(arn)})
	apiErr(t, err, "BackupNotFoundException", "Backup not found: "+arn)
	_, err = c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: aws.String(arn), TargetTableName: aws.String("Xx2")})
	apiErr(t, err, "BackupNotFoundException", "Backup not found: "+arn)
}
