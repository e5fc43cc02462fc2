package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestFunctionsDeployDir: "eddy functions deploy NAME DIR" builds a Go
// package in its own module (requiring the guest SDK through a replace of
// this checkout, as the README shows) for wasip1 and deploys it; a
// redeploy with --env replaces the environment, as Lambda's
// UpdateFunctionConfiguration does, and one without keeps it.
func TestFunctionsDeployDir(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build with")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go \S+$`).Find(mod) // at least eddy's
	write("go.mod", "module example.com/hello\n\n"+string(goLine)+"\n\nrequire github.com/eddydb/eddy v0.0.0\n\nreplace github.com/eddydb/eddy => "+root+"\n")
	write("main.go", `package main

import "github.com/eddydb/eddy/triggers/guest"

func init() {
	guest.Handle(func(payload []byte) ([]byte, error) {
		return []byte(`+"`"+`{"hello":"`+"`"+` + guest.Env("A") + "/" + guest.Env("B") + `+"`"+`"}`+"`"+`), nil
	})
}

func main() {}
`)
	srv := eddytest.Start(t, server.Options{Sinks: nopSinks{}})
	lam := lambda.NewFromConfig(srv.Config())
	invoke := func() string {
		t.Helper()
		out, err := lam.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("hello")})
		if err != nil {
			t.Fatal(err)
		}
		if out.FunctionError != nil {
			t.Fatalf("function error: %s", out.Payload)
		}
		return string(out.Payload)
	}
	deploy := func(args ...string) {
		t.Helper()
		if code := runFunctions(append([]string{"deploy", "hello", dir, "--endpoint", srv.URL()}, args...)); code != 0 {
			t.Fatalf("eddy functions deploy hello DIR %v: exit %d", args, code)
		}
	}
	deploy("--env", "A=1", "--env", "B=2")
	if got := invoke(); got != `{"hello":"1/2"}` {
		t.Fatalf("first deploy answers %s", got)
	}
	deploy("--env", "A=3") // replaces: B is gone
	if got := invoke(); got != `{"hello":"3/"}` {
		t.Fatalf("after --env A=3 the function answers %s, want B removed", got)
	}
	deploy() // keeps the environment
	if got := invoke(); got != `{"hello":"3/"}` {
		t.Fatalf("after a redeploy without --env the function answers %s", got)
	}
	if code := runFunctions([]string{"deploy", "hello", filepath.Join(dir, "missing"), "--endpoint", srv.URL()}); code != 1 {
		t.Fatalf("deploy of a missing path: exit %d, want 1", code)
	}
}
