package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestClientSigns: against a server with credentials, the client
// subcommands are refused without an access key and work with the one in
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, on eddy's own routes (sinks)
// and on the AWS APIs (triggers: Lambda).
func TestClientSigns(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Sinks: nopSinks{},
		Credentials: []auth.Credential{{AccessKeyID: "AKIDCLI", SecretAccessKey: "cli-secret", UserName: "cli"}}})
	url := srv.URL()
	if _, stderr, code := eddySinks(url, "sinks", "list"); code == 0 || !strings.Contains(stderr, "Request is missing Authentication Token") {
		t.Fatalf("unsigned sinks list: exit %d %q", code, stderr)
	}
	if _, stderr, code := eddyTriggers(url, "list"); code == 0 || !strings.Contains(stderr, "MissingAuthenticationTokenException") {
		t.Fatalf("unsigned triggers list: exit %d %q", code, stderr)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCLI")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "cli-secret")
	if out, stderr, code := eddySinks(url, "sinks", "list"); code != 0 {
		t.Fatalf("signed sinks list: exit %d %q %q", code, out, stderr)
	}
	if out, stderr, code := eddyTriggers(url, "list"); code != 0 {
		t.Fatalf("signed triggers list: exit %d %q %q", code, out, stderr)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if _, stderr, code := eddySinks(url, "sinks", "list"); code == 0 || !strings.Contains(stderr, "The request signature we calculated does not match") {
		t.Fatalf("sinks list with a wrong secret: exit %d %q", code, stderr)
	}
}

// TestUsersCommands: eddy users add prints the new key (the first user
// turns verification on), list shows it, and the other commands then need
// a signature.
func TestUsersCommands(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Sinks: nopSinks{}})
	url := srv.URL()
	run := func(args ...string) (string, string, int) {
		var out, errw bytes.Buffer
		code := usersMain(&out, &errw, append(args, "--endpoint", url))
		return out.String(), errw.String(), code
	}
	out, stderr, code := run("add", "carol")
	var added struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.AccessKey.SecretAccessKey == "" {
		t.Fatalf("users add: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := run("list"); code == 0 || !strings.Contains(stderr, "Request is missing Authentication Token") {
		t.Fatalf("unsigned users list once a user exists: exit %d %q", code, stderr)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", added.AccessKey.AccessKeyId)
	t.Setenv("AWS_SECRET_ACCESS_KEY", added.AccessKey.SecretAccessKey)
	if out, stderr, code := run("list"); code != 0 || !strings.Contains(out, `"arn:aws:iam::000000000000:user/carol"`) {
		t.Fatalf("users list: exit %d %q %q", code, out, stderr)
	}
	if out, stderr, code := run("rotate", "carol"); code != 0 || !strings.Contains(out, "SecretAccessKey") {
		t.Fatalf("users rotate: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := run("bogus"); code != 2 || !strings.Contains(stderr, "usage:") {
		t.Fatalf("users bogus: exit %d %q", code, stderr)
	}
}
