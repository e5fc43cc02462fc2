package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// fuzzAPI is an in-process api.Server over an in-memory store with table
// "tbl" (pk S, sk N, a GSI on g, a stream of new and old images) holding a
// few items.
type fuzzAPI struct {
	h http.Handler
}

func newFuzzAPI(f *testing.F) *fuzzAPI {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	l, err := streams.Open(db, streams.Options{ShardCount: 2, MaintenanceInterval: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	db.RegisterChangeLog(l)
	f.Cleanup(func() { l.Close(); db.Close() })
	a := &fuzzAPI{h: api.New(api.Deps{DB: db, Log: l}, api.Config{})}
	for _, c := range [][2]string{
		{"DynamoDB_20120810.CreateTable", `{"TableName":"tbl","BillingMode":"PAY_PER_REQUEST",
			"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],
			"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
			"GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}],
			"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`},
		{"DynamoDB_20120810.PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"g":{"S":"x"},"l":{"L":[{"N":"1"},{"M":{"c":{"S":"d"}}}]}}}`},
		{"DynamoDB_20120810.PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"2"},"ss":{"SS":["p","q"]},"b":{"B":"AAE="}}}`},
		{"DynamoDB_20120810.PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"b"},"sk":{"N":"-1.5"},"g":{"S":"y"},"n":{"NULL":true}}}`},
		// A global index with a multi-attribute key (api/composite.go).
		{"DynamoDB_20120810.CreateTable", `{"TableName":"mak","BillingMode":"PAY_PER_REQUEST",
			"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"b","AttributeType":"N"},{"AttributeName":"c","AttributeType":"S"},{"AttributeName":"d","AttributeType":"B"}],
			"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
			"GlobalSecondaryIndexes":[{"IndexName":"abcd","KeySchema":[{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"b","KeyType":"HASH"},{"AttributeName":"c","KeyType":"RANGE"},{"AttributeName":"d","KeyType":"RANGE"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]}`},
		{"DynamoDB_20120810.PutItem", `{"TableName":"mak","Item":{"pk":{"S":"1"},"a":{"S":"x"},"b":{"N":"1"},"c":{"S":"k"},"d":{"B":"AQ=="}}}`},
		{"DynamoDB_20120810.PutItem", `{"TableName":"mak","Item":{"pk":{"S":"2"},"a":{"S":"x"},"b":{"N":"1"},"c":{"S":"k"},"d":{"B":"Ag=="}}}`},
		{"DynamoDB_20120810.PutItem", `{"TableName":"mak","Item":{"pk":{"S":"3"},"a":{"S":"x"},"b":{"N":"1"},"c":{"S":"ka"}}}`},
	} {
		if status, body := a.post(c[0], []byte(c[1])); status != 200 {
			f.Fatalf("%s: %d %s", c[0], status, body)
		}
	}
	if err := l.Sync(); err != nil {
		f.Fatal(err)
	}
	return a
}

func (a *fuzzAPI) post(target string, body []byte) (int, []byte) {
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	r.Header.Set("X-Amz-Target", target)
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// checkResponse asserts what every answer to a fuzzed request must be: 200
// with a JSON object (or no body), or a 4xx DynamoDB error ({"__type":...}) that is not
// an InternalServerError (a recovered handler panic answers 500), within a
// few seconds.
func checkResponse(t *testing.T, target string, body []byte, status int, resp []byte, took time.Duration) {
	t.Helper()
	if took > 5*time.Second {
		t.Fatalf("%s %q: took %v", target, body, took)
	}
	if status == 200 && len(resp) == 0 {
		return // TagResource and UntagResource answer with no body, as DynamoDB does
	}
	var obj map[string]any
	if err := json.Unmarshal(resp, &obj); err != nil {
		t.Fatalf("%s %q: status %d, body %q is not a JSON object: %v", target, body, status, resp, err)
	}
	switch {
	case status == 200:
	case status >= 400 && status < 500:
		typ, _ := obj["__type"].(string)
		if !strings.Contains(typ, "#") {
			t.Fatalf("%s %q: status %d without a __type: %s", target, body, status, resp)
		}
	default:
		t.Fatalf("%s %q: status %d: %s", target, body, status, resp)
	}
}

// The DynamoDB operations whose requests FuzzDynamoDBRequest decodes. Table
// creation and deletion are left out so that the table the seeds name
// stays, and thousands of fuzzed tables do not accumulate.
var fuzzOps = []string{
	"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
	"TransactGetItems", "TransactWriteItems", "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction",
	"DescribeTable", "ListTables", "TagResource", "UntagResource", "ListTagsOfResource", "DescribeLimits",
	"DescribeEndpoints", "DescribeTimeToLive",
}

// FuzzDynamoDBRequest posts fuzzed bodies to the DynamoDB JSON operations
// (op picks one of fuzzOps): whatever the body, the answer is a 200 or a
// 4xx DynamoDB error (SerializationException for JSON that does not fit the
// request shape, ValidationException for values that break the rules),
// never a 500 or a panic, in bounded time.
func FuzzDynamoDBRequest(f *testing.F) {
	a := newFuzzAPI(f)
	for _, s := range []struct{ op, body string }{
		{"GetItem", `{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ProjectionExpression":"l[1].c, #s","ExpressionAttributeNames":{"#s":"ss"}}`},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"c"},"sk":{"N":"3"},"m":{"M":{"x":{"BS":["AA=="]}}}},"ConditionExpression":"attribute_not_exists(pk)","ReturnValues":"ALL_OLD"}`},
		{"UpdateItem", `{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET n = if_not_exists(n, :z) + :one REMOVE l[0] ADD ss :s","ExpressionAttributeValues":{":z":{"N":"0"},":one":{"N":"1"},":s":{"SS":["r"]}},"ReturnValues":"UPDATED_NEW"}`},
		{"DeleteItem", `{"TableName":"tbl","Key":{"pk":{"S":"b"},"sk":{"N":"-1.5"}},"ConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"y"}}}`},
		{"Query", `{"TableName":"tbl","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","ExpressionAttributeValues":{":p":{"S":"a"},":a":{"N":"0"},":b":{"N":"5"}},"ScanIndexForward":false,"Limit":1}`},
		{"Query", `{"TableName":"tbl","IndexName":"gsi","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"x"}},"Select":"COUNT"}`},
		{"Query", `{"TableName":"mak","IndexName":"abcd","KeyConditionExpression":"a = :a AND b = :b AND c = :c AND d > :d","ExpressionAttributeValues":{":a":{"S":"x"},":b":{"N":"1"},":c":{"S":"k"},":d":{"B":"AA=="}},"Limit":1,"ScanIndexForward":false,"ExclusiveStartKey":{"pk":{"S":"2"},"a":{"S":"x"},"b":{"N":"1"},"c":{"S":"k"},"d":{"B":"Ag=="}}}`},
		{"Query", `{"TableName":"mak","IndexName":"abcd","KeyConditions":{"a":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]},"b":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]},"c":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"k"}]}}}`},
		{"UpdateItem", `{"TableName":"mak","Key":{"pk":{"S":"3"}},"UpdateExpression":"SET d = :d, b = :b","ExpressionAttributeValues":{":d":{"B":"AA=="},":b":{"N":"2"}}}`},
		{"Scan", `{"TableName":"tbl","FilterExpression":"size(l) > :n","ExpressionAttributeValues":{":n":{"N":"1"}},"Segment":0,"TotalSegments":2,"ExclusiveStartKey":{"pk":{"S":"a"},"sk":{"N":"1"}}}`},
		{"BatchGetItem", `{"RequestItems":{"tbl":{"Keys":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"z"},"sk":{"N":"0"}}],"ConsistentRead":true}}}`},
		{"BatchWriteItem", `{"RequestItems":{"tbl":[{"PutRequest":{"Item":{"pk":{"S":"d"},"sk":{"N":"1"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"a"},"sk":{"N":"2"}}}}]}}`},
		{"TransactWriteItems", `{"TransactItems":[{"ConditionCheck":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ConditionExpression":"attribute_exists(pk)"}},{"Update":{"TableName":"tbl","Key":{"pk":{"S":"e"},"sk":{"N":"1"}},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{":v":{"BOOL":true}}}}],"ClientRequestToken":"tok"}`},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}}]}`},
		{"ExecuteStatement", `{"Statement":"SELECT * FROM tbl WHERE pk = ? AND sk > ?","Parameters":[{"S":"a"},{"N":"0"}]}`},
		{"BatchExecuteStatement", `{"Statements":[{"Statement":"UPDATE tbl SET v = 1 WHERE pk = 'a' AND sk = 1"},{"Statement":"DELETE FROM tbl WHERE pk = 'q' AND sk = 2"}]}`},
		{"ExecuteTransaction", `{"TransactStatements":[{"Statement":"INSERT INTO tbl VALUE {'pk':'f','sk':1}"}]}`},
		{"DescribeTable", `{"TableName":"tbl"}`},
		{"ListTables", `{"ExclusiveStartTableName":"a","Limit":1}`},
		{"TagResource", `{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/tbl","Tags":[{"Key":"k","Value":"v"}]}`},
		{"DescribeTimeToLive", `{"TableName":"tbl"}`},
		{"GetItem", `{"TableName":"tbl","Key":{"pk":{"S":1}}}`},
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1e999"}}}`},
		{"Query", `not json`},
		{"Scan", ``},
		{"PutItem", `{"TableName":"tbl","Item":` + strings.Repeat(`{"M":{"a":`, 40) + `{"S":"x"}` + strings.Repeat(`}}`, 40) + `}`},
	} {
		op := -1
		for i, o := range fuzzOps {
			if o == s.op {
				op = i
			}
		}
		if op < 0 {
			f.Fatalf("seed op %s not in fuzzOps", s.op)
		}
		f.Add(uint8(op), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		target := "DynamoDB_20120810." + fuzzOps[int(op)%len(fuzzOps)]
		start := time.Now()
		status, resp := a.post(target, body)
		checkResponse(t, target, body, status, resp, time.Since(start))
	})
}

// FuzzStreamsRequest posts fuzzed bodies to the DynamoDB Streams operations
// (ListStreams, DescribeStream, GetShardIterator, GetRecords), seeded with
// the real stream ARN, shard IDs and an iterator: the answer is a 200 or a
// 4xx DynamoDB error, never a 500 or a panic. A GetRecords that succeeds
// returns Records and a NextShardIterator that GetRecords accepts too.
func FuzzStreamsRequest(f *testing.F) {
	a := newFuzzAPI(f)
	call := func(op, body string) map[string]any {
		status, resp := a.post("DynamoDBStreams_20120810."+op, []byte(body))
		var out map[string]any
		if err := json.Unmarshal(resp, &out); status != 200 || err != nil {
			f.Fatalf("%s %s: %d %s", op, body, status, resp)
		}
		return out
	}
	arn := call("ListStreams", `{"TableName":"tbl"}`)["Streams"].([]any)[0].(map[string]any)["StreamArn"].(string)
	desc := call("DescribeStream", `{"StreamArn":"`+arn+`"}`)["StreamDescription"].(map[string]any)
	shard := desc["Shards"].([]any)[0].(map[string]any)
	shardID := shard["ShardId"].(string)
	start := shard["SequenceNumberRange"].(map[string]any)["StartingSequenceNumber"].(string)
	iter := call("GetShardIterator", `{"StreamArn":"`+arn+`","ShardId":"`+shardID+`","ShardIteratorType":"TRIM_HORIZON"}`)["ShardIterator"].(string)

	ops := []string{"ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"}
	for _, s := range []struct {
		op   int
		body string
	}{
		{0, `{}`}, {0, `{"TableName":"tbl","Limit":1}`}, {0, `{"ExclusiveStartStreamArn":"` + arn + `"}`}, {0, `{"Limit":0}`},
		{1, `{"StreamArn":"` + arn + `","Limit":1,"ExclusiveStartShardId":"` + shardID + `"}`},
		{1, `{"StreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/tbl/stream/x"}`},
		{2, `{"StreamArn":"` + arn + `","ShardId":"` + shardID + `","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":"` + start + `"}`},
		{2, `{"StreamArn":"` + arn + `","ShardId":"` + shardID + `","ShardIteratorType":"AFTER_SEQUENCE_NUMBER","SequenceNumber":"99999999999999999999999"}`},
		{2, `{"StreamArn":"` + arn + `","ShardId":"` + shardID + `","ShardIteratorType":"LATEST"}`},
		{3, `{"ShardIterator":"` + iter + `","Limit":2}`},
		{3, `{"ShardIterator":"` + iter[:len(iter)-2] + `"}`},
		{3, `{"ShardIterator":"` + arn + `|1|AAAA"}`},
		{3, `{"ShardIterator":1}`}, {3, `not json`},
	} {
		f.Add(uint8(s.op), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		target := "DynamoDBStreams_20120810." + ops[int(op)%len(ops)]
		begin := time.Now()
		status, resp := a.post(target, body)
		checkResponse(t, target, body, status, resp, time.Since(begin))
		if status != 200 || !strings.HasSuffix(target, "GetRecords") {
			return
		}
		var out struct {
			Records           []json.RawMessage
			NextShardIterator *string
		}
		if err := json.Unmarshal(resp, &out); err != nil || out.Records == nil {
			t.Fatalf("GetRecords %q: %s (%v)", body, resp, err)
		}
		if out.NextShardIterator != nil {
			next, _ := json.Marshal(map[string]string{"ShardIterator": *out.NextShardIterator})
			if status, resp := a.post(target, next); status != 200 {
				t.Fatalf("GetRecords %q: its NextShardIterator is refused: %d %s", body, status, resp)
			}
		}
	})
}
