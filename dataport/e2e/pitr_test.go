package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
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
