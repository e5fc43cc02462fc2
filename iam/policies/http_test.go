package policies_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestAdminAPIAuthorized: /eddy/policies asks the caller's policies for
// iam:PutUserPolicy, iam:GetUserPolicy, ... on the target principal, so a
// principal cannot grant itself more; an unsigned (anonymous) request is
// allowed, as on the DynamoDB API while credentials are not verified.
func TestAdminAPIAuthorized(t *testing.T) {
	user := func(id string) string { return "arn:aws:iam::000000000000:user/" + id }
	s := eddytest.Start(t, server.Options{Principal: user})
	call := func(method, id, target, name, body string) (int, string) {
		t.Helper()
		q := url.Values{"principal": {target}, "name": {name}}
		req, err := http.NewRequest(method, s.URL()+"/eddy/policies?"+q.Encode(), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if id != "" {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+id+"/20261205/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const admin = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*UserPolicy","Resource":"*"}}`
	const self = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUserPolicy","Resource":"arn:aws:iam::*:user/${aws:username}"}}`
	// Open: the first policy is put by anyone.
	if code, body := call("PUT", "root", user("root"), "admin", admin); code != 200 {
		t.Fatalf("first put: %d %s", code, body)
	}
	if code, body := call("PUT", "root", user("dev"), "self", self); code != 200 {
		t.Fatalf("root puts dev's: %d %s", code, body)
	}
	if code, body := call("GET", "dev", user("dev"), "self", ""); code != 200 || !strings.Contains(body, "GetUserPolicy") {
		t.Fatalf("dev reads its own: %d %s", code, body)
	}
	code, body := call("PUT", "dev", user("dev"), "more", admin)
	if want := "User: " + user("dev") + " is not authorized to perform: iam:PutUserPolicy on resource: " + user("dev") + " because no identity-based policy allows the iam:PutUserPolicy action"; code != 403 || !strings.Contains(body, want) || !strings.Contains(body, `"__type":"AccessDenied"`) {
		t.Fatalf("dev grants itself more: %d %s", code, body)
	}
	if code, body := call("GET", "dev", user("root"), "admin", ""); code != 403 {
		t.Fatalf("dev reads root's: %d %s", code, body)
	}
	if code, body := call("DELETE", "dev", user("dev"), "self", ""); code != 403 {
		t.Fatalf("dev deletes its own: %d %s", code, body)
	}
	if code, body := call("GET", "", user("root"), "admin", ""); code != 200 {
		t.Fatalf("anonymous read: %d %s", code, body)
	}
	if _, err := s.Policies().Get(user("dev"), "more"); err == nil {
		t.Fatal("the denied put was stored")
	}
}
