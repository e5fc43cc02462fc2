package api_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

const iamAccount = "000000000000"

func userARN(name string) string { return "arn:aws:iam::" + iamAccount + ":user/" + name }

// iamClients returns DynamoDB and Streams clients that sign with access
// key id, which the test's Principal maps to the user of that name.
func iamClients(s *eddytest.Server, id string) (*dynamodb.Client, *dynamodbstreams.Client) {
	cfg := s.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, "secret", "")
	return dynamodb.NewFromConfig(cfg), dynamodbstreams.NewFromConfig(cfg)
}

// The policies of the matrix. bob's follow the DynamoDB Developer Guide's
// fine-grained access examples: his own partition (LeadingKeys =
// ${aws:username}) of Scores and its indexes, only some attributes of
// Profiles, nothing of Secret (explicit deny).
var matrixPolicies = map[string]map[string]string{
	"admin": {"all": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
	"bob": {
		"own-partition": `{"Version":"2012-10-17","Statement":[{"Sid":"OwnItems","Effect":"Allow",
			"Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:BatchGetItem","dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:BatchWriteItem","dynamodb:PartiQLSelect","dynamodb:PartiQLUpdate"],
			"Resource":["arn:aws:dynamodb:*:*:table/Scores","arn:aws:dynamodb:*:*:table/Scores/index/*"],
			"Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}}]}`,
		"attributes": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/Profiles",
			"Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["pk","name"]},"StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}}}`,
		"misc": `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["dynamodb:DescribeTable","dynamodb:ListTables"],"Resource":"*"},
			{"Effect":"Allow","Action":"dynamodb:Scan","Resource":"arn:aws:dynamodb:*:*:table/Scores","Condition":{"StringEquals":{"dynamodb:Select":"COUNT"}}},
			{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetShardIterator","dynamodb:GetRecords"],"Resource":"arn:aws:dynamodb:*:*:table/Scores/stream/*"}]}`,
		"deny": `{"Version":"2012-10-17","Statement":[
			{"Sid":"NoSecret","Effect":"Deny","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/Secret"},
			{"Sid":"NoOldImages","Effect":"Deny","Action":"dynamodb:PutItem","Resource":"*","Condition":{"StringEquals":{"dynamodb:ReturnValues":"ALL_OLD"}}}]}`,
	},
	"dave":  {"not-local": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}}`},
	"erin":  {"local": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.1/32"]}}}}`},
	"frank": {"expired": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}}}`},
	"grace": {"since": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}}}`},
	"heidi": {"arn": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:Describe*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/hei*"}}}}`},
	// carol has none: every request of hers is implicitly denied.
}

// TestPolicyMatrix runs requests of several principals through
// aws-sdk-go-v2 and checks each is allowed or denied as IAM would decide:
// actions, resources (tables, indexes, streams), explicit and implicit
// denies, and the condition keys (LeadingKeys on GetItem, Query, indexes,
// BatchGetItem, BatchWriteItem and transactions; Attributes, Select,
// ReturnValues, SourceIp, CurrentTime, PrincipalArn).
func TestPolicyMatrix(t *testing.T) {
	s := eddytest.Start(t, server.Options{Principal: func(id string) string {
		if id == "anon" {
			return "" // anonymous: allowed, as every request is without credentials
		}
		return userARN(id)
	}})
	admin, _ := iamClients(s, "admin")
	_, err := admin.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("Scores"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("owner"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("ByOwner"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("owner"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	createTable(t, admin, "Profiles", false)
	createTable(t, admin, "Secret", false)

	// Open mode: a principal with no policy is allowed while no policy
	// exists at all.
	carol, _ := iamClients(s, "carol")
	if _, err := carol.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Secret"), Key: map[string]types.AttributeValue{"pk": S("x")}}); err != nil {
		t.Fatalf("open mode: %v", err)
	}
	for user, pols := range matrixPolicies {
		for name, doc := range pols {
			if err := s.Policies().Put(userARN(user), name, []byte(doc)); err != nil {
				t.Fatalf("put %s/%s: %v", user, name, err)
			}
		}
	}
	for _, pk := range []string{"bob", "alice"} {
		if _, err := admin.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Scores"), Item: map[string]types.AttributeValue{"pk": S(pk), "sk": N("1"), "owner": S(pk)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Profiles"), Item: map[string]types.AttributeValue{"pk": S("bob"), "name": S("Bob"), "email": S("b@x")}}); err != nil {
		t.Fatal(err)
	}
	desc, err := admin.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Scores")})
	if err != nil {
		t.Fatal(err)
	}
	streamArn := desc.Table.LatestStreamArn

	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": S(pk), "sk": N("1")}
	}
	item := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": S(pk), "sk": N("2"), "v": S("x")}
	}
	scores, profiles, secret := aws.String("Scores"), aws.String("Profiles"), aws.String("Secret")
	type ddbFn func(c *dynamodb.Client) error
	type streamsFn func(c *dynamodbstreams.Client) error
	cases := []struct {
		name  string
		user  string
		ddb   ddbFn
		strm  streamsFn
		allow bool
	}{
		{"GetItem own partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("bob")})
			return err
		}, nil, true},
		{"GetItem other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("alice")})
			return err
		}, nil, false},
		{"PutItem own partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: scores, Item: item("bob")})
			return err
		}, nil, true},
		{"PutItem other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: scores, Item: item("alice")})
			return err
		}, nil, false},
		{"PutItem ReturnValues ALL_OLD explicitly denied", "bob", func(c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: scores, Item: item("bob"), ReturnValues: types.ReturnValueAllOld})
			return err
		}, nil, false},
		{"UpdateItem own partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: scores, Key: key("bob"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": S("y")}, ReturnValues: types.ReturnValueUpdatedNew})
			return err
		}, nil, true},
		{"UpdateItem other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: scores, Key: key("alice"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": S("y")}})
			return err
		}, nil, false},
		{"DeleteItem own partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: scores, Key: map[string]types.AttributeValue{"pk": S("bob"), "sk": N("99")}})
			return err
		}, nil, true},
		{"DeleteItem other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: scores, Key: key("alice")})
			return err
		}, nil, false},
		{"Query own partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: scores, KeyConditionExpression: aws.String("pk = :p AND sk > :s"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": S("bob"), ":s": N("0")}})
			return err
		}, nil, true},
		{"Query other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: scores, KeyConditionExpression: aws.String("#p = :p"),
				ExpressionAttributeNames: map[string]string{"#p": "pk"}, ExpressionAttributeValues: map[string]types.AttributeValue{":p": S("alice")}})
			return err
		}, nil, false},
		{"Query legacy KeyConditions own partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: scores, KeyConditions: map[string]types.Condition{
				"pk": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{S("bob")}}}})
			return err
		}, nil, true},
		{"Query legacy KeyConditions other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: scores, KeyConditions: map[string]types.Condition{
				"pk": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{S("alice")}}}})
			return err
		}, nil, false},
		{"Query index own partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: scores, IndexName: aws.String("ByOwner"), KeyConditionExpression: aws.String("#o = :o"),
				ExpressionAttributeNames: map[string]string{"#o": "owner"}, ExpressionAttributeValues: map[string]types.AttributeValue{":o": S("bob")}})
			return err
		}, nil, true},
		{"Query index other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: scores, IndexName: aws.String("ByOwner"), KeyConditionExpression: aws.String("#o = :o"),
				ExpressionAttributeNames: map[string]string{"#o": "owner"}, ExpressionAttributeValues: map[string]types.AttributeValue{":o": S("alice")}})
			return err
		}, nil, false},
		{"BatchGetItem own keys", "bob", func(c *dynamodb.Client) error {
			_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				"Scores": {Keys: []map[string]types.AttributeValue{key("bob"), {"pk": S("bob"), "sk": N("7")}}}}})
			return err
		}, nil, true},
		{"BatchGetItem one foreign key", "bob", func(c *dynamodb.Client) error {
			_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				"Scores": {Keys: []map[string]types.AttributeValue{key("bob"), key("alice")}}}})
			return err
		}, nil, false},
		{"BatchGetItem second table denied", "bob", func(c *dynamodb.Client) error {
			_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				"Scores": {Keys: []map[string]types.AttributeValue{key("bob")}},
				"Secret": {Keys: []map[string]types.AttributeValue{{"pk": S("bob")}}}}})
			return err
		}, nil, false},
		{"BatchWriteItem own items", "bob", func(c *dynamodb.Client) error {
			_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
				"Scores": {{PutRequest: &types.PutRequest{Item: item("bob")}}}}})
			return err
		}, nil, true},
		{"BatchWriteItem one foreign delete", "bob", func(c *dynamodb.Client) error {
			_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
				"Scores": {{PutRequest: &types.PutRequest{Item: item("bob")}}, {DeleteRequest: &types.DeleteRequest{Key: key("alice")}}}}})
			return err
		}, nil, false},
		{"TransactGetItems own keys", "bob", func(c *dynamodb.Client) error {
			_, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
				{Get: &types.Get{TableName: scores, Key: key("bob")}}}})
			return err
		}, nil, true},
		{"TransactGetItems one foreign key", "bob", func(c *dynamodb.Client) error {
			_, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
				{Get: &types.Get{TableName: scores, Key: key("bob")}}, {Get: &types.Get{TableName: scores, Key: key("alice")}}}})
			return err
		}, nil, false},
		{"TransactWriteItems own Put", "bob", func(c *dynamodb.Client) error {
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: scores, Item: item("bob")}}}})
			return err
		}, nil, true},
		{"TransactWriteItems ConditionCheck needs ConditionCheckItem", "bob", func(c *dynamodb.Client) error {
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: scores, Item: item("bob")}},
				{ConditionCheck: &types.ConditionCheck{TableName: scores, Key: key("bob"), ConditionExpression: aws.String("attribute_exists(pk)")}}}})
			return err
		}, nil, false},
		{"Scan whole items", "bob", func(c *dynamodb.Client) error {
			_, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: scores})
			return err
		}, nil, false},
		{"Scan Select COUNT", "bob", func(c *dynamodb.Client) error {
			_, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: scores, Select: types.SelectCount})
			return err
		}, nil, true},
		{"GetItem explicitly denied table", "bob", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: secret, Key: map[string]types.AttributeValue{"pk": S("bob")}})
			return err
		}, nil, false},
		{"DescribeTable", "bob", func(c *dynamodb.Client) error {
			_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: scores})
			return err
		}, nil, true},
		{"ListTables", "bob", func(c *dynamodb.Client) error {
			_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}, nil, true},
		{"DeleteTable", "bob", func(c *dynamodb.Client) error {
			_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: scores})
			return err
		}, nil, false},
		{"CreateTable", "bob", func(c *dynamodb.Client) error {
			_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Mine"),
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
				BillingMode:          types.BillingModePayPerRequest})
			return err
		}, nil, false},
		{"ListTagsOfResource", "bob", func(c *dynamodb.Client) error {
			_, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: desc.Table.TableArn})
			return err
		}, nil, false},
		{"GetItem allowed attributes", "bob", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: profiles, Key: map[string]types.AttributeValue{"pk": S("bob")}, ProjectionExpression: aws.String("pk, #n"),
				ExpressionAttributeNames: map[string]string{"#n": "name"}})
			return err
		}, nil, true},
		{"GetItem AttributesToGet allowed", "bob", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: profiles, Key: map[string]types.AttributeValue{"pk": S("bob")}, AttributesToGet: []string{"name"}})
			return err
		}, nil, true},
		{"GetItem a forbidden attribute", "bob", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: profiles, Key: map[string]types.AttributeValue{"pk": S("bob")}, ProjectionExpression: aws.String("pk, email")})
			return err
		}, nil, false},
		{"GetItem whole item (Select ALL_ATTRIBUTES)", "bob", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: profiles, Key: map[string]types.AttributeValue{"pk": S("bob")}})
			return err
		}, nil, false},
		{"ExecuteStatement SELECT (PartiQLSelect)", "bob", func(c *dynamodb.Client) error {
			_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "Scores" WHERE pk = 'bob'`)})
			return err
		}, nil, true},
		{"ExecuteStatement SELECT other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "Scores" WHERE pk = 'alice'`)})
			return err
		}, nil, false},
		{"ExecuteStatement SELECT own partition by parameter", "bob", func(c *dynamodb.Client) error {
			_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "Scores" WHERE pk = ?`), Parameters: []types.AttributeValue{S("bob")}})
			return err
		}, nil, true},
		{"ExecuteStatement UPDATE other partition (PartiQLUpdate)", "bob", func(c *dynamodb.Client) error {
			_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`UPDATE "Scores" SET v = 'z' WHERE pk = 'alice' AND sk = 1`)})
			return err
		}, nil, false},
		{"ExecuteTransaction UPDATE own and other partition", "bob", func(c *dynamodb.Client) error {
			_, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
				{Statement: aws.String(`UPDATE "Scores" SET v = 'z' WHERE pk = 'bob' AND sk = 1`)},
				{Statement: aws.String(`UPDATE "Scores" SET v = 'z' WHERE pk = 'alice' AND sk = 1`)}}})
			return err
		}, nil, false},
		{"ExecuteStatement INSERT (PartiQLInsert)", "bob", func(c *dynamodb.Client) error {
			_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`INSERT INTO "Scores" VALUE {'pk': 'bob', 'sk': 5}`)})
			return err
		}, nil, false},
		{"DescribeStream", "bob", nil, func(c *dynamodbstreams.Client) error {
			_, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: streamArn})
			return err
		}, true},
		{"GetShardIterator and GetRecords", "bob", nil, func(c *dynamodbstreams.Client) error {
			d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: streamArn})
			if err != nil {
				return err
			}
			it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: streamArn,
				ShardId: d.StreamDescription.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON"})
			if err != nil {
				return err
			}
			_, err = c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
			return err
		}, true},
		{"ListStreams (resource *)", "bob", nil, func(c *dynamodbstreams.Client) error {
			_, err := c.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{})
			return err
		}, false},
		{"GetRecords of another principal's iterator", "carol", nil, func(c *dynamodbstreams.Client) error {
			_, bobStreams := iamClients(s, "bob")
			d, err := bobStreams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: streamArn})
			if err != nil {
				return err
			}
			it, err := bobStreams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: streamArn,
				ShardId: d.StreamDescription.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON"})
			if err != nil {
				return err
			}
			_, err = c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
			return err
		}, false},
		{"no policy: implicit deny", "carol", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("carol")})
			return err
		}, nil, false},
		{"anonymous is allowed", "anon", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: secret, Key: map[string]types.AttributeValue{"pk": S("x")}})
			return err
		}, nil, true},
		{"NotIpAddress excludes loopback", "dave", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("bob")})
			return err
		}, nil, false},
		{"IpAddress includes 127.0.0.1", "erin", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("bob")})
			return err
		}, nil, true},
		{"IpAddress policy has no PutItem", "erin", func(c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: scores, Item: item("erin")})
			return err
		}, nil, false},
		{"aws:CurrentTime before 2000", "frank", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("bob")})
			return err
		}, nil, false},
		{"aws:CurrentTime after 2000", "grace", func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("bob")})
			return err
		}, nil, true},
		{"aws:PrincipalArn ArnLike", "heidi", func(c *dynamodb.Client) error {
			_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: scores})
			return err
		}, nil, true},
		{"admin deletes a table", "admin", func(c *dynamodb.Client) error {
			_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: secret})
			return err
		}, nil, true},
	}
	if len(cases) < 40 {
		t.Fatalf("the matrix has %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, st := iamClients(s, tc.user)
			var err error
			if tc.ddb != nil {
				err = tc.ddb(d)
			} else {
				err = tc.strm(st)
			}
			var ae smithy.APIError
			denied := errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException"
			switch {
			case tc.allow && err != nil:
				t.Fatalf("want allowed, got %v", err)
			case !tc.allow && !denied:
				t.Fatalf("want AccessDeniedException, got %v", err)
			}
		})
	}

	// Nothing of a denied write was written.
	got, err := admin.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: map[string]types.AttributeValue{"pk": S("alice"), "sk": N("2")}, ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item != nil {
		t.Fatalf("denied PutItem wrote %v (%v)", got.Item, err)
	}
	if got, err := admin.GetItem(ctx, &dynamodb.GetItemInput{TableName: scores, Key: key("alice"), ConsistentRead: aws.Bool(true)}); err != nil || got.Item == nil {
		t.Fatalf("denied BatchWriteItem deleted alice's item (%v)", err)
	}
}

// TestAccessDeniedMessage: the status, type and message of a denial, in
// the shape of IAM's messages ("User: <arn> is not authorized to perform:
// <action> on resource: <arn> because no identity-based policy allows the
// <action> action", "... with an explicit deny in an identity-based
// policy"; the IAM User Guide, "Access denied error messages").
func TestAccessDeniedMessage(t *testing.T) {
	s := eddytest.Start(t, server.Options{Principal: userARN})
	admin, _ := iamClients(s, "admin")
	createTable(t, admin, "Tbl", false)
	if err := s.Policies().Put(userARN("bob"), "deny", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},{"Effect":"Deny","Action":"dynamodb:PutItem","Resource":"*"}]}`)); err != nil {
		t.Fatal(err)
	}
	table := "arn:aws:dynamodb:us-east-1:" + iamAccount + ":table/Tbl"
	_, err := admin.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Tbl"), Key: map[string]types.AttributeValue{"pk": S("a")}})
	apiErr(t, err, "AccessDeniedException", "User: "+userARN("admin")+" is not authorized to perform: dynamodb:GetItem on resource: "+table+" because no identity-based policy allows the dynamodb:GetItem action")
	bob, _ := iamClients(s, "bob")
	_, err = bob.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Tbl"), Item: map[string]types.AttributeValue{"pk": S("a")}})
	apiErr(t, err, "AccessDeniedException", "User: "+userARN("bob")+" is not authorized to perform: dynamodb:PutItem on resource: "+table+" with an explicit deny in an identity-based policy")
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(err.Error(), "explicit deny") {
		t.Fatal(err)
	}
}
