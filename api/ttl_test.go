package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func TestTimeToLive(t *testing.T) {
	s := eddytest.Start(t, server.Options{TTLSweepInterval: 100 * time.Millisecond})
	c := s.DDB
	createTable(t, c, "sess", false)
	desc := func() *types.TimeToLiveDescription {
		t.Helper()
		out, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("sess")})
		if err != nil {
			t.Fatal(err)
		}
		return out.TimeToLiveDescription
	}
	if d := desc(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled || d.AttributeName != nil {
		t.Fatalf("initial %+v", d)
	}
	update := func(enabled bool, name string) error {
		_, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("sess"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(enabled), AttributeName: aws.String(name)}})
		return err
	}
	apiErr(t, update(false, "exp"), "ValidationException", "TimeToLive is already disabled")

	now := time.Now().Unix()
	put := func(pk string, exp types.AttributeValue) {
		it := item{"pk": S(pk)}
		if exp != nil {
			it["exp"] = exp
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("sess"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	put("past", N(fmt.Sprint(now-60)))
	put("future", N(fmt.Sprint(now+3600)))
	put("string", S(fmt.Sprint(now-60)))           // not a Number: kept
	put("ancient", N(fmt.Sprint(now-6*365*86400))) // more than 5 years ago: kept
	put("none", nil)
	put("renewed", N(fmt.Sprint(now-60)))

	// Expired but not yet swept: still readable (TTL is off so far).
	if getItem(t, c, "sess", item{"pk": S("past")}) == nil {
		t.Fatal("expired item vanished before TTL was enabled")
	}
	// Renew one item before enabling: it must survive.
	put("renewed", N(fmt.Sprint(now+3600)))

	if err := update(true, "exp"); err != nil {
		t.Fatal(err)
	}
	if d := desc(); d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || *d.AttributeName != "exp" {
		t.Fatalf("enabled %+v", d)
	}
	apiErr(t, update(true, "exp"), "ValidationException", "TimeToLive is already enabled")

	deadline := time.Now().Add(5 * time.Second)
	for getItem(t, c, "sess", item{"pk": S("past")}) != nil {
		if time.Now().After(deadline) {
			t.Fatal("expired item not deleted within 5s at a 100ms sweep interval")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, k := range []string{"future", "string", "ancient", "none", "renewed"} {
		if getItem(t, c, "sess", item{"pk": S(k)}) == nil {
			t.Fatalf("%s deleted", k)
		}
	}
	if err := update(false, "exp"); err != nil {
		t.Fatal(err)
	}
	if d := desc(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
		t.Fatalf("disabled %+v", d)
	}
	_, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: nope not found")
}
