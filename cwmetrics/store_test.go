package cwmetrics

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestStoreBounds: data points older than the retention are pruned (and a
// series left without any goes), and past MaxSeries the series updated
// least recently is dropped; periods aggregate minutes from StartTime.
func TestStoreBounds(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s := New(Options{Retention: 10 * time.Minute, MaxSeries: 3, Now: func() time.Time { return now }})
	k := func(table string) Key { return Key{Region: "r", Metric: ConsumedWrite, Table: table} }
	for i := range 12 {
		s.Set(k("a"), float64(i))
		if i == 0 {
			s.Set(k("old"), 1)
		}
		now = now.Add(time.Minute)
	}
	// Minutes 0..11 were written; at 12:12 the oldest kept is 12:02.
	s.Set(k("b"), 1)
	pts := s.Query(k("a"), now.Add(-time.Hour), now, 5*time.Minute)
	// Periods start at 11:12 + n×5 min: 12:02 holds minutes 2..6, 12:07 7..11.
	if len(pts) != 2 || !pts[0].Time.Equal(time.Date(2026, 12, 5, 12, 2, 0, 0, time.UTC)) || pts[0].Count != 5 || pts[0].Sum != 2+3+4+5+6 ||
		pts[0].Min != 2 || pts[0].Max != 6 || pts[1].Sum != 7+8+9+10+11 {
		t.Fatalf("first period %+v (of %d)", pts, len(pts))
	}
	if got := len(s.Keys("r")); got != 2 {
		t.Fatalf("%d series, want 2 (old pruned): %v", got, s.Keys("r"))
	}
	s.Set(k("c"), 1)
	now = now.Add(time.Second)
	s.Set(k("b"), 1)
	s.Set(k("d"), 1) // a fourth series: the least recently updated (a, at 12:11) goes
	keys := s.Keys("r")
	if len(keys) != 3 || keys[0].Table != "b" || keys[1].Table != "c" || keys[2].Table != "d" {
		t.Fatalf("series %v, want b c d", keys)
	}
	if s.Sum(k("b"), now.Truncate(time.Minute)) != 2 {
		t.Fatalf("Sum of b's minute: %v", s.Sum(k("b"), now))
	}
}

// BenchmarkRecord is the metering of one PutItem on a table with a global
// index (three series under the store's mutex), from concurrent clients.
func BenchmarkRecord(b *testing.B) {
	s := New(Options{})
	b.RunParallel(func(pb *testing.PB) {
		u := Usage{Region: "us-east-1", Table: "orders", Op: "PutItem", Write: 1, Indexes: []IndexUsage{{Name: "byCustomer", Write: 1}}, Latency: time.Millisecond}
		for pb.Next() {
			s.Record(&u)
		}
	})
}

// TestStoreConcurrent: requests recorded while /metrics and queries read
// (run with -race).
func TestStoreConcurrent(t *testing.T) {
	s := New(Options{MaxSeries: 8})
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				s.Record(&Usage{Region: "r", Table: fmt.Sprint("t", (g+i)%12), Op: "PutItem", Write: 1, Latency: time.Millisecond})
			}
		}()
	}
	for range 20 {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
		s.Query(Key{Region: "r", Metric: ConsumedWrite, Table: "t1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), time.Minute)
		s.Keys("r")
	}
	wg.Wait()
	if n := len(s.Keys("r")); n > 8 {
		t.Fatalf("%d series, bound 8", n)
	}
}
