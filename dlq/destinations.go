package dlq

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/nats-io/nats.go"
)

// Destination kinds, from the ARN.
const (
	KindBuiltin = "dlq"  // arn:eddy:dlq:<region>:<account>:<name>
	KindSQS     = "sqs"  // arn:aws:sqs:<region>:<account>:<queue>
	KindSNS     = "sns"  // arn:aws:sns:<region>:<account>:<topic>
	KindS3      = "s3"   // arn:aws:s3:::<bucket>
	KindNATS    = "nats" // arn:eddy:nats:<region>:<account>:<subject>
)

// dest is a parsed destination ARN.
type dest struct {
	kind, region, account, name string
}

// ParseDestination checks an OnFailure destination ARN and returns its
// kind (one of the Kind constants).
func ParseDestination(arn string) (string, error) {
	d, err := parseDest(arn)
	return d.kind, err
}

func parseDest(arn string) (dest, error) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[5] == "" {
		return dest{}, fmt.Errorf("%w: %q", ErrBadDestination, arn)
	}
	d := dest{kind: p[2], region: p[3], account: p[4], name: p[5]}
	switch {
	case p[1] == "eddy" && (d.kind == KindBuiltin || d.kind == KindNATS):
	case strings.HasPrefix(p[1], "aws") && (d.kind == KindSQS || d.kind == KindSNS):
	case strings.HasPrefix(p[1], "aws") && d.kind == KindS3 && !strings.Contains(d.name, "/"):
	default:
		return dest{}, fmt.Errorf("%w: %q (eddy sends to sqs, sns, s3 and arn:eddy:nats, or keeps entries in arn:eddy:dlq)", ErrBadDestination, arn)
	}
	return d, nil
}

// Sender delivers an entry to one external destination. Send must be
// safe to repeat: the outbox calls it again after a crash or an error.
type Sender interface {
	Send(ctx context.Context, e *Entry) error
}

// destinations caches one sender per ARN and the shared clients.
type destinations struct {
	opts *Options

	mu      sync.Mutex
	senders map[string]Sender
	awsCfg  *aws.Config
	nc      *nats.Conn
}

func newDestinations(o *Options) *destinations {
	return &destinations{opts: o, senders: map[string]Sender{}}
}

func (ds *destinations) close() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.nc != nil {
		ds.nc.Close()
		ds.nc = nil
	}
}

func (ds *destinations) sender(ctx context.Context, arn string) (Sender, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if s := ds.senders[arn]; s != nil {
		return s, nil
	}
	d, err := parseDest(arn)
	if err != nil {
		return nil, err
	}
	var s Sender
	switch d.kind {
	case KindNATS:
		s = &natsSender{ds: ds, subject: d.name}
	case KindSQS, KindSNS, KindS3:
		cfg, err := ds.aws(ctx, d.region)
		if err != nil {
			return nil, err
		}
		switch d.kind {
		case KindSQS:
			s = &sqsSender{c: sqs.NewFromConfig(cfg, func(o *sqs.Options) { ds.endpoint(&o.BaseEndpoint) }), d: d}
		case KindSNS:
			s = &snsSender{c: sns.NewFromConfig(cfg, func(o *sns.Options) { ds.endpoint(&o.BaseEndpoint) }), arn: arn}
		case KindS3:
			s = &s3Sender{c: s3.NewFromConfig(cfg, func(o *s3.Options) {
				ds.endpoint(&o.BaseEndpoint)
				o.UsePathStyle = ds.opts.AWSEndpoint != ""
			}), bucket: d.name}
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrBadDestination, arn)
	}
	ds.senders[arn] = s
	return s, nil
}

func (ds *destinations) endpoint(p **string) {
	if ds.opts.AWSEndpoint != "" {
		*p = aws.String(ds.opts.AWSEndpoint)
	}
}

// aws loads the SDK configuration once (caller holds ds.mu).
func (ds *destinations) aws(ctx context.Context, region string) (aws.Config, error) {
	if ds.awsCfg == nil {
		var lo []func(*config.LoadOptions) error
		if ds.opts.AWSCredentials != nil {
			lo = append(lo, config.WithCredentialsProvider(ds.opts.AWSCredentials))
		}
		cfg, err := config.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			return aws.Config{}, fmt.Errorf("dlq: AWS configuration: %w", err)
		}
		ds.awsCfg = &cfg
	}
	cfg := ds.awsCfg.Copy()
	if region != "" {
		cfg.Region = region
	}
	if cfg.Region == "" {
		cfg.Region = ds.opts.Region
	}
	return cfg, nil
}

// dedupID is the entry's idempotency key: stable across re-sends.
func dedupID(e *Entry) string { return fmt.Sprintf("%s-%d", e.Mapping, e.ID) }

func recordJSON(e *Entry) string {
	b, _ := json.Marshal(&e.Record)
	return string(b)
}

// withPayload is the record plus {"payload":{"Records":[...]}}, what
// Lambda writes to an S3 destination.
func withPayload(e *Entry) []byte {
	rec, _ := json.Marshal(&e.Record)
	var b bytes.Buffer
	b.Write(rec[:len(rec)-1])
	b.WriteString(`,"payload":{"Records":[`)
	for i, r := range e.Records {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r.Event)
	}
	b.WriteString("]}}")
	return b.Bytes()
}

type sqsSender struct {
	c   *sqs.Client
	d   dest
	mu  sync.Mutex
	url string
}

func (s *sqsSender) Send(ctx context.Context, e *Entry) error {
	s.mu.Lock()
	url := s.url
	s.mu.Unlock()
	if url == "" {
		in := &sqs.GetQueueUrlInput{QueueName: aws.String(s.d.name)}
		if s.d.account != "" {
			in.QueueOwnerAWSAccountId = aws.String(s.d.account)
		}
		out, err := s.c.GetQueueUrl(ctx, in)
		if err != nil {
			return err
		}
		url = aws.ToString(out.QueueUrl)
		s.mu.Lock()
		s.url = url
		s.mu.Unlock()
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(recordJSON(e))}
	if strings.HasSuffix(s.d.name, ".fifo") {
		in.MessageGroupId = aws.String(e.Mapping)
		in.MessageDeduplicationId = aws.String(dedupID(e))
	}
	_, err := s.c.SendMessage(ctx, in)
	return err
}

type snsSender struct {
	c   *sns.Client
	arn string
}

func (s *snsSender) Send(ctx context.Context, e *Entry) error {
	in := &sns.PublishInput{TopicArn: aws.String(s.arn), Message: aws.String(recordJSON(e))}
	if strings.HasSuffix(s.arn, ".fifo") {
		in.MessageGroupId = aws.String(e.Mapping)
		in.MessageDeduplicationId = aws.String(dedupID(e))
	}
	_, err := s.c.Publish(ctx, in)
	return err
}

type s3Sender struct {
	c      *s3.Client
	bucket string
}

// S3Key is the object key of an entry, as Lambda names it:
// aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>.
// eddy's UUID is the invocation's request ID, so a repeated send
// overwrites the same object instead of adding one.
func S3Key(e *Entry) string {
	t := e.Created.UTC()
	return fmt.Sprintf("aws/lambda/%s/%s/%s/%s-%s", e.Mapping, e.Record.DDBStreamBatchInfo.ShardID,
		t.Format("2006/01/02"), t.Format("2006-01-02T15.04.05"), e.Record.RequestContext.RequestID)
}

func (s *s3Sender) Send(ctx context.Context, e *Entry) error {
	_, err := s.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(S3Key(e)),
		Body: bytes.NewReader(withPayload(e)), ContentType: aws.String("application/json"),
	})
	return err
}

type natsSender struct {
	ds      *destinations
	subject string
}

// Send publishes the record with its payload (as for S3) and waits for
// the server's flush acknowledgement. The Nats-Msg-Id header lets a
// JetStream stream on the subject drop repeats.
func (s *natsSender) Send(ctx context.Context, e *Entry) error {
	s.ds.mu.Lock()
	nc := s.ds.nc
	if nc == nil || nc.IsClosed() {
		var err error
		nc, err = nats.Connect(s.ds.opts.NATSURL, nats.Name("eddy-dlq"), nats.Timeout(2*time.Second),
			nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
		if err != nil {
			s.ds.mu.Unlock()
			return err
		}
		s.ds.nc = nc
	}
	s.ds.mu.Unlock()
	if !nc.IsConnected() {
		return nats.ErrConnectionClosed
	}
	m := nats.NewMsg(s.subject)
	m.Header.Set("Nats-Msg-Id", dedupID(e))
	m.Data = withPayload(e)
	if err := nc.PublishMsg(m); err != nil {
		return err
	}
	return nc.FlushWithContext(ctx)
}
