package dlq_test

// The on-failure record checked against AWS's recorded destination
// messages (localstack's snapshot tests, validated against AWS:
// tests/aws/services/lambda_/event_source_mapping/
// test_lambda_integration_dynamodbstreams.snapshot.json).

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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

// test_dynamodb_event_source_mapping, test_dynamodb_event_filter and
// test_dynamodb_report_batch_item_failures: the record a function receives
// (kept verbatim in the entry), member for member, with AWS's SizeBytes for
// the same items.
func TestAWSEventRecordShape(t *testing.T) {
	e := start(t, dlq.Options{})
	e.function("f", "esm", map[string]string{"FAIL_TIMES": "1000"})
	mk := func(table, key, view string) string {
		out, err := e.ddb.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(table),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(view)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TableDescription.LatestStreamArn)
	}
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	type put struct {
		item map[string]ddbtypes.AttributeValue
		name string
		size int
	}
	cases := []struct {
		table, key, view string
		puts             []put
	}{
		{"newimage", "my_partition_key", "NEW_IMAGE", []put{
			{map[string]ddbtypes.AttributeValue{"my_partition_key": s("hello world"), "binary_key": &ddbtypes.AttributeValueMemberB{Value: []byte("foobar")}}, "INSERT", 70},
			{map[string]ddbtypes.AttributeValue{"my_partition_key": s("testId0"), "should_fail": &ddbtypes.AttributeValueMemberBOOL{Value: false}}, "INSERT", 58},
		}},
		{"newold", "id", "NEW_AND_OLD_IMAGES", []put{
			{map[string]ddbtypes.AttributeValue{"id": s("id_value")}, "INSERT", 20},
			{map[string]ddbtypes.AttributeValue{"id": s("id_value"), "id2": s("id2_new_value")}, "MODIFY", 46},
			{map[string]ddbtypes.AttributeValue{"id": s("id_value_1"), "numericFilter": &ddbtypes.AttributeValueMemberN{Value: "42"}}, "INSERT", 39},
			{map[string]ddbtypes.AttributeValue{"id": s("id_value_2"), "prefix": s("us-1-other-suffix")}, "INSERT", 47},
		}},
	}
	for _, c := range cases {
		arn := mk(c.table, c.key, c.view)
		for _, p := range c.puts {
			if _, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(c.table), Item: p.item}); err != nil {
				t.Fatal(err)
			}
		}
		uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn),
			BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(0)})
		// Entries come in failure order (items hash to lanes): pair them
		// with the puts by sequence number (write order).
		es := e.entries(uuid, len(c.puts))
		sort.Slice(es, func(i, j int) bool { return es[i].Records[0].Seq < es[j].Records[0].Seq })
		for i, p := range c.puts {
			if len(es[i].Records) != 1 {
				t.Fatalf("%s entry %d: %d records", c.table, i, len(es[i].Records))
			}
			var r map[string]json.RawMessage
			if err := json.Unmarshal(es[i].Records[0].Event, &r); err != nil {
				t.Fatal(err)
			}
			if got, want := sortedKeys(r), []string{"awsRegion", "dynamodb", "eventID", "eventName", "eventSource", "eventSourceARN", "eventVersion"}; !slices.Equal(got, want) {
				t.Fatalf("%s: record members %v, AWS sends %v", c.table, got, want)
			}
			if string(r["eventVersion"]) != `"1.1"` || string(r["eventSource"]) != `"aws:dynamodb"` || string(r["eventName"]) != `"`+p.name+`"` ||
				string(r["eventSourceARN"]) != `"`+arn+`"` || string(r["awsRegion"]) != `"us-east-1"` {
				t.Errorf("%s %d: record %s", c.table, i, es[i].Records[0].Event)
			}
			d := sub(t, r["dynamodb"])
			want := []string{"ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber", "SizeBytes", "StreamViewType"}
			if p.name == "MODIFY" {
				want = []string{"ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"}
			}
			if got := sortedKeys(d); !slices.Equal(got, want) {
				t.Errorf("%s %d: dynamodb members %v, AWS sends %v", c.table, i, got, want)
			}
			if string(d["SizeBytes"]) != fmt.Sprint(p.size) || string(d["StreamViewType"]) != `"`+c.view+`"` {
				t.Errorf("%s %d: SizeBytes %s StreamViewType %s, AWS sends %d %s", c.table, i, d["SizeBytes"], d["StreamViewType"], p.size, c.view)
			}
			var ts float64
			if err := json.Unmarshal(d["ApproximateCreationDateTime"], &ts); err != nil || int(math.Log10(ts)) != 9 {
				t.Errorf("%s %d: ApproximateCreationDateTime %s is not epoch seconds", c.table, i, d["ApproximateCreationDateTime"])
			}
		}
	}
}
