package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
)

// TestStrongRetention: the MRSC stream EDDY_GLOBAL_SC keeps only each
// item's last write (MaxMsgsPerSubject 1), so it is bounded by the tables'
// keys rather than growing with every write; a region stopped while the
// others rewrite and delete items catches up from what is left: strongly
// consistent reads and a conditional write in it see the latest, and the
// replicas end equal.
func TestStrongRetention(t *testing.T) {
	c := strongCluster(t, nil)
	ctx := context.Background()
	c.createStrong()
	put := func(i int, pk, v string) {
		t.Helper()
		if _, err := c.srvs[i].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"),
			Item: map[string]types.AttributeValue{"pk": s(pk), "v": s(v)}}); err != nil {
			t.Fatal(err)
		}
	}
	put(0, "a", "0")
	put(1, "b", "0")
	put(0, "c", "0")
	eddytest.WaitFor(t, regions[2]+" to apply the first writes", 20*time.Second, func() bool { return len(c.items(2)) == 3 })
	c.srvs[2].Stop()
	for n := 1; n <= 5; n++ {
		put(n%2, "a", string(rune('0'+n)))
		put(0, "b", string(rune('0'+n)))
	}
	if _, err := c.srvs[1].DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s("c")}}); err != nil {
		t.Fatal(err)
	}
	put(1, "d", "1")
	nc, js := natstest.Connect(t, c.nats)
	defer nc.Close()
	st, err := js.Stream(ctx, "EDDY_GLOBAL_SC")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, state := st.CachedInfo().Config, st.CachedInfo().State; cfg.MaxMsgsPerSubject != 1 || state.Msgs != 4 {
		t.Errorf("EDDY_GLOBAL_SC: MaxMsgsPerSubject %d, %d messages; want 1, 4 (the last write of a, b, c and d)", cfg.MaxMsgsPerSubject, state.Msgs)
	}
	c.srvs[2].Restart()
	want := map[string]string{"a": "5", "b": "5", "c": "", "d": "1"}
	for pk, v := range want {
		out, err := c.srvs[2].DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("glob.t"), Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if x, ok := out.Item["v"].(*types.AttributeValueMemberS); ok {
			got = x.Value
		}
		if got != v {
			t.Errorf("%s after its restart: a strongly consistent read of %s got %q, want %q", regions[2], pk, got, v)
		}
	}
	if _, err := c.srvs[2].DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("6")},
		ConditionExpression: aws.String("v = :five"), ExpressionAttributeValues: map[string]types.AttributeValue{":five": s("5")}}); err != nil {
		t.Fatalf("a conditional write in %s after its restart: %v", regions[2], err)
	}
	eddytest.WaitFor(t, "the replicas to hold the same items", 30*time.Second, func() bool {
		a := c.items(0)
		return len(a) == 3 && same(a, c.items(1)) && same(a, c.items(2))
	})
}

// TestStrongStreamUpgraded: an EDDY_GLOBAL_SC made by an eddy before its
// retention and atomic batches (no per-subject limit), or with direct gets
// (a replica's answer for a read barrier), is updated when a region
// connects.
func TestStrongStreamUpgraded(t *testing.T) {
	for name, cfg := range map[string]jetstream.StreamConfig{
		"unbounded":  {},
		"directGets": {MaxMsgsPerSubject: 1, AllowAtomicPublish: true, AllowDirect: true},
	} {
		t.Run(name, func(t *testing.T) {
			ns := natstest.Start(t)
			nc, js := natstest.Connect(t, ns.ClientURL())
			defer nc.Close()
			ctx := context.Background()
			cfg.Name, cfg.Subjects, cfg.Storage = "EDDY_GLOBAL_SC", []string{"eddyg.sc.>"}, jetstream.FileStorage
			if _, err := js.CreateStream(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			strongClusterOn(t, nil, 1, func(int) string { return ns.ClientURL() })
			eddytest.WaitFor(t, "EDDY_GLOBAL_SC updated", 20*time.Second, func() bool {
				st, err := js.Stream(ctx, "EDDY_GLOBAL_SC")
				if err != nil {
					return false
				}
				cfg := st.CachedInfo().Config
				return cfg.MaxMsgsPerSubject == 1 && cfg.AllowAtomicPublish && !cfg.AllowDirect
			})
		})
	}
}
