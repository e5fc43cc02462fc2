package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
	var p *proxy
	c := startClusterWith(t, func(o *global.Options) { o.MaxAge = 8 * time.Second },
		nil, nil, func(url string) string { p = startProxy(t, url); return p.URL() })
	ctx := context.Background()
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
	nc, js := natstest.Connect(t, c.nats)
	defer nc.Close()
	s, err := js.Stream(ctx, "EDDY_GLOBAL")
	if err != nil {
		t.Fatal(err)
	}
	last := s.CachedInfo().State.LastSeq
	eddytest.WaitFor(t, "the stream to trim every change made during the cut", 60*time.Second, func() bool {
		s, err := js.Stream(ctx, "EDDY_GLOBAL")
		return err == nil && s.CachedInfo().State.FirstSeq > last
	})
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
