package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const exportUsage = `usage:
  eddy tables export TABLE --to s3://BUCKET/PREFIX|file:///DIR [--format dynamodb_json|ion]
                          export TABLE as it is now (ExportTableToPointInTime), in AWS's layout
                          (PREFIX/AWSDynamoDB/<export ID>/manifest-summary.json, data/*.json.gz, ...)
  eddy tables import TABLE --from s3://BUCKET/PREFIX|file:///DIR/PREFIX --key NAME:S|N|B[,NAME:S|N|B]
                          [--format dynamodb_json|ion|csv] [--compression gzip|zstd|none]
                          [--csv-delimiter C] [--csv-header a,b,c]
                          create TABLE (on-demand) and fill it from every object under the prefix (ImportTable);
                          an export's directory (.../AWSDynamoDB/<export ID>) reads its data/ files, gzipped
common flags: --endpoint URL (default http://127.0.0.1:8000), --region REGION, --no-wait (print the job and return),
              --json (print the final description)
both wait for the job to end, printing a progress line every second (on stderr); exit 1 if it FAILED`

// exportDirRE matches the directory of one export: its data files are in
// data/ beneath it.
var exportDirRE = regexp.MustCompile(`(^|/)AWSDynamoDB/[0-9]{14}-[0-9a-f]{8}/?$`)

// location splits --to/--from into the S3Bucket and the prefix: a bucket
// and key prefix of an s3:// URL, or a file:// directory (eddy's extension)
// and, for an import, the name prefix of the files in it.
func location(s string, importing bool) (bucket, prefix string, err error) {
	switch {
	case strings.HasPrefix(s, "s3://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("%q is not s3://BUCKET/PREFIX", s)
		}
		return u.Host, strings.TrimPrefix(u.Path, "/"), nil
	case strings.HasPrefix(s, "file://"):
		p := strings.TrimPrefix(s, "file://")
		if !filepath.IsAbs(p) {
			abs, err := filepath.Abs(p)
			if err != nil {
				return "", "", err
			}
			p = abs
		}
		if !importing {
			return "file://" + p, "", nil
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return "file://" + p, "", nil
		}
		return "file://" + filepath.Dir(p), filepath.Base(p), nil
	}
	return "", "", fmt.Errorf("%q: want s3://BUCKET/PREFIX or file:///DIR", s)
}

// exportMain runs "eddy tables export|import ..." (args[0] is the
// subcommand); tablesMain dispatches to it.
func exportMain(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, exportUsage)
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("eddy tables "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint, region := clientFlags(fs)
	to := fs.String("to", "", "export destination: s3://BUCKET/PREFIX or file:///DIR")
	from := fs.String("from", "", "import source: s3://BUCKET/PREFIX or file:///DIR[/PREFIX]")
	format := fs.String("format", "dynamodb_json", "dynamodb_json, ion (or csv, import only)")
	compression := fs.String("compression", "", "import: gzip, zstd or none (default gzip for an export's directory, else none)")
	key := fs.String("key", "", "import: the new table's key, NAME:TYPE[,NAME:TYPE] (hash, then range; TYPE S, N or B)")
	delim := fs.String("csv-delimiter", "", "import: the CSV delimiter (default ,)")
	header := fs.String("csv-header", "", "import: the CSV header, comma-separated, when the files have none")
	noWait := fs.Bool("no-wait", false, "print the new job and return")
	raw := fs.Bool("json", false, "print the final description as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || (cmd != "export" && cmd != "import") {
		fmt.Fprintln(stderr, exportUsage)
		return 2
	}
	out := output{stdout, stderr}
	sdkRegion, creds := signing(*region)
	client := dynamodb.New(dynamodb.Options{Region: sdkRegion, BaseEndpoint: aws.String(*endpoint), Credentials: creds})
	ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
	defer cancel()
	if cmd == "export" {
		return tablesExport(ctx, client, out, pos[0], *to, *format, *noWait, *raw)
	}
	return tablesImport(ctx, client, out, importArgs{table: pos[0], from: *from, format: *format, compression: *compression,
		key: *key, delim: *delim, header: *header}, *noWait, *raw)
}

func tablesExport(ctx context.Context, c *dynamodb.Client, out output, table, to, format string, noWait, raw bool) int {
	if to == "" {
		return out.fail(errors.New("--to is required"))
	}
	bucket, prefix, err := location(to, false)
	if err != nil {
		return out.fail(err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return out.fail(err)
	}
	in := &dynamodb.ExportTableToPointInTimeInput{TableArn: d.Table.TableArn, S3Bucket: aws.String(bucket),
		ExportFormat: ddbtypes.ExportFormat(strings.ToUpper(format))}
	if prefix != "" {
		in.S3Prefix = aws.String(prefix)
	}
	started := time.Now()
	res, err := c.ExportTableToPointInTime(ctx, in)
	if err != nil {
		return out.fail(err)
	}
	e := res.ExportDescription
	if noWait {
		fmt.Fprintln(out.stdout, aws.ToString(e.ExportArn))
		return 0
	}
	for e.ExportStatus == ddbtypes.ExportStatusInProgress {
		fmt.Fprintf(out.stderr, "\rexport of %s: IN_PROGRESS, %s", table, time.Since(started).Round(time.Second))
		time.Sleep(time.Second)
		r, err := c.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: e.ExportArn})
		if err != nil {
			return out.fail(err)
		}
		e = r.ExportDescription
	}
	fmt.Fprintln(out.stderr)
	if raw {
		out.json(e)
	}
	if e.ExportStatus != ddbtypes.ExportStatusCompleted {
		return out.fail(fmt.Errorf("export %s %s: %s: %s", aws.ToString(e.ExportArn), e.ExportStatus, aws.ToString(e.FailureCode), aws.ToString(e.FailureMessage)))
	}
	secs := e.EndTime.Sub(*e.StartTime).Seconds()
	items, size := aws.ToInt64(e.ItemCount), aws.ToInt64(e.BilledSizeBytes)
	fmt.Fprintf(out.stdout, "exported %d items (%.1f MB) of %s in %.1fs (%.0f items/s, %.1f MB/s): %s in %s\n",
		items, float64(size)/1e6, table, secs, float64(items)/max(secs, 1e-3), float64(size)/1e6/max(secs, 1e-3), aws.ToString(e.ExportManifest), bucket)
	return 0
}

type importArgs struct {
	table, from, format, compression, key, delim, header string
}

func tablesImport(ctx context.Context, c *dynamodb.Client, out output, a importArgs, noWait, raw bool) int {
	if a.from == "" || a.key == "" {
		return out.fail(errors.New("--from and --key are required"))
	}
	bucket, prefix, err := location(a.from, true)
	if err != nil {
		return out.fail(err)
	}
	comp := strings.ToUpper(a.compression)
	if exportDirRE.MatchString(strings.TrimPrefix(a.from, "file://")) {
		// An export's directory: its data files, gzipped.
		if strings.HasPrefix(bucket, "file://") && prefix == "" {
			bucket, prefix = bucket+"/data", ""
		} else {
			prefix = strings.TrimSuffix(prefix, "/") + "/data/"
		}
		if comp == "" {
			comp = "GZIP"
		}
	}
	params := &ddbtypes.TableCreationParameters{TableName: aws.String(a.table), BillingMode: ddbtypes.BillingModePayPerRequest}
	for i, k := range strings.Split(a.key, ",") {
		name, typ, ok := strings.Cut(k, ":")
		if !ok || i > 1 {
			return out.fail(fmt.Errorf("--key %q: want NAME:TYPE[,NAME:TYPE]", a.key))
		}
		kt := ddbtypes.KeyTypeHash
		if i == 1 {
			kt = ddbtypes.KeyTypeRange
		}
		params.AttributeDefinitions = append(params.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeType(strings.ToUpper(typ))})
		params.KeySchema = append(params.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt})
	}
	in := &dynamodb.ImportTableInput{
		S3BucketSource:          &ddbtypes.S3BucketSource{S3Bucket: aws.String(bucket), S3KeyPrefix: aws.String(prefix)},
		InputFormat:             ddbtypes.InputFormat(strings.ToUpper(a.format)),
		InputCompressionType:    ddbtypes.InputCompressionType(cmpOr(comp, "NONE")),
		TableCreationParameters: params,
	}
	if a.delim != "" || a.header != "" {
		o := &ddbtypes.CsvOptions{}
		if a.delim != "" {
			o.Delimiter = aws.String(a.delim)
		}
		if a.header != "" {
			o.HeaderList = strings.Split(a.header, ",")
		}
		in.InputFormatOptions = &ddbtypes.InputFormatOptions{Csv: o}
	}
	res, err := c.ImportTable(ctx, in)
	if err != nil {
		return out.fail(err)
	}
	d := res.ImportTableDescription
	if noWait {
		fmt.Fprintln(out.stdout, aws.ToString(d.ImportArn))
		return 0
	}
	started := time.Now()
	progress := func() {
		secs := max(time.Since(started).Seconds(), 1e-3)
		fmt.Fprintf(out.stderr, "\rimport into %s: %s, %d items processed, %d imported, %d errors, %.1f MB read (%.0f items/s)",
			a.table, d.ImportStatus, d.ProcessedItemCount, d.ImportedItemCount, d.ErrorCount,
			float64(aws.ToInt64(d.ProcessedSizeBytes))/1e6, float64(d.ProcessedItemCount)/secs)
	}
	for d.ImportStatus == ddbtypes.ImportStatusInProgress {
		progress()
		time.Sleep(time.Second)
		r, err := c.DescribeImport(ctx, &dynamodb.DescribeImportInput{ImportArn: d.ImportArn})
		if err != nil {
			return out.fail(err)
		}
		d = r.ImportTableDescription
	}
	progress()
	fmt.Fprintln(out.stderr)
	if raw {
		b, _ := json.Marshal(d)
		var v any
		_ = json.Unmarshal(b, &v)
		out.json(v)
	}
	if d.ImportStatus != ddbtypes.ImportStatusCompleted {
		return out.fail(fmt.Errorf("import %s %s: %s: %s", aws.ToString(d.ImportArn), d.ImportStatus, aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage)))
	}
	secs := max(d.EndTime.Sub(*d.StartTime).Seconds(), 1e-3)
	fmt.Fprintf(out.stdout, "imported %d items into %s in %.1fs (%.0f items/s, %.1f MB/s read), %d errors (log group /aws-dynamodb/imports, stream %s)\n",
		d.ImportedItemCount, a.table, secs, float64(d.ImportedItemCount)/secs, float64(aws.ToInt64(d.ProcessedSizeBytes))/1e6/secs,
		d.ErrorCount, aws.ToString(d.ImportArn)[strings.LastIndexByte(aws.ToString(d.ImportArn), '/')+1:])
	return 0
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
