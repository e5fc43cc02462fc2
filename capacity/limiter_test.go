package capacity_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newLimiter(mode capacity.Mode) (*capacity.Limiter, *clock) {
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return capacity.New(capacity.Options{Mode: mode, Now: c.Now}), c
}

func provisioned(id uint32, rcu, wcu int64) *store.Table {
	return &store.Table{ID: id, Name: fmt.Sprint("t", id), Region: "us-east-1", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
		BillingMode: "PROVISIONED", Throughput: store.Throughput{Read: rcu, Write: wcu}}
}

// put admits a one-unit write of key k.
func put(l *capacity.Limiter, t *store.Table, k string) error {
	it := attr.Item{"pk": attr.S(k)}
	return l.AdmitWrite(&store.WriteOptions{Metering: store.MeterStandard, Op: "PutItem"},
		[]store.Mutation{{Table: t, Key: it}}, []store.Result{{New: it, Changed: true}})
}

// TestPartitionCount: DynamoDB's sizing (ceil(RCU/3000 + WCU/1000), at
// least one; developer guide, partitions), and partitions are never merged
// when the throughput is lowered.
func TestPartitionCount(t *testing.T) {
	l, _ := newLimiter(capacity.Enforce)
	for _, c := range []struct {
		rcu, wcu int64
		want     int
	}{{5, 5, 1}, {3000, 0, 1}, {3000, 1000, 2}, {6000, 2000, 4}, {1, 2500, 3}} {
		if got := len(l.Report(provisioned(uint32(c.rcu*10000+c.wcu), c.rcu, c.wcu)).Partitions); got != c.want {
			t.Errorf("RCU %d WCU %d: %d partitions, want %d", c.rcu, c.wcu, got, c.want)
		}
	}
	tb := provisioned(1, 3000, 3000)
	if n := len(l.Report(tb).Partitions); n != 4 {
		t.Fatalf("3000 RCU, 3000 WCU: %d partitions, want 4", n)
	}
	lowered := *tb
	lowered.Throughput.Write = 10
	r := l.Report(&lowered)
	if len(r.Partitions) != 4 || r.Write.Rate != 10 {
		t.Fatalf("lowered to 10 WCU: %d partitions at rate %v, want 4 (no merge) at 10", len(r.Partitions), r.Write.Rate)
	}
	if r.Partitions[0].HashFrom != "0000000000000000" || r.Partitions[3].HashTo != "ffffffffffffffff" || r.Partitions[1].HashFrom != "4000000000000000" {
		t.Fatalf("hash ranges: %+v", r.Partitions)
	}
}

// TestFollowsUpdateTable: a raised throughput takes effect at once (the
// refill rate), the burst left carries over.
func TestFollowsUpdateTable(t *testing.T) {
	l, c := newLimiter(capacity.Enforce)
	tb := provisioned(1, 1, 1)
	n := 0
	for put(l, tb, fmt.Sprint(n)) == nil {
		n++
	}
	if n != 300 {
		t.Fatalf("1 WCU: %d writes before the first throttle, want 300 (its burst)", n)
	}
	raised := *tb
	raised.Throughput.Write = 100
	c.Advance(time.Second)
	n = 0
	for put(l, &raised, fmt.Sprint(n)) == nil {
		n++
	}
	if n != 100 {
		t.Fatalf("raised to 100 WCU, one second later: %d writes, want 100", n)
	}
}

// TestOnDemandGrowth: a new on-demand table takes 4,000 write units in a
// second and is throttled (ThrottlingException) beyond; a peak counts as
// the previous one only 30 minutes later, after which twice it is served.
func TestOnDemandGrowth(t *testing.T) {
	l, c := newLimiter(capacity.Enforce)
	tb := &store.Table{ID: 7, Name: "od", Region: "us-east-1", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}, BillingMode: "PAY_PER_REQUEST"}
	burst := func(n int) int {
		ok := 0
		for i := 0; i < n; i++ {
			err := put(l, tb, fmt.Sprint("k", i))
			if err == nil {
				ok++
				continue
			}
			var de *ddberr.Error
			if !errors.As(err, &de) || de.Name() != "ThrottlingException" {
				t.Fatalf("want ThrottlingException, got %v", err)
			}
		}
		c.Advance(time.Second)
		return ok
	}
	if got := burst(4500); got != 4000 {
		t.Fatalf("new on-demand table: %d writes in a second, want 4000", got)
	}
	c.Advance(10 * time.Minute)
	if got := burst(4500); got != 4000 {
		t.Fatalf("10 minutes after a 4,000 peak: %d writes in a second, want 4000 (the peak is not yet previous)", got)
	}
	c.Advance(31 * time.Minute)
	if got := burst(5000); got != 5000 {
		t.Fatalf("over 30 minutes after a 4,000 peak: %d writes in a second, want all 5000 (twice the previous peak)", got)
	}
	// A maximum (OnDemandThroughput) caps it, with no burst above it.
	capped := *tb
	capped.OnDemandThroughput.MaxWrite = 10
	c.Advance(time.Minute)
	n := 0
	for put(l, &capped, fmt.Sprint(n)) == nil {
		n++
	}
	if n != 10 {
		t.Fatalf("MaxWriteRequestUnits 10: %d writes, want 10", n)
	}
}

// TestReportModeAdmits: report mode refuses nothing and still counts.
func TestReportModeAdmits(t *testing.T) {
	l, _ := newLimiter(capacity.Report)
	tb := provisioned(1, 1, 1)
	for i := 0; i < 400; i++ {
		if err := put(l, tb, fmt.Sprint(i)); err != nil {
			t.Fatalf("report mode refused write %d: %v", i, err)
		}
	}
	r := l.Report(tb)
	if r.Partitions[0].WriteThrottles != 100 || r.Partitions[0].WriteUnits != 400 {
		t.Fatalf("report: %+v, want 100 would-be throttles of 400 units", r.Partitions[0])
	}
}

type countingObserver struct {
	mu                  sync.Mutex
	throttles, consumed map[string]float64
}

func (o *countingObserver) Throttled(region, table, index string, read bool, op string) {
	o.mu.Lock()
	o.throttles[fmt.Sprint(table, "/", index, "/", read, "/", op)]++
	o.mu.Unlock()
}

func (o *countingObserver) Consumed(region, table, index string, read bool, op string, units float64) {
	o.mu.Lock()
	o.consumed[fmt.Sprint(table, "/", index, "/", read)] += units
	o.mu.Unlock()
}

// TestConcurrentWithObserver: writes, reads and descriptor changes from
// many goroutines (run with -race), and the Observer sees every throttle
// and every unit consumed.
func TestConcurrentWithObserver(t *testing.T) {
	obs := &countingObserver{throttles: map[string]float64{}, consumed: map[string]float64{}}
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := capacity.New(capacity.Options{Now: c.Now, Observer: obs})
	tb := provisioned(1, 1, 1) // 300 units of burst each way
	var wg sync.WaitGroup
	var refused atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				desc := tb
				if i%10 == 0 { // an UpdateTable that changes nothing of the rates
					d := *tb
					desc = &d
				}
				if put(l, desc, fmt.Sprint(g, "-", i)) != nil {
					refused.Add(1)
				}
				k := attr.S("x")
				if l.AdmitRead(capacity.Read{Table: desc, Key: &k, Op: "GetItem"}) == nil {
					l.ChargeRead(capacity.Read{Table: desc, Key: &k}, 1)
				}
				_ = l.Report(desc)
			}
		}()
	}
	wg.Wait()
	if refused.Load() != 500 || obs.throttles["t1//false/PutItem"] != 500 || obs.consumed["t1//false"] != 300 {
		t.Fatalf("refused %d; observer %v %v; want 500 writes throttled, 300 units consumed", refused.Load(), obs.throttles, obs.consumed)
	}
	// A read is admitted, then charged once it has read (its size is
	// known only then), so reads admitted while others are between the
	// two steps may overshoot the bucket: by at most one per goroutine.
	// Every read is either consumed or throttled.
	if got, thr := obs.consumed["t1//true"], obs.throttles["t1//true/GetItem"]; got < 300 || got >= 300+8 || got+thr != 800 {
		t.Fatalf("reads: observer %v %v, want 300 to 307 units and the rest of 800 throttled", obs.throttles, obs.consumed)
	}
}
