package mappings

import (
	"errors"
	"testing"
	"time"
)

// TestSeriesRing: a sample per minute for the last hour, oldest first;
// a slot is reused for the minute an hour later, not added to; the hour
// sums its minutes.
func TestSeriesRing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 30, 0, time.UTC)
	s := newSeries(func() time.Time { return now })
	s.invoked("shard-a", 2*time.Second, 3*time.Millisecond, nil)
	s.invoked("shard-a", 5*time.Second, 3*time.Millisecond, nil)
	s.invoked("shard-b", time.Second, 0, errors.New("throttled"))
	s.add(func(m *minute) { m.records += 7 })
	s.add(func(m *minute) { m.errors++; m.deadLettered += 2 })

	samples, hour := s.snapshot()
	if len(samples) != seriesMinutes {
		t.Fatalf("%d samples, want %d", len(samples), seriesMinutes)
	}
	last := samples[len(samples)-1]
	if want := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC); !last.Start.Equal(want) || !samples[0].Start.Equal(want.Add(-59*time.Minute)) {
		t.Fatalf("samples run %v .. %v", samples[0].Start, last.Start)
	}
	if last.Invocations != 3 || last.Errors != 2 || last.RecordsDelivered != 7 || last.RecordsDeadLettered != 2 {
		t.Fatalf("this minute: %+v", last)
	}
	if last.LagMillis["shard-a"] != 5000 || last.LagMillis["shard-b"] != 1000 {
		t.Fatalf("lag %v, want the largest per shard", last.LagMillis)
	}
	if p := last.DurationMillis; p == nil || p.P50 < 3 || p.P50 > 3.6 || p.P99 != p.P50 {
		t.Fatalf("percentiles of two 3 ms calls: %+v", p)
	}
	if hour.Invocations != 3 || hour.RecordsDelivered != 7 || hour.LagMillis["shard-a"] != 5000 {
		t.Fatalf("hour: %+v", hour)
	}

	// Ten minutes on: the old minute is the 11th from the end.
	now = now.Add(10 * time.Minute)
	s.add(func(m *minute) { m.records++ })
	samples, hour = s.snapshot()
	if samples[49].RecordsDelivered != 7 || samples[59].RecordsDelivered != 1 || hour.RecordsDelivered != 8 {
		t.Fatalf("after ten minutes: [49]=%+v [59]=%+v hour=%+v", samples[49], samples[59], hour)
	}
	// An hour after the first minute, its slot holds the new minute only.
	now = now.Add(50 * time.Minute)
	s.add(func(m *minute) { m.records += 100 })
	samples, hour = s.snapshot()
	if samples[59].RecordsDelivered != 100 || hour.RecordsDelivered != 101 || hour.Invocations != 0 || hour.LagMillis != nil {
		t.Fatalf("an hour on: last=%+v hour=%+v", samples[59], hour)
	}
}

func TestPercentiles(t *testing.T) {
	var h [durBuckets]uint32
	for i := 1; i <= 100; i++ { // 1 ms .. 100 ms
		h[durBucket(time.Duration(i)*time.Millisecond)]++
	}
	p := percentiles(&h)
	// Each is its bucket's bound: no lower than the true value, at most
	// one bucket (19%) above it.
	for _, c := range []struct{ got, want float64 }{{p.P50, 50}, {p.P90, 90}, {p.P99, 99}} {
		if c.got < c.want || c.got > c.want*1.19 {
			t.Errorf("percentile %.3f ms, want %.0f ms within a bucket", c.got, c.want)
		}
	}
	if durBucket(time.Hour) != durBuckets-1 || durBucket(0) != 0 {
		t.Errorf("out-of-range durations are not clamped")
	}
}
