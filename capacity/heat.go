package capacity

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"
)

// Split for heat. DynamoDB's adaptive capacity "rebalances your partitions
// such that frequently accessed items don't reside on the same partition"
// and, for one item driving consistently high traffic, "might rebalance
// your data so that a partition contains only that single, frequently
// accessed item" (developer guide, "Isolate frequently accessed items");
// the partition's ceiling still applies, so one key never gets more than
// 3,000 read or 1,000 write units a second. AWS documents neither the
// threshold nor the delay; eddy's model:
//
//   - A partition is hot in a second when what it consumed in that second
//     (read or write) reached hotShare of its ceiling.
//   - While hot, it samples the partition-key hashes it serves (at most
//     maxHeatKeys of them) with their units.
//   - After Options.SplitForHeatAfter (default 5 minutes) of consecutive
//     hot seconds it is split where the sampled units balance, between
//     two adjacent sampled hashes, when each side carried at least
//     minKeyShare of them: two hot keys end in partitions of their own,
//     each with its own ceiling. A single hot key cannot be split from
//     itself (sort-key segments of an item collection are not modelled).
//
// Splits are kept while the server runs; the limiter's state is not
// persisted, so a restart sizes partitions again from throughput and size.
const (
	hotShare    = 0.8
	minKeyShare = 0.1
	maxHeatKeys = 32

	// DefaultSplitForHeatAfter is how long a partition must stay hot
	// before it is split for heat.
	DefaultSplitForHeatAfter = 5 * time.Minute
)

// partitioning is how the partition-key hashes of a table (or of a global
// index) are divided: start[i] is the first hash of partition i (start[0]
// is 0), ascending. base partitions of equal ranges come from the
// throughput and size; heat holds the split points added for heat.
type partitioning struct {
	base  int
	heat  []uint64
	start []uint64
	// rd and wr are the two directions, whose per-partition state follows
	// the partitions.
	rd, wr *side
	// pending are split points decided while a request was charged,
	// applied before the next one (tableState.applySplits); owner is the
	// table they are flagged on.
	pending []uint64
	owner   *tableState
}

// applySplits applies the splits for heat decided since the last request.
// l.mu held.
func (ts *tableState) applySplits() {
	ts.splits = false
	apply := func(pt *partitioning) {
		for _, at := range pt.pending {
			pt.split(at)
		}
		pt.pending = pt.pending[:0]
	}
	apply(&ts.pt)
	for _, g := range ts.gsis {
		apply(&g.pt)
	}
}

// resize makes at least n base partitions; it reports whether the
// partitions changed.
func (pt *partitioning) resize(n int) bool {
	if n <= pt.base && pt.start != nil {
		return false
	}
	pt.base = max(pt.base, n)
	pt.rebuild()
	return true
}

func (pt *partitioning) rebuild() {
	st := make([]uint64, 0, pt.base+len(pt.heat))
	for i := range pt.base {
		b, _ := hashBound(i, pt.base)
		st = append(st, b)
	}
	st = append(st, pt.heat...)
	slices.Sort(st)
	pt.start = slices.Compact(st)
}

// n is the number of partitions.
func (pt *partitioning) n() int { return len(pt.start) }

// of is the partition serving hash h.
func (pt *partitioning) of(h uint64) int {
	if len(pt.heat) == 0 {
		return PartitionOf(h, pt.base)
	}
	return sort.Search(len(pt.start), func(i int) bool { return pt.start[i] > h }) - 1
}

// end is the last hash of partition i.
func (pt *partitioning) end(i int) uint64 {
	if i+1 < len(pt.start) {
		return pt.start[i+1] - 1
	}
	return ^uint64(0)
}

// split adds a partition starting at hash at (inside an existing one, not
// at its start): both directions' state of the partition split is
// divided, each half starting its figures and heat afresh, its ceiling
// bucket as the whole had it.
func (pt *partitioning) split(at uint64) {
	p := pt.of(at)
	if pt.start[p] == at {
		return
	}
	pt.heat = append(pt.heat, at)
	pt.start = slices.Insert(pt.start, p+1, at)
	for _, s := range []*side{pt.rd, pt.wr} {
		s.ceil = slices.Insert(s.ceil, p+1, s.ceil[p])
		s.parts = slices.Insert(s.parts, p+1, partStats{heat: true})
		s.parts[p] = partStats{heat: true}
		s.heat = slices.Insert(s.heat, p+1, heatState{})
		s.heat[p] = heatState{}
	}
}

// heatState is one partition's heat in one direction.
type heatState struct {
	sec     int64              // the second units counts
	units   float64            // consumed in it
	hotSecs int64              // consecutive hot seconds before sec
	keys    map[uint64]float64 // sampled units per partition-key hash, while hot
}

// note records units consumed by key hash h at now, on a partition whose
// ceiling is ceiling; it returns a split point (non-zero) when the
// partition has been hot for after and two keys share its heat.
func (hs *heatState) note(h uint64, units, ceiling float64, now time.Time, after time.Duration) uint64 {
	sec := now.Unix()
	if sec != hs.sec {
		hot := hs.units >= hotShare*ceiling
		switch {
		case hot && sec == hs.sec+1:
			hs.hotSecs++
		case hot:
			hs.hotSecs = 0 // a gap: not consecutive
		default:
			hs.hotSecs, hs.keys = 0, nil
		}
		hs.sec, hs.units = sec, 0
	}
	hs.units += units
	if hs.hotSecs == 0 && hs.units < hotShare*ceiling {
		return 0
	}
	if hs.keys == nil {
		hs.keys = make(map[uint64]float64, 4)
	}
	if _, ok := hs.keys[h]; ok || len(hs.keys) < maxHeatKeys {
		hs.keys[h] += units
	}
	if time.Duration(hs.hotSecs)*time.Second < after {
		return 0
	}
	at := hs.splitPoint()
	hs.hotSecs, hs.keys = 0, nil // decided: sample afresh
	return at
}

// splitPoint divides the sampled heat in two: between the two adjacent
// sampled hashes where the units on either side are closest to half, at
// the midpoint of those hashes. Two hot keys are thus split apart, and a
// partition hot with many keys is split where its load balances. 0 when a
// side would carry less than minKeyShare of the units (one key carries
// the heat: it cannot be split from itself).
func (hs *heatState) splitPoint() uint64 {
	type kv struct {
		h uint64
		u float64
	}
	keys := make([]kv, 0, len(hs.keys))
	var total float64
	for h, u := range hs.keys {
		keys = append(keys, kv{h, u})
		total += u
	}
	slices.SortFunc(keys, func(x, y kv) int { return cmp.Compare(x.h, y.h) })
	best, bestGap, cum := -1, math.Inf(1), 0.0
	for i := 0; i+1 < len(keys); i++ {
		cum += keys[i].u
		if cum < minKeyShare*total || total-cum < minKeyShare*total {
			continue
		}
		if gap := math.Abs(cum - total/2); gap < bestGap {
			best, bestGap = i, gap
		}
	}
	if best < 0 {
		return 0
	}
	lo, hi := keys[best].h, keys[best+1].h
	return lo + (hi-lo)/2 + 1 // lo < at <= hi
}
