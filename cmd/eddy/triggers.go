package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/dlq"
)

const triggersUsage = `usage:
  eddy triggers add FUNCTION TABLE|STREAM_ARN [flags]   create an event source mapping (a trigger)
      --batch-size N (default 100)  --window SECONDS (batching window, default 0)
      --starting-position TRIM_HORIZON|LATEST (default LATEST)
      --parallelization N (1-10)    --retries N (-1 = until the records expire, Lambda's default)
      --max-age SECONDS (-1 = never, the default)  --bisect  --report-failures
      --tumbling-window SECONDS (0-900)  --filter PATTERN (repeatable)
      --on-failure ARN              --disabled
  eddy triggers update UUID [flags]   change a mapping: the add flags except --starting-position,
      plus --function NAME; only the flags given change (--filter replaces all filters,
      --no-filters removes them, --on-failure "" removes the destination)
  eddy triggers list [--function NAME] [--source TABLE|STREAM_ARN]
  eddy triggers show UUID           the mapping, per-shard position and lag, where failures go
  eddy triggers enable UUID
  eddy triggers disable UUID
  eddy triggers remove UUID
common flags: --endpoint URL (default http://127.0.0.1:8000), --region REGION (default: the server's --region)
A TABLE argument names the table's latest stream.
--on-failure takes ` + dlq.DestinationForms + `.
Failed batches are always kept in eddy's failure store too (eddy dlq list).
For a trigger you will rely on, bound retries: --retries 2 --bisect --max-age 3600
(Lambda's default retries until the records expire, 24 hours, and blocks the shard meanwhile).
"eddy triggers SUBCOMMAND -h" lists the subcommand's flags.`

// runTriggers implements "eddy triggers ...": event source mappings through
// the server's Lambda API (aws-sdk-go-v2, static dummy credentials). It
// returns the process exit code.
func runTriggers(args []string) int {
	return triggersMain(os.Stdout, os.Stderr, args)
}

type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// optInt is an int flag that records whether it was given.
type optInt struct {
	v   int
	set bool
}

func (o *optInt) String() string { return fmt.Sprint(o.v) }
func (o *optInt) Set(s string) error {
	_, err := fmt.Sscan(s, &o.v)
	o.set = err == nil
	return err
}

func (o *optInt) ptr() *int32 {
	if !o.set {
		return nil
	}
	return aws.Int32(int32(o.v))
}

// optBool is a bool flag (--x, --x=false) that records whether it was
// given.
type optBool struct {
	v, set bool
}

func (o *optBool) String() string   { return fmt.Sprint(o.v) }
func (o *optBool) IsBoolFlag() bool { return true }
func (o *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	o.v, o.set = v, err == nil
	return err
}

func (o *optBool) ptr() *bool {
	if !o.set {
		return nil
	}
	return aws.Bool(o.v)
}

// optString is a string flag that records whether it was given (so that
// --on-failure "" can remove a destination).
type optString struct {
	v   string
	set bool
}

func (o *optString) String() string     { return o.v }
func (o *optString) Set(s string) error { o.v, o.set = s, true; return nil }

func filterCriteria(patterns []string) *types.FilterCriteria {
	if len(patterns) == 0 {
		return nil
	}
	fc := &types.FilterCriteria{}
	for _, f := range patterns {
		fc.Filters = append(fc.Filters, types.Filter{Pattern: aws.String(f)})
	}
	return fc
}

// triggersCLI is one invocation's clients and output.
type triggersCLI struct {
	out, errw io.Writer
	endpoint  string
	lam       *lambda.Client
	ddb       *dynamodb.Client
	http      *http.Client
	region    string // --region; "" for the server's
}

func triggersMain(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, triggersUsage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("eddy triggers "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint, region := clientFlags(fs)
	// Each subcommand has only its own flags (-h lists them).
	var (
		batch, window, par, retries, maxAge, tumbling optInt
		startPos, function, source                    string
		onFailure                                     optString
		bisect, report, enabled                       optBool
		disabled, noFilters                           bool
		filters                                       stringsFlag
	)
	mappingFlags := func() {
		fs.Var(&batch, "batch-size", "records per invocation (1-10000, default 100)")
		fs.Var(&window, "window", "maximum batching window in seconds (0-300)")
		fs.Var(&par, "parallelization", "concurrent batches per shard (1-10)")
		fs.Var(&retries, "retries", "maximum retry attempts (-1 = until the records expire)")
		fs.Var(&maxAge, "max-age", "maximum record age in seconds (-1 = unlimited)")
		fs.Var(&tumbling, "tumbling-window", "tumbling window in seconds (0-900)")
		fs.Var(&bisect, "bisect", "split a failing batch in halves")
		fs.Var(&report, "report-failures", "the function returns batchItemFailures")
		fs.Var(&onFailure, "on-failure", "destination ARN for discarded batches: "+dlq.DestinationForms)
		fs.Var(&filters, "filter", "filter pattern JSON (repeatable, up to 5)")
	}
	want := 1
	switch cmd {
	case "add":
		want = 2
		mappingFlags()
		fs.StringVar(&startPos, "starting-position", "LATEST", "TRIM_HORIZON or LATEST")
		fs.BoolVar(&disabled, "disabled", false, "create the mapping disabled")
	case "update":
		mappingFlags()
		fs.StringVar(&function, "function", "", "the function to invoke from now on")
		fs.Var(&enabled, "enabled", "enable (true) or disable (false) the mapping")
		fs.BoolVar(&noFilters, "no-filters", false, "remove every filter")
	case "list":
		want = 0
		fs.StringVar(&function, "function", "", "only this function's mappings")
		fs.StringVar(&source, "source", "", "only this table's or stream's mappings")
	case "show", "enable", "disable", "remove":
	default:
		fmt.Fprintln(stderr, triggersUsage)
		return 2
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return 2
	}
	if len(pos) != want {
		fmt.Fprintln(stderr, triggersUsage)
		return 2
	}
	sdkRegion, creds := signing(*region)
	c := &triggersCLI{
		out: stdout, errw: stderr, endpoint: strings.TrimRight(*endpoint, "/"),
		lam:  lambda.New(lambda.Options{Region: sdkRegion, BaseEndpoint: aws.String(*endpoint), Credentials: creds}),
		ddb:  dynamodb.New(dynamodb.Options{Region: sdkRegion, BaseEndpoint: aws.String(*endpoint), Credentials: creds}),
		http: &http.Client{Timeout: 30 * time.Second}, region: *region,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	switch cmd {
	case "add":
		in := &lambda.CreateEventSourceMappingInput{
			FunctionName:                   aws.String(pos[0]),
			StartingPosition:               types.EventSourcePosition(startPos),
			BatchSize:                      batch.ptr(),
			MaximumBatchingWindowInSeconds: window.ptr(),
			ParallelizationFactor:          par.ptr(),
			MaximumRetryAttempts:           retries.ptr(),
			MaximumRecordAgeInSeconds:      maxAge.ptr(),
			TumblingWindowInSeconds:        tumbling.ptr(),
		}
		in.BisectBatchOnFunctionError = bisect.ptr()
		if report.v {
			in.FunctionResponseTypes = []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures}
		}
		if disabled {
			in.Enabled = aws.Bool(false)
		}
		if onFailure.v != "" {
			in.DestinationConfig = &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(onFailure.v)}}
		}
		in.FilterCriteria = filterCriteria(filters)
		err = c.add(ctx, in, pos[1])
	case "update":
		in := &lambda.UpdateEventSourceMappingInput{
			UUID:                           aws.String(pos[0]),
			BatchSize:                      batch.ptr(),
			MaximumBatchingWindowInSeconds: window.ptr(),
			ParallelizationFactor:          par.ptr(),
			MaximumRetryAttempts:           retries.ptr(),
			MaximumRecordAgeInSeconds:      maxAge.ptr(),
			TumblingWindowInSeconds:        tumbling.ptr(),
			BisectBatchOnFunctionError:     bisect.ptr(),
			Enabled:                        enabled.ptr(),
		}
		if function != "" {
			in.FunctionName = aws.String(function)
		}
		if report.set {
			// Lambda replaces the list; an empty one turns reporting off.
			in.FunctionResponseTypes = []types.FunctionResponseType{}
			if report.v {
				in.FunctionResponseTypes = []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures}
			}
		}
		if onFailure.set {
			in.DestinationConfig = &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(onFailure.v)}}
		}
		switch {
		case noFilters:
			in.FilterCriteria = &types.FilterCriteria{Filters: []types.Filter{}}
		case len(filters) > 0:
			in.FilterCriteria = filterCriteria(filters)
		}
		err = c.update(ctx, in)
	case "list":
		err = c.list(ctx, function, source)
	case "show":
		err = c.show(ctx, pos[0])
	case "enable", "disable":
		err = c.setEnabled(ctx, pos[0], cmd == "enable")
	case "remove":
		err = c.remove(ctx, pos[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "eddy triggers "+cmd+":", err)
		return 1
	}
	return 0
}

// streamArn resolves a table name to its latest stream's ARN; an ARN is
// returned as is.
func (c *triggersCLI) streamArn(ctx context.Context, s string) (string, error) {
	if s == "" || strings.HasPrefix(s, "arn:") {
		return s, nil
	}
	out, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s)})
	if err != nil {
		return "", err
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if spec := out.Table.StreamSpecification; arn == "" || spec == nil || !aws.ToBool(spec.StreamEnabled) {
		return "", fmt.Errorf("table %s has no enabled stream (enable one with a StreamSpecification)", s)
	}
	return arn, nil
}

func (c *triggersCLI) add(ctx context.Context, in *lambda.CreateEventSourceMappingInput, source string) error {
	arn, err := c.streamArn(ctx, source)
	if err != nil {
		return err
	}
	in.EventSourceArn = aws.String(arn)
	out, err := c.lam.CreateEventSourceMapping(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "created %s: %s -> %s (state %s)\n", aws.ToString(out.UUID), aws.ToString(out.EventSourceArn),
		aws.ToString(out.FunctionArn), aws.ToString(out.State))
	return nil
}

func (c *triggersCLI) list(ctx context.Context, function, source string) error {
	arn, err := c.streamArn(ctx, source)
	if err != nil {
		return err
	}
	in := &lambda.ListEventSourceMappingsInput{}
	if function != "" {
		in.FunctionName = aws.String(function)
	}
	if arn != "" {
		in.EventSourceArn = aws.String(arn)
	}
	fmt.Fprintf(c.out, "%-36s %-24s %-9s %5s %-28s %s\n", "UUID", "FUNCTION", "STATE", "BATCH", "TABLE", "LAST RESULT")
	p := lambda.NewListEventSourceMappingsPaginator(c.lam, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, m := range page.EventSourceMappings {
			fmt.Fprintf(c.out, "%-36s %-24s %-9s %5d %-28s %s\n", aws.ToString(m.UUID), functionName(aws.ToString(m.FunctionArn)),
				aws.ToString(m.State), aws.ToInt32(m.BatchSize), tableOf(aws.ToString(m.EventSourceArn)), aws.ToString(m.LastProcessingResult))
		}
	}
	return nil
}

// functionName is the name (and qualifier) part of a function ARN.
func functionName(arn string) string {
	if _, after, ok := strings.Cut(arn, ":function:"); ok {
		return after
	}
	return arn
}

// tableOf is the table name in a stream ARN (…:table/NAME/stream/LABEL).
func tableOf(arn string) string {
	_, after, ok := strings.Cut(arn, ":table/")
	if !ok {
		return arn
	}
	name, _, _ := strings.Cut(after, "/")
	return name
}

// shardStatus is one element of GET .../{uuid}/shards (an eddy extension).
type shardStatus struct {
	ShardID        string
	Position       string
	Finished       bool
	PendingRecords int
	LagMillis      int64
}

// getJSON fetches an eddy-only route of the mapping (shards, failures).
func (c *triggersCLI) getJSON(ctx context.Context, uuid, what string, v any) error {
	u := c.endpoint + "/2015-03-31/event-source-mappings/" + url.PathEscape(uuid) + "/" + what
	if c.region != "" {
		// The route is unsigned; a presigned request's credential scope
		// names the region whose mapping it is.
		u += "?X-Amz-Credential=" + url.QueryEscape("eddy/20000101/"+c.region+"/lambda/aws4_request")
	}
	return callJSON(ctx, c.http, http.MethodGet, u, v)
}

func (c *triggersCLI) show(ctx context.Context, uuid string) error {
	m, err := c.lam.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	if err != nil {
		return err
	}
	w := c.out
	row := func(k string, v any) { fmt.Fprintf(w, "%-26s %v\n", k+":", v) }
	row("UUID", aws.ToString(m.UUID))
	row("Function", aws.ToString(m.FunctionArn))
	row("Source", aws.ToString(m.EventSourceArn))
	row("State", fmt.Sprintf("%s (%s)", aws.ToString(m.State), aws.ToString(m.StateTransitionReason)))
	row("Last processing result", aws.ToString(m.LastProcessingResult))
	row("Starting position", m.StartingPosition)
	row("Batch size", aws.ToInt32(m.BatchSize))
	row("Batching window", fmt.Sprintf("%ds", aws.ToInt32(m.MaximumBatchingWindowInSeconds)))
	row("Parallelization factor", aws.ToInt32(m.ParallelizationFactor))
	if n := aws.ToInt32(m.MaximumRetryAttempts); n < 0 {
		row("Retries", "until the records expire")
	} else {
		row("Retries", n)
	}
	if a := aws.ToInt32(m.MaximumRecordAgeInSeconds); a < 0 {
		row("Maximum record age", "unlimited")
	} else {
		row("Maximum record age", fmt.Sprintf("%ds", a))
	}
	row("Bisect on error", aws.ToBool(m.BisectBatchOnFunctionError))
	if len(m.FunctionResponseTypes) > 0 {
		row("Response types", m.FunctionResponseTypes)
	}
	if t := aws.ToInt32(m.TumblingWindowInSeconds); t > 0 {
		row("Tumbling window", fmt.Sprintf("%ds", t))
	}
	if m.FilterCriteria != nil {
		for _, f := range m.FilterCriteria.Filters {
			row("Filter", aws.ToString(f.Pattern))
		}
	}
	if m.LastModified != nil {
		row("Last modified", m.LastModified.UTC().Format(time.RFC3339))
	}
	var failures struct{ Failures []json.RawMessage }
	if err := c.getJSON(ctx, uuid, "failures", &failures); err != nil {
		return err
	}
	dest := ""
	if d := m.DestinationConfig; d != nil && d.OnFailure != nil {
		dest = aws.ToString(d.OnFailure.Destination)
	}
	if dest == "" {
		row("On failure", "kept in eddy's built-in failure store only (Lambda would drop the failure): eddy dlq list --mapping "+uuid)
	} else {
		row("On failure", dest+" (and kept in eddy's built-in failure store)")
	}
	row("Failure records kept", len(failures.Failures))

	var st struct {
		Shards                                []shardStatus
		LastError                             string // the last delivery failure's text (eddy's)
		RecordsDelivered, RecordsDeadLettered int64  // since the mapping was created
	}
	if err := c.getJSON(ctx, uuid, "shards", &st); err != nil {
		return err
	}
	row("Records delivered", st.RecordsDelivered)
	row("Records dead-lettered", st.RecordsDeadLettered)
	if st.LastError != "" {
		row("Last error", st.LastError)
	}
	fmt.Fprintf(w, "\n%-40s %-22s %8s %10s\n", "SHARD", "POSITION", "PENDING", "LAG")
	for _, s := range st.Shards {
		pending, lag := fmt.Sprint(s.PendingRecords), time.Duration(s.LagMillis)*time.Millisecond
		if s.PendingRecords >= 10000 {
			pending = "10000+"
		}
		if s.PendingRecords < 0 {
			pending = "-" // a remote stream's shard: not counted
		}
		lagS := lag.String()
		if s.Finished {
			pending, lagS = "finished", "-"
		}
		fmt.Fprintf(w, "%-40s %-22s %8s %10s\n", s.ShardID, s.Position, pending, lagS)
	}
	return nil
}

func (c *triggersCLI) update(ctx context.Context, in *lambda.UpdateEventSourceMappingInput) error {
	out, err := c.lam.UpdateEventSourceMapping(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "updated %s: %s -> %s (state %s)\n", aws.ToString(out.UUID), aws.ToString(out.EventSourceArn),
		aws.ToString(out.FunctionArn), aws.ToString(out.State))
	return nil
}

func (c *triggersCLI) setEnabled(ctx context.Context, uuid string, on bool) error {
	out, err := c.lam.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(on)})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%s: %s\n", aws.ToString(out.UUID), aws.ToString(out.State))
	return nil
}

func (c *triggersCLI) remove(ctx context.Context, uuid string) error {
	out, err := c.lam.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return fmt.Errorf("no mapping %s", uuid)
		}
		return err
	}
	fmt.Fprintf(c.out, "%s: %s\n", aws.ToString(out.UUID), aws.ToString(out.State))
	return nil
}
