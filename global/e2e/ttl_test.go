package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/internal/eddytest"
)

// TestGlobalTableTTL: a global table has one Time to Live setting. A new
// replica gets its source's, and UpdateTimeToLive on any replica applies to
// every replica, as DynamoDB documents for global tables version 2019.11.21
// (CloudFormation's AWS::DynamoDB::GlobalTable TimeToLiveSpecification:
// "All replicas will have the same time to live configuration").
func TestGlobalTableTTL(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	c.createTable()
	setTTL := func(i int, enabled bool, name string) {
		t.Helper()
		// The previous change holds the table's control lock until every
		// replica applied it (ctllock.go): until then DynamoDB's answer to a
		// second change, which the test waits out.
		var err error
		eddytest.WaitFor(t, regions[i]+": UpdateTimeToLive accepted", 20*time.Second, func() bool {
			_, err = c.srvs[i].DDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("glob.t"),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(enabled), AttributeName: aws.String(name)}})
			var ae smithy.APIError
			return !errors.As(err, &ae) || ae.ErrorMessage() != "Time to live has been modified multiple times within a fixed interval"
		})
		if err != nil {
			t.Fatalf("%s: UpdateTimeToLive: %v", regions[i], err)
		}
	}
	waitTTL := func(i int, status types.TimeToLiveStatus, name string) {
		t.Helper()
		var last *types.TimeToLiveDescription
		eddytest.WaitFor(t, regions[i]+" TTL "+string(status)+" "+name, 20*time.Second, func() bool {
			out, err := c.srvs[i].DDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("glob.t")})
			if err != nil {
				t.Fatal(err)
			}
			last = out.TimeToLiveDescription
			return last.TimeToLiveStatus == status && aws.ToString(last.AttributeName) == name
		})
	}
	// Set before the table is global: the replica inherits it.
	setTTL(0, true, "exp")
	c.addReplica(regions[1])
	waitTTL(1, types.TimeToLiveStatusEnabled, "exp")
	// Changed on the replica: the source follows.
	setTTL(1, false, "exp")
	waitTTL(0, types.TimeToLiveStatusDisabled, "")
	// And back from the source, with another attribute.
	setTTL(0, true, "expires")
	waitTTL(1, types.TimeToLiveStatusEnabled, "expires")
	// A third replica joins with the current setting.
	c.addReplica(regions[2])
	waitTTL(2, types.TimeToLiveStatusEnabled, "expires")
	waitTTL(0, types.TimeToLiveStatusEnabled, "expires")
}
