package remote

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// convert turns one GetRecords record into eddy's streams.Record (Seq is
// left for the reader to number), keeping the remote's sequence number
// (SeqText), event ID and region, so streams.AppendRecordJSON renders what
// the remote answered.
func convert(in *types.Record, region string) (streams.Record, error) {
	d := in.Dynamodb
	if d == nil {
		return streams.Record{}, errors.New("a record without its dynamodb member")
	}
	seq := aws.ToString(d.SequenceNumber)
	if !digits(seq) {
		return streams.Record{}, fmt.Errorf("a record with sequence number %q (want decimal digits)", seq)
	}
	out := streams.Record{
		SeqText: seq, EventName: string(in.EventName), ViewType: string(d.StreamViewType),
		SizeBytes: int(aws.ToInt64(d.SizeBytes)), EventID: aws.ToString(in.EventID),
		Region: region,
	}
	if r := aws.ToString(in.AwsRegion); r != "" {
		out.Region = r
	}
	if d.ApproximateCreationDateTime != nil {
		out.Time = *d.ApproximateCreationDateTime
	}
	if u := in.UserIdentity; u != nil {
		out.Principal = store.Principal{Type: aws.ToString(u.Type), ID: aws.ToString(u.PrincipalId)}
	}
	var err error
	if out.Keys, err = item(d.Keys); err != nil {
		return out, err
	}
	if d.NewImage != nil {
		if out.New, err = item(d.NewImage); err != nil {
			return out, err
		}
	}
	if d.OldImage != nil {
		if out.Old, err = item(d.OldImage); err != nil {
			return out, err
		}
	}
	return out, nil
}

func digits(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func item(m map[string]types.AttributeValue) (attr.Item, error) {
	out := make(attr.Item, len(m))
	for k, v := range m {
		a, err := value(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = a
	}
	return out, nil
}

// number is a remote number in canonical text (as eddy keeps numbers, so
// an item's partition-key hash routes it to one lane whatever its
// spelling).
func number(s string) (string, error) {
	c, err := attr.CanonicalNumber(s)
	if err != nil {
		return "", fmt.Errorf("number %q: %w", s, err)
	}
	return c, nil
}

func value(v types.AttributeValue) (attr.Value, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return attr.S(v.Value), nil
	case *types.AttributeValueMemberN:
		n, err := number(v.Value)
		return attr.N(n), err
	case *types.AttributeValueMemberB:
		return attr.B(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return attr.Bool(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return attr.Null(), nil
	case *types.AttributeValueMemberSS:
		return attr.SS(v.Value), nil
	case *types.AttributeValueMemberNS:
		ns := make([]string, len(v.Value))
		for i, s := range v.Value {
			n, err := number(s)
			if err != nil {
				return attr.Value{}, err
			}
			ns[i] = n
		}
		return attr.NS(ns), nil
	case *types.AttributeValueMemberBS:
		return attr.BS(v.Value), nil
	case *types.AttributeValueMemberM:
		m, err := item(v.Value)
		return attr.M(m), err
	case *types.AttributeValueMemberL:
		l := make([]attr.Value, len(v.Value))
		for i, x := range v.Value {
			a, err := value(x)
			if err != nil {
				return attr.Value{}, err
			}
			l[i] = a
		}
		return attr.L(l), nil
	}
	return attr.Value{}, fmt.Errorf("an attribute value of type %T", v)
}
