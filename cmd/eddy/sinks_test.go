package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// eddySinks runs "eddy VERB args..." (sinks, search, replicate) against
// url and returns its stdout, stderr and exit code.
func eddySinks(url, verb string, args ...string) (string, string, int) {
	var out, errw bytes.Buffer
	code := sinksMain(&out, &errw, verb, append(args, "--endpoint", url))
	return out.String(), errw.String(), code
}

// TestSinksCommands drives eddy sinks add|list|show|remove and eddy
// replicate --list/--remove against a server, with a file sink fed by a
// replication.
func TestSinksCommands(t *testing.T) {
	srv := eddytest.Start(t, server.Options{})
	url := srv.URL()
	path := filepath.Join(t.TempDir(), "out.jsonl")

	if _, stderr, code := eddySinks(url, "sinks"); code != 2 || !strings.Contains(stderr, "usage:") {
		t.Fatalf("no subcommand: exit %d %q", code, stderr)
	}
	if _, stderr, code := eddySinks(url, "sinks", "add", "bad", "ftp://x"); code != 1 || !strings.Contains(stderr, "unsupported target") {
		t.Fatalf("bad target: exit %d %q", code, stderr)
	}
	if _, stderr, code := eddySinks(url, "sinks", "add", "out", "file://"+path, "-o", "max_bytes=nope"); code != 1 || !strings.Contains(stderr, "max_bytes") {
		t.Fatalf("bad option: exit %d %q", code, stderr)
	}
	if out, stderr, code := eddySinks(url, "sinks", "add", "out", "file://"+path, "-o", "max_files=3", "--max-backlog", "50"); code != 0 || !strings.Contains(out, "sink out (file) created") {
		t.Fatalf("add: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := eddySinks(url, "sinks", "add", "out", "file://"+path); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("add twice: exit %d %q", code, stderr)
	}
	if _, err := srv.DDB.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String("things"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := eddySinks(url, "replicate", "things", "--to", "out", "--fields", "v", "--from", "trim_horizon")
	if code != 0 || !strings.Contains(out, "replicating things into sink out") {
		t.Fatalf("replicate: exit %d %q %q", code, out, stderr)
	}
	uuid := strings.TrimSuffix(out[strings.LastIndex(out, "mapping ")+len("mapping "):], ")\n")
	for _, v := range []string{"1", "2"} {
		if _, err := srv.DDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("things"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}, "v": &ddbtypes.AttributeValueMemberN{Value: v}, "w": &ddbtypes.AttributeValueMemberS{Value: "dropped"}}}); err != nil {
			t.Fatal(err)
		}
	}
	eddytest.WaitFor(t, "2 lines", 10*time.Second, func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Count(b, []byte("\n")) == 2
	})
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"doc":{"pk":"a","v":2}`) || strings.Contains(string(b), "dropped") {
		t.Fatalf("file:\n%s", b)
	}
	eddytest.WaitFor(t, "delivered", 5*time.Second, func() bool {
		out, _, _ := eddySinks(url, "sinks", "list")
		return strings.Contains(out, "out   file  OK     0        2")
	})
	out, _, code = eddySinks(url, "sinks", "show", "out")
	var st struct {
		Name, Kind, State string
		Delivered         int
		MaxBacklog        int
		Options           map[string]string
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Delivered != 2 || st.MaxBacklog != 50 || st.Options["max_files"] != "3" {
		t.Fatalf("show: exit %d %s", code, out)
	}
	if out, _, code := eddySinks(url, "replicate", "--list"); code != 0 || !strings.Contains(out, uuid) || !strings.Contains(out, "Enabled") {
		t.Fatalf("replicate --list: exit %d %q", code, out)
	}
	if _, stderr, code := eddySinks(url, "sinks", "remove", "out"); code != 1 || !strings.Contains(stderr, "remove it first") {
		t.Fatalf("remove a sink in use: exit %d %q", code, stderr)
	}
	if out, stderr, code := eddySinks(url, "replicate", "--remove", uuid); code != 0 {
		t.Fatalf("replicate --remove: exit %d %q %q", code, out, stderr)
	}
	if out, stderr, code := eddySinks(url, "sinks", "remove", "out"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := eddySinks(url, "sinks", "show", "out"); code != 1 || !strings.Contains(stderr, "no such sink") {
		t.Fatalf("show removed: exit %d %q", code, stderr)
	}
	if _, stderr, code := eddySinks(url, "search", "nosuch", "q"); code != 1 || !strings.Contains(stderr, "index_not_found_exception") {
		t.Fatalf("search a missing sink: exit %d %q", code, stderr)
	}
}
