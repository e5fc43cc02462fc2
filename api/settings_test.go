package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestContributorInsights: DISABLED by default, ENABLING answered to an
// enable and ENABLED reported after, the table listed once enabled (and,
// with TableName, with its global indexes), an unknown index not found, a
// table created again under the same name back to DISABLED
// (nubo-db/dynamodb-conformance tests/tier2/contributorInsights/basic.test.ts).
func TestContributorInsights(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	gsi := func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{IndexName: aws.String("byg"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}
	}
	mustCreate(t, c, hashTable("cins", gsi))
	mustCreate(t, c, hashTable("other", nil))
	status := func(table string, index *string) types.ContributorInsightsStatus {
		t.Helper()
		out, err := c.DescribeContributorInsights(ctx, &dynamodb.DescribeContributorInsightsInput{TableName: aws.String(table), IndexName: index})
		if err != nil {
			t.Fatal(err)
		}
		return out.ContributorInsightsStatus
	}
	if s := status("cins", nil); s != types.ContributorInsightsStatusDisabled {
		t.Fatalf("default status %s", s)
	}
	up, err := c.UpdateContributorInsights(ctx, &dynamodb.UpdateContributorInsightsInput{TableName: aws.String("cins"),
		ContributorInsightsAction: types.ContributorInsightsActionEnable})
	if err != nil || up.ContributorInsightsStatus != types.ContributorInsightsStatusEnabling {
		t.Fatalf("enable: %+v %v", up, err)
	}
	if s := status("cins", nil); s != types.ContributorInsightsStatusEnabled {
		t.Fatalf("after enabling: %s", s)
	}
	if s := status("cins", aws.String("byg")); s != types.ContributorInsightsStatusDisabled {
		t.Fatalf("the index after enabling the table: %s", s)
	}
	l, err := c.ListContributorInsights(ctx, &dynamodb.ListContributorInsightsInput{})
	if err != nil || len(l.ContributorInsightsSummaries) != 1 || aws.ToString(l.ContributorInsightsSummaries[0].TableName) != "cins" {
		t.Fatalf("list: %+v %v", l, err)
	}
	l, err = c.ListContributorInsights(ctx, &dynamodb.ListContributorInsightsInput{TableName: aws.String("cins")})
	if err != nil || len(l.ContributorInsightsSummaries) != 2 || aws.ToString(l.ContributorInsightsSummaries[1].IndexName) != "byg" ||
		l.ContributorInsightsSummaries[1].ContributorInsightsStatus != types.ContributorInsightsStatusDisabled {
		t.Fatalf("list of ci: %+v %v", l, err)
	}
	_, err = c.DescribeContributorInsights(ctx, &dynamodb.DescribeContributorInsightsInput{TableName: aws.String("cins"), IndexName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.UpdateContributorInsights(ctx, &dynamodb.UpdateContributorInsightsInput{TableName: aws.String("cins"), ContributorInsightsAction: "ON"})
	apiErr(t, err, "ValidationException", "1 validation error detected: Value 'ON' at 'contributorInsightsAction' failed to satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]")
	_, err = c.DescribeContributorInsights(ctx, &dynamodb.DescribeContributorInsightsInput{TableName: aws.String("nosuch")})
	wantCode(t, err, "ResourceNotFoundException")

	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("cins")}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, hashTable("cins", nil))
	if s := status("cins", nil); s != types.ContributorInsightsStatusDisabled {
		t.Fatalf("a table created again inherited %s", s)
	}
}

// TestResourcePolicies: Put/Get/Delete of a table's resource-based policy
// with DynamoDB's revision rules and messages (moto's AWS-verified
// test_dynamodb_resource_policy.py; nubo-db/dynamodb-conformance
// tests/tier2/resourcePolicy/basic.test.ts).
func TestResourcePolicies(t *testing.T) {
	c := eddytest.Start(t, server.Options{}).DDB
	arn := aws.ToString(mustCreate(t, c, hashTable("rpol", nil)).TableDescription.TableArn)
	doc := func(action string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"` + action + `","Resource":"` + arn + `"}]}`)
	}
	_, err := c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	apiErr(t, err, "PolicyNotFoundException", "Resource-based policy not found for the provided ResourceArn: "+arn)
	p1, err := c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: doc("dynamodb:GetItem")})
	if err != nil || aws.ToString(p1.RevisionId) == "" {
		t.Fatalf("put: %+v %v", p1, err)
	}
	same, err := c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: doc("dynamodb:GetItem")})
	if err != nil || aws.ToString(same.RevisionId) != aws.ToString(p1.RevisionId) {
		t.Fatalf("the same policy again: %+v %v, want revision %s", same, err, aws.ToString(p1.RevisionId))
	}
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: doc("dynamodb:PutItem"), ExpectedRevisionId: aws.String("NO_POLICY")})
	apiErr(t, err, "PolicyNotFoundException", "Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table rpol, but a policy exists with revision id "+aws.ToString(p1.RevisionId)+".")
	p2, err := c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: doc("dynamodb:PutItem"), ExpectedRevisionId: p1.RevisionId})
	if err != nil || aws.ToString(p2.RevisionId) <= aws.ToString(p1.RevisionId) {
		t.Fatalf("put against the current revision: %+v %v", p2, err)
	}
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: doc("dynamodb:Query"), ExpectedRevisionId: p1.RevisionId})
	apiErr(t, err, "PolicyNotFoundException", "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id "+
		aws.ToString(p1.RevisionId)+", but the policy associated to target table rpol has revision id "+aws.ToString(p2.RevisionId)+".")
	got, err := c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	if err != nil || aws.ToString(got.Policy) != aws.ToString(doc("dynamodb:PutItem")) || aws.ToString(got.RevisionId) != aws.ToString(p2.RevisionId) {
		t.Fatalf("get: %+v %v", got, err)
	}
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String("not json")})
	wantCode(t, err, "ValidationException")
	_, err = c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn + "unknown")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: rpolunknown not found")
	_, err = c.DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: aws.String(arn), ExpectedRevisionId: aws.String("unknown")})
	apiErr(t, err, "PolicyNotFoundException", "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id unknown, but the policy associated to target table rpol has revision id "+aws.ToString(p2.RevisionId)+".")
	del, err := c.DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: aws.String(arn)})
	if err != nil || aws.ToString(del.RevisionId) != aws.ToString(p2.RevisionId) {
		t.Fatalf("delete: %+v %v", del, err)
	}
	_, err = c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	wantCode(t, err, "PolicyNotFoundException")

	// A table created again under the same name has no policy.
	if _, err := c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: doc("dynamodb:GetItem")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("rpol")}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, hashTable("rpol", nil))
	_, err = c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	wantCode(t, err, "PolicyNotFoundException")
}

// TestCreateTableResourcePolicyAndVectorIndexes: CreateTable's
// ResourcePolicy is the table's policy from the start (GetResourcePolicy
// returns it); VectorIndexes, which eddy cannot build, are refused and no
// table is made, where the member used to be dropped silently.
func TestCreateTableResourcePolicyAndVectorIndexes(t *testing.T) {
	c := eddytest.Start(t, server.Options{})
	d := c.DDB
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"dynamodb:GetItem","Resource":"*"}]}`
	out := mustCreate(t, d, hashTable("withpol", func(in *dynamodb.CreateTableInput) { in.ResourcePolicy = aws.String(doc) }))
	got, err := d.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: out.TableDescription.TableArn})
	if err != nil || aws.ToString(got.Policy) != doc || aws.ToString(got.RevisionId) == "" {
		t.Fatalf("policy of a table created with one: %+v %v", got, err)
	}
	_, err = d.CreateTable(ctx, hashTable("badpol", func(in *dynamodb.CreateTableInput) { in.ResourcePolicy = aws.String("{") }))
	wantCode(t, err, "ValidationException")

	_, err = d.CreateTable(ctx, hashTable("vec", func(in *dynamodb.CreateTableInput) {
		in.VectorIndexes = []types.VectorIndex{{IndexName: aws.String("v"), Dimensions: aws.Int64(3), DistanceFunction: "COSINE",
			VectorAttribute: &types.VectorAttributeDefinition{AttributeName: aws.String("e")},
			Projection:      &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}}
	}))
	wantCode(t, err, "ValidationException")
	for _, name := range []string{"vec", "badpol"} {
		_, err = d.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		wantCode(t, err, "ResourceNotFoundException")
	}
}
