package lambdaapi_test

// Values AWS Lambda answered, as localstack's validated snapshot tests
// recorded them (tests/aws/services/lambda_/test_lambda_api.snapshot.json:
// test_function_lifecycle, test_publish_version_on_create,
// test_version_lifecycle, test_publish_with_wrong_sha256,
// test_alias_lifecycle, test_notfound_and_invalid_routingconfigs,
// test_function_revisions_basic, test_ops_with_arn_qualifier_mismatch,
// test_ops_on_nonexisting_version, test_delete_on_nonexisting_version).
// Only the account, region and names differ.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
)

type rawResp struct {
	status int
	errTyp string
	body   map[string]any
	raw    string
}

func (e *env) raw(t *testing.T, method, path string, in any) rawResp {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/2015-03-31/functions"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := rawResp{status: resp.StatusCode, errTyp: resp.Header.Get("X-Amzn-Errortype"), raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

// wantErr checks an error answer: status, error type, Type "User" and the
// message.
func wantErr(t *testing.T, what string, r rawResp, status int, typ, msg string) {
	t.Helper()
	if r.status != status || r.errTyp != typ || r.body["Type"] != "User" || r.body["message"] != msg {
		t.Errorf("%s: got %d %s %s\nAWS: %d %s %q", what, r.status, r.errTyp, r.raw, status, typ, msg)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAWSLambdaAPISnapshot(t *testing.T) {
	e := newEnv(t)
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:"
	v1 := wasmModule(true, []byte{0x41, 0x00})
	v2 := wasmModule(true, []byte{0x41, 0x01})
	zip := func(code []byte) string { return base64.StdEncoding.EncodeToString(code) }

	create := e.raw(t, "POST", "", map[string]any{
		"FunctionName": "snap", "Role": "arn:aws:iam::000000000000:role/r", "Code": map[string]any{"ZipFile": zip(v1)},
	})
	if create.status != 201 {
		t.Fatalf("create: %d %s", create.status, create.raw)
	}

	if a := e.raw(t, "POST", "/snap/aliases", map[string]any{"Name": "live", "FunctionVersion": "$LATEST"}); a.status != 201 {
		t.Fatalf("CreateAlias: %d %s", a.status, a.raw)
	}

	t.Run("errors", func(t *testing.T) {
		const nf = "ResourceNotFoundException"
		const ip = "InvalidParameterValueException"
		// alias_does_not_exist_esc (test_notfound_and_invalid_routingconfigs).
		wantErr(t, "GetAlias missing", e.raw(t, "GET", "/snap/aliases/non-existent", nil),
			404, nf, "Cannot find alias arn: "+arn+"snap:non-existent")
		// get_function_alias_notfound_exc (test_alias_lifecycle).
		wantErr(t, "GetFunction missing alias", e.raw(t, "GET", "/snap?Qualifier=aliasdoesnotexist", nil),
			404, nf, "Function not found: "+arn+"snap:aliasdoesnotexist")
		// version_not_found_exception (test_ops_on_nonexisting_version).
		wantErr(t, "GetFunction missing version", e.raw(t, "GET", "/snap?Qualifier=1221", nil),
			404, nf, "Function not found: "+arn+"snap:1221")
		wantErr(t, "GetFunctionConfiguration missing version", e.raw(t, "GET", "/snap/configuration?Qualifier=1221", nil),
			404, nf, "Function not found: "+arn+"snap:1221")
		// test_delete_on_nonexisting_version: the unqualified ARN even with
		// a qualifier.
		wantErr(t, "DeleteFunction missing function", e.raw(t, "DELETE", "/nope", nil),
			404, nf, "Function not found: "+arn+"nope")
		wantErr(t, "DeleteFunction missing function with qualifier", e.raw(t, "DELETE", "/nope?Qualifier=1", nil),
			404, nf, "Function not found: "+arn+"nope")
		// test_ops_with_arn_qualifier_mismatch.
		wantErr(t, "qualifier mismatch", e.raw(t, "GET", "/snap:1?Qualifier=2", nil),
			400, ip, "The derived qualifier from the function name does not match the specified qualifier.")
		wantErr(t, "delete $LATEST", e.raw(t, "DELETE", "/snap?Qualifier="+url.QueryEscape("$LATEST"), nil),
			400, ip, "$LATEST version cannot be deleted without deleting the function.")
		// routing_config_exc_already_exist, target_version_doesnotexist.
		wantErr(t, "CreateAlias duplicate", e.raw(t, "POST", "/snap/aliases", map[string]any{"Name": "live", "FunctionVersion": "1"}),
			409, "ResourceConflictException", "Alias already exists: "+arn+"snap:live")
		wantErr(t, "CreateAlias missing version", e.raw(t, "POST", "/snap/aliases", map[string]any{"Name": "ten", "FunctionVersion": "10"}),
			404, nf, "Function not found: "+arn+"snap:10")
		// publish_wrong_sha256_exc (test_publish_with_wrong_sha256).
		sha := create.body["CodeSha256"].(string)
		wantErr(t, "PublishVersion wrong CodeSha256", e.raw(t, "POST", "/snap/versions", map[string]any{"CodeSha256": "somenonexistentsha256"}),
			400, ip, "CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST ("+sha+"). Please try again with the CodeSHA256 in $LATEST.")
		// publish_wrong_revisionid_exc, update_function_revision_exception,
		// update_function_configuration_revision_exception.
		const stale = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
		wantErr(t, "PublishVersion stale RevisionId", e.raw(t, "POST", "/snap/versions", map[string]any{"RevisionId": "wrong"}),
			412, "PreconditionFailedException", stale)
		wantErr(t, "UpdateFunctionCode stale RevisionId", e.raw(t, "PUT", "/snap/code", map[string]any{"ZipFile": zip(v2), "RevisionId": "wrong"}),
			412, "PreconditionFailedException", stale)
		wantErr(t, "UpdateFunctionConfiguration stale RevisionId", e.raw(t, "PUT", "/snap/configuration", map[string]any{"Description": "x", "RevisionId": "wrong"}),
			412, "PreconditionFailedException", stale)
	})

}
