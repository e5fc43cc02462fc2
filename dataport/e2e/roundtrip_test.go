package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/mototest"
	"github.com/eddydb/eddy/internal/server"
)

const items = 300

// roundTrip exports source in format to bucket/prefix, imports the data
// files into a new table and checks that it equals the source, index
// included. It returns the export's description.
func roundTrip(t *testing.T, c *dynamodb.Client, sourceARN, bucket, prefix, format, target string) *types.ExportDescription {
	t.Helper()
	ctx := context.Background()
	out, err := c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(sourceARN), S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix),
		ExportFormat: types.ExportFormat(format),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.ExportDescription.ExportStatus != types.ExportStatusInProgress {
		t.Fatalf("a new export is %s, want IN_PROGRESS", out.ExportDescription.ExportStatus)
	}
	d := waitExport(t, c, aws.ToString(out.ExportDescription.ExportArn))
	if aws.ToInt64(d.ItemCount) != items {
		t.Fatalf("ItemCount %d, want %d", aws.ToInt64(d.ItemCount), items)
	}
	id := aws.ToString(d.ExportArn)[strings.LastIndexByte(aws.ToString(d.ExportArn), '/')+1:]
	if want := prefix + "/AWSDynamoDB/" + id + "/manifest-summary.json"; aws.ToString(d.ExportManifest) != want {
		t.Fatalf("ExportManifest %q, want %q", aws.ToString(d.ExportManifest), want)
	}
	imp, err := c.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource:          &types.S3BucketSource{S3Bucket: aws.String(bucket), S3KeyPrefix: aws.String(prefix + "/AWSDynamoDB/" + id + "/data/")},
		InputFormat:             types.InputFormat(format),
		InputCompressionType:    types.InputCompressionTypeGzip,
		TableCreationParameters: schema(target),
	})
	if err != nil {
		t.Fatal(err)
	}
	id2 := waitImport(t, c, aws.ToString(imp.ImportTableDescription.ImportArn))
	if id2.ImportedItemCount != items || id2.ErrorCount != 0 || id2.ProcessedItemCount != items {
		t.Fatalf("imported %d processed %d errors %d, want %d, %d, 0", id2.ImportedItemCount,
			id2.ProcessedItemCount, id2.ErrorCount, items, items)
	}
	sameItems(t, format+" table", scanAll(t, c, "source"), scanAll(t, c, target))
	q := func(table string) int32 {
		o, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("byG"),
			KeyConditionExpression: aws.String("gk = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: "g3"}}})
		if err != nil {
			t.Fatal(err)
		}
		return o.Count
	}
	if a, b := q("source"), q(target); a != b || a == 0 {
		t.Fatalf("index byG: %d items in the import, %d in the source", b, a)
	}
	return d
}

// TestRoundTripDirectory: export to a local directory (file:// bucket,
// eddy's extension) and import back, in DynamoDB JSON and in Ion.
func TestRoundTripDirectory(t *testing.T) {
	e := eddytest.Start(t, server.Options{})
	arn := createTable(t, e.DDB, "source")
	fill(t, e.DDB, "source", items)
	dir := t.TempDir()
	for _, format := range []string{"DYNAMODB_JSON", "ION"} {
		d := roundTrip(t, e.DDB, arn, "file://"+dir, "exports", format, "copy_"+format)
		id := aws.ToString(d.ExportArn)[strings.LastIndexByte(aws.ToString(d.ExportArn), '/')+1:]
		base := filepath.Join(dir, "exports", "AWSDynamoDB", id)
		for _, f := range []string{"_started", "manifest-summary.json", "manifest-summary.checksum", "manifest-files.json", "manifest-files.checksum"} {
			if _, err := os.Stat(filepath.Join(base, f)); err != nil {
				t.Errorf("%s: %v", format, err)
			}
		}
		ext := map[string]string{"DYNAMODB_JSON": ".json.gz", "ION": ".ion.gz"}[format]
		files, _ := filepath.Glob(filepath.Join(base, "data", "*"+ext))
		if len(files) == 0 {
			t.Errorf("%s: no data/*%s file", format, ext)
		}
	}
}

// TestRoundTripS3: the same through moto_server's S3, and the export read
// back by boto3 following the documented layout (manifest-summary.json →
// manifest-files.json → data files).
func TestRoundTripS3(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH")
	}
	url := mototest.Start(t).URL
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	e := eddytest.Start(t, server.Options{S3Endpoint: url})
	ctx := context.Background()
	cfg := e.Config()
	cfg.BaseEndpoint = aws.String(url)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("exports")}); err != nil {
		t.Fatal(err)
	}
	arn := createTable(t, e.DDB, "source")
	fill(t, e.DDB, "source", items)
	for _, format := range []string{"DYNAMODB_JSON", "ION"} {
		d := roundTrip(t, e.DDB, arn, "exports", "pre/fix", format, "s3copy_"+format)
		if format != "DYNAMODB_JSON" {
			continue
		}
		script := `
import boto3, gzip, json, os, sys
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
bucket, manifest = sys.argv[1], sys.argv[2]
summary = json.loads(s3.get_object(Bucket=bucket, Key=manifest)["Body"].read())
files = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read().decode().splitlines()
n, keys = 0, set()
for line in files:
    f = json.loads(line)
    data = gzip.decompress(s3.get_object(Bucket=bucket, Key=f["dataFileS3Key"])["Body"].read())
    lines = data.decode().splitlines()
    assert len(lines) == f["itemCount"], (len(lines), f["itemCount"])
    for l in lines:
        item = json.loads(l)["Item"]
        keys.add((item["pk"]["S"], item["sk"]["N"]))
        n += 1
assert n == summary["itemCount"], (n, summary["itemCount"])
assert summary["outputFormat"] == "DYNAMODB_JSON" and summary["exportArn"] == sys.argv[3]
print(n, len(keys))
`
		cmd := exec.Command("python3", "-c", script, "exports", aws.ToString(d.ExportManifest), aws.ToString(d.ExportArn))
		cmd.Env = append(os.Environ(), "S3_URL="+url)
		outb, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("boto3 reader: %v\n%s", err, outb)
		}
		if got, want := strings.TrimSpace(string(outb)), fmt.Sprintf("%d %d", items, items); got != want {
			t.Fatalf("boto3 reader read %q items and keys, want %q", got, want)
		}
	}
	// An export to a bucket that does not exist fails in the background.
	out, err := e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(arn), S3Bucket: aws.String("nobucket")})
	if err != nil {
		t.Fatal(err)
	}
	var d *types.ExportDescription
	eddytest.WaitFor(t, "the export to fail", 60*time.Second, func() bool {
		o, err := e.DDB.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: out.ExportDescription.ExportArn})
		if err != nil {
			t.Fatal(err)
		}
		d = o.ExportDescription
		return d.ExportStatus != types.ExportStatusInProgress
	})
	if d.ExportStatus != types.ExportStatusFailed || aws.ToString(d.FailureCode) != "S3NoSuchBucket" {
		t.Fatalf("export to a missing bucket: %s %s %s", d.ExportStatus, aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage))
	}
}

func apiErr(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

// TestExportErrors: what is refused at once, with DynamoDB's errors.
func TestExportErrors(t *testing.T) {
	e := eddytest.Start(t, server.Options{})
	ctx := context.Background()
	arn := createTable(t, e.DDB, "source")
	dir := "file://" + t.TempDir()
	_, err := e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(arn + "x"), S3Bucket: aws.String(dir)})
	apiErr(t, err, "TableNotFoundException")
	// A past instant needs point-in-time recovery's history.
	past := aws.Time(time.Now().Add(-time.Hour))
	_, err = e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(arn), S3Bucket: aws.String(dir), ExportTime: past})
	apiErr(t, err, "PointInTimeRecoveryUnavailableException")
	_, err = e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(arn), S3Bucket: aws.String(dir),
		ExportType: types.ExportTypeIncrementalExport, IncrementalExportSpecification: &types.IncrementalExportSpecification{
			ExportFromTime: aws.Time(time.Now().Add(-2 * time.Hour)), ExportToTime: past}})
	apiErr(t, err, "PointInTimeRecoveryUnavailableException")
	_, err = e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(arn), S3Bucket: aws.String(dir),
		ExportTime: aws.Time(time.Now().Add(time.Hour))})
	apiErr(t, err, "InvalidExportTimeException")
	_, err = e.DDB.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(arn + "/export/01234567890123-abcdef01")})
	apiErr(t, err, "ExportNotFoundException")
	_, err = e.DDB.ListExports(ctx, &dynamodb.ListExportsInput{MaxResults: aws.Int32(26)})
	apiErr(t, err, "ValidationException")

	// ClientToken: the same request again is the same export; another
	// request with the token is refused.
	in := &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(arn), S3Bucket: aws.String(dir), ClientToken: aws.String("tok")}
	a, err := e.DDB.ExportTableToPointInTime(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.DDB.ExportTableToPointInTime(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.ExportDescription.ExportArn) != aws.ToString(b.ExportDescription.ExportArn) {
		t.Fatal("the same ClientToken and request started a second export")
	}
	in.S3Prefix = aws.String("other")
	_, err = e.DDB.ExportTableToPointInTime(ctx, in)
	apiErr(t, err, "IdempotentParameterMismatchException")
	waitExport(t, e.DDB, aws.ToString(a.ExportDescription.ExportArn))
	l, err := e.DDB.ListExports(ctx, &dynamodb.ListExportsInput{TableArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ExportSummaries) != 1 || l.ExportSummaries[0].ExportStatus != types.ExportStatusCompleted {
		b, _ := json.Marshal(l.ExportSummaries)
		t.Fatalf("ListExports: %s", b)
	}
}
