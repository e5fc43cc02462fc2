package api_test

import (
	"encoding/json"
	"testing"
	"time"
)

// The control-plane operations FuzzControlPlane decodes: those
// FuzzDynamoDBRequest leaves out because they create, change or delete
// tables.
var fuzzControlOps = []string{"CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive", "DescribeTable"}

// FuzzControlPlane posts fuzzed bodies to the table operations: the answer
// is a 200 or a 4xx DynamoDB error, never a 500 or a panic, in bounded
// time; a table a fuzzed CreateTable made is then described and deleted
// (both must succeed), so tables do not accumulate.
func FuzzControlPlane(f *testing.F) {
	a := newFuzzAPI(f)
	for _, s := range []struct{ op, body string }{
		{"CreateTable", `{"TableName":"t2","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"h","AttributeType":"B"}],"KeySchema":[{"AttributeName":"h","KeyType":"HASH"}]}`},
		{"CreateTable", `{"TableName":"t3","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},"AttributeDefinitions":[{"AttributeName":"h","AttributeType":"S"},{"AttributeName":"r","AttributeType":"N"},{"AttributeName":"x","AttributeType":"S"}],"KeySchema":[{"AttributeName":"h","KeyType":"HASH"},{"AttributeName":"r","KeyType":"RANGE"}],"LocalSecondaryIndexes":[{"IndexName":"l","KeySchema":[{"AttributeName":"h","KeyType":"HASH"},{"AttributeName":"x","KeyType":"RANGE"}],"Projection":{"ProjectionType":"INCLUDE","NonKeyAttributes":["a"]}}],"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"},"Tags":[{"Key":"k","Value":"v"}]}`},
		{"UpdateTable", `{"TableName":"tbl","AttributeDefinitions":[{"AttributeName":"n","AttributeType":"N"}],"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"g2","KeySchema":[{"AttributeName":"n","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}}]}`},
		{"UpdateTable", `{"TableName":"tbl","StreamSpecification":{"StreamEnabled":false}}`},
		{"UpdateTable", `{"TableName":"tbl","BillingMode":"PROVISIONED","ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}`},
		{"UpdateTimeToLive", `{"TableName":"tbl","TimeToLiveSpecification":{"Enabled":true,"AttributeName":"exp"}}`},
		{"DeleteTable", `{"TableName":"nope"}`},
		{"DescribeTable", `{"TableName":"tbl"}`},
		{"CreateTable", `{"TableName":"x","AttributeDefinitions":[],"KeySchema":[]}`},
	} {
		op := -1
		for i, o := range fuzzControlOps {
			if o == s.op {
				op = i
			}
		}
		f.Add(uint8(op), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		name := fuzzControlOps[int(op)%len(fuzzControlOps)]
		target := "DynamoDB_20120810." + name
		start := time.Now()
		status, resp := a.post(target, body)
		checkResponse(t, target, body, status, resp, time.Since(start))
		if name != "CreateTable" || status != 200 {
			return
		}
		var out struct{ TableDescription struct{ TableName string } }
		if err := json.Unmarshal(resp, &out); err != nil || out.TableDescription.TableName == "" {
			t.Fatalf("CreateTable %q: 200 without a TableDescription.TableName: %s", body, resp)
		}
		req, _ := json.Marshal(map[string]string{"TableName": out.TableDescription.TableName})
		for _, follow := range []string{"DescribeTable", "DeleteTable"} {
			if st, r := a.post("DynamoDB_20120810."+follow, req); st != 200 {
				t.Fatalf("%s of the table CreateTable %q made: %d %s", follow, body, st, r)
			}
		}
	})
}
