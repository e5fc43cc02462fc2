package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// logsPollInterval is how often "eddy functions logs --follow" asks for new
// events (aws logs tail --follow waits 5 s; eddy is local, so 1 s).
var logsPollInterval = time.Second

func logsClient(endpoint, region string) *cloudwatchlogs.Client {
	region, creds := signing(region)
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  creds,
	})
}

// regionUsage is the --region flag's text of the client subcommands.
const regionUsage = "region to act in (default: the server's --region)"

// signing returns the SDK region and credentials of a client subcommand:
// with an access key in the environment (envCredentials: a server with
// credentials), requests signed with it for region (else envRegion);
// otherwise requests signed for region, whose credential scope is the
// region they act in; or, without one, unsigned requests (anonymous
// credentials), which eddy serves in its --region (the SDK's region then
// only fills the endpoint resolver's parameter; it is sent nowhere).
func signing(region string) (string, aws.CredentialsProvider) {
	if c, ok := envCredentials(); ok {
		return cmp.Or(region, envRegion()), credentials.StaticCredentialsProvider{Value: c}
	}
	if region == "" {
		return "us-east-1", aws.AnonymousCredentials{}
	}
	return region, credentials.NewStaticCredentialsProvider("eddy", "eddy", "")
}

// functionLogs prints a function's log events from since ago on, one line
// each: the event's time (UTC, milliseconds), the instance (the log
// stream's last 8 hex digits) and the message. With follow it keeps polling
// FilterLogEvents, as `aws logs tail --follow` does, until ctx ends: it asks
// from the newest timestamp printed and skips the eventIds already printed
// at that timestamp. A function that has not run yet has no log group: that
// is no error; with follow it waits for one.
func functionLogs(ctx context.Context, w io.Writer, client *cloudwatchlogs.Client, name string, follow bool, since time.Duration) error {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String("/aws/lambda/" + name),
		StartTime:    aws.Int64(time.Now().Add(-since).UnixMilli()),
	}
	var newest int64
	seen := map[string]bool{} // eventIds printed at newest
	for {
		out, err := client.FilterLogEvents(ctx, in)
		var nf *cwtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			if !follow {
				return nil
			}
			out = &cloudwatchlogs.FilterLogEventsOutput{}
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		}
		for _, e := range out.Events {
			ts, id := aws.ToInt64(e.Timestamp), aws.ToString(e.EventId)
			if ts < newest || (ts == newest && seen[id]) {
				continue
			}
			if ts > newest {
				newest, seen = ts, map[string]bool{}
			}
			seen[id] = true
			stream := aws.ToString(e.LogStreamName)
			inst := stream[max(0, len(stream)-8):]
			fmt.Fprintf(w, "%s %s %s\n", time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z"), inst,
				strings.TrimRight(aws.ToString(e.Message), "\r\n"))
		}
		if out.NextToken != nil {
			in.NextToken = out.NextToken
			continue
		}
		if !follow {
			return nil
		}
		in.NextToken = nil
		if newest > 0 {
			in.StartTime = aws.Int64(newest)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(logsPollInterval):
		}
	}
}
