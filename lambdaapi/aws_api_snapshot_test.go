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
	if r.status != status || r.errTyp != typ || r.body["Type"] != "User" || r.body[messageKey(typ)] != msg {
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

	t.Run("configuration defaults", func(t *testing.T) {
		// CreateFunctionResponse, get_function_response (test_function_lifecycle).
		want := map[string]string{
			"FunctionArn":      `"` + arn + `snap"`,
			"Version":          `"$LATEST"`,
			"Description":      `""`,
			"PackageType":      `"Zip"`,
			"EphemeralStorage": `{"Size":512}`,
			"SnapStart":        `{"ApplyOn":"None","OptimizationStatus":"Off"}`,
			"TracingConfig":    `{"Mode":"PassThrough"}`,
			"LoggingConfig":    `{"LogFormat":"Text","LogGroup":"/aws/lambda/snap"}`,
		}
		for k, v := range want {
			if got := jsonOf(create.body[k]); got != v {
				t.Errorf("CreateFunction %s = %s, AWS %s", k, got, v)
			}
		}
		get := e.raw(t, "GET", "/snap", nil)
		cfg, _ := get.body["Configuration"].(map[string]any)
		want["State"], want["LastUpdateStatus"] = `"Active"`, `"Successful"`
		for k, v := range want {
			if got := jsonOf(cfg[k]); got != v {
				t.Errorf("GetFunction %s = %s, AWS %s", k, got, v)
			}
		}
		// A function without tags: GetFunction has no Tags member.
		if _, ok := get.body["Tags"]; ok {
			t.Errorf("GetFunction carries Tags %v; AWS leaves it out for an untagged function", get.body["Tags"])
		}
		gc := e.raw(t, "GET", "/snap/configuration", nil)
		if gc.body["FunctionArn"] != arn+"snap" {
			t.Errorf("GetFunctionConfiguration FunctionArn %v, AWS %s", gc.body["FunctionArn"], arn+"snap")
		}
	})

	t.Run("qualified reads", func(t *testing.T) {
		// get_function_latest_result (test_publish_version_on_create).
		get := e.raw(t, "GET", "/snap?Qualifier="+url.QueryEscape("$LATEST"), nil)
		cfg, _ := get.body["Configuration"].(map[string]any)
		if cfg["FunctionArn"] != arn+"snap:$LATEST" || cfg["Version"] != "$LATEST" {
			t.Errorf("GetFunction Qualifier=$LATEST: %v %v, AWS %s $LATEST", cfg["FunctionArn"], cfg["Version"], arn+"snap:$LATEST")
		}
		// first_publish_response (test_version_lifecycle).
		pub := e.raw(t, "POST", "/snap/versions", map[string]any{"Description": "First version description :)"})
		if pub.status != 201 || pub.body["FunctionArn"] != arn+"snap:1" || pub.body["Version"] != "1" ||
			pub.body["State"] != "Active" || pub.body["LastUpdateStatus"] != "Successful" ||
			pub.body["Description"] != "First version description :)" {
			t.Errorf("PublishVersion: %d %s", pub.status, pub.raw)
		}
		// get_function_alias_1_1 (test_alias_lifecycle): through an alias
		// FunctionArn is the alias ARN, Version the target.
		if a := e.raw(t, "POST", "/snap/aliases", map[string]any{"Name": "live", "FunctionVersion": "1"}); a.status != 201 {
			t.Fatalf("CreateAlias: %d %s", a.status, a.raw)
		}
		get = e.raw(t, "GET", "/snap?Qualifier=live", nil)
		cfg, _ = get.body["Configuration"].(map[string]any)
		if cfg["FunctionArn"] != arn+"snap:live" || cfg["Version"] != "1" {
			t.Errorf("GetFunction Qualifier=live: %v %v, AWS %s 1", cfg["FunctionArn"], cfg["Version"], arn+"snap:live")
		}
		gc := e.raw(t, "GET", "/snap:live/configuration", nil)
		if gc.body["FunctionArn"] != arn+"snap:live" || gc.body["Version"] != "1" {
			t.Errorf("GetFunctionConfiguration snap:live: %v %v", gc.body["FunctionArn"], gc.body["Version"])
		}
	})

	t.Run("lists", func(t *testing.T) {
		// list_versions_result (test_publish_version_on_create): $LATEST
		// qualified, no State or LastUpdateStatus.
		lv := e.raw(t, "GET", "/snap/versions", nil)
		vs, _ := lv.body["Versions"].([]any)
		if len(vs) != 2 {
			t.Fatalf("ListVersionsByFunction: %s", lv.raw)
		}
		for i, wantArn := range []string{arn + "snap:$LATEST", arn + "snap:1"} {
			v := vs[i].(map[string]any)
			if v["FunctionArn"] != wantArn {
				t.Errorf("ListVersionsByFunction[%d].FunctionArn %v, AWS %s", i, v["FunctionArn"], wantArn)
			}
			for _, k := range []string{"State", "LastUpdateStatus"} {
				if _, ok := v[k]; ok {
					t.Errorf("ListVersionsByFunction[%d] carries %s; AWS leaves it out", i, k)
				}
			}
			if jsonOf(v["SnapStart"]) != `{"ApplyOn":"None","OptimizationStatus":"Off"}` || jsonOf(v["TracingConfig"]) != `{"Mode":"PassThrough"}` {
				t.Errorf("ListVersionsByFunction[%d]: %v", i, v)
			}
		}
		lf := e.raw(t, "GET", "", nil)
		fs, _ := lf.body["Functions"].([]any)
		if len(fs) != 1 {
			t.Fatalf("ListFunctions: %s", lf.raw)
		}
		f := fs[0].(map[string]any)
		if f["FunctionArn"] != arn+"snap" {
			t.Errorf("ListFunctions FunctionArn %v, AWS %s", f["FunctionArn"], arn+"snap")
		}
		for _, k := range []string{"State", "LastUpdateStatus"} {
			if _, ok := f[k]; ok {
				t.Errorf("ListFunctions carries %s; AWS leaves it out", k)
			}
		}
		// list_aliases_for_fnname: no RoutingConfig when none is set.
		la := e.raw(t, "GET", "/snap/aliases", nil)
		if as, _ := la.body["Aliases"].([]any); len(as) != 1 || jsonOf(as[0]) !=
			`{"AliasArn":"`+arn+`snap:live","Description":"","FunctionVersion":"1","Name":"live","RevisionId":`+jsonOf(as[0].(map[string]any)["RevisionId"])+`}` {
			t.Errorf("ListAliases: %s", la.raw)
		}
	})

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

	t.Run("updates", func(t *testing.T) {
		// update_func_conf_response (test_function_lifecycle): $LATEST by its
		// unqualified ARN.
		u := e.raw(t, "PUT", "/snap/configuration", map[string]any{"Description": "Changed-Description", "Environment": map[string]any{"Variables": map[string]string{"ENV_A": "a"}}})
		if u.status != 200 || u.body["FunctionArn"] != arn+"snap" || u.body["Version"] != "$LATEST" ||
			jsonOf(u.body["Environment"]) != `{"Variables":{"ENV_A":"a"}}` || u.body["Description"] != "Changed-Description" {
			t.Errorf("UpdateFunctionConfiguration: %d %s", u.status, u.raw)
		}
		c := e.raw(t, "PUT", "/snap/code", map[string]any{"ZipFile": zip(v2)})
		if c.status != 200 || c.body["FunctionArn"] != arn+"snap" || c.body["Version"] != "$LATEST" || c.body["CodeSha256"] == create.body["CodeSha256"] {
			t.Errorf("UpdateFunctionCode: %d %s", c.status, c.raw)
		}
		// update_function_code_result (test_publish_with_update): with
		// Publish the new version, qualified.
		p := e.raw(t, "PUT", "/snap/code", map[string]any{"ZipFile": zip(v1), "Publish": true})
		if p.status != 200 || p.body["FunctionArn"] != arn+"snap:2" || p.body["Version"] != "2" {
			t.Errorf("UpdateFunctionCode Publish: %d %s", p.status, p.raw)
		}
		// test_publish_version_on_create: Publish on create answers Version
		// "1" under the unqualified ARN.
		pc := e.raw(t, "POST", "", map[string]any{"FunctionName": "pub", "Role": "r", "Publish": true, "Code": map[string]any{"ZipFile": zip(v1)}})
		if pc.status != 201 || pc.body["FunctionArn"] != arn+"pub" || pc.body["Version"] != "1" {
			t.Errorf("CreateFunction Publish: %d %s", pc.status, pc.raw)
		}
		// delete_response, delete_postdelete (test_function_lifecycle).
		if d := e.raw(t, "DELETE", "/pub", nil); d.status != 204 {
			t.Errorf("DeleteFunction: %d %s", d.status, d.raw)
		}
		wantErr(t, "GetFunction deleted", e.raw(t, "GET", "/pub", nil), 404, "ResourceNotFoundException", "Function not found: "+arn+"pub")
	})
}

// messageKey is the message member of a Lambda error shape: its case
// differs by shape in Lambda's Smithy model.
func messageKey(typ string) string {
	switch typ {
	case "ResourceNotFoundException", "ServiceException", "InvalidZipFileException":
		return "Message"
	}
	return "message"
}
