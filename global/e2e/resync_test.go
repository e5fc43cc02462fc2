package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/global"
	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/natstest"
)

// TestGlobalTableResyncAfterTrim: a region cut off from NATS for longer
// than the stream keeps changes (MaxAge shortened to 8 s) misses the
// changes the stream trimmed meanwhile. On reconnect its consumers find
// the gap and ask both origins for a re-backfill: every replica converges
// to the last write by (timestamp, region), so the region's own writes made
// while cut off are kept where they are the newest; the gaps are counted
// (eddy tables replicas, /metrics). The other regions, idle consumers of
// the cut-off one meanwhile, find no gap.
func TestGlobalTableResyncAfterTrim(t *testing.T) {
	t.Parallel() // mostly waiting (leases, MaxAge, StrongTimeout): beside the others
	var p *proxy
	c := startClusterWith(t, func(o *global.Options) { o.MaxAge = 8 * time.Second },
		nil, nil, func(url string) string { p = startProxy(t, url); return p.URL() })
	c.setup()
	c.writes([]int{0, 1, 2}, 20, 21)
	c.converge() // region 2 has applied changes of both others: it has checkpoints
	p.SetCut(true)
	c.writes([]int{0, 1, 2}, 30, 22)
	for i := range 2 {
		eddytest.WaitFor(t, regions[i]+"'s changes published", 20*time.Second, func() bool {
			st, _ := c.srvs[i].Global().Status("glob.t")
			return st.Outbox == 0
		})
	}
	c.waitTrimmed("the stream to trim every change made during the cut")
	p.SetCut(false)
	c.converge()
	st, _ := c.srvs[2].Global().Status("glob.t")
	for _, l := range st.Lag {
		if l.Resyncs == 0 {
			t.Errorf("%s: no re-backfill counted from %s: %+v", regions[2], l.Origin, l)
		}
	}
	for i := range 2 {
		st, _ := c.srvs[i].Global().Status("glob.t")
		for _, l := range st.Lag {
			if l.Resyncs != 0 {
				t.Errorf("%s: %d re-backfills from %s, want none (it was idle, not behind)", regions[i], l.Resyncs, l.Origin)
			}
		}
	}
	resp, err := http.Get(c.srvs[2].URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, origin := range regions[:2] {
		if want := `eddy_global_resyncs_total{origin="` + origin + `",table="glob.t"} `; !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestGlobalTableStreamRemade: EDDY_GLOBAL is deleted under running
// regions (its NATS server lost its store): the publishers make it again,
// its sequences start over, and every consumer finds its checkpoint is of
// the old stream (its creation time), re-backfills from the origin and
// starts again from the new stream's beginning: the replicas converge,
// writes made before and after included.
func TestGlobalTableStreamRemade(t *testing.T) {
	c := startClusterWith(t, func(o *global.Options) { o.MaxAge = 8 * time.Second }) // idle probes every 2 s
	ctx := context.Background()
	c.setup()
	c.writes([]int{0, 1, 2}, 20, 31)
	c.converge()
	nc, js := natstest.Connect(t, c.nats)
	defer nc.Close()
	if err := js.DeleteStream(ctx, "EDDY_GLOBAL"); err != nil {
		t.Fatal(err)
	}
	c.writes([]int{0, 1, 2}, 20, 32)
	c.converge()
	st, _ := c.srvs[1].Global().Status("glob.t")
	for _, l := range st.Lag {
		if l.Resyncs == 0 {
			t.Errorf("%s: no re-backfill counted from %s: %+v", regions[1], l.Origin, l)
		}
	}
}

// TestGlobalTableResyncDeletesMissing: a region cut off for longer than
// the tombstones live (TombstoneTTL and MaxAge shortened to 8 s) missed
// deletes that no region remembers any more: their tombstones were
// collected, and no snapshot carries them. The re-backfill from each
// origin tells them apart: an item the cut-off region holds last written
// by that origin before its snapshot, or by itself before the origin
// applied its writes, which the snapshot lacks, was deleted there.
// Afterwards every replica holds the same items: the deleted ones gone
// (one from before the table was global, one another region wrote, two
// the cut-off region wrote before the cut), the cut-off region's writes
// during the cut and a third region's kept; the deletes appear in the
// cut-off region's stream as replicated deletes (REMOVE, no userIdentity).
func TestGlobalTableResyncDeletesMissing(t *testing.T) {
	t.Parallel() // mostly waiting (leases, MaxAge, StrongTimeout): beside the others
	var p *proxy
	c := startClusterWith(t, func(o *global.Options) {
		o.MaxAge, o.TombstoneTTL, o.CollectInterval = 8*time.Second, 8*time.Second, 200*time.Millisecond
	}, nil, nil, func(url string) string { p = startProxy(t, url); return p.URL() })
	put, del := c.put, c.del
	c.setup()
	put(0, "d0", "d1", "d2", "d3", "d4")
	put(1, "e0", "e1")
	put(2, "o0", "o1", "o2")
	c.converge()
	p.SetCut(true)
	del(0, "pre0", "d0", "d1", "d2", "o0")
	del(1, "e0", "o1")
	put(1, "d3", "c0") // a third region's writes, one over an item us-east-1 wrote
	put(2, "d4", "b0") // the cut-off region's own writes, one over an item us-east-1 wrote
	for i := range 2 {
		eddytest.WaitFor(t, regions[i]+"'s changes published", 20*time.Second, func() bool {
			st, _ := c.srvs[i].Global().Status("glob.t")
			return st.Outbox == 0
		})
	}
	gone := []string{"pre0", "d0", "d1", "d2", "e0", "o0", "o1"}
	c.waitCollected([]int{0, 1}, gone...)
	c.waitTrimmed("the stream to trim every change made during the cut")
	p.SetCut(false)
	c.converge()
	items := c.items(2)
	for _, pk := range []string{"d3", "d4", "c0", "b0", "e1", "o2", "pre1"} {
		if items[pk] == nil {
			t.Errorf("%s: %s lost it", pk, regions[2])
		}
	}
	removed := c.removes(2)
	for _, pk := range gone {
		if !removed[pk] {
			t.Errorf("%s: %s's stream has no REMOVE of it", pk, regions[2])
		}
	}
}

// waitTrimmed waits until EDDY_GLOBAL has trimmed (MaxAge) every change
// it holds now.
func (c *cluster) waitTrimmed(what string) {
	c.t.Helper()
	ctx := context.Background()
	nc, js := natstest.Connect(c.t, c.nats)
	defer nc.Close()
	s, err := js.Stream(ctx, "EDDY_GLOBAL")
	if err != nil {
		c.t.Fatal(err)
	}
	last := s.CachedInfo().State.LastSeq
	eddytest.WaitFor(c.t, what, 60*time.Second, func() bool {
		s, err := js.Stream(ctx, "EDDY_GLOBAL")
		return err == nil && s.CachedInfo().State.FirstSeq > last
	})
}

// waitCollected waits until the regions in live hold neither the items of
// pks (hash key pk) nor their tombstones (TombstoneTTL).
func (c *cluster) waitCollected(live []int, pks ...string) {
	c.t.Helper()
	for _, i := range live {
		for _, pk := range pks {
			eddytest.WaitFor(c.t, regions[i]+" to collect the tombstone of "+pk, 30*time.Second, func() bool {
				st, err := c.srvs[i].Global().Item(context.Background(), "glob.t", attr.Item{"pk": attr.S(pk)})
				return err == nil && st.Item == nil && st.Last == nil
			})
		}
	}
}

// removes returns the keys of the REMOVE records in region i's stream;
// each must have no userIdentity (a replicated delete).
func (c *cluster) removes(i int) map[string]bool {
	c.t.Helper()
	out := map[string]bool{}
	for _, r := range c.streamRecords(i) {
		if r.EventName != stypes.OperationTypeRemove {
			continue
		}
		if r.UserIdentity != nil {
			c.t.Errorf("a REMOVE record has userIdentity %+v", r.UserIdentity)
		}
		if v, ok := r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS); ok {
			out[v.Value] = true
		}
	}
	return out
}

// TestGlobalTableResyncOtherWriters: one consumer of a region (us-east-1's
// in eu-west-1) held back past the stream's retention while the others
// run: it misses us-east-1's delete of an item us-west-2 wrote, whose
// tombstones are collected everywhere. Its gap re-backfills from
// us-east-1, whose snapshot cannot settle an item another region wrote
// last; the gap has the other consumer re-backfill from us-west-2 too
// (it found no gap of its own), whose snapshot settles it: every replica
// holds the same items.
func TestGlobalTableResyncOtherWriters(t *testing.T) {
	t.Parallel() // mostly waiting (leases, MaxAge, StrongTimeout): beside the others
	var held, holding atomic.Bool
	n := 0
	c := startClusterWith(t, func(o *global.Options) {
		o.MaxAge, o.TombstoneTTL, o.CollectInterval = 8*time.Second, 8*time.Second, 200*time.Millisecond
		if n == 2 {
			o.BeforeApply = func(_, origin string) {
				for origin == regions[0] && held.Load() {
					holding.Store(true)
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
		n++
	})
	defer held.Store(false)
	c.setup()
	c.put(1, "r0", "r1")
	c.converge()
	held.Store(true)
	eddytest.WaitFor(t, regions[2]+"'s consumer of "+regions[0]+" held", 10*time.Second, holding.Load)
	c.del(0, "r0")
	c.waitCollected([]int{0, 1}, "r0")
	c.waitTrimmed("the stream to trim the delete")
	held.Store(false)
	c.converge()
	st, _ := c.srvs[2].Global().Status("glob.t")
	for _, l := range st.Lag {
		if want := l.Origin == regions[0]; (l.Resyncs != 0) != want {
			t.Errorf("%s: %d gaps counted from %s, want them only from %s", regions[2], l.Resyncs, l.Origin, regions[0])
		}
	}
}

func (c *cluster) put(i int, pks ...string) {
	c.t.Helper()
	for _, pk := range pks {
		_, err := c.srvs[i].DDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("glob.t"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "w": &types.AttributeValueMemberS{Value: regions[i] + "/" + pk},
			"from": &types.AttributeValueMemberS{Value: regions[i]}}})
		if err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c *cluster) del(i int, pks ...string) {
	c.t.Helper()
	for _, pk := range pks {
		_, err := c.srvs[i].DDB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String("glob.t"),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}})
		if err != nil {
			c.t.Fatal(err)
		}
	}
}
