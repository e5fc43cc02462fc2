package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/klauspost/compress/zstd"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func writeFile(t *testing.T, path string, body []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
}

func simpleTable(name string) *types.TableCreationParameters {
	return &types.TableCreationParameters{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode: types.BillingModePayPerRequest,
	}
}

// errorEvents returns the messages of the import's error log stream.
func errorEvents(t *testing.T, e *eddytest.Server, importARN string) []string {
	t.Helper()
	cw := cloudwatchlogs.NewFromConfig(e.Config())
	out, err := cw.GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String("/aws-dynamodb/imports"), LogStreamName: aws.String(importARN[strings.LastIndexByte(importARN, '/')+1:]),
		StartFromHead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, ev := range out.Events {
		msgs = append(msgs, aws.ToString(ev.Message))
	}
	return msgs
}

// TestImportCSV: a CSV file with a header, a key typed by its attribute
// definition and every other value a string; a row with too many fields,
// a row without its key and a key that is no number are counted as
// errors and logged, and the import completes with the rest.
func TestImportCSV(t *testing.T) {
	e := eddytest.Start(t, server.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in", "a.csv"), []byte("id;name;qty\n1;one;10\n2;\"two; quoted\";20\n3;three;30;extra\n;nokey;0\nx;badkey;0\n4;four;\n"))
	writeFile(t, filepath.Join(dir, "in", "b.csv"), []byte("5;five;50\n"))
	imp, err := e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource:          &types.S3BucketSource{S3Bucket: aws.String("file://" + dir), S3KeyPrefix: aws.String("in/a")},
		InputFormat:             types.InputFormatCsv,
		InputFormatOptions:      &types.InputFormatOptions{Csv: &types.CsvOptions{Delimiter: aws.String(";")}},
		TableCreationParameters: simpleTable("csv"),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := waitImport(t, e.DDB, aws.ToString(imp.ImportTableDescription.ImportArn))
	if d.ImportedItemCount != 3 || d.ErrorCount != 3 || d.ProcessedItemCount != 6 {
		t.Fatalf("imported %d errors %d processed %d, want 3, 3, 6", d.ImportedItemCount, d.ErrorCount, d.ProcessedItemCount)
	}
	got := scanAll(t, e.DDB, "csv")
	want := []string{
		"map[id:N:1 name:S:one qty:S:10]",
		"map[id:N:2 name:S:two; quoted qty:S:20]",
		"map[id:N:4 name:S:four]",
	}
	sameItems(t, "csv", want, got)
	if msgs := errorEvents(t, e, aws.ToString(d.ImportArn)); len(msgs) != 3 || !strings.Contains(msgs[0], `"itemIndex":3`) {
		t.Fatalf("error log: %q", msgs)
	}

	// HeaderList: the file has no header row.
	imp, err = e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource:          &types.S3BucketSource{S3Bucket: aws.String("file://" + dir), S3KeyPrefix: aws.String("in/b")},
		InputFormat:             types.InputFormatCsv,
		InputFormatOptions:      &types.InputFormatOptions{Csv: &types.CsvOptions{Delimiter: aws.String(";"), HeaderList: []string{"id", "name", "qty"}}},
		TableCreationParameters: simpleTable("csv2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitImport(t, e.DDB, aws.ToString(imp.ImportTableDescription.ImportArn))
	sameItems(t, "csv2", []string{"map[id:N:5 name:S:five qty:S:50]"}, scanAll(t, e.DDB, "csv2"))
}

// TestImportBadLines: malformed DynamoDB JSON and Ion lines, items without
// their key or with a key of the wrong type, are errors counted and logged;
// the others are imported (ZSTD compressed), and a later line with the same
// key replaces an earlier one.
func TestImportBadLines(t *testing.T) {
	e := eddytest.Start(t, server.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	zst := func(s string) []byte {
		var b bytes.Buffer
		w, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	writeFile(t, filepath.Join(dir, "json", "1.json.zst"), zst(strings.Join([]string{
		`{"Item":{"id":{"N":"1"},"v":{"S":"a"}}}`,
		`{"Item":{"id":{"N":"2"},"v":{"S":"b"}}`, // unbalanced
		`not json at all`,
		`{"Item":{"v":{"S":"no key"}}}`,
		`{"Item":{"id":{"S":"1"}}}`,               // key of the wrong type
		`{"Item":{"id":{"N":"3"},"v":{"SS":[]}}}`, // an empty set
		``,
		`{"Item":{"id":{"N":"1"},"v":{"S":"a again"}}}`,
		`{"Item":{"id":{"N":"4"},"v":{"M":{"x":{"L":[{"N":"1"}]}}}}}`,
	}, "\n")))
	writeFile(t, filepath.Join(dir, "ion", "1.ion.zst"), zst(strings.Join([]string{
		`$ion_1_0 {Item:{id:1.,v:"a"}}`,
		`{Item:{id:2, v:{{aGk=}}, s:$dynamodb_SS::["x","y"], n:1.5e3, d:2d-1, 'q n':null, ts:2020-01-01T00:00:00Z}} // a comment`,
		`{Item:{id:3., v:"unterminated}}`,
		`{Item:{id:"4"}}`,
		`{Item:{id:5., v:$dynamodb_NS::[1, 0x10]}}`,
		`[1,2]`,
	}, "\n")))
	for _, c := range []struct {
		format, prefix, table string
		imported, errs        int64
		want                  []string
	}{
		{"DYNAMODB_JSON", "json/", "jsontable", 2, 5, []string{
			"map[id:N:1 v:S:a again]",
			"map[id:N:4 v:map[x:[N:1]]]",
		}},
		{"ION", "ion/", "iontable", 3, 3, []string{
			"map[d:N:0.2 id:N:2 n:N:1500 q n:<nil> s:[SS x y] ts:S:2020-01-01T00:00:00Z v:B:hi]",
			"map[id:N:1 v:S:a]",
			"map[id:N:5 v:[NS 1 16]]",
		}},
	} {
		imp, err := e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
			S3BucketSource:          &types.S3BucketSource{S3Bucket: aws.String("file://" + dir), S3KeyPrefix: aws.String(c.prefix)},
			InputFormat:             types.InputFormat(c.format),
			InputCompressionType:    types.InputCompressionTypeZstd,
			TableCreationParameters: simpleTable(c.table),
		})
		if err != nil {
			t.Fatal(err)
		}
		d := waitImport(t, e.DDB, aws.ToString(imp.ImportTableDescription.ImportArn))
		if d.ImportedItemCount != c.imported || d.ErrorCount != c.errs {
			t.Errorf("%s: imported %d errors %d, want %d, %d", c.format, d.ImportedItemCount, d.ErrorCount, c.imported, c.errs)
		}
		if aws.ToInt64(d.ProcessedSizeBytes) == 0 {
			t.Errorf("%s: ProcessedSizeBytes 0", c.format)
		}
		sameItems(t, c.format, c.want, scanAll(t, e.DDB, c.table))
		msgs := errorEvents(t, e, aws.ToString(d.ImportArn))
		if int64(len(msgs)) != c.errs {
			t.Errorf("%s: %d error log events, want %d: %q", c.format, len(msgs), c.errs, msgs)
		}
		for _, m := range msgs {
			var ev map[string]any
			if err := json.Unmarshal([]byte(m), &ev); err != nil || ev["importArn"] != aws.ToString(d.ImportArn) {
				t.Errorf("%s: error event %q", c.format, m)
			}
		}
	}
}

// TestImportErrors: what ImportTable refuses at once, and an import whose
// source cannot be read fails in the background with the table left.
func TestImportErrors(t *testing.T) {
	e := eddytest.Start(t, server.Options{})
	ctx := context.Background()
	dir := "file://" + t.TempDir()
	createTable(t, e.DDB, "exists")
	_, err := e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource: &types.S3BucketSource{S3Bucket: aws.String(dir)}, InputFormat: types.InputFormatDynamodbJson,
		TableCreationParameters: schema("exists"),
	})
	apiErr(t, err, "ResourceInUseException")
	_, err = e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource: &types.S3BucketSource{S3Bucket: aws.String(dir)}, InputFormat: types.InputFormat("XML"),
		TableCreationParameters: simpleTable("xxx"),
	})
	apiErr(t, err, "ValidationException")
	_, err = e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource: &types.S3BucketSource{S3Bucket: aws.String(dir)}, InputFormat: types.InputFormatDynamodbJson,
		InputFormatOptions:      &types.InputFormatOptions{Csv: &types.CsvOptions{Delimiter: aws.String(";")}},
		TableCreationParameters: simpleTable("xxx"),
	})
	apiErr(t, err, "ValidationException")
	_, err = e.DDB.DescribeImport(ctx, &dynamodb.DescribeImportInput{ImportArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/x/import/01234567890123-abcdef01")})
	apiErr(t, err, "ImportNotFoundException")
	if _, err := e.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("xxx")}); err == nil {
		t.Fatal("a refused import created its table")
	}

	// Not gzip: FAILED, with the table created.
	writeFile(t, filepath.Join(strings.TrimPrefix(dir, "file://"), "plain", "a.json"), []byte(`{"Item":{"id":{"N":"1"}}}`+"\n"))
	imp, err := e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource: &types.S3BucketSource{S3Bucket: aws.String(dir), S3KeyPrefix: aws.String("plain/")},
		InputFormat:    types.InputFormatDynamodbJson, InputCompressionType: types.InputCompressionTypeGzip,
		TableCreationParameters: simpleTable("notgz"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var d *types.ImportTableDescription
	eddytest.WaitFor(t, "the import to end", 60*time.Second, func() bool {
		o, err := e.DDB.DescribeImport(ctx, &dynamodb.DescribeImportInput{ImportArn: imp.ImportTableDescription.ImportArn})
		if err != nil {
			t.Fatal(err)
		}
		d = o.ImportTableDescription
		return d.ImportStatus != types.ImportStatusInProgress
	})
	if d.ImportStatus != types.ImportStatusFailed || aws.ToString(d.FailureMessage) == "" {
		t.Fatalf("import of a plain file as GZIP: %s %q", d.ImportStatus, aws.ToString(d.FailureMessage))
	}
	l, err := e.DDB.ListImports(ctx, &dynamodb.ListImportsInput{PageSize: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ImportSummaryList) != 1 || l.NextToken != nil {
		t.Fatalf("ListImports: %d summaries, next %v", len(l.ImportSummaryList), l.NextToken)
	}
}
