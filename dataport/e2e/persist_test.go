package e2e

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// silentS3 is an S3 endpoint that accepts connections and never answers:
// an import from it stays IN_PROGRESS until the server stops.
func silentS3(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestDescriptionsSurviveRestart: DescribeExport, ListExports,
// DescribeImport and ListImports answer the same after a restart, and an
// import in progress when eddy stopped is FAILED with a reason, not
// IN_PROGRESS forever.
func TestDescriptionsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	e := eddytest.Start(t, server.Options{DataDir: t.TempDir(), S3Endpoint: silentS3(t)})
	arn := createTable(t, e.DDB, "source")
	fill(t, e.DDB, "source", 30)
	out, err := e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(arn), S3Bucket: aws.String("file://" + t.TempDir()), ClientToken: aws.String("once"),
	})
	if err != nil {
		t.Fatal(err)
	}
	exportARN := aws.ToString(out.ExportDescription.ExportArn)
	done := waitExport(t, e.DDB, exportARN)
	imp, err := e.DDB.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource:          &types.S3BucketSource{S3Bucket: aws.String("silent"), S3KeyPrefix: aws.String("data/")},
		InputFormat:             types.InputFormatDynamodbJson,
		TableCreationParameters: schema("stuck"),
	})
	if err != nil {
		t.Fatal(err)
	}
	importARN := aws.ToString(imp.ImportTableDescription.ImportArn)
	if s := imp.ImportTableDescription.ImportStatus; s != types.ImportStatusInProgress {
		t.Fatalf("import is %s, want IN_PROGRESS", s)
	}

	e.Restart()

	d, err := e.DDB.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(exportARN)})
	if err != nil {
		t.Fatalf("DescribeExport after a restart: %v", err)
	}
	got := d.ExportDescription
	if got.ExportStatus != types.ExportStatusCompleted || aws.ToInt64(got.ItemCount) != 30 ||
		aws.ToString(got.ExportManifest) != aws.ToString(done.ExportManifest) || aws.ToString(got.ClientToken) != "once" {
		t.Fatalf("export after a restart: %s, %d items, manifest %q, token %q; before: %s, %d, %q",
			got.ExportStatus, aws.ToInt64(got.ItemCount), aws.ToString(got.ExportManifest), aws.ToString(got.ClientToken),
			done.ExportStatus, aws.ToInt64(done.ItemCount), aws.ToString(done.ExportManifest))
	}
	le, err := e.DDB.ListExports(ctx, &dynamodb.ListExportsInput{TableArn: aws.String(arn)})
	if err != nil || len(le.ExportSummaries) != 1 || aws.ToString(le.ExportSummaries[0].ExportArn) != exportARN {
		t.Fatalf("ListExports after a restart: %+v %v", le, err)
	}
	// The same ClientToken still answers the same export.
	again, err := e.DDB.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(arn), S3Bucket: out.ExportDescription.S3Bucket, ClientToken: aws.String("once"),
	})
	if err != nil || aws.ToString(again.ExportDescription.ExportArn) != exportARN {
		t.Fatalf("ClientToken after a restart: %v %v", again, err)
	}

	di, err := e.DDB.DescribeImport(ctx, &dynamodb.DescribeImportInput{ImportArn: aws.String(importARN)})
	if err != nil {
		t.Fatalf("DescribeImport after a restart: %v", err)
	}
	id := di.ImportTableDescription
	if id.ImportStatus != types.ImportStatusFailed || !strings.Contains(aws.ToString(id.FailureMessage), "stopped") || id.EndTime == nil {
		t.Fatalf("import cut by a restart: %s, %q, %q, end %v; want FAILED with a reason", id.ImportStatus,
			aws.ToString(id.FailureCode), aws.ToString(id.FailureMessage), id.EndTime)
	}
	li, err := e.DDB.ListImports(ctx, &dynamodb.ListImportsInput{})
	if err != nil || len(li.ImportSummaryList) != 1 || aws.ToString(li.ImportSummaryList[0].ImportArn) != importARN ||
		li.ImportSummaryList[0].ImportStatus != types.ImportStatusFailed {
		t.Fatalf("ListImports after a restart: %+v %v", li, err)
	}
}
