package api_test

// DynamoDB Streams error answers that need a live stream (its ARN, shard
// ids, iterators), an expired iterator or trimmed data, so that the raw
// cases of testdata/errors/streams.txt cannot set them up. Sources, as
// there (only real AWS answers; emulators are no evidence):
//
//   - scylla: scylladb/scylladb test/alternator/test_streams.py, tests run
//     against real DynamoDB; they pin the exception type (and, for Limit,
//     that the message names the limit), not the message.
//   - ironsource16: https://github.com/ironSource/node-dynamodb-stream/issues/16,
//     GetShardIterator of a shard that no longer exists: "ResourceNotFoundException:
//     Requested resource not found: Shard does not exist".
//   - ironsource13: https://github.com/ironSource/node-dynamodb-stream/issues/13,
//     GetRecords: "TrimmedDataAccessException: The data you are trying to
//     access has been trimmed".
//
// Messages not named by a source are eddy's and are checked only so that a
// change to them is deliberate; the report of each test says which.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// streamEnv is a server with one one-shard stream on table "errs".
type streamEnv struct {
	*snapEnv
	srv   *eddytest.Server
	arn   string
	shard string
	seq   string // the shard's StartingSequenceNumber
}

func startStreamEnv(t *testing.T, o server.Options) *streamEnv {
	o.Streams.ShardCount = 1
	s := eddytest.Start(t, o)
	e := &streamEnv{snapEnv: &snapEnv{t: t, url: s.URL(), client: &http.Client{Timeout: 10 * time.Second}}, srv: s}
	out := e.ddb("CreateTable", `{"TableName":"errs","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST",
		"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}}`)
	e.arn = str(t, out, "TableDescription", "LatestStreamArn")
	desc := e.streams("DescribeStream", `{"StreamArn":`+jsonString(e.arn)+`}`)
	e.shard = str(t, desc, "StreamDescription", "Shards", 0, "ShardId")
	e.seq = str(t, desc, "StreamDescription", "Shards", 0, "SequenceNumberRange", "StartingSequenceNumber")
	return e
}

// fail sends a Streams request that must fail and checks the status, the
// exception name (the part of __type after '#') and, if msg is not "", the
// message.
func (e *streamEnv) fail(op, body string, status int, name, msg string) {
	e.t.Helper()
	st, out := e.call("DynamoDBStreams_20120810."+op, body)
	typ, _ := out["__type"].(string)
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		typ = typ[i+1:]
	}
	got, _ := out["message"].(string)
	if st != status || typ != name || (msg != "" && got != msg) {
		e.t.Errorf("%s %s:\ngot  %d %s %q\nwant %d %s %q", op, body, st, typ, got, status, name, msg)
	}
}

func (e *streamEnv) iterator(typ, seq string) string {
	e.t.Helper()
	body := `{"StreamArn":` + jsonString(e.arn) + `,"ShardId":"` + e.shard + `","ShardIteratorType":"` + typ + `"`
	if seq != "" {
		body += `,"SequenceNumber":"` + seq + `"`
	}
	return str(e.t, e.streams("GetShardIterator", body+"}"), "ShardIterator")
}

// GetShardIterator of a shard the stream does not have: 400
// ResourceNotFoundException "Requested resource not found: Shard does not
// exist" (ironsource16; type also scylla test_get_shard_iterator_for_nonexistent_shard
// and "bad shard id"). eddy before: the message ended ": <ShardId>".
func TestStreamsErrorUnknownShard(t *testing.T) {
	e := startStreamEnv(t, server.Options{})
	for _, id := range []string{"adfasdasdasdasdasdasdasdasdasasdasd", "semprinidfaasdasfsdvacsdcfsdsvsdvsdvsdvsdvsdv",
		"shardId-00000000000000000000-00000000"} {
		e.fail("GetShardIterator", `{"StreamArn":`+jsonString(e.arn)+`,"ShardId":"`+id+`","ShardIteratorType":"LATEST"}`,
			400, "ResourceNotFoundException", "Requested resource not found: Shard does not exist")
	}
}

// GetShardIterator's SequenceNumber rules and a bad ShardIteratorType:
// ValidationException (scylla test_get_shard_iterator). The messages are
// eddy's, unverified.
func TestStreamsErrorShardIteratorValidation(t *testing.T) {
	e := startStreamEnv(t, server.Options{})
	base := `{"StreamArn":` + jsonString(e.arn) + `,"ShardId":"` + e.shard + `"`
	for _, typ := range []string{"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"} {
		e.fail("GetShardIterator", base+`,"ShardIteratorType":"`+typ+`"}`, 400, "ValidationException",
			"Must provide SequenceNumber for ShardIteratorType "+typ)
		e.iterator(typ, e.seq) // with one it works
	}
	for _, typ := range []string{"TRIM_HORIZON", "LATEST"} {
		e.fail("GetShardIterator", base+`,"ShardIteratorType":"`+typ+`","SequenceNumber":"`+e.seq+`"}`, 400, "ValidationException",
			"Cannot provide SequenceNumber for ShardIteratorType "+typ)
	}
	e.fail("GetShardIterator", base+`,"ShardIteratorType":"LATEST","SequenceNumber":"sdfsafglldfngjdafnasdflgnaldklkafdsgklnasdlv"}`,
		400, "ValidationException", "")
	e.fail("GetShardIterator", base+`,"ShardIteratorType":"bulle","SequenceNumber":"`+e.seq+`"}`, 400, "ValidationException",
		"1 validation error detected: Value 'bulle' at 'shardIteratorType' failed to satisfy constraint: "+
			"Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]")
}

// GetRecords Limit: 1000 is allowed; 1001, 0 and -1 are ValidationException
// whose message names the limit (scylla test_get_records_too_high_limit).
// The exact messages are eddy's (the model's constraint wording).
func TestStreamsErrorGetRecordsLimit(t *testing.T) {
	e := startStreamEnv(t, server.Options{})
	it := jsonString(e.iterator("LATEST", ""))
	e.streams("GetRecords", `{"ShardIterator":`+it+`,"Limit":1000}`)
	for _, c := range []struct{ lim, msg string }{
		{"1001", "Member must have value less than or equal to 1000"},
		{"0", "Member must have value greater than or equal to 1"},
		{"-1", "Member must have value greater than or equal to 1"},
	} {
		e.fail("GetRecords", `{"ShardIterator":`+it+`,"Limit":`+c.lim+`}`, 400, "ValidationException",
			"1 validation error detected: Value '"+c.lim+"' at 'limit' failed to satisfy constraint: "+c.msg)
	}
}

// DescribeStream with an ExclusiveStartShardId that is no shard of the
// stream answers no shards rather than an error (scylla
// test_describe_stream_with_nonexistent_last_shard: "real does not
// [throw]", and the Shards list is empty). eddy before: the whole list.
// The shard of the stream itself starts after it (localstack's
// test_dynamodb_streams_describe_with_exclusive_start_shard_id, in
// aws_snapshot_test.go).
func TestStreamsErrorDescribeUnknownExclusiveStartShard(t *testing.T) {
	e := startStreamEnv(t, server.Options{})
	out := e.streams("DescribeStream", `{"StreamArn":`+jsonString(e.arn)+
		`,"ExclusiveStartShardId":"zzzzzzzzzzzzzzzzzzzzzzzzsfasdgagadfadfgagkjsdfsfsdjfjks"}`)
	if sh := field(t, out, "StreamDescription", "Shards").([]any); len(sh) != 0 {
		t.Errorf("Shards = %v, want none", sh)
	}
	if _, ok := out["StreamDescription"].(map[string]any)["LastEvaluatedShardId"]; ok {
		t.Errorf("LastEvaluatedShardId in %v", out)
	}
	// An id that sorts before the stream's shards (one trimmed between two
	// pages) goes on with the shards after it, so a paging client misses
	// none.
	out = e.streams("DescribeStream", `{"StreamArn":`+jsonString(e.arn)+
		`,"ExclusiveStartShardId":"shardId-00000000000000000000-00000000"}`)
	sh := field(t, out, "StreamDescription", "Shards").([]any)
	if len(sh) != 1 || sh[0].(map[string]any)["ShardId"] != e.shard {
		t.Errorf("after a trimmed shard id: Shards = %v, want [%s]", sh, e.shard)
	}
}

// An iterator older than its 15 minutes is 400 ExpiredIteratorException
// (type: the API reference of GetRecords). No real answer quoting the
// message of DynamoDB Streams was found; the message is eddy's, the
// documented description of the exception's message member.
func TestStreamsErrorExpiredIterator(t *testing.T) {
	c := eddytest.NewClock()
	var o server.Options
	o.Streams.Now = c.Now
	o.Streams.MaintenanceInterval = time.Hour
	e := startStreamEnv(t, o)
	it := jsonString(e.iterator("LATEST", ""))
	c.Advance(16 * time.Minute)
	e.fail("GetRecords", `{"ShardIterator":`+it+`}`, 400, "ExpiredIteratorException",
		"The provided iterator exceeds the maximum age allowed.")
}

// Reading before the trim point is 400 TrimmedDataAccessException, from
// GetRecords with an old iterator and from GetShardIterator at a trimmed
// sequence number (type: the API reference). The message is the one
// ironsource13 quotes; whether AWS ends it with a period is not visible
// there.
func TestStreamsErrorTrimmed(t *testing.T) {
	c := eddytest.NewClock()
	var o server.Options
	o.Streams.Now = c.Now
	o.Streams.MaintenanceInterval = time.Hour
	o.Streams.Retention = time.Hour
	o.Streams.IteratorTTL = 24 * time.Hour
	e := startStreamEnv(t, o)
	old := jsonString(e.iterator("TRIM_HORIZON", ""))
	e.ddb("PutItem", `{"TableName":"errs","Item":{"pk":{"S":"old"}}}`)
	first := str(t, e.streams("GetRecords", `{"ShardIterator":`+old+`}`), "Records", 0, "dynamodb", "SequenceNumber")
	c.Advance(2 * time.Hour)
	e.ddb("PutItem", `{"TableName":"errs","Item":{"pk":{"S":"new"}}}`)
	if err := e.srv.Streams().Maintain(time.Hour); err != nil {
		t.Fatal(err)
	}
	const msg = "The data you are trying to access has been trimmed."
	e.fail("GetRecords", `{"ShardIterator":`+old+`}`, 400, "TrimmedDataAccessException", msg)
	e.fail("GetShardIterator", `{"StreamArn":`+jsonString(e.arn)+`,"ShardId":"`+e.shard+
		`","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":"`+first+`"}`, 400, "TrimmedDataAccessException", msg)
}

// DescribeStream's ShardFilter is held to the model's constraints: Type is
// CHILD_SHARDS, ShardId a shard id of 28 to 65 characters (the messages
// are the constraint wording of the Streams API model, as for the other
// members; eddy before: any ShardId, a filter that matched nothing).
func TestStreamsErrorShardFilter(t *testing.T) {
	e := startStreamEnv(t, server.Options{})
	arn := `{"StreamArn":` + jsonString(e.arn)
	e.fail("DescribeStream", arn+`,"ShardFilter":{"Type":"CHILD_SHARDS","ShardId":"bad"}}`, 400, "ValidationException",
		"1 validation error detected: Value 'bad' at 'shardFilter.shardId' failed to satisfy constraint: Member must have length greater than or equal to 28")
	e.fail("DescribeStream", arn+`,"ShardFilter":{"Type":"PARENT","ShardId":"`+e.shard+`"}}`, 400, "ValidationException",
		"1 validation error detected: Value 'PARENT' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [CHILD_SHARDS]")
	out := e.streams("DescribeStream", arn+`,"ShardFilter":{"Type":"CHILD_SHARDS","ShardId":"`+e.shard+`"}}`)
	if shards := out["StreamDescription"].(map[string]any)["Shards"].([]any); len(shards) != 0 {
		t.Errorf("children of an open shard: %v", shards)
	}
}
