package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/datadriven"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected responses in testdata/errors/ from the running server")

// TestErrors drives eddy with raw HTTP requests from testdata/errors/*.txt
// and compares each answer with what DynamoDB sends for the same input. The
// expectations come from DynamoDB's recorded behaviour (dynalite's test
// suite, the AWS documentation), never from eddy's output; -rewrite
// regenerates them from the server so a reviewer can diff the two.
//
// A file is a sequence of cases in the style of pebble's datadriven tests:
//
//	# comments; "# known-diff: why" directly above a case skips it
//	<command> [args...]
//	<input lines>
//	----
//	<expected output lines>
//	<blank line>
//
// Commands:
//
//	setup       each input line is "<Operation> <JSON body>"; every request
//	            must succeed; output "ok"
//	request <Operation> [target=<X-Amz-Target>|target=none] [ctype=<type>]
//	            [method=<verb>] [path=<path>]
//	            the input is the raw request body, sent as is (a JSON body
//	            may span lines); {{x*N}} expands to x repeated N times
//
// The output of a request is "<status> <__type>" and the message on the next
// line; a success is "200" and the response body as canonical JSON (keys
// sorted). "N validation errors detected: a; b" messages are compared as a
// set of constraint violations, since DynamoDB's order is not stable.
//
// Each file runs against its own in-memory server.
func TestErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runErrorsFile(t, f)
		})
	}
}

func knownDiff(c *datadriven.Case) string {
	for _, l := range c.Preamble {
		if r, ok := strings.CutPrefix(l, "# known-diff:"); ok {
			return strings.TrimSpace(r)
		}
	}
	return ""
}

func runErrorsFile(t *testing.T, path string) {
	f, err := datadriven.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := f.Cases
	s := eddytest.Start(t, server.Options{})
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range cases {
		c := &cases[i]
		if why := knownDiff(c); why != "" {
			t.Logf("%s:%d: skipped, known difference from DynamoDB: %s", path, c.Line, why)
			continue
		}
		got := runErrCase(t, s.URL(), client, c)
		if strings.HasPrefix(got, "500") {
			t.Errorf("%s:%d: internal server error: %s", path, c.Line, got)
		}
		if *rewrite {
			if !sameOutput(got, c.Expected) { // keep the recorded order of equal violation sets
				c.Expected = got
			}
		} else if !sameOutput(got, c.Expected) {
			t.Errorf("%s:%d: %s %s\n%s\ngot:\n%s\nwant:\n%s", path, c.Line, c.Cmd, strings.Join(c.Args, " "), abbreviate(c.Input), got, c.Expected)
		}
	}
	if !*rewrite {
		return
	}
	if err := f.Write(); err != nil {
		t.Fatal(err)
	}
}

func abbreviate(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

var multiErr = regexp.MustCompile(`^(400 \S+\nmessage: )(\d+) validation errors detected: (.*)$`)

// sameOutput compares outputs, treating the violations of a multi-error
// ValidationException as a set.
func sameOutput(got, want string) bool {
	if got == want {
		return true
	}
	g, w := multiErr.FindStringSubmatch(got), multiErr.FindStringSubmatch(want)
	if g == nil || w == nil || g[1] != w[1] || g[2] != w[2] {
		return false
	}
	gs, ws := strings.Split(g[3], "; "), strings.Split(w[3], "; ")
	sort.Strings(gs)
	sort.Strings(ws)
	return strings.Join(gs, "; ") == strings.Join(ws, "; ")
}

var repeatRE = regexp.MustCompile(`\{\{([^*}]+)\*(\d+)\}\}`)

func expandBody(s string) string {
	return repeatRE.ReplaceAllStringFunc(s, func(m string) string {
		p := repeatRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(p[2])
		return strings.Repeat(p[1], n)
	})
}

// sigV4 is a syntactically complete Authorization header; eddy does not
// verify signatures, but DynamoDB requires the header, so every raw request
// carries one as an SDK's would.
const sigV4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000"

func rawCall(t *testing.T, url string, client *http.Client, method, path, target, ctype, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-Amz-Date", "20240101T000000Z")
	req.Header.Set("Authorization", sigV4)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", method, path, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func runErrCase(t *testing.T, url string, client *http.Client, c *datadriven.Case) string {
	switch c.Cmd {
	case "setup":
		for _, l := range strings.Split(c.Input, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			op, body, _ := strings.Cut(l, " ")
			status, _, b := rawCall(t, url, client, "POST", "/", "DynamoDB_20120810."+op, "application/x-amz-json-1.0", expandBody(body))
			if status != 200 {
				t.Fatalf("line %d: setup %s: %d %s", c.Line, op, status, b)
			}
		}
		return "ok"
	case "request":
		method, path, ctype := "POST", "/", "application/x-amz-json-1.0"
		target := ""
		for _, a := range c.Args {
			k, v, ok := strings.Cut(a, "=")
			switch {
			case !ok:
				target = "DynamoDB_20120810." + a
			case k == "target":
				target = v
				if v == "none" {
					target = ""
				}
			case k == "ctype":
				ctype = v
			case k == "method":
				method = v
			case k == "path":
				path = v
			default:
				t.Fatalf("line %d: unknown argument %q", c.Line, a)
			}
		}
		status, _, b := rawCall(t, url, client, method, path, target, ctype, expandBody(c.Input))
		return renderResponse(status, b)
	}
	t.Fatalf("line %d: unknown command %q", c.Line, c.Cmd)
	return ""
}

// renderResponse prints an error as "<status> <__type>\n<message>" (plus any
// other members as canonical JSON) and a success as "200\n<body>".
func renderResponse(status int, b []byte) string {
	if len(b) == 0 { // an operation without an output shape
		return strconv.Itoa(status)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Sprintf("%d\n%s", status, bytes.TrimSpace(b))
	}
	if status == 200 {
		out, _ := json.Marshal(m) // encoding/json sorts map keys
		return "200\n" + string(out)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d %v", status, m["__type"])
	delete(m, "__type")
	for _, k := range []string{"message", "Message"} {
		if msg, ok := m[k]; ok {
			fmt.Fprintf(&sb, "\n%s: %v", k, msg)
			delete(m, k)
		}
	}
	if len(m) > 0 {
		out, _ := json.Marshal(m)
		fmt.Fprintf(&sb, "\n%s", out)
	}
	return sb.String()
}

// TestErrorsThroughSDK shows aws-sdk-go-v2 surfacing eddy's errors as the
// typed errors it surfaces for DynamoDB's.
func TestErrorsThroughSDK(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "sdkerrs", false)

	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nosuch"), Key: item{"pk": S("a")}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Requested resource not found" {
		t.Fatalf("GetItem on a missing table: %v", err)
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("nosuch")})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Requested resource not found: Table: nosuch not found" {
		t.Fatalf("DescribeTable on a missing table: %v", err)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("sdkerrs"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) || inUse.ErrorMessage() != "Table already exists: sdkerrs" {
		t.Fatalf("CreateTable of an existing table: %v", err)
	}

	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("sdkerrs"), Item: item{"pk": S("k"), "v": N("1")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("sdkerrs"), Item: item{"pk": S("k"), "v": N("2")},
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || ccf.ErrorMessage() != "The conditional request failed" {
		t.Fatalf("PutItem with a false condition: %v", err)
	}
	assertItem(t, ccf.Item, item{"pk": S("k"), "v": N("1")})
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("sdkerrs"), Key: item{"pk": S("k")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, got.Item, item{"pk": S("k"), "v": N("1")}) // the failed write left the item unchanged

	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("sdkerrs"), Key: item{"pk": N("1")}})
	apiErr(t, err, "ValidationException", "The provided key element does not match the schema")
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("sdkerrs"), Key: item{"pk": S("k")},
		UpdateExpression: aws.String("SET pk = :v"), ExpressionAttributeValues: item{":v": S("x")},
	})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key")
}

// TestRequestLimits checks the protocol's guards: a body over DynamoDB's
// 16 MB request limit is refused without being buffered whole, and bodies
// that are deep or odd do not crash or hang the server.
func TestRequestLimits(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	client := &http.Client{Timeout: 10 * time.Second}
	big := `{"TableName":"abc","Item":{"a":{"S":"` + strings.Repeat("a", 16<<20) + `"}}}`
	status, _, b := rawCall(t, s.URL(), client, "POST", "/", "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0", big)
	if status != 413 && status != 400 {
		t.Fatalf("16 MB body: %d %s", status, b)
	}
	deep := strings.Repeat(`{"M":{"a":`, 5000) + `{"S":"x"}` + strings.Repeat(`}}`, 5000)
	for _, body := range []string{
		`{"TableName":"abc","Item":{"a":` + deep + `}}`,
		`{"TableName":"abc","Item":{"a":{"L":[` + strings.Repeat(`{"L":[`, 3000) + strings.Repeat(`]}`, 3000) + `]}}}`,
		strings.Repeat("[", 100000),
		"\x00\xff\xfe",
	} {
		status, _, b := rawCall(t, s.URL(), client, "POST", "/", "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0", body)
		if status != 400 {
			t.Errorf("odd body %q...: %d %s", abbreviate(body)[:40], status, b)
		}
	}
}
