package capacity_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/store"
)

// sharing returns two partition keys whose hashes fall in the same one of
// n equal partitions.
func sharing(n int) (string, string) {
	part := func(k string) int { return capacity.PartitionOf(store.PartitionHash(attr.S(k)), n) }
	a := "hot-a"
	for i := 0; ; i++ {
		if b := fmt.Sprint("hot-b", i); part(b) == part(a) {
			return a, b
		}
	}
}

// partitionOf finds the partition of the report whose hash range holds k.
func partitionOf(t *testing.T, r capacity.TableReport, k string) capacity.PartReport {
	t.Helper()
	h := store.PartitionHash(attr.S(k))
	for _, p := range r.Partitions {
		from, _ := strconv.ParseUint(p.HashFrom, 16, 64)
		to, _ := strconv.ParseUint(p.HashTo, 16, 64)
		if from <= h && h <= to {
			return p
		}
	}
	t.Fatalf("no partition holds %s", k)
	return capacity.PartReport{}
}

// TestSplitForHeat: two keys sharing a partition and together driving
// more than its 1,000 write units a second are throttled at first; after
// SplitForHeatAfter of sustained heat the partition is split between them
// (developer guide, "Isolate frequently accessed items"), each gets its
// own ceiling and both are served in full. A single key is never split and
// never gets more than the 1,000 units of one partition.
func TestSplitForHeat(t *testing.T) {
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := capacity.New(capacity.Options{Mode: capacity.Enforce, Now: c.Now, SplitForHeatAfter: 5 * time.Second})
	tb := provisioned(1, 0, 4000) // 4 partitions of 1,000 write units
	a, b := sharing(4)
	second := func(keys ...string) (admitted map[string]int) {
		admitted = map[string]int{}
		for i := 0; i < 600; i++ {
			for _, k := range keys {
				if put(l, tb, k) == nil {
					admitted[k]++
				}
			}
		}
		c.Advance(time.Second)
		return admitted
	}
	got := second(a, b)
	if got[a]+got[b] != 1000 {
		t.Fatalf("two keys of one partition, 1,200 writes: %v admitted, want 1,000 in all", got)
	}
	for i := 0; i < 6; i++ {
		second(a, b)
	}
	r := l.Report(tb)
	pa, pb := partitionOf(t, r, a), partitionOf(t, r, b)
	if len(r.Partitions) != 5 || pa.Partition == pb.Partition || !pa.SplitForHeat || !pb.SplitForHeat {
		t.Fatalf("after sustained heat: %d partitions, %s in %+v and %s in %+v; want 5, the two keys apart", len(r.Partitions), a, pa, b, pb)
	}
	if got := second(a, b); got[a] != 600 || got[b] != 600 {
		t.Fatalf("after the split: %v admitted, want 600 each", got)
	}
	// One key alone at 1,500 a second: 1,000 each second, however long.
	for i := 0; i < 8; i++ {
		admitted := 0
		for j := 0; j < 1500; j++ {
			if put(l, tb, a) == nil {
				admitted++
			}
		}
		c.Advance(time.Second)
		if admitted > 1000 {
			t.Fatalf("second %d: one key got %d write units, more than a partition's 1,000", i, admitted)
		}
	}
	if n := len(l.Report(tb).Partitions); n != 5 {
		t.Fatalf("a single hot key split its partition: %d partitions, want 5", n)
	}
}
