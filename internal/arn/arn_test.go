package arn

import "testing"

func TestARNs(t *testing.T) {
	a := Account{Region: "eu-west-1", ID: "123456789012"}
	for _, c := range []struct{ got, want string }{
		{a.Table("t"), "arn:aws:dynamodb:eu-west-1:123456789012:table/t"},
		{a.TablePrefix(), "arn:aws:dynamodb:eu-west-1:123456789012:table/"},
		{a.Index("t", "byG"), "arn:aws:dynamodb:eu-west-1:123456789012:table/t/index/byG"},
		{a.Stream("t", "2026-01-01T00:00:00.000"), "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"},
		{a.KMSKey("abcd"), "arn:aws:kms:eu-west-1:123456789012:key/abcd"},
		{a.KMSKey("alias/mine"), "arn:aws:kms:eu-west-1:123456789012:alias/mine"},
		{a.Function("f", ""), "arn:aws:lambda:eu-west-1:123456789012:function:f"},
		{a.Function("f", "live"), "arn:aws:lambda:eu-west-1:123456789012:function:f:live"},
		{a.Mapping("u"), "arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:u"},
		{Account{}.Table("t"), "arn:aws:dynamodb:us-east-1:000000000000:table/t"},
		{Account{Partition: "aws-cn", Region: "cn-north-1", ID: "1"}.Table("t"), "arn:aws-cn:dynamodb:cn-north-1:1:table/t"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}
