package e2e

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eddydb/eddy/global"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
)

// TestGlobalControlSerialized: control-plane changes of a global table are
// serialized across its regions through JetStream (a key per table in the
// EDDY_GLOBAL_CTL key-value bucket, created only if absent). While region 0
// creates a replica that cannot finish (its region is down), region 1,
// which does not see that change, is refused a replica change, a TTL
// change and a DeleteTable of its replica with ResourceInUseException;
// once the creation ends it may. While
// region 1's TTL change is being sent to a replica that is down, a TTL
// change in region 0 gets DynamoDB's answer to a second change within its
// interval, ValidationException "Time to live has been modified multiple
// times within a fixed interval"; once sent, region 0's goes through and
// every replica ends with it.
func TestGlobalControlSerialized(t *testing.T) {
	// A refusal waits ControlLockWait for the key first: short here.
	c := startClusterWith(t, func(o *global.Options) { o.ControlLockWait = 200 * time.Millisecond })
	ctx := context.Background()
	c.createTable()
	c.addReplica(regions[1])
	c.srvs[2].Stop()
	_, err := c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Region 1 still sees two ACTIVE replicas.
	if d := c.describe(1); d.TableStatus != types.TableStatusActive || len(d.Replicas) != 1 {
		t.Fatalf("%s sees %s, %+v", regions[1], d.TableStatus, d.Replicas)
	}
	inUse := "Attempt to change a resource which is still in use: Table is being updated: glob.t"
	_, err = c.srvs[1].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	wantError(t, "a replica change in another region meanwhile", err, "ResourceInUseException", inUse)
	ttl := func(i int, attr string) error {
		_, err := c.srvs[i].DDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("glob.t"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(attr)}})
		return err
	}
	wantError(t, "a TTL change in another region meanwhile", ttl(1, "exp"), "ResourceInUseException", inUse)
	_, err = c.srvs[1].DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("glob.t")})
	wantError(t, "a DeleteTable of a replica meanwhile", err, "ResourceInUseException", inUse)
	if d := c.describe(1); d.Replicas[0].ReplicaStatus != types.ReplicaStatusActive {
		t.Errorf("the refused changes left %+v", d.Replicas)
	}
	c.srvs[2].Restart()
	eddytest.WaitFor(t, "the replica creation to end", 30*time.Second, func() bool {
		d := c.describe(0)
		return d.TableStatus == types.TableStatusActive && len(d.Replicas) == 2
	})
	// The lock is released after the creation (asynchronously): region 1's
	// TTL change goes through once it is.
	eddytest.WaitFor(t, regions[1]+"'s TTL change accepted", 20*time.Second, func() bool { return ttl(1, "exp") == nil })
	eddytest.WaitFor(t, "the TTL in every region", 20*time.Second, func() bool {
		for i := range c.srvs {
			out, err := c.srvs[i].DDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("glob.t")})
			if err != nil || aws.ToString(out.TimeToLiveDescription.AttributeName) != "exp" {
				return false
			}
		}
		return true
	})
	// Region 1 disables it while region 2 is down: the change waits to be
	// sent there, holding the lock.
	c.srvs[2].Stop()
	eddytest.WaitFor(t, regions[1]+"'s second TTL change accepted", 20*time.Second, func() bool {
		_, err := c.srvs[1].DDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("glob.t"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(false), AttributeName: aws.String("exp")}})
		return err == nil
	})
	eddytest.WaitFor(t, regions[0]+" to get the change", 20*time.Second, func() bool {
		out, err := c.srvs[0].DDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("glob.t")})
		return err == nil && out.TimeToLiveDescription.TimeToLiveStatus == types.TimeToLiveStatusDisabled
	})
	wantError(t, "a TTL change while another is being sent", ttl(0, "expires"), "ValidationException",
		"Time to live has been modified multiple times within a fixed interval")
	_, err = c.srvs[0].DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	wantError(t, "a replica change while a TTL change is being sent", err, "ResourceInUseException", inUse)
	c.srvs[2].Restart()
	eddytest.WaitFor(t, regions[0]+"'s TTL change accepted", 30*time.Second, func() bool { return ttl(0, "expires") == nil })
	eddytest.WaitFor(t, "the last TTL in every region", 20*time.Second, func() bool {
		for i := range c.srvs {
			out, err := c.srvs[i].DDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("glob.t")})
			if err != nil || aws.ToString(out.TimeToLiveDescription.AttributeName) != "expires" || out.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
				return false
			}
		}
		return true
	})
}

func wantError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	switch {
	case !errors.As(err, &ae) || ae.ErrorCode() != code:
		t.Errorf("%s: %v, want %s", what, err, code)
	case ae.ErrorMessage() != msg:
		t.Errorf("%s: message %q, want %q", what, ae.ErrorMessage(), msg)
	}
}

// holdingControlLock starts the regions with a control lock lease of
// lease and leaves region 0 holding glob.t's lock: a replica of glob.t in
// region 1, and a replica being created in region 2, whose server is
// stopped (the change runs until it is back).
func holdingControlLock(t *testing.T, lease time.Duration) *cluster {
	c := startClusterWith(t, func(o *global.Options) {
		o.ControlLockWait = 200 * time.Millisecond
		o.ControlLockLease = lease
	})
	c.createTable()
	c.addReplica(regions[1])
	c.srvs[2].Stop()
	_, err := c.srvs[0].DDB.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String("glob.t"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(regions[2])}}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGlobalControlLockLease: a table's control lock is a lease. While
// region 0 creates a replica that cannot finish (its region is down), it
// renews the lock: region 1's changes are refused for several leases. Once
// region 0 stops without releasing it (its change still in progress, as a
// SIGKILL leaves it), the lock is no longer renewed and region 1's change
// takes it over after the lease, instead of being refused until an
// operator deletes the key.
func TestGlobalControlLockLease(t *testing.T) {
	t.Parallel() // mostly waiting (leases, MaxAge, StrongTimeout): beside the others
	const lease = 4 * time.Second
	c := holdingControlLock(t, lease)
	ctx := context.Background()
	ttl := func(i int) error {
		_, err := c.srvs[i].DDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("glob.t"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}})
		return err
	}
	inUse := "Attempt to change a resource which is still in use: Table is being updated: glob.t"
	// The live change keeps its lock past several leases.
	for end := time.Now().Add(3 * lease); time.Now().Before(end); time.Sleep(lease / 8) {
		wantError(t, "a TTL change while a live change holds the lock", ttl(1), "ResourceInUseException", inUse)
		if t.Failed() {
			t.FailNow()
		}
	}
	// Region 0 stops with its change in progress: the lock stays in the
	// bucket, no longer renewed.
	c.srvs[0].Stop()
	if err := ttl(1); err == nil {
		t.Fatal("region 1's change was accepted at once: the stopped region's lock was not held")
	}
	eddytest.WaitFor(t, regions[1]+"'s TTL change accepted after the lease", 10*lease, func() bool { return ttl(1) == nil })
	// Region 1 holds the lock now: once region 0 is back its TTL change
	// reaches it.
	c.srvs[0].Restart()
	eddytest.WaitFor(t, "the TTL in "+regions[0], 30*time.Second, func() bool {
		out, err := c.srvs[0].DDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("glob.t")})
		return err == nil && aws.ToString(out.TimeToLiveDescription.AttributeName) == "exp"
	})
}

// TestGlobalControlLockLost: a holder whose lease was taken over notices
// it at its next renewal (logged once) and, when its change ends, leaves
// the new holder's key alone. The test plays the new holder: it rewrites
// region 0's key in EDDY_GLOBAL_CTL while region 0 creates a replica, and
// keeps renewing it, as a region that took the lock over would.
func TestGlobalControlLockLost(t *testing.T) {
	const lease = 2 * time.Second
	c := holdingControlLock(t, lease)
	ctx := context.Background()
	nc, js := natstest.Connect(t, c.nats)
	defer nc.Close()
	kv, err := js.KeyValue(ctx, "EDDY_GLOBAL_CTL")
	if err != nil {
		t.Fatal(err)
	}
	key := hex.EncodeToString([]byte("glob.t"))
	e, err := kv.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Value()), regions[0]) {
		t.Fatalf("the lock is %s, want %s's", e.Value(), regions[0])
	}
	// Another holder (a region not in the test) takes the key and renews it.
	rev, err := kv.Update(ctx, key, []byte(`{"region":"ap-south-1","op":"replicas"}`), e.Revision())
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	renewed := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				renewed <- nil
				return
			case <-time.After(lease / 8):
			}
			r, err := kv.Update(ctx, key, []byte(`{"region":"ap-south-1","op":"replicas"}`), rev)
			if err != nil {
				renewed <- fmt.Errorf("renewing the other holder's key: %w", err)
				return
			}
			rev = r
		}
	}()
	lost := func() int { return c.logs.count("lost the control lock", "server="+regions[0], "holder=ap-south-1") }
	eddytest.WaitFor(t, regions[0]+" to notice it lost the lock", 10*lease, func() bool { return lost() > 0 })
	// Region 0's change ends: the lock stays the other holder's.
	c.srvs[2].Restart()
	eddytest.WaitFor(t, "the replica creation to end", 30*time.Second, func() bool {
		d := c.describe(0)
		return d.TableStatus == types.TableStatusActive && len(d.Replicas) == 2
	})
	inUse := "Attempt to change a resource which is still in use: Table is being updated: glob.t"
	for end := time.Now().Add(lease); time.Now().Before(end); time.Sleep(lease / 8) {
		_, err := c.srvs[0].DDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("glob.t"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}})
		wantError(t, "a change while another region holds the lock", err, "ResourceInUseException", inUse)
		if t.Failed() {
			t.FailNow()
		}
	}
	close(stop)
	if err := <-renewed; err != nil {
		t.Fatal(err) // region 0 wrote the key after losing it
	}
	if n := lost(); n != 1 {
		t.Errorf("%s logged the loss %d times, want once", regions[0], n)
	}
}
