package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestWorkerCommandFlags: eddy worker refuses to start without --nats,
// and a flag it does not know is a usage error (exit 2). The worker
// itself is tested end to end in package worker.
func TestWorkerCommandFlags(t *testing.T) {
	var errw bytes.Buffer
	if code := runWorker(&errw, []string{"--control", "http://127.0.0.1:1"}); code != 1 || !strings.Contains(errw.String(), "--nats and --control are required") {
		t.Fatalf("no --nats: exit %d %q", code, errw.String())
	}
	errw.Reset()
	if code := runWorker(&errw, []string{"--bogus"}); code != 2 || !strings.Contains(errw.String(), "flag provided but not defined") {
		t.Fatalf("unknown flag: exit %d %q", code, errw.String())
	}
}
