package api_test

import (
	"hash/crc32"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

var requestIDRE = regexp.MustCompile(`^[0-9A-Z]{52}$`)

// checkDynamoHeaders asserts the headers DynamoDB sends on every JSON
// response (dynalite's test/connection.js recorded them): a 52-character
// request ID, the CRC-32 of the body the SDKs verify, the JSON 1.0 content
// type and an exact Content-Length.
func checkDynamoHeaders(t *testing.T, h http.Header, body []byte) {
	t.Helper()
	if id := h.Get("X-Amzn-Requestid"); !requestIDRE.MatchString(id) {
		t.Errorf("x-amzn-RequestId %q is not 52 characters of [0-9A-Z]", id)
	}
	if got, want := h.Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10); got != want {
		t.Errorf("x-amz-crc32 %q, want %q (CRC-32 of %q)", got, want, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := h.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q for a %d-byte body", cl, len(body))
	}
}

func TestProtocolHeaders(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	client := &http.Client{Timeout: 10 * time.Second}
	ids := map[string]bool{}
	for _, tc := range []struct {
		target, body string
		status       int
		bodyWant     string
	}{
		{"DynamoDB_20120810.CreateTable", `{"TableName":"hdr","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`, 200, ""},
		{"DynamoDB_20120810.PutItem", `{"TableName":"hdr","Item":{"a":{"S":"x"}}}`, 200, `{}`},
		{"DynamoDB_20120810.ListTables", `{}`, 200, `{"TableNames":["hdr"]}`},
		{"DynamoDB_20120810.GetItem", `{"TableName":"nosuch","Key":{"a":{"S":"x"}}}`, 400,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`},
		// dynalite's connection.js: the bare __type, CRC 1368724161.
		{"DynamoDB_20120810.ListTable", `{}`, 400, `{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{"DynamoDB_20120810.ListTables", `hi`, 400, `{"__type":"com.amazon.coral.service#SerializationException"}`},
	} {
		status, h, body := rawCall(t, s.URL(), client, "POST", "/", tc.target, "application/x-amz-json-1.0", tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.target, status, tc.status, body)
		}
		if tc.bodyWant != "" && string(body) != tc.bodyWant {
			t.Errorf("%s: body %s, want %s", tc.target, body, tc.bodyWant)
		}
		checkDynamoHeaders(t, h, body)
		id := h.Get("X-Amzn-Requestid")
		if ids[id] {
			t.Errorf("request ID %s repeated", id)
		}
		ids[id] = true
	}
	// The CRC of the bare UnknownOperationException body is the one
	// DynamoDB sends (dynalite's connection.js: 1368724161).
	_, h, _ := rawCall(t, s.URL(), client, "POST", "/", "whatever", "application/x-amz-json-1.0", `{}`)
	if got := h.Get("X-Amz-Crc32"); got != "1368724161" {
		t.Errorf("UnknownOperationException x-amz-crc32 %s, want DynamoDB's 1368724161", got)
	}
}

func TestHealthAndOtherMethods(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	// DynamoDB answers GET / with a plain health text ("healthy: dynamodb...").
	if code, body := get("/"); code != 200 || !strings.HasPrefix(body, "healthy: ") {
		t.Errorf("GET /: %d %q", code, body)
	}
	// Other methods are not operations. DynamoDB answers them 404 with a
	// bare XML body (dynalite's connection.js recorded it: 29 bytes, CRC
	// 3552371480, a 52-character request ID).
	for _, m := range []string{"PUT", "DELETE", "OPTIONS", "PATCH"} {
		status, h, body := rawCall(t, s.URL(), client, m, "/", "DynamoDB_20120810.ListTables", "application/x-amz-json-1.0", `{}`)
		if status != 404 || string(body) != "<UnknownOperationException/>\n" || h.Get("X-Amz-Crc32") != "3552371480" ||
			h.Get("Content-Length") != "29" || len(h.Get("X-Amzn-Requestid")) != 52 {
			t.Errorf("%s /: %d %q %v", m, status, body, h)
		}
	}
	// A POST to another path still speaks the protocol: the path is not part
	// of DynamoDB's JSON 1.0 routing.
	status, h, body := rawCall(t, s.URL(), client, "POST", "/some/path", "DynamoDB_20120810.ListTables", "application/x-amz-json-1.0", `{}`)
	if status != 200 || string(body) != `{"TableNames":[]}` {
		t.Errorf("POST /some/path: %d %s", status, body)
	}
	checkDynamoHeaders(t, h, body)
}
