package dlq_test

// The on-failure record checked against AWS's recorded destination
// messages (localstack's snapshot tests, validated against AWS:
// tests/aws/services/lambda_/event_source_mapping/
// test_lambda_integration_dynamodbstreams.snapshot.json).

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/dlq"
)

func sortedKeys(m map[string]json.RawMessage) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// recordMessage is the JSON an SQS or SNS destination receives for en
// (the senders marshal the Record).
func recordMessage(t *testing.T, en *dlq.Entry) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(&en.Record)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sub(t *testing.T, raw json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// test_dynamodb_report_batch_item_failures: a record the function keeps
// reporting in batchItemFailures is sent alone once MaximumRetryAttempts
// (3) are used, with approximateInvokeCount 4, statusCode 200 and
// "functionError": null (the function itself did not fail).
func TestAWSPartialFailureRecord(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"PARTIAL_ON": "bad"})
	e.put("src", "k", "bad")
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(3), MaximumRetryAttempts: aws.Int32(3),
		FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures}})
	en := e.entries(uuid, 1)[0]
	m := recordMessage(t, en)
	if got, want := sortedKeys(m), []string{"DDBStreamBatchInfo", "requestContext", "responseContext", "timestamp", "version"}; !slices.Equal(got, want) {
		t.Fatalf("members %v, AWS sends %v", got, want)
	}
	rc := sub(t, m["responseContext"])
	if got, want := sortedKeys(rc), []string{"executedVersion", "functionError", "statusCode"}; !slices.Equal(got, want) {
		t.Fatalf("responseContext members %v, AWS sends %v", got, want)
	}
	if string(rc["functionError"]) != "null" || string(rc["statusCode"]) != "200" || string(rc["executedVersion"]) != `"$LATEST"` {
		t.Errorf("responseContext %s, AWS sends {\"statusCode\":200,\"executedVersion\":\"$LATEST\",\"functionError\":null}", m["responseContext"])
	}
	req := sub(t, m["requestContext"])
	if string(req["approximateInvokeCount"]) != "4" || string(req["condition"]) != `"RetryAttemptsExhausted"` {
		t.Errorf("requestContext %s, AWS sends approximateInvokeCount 4, condition RetryAttemptsExhausted", m["requestContext"])
	}
	bi := sub(t, m["DDBStreamBatchInfo"])
	if got, want := sortedKeys(bi), []string{"approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord", "batchSize",
		"endSequenceNumber", "shardId", "startSequenceNumber", "streamArn"}; !slices.Equal(got, want) {
		t.Fatalf("DDBStreamBatchInfo members %v, AWS sends %v", got, want)
	}
	if string(bi["batchSize"]) != "1" || string(bi["startSequenceNumber"]) != string(bi["endSequenceNumber"]) {
		t.Errorf("DDBStreamBatchInfo %s", m["DDBStreamBatchInfo"])
	}
	if string(m["version"]) != `"1.0"` {
		t.Errorf("version %s", m["version"])
	}
}

// test_dynamodb_event_source_mapping_with_on_failure_destination_config:
// a function error keeps "functionError": "Unhandled".
func TestAWSUnhandledFailureRecord(t *testing.T) {
	e := start(t, dlq.Options{})
	arn := e.table("src")
	e.function("f", "esm", map[string]string{"FAIL_ON": "bad"})
	e.put("src", "k", "bad")
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(1)})
	m := recordMessage(t, e.entries(uuid, 1)[0])
	rc := sub(t, m["responseContext"])
	req := sub(t, m["requestContext"])
	if string(rc["functionError"]) != `"Unhandled"` || string(rc["statusCode"]) != "200" || string(req["approximateInvokeCount"]) != "2" {
		t.Errorf("requestContext %s responseContext %s, AWS sends approximateInvokeCount 2 and functionError \"Unhandled\"", m["requestContext"], m["responseContext"])
	}
}
