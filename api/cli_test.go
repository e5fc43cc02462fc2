package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// runAWS runs one AWS CLI command against the server, bounded by a timeout,
// and returns stdout, stderr and the exit code.
func runAWS(t *testing.T, env []string, url string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append(append([]string{"dynamodb"}, args...), "--endpoint-url", url, "--output", "json")
	cmd := exec.CommandContext(ctx, "aws", args...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("aws %s: timed out", strings.Join(args, " "))
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), code
}

func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not on PATH; install awscli to run this test")
	}
	s := eddytest.Start(t, server.Options{})
	env := eddytest.AWSCLIEnv(t)
	ok := func(args ...string) map[string]any {
		t.Helper()
		out, errOut, code := runAWS(t, env, s.URL(), args...)
		if code != 0 {
			t.Fatalf("aws dynamodb %s: exit %d: %s", args[0], code, errOut)
		}
		var m map[string]any
		if strings.TrimSpace(out) == "" {
			return m
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws dynamodb %s: output is not JSON: %v\n%s", args[0], err, out)
		}
		return m
	}

	created := ok("create-table", "--table-name", "cli",
		"--attribute-definitions", "AttributeName=pk,AttributeType=S",
		"--key-schema", "AttributeName=pk,KeyType=HASH",
		"--billing-mode", "PAY_PER_REQUEST")
	if got := dig(created, "TableDescription", "TableName"); got != "cli" {
		t.Fatalf("create-table: TableName %v", got)
	}
	ok("put-item", "--table-name", "cli", "--item", `{"pk":{"S":"a"},"n":{"N":"1"},"tags":{"SS":["x","y"]}}`)
	upd := ok("update-item", "--table-name", "cli", "--key", `{"pk":{"S":"a"}}`,
		"--update-expression", "SET n = n + :one, #s = :s",
		"--expression-attribute-names", `{"#s":"status"}`,
		"--expression-attribute-values", `{":one":{"N":"2"},":s":{"S":"done"}}`,
		"--return-values", "ALL_NEW")
	if got := dig(upd, "Attributes", "n", "N"); got != "3" {
		t.Fatalf("update-item: n = %v, want 3 (%v)", got, upd)
	}
	got := ok("get-item", "--table-name", "cli", "--key", `{"pk":{"S":"a"}}`, "--consistent-read")
	if dig(got, "Item", "status", "S") != "done" || dig(got, "Item", "n", "N") != "3" {
		t.Fatalf("get-item: %v", got)
	}
	desc := ok("describe-table", "--table-name", "cli")
	if dig(desc, "Table", "TableStatus") != "ACTIVE" || dig(desc, "Table", "BillingModeSummary", "BillingMode") != "PAY_PER_REQUEST" {
		t.Fatalf("describe-table: %v", desc)
	}

	// A ValidationException: the CLI exits 254 (255 in old releases) and
	// prints DynamoDB's error code and message.
	_, errOut, code := runAWS(t, env, s.URL(), "get-item", "--table-name", "cli", "--key", `{"pk":{"N":"1"}}`)
	if code != 254 && code != 255 {
		t.Fatalf("get-item with a wrong key type: exit %d, want 254: %s", code, errOut)
	}
	want := "An error occurred (ValidationException) when calling the GetItem operation: The provided key element does not match the schema"
	if !strings.Contains(errOut, want) {
		t.Fatalf("get-item with a wrong key type: stderr %q, want %q", errOut, want)
	}
	_, errOut, code = runAWS(t, env, s.URL(), "describe-table", "--table-name", "nosuch")
	want = "An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: Requested resource not found: Table: nosuch not found"
	if code != 254 && code != 255 || !strings.Contains(errOut, want) {
		t.Fatalf("describe-table of a missing table: exit %d, stderr %q", code, errOut)
	}
}

func dig(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

const boto3Script = `
import json, os, sys
import boto3
from botocore.exceptions import ClientError

c = boto3.client("dynamodb", endpoint_url=os.environ["EDDY_URL"], region_name="us-east-1")
c.create_table(TableName="boto", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
               KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
c.put_item(TableName="boto", Item={"pk": {"S": "a"}, "n": {"N": "1"}, "b": {"B": b"\x00\x01"}})
u = c.update_item(TableName="boto", Key={"pk": {"S": "a"}}, UpdateExpression="ADD n :two",
                  ExpressionAttributeValues={":two": {"N": "2"}}, ReturnValues="UPDATED_NEW")
g = c.get_item(TableName="boto", Key={"pk": {"S": "a"}}, ConsistentRead=True)
d = c.describe_table(TableName="boto")
out = {"updated": u["Attributes"], "item": {k: {t: (x.hex() if isinstance(x, bytes) else x) for t, x in v.items()} for k, v in g["Item"].items()},
       "status": d["Table"]["TableStatus"]}
try:
    c.put_item(TableName="boto", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    out["conditional"] = None
except ClientError as e:
    out["conditional"] = [e.response["Error"]["Code"], e.response["Error"]["Message"],
                          e.response["ResponseMetadata"]["HTTPStatusCode"]]
try:
    c.get_item(TableName="boto", Key={"pk": {"N": "1"}})
    out["validation"] = None
except ClientError as e:
    out["validation"] = [e.response["Error"]["Code"], e.response["Error"]["Message"]]
json.dump(out, sys.stdout)
`

func TestBoto3(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH; boto3 test skipped")
	}
	env := eddytest.AWSCLIEnv(t)
	probe := exec.Command(py, "-c", "import boto3")
	probe.Env = env
	if err := probe.Run(); err != nil {
		t.Skip("python3 cannot import boto3 (pip install boto3 to run this test)")
	}
	s := eddytest.Start(t, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", boto3Script)
	cmd.Env = append(env, "EDDY_URL="+s.URL())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, stderr.String())
	}
	var out struct {
		Updated     map[string]map[string]string
		Item        map[string]map[string]string
		Status      string
		Conditional []any
		Validation  []string
	}
	if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil {
		t.Fatalf("boto3 output: %v\n%s", err, stdout.String())
	}
	if out.Updated["n"]["N"] != "3" || out.Item["n"]["N"] != "3" || out.Item["b"]["B"] != "0001" || out.Status != "ACTIVE" {
		t.Fatalf("boto3 results: %+v", out)
	}
	if len(out.Conditional) != 3 || out.Conditional[0] != "ConditionalCheckFailedException" ||
		out.Conditional[1] != "The conditional request failed" || out.Conditional[2] != float64(400) {
		t.Fatalf("boto3 conditional failure: %v", out.Conditional)
	}
	if len(out.Validation) != 2 || out.Validation[0] != "ValidationException" || out.Validation[1] != "The provided key element does not match the schema" {
		t.Fatalf("boto3 validation error: %v", out.Validation)
	}
}
