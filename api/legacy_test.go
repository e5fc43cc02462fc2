package api_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func TestLegacyExpected(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "leg", false)
	base := item{"pk": S("k"), "n": N("5"), "s": S("hello"), "ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}}
	putExp := func(exp map[string]types.ExpectedAttributeValue, op types.ConditionalOperator) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("leg"), Item: base, Expected: exp, ConditionalOperator: op})
		return err
	}
	// Exists false: only when absent.
	notExists := map[string]types.ExpectedAttributeValue{"pk": {Exists: aws.Bool(false)}}
	if err := putExp(notExists, ""); err != nil {
		t.Fatal(err)
	}
	var ccf *types.ConditionalCheckFailedException
	if err := putExp(notExists, ""); !errors.As(err, &ccf) {
		t.Fatalf("want ConditionalCheckFailed, got %v", err)
	}

	cmp := func(op types.ComparisonOperator, vals ...types.AttributeValue) types.ExpectedAttributeValue {
		return types.ExpectedAttributeValue{ComparisonOperator: op, AttributeValueList: vals}
	}
	cases := []struct {
		name string
		exp  map[string]types.ExpectedAttributeValue
		op   types.ConditionalOperator
		want bool
	}{
		{"value", map[string]types.ExpectedAttributeValue{"n": {Value: N("5")}}, "", true},
		{"value-exists", map[string]types.ExpectedAttributeValue{"n": {Value: N("6"), Exists: aws.Bool(true)}}, "", false},
		{"EQ", map[string]types.ExpectedAttributeValue{"n": cmp("EQ", N("5"))}, "", true},
		{"EQ-type", map[string]types.ExpectedAttributeValue{"n": cmp("EQ", S("5"))}, "", false},
		{"NE", map[string]types.ExpectedAttributeValue{"n": cmp("NE", N("5"))}, "", false},
		{"NE-absent", map[string]types.ExpectedAttributeValue{"zz": cmp("NE", N("5"))}, "", true},
		{"LT", map[string]types.ExpectedAttributeValue{"n": cmp("LT", N("10"))}, "", true},
		{"LE", map[string]types.ExpectedAttributeValue{"n": cmp("LE", N("4"))}, "", false},
		{"GT", map[string]types.ExpectedAttributeValue{"s": cmp("GT", S("hell"))}, "", true},
		{"GE", map[string]types.ExpectedAttributeValue{"n": cmp("GE", N("5"))}, "", true},
		{"NULL", map[string]types.ExpectedAttributeValue{"zz": cmp("NULL")}, "", true},
		{"NOT_NULL", map[string]types.ExpectedAttributeValue{"zz": cmp("NOT_NULL")}, "", false},
		{"CONTAINS-set", map[string]types.ExpectedAttributeValue{"ss": cmp("CONTAINS", S("a"))}, "", true},
		{"CONTAINS-str", map[string]types.ExpectedAttributeValue{"s": cmp("CONTAINS", S("ell"))}, "", true},
		{"NOT_CONTAINS", map[string]types.ExpectedAttributeValue{"ss": cmp("NOT_CONTAINS", S("a"))}, "", false},
		// A missing attribute fails NOT_CONTAINS as it fails CONTAINS (scylla's
		// test_update_expected_1_not_contains, run against DynamoDB).
		{"NOT_CONTAINS-absent", map[string]types.ExpectedAttributeValue{"zz": cmp("NOT_CONTAINS", S("a"))}, "", false},
		{"BEGINS_WITH", map[string]types.ExpectedAttributeValue{"s": cmp("BEGINS_WITH", S("he"))}, "", true},
		{"IN", map[string]types.ExpectedAttributeValue{"n": cmp("IN", N("1"), N("5"))}, "", true},
		{"IN-miss", map[string]types.ExpectedAttributeValue{"n": cmp("IN", N("1"), N("2"))}, "", false},
		{"BETWEEN", map[string]types.ExpectedAttributeValue{"n": cmp("BETWEEN", N("5"), N("7"))}, "", true},
		{"BETWEEN-out", map[string]types.ExpectedAttributeValue{"n": cmp("BETWEEN", N("6"), N("7"))}, "", false},
		{"AND", map[string]types.ExpectedAttributeValue{"n": cmp("EQ", N("5")), "s": cmp("EQ", S("x"))}, "AND", false},
		{"OR", map[string]types.ExpectedAttributeValue{"n": cmp("EQ", N("5")), "s": cmp("EQ", S("x"))}, "OR", true},
	}
	for _, tc := range cases {
		err := putExp(tc.exp, tc.op)
		switch {
		case tc.want && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.want && !errors.As(err, &ccf):
			t.Errorf("%s: want ConditionalCheckFailed, got %v", tc.name, err)
		}
	}

	errCases := []struct {
		exp map[string]types.ExpectedAttributeValue
		msg string
	}{
		{map[string]types.ExpectedAttributeValue{"n": {}}, "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: n"},
		{map[string]types.ExpectedAttributeValue{"n": {Exists: aws.Bool(false), Value: N("1")}}, "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: n"},
		{map[string]types.ExpectedAttributeValue{"n": {Exists: aws.Bool(true), ComparisonOperator: "EQ", AttributeValueList: []types.AttributeValue{N("1")}}}, "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: n"},
		{map[string]types.ExpectedAttributeValue{"n": cmp("BETWEEN", N("1"))}, "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"},
		{map[string]types.ExpectedAttributeValue{"n": cmp("BETWEEN", N("7"), N("1"))}, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
		{map[string]types.ExpectedAttributeValue{"n": cmp("LT", &types.AttributeValueMemberSS{Value: []string{"x"}})}, "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type"},
		{map[string]types.ExpectedAttributeValue{"n": cmp("IN", N("1"), S("x"))}, "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"},
	}
	for _, tc := range errCases {
		apiErr(t, putExp(tc.exp, ""), "ValidationException", tc.msg)
	}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("leg"), Item: base, Expected: notExists, ConditionExpression: aws.String("attribute_exists(pk)")})
	apiErr(t, err, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")

	// DeleteItem with Expected.
	_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("leg"), Key: item{"pk": S("k")},
		Expected: map[string]types.ExpectedAttributeValue{"n": {Value: N("4")}}})
	if !errors.As(err, &ccf) {
		t.Fatalf("delete: want ConditionalCheckFailed, got %v", err)
	}
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("leg"), Key: item{"pk": S("k")},
		Expected: map[string]types.ExpectedAttributeValue{"n": {Value: N("5")}}}); err != nil {
		t.Fatal(err)
	}
	if getItem(t, c, "leg", item{"pk": S("k")}) != nil {
		t.Fatal("not deleted")
	}
}

func TestLegacyAttributeUpdates(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "legu", false)
	key := item{"pk": S("k")}
	update := func(u map[string]types.AttributeValueUpdate, exp map[string]types.ExpectedAttributeValue, rv types.ReturnValue) (*dynamodb.UpdateItemOutput, error) {
		return c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("legu"), Key: key, AttributeUpdates: u, Expected: exp, ReturnValues: rv})
	}
	ss := func(v ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: v} }
	out, err := update(map[string]types.AttributeValueUpdate{
		"name":  {Value: S("x")}, // Action defaults to PUT
		"count": {Action: "ADD", Value: N("3")},
		"tags":  {Action: "ADD", Value: ss("a", "b")},
		"log":   {Action: "ADD", Value: L(S("one"))},
	}, map[string]types.ExpectedAttributeValue{"pk": {Exists: aws.Bool(false)}}, types.ReturnValueAllNew)
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, out.Attributes, item{"pk": S("k"), "name": S("x"), "count": N("3"), "tags": ss("a", "b"), "log": L(S("one"))})

	out, err = update(map[string]types.AttributeValueUpdate{
		"count": {Action: "ADD", Value: N("-1")},
		"tags":  {Action: "DELETE", Value: ss("a")},
		"log":   {Action: "ADD", Value: L(S("two"))},
		"name":  {Action: "DELETE"},
	}, map[string]types.ExpectedAttributeValue{"count": {ComparisonOperator: "GE", AttributeValueList: []types.AttributeValue{N("3")}}}, types.ReturnValueUpdatedNew)
	if err != nil {
		t.Fatal(err)
	}
	assertItem(t, out.Attributes, item{"count": N("2"), "tags": ss("b"), "log": L(S("one"), S("two"))})
	assertItem(t, getItem(t, c, "legu", key), item{"pk": S("k"), "count": N("2"), "tags": ss("b"), "log": L(S("one"), S("two"))})

	// Deleting the last members removes the attribute.
	if _, err := update(map[string]types.AttributeValueUpdate{"tags": {Action: "DELETE", Value: ss("b")}}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := getItem(t, c, "legu", key)["tags"]; ok {
		t.Fatal("empty set kept")
	}

	for _, tc := range []struct {
		u   map[string]types.AttributeValueUpdate
		msg string
	}{
		{map[string]types.AttributeValueUpdate{"count": {Action: "ADD", Value: ss("x")}}, "Type mismatch for attribute to update"},
		{map[string]types.AttributeValueUpdate{"count": {Action: "PUT"}}, "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"},
		{map[string]types.AttributeValueUpdate{"count": {Action: "DELETE", Value: N("1")}}, "One or more parameter values were invalid: DELETE action with value is not supported for the type N"},
		{map[string]types.AttributeValueUpdate{"count": {Action: "ADD", Value: S("1")}}, "One or more parameter values were invalid: ADD action is not supported for the type S"},
		{map[string]types.AttributeValueUpdate{"pk": {Value: S("other")}}, "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
	} {
		_, err := update(tc.u, nil, "")
		apiErr(t, err, "ValidationException", tc.msg)
	}
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("legu"), Key: key,
		AttributeUpdates: map[string]types.AttributeValueUpdate{"a": {Value: S("x")}}, ConditionExpression: aws.String("attribute_exists(pk)")})
	apiErr(t, err, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {ConditionExpression}")
}
