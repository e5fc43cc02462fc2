package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const tablesUsage = `usage:
  eddy tables backup TABLE [--name NAME]      take an on-demand backup (CreateBackup); prints its ARN
  eddy tables backups [TABLE]                 list the on-demand backups (ListBackups), oldest first
  eddy tables restore TARGET --backup ARN     restore a backup into a new table (RestoreTableFromBackup)
  eddy tables restore TARGET --from TABLE [--at TIME]
                                              restore TABLE as of TIME (RFC 3339, e.g. 2026-12-05T14:03:00Z;
                                              default: the latest restorable time) into a new table
                                              (RestoreTableToPointInTime)
        restore waits until TARGET is ACTIVE, with a progress line; --no-wait returns at once
  eddy tables pitr TABLE [--enable|--disable] [--days N]
                                              show, enable or disable point-in-time recovery
                                              (Describe/UpdateContinuousBackups); --days 1-35 (default 35)
  eddy tables export|import TABLE ...         export to S3 or a directory, import into a new table (run
                                              'eddy tables export' for their flags)
  eddy tables partitions NAME [--json]        the table's partitions (as DynamoDB sizes them from its throughput
                                              and size), their hash ranges, what each consumed and had throttled
  eddy tables replicas NAME [--json]          a global table's replicas, their status, and the replication lag
                                              (p50/p99/max of the last changes) from each other region
common flags: --endpoint URL (default http://127.0.0.1:8000), --region REGION (signs requests for it)`

func runTables(args []string) int { return tablesMain(os.Stdout, os.Stderr, args) }

func tablesMain(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, tablesUsage)
		return 2
	}
	switch args[0] {
	case "partitions":
		return partitionsMain(stdout, stderr, args)
	case "replicas":
		return replicasMain(stdout, stderr, args)
	case "export", "import":
		return exportMain(stdout, stderr, args)
	}
	cmd, args := args[0], args[1:]
	fl := flag.NewFlagSet("eddy tables "+cmd, flag.ContinueOnError)
	fl.SetOutput(stderr)
	endpoint := fl.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	region := fl.String("region", "", "region to sign requests for (default: unsigned, the server's region)")
	name := fl.String("name", "", "backup name (default: TABLE-<time>)")
	backup := fl.String("backup", "", "backup ARN to restore")
	from := fl.String("from", "", "table to restore as of --at")
	at := fl.String("at", "", "instant to restore to (RFC 3339); default the latest restorable time")
	noWait := fl.Bool("no-wait", false, "do not wait for the restore to finish")
	enable := fl.Bool("enable", false, "enable point-in-time recovery")
	disable := fl.Bool("disable", false, "disable point-in-time recovery")
	days := fl.Int("days", 0, "recovery period in days, 1-35")
	pos, err := parseInterleaved(fl, args)
	if err != nil {
		return 2
	}
	sdkRegion, creds := signing(*region)
	c := dynamodb.New(dynamodb.Options{Region: sdkRegion, BaseEndpoint: aws.String(*endpoint), Credentials: creds})
	ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
	defer cancel()
	out := output{stdout, stderr}
	switch {
	case cmd == "backup" && len(pos) == 1:
		n := *name
		if n == "" {
			n = pos[0] + "-" + time.Now().UTC().Format("20060102-150405")
		}
		r, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String(pos[0]), BackupName: aws.String(n)})
		if err != nil {
			return out.fail(err)
		}
		fmt.Fprintf(stdout, "%s\t%s\t%d bytes\n", aws.ToString(r.BackupDetails.BackupArn), n, aws.ToInt64(r.BackupDetails.BackupSizeBytes))
		return 0
	case cmd == "backups" && len(pos) <= 1:
		in := &dynamodb.ListBackupsInput{}
		if len(pos) == 1 {
			in.TableName = aws.String(pos[0])
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CREATED\tTABLE\tNAME\tBYTES\tARN")
		for {
			page, err := c.ListBackups(ctx, in)
			if err != nil {
				return out.fail(err)
			}
			for _, b := range page.BackupSummaries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", aws.ToTime(b.BackupCreationDateTime).UTC().Format(time.RFC3339), aws.ToString(b.TableName),
					aws.ToString(b.BackupName), aws.ToInt64(b.BackupSizeBytes), aws.ToString(b.BackupArn))
			}
			if page.LastEvaluatedBackupArn == nil {
				break
			}
			in.ExclusiveStartBackupArn = page.LastEvaluatedBackupArn
		}
		if err := tw.Flush(); err != nil {
			return out.fail(err)
		}
		return 0
	case cmd == "restore" && len(pos) == 1 && (*backup == "") != (*from == ""):
		target := pos[0]
		if *backup != "" {
			_, err = c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: aws.String(*backup), TargetTableName: aws.String(target)})
		} else {
			in := &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String(*from), TargetTableName: aws.String(target)}
			if *at == "" {
				in.UseLatestRestorableTime = aws.Bool(true)
			} else {
				t, perr := time.Parse(time.RFC3339Nano, *at)
				if perr != nil {
					return out.fail(fmt.Errorf("--at: %w", perr))
				}
				in.RestoreDateTime = aws.Time(t)
			}
			_, err = c.RestoreTableToPointInTime(ctx, in)
		}
		if err != nil {
			return out.fail(err)
		}
		if *noWait {
			fmt.Fprintf(stdout, "restoring %s (CREATING)\n", target)
			return 0
		}
		td, err := waitRestore(ctx, c, target, stderr)
		if err != nil {
			return out.fail(err)
		}
		fmt.Fprintf(stdout, "%s restored: ACTIVE, %d items, %d bytes\n", target, aws.ToInt64(td.ItemCount), aws.ToInt64(td.TableSizeBytes))
		return 0
	case cmd == "pitr" && len(pos) == 1 && !(*enable && *disable):
		var d *types.ContinuousBackupsDescription
		if *enable || *disable || *days != 0 {
			spec := &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(!*disable)}
			if *days != 0 {
				spec.RecoveryPeriodInDays = aws.Int32(int32(*days))
			}
			r, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(pos[0]), PointInTimeRecoverySpecification: spec})
			if err != nil {
				return out.fail(err)
			}
			d = r.ContinuousBackupsDescription
		} else {
			r, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(pos[0])})
			if err != nil {
				return out.fail(err)
			}
			d = r.ContinuousBackupsDescription
		}
		p := d.PointInTimeRecoveryDescription
		if p == nil || p.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
			fmt.Fprintf(stdout, "%s: point-in-time recovery DISABLED\n", pos[0])
			return 0
		}
		fmt.Fprintf(stdout, "%s: point-in-time recovery ENABLED, %d days, restorable from %s to %s\n", pos[0], aws.ToInt32(p.RecoveryPeriodInDays),
			aws.ToTime(p.EarliestRestorableDateTime).UTC().Format(time.RFC3339Nano), aws.ToTime(p.LatestRestorableDateTime).UTC().Format(time.RFC3339Nano))
		return 0
	}
	fmt.Fprintln(stderr, tablesUsage)
	return 2
}

// waitRestore polls DescribeTable until target is ACTIVE, rewriting one
// progress line on w (elapsed time and status) every half second.
func waitRestore(ctx context.Context, c *dynamodb.Client, target string, w io.Writer) (*types.TableDescription, error) {
	start := time.Now()
	for {
		r, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(target)})
		if err != nil {
			var nf *types.ResourceNotFoundException
			if errors.As(err, &nf) {
				fmt.Fprintln(w)
				return nil, fmt.Errorf("the restore of %s failed: the table was dropped (see the server's log)", target)
			}
			return nil, err
		}
		if r.Table.TableStatus == types.TableStatusActive {
			fmt.Fprintf(w, "\rrestoring %s: done in %.1fs        \n", target, time.Since(start).Seconds())
			return r.Table, nil
		}
		fmt.Fprintf(w, "\rrestoring %s: %s %.1fs", target, r.Table.TableStatus, time.Since(start).Seconds())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

const backupUsage = `usage:
  eddy backup --to DIR [--endpoint URL]
      an online, consistent copy of the running server's whole database (all tables, streams,
      functions, mappings, checkpoints, dead letters, sinks' positions, on-demand backups) into DIR,
      a directory on the server's machine that must not exist; writers are not blocked.
      eddy serve --data DIR starts from it.`

const restoreUsage = `usage:
  eddy restore --from BACKUP_DIR --data DIR
      make DIR (which must not exist) a data directory from a whole-server backup, offline:
      Pebble's table files (.sst, never modified once written) are hard-linked where possible,
      everything else (MANIFEST, WAL, OPTIONS, EDDY) is copied, so the backup stays as it was
      and can be restored again. Then: eddy serve --data DIR`

func runBackup(args []string) int { return backupMain(os.Stdout, os.Stderr, args) }

func backupMain(stdout, stderr io.Writer, args []string) int {
	fl := flag.NewFlagSet("eddy backup", flag.ContinueOnError)
	fl.SetOutput(stderr)
	endpoint := fl.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	to := fl.String("to", "", "directory to write the backup into (must not exist)")
	if err := fl.Parse(args); err != nil || *to == "" || fl.NArg() != 0 {
		fmt.Fprintln(stderr, backupUsage)
		return 2
	}
	out := output{stdout, stderr}
	dir, err := filepath.Abs(*to)
	if err != nil {
		return out.fail(err)
	}
	var res struct {
		To      string
		Seconds float64
	}
	if err := callJSONBody(context.Background(), &http.Client{}, "POST", strings.TrimRight(*endpoint, "/")+"/eddy/backup", map[string]string{"To": dir}, &res); err != nil {
		return out.fail(err)
	}
	fmt.Fprintf(stdout, "backup written to %s in %.2fs; start from it with: eddy restore --from %s --data NEWDIR\n", res.To, res.Seconds, res.To)
	return 0
}

func runRestore(args []string) int { return restoreMain(os.Stdout, os.Stderr, args) }

func restoreMain(stdout, stderr io.Writer, args []string) int {
	fl := flag.NewFlagSet("eddy restore", flag.ContinueOnError)
	fl.SetOutput(stderr)
	from := fl.String("from", "", "whole-server backup directory (eddy backup --to)")
	data := fl.String("data", "", "new data directory (must not exist)")
	if err := fl.Parse(args); err != nil || *from == "" || *data == "" || fl.NArg() != 0 {
		fmt.Fprintln(stderr, restoreUsage)
		return 2
	}
	out := output{stdout, stderr}
	if _, err := os.Stat(filepath.Join(*from, "EDDY")); err != nil {
		return out.fail(fmt.Errorf("%s is not an eddy backup: %w", *from, err))
	}
	if _, err := os.Stat(*data); err == nil {
		return out.fail(fmt.Errorf("%s exists: restore into a new directory", *data))
	}
	n, err := linkTree(*from, *data)
	if err != nil {
		return out.fail(err)
	}
	fmt.Fprintf(stdout, "restored %d files into %s; start with: eddy serve --data %s\n", n, *data, *data)
	return 0
}

// linkTree recreates src's tree in dst: Pebble's immutable table files are
// hard-linked (copied when linking fails, across filesystems), every other
// file copied (Pebble appends to a MANIFEST and may reuse a WAL file: a
// link would let the new server change the backup).
func linkTree(src, dst string) (files int, err error) {
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		files++
		if strings.HasSuffix(p, ".sst") && os.Link(p, target) == nil {
			return nil
		}
		return copyFile(p, target)
	})
	return files, err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	o, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	if err := o.Sync(); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}
