package shards

import (
	"math"
	"regexp"
	"testing"
	"time"
)

func TestInitialCoversSpace(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 64} {
		rs := Initial(n)
		if len(rs) != n || rs[0].Lo != 0 || rs[n-1].Hi != math.MaxUint64 {
			t.Fatalf("Initial(%d) = %v", n, rs)
		}
		for i := 1; i < n; i++ {
			if rs[i].Lo != rs[i-1].Hi+1 {
				t.Fatalf("Initial(%d): gap or overlap at %d", n, i)
			}
		}
		for _, h := range []uint64{0, 1, math.MaxUint64 / 3, math.MaxUint64} {
			if i := Find(rs, h); i < 0 || !rs[i].Contains(h) {
				t.Fatalf("Find(%d) in %v = %d", h, rs, i)
			}
		}
	}
	lo, hi := Full.Split()
	if lo.Lo != 0 || hi.Hi != math.MaxUint64 || hi.Lo != lo.Hi+1 {
		t.Fatalf("Split: %v %v", lo, hi)
	}
}

func TestFormatID(t *testing.T) {
	id := FormatID(time.UnixMilli(1700000000000), 42, 5)
	if !regexp.MustCompile(`^shardId-\d{20}-[0-9a-f]{8}$`).MatchString(id) || id != "shardId-17000000000000000005-0000002a" {
		t.Fatalf("FormatID = %s", id)
	}
}

func TestPolicy(t *testing.T) {
	p := Policy{RolloverInterval: time.Hour, SplitWritesPerSecond: 100, MaxOpenShards: 4}
	now := time.Now()
	if a := p.Decide(now, now.Add(-2*time.Hour), Full, 0, time.Second, 1); a != Rollover {
		t.Errorf("old shard: %v", a)
	}
	if a := p.Decide(now, now, Full, 1000, time.Second, 1); a != Split {
		t.Errorf("hot shard: %v", a)
	}
	if a := p.Decide(now, now, Full, 1000, time.Second, 4); a != Keep {
		t.Errorf("hot shard at MaxOpenShards: %v", a)
	}
}
