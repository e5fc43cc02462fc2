package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// regionClient is a client of s signing for region.
func regionClient(s *eddytest.Server, region string) *dynamodb.Client {
	cfg := s.Config()
	cfg.Region = region
	return dynamodb.NewFromConfig(cfg)
}

// TestRegionsAreNamespaces: a table created through one region is
// invisible through another, as in DynamoDB (and DynamoDB Local), where
// each regional endpoint has its own tables; the region is the request's
// SigV4 credential scope.
func TestRegionsAreNamespaces(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	east1, east2 := s.DDB, regionClient(s, "us-east-2")

	out, err := east2.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Orders"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := *out.TableDescription.TableArn; got != "arn:aws:dynamodb:us-east-2:000000000000:table/Orders" {
		t.Fatalf("TableArn %s", got)
	}
	if got := *out.TableDescription.LatestStreamArn; !strings.HasPrefix(got, "arn:aws:dynamodb:us-east-2:000000000000:table/Orders/stream/") {
		t.Fatalf("LatestStreamArn %s", got)
	}

	// Invisible through us-east-1, with DynamoDB's control-plane message.
	_, err = east1.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Orders")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: Orders not found")
	lt, err := east1.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(lt.TableNames) != 0 {
		t.Fatalf("us-east-1 ListTables = %v, %v; want none", lt.TableNames, err)
	}
	_, err = east1.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Orders"), Item: map[string]types.AttributeValue{"pk": S("a")}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = east1.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("Orders")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: Orders not found")

	// The same name in us-east-1 is another table, with its own key and items.
	createTable(t, east1, "Orders", true)
	for _, c := range []struct {
		client *dynamodb.Client
		item   map[string]types.AttributeValue
	}{
		{east2, map[string]types.AttributeValue{"pk": S("a"), "from": S("us-east-2")}},
		{east1, map[string]types.AttributeValue{"pk": S("a"), "sk": N("1"), "from": S("us-east-1")}},
	} {
		if _, err := c.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Orders"), Item: c.item}); err != nil {
			t.Fatal(err)
		}
	}
	for region, c := range map[string]*dynamodb.Client{"us-east-1": east1, "us-east-2": east2} {
		sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Orders")})
		if err != nil {
			t.Fatal(err)
		}
		if len(sc.Items) != 1 || sc.Items[0]["from"].(*types.AttributeValueMemberS).Value != region {
			t.Fatalf("%s Scan = %v", region, sc.Items)
		}
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Orders")})
		if err != nil || *d.Table.TableArn != "arn:aws:dynamodb:"+region+":000000000000:table/Orders" {
			t.Fatalf("%s DescribeTable = %v, %v", region, d, err)
		}
	}

	// A table only in us-east-2, named by requests signed for us-east-1:
	// the transaction, the batches and PartiQL see no such table.
	createTable(t, east2, "Only2", false)
	_, err = east1.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("Orders"), Item: map[string]types.AttributeValue{"pk": S("t"), "sk": N("1")}}},
		{Put: &types.Put{TableName: aws.String("Only2"), Item: map[string]types.AttributeValue{"pk": S("t")}}},
	}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	if g, _ := east1.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Orders"), Key: map[string]types.AttributeValue{"pk": S("t"), "sk": N("1")}}); g.Item != nil {
		t.Fatal("the refused transaction wrote its us-east-1 item")
	}
	_, err = east1.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("Only2"), Key: map[string]types.AttributeValue{"pk": S("t")}}},
	}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = east1.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"Only2": {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": S("b")}}}},
	}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = east1.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"Only2": {Keys: []map[string]types.AttributeValue{{"pk": S("b")}}},
	}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = east1.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "Only2"`)})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	// ... while us-east-2 commits the same transaction on its own tables.
	if _, err := east2.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("Orders"), Item: map[string]types.AttributeValue{"pk": S("t")}}},
		{Put: &types.Put{TableName: aws.String("Only2"), Item: map[string]types.AttributeValue{"pk": S("t")}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := east2.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "Only2"`)}); err != nil {
		t.Fatal(err)
	}

	// Tags address a table by its ARN in the request's region.
	_, err = east1.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-2:000000000000:table/Only2")})
	apiErr(t, err, "ResourceNotFoundException", "")
	if _, err := east2.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-2:000000000000:table/Only2")}); err != nil {
		t.Fatal(err)
	}
	lt, err = east2.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || !slices.Equal(lt.TableNames, []string{"Only2", "Orders"}) {
		t.Fatalf("us-east-2 ListTables = %v, %v", lt.TableNames, err)
	}
}

// rawPost sends a DynamoDB request with the given Authorization header
// ("" for none) and returns the status and body.
func rawPost(t *testing.T, url, target, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %s", err, b)
	}
	return resp.StatusCode, m
}

// TestUnsignedRequestsUseTheServerRegion: --region is the region of a
// request that carries no signature (and of the SDK's, signed for it).
func TestUnsignedRequestsUseTheServerRegion(t *testing.T) {
	s := eddytest.Start(t, server.Options{Region: "eu-west-1"})
	createTable(t, s.DDB, "Tab1", false) // signed for eu-west-1
	code, m := rawPost(t, s.URL(), "DescribeTable", "", `{"TableName":"Tab1"}`)
	if code != 200 || m["Table"].(map[string]any)["TableArn"] != "arn:aws:dynamodb:eu-west-1:000000000000:table/Tab1" {
		t.Fatalf("unsigned DescribeTable: %d %v", code, m)
	}
	// A presigned-style credential in the query names the region too.
	code, m = rawPost(t, s.URL()+"/?X-Amz-Credential=AKID/20240101/ap-south-1/dynamodb/aws4_request", "ListTables", "", `{}`)
	if code != 200 || len(m["TableNames"].([]any)) != 0 {
		t.Fatalf("ap-south-1 ListTables: %d %v", code, m)
	}
}

// TestMalformedCredentialScope: a SigV4 Authorization header that names no
// credential scope is IncompleteSignatureException (400), never a 500 nor
// the default region. Messages as AWS words them (recorded answers quoted
// in internal/arn/scope.go).
func TestMalformedCredentialScope(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	for _, c := range []struct{ auth, msg string }{
		{"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
			"Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb, SignedHeaders=host, Signature=00",
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20240101/us-east-1/dynamodb'"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101//dynamodb/aws4_request, SignedHeaders=host, Signature=00",
			"Credential should be scoped to a valid region. "},
	} {
		code, m := rawPost(t, s.URL(), "ListTables", c.auth, `{}`)
		if code != 400 || m["__type"] != "com.amazon.coral.service#IncompleteSignatureException" || m["message"] != c.msg {
			t.Errorf("%s: %d %v", c.auth, code, m)
		}
	}
}

// TestDescribeContinuousBackups: a table without point-in-time recovery
// answers as DynamoDB does; a missing table (or one of another region) is
// TableNotFoundException, this operation's not-found error.
func TestDescribeContinuousBackups(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	createTable(t, s.DDB, "Backed", false)
	for _, name := range []string{"Backed", "arn:aws:dynamodb:us-east-1:000000000000:table/Backed"} {
		out, err := s.DDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		d := out.ContinuousBackupsDescription
		if d.ContinuousBackupsStatus != types.ContinuousBackupsStatusEnabled || d.PointInTimeRecoveryDescription == nil ||
			d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled ||
			d.PointInTimeRecoveryDescription.EarliestRestorableDateTime != nil {
			t.Fatalf("%s: %+v %+v", name, d, d.PointInTimeRecoveryDescription)
		}
	}
	_, err := s.DDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("Nope")})
	apiErr(t, err, "TableNotFoundException", "Table not found: Nope")
	_, err = regionClient(s, "us-west-2").DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("Backed")})
	apiErr(t, err, "TableNotFoundException", "Table not found: Backed")
}

// TestStreamsArePerRegion: a stream's ARN and its records' awsRegion name
// its table's region; ListStreams lists the request's region's streams,
// and another region's stream is not found.
func TestStreamsArePerRegion(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	cfg2 := s.Config()
	cfg2.Region = "us-east-2"
	east2, st1, st2 := dynamodb.NewFromConfig(cfg2), dynamodbstreams.NewFromConfig(s.Config()), dynamodbstreams.NewFromConfig(cfg2)
	for _, c := range []*dynamodb.Client{s.DDB, east2} {
		_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String("Streamed"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
			StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := east2.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Streamed"), Item: map[string]types.AttributeValue{"pk": S("x")}}); err != nil {
		t.Fatal(err)
	}
	arns := map[string]string{}
	for region, c := range map[string]*dynamodbstreams.Client{"us-east-1": st1, "us-east-2": st2} {
		ls, err := c.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls.Streams) != 1 || !strings.HasPrefix(*ls.Streams[0].StreamArn, "arn:aws:dynamodb:"+region+":000000000000:table/Streamed/stream/") {
			t.Fatalf("%s ListStreams: %+v", region, ls.Streams)
		}
		arns[region] = *ls.Streams[0].StreamArn
	}
	_, err := st1.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arns["us-east-2"])})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Stream: "+arns["us-east-2"]+" not found")
	d, err := st2.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arns["us-east-2"])})
	if err != nil {
		t.Fatal(err)
	}
	shard := d.StreamDescription.Shards[0].ShardId
	_, err = st1.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arns["us-east-2"]), ShardId: shard, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	apiErr(t, err, "ResourceNotFoundException", "")
	var recs []stypes.Record
	for _, sh := range d.StreamDescription.Shards {
		it, err := st2.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arns["us-east-2"]), ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		gr, err := st2.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, gr.Records...)
	}
	if len(recs) != 1 || *recs[0].AwsRegion != "us-east-2" {
		t.Fatalf("records: %+v", recs)
	}
}
