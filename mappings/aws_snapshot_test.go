package mappings_test

// Event source mapping behaviour checked against AWS's recorded answers
// (localstack's snapshot tests, validated against AWS:
// tests/aws/services/lambda_/event_source_mapping/
// test_lambda_integration_dynamodbstreams.snapshot.json and
// test_api.snapshot.json).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// esmHTTP sends a raw Lambda ESM request and decodes the JSON answer.
func (e *env) esmHTTP(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL()+"/2015-03-31/event-source-mappings/"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return resp.StatusCode, out
}

func keys(m map[string]any) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// The members AWS answers for a DynamoDB stream mapping without
// FilterCriteria (create_event_source_mapping_result of
// test_disabled_dynamodb_event_source_mapping).
var awsMappingKeys = []string{
	"BatchSize", "BisectBatchOnFunctionError", "DestinationConfig", "EventSourceArn", "EventSourceMappingArn",
	"FunctionArn", "FunctionResponseTypes", "LastModified", "LastProcessingResult", "MaximumBatchingWindowInSeconds",
	"MaximumRecordAgeInSeconds", "MaximumRetryAttempts", "ParallelizationFactor", "StartingPosition", "State",
	"StateTransitionReason", "TumblingWindowInSeconds", "UUID",
}

func checkAWSMapping(t *testing.T, what string, m map[string]any, state string) {
	t.Helper()
	if got := keys(m); !slices.Equal(got, awsMappingKeys) {
		t.Errorf("%s: members %v, AWS answers %v", what, got, awsMappingKeys)
	}
	want := map[string]any{
		"BatchSize": 100.0, "BisectBatchOnFunctionError": false, "FunctionResponseTypes": []any{},
		"MaximumBatchingWindowInSeconds": 1.0, "MaximumRecordAgeInSeconds": -1.0, "MaximumRetryAttempts": -1.0,
		"ParallelizationFactor": 1.0, "StartingPosition": "TRIM_HORIZON", "State": state,
		"StateTransitionReason": "User action", "TumblingWindowInSeconds": 0.0,
		"DestinationConfig": map[string]any{"OnFailure": map[string]any{}},
	}
	for k, v := range want {
		g, _ := json.Marshal(m[k])
		w, _ := json.Marshal(v)
		if !bytes.Equal(g, w) {
			t.Errorf("%s: %s = %s, AWS answers %s", what, k, g, w)
		}
	}
	uuid, _ := m["UUID"].(string)
	arn, _ := m["EventSourceMappingArn"].(string)
	if !strings.HasPrefix(arn, "arn:aws:lambda:") || !strings.HasSuffix(arn, ":event-source-mapping:"+uuid) {
		t.Errorf("%s: EventSourceMappingArn %q, want arn:aws:lambda:<region>:<account>:event-source-mapping:%s", what, arn, uuid)
	}
}

// test_disabled_dynamodb_event_source_mapping and
// test_deletion_event_source_mapping_with_dynamodb: the members and
// defaults of Create, Update (Enabled false), Get and List.
func TestAWSMappingShape(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	code, c := e.esmHTTP("POST", "", map[string]any{
		"FunctionName": "f", "EventSourceArn": arn, "StartingPosition": "TRIM_HORIZON", "MaximumBatchingWindowInSeconds": 1,
	})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, c)
	}
	checkAWSMapping(t, "create", c, "Creating")
	uuid := c["UUID"].(string)
	e.waitFor("Enabled", 5*time.Second, func() bool {
		_, g := e.esmHTTP("GET", uuid, nil)
		return g["State"] == "Enabled"
	})
	_, g := e.esmHTTP("GET", uuid, nil)
	checkAWSMapping(t, "get", g, "Enabled")
	_, l := e.esmHTTP("GET", "?EventSourceArn="+arn, nil)
	ms, _ := l["EventSourceMappings"].([]any)
	if len(ms) != 1 {
		t.Fatalf("list: %v", l)
	}
	checkAWSMapping(t, "list", ms[0].(map[string]any), "Enabled")
	code, u := e.esmHTTP("PUT", uuid, map[string]any{"Enabled": false})
	if code != http.StatusAccepted {
		t.Fatalf("update: %d %v", code, u)
	}
	checkAWSMapping(t, "update", u, "Disabling")
}

// A mapping with an OnFailure destination echoes it (test_dynamodb_event_
// source_mapping_with_on_failure_destination_config), and a mapping's
// EventSourceMappingArn survives a restart.
func TestAWSMappingDestinationEcho(t *testing.T) {
	e := start(t, t.TempDir())
	arn := e.table("src")
	e.function("f", nil)
	dest := "arn:aws:sqs:us-east-1:000000000000:failures"
	out, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String("f"), EventSourceArn: aws.String(arn), StartingPosition: ltypes.EventSourcePositionTrimHorizon,
		BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(1),
		DestinationConfig: &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String(dest)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := out.DestinationConfig; d == nil || d.OnFailure == nil || aws.ToString(d.OnFailure.Destination) != dest {
		t.Fatalf("DestinationConfig %+v", out.DestinationConfig)
	}
	if aws.ToString(out.EventSourceMappingArn) == "" {
		t.Fatal("no EventSourceMappingArn")
	}
	e.restart()
	got, err := e.lam.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: out.UUID})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.EventSourceMappingArn) != aws.ToString(out.EventSourceMappingArn) {
		t.Fatalf("after restart EventSourceMappingArn %q, was %q", aws.ToString(got.EventSourceMappingArn), aws.ToString(out.EventSourceMappingArn))
	}
}

func apiErr(t *testing.T, err error) (code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

// test_create_starting_position_validation_exceptions[dynamodb], and the
// duplicate and invalid-filter errors of the DynamoDB streams tests.
func TestAWSMappingValidationErrors(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	now := time.Now().Truncate(time.Second)
	neg := time.Unix(-now.Unix(), 0)
	cases := []struct {
		name      string
		in        lambda.CreateEventSourceMappingInput
		code, msg string
	}{
		{"invalid starting position", lambda.CreateEventSourceMappingInput{StartingPosition: "0"},
			"ValidationException", "1 validation error detected: Value '0' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"},
		{"timestamp with LATEST", lambda.CreateEventSourceMappingInput{StartingPosition: ltypes.EventSourcePositionLatest, StartingPositionTimestamp: &now},
			"InvalidParameterValueException", "Timestamp only valid with StartingPosition AT_TIMESTAMP"},
		{"AT_TIMESTAMP", lambda.CreateEventSourceMappingInput{StartingPosition: ltypes.EventSourcePositionAtTimestamp, StartingPositionTimestamp: &neg},
			"InvalidParameterValueException", "Unsupported starting position for arn type: " + arn},
		{"single-string filter", lambda.CreateEventSourceMappingInput{StartingPosition: ltypes.EventSourcePositionTrimHorizon,
			FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String("single-string")}}}},
			"InvalidParameterValueException", "Invalid filter pattern definition."},
		{"malformed filter", lambda.CreateEventSourceMappingInput{StartingPosition: ltypes.EventSourcePositionTrimHorizon,
			FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(`[{"eventName": ["INSERT"=123}]`)}}}},
			"InvalidParameterValueException", "Invalid filter pattern definition."},
	}
	for _, c := range cases {
		in := c.in
		in.FunctionName, in.EventSourceArn = aws.String("f"), aws.String(arn)
		_, err := e.lam.CreateEventSourceMapping(e.ctx, &in)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if code, msg := apiErr(t, err); code != c.code || msg != c.msg {
			t.Errorf("%s: %s %q\nAWS answers %s %q", c.name, code, msg, c.code, c.msg)
		}
	}
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn)})
	_, err := e.lam.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: aws.String(arn), StartingPosition: ltypes.EventSourcePositionTrimHorizon})
	want := `The event source arn (" ` + arn + ` ") and function (" f ") provided mapping already exists. Please update or delete the existing mapping with UUID ` + uuid
	if code, msg := apiErr(t, err); code != "ResourceConflictException" || msg != want {
		t.Errorf("duplicate: %s %q\nAWS answers ResourceConflictException %q", code, msg, want)
	}
}

// test_dynamodb_event_filter[numeric_filter]: DynamoDB numbers are strings
// in the record ({"N":"101"}), and a numeric matcher never matches a
// string: AWS delivered 42 (anything-but "101") but not 101.
func TestAWSFilterNumericOnDynamoDBNumber(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(1),
		FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{
			{Pattern: aws.String(`{"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",100]},{"anything-but":"101"}]}}}}`)},
		}}})
	for _, n := range []string{"42", "101", "7"} {
		e.put("src", "k"+n, "n"+n, map[string]ddbtypes.AttributeValue{"n": &ddbtypes.AttributeValueMemberN{Value: n}})
	}
	e.caughtUp(uuid, 10*time.Second)
	e.waitFor("n7", 5*time.Second, func() bool { return slices.Contains(e.sink.vs(), "n7") })
	if got := e.sink.vs(); !slices.Equal(got, []string{"n42", "n7"}) {
		t.Fatalf("delivered %v, AWS delivers [n42 n7]", got)
	}
}

// test_dynamodb_event_filter[date_time_conversion] and [exists_false_filter]:
// ApproximateCreationDateTime is a number a numeric matcher takes; exists
// false matches a record whose attribute is present (its value is an
// object, not a leaf), so AWS delivered both records in each case.
func TestAWSFilterDateTimeAndExistsFalse(t *testing.T) {
	e := start(t, "")
	for i, p := range []string{
		`{"dynamodb":{"ApproximateCreationDateTime":[{"numeric":[">",0]}]}}`,
		`{"dynamodb":{"NewImage":{"presentKey":[{"exists":false}]}}}`,
	} {
		tbl, fn := fmt.Sprintf("src%d", i), fmt.Sprintf("f%d", i)
		arn := e.table(tbl)
		e.function(fn, nil)
		uuid := e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(1),
			FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(p)}}}})
		e.put(tbl, "id1", tbl+"-a", nil)
		e.put(tbl, "id2", tbl+"-b", map[string]ddbtypes.AttributeValue{"presentKey": &ddbtypes.AttributeValueMemberS{Value: "presentValue"}})
		e.caughtUp(uuid, 10*time.Second)
		e.waitFor(tbl+"-b", 5*time.Second, func() bool { return slices.Contains(e.sink.vs(), tbl+"-b") })
		if !slices.Contains(e.sink.vs(), tbl+"-a") {
			t.Fatalf("pattern %s: delivered %v, AWS delivers both records", p, e.sink.vs())
		}
	}
}

// test_dynamodb_report_batch_item_failure_scenarios and
// test_dynamodb_report_batch_item_success_scenarios: with
// ReportBatchItemFailures, a batchItemFailures entry whose itemIdentifier
// is a number, empty, null or missing fails the whole batch (AWS invoked 4
// times with MaximumRetryAttempts 3, then sent the failure record);
// [], null, {}, {"batchItemFailures":[]} and {"batchItemFailures":null}
// are successes (one invocation).
func TestAWSPartialBatchResponseScenarios(t *testing.T) {
	e := start(t, "")
	cases := []struct {
		resp string
		fail bool
	}{
		{`{"batchItemFailures":[{"itemIdentifier":123}]}`, true},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, true},
		{`{"batchItemFailures":[{"itemIdentifier":null}]}`, true},
		{`{"batchItemFailures":[{"foo":123}]}`, true},
		{`{"batchItemFailures":[{"foo":null}]}`, true},
		{`[]`, false},
		{`null`, false},
		{`{}`, false},
		{`{"batchItemFailures":[]}`, false},
		{`{"batchItemFailures":null}`, false},
	}
	uuids := make([]string, len(cases))
	for i, c := range cases {
		tbl, fn := fmt.Sprintf("src%d", i), fmt.Sprintf("f%d", i)
		arn := e.table(tbl)
		e.functionFrom(fn, "respond", map[string]string{"RESPONSE": c.resp})
		uuids[i] = e.mapping(&lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(arn),
			BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(3),
			FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures}})
		e.put(tbl, "hello world", tbl, nil)
	}
	count := func(v string) int {
		n := 0
		for _, x := range e.sink.vs() {
			if x == v {
				n++
			}
		}
		return n
	}
	for i, c := range cases {
		v := fmt.Sprintf("src%d", i)
		e.caughtUp(uuids[i], 10*time.Second)
		fr, err := e.srv.Mappings().Failures(uuids[i])
		if err != nil {
			t.Fatal(err)
		}
		want, wantFailures := 1, 0
		if c.fail {
			want, wantFailures = 4, 1
		}
		e.waitFor(v+" invocations", 5*time.Second, func() bool { return count(v) >= want })
		if got := count(v); got != want || len(fr) != wantFailures {
			t.Errorf("response %s: %d invocations, %d failure records; AWS: %d, %d", c.resp, got, len(fr), want, wantFailures)
		}
	}
}

// test_dynamodb_invalid_event_filter and test_esm_with_not_existing_
// dynamodb_stream: AWS's error body carries the modeled members "Type" and
// "message" (lowercase: botocore recorded them under those names).
func TestAWSMappingErrorBody(t *testing.T) {
	e := start(t, "")
	arn := e.table("src")
	e.function("f", nil)
	missing := strings.Replace(arn, "table/src/", "table/nope/", 1)
	for _, c := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"FunctionName": "f", "EventSourceArn": arn, "StartingPosition": "TRIM_HORIZON",
			"FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": "single-string"}}}}, "Invalid filter pattern definition."},
		{map[string]any{"FunctionName": "f", "EventSourceArn": missing, "StartingPosition": "TRIM_HORIZON"}, "Stream not found: " + missing},
	} {
		b, _ := json.Marshal(c.body)
		resp, err := http.Post(e.srv.URL()+"/2015-03-31/event-source-mappings/", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want, _ := json.Marshal(map[string]string{"Type": "User", "message": c.msg})
		var g, w map[string]any
		_ = json.Unmarshal(got, &g)
		_ = json.Unmarshal(want, &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidParameterValueException" || !bytes.Equal(gb, wb) {
			t.Errorf("%d %s %s\nAWS answers 400 InvalidParameterValueException %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), got, want)
		}
	}
}
