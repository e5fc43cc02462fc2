// Package destinations sends dead-letter entries to external OnFailure
// destinations: SQS, SNS and S3 through aws-sdk-go-v2, and core NATS. It
// implements dlq.Senders; the server wires New into
// dlq.Options.Destinations, so that dlq and mappings do not import the
// AWS SDK. The message shapes and idempotency keys are dlq's (RecordJSON,
// WithPayload, S3Key, DedupID; see dlq's package doc).
package destinations

import (
	"bytes"
	"context"
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

	"github.com/eddydb/eddy/dlq"
)

// destinations caches one sender per ARN and the shared clients.
type destinations struct {
	opts dlq.Options

	mu      sync.Mutex
	senders map[string]dlq.Sender
	awsCfg  *aws.Config
	nc      *nats.Conn
}

// New returns the senders of SQS, SNS and S3 (aws-sdk-go-v2) and NATS
// destinations, configured by o (defaults resolved by dlq.Open):
// AWSEndpoint, AWSCredentials (an aws.CredentialsProvider), Region and
// NATSURL. It is what the server sets as dlq.Options.Destinations.
func New(o dlq.Options) dlq.Senders {
	return &destinations{opts: o, senders: map[string]dlq.Sender{}}
}

// Close closes the NATS connection. Idempotent.
func (ds *destinations) Close() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.nc != nil {
		ds.nc.Close()
		ds.nc = nil
	}
}

// Sender returns the cached sender of arn, creating it at first use.
func (ds *destinations) Sender(ctx context.Context, arn string) (dlq.Sender, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if s := ds.senders[arn]; s != nil {
		return s, nil
	}
	d, err := dlq.ParseDestinationARN(arn)
	if err != nil {
		return nil, err
	}
	var s dlq.Sender
	switch d.Kind {
	case dlq.KindNATS:
		s = &natsSender{ds: ds, subject: d.Name}
	case dlq.KindSQS, dlq.KindSNS, dlq.KindS3:
		cfg, err := ds.aws(ctx, d.Region)
		if err != nil {
			return nil, err
		}
		switch d.Kind {
		case dlq.KindSQS:
			s = &sqsSender{c: sqs.NewFromConfig(cfg, func(o *sqs.Options) { ds.endpoint(&o.BaseEndpoint) }), d: d}
		case dlq.KindSNS:
			s = &snsSender{c: sns.NewFromConfig(cfg, func(o *sns.Options) { ds.endpoint(&o.BaseEndpoint) }), arn: arn}
		case dlq.KindS3:
			s = &s3Sender{c: s3.NewFromConfig(cfg, func(o *s3.Options) {
				ds.endpoint(&o.BaseEndpoint)
				o.UsePathStyle = ds.opts.AWSEndpoint != ""
			}), bucket: d.Name}
		}
	default:
		return nil, fmt.Errorf("%w: %q", dlq.ErrBadDestination, arn)
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
			p, ok := ds.opts.AWSCredentials.(aws.CredentialsProvider)
			if !ok {
				return aws.Config{}, fmt.Errorf("dlq: AWSCredentials is a %T, not an aws.CredentialsProvider", ds.opts.AWSCredentials)
			}
			lo = append(lo, config.WithCredentialsProvider(p))
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

type sqsSender struct {
	c   *sqs.Client
	d   dlq.Destination
	mu  sync.Mutex
	url string
}

func (s *sqsSender) Send(ctx context.Context, e *dlq.Entry) error {
	s.mu.Lock()
	url := s.url
	s.mu.Unlock()
	if url == "" {
		in := &sqs.GetQueueUrlInput{QueueName: aws.String(s.d.Name)}
		if s.d.Account != "" {
			in.QueueOwnerAWSAccountId = aws.String(s.d.Account)
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
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(dlq.RecordJSON(e))}
	if strings.HasSuffix(s.d.Name, ".fifo") {
		in.MessageGroupId = aws.String(e.Mapping)
		in.MessageDeduplicationId = aws.String(dlq.DedupID(e))
	}
	_, err := s.c.SendMessage(ctx, in)
	return err
}

type snsSender struct {
	c   *sns.Client
	arn string
}

func (s *snsSender) Send(ctx context.Context, e *dlq.Entry) error {
	in := &sns.PublishInput{TopicArn: aws.String(s.arn), Message: aws.String(dlq.RecordJSON(e))}
	if strings.HasSuffix(s.arn, ".fifo") {
		in.MessageGroupId = aws.String(e.Mapping)
		in.MessageDeduplicationId = aws.String(dlq.DedupID(e))
	}
	_, err := s.c.Publish(ctx, in)
	return err
}

type s3Sender struct {
	c      *s3.Client
	bucket string
}

func (s *s3Sender) Send(ctx context.Context, e *dlq.Entry) error {
	_, err := s.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(dlq.S3Key(e)),
		Body: bytes.NewReader(dlq.WithPayload(e)), ContentType: aws.String("application/json"),
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
func (s *natsSender) Send(ctx context.Context, e *dlq.Entry) error {
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
	m.Header.Set("Nats-Msg-Id", dlq.DedupID(e))
	m.Data = dlq.WithPayload(e)
	if err := nc.PublishMsg(m); err != nil {
		return err
	}
	return nc.FlushWithContext(ctx)
}
