package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestSSEKeyChange: an UpdateTable that names another KMS key (SSEType KMS,
// no Enabled) keeps the table encrypted with that key; an alias becomes an
// alias ARN; one that says nothing of encryption leaves it as it was; only
// Enabled false turns it off.
func TestSSEKeyChange(t *testing.T) {
	s := eddytest.Start(t, server.Options{AccountID: "123456789012"})
	c := s.DDB
	createTable(t, c, "sse", false)
	sse := func(spec *types.SSESpecification) *types.SSEDescription {
		t.Helper()
		if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("sse"), SSESpecification: spec}); err != nil {
			t.Fatal(err)
		}
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("sse")})
		if err != nil {
			t.Fatal(err)
		}
		return d.Table.SSEDescription
	}
	key := func(d *types.SSEDescription) string {
		if d == nil || d.Status != types.SSEStatusEnabled {
			return "off"
		}
		return aws.ToString(d.KMSMasterKeyArn)
	}
	if got := key(sse(&types.SSESpecification{SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String("k1")})); got != "arn:aws:kms:us-east-1:123456789012:key/k1" {
		t.Fatalf("KMS key k1: %s", got)
	}
	if got := key(sse(&types.SSESpecification{SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String("alias/mine")})); got != "arn:aws:kms:us-east-1:123456789012:alias/mine" {
		t.Fatalf("KMS alias: %s", got)
	}
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("sse"), BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("sse")})
	if err != nil || key(d.Table.SSEDescription) != "arn:aws:kms:us-east-1:123456789012:alias/mine" {
		t.Fatalf("an update without SSESpecification changed the encryption: %v %+v", err, d.Table.SSEDescription)
	}
	if got := key(sse(&types.SSESpecification{Enabled: aws.Bool(false)})); got != "off" {
		t.Fatalf("Enabled false: %s", got)
	}
}
