package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func eddyPolicies(stdin string, args ...string) (string, string, int) {
	var out, errw bytes.Buffer
	code := policiesMain(&out, &errw, strings.NewReader(stdin), args)
	return out.String(), errw.String(), code
}

// TestPoliciesCommands drives eddy policies put|get|list|simulate|delete
// against a server: a malformed document gets IAM's message, the simulator
// names the deciding statement.
func TestPoliciesCommands(t *testing.T) {
	srv := eddytest.Start(t, server.Options{})
	ep := "--endpoint=" + srv.URL()
	const bob = "arn:aws:iam::000000000000:user/bob"
	const table = "arn:aws:dynamodb:us-east-1:000000000000:table/Scores"
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Own","Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/Scores",
		 "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}},
		{"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:Delete*","Resource":"*"}]}`
	path := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := eddyPolicies("", "put", ep, "--principal", bob, "--name", "bad", "-"); code != 1 || !strings.Contains(stderr, "MalformedPolicyDocument: Syntax errors in policy.") {
		t.Fatalf("malformed: exit %d %q", code, stderr)
	}
	if out, stderr, code := eddyPolicies("", "simulate", ep, "--principal", bob, "--action", "dynamodb:GetItem", "--resource", table); code != 0 || !strings.Contains(out, "implicitDeny") || !strings.Contains(out, "runs open") {
		t.Fatalf("simulate with no policy: exit %d %q %q", code, out, stderr)
	}
	if out, stderr, code := eddyPolicies("", "put", path, ep, "--principal", bob, "--name", "scores"); code != 0 || !strings.Contains(out, "attached") {
		t.Fatalf("put: exit %d %q %q", code, out, stderr)
	}
	if out, _, code := eddyPolicies("", "list", ep); code != 0 || !strings.Contains(out, bob) || !strings.Contains(out, "scores") {
		t.Fatalf("list: exit %d %q", code, out)
	}
	if out, _, code := eddyPolicies("", "get", ep, "--principal", bob, "--name", "scores"); code != 0 || !strings.Contains(out, `"NoDelete"`) {
		t.Fatalf("get: exit %d %q", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--action", "dynamodb:GetItem", "--context", "dynamodb:LeadingKeys=bob"}, "allowed: dynamodb:GetItem on " + table + " by " + bob + "\n  decided by policy scores, statement 0 (Sid Own)"},
		{[]string{"--action", "dynamodb:GetItem", "--context", "dynamodb:LeadingKeys=bob", "--context", "dynamodb:LeadingKeys=alice"}, "implicitDeny"},
		{[]string{"--action", "dynamodb:DeleteItem"}, "explicitDeny: dynamodb:DeleteItem on " + table + " by " + bob + "\n  decided by policy scores, statement 1 (Sid NoDelete)"},
		{[]string{"--action", "dynamodb:PutItem"}, "implicitDeny: dynamodb:PutItem"},
	} {
		args := append([]string{"simulate", ep, "--principal", bob, "--resource", table}, tc.args...)
		if out, stderr, code := eddyPolicies("", args...); code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("simulate %v: exit %d %q %q, want %q", tc.args, code, out, stderr, tc.want)
		}
	}
	if out, _, code := eddyPolicies("", "delete", ep, "--principal", bob, "--name", "scores"); code != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: exit %d %q", code, out)
	}
	if _, stderr, code := eddyPolicies("", "delete", ep, "--principal", bob, "--name", "scores"); code != 1 || !strings.Contains(stderr, "cannot be found") {
		t.Fatalf("delete twice: exit %d %q", code, stderr)
	}
}
