package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestDisabledStreamDescription: after UpdateTable disables a table's
// stream, DescribeTable leaves StreamSpecification out (as for a table that
// never had one) and keeps LatestStreamArn and LatestStreamLabel; a second
// disable is refused; re-enabling makes a new stream. As recorded from
// DynamoDB (us-west-2, 2026-10).
func TestDisabledStreamDescription(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "strmoff", false)
	on := &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}
	u, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("strmoff"), StreamSpecification: on})
	if err != nil {
		t.Fatal(err)
	}
	first := aws.ToString(u.TableDescription.LatestStreamArn)
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("strmoff"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("strmoff")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Table.StreamSpecification != nil || aws.ToString(d.Table.LatestStreamArn) != first || d.Table.LatestStreamLabel == nil {
		t.Fatalf("after disable: StreamSpecification %+v, LatestStreamArn %q (want none and %q)", d.Table.StreamSpecification, aws.ToString(d.Table.LatestStreamArn), first)
	}
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("strmoff"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}})
	apiErr(t, err, "ValidationException", "Table has no stream to disable: TableName: strmoff")
	u, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("strmoff"), StreamSpecification: on})
	if err != nil || aws.ToString(u.TableDescription.LatestStreamArn) == first || u.TableDescription.StreamSpecification == nil {
		t.Fatalf("re-enable: %+v %v", u, err)
	}
}

// TestTagLengthsInCharacters: a tag key of 128 characters and a value of
// 256 are accepted whatever their UTF-8 length; one more character is not.
func TestTagLengthsInCharacters(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "tagchars", false)
	arn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/tagchars")
	key, val := strings.Repeat("é", 128), strings.Repeat("日", 256)
	if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(val)}}}); err != nil {
		t.Fatalf("128-character key, 256-character value: %v", err)
	}
	_, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String(key + "é"), Value: aws.String("v")}}})
	apiErr(t, err, "ValidationException", "")
}
