package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestTablesExportImport: eddy tables export writes a table to a
// directory, eddy tables import reads that export's directory back into a
// new table, each with a progress line and a summary.
func TestTablesExportImport(t *testing.T) {
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
	for i := 0; i < 50; i++ {
		if _, err := srv.DDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("things"),
			Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(i)}, "n": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	out, stderr, code := eddyTables(url, "export", "things", "--to", "file://"+dir, "--format", "ion")
	m := regexp.MustCompile(`^exported 50 items .* of things in .*: (AWSDynamoDB/\S+)/manifest-summary.json in file://`).FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(stderr, "export of things: IN_PROGRESS") && !strings.HasSuffix(stderr, "\n") {
		t.Fatalf("export: exit %d %q %q", code, out, stderr)
	}
	out, stderr, code = eddyTables(url, "import", "copy", "--from", "file://"+filepath.Join(dir, m[1]), "--format", "ion", "--key", "pk:S")
	if code != 0 || !strings.HasPrefix(out, "imported 50 items into copy") || !strings.Contains(stderr, "import into copy: COMPLETED, 50 items processed, 50 imported, 0 errors") {
		t.Fatalf("import: exit %d %q %q", code, out, stderr)
	}
	d, err := srv.DDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("copy")})
	if err != nil || aws.ToInt64(d.Table.ItemCount) != 50 {
		t.Fatalf("copy: %v %v", d, err)
	}
	if _, stderr, code := eddyTables(url, "import", "copy", "--from", "file://"+dir, "--key", "pk:S"); code != 1 || !strings.Contains(stderr, "ResourceInUseException") {
		t.Fatalf("import into an existing table: exit %d %q", code, stderr)
	}
}
