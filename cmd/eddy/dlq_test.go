package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// eddyDLQ runs "eddy dlq args..." against url and returns its stdout,
// stderr and exit code.
func eddyDLQ(url string, args ...string) (string, string, int) {
	var out, errw bytes.Buffer
	code := dlqMain(&out, &errw, append(args, "--endpoint", url))
	return out.String(), errw.String(), code
}

// TestDLQCommands drives "eddy dlq list|show|redrive|purge" against a
// server with two mappings that dead-letter one poison record each:
// output, exit codes, a redrive that fails while the function is broken
// (exit 1), a redrive after UpdateFunctionCode (exit 0, entry done), a
// second redrive (refused, exit 1), and purges of one entry and of all.
func TestDLQCommands(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Sinks: nopSinks{}, Mappings: mappings.Options{
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}})
	url := srv.URL()
	ctx := context.Background()
	lam := lambda.NewFromConfig(srv.Config())
	ordersTable(t, srv.DDB, "orders")
	esmFunction(t, lam, "poison", map[string]string{"QUIET": "1", "FAIL_ON": "bad"})
	esmFunction(t, lam, "other", map[string]string{"QUIET": "1", "FAIL_ON": "bad"})

	if _, stderr, code := eddyDLQ(url); code != 2 || !strings.Contains(stderr, "usage:") {
		t.Fatalf("no subcommand: exit %d, stderr %q", code, stderr)
	}
	if _, _, code := eddyDLQ(url, "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: exit %d, want 2", code)
	}
	if _, _, code := eddyDLQ(url, "show"); code != 2 {
		t.Fatalf("show without ID: exit %d, want 2", code)
	}
	if _, _, code := eddyDLQ(url, "redrive", "1", "--all"); code != 2 {
		t.Fatalf("redrive ID --all: exit %d, want 2", code)
	}
	out, stderr, code := eddyDLQ(url, "list")
	if code != 0 || out != "ID  CREATED  MAPPING  CONDITION  SHARD  FIRST SEQ  RECORDS  DESTINATION  REDRIVE\n" {
		t.Fatalf("empty list: exit %d, %q %q", code, out, stderr)
	}
	if _, stderr, code := eddyDLQ("http://127.0.0.1:1", "list"); code != 1 || !strings.HasPrefix(stderr, "eddy: ") {
		t.Fatalf("unreachable server: exit %d, stderr %q", code, stderr)
	}

	var uuids []string
	for _, fn := range []string{"poison", "other"} {
		var errw bytes.Buffer
		if code := triggersMain(&bytes.Buffer{}, &errw, []string{"add", fn, "orders", "--retries", "0", "--batch-size", "1",
			"--starting-position", "TRIM_HORIZON", "--endpoint", url}); code != 0 {
			t.Fatalf("triggers add %s: exit %d: %s", fn, code, errw.String())
		}
		ms, err := srv.Mappings().List("", "", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if strings.HasSuffix(m.FunctionArn, ":"+fn) {
				uuids = append(uuids, m.UUID)
			}
		}
	}
	if len(uuids) != 2 {
		t.Fatalf("mappings %v", uuids)
	}
	for _, v := range []string{"ok", "bad"} {
		if _, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}, "v": &ddbtypes.AttributeValueMemberS{Value: v}}}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []uint64
	waitUntil(t, "one entry per mapping", 15*time.Second, func() bool {
		es, err := srv.DLQ().Entries("")
		if err != nil {
			t.Fatal(err)
		}
		ids = ids[:0]
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		return len(es) == 2
	})
	poisonEntry, err := srv.DLQ().Entries(uuids[0])
	if err != nil || len(poisonEntry) != 1 {
		t.Fatalf("entries of %s: %v %v", uuids[0], poisonEntry, err)
	}
	id := poisonEntry[0].ID
	seq := poisonEntry[0].Record.DDBStreamBatchInfo.StartSequenceNumber

	out, _, code = eddyDLQ(url, "list")
	row := regexp.MustCompile(fmt.Sprintf(`(?m)^%d\s+\S+Z\s+%s\s+RetryAttemptsExhausted\s+\S+\s+%s\s+1\s+built-in\s*$`, id, uuids[0], seq))
	if code != 0 || !row.MatchString(out) || strings.Count(out, "\n") != 3 {
		t.Fatalf("list: exit %d:\n%s", code, out)
	}
	out, _, code = eddyDLQ(url, "list", "--mapping", uuids[1])
	if code != 0 || strings.Contains(out, uuids[0]) || !strings.Contains(out, uuids[1]) || strings.Count(out, "\n") != 2 {
		t.Fatalf("list --mapping: exit %d:\n%s", code, out)
	}

	out, _, code = eddyDLQ(url, "show", fmt.Sprint(id))
	var shown dlq.Entry
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.ID != id || len(shown.Records) != 1 ||
		!strings.Contains(shown.LastError, "poison record bad") || shown.Record.RequestContext.Condition != dlq.RetryAttemptsExhausted {
		t.Fatalf("show: exit %d:\n%s", code, out)
	}
	if _, stderr, code := eddyDLQ(url, "show", "999"); code != 1 || !strings.Contains(stderr, "no such entry") {
		t.Fatalf("show 999: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := eddyDLQ(url, "show", "x"); code != 1 || !strings.Contains(stderr, `invalid entry ID "x"`) {
		t.Fatalf("show x: exit %d, stderr %q", code, stderr)
	}

	// Still broken: the records fail again, the entry keeps them, exit 1.
	out, stderr, code = eddyDLQ(url, "redrive", fmt.Sprint(id))
	if code != 1 || !strings.Contains(stderr, fmt.Sprintf("entries %d keep them", id)) || !strings.Contains(out, `"state": "failed"`) {
		t.Fatalf("redrive of a broken function: exit %d, stderr %q:\n%s", code, stderr, out)
	}

	fixed, err := triggerstest.Build("dlqfixed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lam.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("poison"), ZipFile: fixed}); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = eddyDLQ(url, "redrive", fmt.Sprint(id))
	var redriven dlq.Entry
	if code != 0 || stderr != "" || json.Unmarshal([]byte(out), &redriven) != nil || redriven.Redrive == nil ||
		redriven.Redrive.State != dlq.RedriveDone || redriven.Redrive.Count != 2 || redriven.Redrive.Delivered != 1 || len(redriven.Records) != 0 {
		t.Fatalf("redrive after the fix: exit %d, stderr %q:\n%s", code, stderr, out)
	}
	if _, stderr, code := eddyDLQ(url, "redrive", fmt.Sprint(id)); code != 1 || !strings.Contains(stderr, "already redriven") {
		t.Fatalf("second redrive: exit %d, stderr %q", code, stderr)
	}
	out, _, _ = eddyDLQ(url, "list", "--mapping", uuids[0])
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d\s.*\s0\s+built-in\s+done\s*$`, id)).MatchString(out) {
		t.Fatalf("list after redrive:\n%s", out)
	}
	// --all restricted to the other (still broken) mapping: exit 1.
	if _, stderr, code := eddyDLQ(url, "redrive", "--all", "--mapping", uuids[1]); code != 1 || !strings.Contains(stderr, "still fail") {
		t.Fatalf("redrive --all --mapping other: exit %d, stderr %q", code, stderr)
	}

	out, _, code = eddyDLQ(url, "purge", fmt.Sprint(id))
	if code != 0 || !strings.Contains(out, `"Deleted": 1`) {
		t.Fatalf("purge %d: exit %d:\n%s", id, code, out)
	}
	if _, _, code := eddyDLQ(url, "show", fmt.Sprint(id)); code != 1 {
		t.Fatalf("show after purge: exit %d", code)
	}
	out, _, code = eddyDLQ(url, "purge")
	if code != 0 || !strings.Contains(out, `"Deleted": 1`) {
		t.Fatalf("purge all: exit %d:\n%s", code, out)
	}
	if es, _ := srv.DLQ().Entries(""); len(es) != 0 {
		t.Fatalf("%d entries after purge", len(es))
	}
}
