package server_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/internal/eddytest"
)

// cliEnv is eddytest.AWSCLIEnv signing as c (no key: the CLI's own
// dummy one), one attempt per call, so each error is seen as answered.
func cliEnv(t *testing.T, c auth.Credential) []string {
	env := append(eddytest.AWSCLIEnv(t), "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard")
	if c.AccessKeyID != "" {
		env = append(env, "AWS_ACCESS_KEY_ID="+c.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey)
	}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	return env
}

// TestAuthAWSCLI: the AWS CLI v2 (/usr/bin/aws) against a server with
// credentials: the right key works on DynamoDB, Streams and Lambda; a
// wrong secret, an unknown key, an expired session token and an unsigned
// request get the services' errors. (The CLI's clock and body cannot be
// tampered with from outside: TestAuthBoto3 and TestAuthRaw do those.)
func TestAuthAWSCLI(t *testing.T) {
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("the AWS CLI v2 is not at %s (%v): install it to run this test", cli, err)
	}
	s := startAuth(t)
	run := func(c auth.Credential, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(cli, append(args, "--endpoint-url", s.URL(), "--output", "json")...)
		cmd.Env = cliEnv(t, c)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), code
	}
	wrong := keyAlice
	wrong.SecretAccessKey = "not-the-secret"
	unknown := auth.Credential{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}
	// Few cases: each CLI start costs seconds of CPU on a loaded machine.
	// TestAuthSDK and TestAuthBoto3 cover every case on every API.
	for _, c := range []struct {
		key       auth.Credential
		args      []string
		code, msg string // "" = success
	}{
		{keyAlice, []string{"dynamodb", "list-tables"}, "", ""},
		{wrong, []string{"dynamodb", "list-tables"}, "InvalidSignatureException", msgInvalidSig},
		{keyAlice, []string{"dynamodb", "list-tables", "--no-sign-request"}, "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{unknown, []string{"dynamodbstreams", "list-streams"}, "UnrecognizedClientException", msgUnrecognized},
		{keyExpired, []string{"lambda", "list-functions"}, "ExpiredTokenException", msgExpired},
	} {
		out, code := run(c.key, c.args...)
		switch {
		case c.code == "" && code != 0:
			t.Errorf("%s as %s: exit %d: %s", strings.Join(c.args, " "), c.key.AccessKeyID, code, out)
		case c.code != "" && (code == 0 || !strings.Contains(out, "An error occurred ("+c.code+")") || !strings.Contains(out, ": "+c.msg)):
			t.Errorf("%s as %s: exit %d: %s\nwant (%s): %s", strings.Join(c.args, " "), c.key.AccessKeyID, code, out, c.code, c.msg)
		}
	}
}

// boto3Script runs every case in one Python process and prints, per
// case, the error code, message and HTTP status ("" code: success).
const boto3Script = `
import datetime, json, sys
import boto3, botocore, botocore.auth
from botocore.config import Config

url, cases = sys.argv[1], json.loads(sys.argv[2])
cfg = Config(retries={"max_attempts": 1, "mode": "standard"})
real_now = botocore.auth.get_current_datetime
out = {}
for c in cases:
    kw = dict(endpoint_url=url, region_name="us-east-1", config=cfg,
              aws_access_key_id=c["key"], aws_secret_access_key=c["secret"], aws_session_token=c.get("token") or None)
    if c.get("unsigned"):
        kw["config"] = cfg.merge(Config(signature_version=botocore.UNSIGNED))
    client = boto3.client(c["service"], **kw)
    skew = c.get("skew_minutes", 0)
    botocore.auth.get_current_datetime = lambda: real_now() + datetime.timedelta(minutes=skew)
    if c.get("tamper"):
        def tamper(request, **_):
            request.body = request.body.replace(b'"Limit": 5', b'"Limit": 6').replace(b'"Limit":5', b'"Limit":6')
        client.meta.events.register("before-send", tamper)
    try:
        getattr(client, c["op"])(**c.get("args", {}))
        out[c["name"]] = {"code": "", "message": "", "status": 200}
    except botocore.exceptions.ClientError as e:
        out[c["name"]] = {"code": e.response["Error"]["Code"], "message": e.response["Error"].get("Message", ""),
                          "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
print(json.dumps(out))
`

// TestAuthBoto3: boto3 (python3 on PATH) against a server with
// credentials: right key accepted; wrong secret, unknown key, a clock 20
// minutes off, a body changed after signing, an unsigned request and an
// expired session token rejected with the services' errors, on DynamoDB,
// Streams and Lambda.
func TestAuthBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 is not importable by python3 (apt-get install python3-boto3): skipping the boto3 authentication test")
	}
	s := startAuth(t)
	type kase struct {
		Name        string         `json:"name"`
		Service     string         `json:"service"`
		Op          string         `json:"op"`
		Args        map[string]any `json:"args,omitempty"`
		Key         string         `json:"key"`
		Secret      string         `json:"secret"`
		Token       string         `json:"token,omitempty"`
		Unsigned    bool           `json:"unsigned,omitempty"`
		SkewMinutes int            `json:"skew_minutes,omitempty"`
		Tamper      bool           `json:"tamper,omitempty"`
		code, msg   string
		status      int
	}
	a, tmp, old := keyAlice, keyTemp, keyExpired
	limit := map[string]any{"Limit": 5}
	cases := []kase{
		{Name: "ddb right key", Service: "dynamodb", Op: "list_tables", Key: a.AccessKeyID, Secret: a.SecretAccessKey, status: 200},
		{Name: "ddb session token", Service: "dynamodb", Op: "list_tables", Key: tmp.AccessKeyID, Secret: tmp.SecretAccessKey, Token: tmp.SessionToken, status: 200},
		{Name: "ddb wrong secret", Service: "dynamodb", Op: "list_tables", Key: a.AccessKeyID, Secret: "nope", code: "InvalidSignatureException", msg: msgInvalidSig, status: 400},
		{Name: "ddb unknown key", Service: "dynamodb", Op: "list_tables", Key: "AKIDNOBODY", Secret: "x", code: "UnrecognizedClientException", msg: msgUnrecognized, status: 400},
		{Name: "ddb skewed clock", Service: "dynamodb", Op: "list_tables", Key: a.AccessKeyID, Secret: a.SecretAccessKey, SkewMinutes: -20, code: "InvalidSignatureException", msg: "Signature expired: ", status: 400},
		{Name: "ddb tampered body", Service: "dynamodb", Op: "list_tables", Args: limit, Key: a.AccessKeyID, Secret: a.SecretAccessKey, Tamper: true, code: "InvalidSignatureException", msg: msgInvalidSig, status: 400},
		{Name: "ddb unsigned", Service: "dynamodb", Op: "list_tables", Key: a.AccessKeyID, Secret: a.SecretAccessKey, Unsigned: true, code: "MissingAuthenticationTokenException", msg: "Request is missing Authentication Token", status: 400},
		{Name: "ddb expired token", Service: "dynamodb", Op: "list_tables", Key: old.AccessKeyID, Secret: old.SecretAccessKey, Token: old.SessionToken, code: "ExpiredTokenException", msg: msgExpired, status: 400},
		{Name: "streams right key", Service: "dynamodbstreams", Op: "list_streams", Key: a.AccessKeyID, Secret: a.SecretAccessKey, status: 200},
		{Name: "streams wrong secret", Service: "dynamodbstreams", Op: "list_streams", Key: a.AccessKeyID, Secret: "nope", code: "InvalidSignatureException", msg: msgInvalidSig, status: 400},
		{Name: "streams skewed clock", Service: "dynamodbstreams", Op: "list_streams", Key: a.AccessKeyID, Secret: a.SecretAccessKey, SkewMinutes: 20, code: "InvalidSignatureException", msg: "Signature not yet current: ", status: 400},
		{Name: "streams tampered body", Service: "dynamodbstreams", Op: "list_streams", Args: limit, Key: a.AccessKeyID, Secret: a.SecretAccessKey, Tamper: true, code: "InvalidSignatureException", msg: msgInvalidSig, status: 400},
		{Name: "streams unsigned", Service: "dynamodbstreams", Op: "list_streams", Key: a.AccessKeyID, Secret: a.SecretAccessKey, Unsigned: true, code: "MissingAuthenticationTokenException", status: 400},
		{Name: "lambda right key", Service: "lambda", Op: "list_functions", Key: a.AccessKeyID, Secret: a.SecretAccessKey, status: 200},
		{Name: "lambda unknown key", Service: "lambda", Op: "list_functions", Key: "AKIDNOBODY", Secret: "x", code: "UnrecognizedClientException", msg: msgUnrecognized, status: 403},
		{Name: "lambda skewed clock", Service: "lambda", Op: "list_functions", Key: a.AccessKeyID, Secret: a.SecretAccessKey, SkewMinutes: -20, code: "InvalidSignatureException", msg: "Signature expired: ", status: 403},
		{Name: "lambda unsigned", Service: "lambda", Op: "list_functions", Key: a.AccessKeyID, Secret: a.SecretAccessKey, Unsigned: true, code: "MissingAuthenticationTokenException", msg: "Missing Authentication Token", status: 403},
		{Name: "lambda expired token", Service: "lambda", Op: "list_functions", Key: old.AccessKeyID, Secret: old.SecretAccessKey, Token: old.SessionToken, code: "ExpiredTokenException", msg: msgExpired, status: 403},
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command("python3", "-c", boto3Script, s.URL(), string(in))
	cmd.Env = cliEnv(t, auth.Credential{})
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, stderr.String())
	}
	var got map[string]struct {
		Code, Message string
		Status        int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("boto3 output: %v\n%s\n%s", err, out, stderr.String())
	}
	for _, c := range cases {
		g, ok := got[c.Name]
		if !ok || g.Code != c.code || !strings.HasPrefix(g.Message, c.msg) || g.Status != c.status {
			t.Errorf("%s: got %+v, want %s %q %d", c.Name, g, c.code, c.msg, c.status)
		}
	}
}
