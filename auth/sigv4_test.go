package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	alice = Credential{AccessKeyID: "AKIDALICE", SecretAccessKey: "alice-secret", UserName: "alice", ARN: UserARN("000000000000", "alice")}
	temp  = Credential{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "tok-123", UserName: "temp",
		ARN: UserARN("000000000000", "temp"), Expires: time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC)}
	testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
)

func testVerifier(t testing.TB) *Verifier {
	keys, err := NewKeys([]Credential{alice, temp})
	if err != nil {
		t.Fatal(err)
	}
	return NewVerifier(keys, Options{Now: func() time.Time { return testNow }})
}

// signed builds a request signed by aws-sdk-go-v2's signer, as the SDKs
// send it: the body's hash in the signature, not in a header.
func signed(t testing.TB, method, target, body string, c aws.Credentials, service string, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	r.Header.Set("User-Agent", "test")
	h := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), c, r, hex.EncodeToString(h[:]), service, "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return r
}

func creds(c Credential) aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

func wantCode(t *testing.T, err error, code, msgPrefix string) {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.Code != code || !strings.HasPrefix(ae.Message, msgPrefix) {
		t.Fatalf("err = %s %q, want %s %q...", ae.Code, ae.Message, code, msgPrefix)
	}
}

func TestVerifyHeader(t *testing.T) {
	v := testVerifier(t)
	const body = `{"Limit":3}`
	check := func(r *http.Request, b string) (Identity, error) { return v.Verify(r, []byte(b)) }

	r := signed(t, "POST", "http://127.0.0.1:8000/", body, creds(alice), "dynamodb", testNow)
	id, err := check(r, body)
	if err != nil {
		t.Fatalf("right key: %v", err)
	}
	if id != (Identity{AccessKeyID: "AKIDALICE", UserName: "alice", ARN: "arn:aws:iam::000000000000:user/alice"}) {
		t.Fatalf("identity = %+v", id)
	}

	// A Lambda path with characters the canonical URI encodes twice.
	r = signed(t, "GET", "http://127.0.0.1:8000/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/configuration?Qualifier=%24LATEST&b=a%20b", "", creds(alice), "lambda", testNow)
	if _, err := check(r, ""); err != nil {
		t.Fatalf("lambda path and query: %v", err)
	}

	wrong := creds(alice)
	wrong.SecretAccessKey = "not-it"
	_, err = check(signed(t, "POST", "http://h/", body, wrong, "dynamodb", testNow), body)
	wantCode(t, err, InvalidSignature, msgInvalidSignature)

	unknown := aws.Credentials{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}
	_, err = check(signed(t, "POST", "http://h/", body, unknown, "dynamodb", testNow), body)
	wantCode(t, err, UnrecognizedClient, msgUnrecognizedClient)

	_, err = check(signed(t, "POST", "http://h/", body, creds(alice), "dynamodb", testNow.Add(-16*time.Minute)), body)
	wantCode(t, err, InvalidSignature, "Signature expired: 20260601T114400Z is now earlier than 20260601T114500Z (20260601T120000Z - 15 min.)")
	_, err = check(signed(t, "POST", "http://h/", body, creds(alice), "dynamodb", testNow.Add(16*time.Minute)), body)
	wantCode(t, err, InvalidSignature, "Signature not yet current: 20260601T121600Z is still later than 20260601T121500Z (20260601T120000Z + 15 min.)")
	if _, err := check(signed(t, "POST", "http://h/", body, creds(alice), "dynamodb", testNow.Add(-14*time.Minute)), body); err != nil {
		t.Fatalf("14 minutes of skew: %v", err)
	}

	_, err = check(signed(t, "POST", "http://h/", body, creds(alice), "dynamodb", testNow), `{"Limit":4}`)
	wantCode(t, err, InvalidSignature, msgInvalidSignature)

	r = signed(t, "POST", "http://h/", body, creds(alice), "dynamodb", testNow)
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteTable") // a signed header changed
	_, err = check(r, body)
	wantCode(t, err, InvalidSignature, msgInvalidSignature)

	_, err = check(httptest.NewRequest("POST", "http://h/", nil), "")
	wantCode(t, err, MissingAuthenticationToken, msgMissingToken)

	// Session tokens: right, missing, wrong, expired.
	if _, err := check(signed(t, "POST", "http://h/", body, creds(temp), "dynamodb", testNow), body); err != nil {
		t.Fatalf("session token: %v", err)
	}
	noTok := creds(temp)
	noTok.SessionToken = ""
	_, err = check(signed(t, "POST", "http://h/", body, noTok, "dynamodb", testNow), body)
	wantCode(t, err, UnrecognizedClient, msgUnrecognizedClient)
	badTok := creds(temp)
	badTok.SessionToken = "tok-124"
	_, err = check(signed(t, "POST", "http://h/", body, badTok, "dynamodb", testNow), body)
	wantCode(t, err, UnrecognizedClient, msgUnrecognizedClient)
	later := testVerifier(t)
	later.now = func() time.Time { return temp.Expires }
	_, err = later.Verify(signed(t, "POST", "http://h/", body, creds(temp), "dynamodb", temp.Expires), []byte(body))
	wantCode(t, err, ExpiredToken, msgExpiredToken)
}

func TestVerifyPayloadHeader(t *testing.T) {
	v := testVerifier(t)
	const body = `{"TableName":"t"}`
	// X-Amz-Content-Sha256 names the hash (as S3-style clients send it).
	r := httptest.NewRequest("POST", "http://h/", strings.NewReader(body))
	h := sha256.Sum256([]byte(body))
	r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(h[:]))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds(alice), r, hex.EncodeToString(h[:]), "dynamodb", "us-east-1", testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(r, []byte(body)); err != nil {
		t.Fatalf("hash header: %v", err)
	}
	_, err := v.Verify(r, []byte(`{"TableName":"u"}`))
	wantCode(t, err, InvalidSignature, msgInvalidSignature)

	// UNSIGNED-PAYLOAD: the body is not part of the signature.
	r = httptest.NewRequest("POST", "http://h/", strings.NewReader(body))
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds(alice), r, UnsignedPayload, "dynamodb", "us-east-1", testNow); err != nil {
		t.Fatal(err)
	}
	if NeedsBody(r) {
		t.Fatal("NeedsBody of an unsigned payload")
	}
	if _, err := v.Verify(r, nil); err != nil {
		t.Fatalf("unsigned payload: %v", err)
	}

	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	_, err = v.Verify(r, nil)
	wantCode(t, err, InvalidSignature, "eddy does not accept streaming")
}

func TestVerifyPresigned(t *testing.T) {
	v := testVerifier(t)
	presign := func(c aws.Credentials, target string, at time.Time) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), c, r, hashHex(nil), "lambda", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return httptest.NewRequest("GET", u, nil)
	}
	base := "http://127.0.0.1:8000/2015-03-31/functions?MaxItems=5&X-Amz-Expires=300"
	if _, err := v.Verify(presign(creds(alice), base, testNow), nil); err != nil {
		t.Fatalf("presigned: %v", err)
	}
	if _, err := v.Verify(presign(creds(temp), base, testNow), nil); err != nil {
		t.Fatalf("presigned with a session token: %v", err)
	}
	r := presign(creds(alice), base, testNow)
	r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "MaxItems=5", "MaxItems=6", 1)
	_, err := v.Verify(r, nil)
	wantCode(t, err, InvalidSignature, msgInvalidSignature)
	_, err = v.Verify(presign(creds(alice), base, testNow.Add(-6*time.Minute)), nil)
	wantCode(t, err, InvalidSignature, "Signature expired")
	_, err = v.Verify(presign(aws.Credentials{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}, base, testNow), nil)
	wantCode(t, err, UnrecognizedClient, msgUnrecognizedClient)
}

func TestParseAuthorizationErrors(t *testing.T) {
	for h, want := range map[string]string{
		"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00":                                               "Authorization header requires 'Credential' parameter. Authorization=",
		"AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00":                             "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c'",
		"AWS4-HMAC-SHA256 Credential=a/20260101//dynamodb/aws4_request, SignedHeaders=host, Signature=00": "Credential should be scoped to a valid region. ",
		"Basic dXNlcjpwYXNz": "Unsupported AWS 'algorithm': 'Basic'",
	} {
		_, err := parseAuthorization(h)
		if err == nil || err.Code != IncompleteSignature || !strings.HasPrefix(err.Message, want) {
			t.Errorf("%q: got %v, want %q", h, err, want)
		}
	}
}

func TestParseCredentials(t *testing.T) {
	const file = `
# eddy's users
[default]
aws_access_key_id = AKIDALICE
aws_secret_access_key = s1
region = us-east-1

[profile ci]
aws_access_key_id=ASIACI
aws_secret_access_key=s2
aws_session_token=tok
eddy_user = ci-bot
eddy_expiration = 2026-12-31T00:00:00Z
`
	got, err := ParseCredentials(strings.NewReader(file), "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	want := []Credential{
		{AccessKeyID: "AKIDALICE", SecretAccessKey: "s1", UserName: "default", ARN: "arn:aws:iam::123456789012:user/default"},
		{AccessKeyID: "ASIACI", SecretAccessKey: "s2", SessionToken: "tok", UserName: "ci-bot", ARN: "arn:aws:iam::123456789012:user/ci-bot",
			Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"aws_access_key_id = x", "[a]\naws_access_key_id = x", "[a]\naws_access_key_id=x\naws_secret_access_key=y\neddy_expiration=tomorrow", "[a]\nregion=x"} {
		if _, err := ParseCredentials(strings.NewReader(bad), "1"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// BenchmarkVerify is the server's CPU per verified request: a signed
// PutItem-sized request with the signing key cached.
func BenchmarkVerify(b *testing.B) {
	v := testVerifier(b)
	body := []byte(`{"TableName":"bench","Item":{"pk":{"S":"user#12345"},"sk":{"S":"2026-06-01T12:00:00Z"},"n":{"N":"42"},"payload":{"S":"` + strings.Repeat("x", 200) + `"}}}`)
	r := signed(b, "POST", "http://127.0.0.1:8000/", string(body), creds(alice), "dynamodb", testNow)
	r.Header.Set("Content-Length", strconv.Itoa(len(body))) // as the server sees it
	if _, err := v.Verify(r, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=,Signature=")
	f.Add("AWS4-HMAC-SHA256 ")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		p, err := parseAuthorization(h)
		if err != nil {
			if err.Code != IncompleteSignature || err.Message == "" {
				t.Fatalf("%q: error %v", h, err)
			}
			return
		}
		if p.region == "" || p.service == "" || len(p.date) != 8 || len(p.signedHeaders) == 0 {
			t.Fatalf("%q: accepted %+v", h, p)
		}
		// Whatever parsed must also verify without panicking.
		r := httptest.NewRequest("POST", "http://h/", bytes.NewReader(nil))
		r.Header.Set("Authorization", h)
		_, _ = testVerifier(t).Verify(r, nil)
	})
}
