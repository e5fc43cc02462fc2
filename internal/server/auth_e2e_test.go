package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/logtest"
	"github.com/eddydb/eddy/internal/server"
)

// The keys of the authentication tests: a long-term key, temporary
// credentials with a session token, and temporary credentials that have
// expired.
var (
	keyAlice   = auth.Credential{AccessKeyID: "AKIDALICE", SecretAccessKey: "alice/secret+1", UserName: "alice"}
	keyTemp    = auth.Credential{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "token-of-temp", UserName: "temp"}
	keyExpired = auth.Credential{AccessKeyID: "ASIAOLD", SecretAccessKey: "old-secret", SessionToken: "token-of-old", UserName: "old",
		Expires: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
)

func startAuth(t *testing.T) *eddytest.Server {
	return eddytest.Start(t, server.Options{Credentials: []auth.Credential{keyAlice, keyTemp, keyExpired}})
}

// wantAPIError checks err is the service error code with a message
// starting msg and, when status is not 0, the HTTP status.
func wantAPIError(t *testing.T, what string, err error, status int, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
	if ae.ErrorCode() != code || !strings.HasPrefix(ae.ErrorMessage(), msg) {
		t.Fatalf("%s: got %s %q, want %s %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
	var re *smithyhttp.ResponseError
	if status != 0 && errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: status %d, want %d", what, re.HTTPStatusCode(), status)
	}
}

const (
	msgInvalidSig   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnrecognized = "The security token included in the request is invalid."
	msgExpired      = "The security token included in the request is expired"
)

// TestAuthSDK: with credentials configured, aws-sdk-go-v2 clients signing
// with a right key are served on DynamoDB, Streams and Lambda; a wrong
// secret, an unknown key, a missing or expired session token are refused
// with the services' errors (DynamoDB: 400 and the coral type; Lambda:
// 403), and a refused write writes nothing.
func TestAuthSDK(t *testing.T) {
	s := startAuth(t)
	ctx := context.Background()
	as := func(c auth.Credential) aws.Config {
		return s.ConfigAs(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	wrong := s.ConfigAs(keyAlice.AccessKeyID, "not-the-secret", "")
	unknown := s.ConfigAs("AKIDNOBODY", "whatever", "")
	noToken := s.ConfigAs(keyTemp.AccessKeyID, keyTemp.SecretAccessKey, "")
	expired := as(keyExpired)

	// DynamoDB.
	ddb := dynamodb.NewFromConfig(as(keyAlice))
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("tab"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage},
	}); err != nil {
		t.Fatalf("right key: CreateTable: %v", err)
	}
	if _, err := dynamodb.NewFromConfig(as(keyTemp)).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("session token: ListTables: %v", err)
	}
	put := &dynamodb.PutItemInput{TableName: aws.String("tab"), Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}}
	for _, c := range []struct {
		what      string
		cfg       aws.Config
		code, msg string
	}{
		{"wrong secret", wrong, "InvalidSignatureException", msgInvalidSig},
		{"unknown key", unknown, "UnrecognizedClientException", msgUnrecognized},
		{"session token missing", noToken, "UnrecognizedClientException", msgUnrecognized},
		{"expired session token", expired, "ExpiredTokenException", msgExpired},
	} {
		_, err := dynamodb.NewFromConfig(c.cfg).PutItem(ctx, put)
		wantAPIError(t, "DynamoDB "+c.what, err, 400, c.code, c.msg)
	}
	got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tab"), Key: put.Item, ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item != nil {
		t.Fatalf("refused PutItems wrote something: %v %v", got.Item, err)
	}

	// DynamoDB Streams.
	if _, err := dynamodbstreams.NewFromConfig(as(keyAlice)).ListStreams(ctx, &dynamodbstreams.ListStreamsInput{}); err != nil {
		t.Fatalf("right key: ListStreams: %v", err)
	}
	_, err = dynamodbstreams.NewFromConfig(wrong).ListStreams(ctx, &dynamodbstreams.ListStreamsInput{})
	wantAPIError(t, "Streams wrong secret", err, 400, "InvalidSignatureException", msgInvalidSig)
	_, err = dynamodbstreams.NewFromConfig(unknown).ListStreams(ctx, &dynamodbstreams.ListStreamsInput{})
	wantAPIError(t, "Streams unknown key", err, 400, "UnrecognizedClientException", msgUnrecognized)
	_, err = dynamodbstreams.NewFromConfig(expired).ListStreams(ctx, &dynamodbstreams.ListStreamsInput{})
	wantAPIError(t, "Streams expired token", err, 400, "ExpiredTokenException", msgExpired)

	// Lambda.
	if _, err := lambda.NewFromConfig(as(keyAlice)).ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Fatalf("right key: ListFunctions: %v", err)
	}
	_, err = lambda.NewFromConfig(wrong).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	wantAPIError(t, "Lambda wrong secret", err, 403, "InvalidSignatureException", msgInvalidSig)
	_, err = lambda.NewFromConfig(unknown).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f")})
	wantAPIError(t, "Lambda unknown key", err, 403, "UnrecognizedClientException", msgUnrecognized)
	_, err = lambda.NewFromConfig(expired).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	wantAPIError(t, "Lambda expired token", err, 403, "ExpiredTokenException", msgExpired)
}

// rawSigned sends a request signed by aws-sdk-go-v2's signer at time at,
// for body signed, carrying body sent (a tampered body when they differ).
func rawSigned(t *testing.T, s *eddytest.Server, method, path string, hdr map[string]string, signed, sent string, c auth.Credential, service string, at time.Time) (int, http.Header, map[string]string) {
	t.Helper()
	r, err := http.NewRequest(method, s.URL()+path, strings.NewReader(signed))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if c.AccessKeyID != "" {
		h := sha256.Sum256([]byte(signed))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
			r, hex.EncodeToString(h[:]), service, "us-east-1", at); err != nil {
			t.Fatal(err)
		}
	}
	r.Body = io.NopCloser(strings.NewReader(sent))
	r.ContentLength = int64(len(sent))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

// TestAuthRaw: the cases an SDK cannot be made to send: a skewed clock, a
// body changed after signing, no signature at all; on DynamoDB, Streams,
// Lambda, CloudWatch Logs and eddy's own routes; /healthz stays open.
func TestAuthRaw(t *testing.T) {
	s := startAuth(t)
	now := time.Now()
	ddb := func(op string) map[string]string {
		return map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op}
	}
	streamsHdr := map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDBStreams_20120810.ListStreams"}
	create := `{"TableName":"raw","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`
	tampered := strings.Replace(create, `"raw"`, `"evil"`, 1)

	for _, c := range []struct {
		what               string
		method, path       string
		hdr                map[string]string
		signed, sent       string
		key                auth.Credential
		service            string
		at                 time.Time
		status             int
		typ, msg, errorTyp string
	}{
		{"DynamoDB right key", "POST", "/", ddb("CreateTable"), create, create, keyAlice, "dynamodb", now, 200, "", "", ""},
		{"DynamoDB skewed clock", "POST", "/", ddb("ListTables"), "{}", "{}", keyAlice, "dynamodb", now.Add(-20 * time.Minute), 400,
			"com.amazon.coral.service#InvalidSignatureException", "Signature expired: " + now.Add(-20*time.Minute).UTC().Format("20060102T150405Z") + " is now earlier than ", ""},
		{"DynamoDB clock ahead", "POST", "/", ddb("ListTables"), "{}", "{}", keyAlice, "dynamodb", now.Add(20 * time.Minute), 400,
			"com.amazon.coral.service#InvalidSignatureException", "Signature not yet current: ", ""},
		{"DynamoDB tampered body", "POST", "/", ddb("CreateTable"), create, tampered, keyAlice, "dynamodb", now, 400,
			"com.amazon.coral.service#InvalidSignatureException", msgInvalidSig, ""},
		{"DynamoDB unsigned", "POST", "/", ddb("ListTables"), "{}", "{}", auth.Credential{}, "", now, 400,
			"com.amazon.coral.service#MissingAuthenticationTokenException", "Request is missing Authentication Token", ""},
		{"Streams skewed clock", "POST", "/", streamsHdr, "{}", "{}", keyAlice, "dynamodb", now.Add(-20 * time.Minute), 400,
			"com.amazon.coral.service#InvalidSignatureException", "Signature expired: ", ""},
		{"Streams unsigned", "POST", "/", streamsHdr, "{}", "{}", auth.Credential{}, "", now, 400,
			"com.amazon.coral.service#MissingAuthenticationTokenException", "Request is missing Authentication Token", ""},
		{"Lambda skewed clock", "GET", "/2015-03-31/functions/", nil, "", "", keyAlice, "lambda", now.Add(-20 * time.Minute), 403,
			"", "Signature expired: ", "InvalidSignatureException"},
		{"Lambda tampered body", "POST", "/2015-03-31/functions/f/invocations", nil, `{"a":1}`, `{"a":2}`, keyAlice, "lambda", now, 403,
			"", msgInvalidSig, "InvalidSignatureException"},
		{"Lambda unsigned", "GET", "/2015-03-31/functions/", nil, "", "", auth.Credential{}, "", now, 403,
			"", "Missing Authentication Token", "MissingAuthenticationTokenException"},
		{"CloudWatch Logs unknown key", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
			"{}", "{}", auth.Credential{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}, "logs", now, 400, "UnrecognizedClientException", msgUnrecognized, ""},
		{"CloudWatch Logs right key", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
			"{}", "{}", keyAlice, "logs", now, 200, "", "", ""},
		{"admin API unsigned", "GET", "/eddy/sinks", nil, "", "", auth.Credential{}, "", now, 403, "MissingAuthenticationTokenException", "Request is missing Authentication Token", ""},
		{"admin API signed", "GET", "/eddy/sinks", nil, "", "", keyAlice, "eddy", now, 200, "", "", ""},
		{"metrics unsigned", "GET", "/metrics", nil, "", "", auth.Credential{}, "", now, 403, "MissingAuthenticationTokenException", "", ""},
		{"healthz unsigned", "GET", "/healthz", nil, "", "", auth.Credential{}, "", now, 200, "", "", ""},
	} {
		status, hdr, body := rawSigned(t, s, c.method, c.path, c.hdr, c.signed, c.sent, c.key, c.service, c.at)
		if status != c.status {
			t.Errorf("%s: status %d (%v), want %d", c.what, status, body, c.status)
			continue
		}
		if c.typ != "" && body["__type"] != c.typ {
			t.Errorf("%s: __type %q, want %q", c.what, body["__type"], c.typ)
		}
		if c.msg != "" && !strings.HasPrefix(body["message"], c.msg) {
			t.Errorf("%s: message %q, want %q...", c.what, body["message"], c.msg)
		}
		if c.errorTyp != "" && hdr.Get("X-Amzn-Errortype") != c.errorTyp {
			t.Errorf("%s: X-Amzn-Errortype %q, want %q", c.what, hdr.Get("X-Amzn-Errortype"), c.errorTyp)
		}
	}
	// The tampered CreateTable created nothing.
	tables, err := s.DDB.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err != nil || len(tables.TableNames) != 1 || tables.TableNames[0] != "raw" {
		t.Fatalf("tables after a tampered CreateTable: %v %v", tables, err)
	}
	// Every refusal counted.
	_, _, _ = rawSigned(t, s, "GET", "/healthz", nil, "", "", auth.Credential{}, "", now)
	status, _, _ := rawSigned(t, s, "GET", "/metrics", nil, "", "", keyAlice, "eddy", now)
	if status != 200 {
		t.Fatalf("signed /metrics: %d", status)
	}
	r, _ := http.NewRequest("GET", s.URL()+"/metrics", nil)
	h := sha256.Sum256(nil)
	_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyAlice.AccessKeyID, SecretAccessKey: keyAlice.SecretAccessKey}, r, hex.EncodeToString(h[:]), "eddy", "us-east-1", time.Now())
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `eddy_auth_denied_total{code="InvalidSignatureException"} 6`) ||
		!strings.Contains(string(b), `eddy_auth_denied_total{code="MissingAuthenticationTokenException"} 5`) {
		t.Fatalf("denials not counted:\n%s", grepLines(string(b), "eddy_auth_denied"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAuthBeforeBody: a request with an unknown key is refused from its
// headers alone: its body, here one that never ends, is not read first.
func TestAuthBeforeBody(t *testing.T) {
	s := startAuth(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	r, _ := http.NewRequest("POST", s.URL()+"/", pr)
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	r.ContentLength = 10 << 20
	h := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}, r, hex.EncodeToString(h[:]), "dynamodb", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = pw.Write([]byte(`{"Limit":`)) }() // and nothing more
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := http.DefaultClient.Do(r.WithContext(ctx))
	if err != nil {
		t.Fatalf("no answer before the body ended: %v", err)
	}
	defer resp.Body.Close()
	var m map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != 400 || m["__type"] != "com.amazon.coral.service#UnrecognizedClientException" {
		t.Fatalf("got %d %v", resp.StatusCode, m)
	}
}

// TestUsersStore: on an open server, the first user added through
// /eddy/users turns verification on; its key works, survives a restart,
// rotates (the new key works, the old one still does until retired or
// pushed out by a third), and removing the user refuses its keys; the last
// keys cannot be removed.
func TestUsersStore(t *testing.T) {
	s := eddytest.Start(t, server.Options{DataDir: t.TempDir()})
	ctx := context.Background()
	type keyOut struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
		User      struct {
			UserName, Arn string
			AccessKeyIds  []string
		}
	}
	call := func(method, path, body string, c auth.Credential) (int, keyOut) {
		t.Helper()
		r, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if c.AccessKeyID != "" {
			h := sha256.Sum256([]byte(body))
			_ = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}, r, hex.EncodeToString(h[:]), "eddy", "us-east-1", time.Now())
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out keyOut
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	listTables := func(c auth.Credential) error {
		_, err := dynamodb.NewFromConfig(s.ConfigAs(c.AccessKeyID, c.SecretAccessKey, "")).ListTables(ctx, &dynamodb.ListTablesInput{})
		return err
	}
	status, bob := call("POST", "/eddy/users", `{"UserName":"bob"}`, auth.Credential{})
	if status != 200 || bob.User.Arn != "arn:aws:iam::000000000000:user/bob" || bob.AccessKey.SecretAccessKey == "" {
		t.Fatalf("add bob: %d %+v", status, bob)
	}
	k1 := auth.Credential{AccessKeyID: bob.AccessKey.AccessKeyId, SecretAccessKey: bob.AccessKey.SecretAccessKey}
	if err := listTables(auth.Credential{AccessKeyID: "AKIDEDDYTEST", SecretAccessKey: "secret"}); err == nil {
		t.Fatal("a made-up key accepted after the first user was added")
	}
	if err := listTables(k1); err != nil {
		t.Fatalf("bob's key: %v", err)
	}
	if status, _ := call("POST", "/eddy/users", `{"UserName":"bob"}`, k1); status != 409 {
		t.Fatalf("bob twice: %d", status)
	}
	s.Restart()
	if err := listTables(k1); err != nil {
		t.Fatalf("bob's key after a restart: %v", err)
	}
	status, rot := call("POST", "/eddy/users/bob/rotate", "", k1)
	k2 := auth.Credential{AccessKeyID: rot.AccessKey.AccessKeyId, SecretAccessKey: rot.AccessKey.SecretAccessKey}
	if status != 200 || len(rot.User.AccessKeyIds) != 2 || listTables(k2) != nil || listTables(k1) != nil {
		t.Fatalf("rotate: %d %+v", status, rot)
	}
	status, rot = call("POST", "/eddy/users/bob/rotate", "", k2) // a third key pushes k1 out
	k3 := auth.Credential{AccessKeyID: rot.AccessKey.AccessKeyId, SecretAccessKey: rot.AccessKey.SecretAccessKey}
	if status != 200 || listTables(k3) != nil {
		t.Fatalf("second rotate: %d %+v", status, rot)
	}
	wantAPIError(t, "bob's oldest key after two rotations", listTables(k1), 400, "UnrecognizedClientException", msgUnrecognized)
	if status, _ := call("POST", "/eddy/users/bob/rotate?retire="+k2.AccessKeyID, "", k3); status != 200 {
		t.Fatalf("retire: %d", status)
	}
	wantAPIError(t, "a retired key", listTables(k2), 400, "UnrecognizedClientException", msgUnrecognized)
	if status, _ := call("DELETE", "/eddy/users/bob", "", k3); status != 409 {
		t.Fatalf("removing the last keys: %d", status)
	}
	status, ann := call("POST", "/eddy/users", `{"UserName":"ann"}`, k3)
	if status != 200 {
		t.Fatalf("add ann: %d", status)
	}
	if status, _ := call("DELETE", "/eddy/users/bob", "", k3); status != 200 {
		t.Fatalf("remove bob: %d", status)
	}
	wantAPIError(t, "a removed user's key", listTables(k3), 400, "UnrecognizedClientException", msgUnrecognized)
	if err := listTables(auth.Credential{AccessKeyID: ann.AccessKey.AccessKeyId, SecretAccessKey: ann.AccessKey.SecretAccessKey}); err != nil {
		t.Fatalf("ann: %v", err)
	}
}

// TestVerifiedUserIsPolicyPrincipal: a verified key acts as its user's
// ARN, whose IAM policies authorize it (Options.Principal's default): a
// policy denying PutItem to alice stops her signed PutItem with
// AccessDeniedException naming her ARN, and lets the temporary user's.
func TestVerifiedUserIsPolicyPrincipal(t *testing.T) {
	var logs logtest.Buffer
	s := eddytest.Start(t, server.Options{Credentials: []auth.Credential{keyAlice, keyTemp, keyExpired},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(s.ConfigAs(keyAlice.AccessKeyID, keyAlice.SecretAccessKey, ""))
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("pol"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["dynamodb:PutItem","lambda:ListFunctions"],"Resource":"*"}]}`
	if err := s.Policies().Put("arn:aws:iam::000000000000:user/alice", "no-puts", []byte(deny)); err != nil {
		t.Fatal(err)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if err := s.Policies().Put("arn:aws:iam::000000000000:user/temp", "all", []byte(allow)); err != nil {
		t.Fatal(err)
	}
	put := &dynamodb.PutItemInput{TableName: aws.String("pol"), Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}}
	_, err := ddb.PutItem(ctx, put)
	wantAPIError(t, "alice's PutItem", err, 400, "AccessDeniedException", "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: dynamodb:PutItem")
	if _, err := dynamodb.NewFromConfig(s.ConfigAs(keyTemp.AccessKeyID, keyTemp.SecretAccessKey, keyTemp.SessionToken)).PutItem(ctx, put); err != nil {
		t.Fatalf("temp's PutItem: %v", err)
	}
	// A second denial: counted, not logged again within the minute.
	_, err = ddb.PutItem(ctx, put)
	wantAPIError(t, "alice's second PutItem", err, 400, "AccessDeniedException", "User: arn:aws:iam::000000000000:user/alice")
	_, err = lambda.NewFromConfig(s.ConfigAs(keyAlice.AccessKeyID, keyAlice.SecretAccessKey, "")).ListFunctions(ctx, &lambda.ListFunctionsInput{})
	wantAPIError(t, "alice's ListFunctions", err, 403, "AccessDeniedException", "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: lambda:ListFunctions")
	r, _ := http.NewRequest("GET", s.URL()+"/metrics", nil)
	h := sha256.Sum256(nil)
	_ = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: keyAlice.AccessKeyID, SecretAccessKey: keyAlice.SecretAccessKey}, r, hex.EncodeToString(h[:]), "eddy", "us-east-1", time.Now())
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if body := string(b); !strings.Contains(body, `eddy_access_denied_total{action="dynamodb:PutItem"} 2`) ||
		!strings.Contains(body, `eddy_access_denied_total{action="lambda:ListFunctions"} 1`) {
		t.Fatalf("authorization denials not counted (%d):\n%s", resp.StatusCode, grepLines(body, "eddy_access_denied"))
	}
	if n := strings.Count(logs.String(), "request denied: not authorized"); n != 1 ||
		!strings.Contains(logs.String(), "principal=arn:aws:iam::000000000000:user/alice action=dynamodb:PutItem") {
		t.Fatalf("%d denial log lines, want 1 naming alice:\n%s", n, grepLines(logs.String(), "denied"))
	}
	// An admin action is logged with the principal that made it.
	status, _, _ := rawSigned(t, s, "DELETE", "/eddy/relays/nope", nil, "", "", keyAlice, "eddy", time.Now())
	if !strings.Contains(logs.String(), `msg="admin action" subsystem=auth principal=arn:aws:iam::000000000000:user/alice method=DELETE path=/eddy/relays/nope status=`+strconv.Itoa(status)) {
		t.Fatalf("admin action not logged:\n%s", grepLines(logs.String(), "admin"))
	}
}
