package api

import (
	"context"
	"testing"
	"time"

	"github.com/eddydb/eddy/iam"
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// staticPolicies is an api.Policies of fixed policies for every principal.
type staticPolicies []iam.Named

func (p staticPolicies) For(string) ([]iam.Named, bool) { return p, true }

// BenchmarkAuthorizedGetItem: an in-process GetItem and Query (no HTTP),
// anonymous ("open") and as a principal whose fine-grained policy
// (LeadingKeys, Attributes, Select conditions; an explicit deny
// statement) is evaluated; the difference is authorization's cost per
// request.
//
//	go test ./api -run '^$' -bench AuthorizedGetItem
func BenchmarkAuthorizedGetItem(b *testing.B) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	l, err := streams.Open(db, streams.Options{ShardCount: 1, MaintenanceInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	db.RegisterChangeLog(l)
	b.Cleanup(func() { l.Close(); db.Close() })
	p, err := iam.Parse([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:*:*:table/bench",
		 "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"],"dynamodb:Attributes":["pk","sk","name","n"]},
		              "StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}},
		{"Effect":"Deny","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/secret*"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	s := New(Deps{DB: db, Log: l, Policies: staticPolicies{{Name: "p", Policy: p}}}, Config{})
	bg := context.Background()
	if _, err := s.Call(bg, "CreateTable", []byte(`{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]}`), ""); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Call(bg, "PutItem", []byte(`{"TableName":"bench","Item":{"pk":{"S":"bob"},"sk":{"N":"1"},"name":{"S":"Bob"},"n":{"N":"7"}}}`), ""); err != nil {
		b.Fatal(err)
	}
	get := []byte(`{"TableName":"bench","Key":{"pk":{"S":"bob"},"sk":{"N":"1"}},"ProjectionExpression":"pk, sk, #n","ExpressionAttributeNames":{"#n":"name"}}`)
	query := []byte(`{"TableName":"bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"bob"}},"ProjectionExpression":"pk, n"}`)
	as := arn.WithPrincipal(bg, "arn:aws:iam::000000000000:user/bob")
	// authorize alone: decoding what authorization reads, the condition
	// keys, and evaluating the policy (what the end-to-end pairs differ by).
	for _, bc := range []struct {
		op  string
		req []byte
	}{{"GetItem", get}, {"Query", query}} {
		b.Run(bc.op+"/authorize-only", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := &call{op: bc.op, body: bc.req, region: "us-east-1", principalARN: "arn:aws:iam::000000000000:user/bob", sourceIP: "127.0.0.1"}
				if err := s.authorize(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, bc := range []struct {
		name string
		ctx  context.Context
		op   string
		req  []byte
	}{
		{"GetItem/open", bg, "GetItem", get},
		{"GetItem/authorized", as, "GetItem", get},
		{"Query/open", bg, "Query", query},
		{"Query/authorized", as, "Query", query},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Call(bc.ctx, bc.op, bc.req, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
