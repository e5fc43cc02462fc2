package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
)

// canon turns an attribute value into plain Go values with sets sorted,
// so that two scans compare with fmt's rendering.
func canon(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberB:
		return "B:" + string(v.Value)
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberSS:
		s := append([]string{"SS"}, v.Value...)
		sort.Strings(s[1:])
		return s
	case *types.AttributeValueMemberNS:
		s := append([]string{"NS"}, v.Value...)
		sort.Strings(s[1:])
		return s
	case *types.AttributeValueMemberBS:
		s := []string{"BS"}
		for _, b := range v.Value {
			s = append(s, string(b))
		}
		sort.Strings(s[1:])
		return s
	case *types.AttributeValueMemberL:
		l := []any{}
		for _, e := range v.Value {
			l = append(l, canon(e))
		}
		return l
	case *types.AttributeValueMemberM:
		return canonItem(v.Value)
	}
	return fmt.Sprintf("?%T", av)
}

func canonItem(it map[string]types.AttributeValue) map[string]any {
	m := map[string]any{}
	for k, v := range it {
		m[k] = canon(v)
	}
	return m
}

// scanAll returns every item of a table, rendered canonically and sorted.
func scanAll(t *testing.T, c *dynamodb.Client, table string) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out = append(out, fmt.Sprint(canonItem(it)))
		}
	}
	sort.Strings(out)
	return out
}

func sameItems(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d items, want %d", what, len(got), len(want))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("%s: item %d differs:\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
}

// fill writes n items of every attribute type, with names and strings
// that need quoting in Ion, numbers with exponents and 38 digits.
func fill(t *testing.T, c *dynamodb.Client, table string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < min(i+25, n); j++ {
			it := map[string]types.AttributeValue{
				"pk":           &types.AttributeValueMemberS{Value: fmt.Sprintf("p%03d", j%37)},
				"sk":           &types.AttributeValueMemberN{Value: fmt.Sprint(j)},
				"gk":           &types.AttributeValueMemberS{Value: fmt.Sprintf("g%d", j%5)},
				"s":            &types.AttributeValueMemberS{Value: "quote \" back \\ tab \t nl \n é 😀 " + strings.Repeat("x", j%7)},
				"n":            &types.AttributeValueMemberN{Value: []string{"0", "-1.5", "1E+100", "12345678901234567890123456789012345678", "0.000001", "-9.9E-100"}[j%6]},
				"b":            &types.AttributeValueMemberB{Value: []byte{0, 1, 2, byte(j)}},
				"t":            &types.AttributeValueMemberBOOL{Value: j%2 == 0},
				"z":            &types.AttributeValueMemberNULL{Value: true},
				"ss":           &types.AttributeValueMemberSS{Value: []string{"a", "b c", fmt.Sprint(j)}},
				"ns":           &types.AttributeValueMemberNS{Value: []string{"1", "2.5", fmt.Sprint(j + 10)}},
				"bs":           &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, byte(j)}}},
				"with space":   &types.AttributeValueMemberS{Value: "v"},
				"null":         &types.AttributeValueMemberS{Value: "a keyword as a name"},
				"l":            &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberS{Value: ""}, &types.AttributeValueMemberL{}}},
				"m":            &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"in": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberBOOL{Value: false}}}, "x-y": &types.AttributeValueMemberNULL{Value: true}}},
				"$ion_1_0":     &types.AttributeValueMemberS{Value: "the version marker as a name"},
				"'quoted'":     &types.AttributeValueMemberN{Value: "7"},
				"Item":         &types.AttributeValueMemberS{Value: "a member named Item"},
				"emptyMap":     &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
				"unicode name": &types.AttributeValueMemberS{Value: "ü"},
			}
			if j%10 == 0 {
				delete(it, "gk") // not in the index
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}}); err != nil {
			t.Fatal(err)
		}
	}
}

// schema is the key schema and index of the test tables, as CreateTable
// and TableCreationParameters take them.
func schema(name string) *types.TableCreationParameters {
	return &types.TableCreationParameters{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("gk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("byG"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("gk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

func createTable(t *testing.T, c *dynamodb.Client, name string) string {
	t.Helper()
	p := schema(name)
	out, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: p.TableName, AttributeDefinitions: p.AttributeDefinitions, KeySchema: p.KeySchema,
		BillingMode: p.BillingMode, GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TableDescription.TableArn)
}

// waitExport waits for an export to end and returns its description.
func waitExport(t *testing.T, c *dynamodb.Client, exportARN string) *types.ExportDescription {
	t.Helper()
	var d *types.ExportDescription
	eddytest.WaitFor(t, "export "+exportARN, 120*time.Second, func() bool {
		out, err := c.DescribeExport(context.Background(), &dynamodb.DescribeExportInput{ExportArn: aws.String(exportARN)})
		if err != nil {
			t.Fatal(err)
		}
		d = out.ExportDescription
		return d.ExportStatus != types.ExportStatusInProgress
	})
	if d.ExportStatus != types.ExportStatusCompleted {
		t.Fatalf("export %s: %s %s", d.ExportStatus, aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage))
	}
	return d
}

func waitImport(t *testing.T, c *dynamodb.Client, importARN string) *types.ImportTableDescription {
	t.Helper()
	var d *types.ImportTableDescription
	eddytest.WaitFor(t, "import "+importARN, 120*time.Second, func() bool {
		out, err := c.DescribeImport(context.Background(), &dynamodb.DescribeImportInput{ImportArn: aws.String(importARN)})
		if err != nil {
			t.Fatal(err)
		}
		d = out.ImportTableDescription
		return d.ImportStatus != types.ImportStatusInProgress
	})
	if d.ImportStatus != types.ImportStatusCompleted {
		t.Fatalf("import %s: %s %s", d.ImportStatus, aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage))
	}
	return d
}
