package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

var ctx = context.Background()

type env struct {
	*eddytest.Server
	S *dynamodbstreams.Client
}

func start(t testing.TB, opts server.Options) *env {
	t.Helper()
	s := eddytest.Start(t, opts)
	return &env{Server: s, S: dynamodbstreams.NewFromConfig(s.Config())}
}

// manual returns options whose background maintenance never runs on its
// own (tests call Maintain) and whose clock the test drives.
func manual(c *eddytest.Clock) server.Options {
	var o server.Options
	o.Streams.MaintenanceInterval = time.Hour
	o.Streams.Now = c.Now
	return o
}

func (e *env) createTable(t testing.TB, name, view string) string {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema:   []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	}
	if view != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(view)}
	}
	out, err := e.DDB.CreateTable(ctx, in)
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func n(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: v} }

func (e *env) put(t testing.TB, table string, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := e.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func (e *env) del(t testing.TB, table, pk string) {
	t.Helper()
	if _, err := e.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{"pk": s(pk)}}); err != nil {
		t.Fatalf("DeleteItem: %v", err)
	}
}

// shardsOf lists a stream's shards through DescribeStream, paging with
// limit.
func (e *env) shardsOf(t testing.TB, arn string, limit int32) (*types.StreamDescription, []types.Shard) {
	t.Helper()
	var all []types.Shard
	var desc *types.StreamDescription
	var start *string
	for {
		in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: start}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := e.S.DescribeStream(ctx, in)
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		desc = out.StreamDescription
		all = append(all, desc.Shards...)
		if desc.LastEvaluatedShardId == nil {
			return desc, all
		}
		start = desc.LastEvaluatedShardId
	}
}

// readShard reads a shard from TRIM_HORIZON until its end (closed) or an
// empty page (open).
func (e *env) readShard(t testing.TB, arn, shardID string) []types.Record {
	t.Helper()
	it, err := e.S.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	iter := it.ShardIterator
	var out []types.Record
	for iter != nil {
		r, err := e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil && errCode(err) == "" {
			// A transport error (not a DynamoDB error): iterators are
			// reusable, so read again once. Seen against a freshly
			// restarted child process ("use of closed network
			// connection" while reading a 200 body); see the report.
			t.Logf("GetRecords transport error, retrying: %v", err)
			r, err = e.S.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		}
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		out = append(out, r.Records...)
		if len(r.Records) == 0 && r.NextShardIterator != nil {
			break // open shard, caught up
		}
		iter = r.NextShardIterator
	}
	return out
}

// readAll walks the lineage: every shard after its parent.
func (e *env) readAll(t testing.TB, arn string) []types.Record {
	t.Helper()
	_, shs := e.shardsOf(t, arn, 0)
	seen := map[string]bool{}
	var out []types.Record
	for len(seen) < len(shs) {
		progress := false
		for _, sh := range shs {
			id := aws.ToString(sh.ShardId)
			if seen[id] {
				continue
			}
			if p := aws.ToString(sh.ParentShardId); p != "" && !seen[p] && exists(shs, p) {
				continue
			}
			seen[id] = true
			progress = true
			out = append(out, e.readShard(t, arn, id)...)
		}
		if !progress {
			t.Fatalf("lineage has a cycle")
		}
	}
	return out
}

func exists(shs []types.Shard, id string) bool {
	for _, sh := range shs {
		if aws.ToString(sh.ShardId) == id {
			return true
		}
	}
	return false
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func strAttr(m map[string]types.AttributeValue, k string) string {
	if v, ok := m[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func numAttr(m map[string]types.AttributeValue, k string) string {
	if v, ok := m[k].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// concurrentDDB returns a DynamoDB client with its own HTTP transport,
// whose idle connections are closed when the test ends, before the server
// shuts down: connections a concurrent client dialed but never used would
// otherwise hold http.Server.Shutdown for its 5 s StateNew grace.
func concurrentDDB(t testing.TB, e *env) *dynamodb.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	return dynamodb.NewFromConfig(e.Config(), func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: tr} })
}
