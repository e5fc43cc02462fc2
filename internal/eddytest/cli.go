package eddytest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// CLI is one installed AWS CLI.
type CLI struct {
	Path    string
	Version string // "aws-cli/2.9.19", "aws-cli/1.45.11"
}

// CLIs returns the AWS CLIs installed: the one on PATH and Debian's
// /usr/bin/aws (CLI v2 in bookworm), each version once.
func CLIs() []CLI {
	var out []CLI
	seen := map[string]bool{}
	paths := []string{"/usr/bin/aws"}
	if p, err := exec.LookPath("aws"); err == nil {
		paths = append([]string{p}, paths...)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		b, err := exec.Command(p, "--version").CombinedOutput()
		v := strings.Fields(string(b) + " ?")[0]
		if err != nil || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, CLI{p, v})
	}
	return out
}

// Run runs the CLI against url with env (AWSCLIEnv) and returns its
// standard output and error; err is the command's.
func (c CLI) Run(env []string, url string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, append(args, "--endpoint-url", url, "--output", "json")...)
	cmd.Env = env
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// MustRun is Run failing t on an error.
func (c CLI) MustRun(t testing.TB, env []string, url string, args ...string) string {
	t.Helper()
	out, errOut, err := c.Run(env, url, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", c.Version, strings.Join(args, " "), err, errOut)
	}
	return out
}
