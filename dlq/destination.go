package dlq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Destination kinds, from the ARN.
const (
	KindBuiltin = "dlq"  // arn:eddy:dlq:<region>:<account>:<name>
	KindSQS     = "sqs"  // arn:aws:sqs:<region>:<account>:<queue>
	KindSNS     = "sns"  // arn:aws:sns:<region>:<account>:<topic>
	KindS3      = "s3"   // arn:aws:s3:::<bucket>
	KindNATS    = "nats" // arn:eddy:nats:<region>:<account>:<subject>
)

// Destination is a parsed OnFailure destination ARN.
type Destination struct {
	Kind, Region, Account, Name string
}

// ParseDestination checks an OnFailure destination ARN and returns its
// kind (one of the Kind constants).
func ParseDestination(arn string) (string, error) {
	d, err := ParseDestinationARN(arn)
	return d.Kind, err
}

// DestinationForms lists the OnFailure destination ARNs eddy accepts, for
// help texts and the error that refuses another.
const DestinationForms = "arn:aws:sqs:REGION:ACCOUNT:QUEUE, arn:aws:sns:REGION:ACCOUNT:TOPIC, arn:aws:s3:::BUCKET, " +
	"arn:eddy:nats:REGION:ACCOUNT:SUBJECT (core NATS), arn:eddy:dlq:REGION:ACCOUNT:NAME (eddy's failure store only)"

// ParseDestinationARN checks an OnFailure destination ARN and splits it.
func ParseDestinationARN(arn string) (Destination, error) {
	bad := func() (Destination, error) {
		return Destination{}, fmt.Errorf("%w: %q; accepted forms: %s", ErrBadDestination, arn, DestinationForms)
	}
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[5] == "" {
		return bad()
	}
	d := Destination{Kind: p[2], Region: p[3], Account: p[4], Name: p[5]}
	switch {
	case p[1] == "eddy" && (d.Kind == KindBuiltin || d.Kind == KindNATS):
	case strings.HasPrefix(p[1], "aws") && (d.Kind == KindSQS || d.Kind == KindSNS):
	case strings.HasPrefix(p[1], "aws") && d.Kind == KindS3 && !strings.Contains(d.Name, "/"):
	default:
		return bad()
	}
	return d, nil
}

// Sender delivers an entry to one external destination. Send must be
// safe to repeat: the outbox calls it again after a crash or an error.
type Sender interface {
	Send(ctx context.Context, e *Entry) error
}

// Senders resolves external destination ARNs to their senders: the seam
// between the outbox and the clients of SQS, SNS, S3 and NATS, which live
// in package dlq/destinations so that dlq (and mappings, which appends
// entries) does not pull in the AWS SDK. The server wires
// destinations.New into Options.Destinations.
type Senders interface {
	// Sender returns the (cached) sender of arn.
	Sender(ctx context.Context, arn string) (Sender, error)
	// Close closes the clients. Idempotent.
	Close()
}

// errNoSenders: Options.Destinations is unset, so external destinations
// cannot be sent to (the outbox keeps retrying).
var errNoSenders = errors.New("dlq: no external destinations are configured (Options.Destinations)")

type noSenders struct{}

func (noSenders) Sender(context.Context, string) (Sender, error) { return nil, errNoSenders }
func (noSenders) Close()                                         {}

// DedupID is the entry's idempotency key: stable across re-sends.
func DedupID(e *Entry) string { return fmt.Sprintf("%s-%d", e.Mapping, e.ID) }

// RecordJSON is Lambda's on-failure record of the entry, what SQS and SNS
// destinations receive.
func RecordJSON(e *Entry) string {
	b, _ := json.Marshal(&e.Record)
	return string(b)
}

// WithPayload is the record plus {"payload":{"Records":[...]}}, what
// Lambda writes to an S3 destination.
func WithPayload(e *Entry) []byte {
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

// S3Key is the object key of an entry, as Lambda names it:
// aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>.
// eddy's UUID is the invocation's request ID, so a repeated send
// overwrites the same object instead of adding one.
func S3Key(e *Entry) string {
	t := e.Created.UTC()
	return fmt.Sprintf("aws/lambda/%s/%s/%s/%s-%s", e.Mapping, e.Record.DDBStreamBatchInfo.ShardID,
		t.Format("2006/01/02"), t.Format("2006-01-02T15.04.05"), e.Record.RequestContext.RequestID)
}
