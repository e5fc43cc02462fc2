package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestTriggersRegion: without --region the client subcommands act in the
// server's --region (their requests are unsigned); with it, in that
// region, the eddy-only routes (show's shards and failures) included.
func TestTriggersRegion(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Region: "eu-west-1", Sinks: nopSinks{}})
	url := srv.URL()
	ordersTable(t, srv.DDB, "orders") // eu-west-1, the server's region
	cfg := srv.Config()
	cfg.Region = "ap-south-1"
	ordersTable(t, dynamodb.NewFromConfig(cfg), "south")
	esmFunction(t, lambda.NewFromConfig(srv.Config()), "fn", map[string]string{"QUIET": "1"})

	out, stderr, code := eddyTriggers(url, "add", "fn", "orders")
	if code != 0 || !strings.Contains(out, "arn:aws:dynamodb:eu-west-1:") {
		t.Fatalf("add in the server's region: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := eddyTriggers(url, "add", "fn", "south"); code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("add of another region's table without --region: exit %d, stderr %q", code, stderr)
	}
	out, stderr, code = eddyTriggers(url, "add", "fn", "south", "--region", "ap-south-1")
	if code != 0 || !strings.Contains(out, "arn:aws:dynamodb:ap-south-1:") {
		t.Fatalf("add --region ap-south-1: exit %d %q %q", code, out, stderr)
	}
	uuid := strings.TrimSuffix(strings.Fields(out)[1], ":")
	if out, _, code := eddyTriggers(url, "list"); code != 0 || strings.Contains(out, "south") || !strings.Contains(out, "orders") {
		t.Fatalf("list in eu-west-1: exit %d %q", code, out)
	}
	if out, stderr, code := eddyTriggers(url, "show", uuid, "--region", "ap-south-1"); code != 0 || !strings.Contains(out, uuid) {
		t.Fatalf("show --region ap-south-1: exit %d %q %q", code, out, stderr)
	}
	if _, _, code := eddyTriggers(url, "show", uuid); code != 1 {
		t.Fatalf("show of another region's mapping: exit %d, want 1", code)
	}
}
