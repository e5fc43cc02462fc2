package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/logtest"
	"github.com/eddydb/eddy/internal/server"
)

// TestFunctionsLogs: "eddy functions logs" prints an Invoke API
// invocation's log, error included; --follow prints a later one.
func TestFunctionsLogs(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Sinks: nopSinks{}})
	lam := lambda.NewFromConfig(srv.Config())
	client := logsClient(srv.URL(), "us-east-1")
	ctx := context.Background()
	esmFunction(t, lam, "flaky", map[string]string{"QUIET": "1", "FAIL_TIMES": "1"})

	var out bytes.Buffer
	if err := functionLogs(ctx, &out, client, "flaky", false, time.Minute); err != nil || out.Len() != 0 {
		t.Fatalf("before any invocation: %v %q", err, out.String())
	}
	invoke := func() string {
		t.Helper()
		res, err := lam.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("flaky"), Payload: []byte(`{"Records":[]}`)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(res.FunctionError)
	}
	if fe := invoke(); fe != "Unhandled" {
		t.Fatalf("first invocation: %q", fe)
	}
	if err := functionLogs(ctx, &out, client, "flaky", false, time.Minute); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], " START RequestId: ") ||
		!strings.Contains(lines[1], `{"errorMessage":"failing on purpose, call 1"`) || !strings.Contains(lines[3], " REPORT RequestId: ") {
		t.Fatalf("logs:\n%s", out.String())
	}

	logsPollInterval = 20 * time.Millisecond
	fctx, cancel := context.WithCancel(ctx)
	var follow logtest.Buffer
	done := make(chan error, 1)
	go func() { done <- functionLogs(fctx, &follow, client, "flaky", true, time.Minute) }()
	waitUntil(t, "the first invocation's REPORT", 10*time.Second, func() bool { return strings.Contains(follow.String(), "REPORT") })
	if fe := invoke(); fe != "" {
		t.Fatalf("second invocation: %q", fe)
	}
	waitUntil(t, "the second invocation's REPORT", 10*time.Second, func() bool { return strings.Count(follow.String(), "REPORT") == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(follow.String(), "START"); n != 2 {
		t.Fatalf("follow printed %d START lines:\n%s", n, follow.String())
	}
}
