package api_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

var ctx = context.Background()

func createTable(t *testing.T, c *dynamodb.Client, name string, rangeKey bool) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if rangeKey {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
}

// apiErr asserts err is a DynamoDB error with the given code and message.
func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("want %s: %q\n got %s: %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func S(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func N(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }

func TestControlPlane(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	out, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("Orders"),
		AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("n"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("n"), KeyType: types.KeyTypeRange}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		Tags:                  []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	td := out.TableDescription
	if *td.TableArn != "arn:aws:dynamodb:us-east-1:000000000000:table/Orders" || td.TableStatus != types.TableStatusCreating || len(td.KeySchema) != 2 {
		t.Fatalf("create description: %+v", td)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Orders"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	apiErr(t, err, "ResourceInUseException", "Table already exists: Orders")

	// The SDK's waiter sees ACTIVE.
	w := dynamodb.NewTableExistsWaiter(c)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Orders")}, 5e9); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Orders")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Table.TableStatus != types.TableStatusActive || *d.Table.ItemCount != 0 || d.Table.CreationDateTime == nil ||
		*d.Table.ProvisionedThroughput.ReadCapacityUnits != 5 || d.Table.TableId == nil {
		t.Fatalf("describe: %+v", d.Table)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Orders"), Item: map[string]types.AttributeValue{"id": S("a"), "n": N(fmt.Sprint(i)), "x": S("0123456789")}}); err != nil {
			t.Fatal(err)
		}
	}
	d, _ = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Orders")})
	if *d.Table.ItemCount != 3 || *d.Table.TableSizeBytes != 16+17+17 /* id:a=3, n=1+size(N), x=11; size(0)=1, size(1)=2 */ {
		t.Fatalf("stats: count %d size %d", *d.Table.ItemCount, *d.Table.TableSizeBytes)
	}

	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Nope")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: Nope not found")

	// ListTables paging.
	for _, n := range []string{"t-b", "t-a", "t-c"} {
		createTable(t, c, n, false)
	}
	var names []string
	var start *string
	for {
		lt, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(2), ExclusiveStartTableName: start})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, lt.TableNames...)
		if lt.LastEvaluatedTableName == nil {
			break
		}
		start = lt.LastEvaluatedTableName
	}
	if strings.Join(names, ",") != "Orders,t-a,t-b,t-c" {
		t.Fatalf("ListTables pages: %v", names)
	}

	// UpdateTable: throughput, billing mode, stream spec, deletion protection.
	u, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Orders"), ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(10), WriteCapacityUnits: aws.Int64(2)}})
	if err != nil {
		t.Fatal(err)
	}
	pt := u.TableDescription.ProvisionedThroughput
	if *pt.ReadCapacityUnits != 10 || *pt.NumberOfDecreasesToday != 1 || pt.LastIncreaseDateTime == nil || pt.LastDecreaseDateTime == nil {
		t.Fatalf("throughput after update: %+v", pt)
	}
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Orders"), ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(10), WriteCapacityUnits: aws.Int64(2)}})
	apiErr(t, err, "ValidationException", "")
	u, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Orders"), BillingMode: types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}})
	if err != nil {
		t.Fatal(err)
	}
	if u.TableDescription.BillingModeSummary.BillingMode != types.BillingModePayPerRequest || u.TableDescription.LatestStreamArn == nil ||
		!strings.HasPrefix(*u.TableDescription.LatestStreamArn, "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/") {
		t.Fatalf("update: %+v", u.TableDescription)
	}
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Orders")})
	apiErr(t, err, "ValidationException", "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required")
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("t-a"), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("t-a")})
	apiErr(t, err, "ValidationException", "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")

	// Tags.
	arn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/Orders")
	if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("team"), Value: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "b" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	_, err = c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/Nope")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: ResourcArn: arn:aws:dynamodb:us-east-1:000000000000:table/Nope not found")

	lim, err := c.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
	if err != nil || *lim.TableMaxReadCapacityUnits != 40000 {
		t.Fatalf("limits: %+v %v", lim, err)
	}
	ep, err := c.DescribeEndpoints(ctx, &dynamodb.DescribeEndpointsInput{})
	if err != nil || len(ep.Endpoints) != 1 || *ep.Endpoints[0].Address != s.Addr() {
		t.Fatalf("endpoints: %+v %v", ep, err)
	}

	// DeleteTable removes the items: a new table of the same name is empty.
	del, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("Orders")})
	if err != nil || del.TableDescription.TableStatus != types.TableStatusDeleting {
		t.Fatalf("delete: %+v %v", del, err)
	}
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Orders"), Key: map[string]types.AttributeValue{"id": S("a"), "n": N("0")}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	createTable(t, c, "Orders", true)
	scanCount, _ := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Orders")})
	if *scanCount.Table.ItemCount != 0 {
		t.Fatalf("recreated table not empty")
	}
}
