package iam

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

// TestParseMalformed: documents IAM refuses, with IAM's messages (moto's
// iam/policy_validation.py and tests/test_iam/test_iam_policies.py recorded
// them from IAM).
func TestParseMalformed(t *testing.T) {
	for _, tc := range []struct{ doc, msg string }{
		{`not json`, msgSyntax},
		{`[]`, msgSyntax},
		{`{"Version":"2012-10-17"}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":[]}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"},"Extra":1}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"}}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:x","Resource":"*"}}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":1,"Resource":"*"}}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}`, msgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"a:b":{"x":1}}}}}`, msgSyntax},
		{`{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, msgSyntax},
		{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, msgVersion},
		{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, msgVersion},
		{`{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}`, msgLegacy},
		{`{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, msgSidUnique},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, msgNoActions},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, msgNoActions},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`, msgNoResources},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"table/T"}}`, `Resource table/T must be in ARN format or "*".`},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetItem","Resource":"*"}}`, msgVendor},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:a:b","Resource":"*"}}`, msgOneColon},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dyna/mo:GetItem","Resource":"*"}}`, "Vendor dyna/mo is not valid"},
	} {
		_, err := Parse([]byte(tc.doc))
		var me *MalformedError
		if !errors.As(err, &me) || me.Message != tc.msg {
			t.Errorf("Parse(%s) = %v, want MalformedPolicyDocument %q", tc.doc, err, tc.msg)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":["` + strings.Repeat("arn:aws:s3:::b/x", 400) + `"]}}`
	var le *LimitError
	if _, err := Parse([]byte(doc)); !errors.As(err, &le) || le.Message != "Cannot exceed quota for PolicySize: 6144" {
		t.Fatalf("got %v", err)
	}
}

func TestEvaluate(t *testing.T) {
	const table = "arn:aws:dynamodb:us-east-1:123456789012:table/T"
	ctx := func(kv ...string) Context {
		c := Context{}
		for i := 0; i+1 < len(kv); i += 2 {
			v, _ := c.Get(kv[i])
			c.Set(kv[i], append(v, kv[i+1])...)
		}
		return c
	}
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	for _, tc := range []struct {
		name     string
		policy   string
		action   string
		res      string
		ctx      Context
		allowed  bool
		explicit bool
	}{
		{"exact", stmt(`{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"` + table + `"}`), "dynamodb:GetItem", table, nil, true, false},
		{"action case-insensitive", stmt(`{"Effect":"Allow","Action":"DynamoDB:getitem","Resource":"*"}`), "dynamodb:GetItem", table, nil, true, false},
		{"action star", stmt(`{"Effect":"Allow","Action":"dynamodb:Get*","Resource":"*"}`), "dynamodb:GetItem", table, nil, true, false},
		{"action question", stmt(`{"Effect":"Allow","Action":"dynamodb:?etItem","Resource":"*"}`), "dynamodb:GetItem", table, nil, true, false},
		{"other action", stmt(`{"Effect":"Allow","Action":"dynamodb:Get*","Resource":"*"}`), "dynamodb:PutItem", table, nil, false, false},
		{"NotAction", stmt(`{"Effect":"Allow","NotAction":"dynamodb:Delete*","Resource":"*"}`), "dynamodb:PutItem", table, nil, true, false},
		{"NotAction excludes", stmt(`{"Effect":"Allow","NotAction":"dynamodb:Delete*","Resource":"*"}`), "dynamodb:DeleteItem", table, nil, false, false},
		{"resource case-sensitive", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/t"}`), "dynamodb:GetItem", table, nil, false, false},
		{"NotResource", stmt(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:dynamodb:*:*:table/Secret"}`), "dynamodb:GetItem", table, nil, true, false},
		{"explicit deny wins", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"dynamodb:GetItem","Resource":"*"}`), "dynamodb:GetItem", table, nil, false, true},
		{"variable", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:dynamodb:*:*:table/${aws:username}-*"}`), "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/bob-data", ctx("aws:username", "bob"), true, false},
		{"variable other user", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:dynamodb:*:*:table/${aws:username}-*"}`), "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/bob-data", ctx("aws:username", "alice"), false, false},
		{"variable missing", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:dynamodb:*:*:table/${aws:username}"}`), "dynamodb:GetItem", table, nil, false, false},
		{"variable wildcard value", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:dynamodb:*:*:table/${aws:username}"}`), "dynamodb:GetItem", table, ctx("aws:username", "*"), false, false},
		{"StringEquals", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"dynamodb:Select":"COUNT"}}}`), "dynamodb:Query", table, ctx("dynamodb:Select", "COUNT"), true, false},
		{"StringEquals missing", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"dynamodb:Select":"COUNT"}}}`), "dynamodb:Query", table, nil, false, false},
		{"StringEqualsIfExists missing", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"dynamodb:Select":"COUNT"}}}`), "dynamodb:Query", table, nil, true, false},
		{"StringNotEquals missing", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"dynamodb:Select":"ALL_ATTRIBUTES"}}}`), "dynamodb:Query", table, nil, true, false},
		{"StringNotEquals", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"dynamodb:Select":"ALL_ATTRIBUTES"}}}`), "dynamodb:Query", table, ctx("dynamodb:Select", "ALL_ATTRIBUTES"), false, false},
		{"StringEqualsIgnoreCase", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:username":"BOB"}}}`), "dynamodb:Query", table, ctx("aws:username", "bob"), true, false},
		{"StringLike", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/b*"}}}`), "dynamodb:Query", table, ctx("aws:PrincipalArn", "arn:aws:iam::1:user/bob"), true, false},
		{"StringNotLike", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotLike":{"aws:username":"b*"}}}`), "dynamodb:Query", table, ctx("aws:username", "bob"), false, false},
		{"condition key case-insensitive", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"DYNAMODB:select":"COUNT"}}}`), "dynamodb:Query", table, ctx("dynamodb:Select", "COUNT"), true, false},
		{"ForAllValues subset", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["a","b","c"]}}}`), "dynamodb:GetItem", table, ctx("dynamodb:Attributes", "a", "dynamodb:Attributes", "b"), true, false},
		{"ForAllValues extra", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["a","b"]}}}`), "dynamodb:GetItem", table, ctx("dynamodb:Attributes", "a", "dynamodb:Attributes", "z"), false, false},
		{"ForAllValues empty", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["a"]}}}`), "dynamodb:GetItem", table, nil, true, false},
		{"ForAnyValue", stmt(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["secret"]}}},{"Effect":"Allow","Action":"*","Resource":"*"}`), "dynamodb:GetItem", table, ctx("dynamodb:Attributes", "a", "dynamodb:Attributes", "secret"), false, true},
		{"ForAnyValue missing", stmt(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["secret"]}}},{"Effect":"Allow","Action":"*","Resource":"*"}`), "dynamodb:GetItem", table, nil, true, false},
		{"Null true", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"dynamodb:Select":"true"}}}`), "dynamodb:GetItem", table, nil, true, false},
		{"Null false", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"dynamodb:Select":"false"}}}`), "dynamodb:GetItem", table, nil, false, false},
		{"Bool", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}`), "dynamodb:GetItem", table, ctx("aws:SecureTransport", "true"), true, false},
		{"Numeric", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThanEquals":{"x:n":10}}}`), "dynamodb:GetItem", table, ctx("x:n", "9.5"), true, false},
		{"Numeric over", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"x:n":"10"}}}`), "dynamodb:GetItem", table, ctx("x:n", "10"), false, false},
		{"Date", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`), "dynamodb:GetItem", table, ctx("aws:CurrentTime", "2026-12-05T13:00:00Z"), true, false},
		{"Date after", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01"}}}`), "dynamodb:GetItem", table, ctx("aws:CurrentTime", "2026-12-05T13:00:00Z"), false, false},
		{"IpAddress", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.1"]}}}`), "dynamodb:GetItem", table, ctx("aws:SourceIp", "127.0.0.1"), true, false},
		{"NotIpAddress", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), "dynamodb:GetItem", table, ctx("aws:SourceIp", "10.1.2.3"), false, false},
		{"ArnLike", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/fn-*"}}}`), "dynamodb:GetItem", table, ctx("aws:PrincipalArn", "arn:aws:iam::1:role/fn-a"), true, false},
		{"ArnLike no colon crossing", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*"}}}`), "dynamodb:GetItem", table, ctx("aws:PrincipalArn", "arn:aws:iam::1:role/fn-a"), false, false},
		{"condition variable", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}}`), "dynamodb:GetItem", table, ctx("aws:username", "bob", "dynamodb:LeadingKeys", "bob"), true, false},
		{"condition variable other", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}}`), "dynamodb:GetItem", table, ctx("aws:username", "bob", "dynamodb:LeadingKeys", "alice"), false, false},
		{"two keys both", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"dynamodb:Select":"COUNT","aws:username":"bob"}}}`), "dynamodb:GetItem", table, ctx("aws:username", "bob"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.policy)
			d := Evaluate([]Named{{Name: "p", Policy: p}}, &Request{Action: tc.action, Resource: tc.res, Context: tc.ctx})
			if d.Allowed != tc.allowed || d.ExplicitDeny != tc.explicit {
				t.Errorf("got allowed=%v explicit=%v, want %v %v", d.Allowed, d.ExplicitDeny, tc.allowed, tc.explicit)
			}
		})
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*b", "ab", true}, {"a*b", "axxb", true}, {"a*b", "axxbc", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	} {
		if got := wildcard(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// FuzzParse: no document makes Parse panic, and what it accepts
// evaluates without panicking.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Deny","NotAction":["dynamodb:Get*"],"NotResource":"arn:aws:dynamodb:*:*:table/${aws:username}","Condition":{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["${aws:username}","a?"]},"NumericLessThanIfExists":{"x:y":[1,2.5]},"Null":{"a:b":true},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}}}`,
		`{}`, `[`, `{"Statement":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			var me *MalformedError
			var le *LimitError
			if !errors.As(err, &me) && !errors.As(err, &le) {
				t.Fatalf("error %T, want *MalformedError or *LimitError", err)
			}
			return
		}
		ctx := Context{}
		ctx.Set("aws:username", "bob")
		ctx.Set("dynamodb:LeadingKeys", "bob", "x")
		ctx.Set("aws:SourceIp", "10.1.2.3")
		ctx.Set("aws:CurrentTime", "2026-12-05T13:00:00Z")
		Evaluate([]Named{{Name: "f", Policy: p}}, &Request{Principal: "arn:aws:iam::1:user/bob", Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:1:table/T", Context: ctx})
	})
}

// BenchmarkEvaluate: one request against a user's typical fine-grained
// policy set (3 policies, 6 statements, LeadingKeys and Attributes
// conditions, a policy variable).
func BenchmarkEvaluate(b *testing.B) {
	policies := []Named{
		{"read-own", mustParse(b, `{"Version":"2012-10-17","Statement":[{"Sid":"OwnItems","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:BatchGetItem","dynamodb:PutItem","dynamodb:UpdateItem"],"Resource":["arn:aws:dynamodb:*:*:table/GameScores","arn:aws:dynamodb:*:*:table/GameScores/index/*"],"Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"],"dynamodb:Attributes":["UserId","GameTitle","TopScore","Wins","Losses"]},"StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}}]}`)},
		{"deny-admin", mustParse(b, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["dynamodb:DeleteTable","dynamodb:UpdateTable","dynamodb:CreateTable"],"Resource":"*"},{"Effect":"Deny","Action":"dynamodb:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","10.0.0.0/8"]}}}]}`)},
		{"streams", mustParse(b, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams"],"Resource":"arn:aws:dynamodb:*:*:table/*/stream/*"},{"Effect":"Allow","Action":"dynamodb:DescribeTable","Resource":"*"}]}`)},
	}
	ctx := Context{}
	ctx.Set("aws:username", "bob")
	ctx.Set("aws:SourceIp", "127.0.0.1")
	ctx.Set("dynamodb:LeadingKeys", "bob")
	ctx.Set("dynamodb:Attributes", "UserId", "GameTitle", "TopScore")
	ctx.Set("dynamodb:Select", "SPECIFIC_ATTRIBUTES")
	req := &Request{Principal: "arn:aws:iam::1:user/bob", Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:us-east-1:1:table/GameScores/index/TopScores", Context: ctx}
	b.ReportAllocs()
	for b.Loop() {
		if d := Evaluate(policies, req); !d.Allowed {
			b.Fatal("denied")
		}
	}
}
