// Package remote reads another endpoint's DynamoDB Streams API for eddy's
// event source mappings: AWS DynamoDB with real credentials, another eddy,
// ScyllaDB Alternator, moto, or any server that speaks the API. It is the
// remote implementation of mappings.Source, read with aws-sdk-go-v2's
// dynamodbstreams client; the mapping's runner, its lanes, Lambda's
// delivery rules and the checkpoints (kept in eddy) are package mappings'.
//
// # Which streams are remote
//
// A stream ARN does not say which endpoint serves it, so eddy is told:
// each Endpoint names a region (and optionally an account) and a URL, and
// an EventSourceArn whose region (and account) match an Endpoint is read
// there (Remotes.Source). `eddy serve --remote-streams-endpoint
// [ACCOUNT:]REGION=URL[,profile=NAME][,poll=DURATION]` adds one (ParseEndpoint); an
// account-qualified endpoint wins over a region-only one. Credentials come
// from the standard AWS chain (environment, shared files, IMDS), or the
// named profile of the shared config.
//
// # Reading a shard
//
// A reader holds a shard iterator: TRIM_HORIZON for a shard never read,
// LATEST for a shard open when a LATEST mapping was created,
// AFTER_SEQUENCE_NUMBER of the checkpoint otherwise. Each GetRecords
// (up to 1,000 records) numbers the records it returns with ordinals
// counted on from the reader's position (mappings.Source): ordinals are
// what the lanes order and checkpoint by, and the wire sequence number of
// each record travels with it (streams.Record.SeqText) into the function's
// event and into the checkpoint. An expired iterator (15 minutes,
// ExpiredIteratorException) is fetched again from the last record read; a
// shard whose records were trimmed before they were read restarts at
// TRIM_HORIZON (streams.ErrTrimmed: the mapping reports it); a
// NextShardIterator absent means the shard is closed and read to its end,
// and its children start. Other errors (throttling, the network, the
// remote's 5xx) go back to the mapping, which retries with backoff and logs
// once per change of state.
//
// # Caveats
//
//   - LATEST starts at the shard's end when the reader first asks for a
//     LATEST iterator (as Lambda's LATEST: records written between
//     CreateEventSourceMapping and the mapping's first poll may be
//     skipped; Lambda developer guide, "Polling and stream starting
//     positions": "the event source mapping could miss events during a
//     create or update"), and again after a restart before the shard's
//     first record.
//   - A mapping's Status has no pending-record counts for a remote stream
//     (counting would read the remote shard); Position is the wire
//     sequence number.
//   - Real AWS DynamoDB needs real credentials: it is not exercised by
//     eddy's tests (another eddy and moto_server are).
package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/streams"
)

// Endpoint is another endpoint's DynamoDB Streams API and the stream ARNs
// it serves.
type Endpoint struct {
	// Region is the region of the stream ARNs the endpoint serves, and the
	// region requests are signed for. Required.
	Region string
	// Account, when set, restricts the endpoint to stream ARNs of that
	// account.
	Account string
	// URL is the endpoint's base URL ("http://host:8000"); empty: AWS's
	// own DynamoDB Streams endpoint of Region.
	URL string
	// Profile is a named profile of the shared AWS config and credentials
	// files; empty: the default chain.
	Profile string
	// Credentials, when set, sign the requests instead of the chain.
	Credentials aws.CredentialsProvider
	// PollInterval is how long a caught-up shard waits before its next
	// GetRecords. Default 250ms (Lambda polls a DynamoDB stream's shards
	// four times a second).
	PollInterval time.Duration
	// HTTPClient sends the requests; nil: the SDK's default.
	HTTPClient *http.Client
	// MaxAttempts is the SDK's attempts per request (its own retries of
	// throttling and 5xx, with its backoff) before the error reaches the
	// mapping, which retries with its own backoff. Default: the SDK's (3).
	MaxAttempts int
}

// ParseEndpoint parses the --remote-streams-endpoint form
// [ACCOUNT:]REGION=URL[,profile=NAME][,poll=DURATION].
func ParseEndpoint(s string) (Endpoint, error) {
	key, rest, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return Endpoint{}, fmt.Errorf("remote streams endpoint %q: want [ACCOUNT:]REGION=URL[,profile=NAME][,poll=DURATION]", s)
	}
	var e Endpoint
	if acct, region, ok := strings.Cut(key, ":"); ok {
		e.Account, e.Region = acct, region
	} else {
		e.Region = key
	}
	parts := strings.Split(rest, ",")
	e.URL = parts[0]
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "profile":
			e.Profile = v
		case "poll":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Endpoint{}, fmt.Errorf("remote streams endpoint %q: poll=%q: want a positive duration", s, v)
			}
			e.PollInterval = d
		default:
			return Endpoint{}, fmt.Errorf("remote streams endpoint %q: unknown option %q (want profile=NAME or poll=DURATION)", s, k)
		}
	}
	if e.Region == "" {
		return Endpoint{}, fmt.Errorf("remote streams endpoint %q: no region", s)
	}
	if e.URL != "" && !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
		return Endpoint{}, fmt.Errorf("remote streams endpoint %q: the URL must start with http:// or https://", s)
	}
	return e, nil
}

// Remotes are the configured endpoints, each with its client. Safe for
// concurrent use.
type Remotes struct {
	eps []*endpoint
}

type endpoint struct {
	Endpoint
	c *dynamodbstreams.Client
}

// New builds a client per endpoint (loading the credential chain or
// profile once).
func New(ctx context.Context, eps []Endpoint) (*Remotes, error) {
	r := &Remotes{}
	for _, e := range eps {
		if e.Region == "" {
			return nil, errors.New("remote: an endpoint needs a region")
		}
		if e.PollInterval <= 0 {
			e.PollInterval = 250 * time.Millisecond
		}
		opts := []func(*config.LoadOptions) error{config.WithRegion(e.Region)}
		if e.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(e.Profile))
		}
		if e.Credentials != nil {
			opts = append(opts, config.WithCredentialsProvider(e.Credentials))
		}
		if e.HTTPClient != nil {
			opts = append(opts, config.WithHTTPClient(e.HTTPClient))
		}
		if e.MaxAttempts > 0 {
			opts = append(opts, config.WithRetryMaxAttempts(e.MaxAttempts))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("remote: endpoint %s: %w", e.URL, err)
		}
		c := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
			if e.URL != "" {
				o.BaseEndpoint = aws.String(e.URL)
			}
		})
		r.eps = append(r.eps, &endpoint{Endpoint: e, c: c})
	}
	return r, nil
}

// Source returns the mappings.Source of streamArn when a configured
// endpoint serves it: one whose Account and Region match the ARN's, else
// one with no Account whose Region matches.
func (r *Remotes) Source(streamArn string) (mappings.Source, bool) {
	e := r.endpoint(streamArn)
	if e == nil {
		return nil, false
	}
	region, _ := arnRegionAccount(streamArn)
	return &source{ep: e, arn: streamArn, region: region}, true
}

// EndpointOf returns the URL of the endpoint that serves streamArn ("" when
// none does, or when it is AWS's own).
func (r *Remotes) EndpointOf(streamArn string) string {
	if e := r.endpoint(streamArn); e != nil {
		return e.URL
	}
	return ""
}

func (r *Remotes) endpoint(streamArn string) *endpoint {
	if r == nil {
		return nil
	}
	region, account := arnRegionAccount(streamArn)
	var pick *endpoint
	for _, e := range r.eps {
		if e.Region != region {
			continue
		}
		if e.Account == account {
			pick = e
			break
		}
		if e.Account == "" && pick == nil {
			pick = e
		}
	}
	return pick
}

// arnRegionAccount returns an ARN's region and account
// (arn:PARTITION:SERVICE:REGION:ACCOUNT:...).
func arnRegionAccount(s string) (region, account string) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return arn.RegionOf(s), ""
	}
	return parts[3], parts[4]
}

// source is one remote stream.
type source struct {
	ep     *endpoint
	arn    string
	region string
}

// Describe pages through DescribeStream and orders the shards parents
// first (DynamoDB lists them in creation order, which is such an order; a
// topological sort makes sure).
func (s *source) Describe(ctx context.Context) (streams.StreamInfo, []shards.Info, error) {
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(s.arn), Limit: aws.Int32(100)}
	var info streams.StreamInfo
	var all []types.Shard
	for page := 0; ; page++ {
		out, err := s.ep.c.DescribeStream(ctx, in)
		if err != nil {
			var nf *types.ResourceNotFoundException
			if errors.As(err, &nf) {
				return info, nil, fmt.Errorf("%w: %s", streams.ErrStreamNotFound, s.arn)
			}
			return info, nil, err
		}
		d := out.StreamDescription
		if d == nil {
			return info, nil, errors.New("remote: DescribeStream answered no StreamDescription")
		}
		if page == 0 {
			info = streams.StreamInfo{Arn: s.arn, Region: s.region, TableName: aws.ToString(d.TableName),
				Label: aws.ToString(d.StreamLabel), ViewType: string(d.StreamViewType),
				Enabled: d.StreamStatus == types.StreamStatusEnabled || d.StreamStatus == types.StreamStatusEnabling}
			if d.CreationRequestDateTime != nil {
				info.Created = *d.CreationRequestDateTime
			}
			for _, k := range d.KeySchema {
				info.KeySchema = append(info.KeySchema, streams.KeyElement{AttributeName: aws.ToString(k.AttributeName), KeyType: string(k.KeyType)})
			}
		}
		all = append(all, d.Shards...)
		if d.LastEvaluatedShardId == nil || page > 10000 {
			break
		}
		in.ExclusiveStartShardId = d.LastEvaluatedShardId
	}
	return info, parentsFirst(all), nil
}

// parentsFirst converts the shards, every parent before its children
// (a parent not listed, trimmed away, is ignored), and numbers them in
// that order (Ordinal).
func parentsFirst(in []types.Shard) []shards.Info {
	byID := make(map[string]int, len(in))
	for i, sh := range in {
		byID[aws.ToString(sh.ShardId)] = i
	}
	out := make([]shards.Info, 0, len(in))
	state := make([]byte, len(in)) // 0 new, 1 visiting, 2 done
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return // done, or a cycle a broken server reported: cut it
		}
		state[i] = 1
		sh := in[i]
		if p, ok := byID[aws.ToString(sh.ParentShardId)]; ok {
			visit(p)
		}
		state[i] = 2
		info := shards.Info{ID: aws.ToString(sh.ShardId), ParentID: aws.ToString(sh.ParentShardId), Ordinal: uint32(len(out))}
		if r := sh.SequenceNumberRange; r != nil && r.EndingSequenceNumber != nil {
			info.Closed = true
		}
		out = append(out, info)
	}
	for i := range in {
		visit(i)
	}
	return out
}

func (s *source) Open(sh shards.Info, after mappings.Position) mappings.ShardReader {
	return &reader{s: s, shard: sh.ID, ord: after.Seq, text: after.Text}
}

// reader is a position on one remote shard: the ordinal and wire sequence
// number of the last record read ("" before the first, LatestText) and the
// iterator that continues after it.
type reader struct {
	s     *source
	shard string
	ord   streams.Seq
	text  string
	iter  *string
}

// Read implements mappings.ShardReader: one GetRecords.
func (r *reader) Read(ctx context.Context, limit int) (streams.Batch, error) {
	c := r.s.ep.c
	for attempt := 0; ; attempt++ {
		if r.iter == nil {
			if err := r.newIterator(ctx); err != nil {
				return streams.Batch{Next: r.ord}, err
			}
		}
		out, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: r.iter, Limit: aws.Int32(int32(min(limit, 1000)))})
		if err != nil {
			var exp *types.ExpiredIteratorException
			if errors.As(err, &exp) && attempt == 0 {
				r.iter = nil // again from the last record read
				continue
			}
			return streams.Batch{Next: r.ord}, r.classify(err)
		}
		b := streams.Batch{Records: make([]streams.Record, 0, len(out.Records))}
		for i := range out.Records {
			rec, err := convert(&out.Records[i], r.s.region)
			if err != nil {
				// Nothing of this page is taken: the next Read asks
				// again from the last record before it.
				r.iter = nil
				return streams.Batch{Next: r.ord}, fmt.Errorf("remote: shard %s: %w", r.shard, err)
			}
			b.Records = append(b.Records, rec)
		}
		for i := range b.Records {
			r.ord++
			b.Records[i].Seq = r.ord
		}
		if n := len(b.Records); n > 0 {
			r.text = b.Records[n-1].SeqText
		}
		r.iter = out.NextShardIterator
		b.Next, b.Ended = r.ord, out.NextShardIterator == nil
		return b, nil
	}
}

// newIterator asks for an iterator after the reader's position.
func (r *reader) newIterator(ctx context.Context) error {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(r.s.arn), ShardId: aws.String(r.shard)}
	switch r.text {
	case "":
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	case mappings.LatestText:
		in.ShardIteratorType = types.ShardIteratorTypeLatest
	default:
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(r.text)
	}
	out, err := r.s.ep.c.GetShardIterator(ctx, in)
	if err != nil {
		return r.classify(err)
	}
	if out.ShardIterator == nil {
		// A closed shard whose end was read: nothing follows.
		return streams.ErrShardNotFound
	}
	r.iter = out.ShardIterator
	return nil
}

// classify maps the remote's errors to the Source's: a shard (or stream)
// gone, records trimmed (the reader restarts at TRIM_HORIZON); anything
// else is returned for the mapping to retry.
func (r *reader) classify(err error) error {
	var nf *types.ResourceNotFoundException
	var tr *types.TrimmedDataAccessException
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("%w: %s", streams.ErrShardNotFound, err)
	case errors.As(err, &tr):
		r.iter, r.text = nil, ""
		return fmt.Errorf("%w: %s", streams.ErrTrimmed, err)
	}
	return err
}

// Wait implements mappings.ShardReader: one poll interval.
func (r *reader) Wait(ctx context.Context) error {
	t := time.NewTimer(r.s.ep.PollInterval)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Render implements mappings.ShardReader: GetRecords' shape, with the
// remote's sequence number, event ID and region.
func (r *reader) Render(dst []byte, rec *streams.Record) []byte {
	return streams.AppendRecordJSON(dst, rec, rec.Region)
}
