package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// exportLines returns the lines of an export's data files.
func exportLines(t *testing.T, dir string, d *types.ExportDescription) []string {
	t.Helper()
	id := aws.ToString(d.ExportArn)[strings.LastIndexByte(aws.ToString(d.ExportArn), '/')+1:]
	files, _ := filepath.Glob(filepath.Join(dir, "AWSDynamoDB", id, "data", "*.json.gz"))
	var lines []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		fh.Close()
	}
	sort.Strings(lines)
	return lines
}

// TestExportFromPointInTimeRecovery: with PITR enabled, a full export at a
// past ExportTime holds the table as it was then (dataport's History wired
// to the store's PITR history).
func TestExportFromPointInTimeRecovery(t *testing.T) {
	e := eddytest.Start(t, server.Options{})
	ctx := context.Background()
	out, err := e.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("hist"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	tableARN := aws.ToString(out.TableDescription.TableArn)
	if _, err := e.DDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("hist"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	put := func(pk, v string) {
		if _, err := e.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("hist"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberN{Value: v}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", "1")
	put("b", "1")
	time.Sleep(1100 * time.Millisecond)
	t1 := time.Now()
	time.Sleep(1100 * time.Millisecond)
	put("a", "2")
	if _, err := e.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("hist"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	put("c", "1")
	time.Sleep(1100 * time.Millisecond)
	t2 := time.Now()

	dir := t.TempDir()
	export := func(in *dynamodb.ExportTableToPointInTimeInput) *types.ExportDescription {
		t.Helper()
		in.TableArn, in.S3Bucket, in.ExportFormat = aws.String(tableARN), aws.String("file://"+dir), types.ExportFormatDynamodbJson
		out, err := e.DDB.ExportTableToPointInTime(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return waitExport(t, e.DDB, aws.ToString(out.ExportDescription.ExportArn))
	}
	full := exportLines(t, dir, export(&dynamodb.ExportTableToPointInTimeInput{ExportTime: aws.Time(t1)}))
	want := []string{`{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}`, `{"Item":{"pk":{"S":"b"},"v":{"N":"1"}}}`}
	for i, l := range full {
		full[i] = canonLine(t, l) // json.Marshal sorts an object's members
	}
	sort.Strings(full)
	if strings.Join(full, "\n") != strings.Join(want, "\n") {
		t.Fatalf("full export at t1: %q, want %q", full, want)
	}

	// A later instant sees the later state: a changed, b deleted, c new.
	full = exportLines(t, dir, export(&dynamodb.ExportTableToPointInTimeInput{ExportTime: aws.Time(t2)}))
	for i, l := range full {
		full[i] = canonLine(t, l)
	}
	sort.Strings(full)
	want = []string{`{"Item":{"pk":{"S":"a"},"v":{"N":"2"}}}`, `{"Item":{"pk":{"S":"c"},"v":{"N":"1"}}}`}
	if strings.Join(full, "\n") != strings.Join(want, "\n") {
		t.Fatalf("full export at t2: %q, want %q", full, want)
	}
	// Incremental exports need a period of 15 minutes at least (as on
	// AWS); their lines are tested against a fake History in package
	// dataport.
}

func canonLine(t *testing.T, l string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(l), &v); err != nil {
		t.Fatalf("line %s: %v", l, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestIncrementalExportFromTheHistory: an incremental export read from the
// store's real PITR history, with the server's clock compressed
// (eddytest.Clock: the period must be 15 minutes at least, as on AWS):
// one line per item changed in the period, its last image in it
// (NewImage; none when deleted) and its image before (OldImage), written
// within the period; items changed only before or after it are absent.
func TestIncrementalExportFromTheHistory(t *testing.T) {
	clock := eddytest.NewClock()
	e := eddytest.Start(t, server.Options{Clock: clock.Now})
	ctx := context.Background()
	out, err := e.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("inc"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("inc"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	put := func(pk, v string) {
		t.Helper()
		if _, err := e.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("inc"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberN{Value: v}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", "1")
	put("b", "1")
	put("x", "1")
	clock.Advance(time.Minute)
	from := clock.Now()
	clock.Advance(time.Minute)
	put("a", "2")
	if _, err := e.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("inc"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	put("c", "1")
	clock.Advance(5 * time.Minute)
	put("a", "3") // a's last change in the period wins
	clock.Advance(15 * time.Minute)
	to := clock.Now()
	clock.Advance(time.Minute)
	put("x", "2") // after the period

	dir := t.TempDir()
	exp, err := e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: out.TableDescription.TableArn, S3Bucket: aws.String("file://" + dir), ExportFormat: types.ExportFormatDynamodbJson,
		ExportType: types.ExportTypeIncrementalExport,
		IncrementalExportSpecification: &types.IncrementalExportSpecification{ExportFromTime: aws.Time(from), ExportToTime: aws.Time(to),
			ExportViewType: types.ExportViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := waitExport(t, e.DDB, aws.ToString(exp.ExportDescription.ExportArn))
	if d.ExportStatus != types.ExportStatusCompleted || aws.ToInt64(d.ItemCount) != 3 {
		t.Fatalf("incremental export: %s, %d items (%s), want COMPLETED, 3", d.ExportStatus, aws.ToInt64(d.ItemCount), aws.ToString(d.FailureMessage))
	}
	var got []string
	for _, l := range exportLines(t, dir, d) {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("line %s: %v", l, err)
		}
		meta, _ := line["Metadata"].(map[string]any)
		ts, _ := meta["WriteTimestampMicros"].(map[string]any)
		micros, _ := ts["N"].(string)
		if micros < fmt.Sprint(from.UnixMicro()) || micros > fmt.Sprint(to.UnixMicro()) {
			t.Errorf("line %s: written at %s, outside the period [%d, %d]", l, micros, from.UnixMicro(), to.UnixMicro())
		}
		delete(line, "Metadata")
		b, _ := json.Marshal(line)
		got = append(got, string(b))
	}
	sort.Strings(got)
	want := []string{
		`{"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"v":{"N":"3"}},"OldImage":{"pk":{"S":"a"},"v":{"N":"1"}}}`,
		`{"Keys":{"pk":{"S":"b"}},"OldImage":{"pk":{"S":"b"},"v":{"N":"1"}}}`,
		`{"Keys":{"pk":{"S":"c"}},"NewImage":{"pk":{"S":"c"},"v":{"N":"1"}}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("incremental export lines:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
