package api_test

import "testing"

// TestDeleteTableReducedDescription: DeleteTable answers a reduced table
// description (name, status, throughput, size, count, ARN, ID, billing),
// without the attribute definitions, key schema, creation time, indexes
// or stream a DescribeTable holds. The shape is a DeleteTable output
// recorded from a real account (a CDK workshop's README: a provisioned
// table) and AWS's getting-started output for an on-demand one.
func TestDeleteTableReducedDescription(t *testing.T) {
	e := startSnap(t)
	e.ddb("CreateTable", `{"TableName":"gone","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"GlobalSecondaryIndexes":[{"IndexName":"byg","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}],
		"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}}`)
	e.same("DeleteTable on demand", e.ddb("DeleteTable", `{"TableName":"gone"}`), `{"TableDescription":{
		"TableName":"<table-name>","TableStatus":"<table-status>",
		"ProvisionedThroughput":{"NumberOfDecreasesToday":0,"ReadCapacityUnits":0,"WriteCapacityUnits":0},
		"TableSizeBytes":0,"ItemCount":0,"TableArn":"<arn>","TableId":"<uuid>",
		"BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST","LastUpdateToPayPerRequestDateTime":"datetime"},
		"DeletionProtectionEnabled":false}}`)
	e.ddb("CreateTable", `{"TableName":"gone2","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`)
	e.same("DeleteTable provisioned", e.ddb("DeleteTable", `{"TableName":"gone2"}`), `{"TableDescription":{
		"TableName":"<table-name>","TableStatus":"<table-status>",
		"ProvisionedThroughput":{"NumberOfDecreasesToday":0,"ReadCapacityUnits":5,"WriteCapacityUnits":5},
		"TableSizeBytes":0,"ItemCount":0,"TableArn":"<arn>","TableId":"<uuid>",
		"DeletionProtectionEnabled":false}}`)
}
