package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func eddyTables(url string, args ...string) (string, string, int) {
	var out, errw bytes.Buffer
	code := tablesMain(&out, &errw, append(args, "--endpoint", url))
	return out.String(), errw.String(), code
}

// TestTablesCommands drives eddy tables pitr|backup|backups|restore: a
// backup listed and restored, a point-in-time restore, the progress line,
// and the service's errors printed as they are.
func TestTablesCommands(t *testing.T) {
	srv := eddytest.Start(t, server.Options{})
	url := srv.URL()
	if _, stderr, code := eddyTables(url); code != 2 || !strings.Contains(stderr, "usage:") {
		t.Fatalf("no subcommand: exit %d %q", code, stderr)
	}
	if _, err := srv.DDB.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String("things"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	if out, _, code := eddyTables(url, "pitr", "things"); code != 0 || out != "things: point-in-time recovery DISABLED\n" {
		t.Fatalf("pitr: exit %d %q", code, out)
	}
	if out, stderr, code := eddyTables(url, "pitr", "things", "--enable", "--days", "3"); code != 0 || !strings.Contains(out, "ENABLED, 3 days, restorable from") {
		t.Fatalf("pitr --enable: exit %d %q %q", code, out, stderr)
	}
	for _, pk := range []string{"a", "b", "c"} {
		if _, err := srv.DDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("things"),
			Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}}}); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, code := eddyTables(url, "backup", "things", "--name", "nightly")
	if code != 0 || !strings.HasPrefix(out, "arn:aws:dynamodb:us-east-1:000000000000:table/things/backup/") {
		t.Fatalf("backup: exit %d %q %q", code, out, stderr)
	}
	arn := strings.Fields(out)[0]
	if out, _, code := eddyTables(url, "backups", "things"); code != 0 || !strings.Contains(out, "things") || !strings.Contains(out, "nightly") || !strings.Contains(out, arn) {
		t.Fatalf("backups: exit %d %q", code, out)
	}
	out, stderr, code = eddyTables(url, "restore", "things2", "--backup", arn)
	if code != 0 || out != "things2 restored: ACTIVE, 3 items, 9 bytes\n" || !strings.Contains(stderr, "restoring things2: done in") {
		t.Fatalf("restore --backup: exit %d %q %q", code, out, stderr)
	}
	out, stderr, code = eddyTables(url, "restore", "things3", "--from", "things")
	if code != 0 || out != "things3 restored: ACTIVE, 3 items, 9 bytes\n" {
		t.Fatalf("restore --from: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := eddyTables(url, "restore", "things3", "--from", "things"); code != 1 || !strings.Contains(stderr, "TableAlreadyExistsException") {
		t.Fatalf("restore onto an existing table: exit %d %q", code, stderr)
	}
	if _, stderr, code := eddyTables(url, "restore", "things4", "--from", "things", "--at", "2001-01-01T00:00:00Z"); code != 1 || !strings.Contains(stderr, "InvalidRestoreTimeException") {
		t.Fatalf("restore before the window: exit %d %q", code, stderr)
	}
}
