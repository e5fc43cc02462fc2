package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func eddyRelay(url string, args ...string) (string, string, int) {
	var out, errw bytes.Buffer
	code := relayMain(&out, &errw, append(args, "--endpoint", url))
	return out.String(), errw.String(), code
}

// TestRelayCommands drives eddy relay enable|status|disable against a
// server whose relays use the embedded nats-server (the default): enabling
// a relay on a table without a stream enables one, and status shows the
// records published per shard.
func TestRelayCommands(t *testing.T) {
	srv := eddytest.Start(t, server.Options{DataDir: t.TempDir()})
	url := srv.URL()
	if _, stderr, code := eddyRelay(url); code != 2 || !strings.Contains(stderr, "usage:") {
		t.Fatalf("no subcommand: exit %d %q", code, stderr)
	}
	if _, stderr, code := eddyRelay(url, "enable", "nope"); code != 1 || !strings.Contains(stderr, "no such table") {
		t.Fatalf("missing table: exit %d %q", code, stderr)
	}
	if _, err := srv.DDB.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String("things"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := eddyRelay(url, "enable", "things", "--from", "yesterday"); code != 1 || !strings.Contains(stderr, "StartingPosition") {
		t.Fatalf("bad --from: exit %d %q", code, stderr)
	}
	out, stderr, code := eddyRelay(url, "enable", "things")
	if code != 0 || !strings.Contains(out, "subjects eddy.us-east-1.things.* in JetStream stream EDDY") {
		t.Fatalf("enable: exit %d %q %q", code, out, stderr)
	}
	for i := 0; i < 3; i++ {
		if _, err := srv.DDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("things"),
			Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: string(rune('a' + i))}}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, _ = eddyRelay(url, "status")
		if strings.Contains(strings.Join(strings.Fields(out), " "), "things ACTIVE published 3 lag 0.0s eddy.us-east-1.things.* → nats://127.0.0.1:") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("eddy relay status never showed 3 published:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out, "shardId-") || !strings.Contains(out, "position 0000") {
		t.Fatalf("status shows no shards:\n%s", out)
	}
	if out, _, code := eddyRelay(url, "status", "things", "--json"); code != 0 || !strings.Contains(out, `"Published": 3`) {
		t.Fatalf("status --json: exit %d\n%s", code, out)
	}
	if out, _, code := eddyRelay(url, "disable", "things"); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: exit %d %q", code, out)
	}
	if _, stderr, code := eddyRelay(url, "status", "things"); code != 1 || !strings.Contains(stderr, "no relay") {
		t.Fatalf("status after disable: exit %d %q", code, stderr)
	}
}
