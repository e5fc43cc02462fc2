package shards

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Range is a closed interval [Lo, Hi] of the 64-bit partition-key hash
// space. The open shards of a stream partition the whole space; an item's
// changes go to the open shard whose Range contains Hash(pk).
type Range struct {
	Lo, Hi uint64
}

// Full is the whole hash space.
var Full = Range{0, math.MaxUint64}

// Contains reports whether h falls in r.
func (r Range) Contains(h uint64) bool { return h >= r.Lo && h <= r.Hi }

// Splittable reports whether r can be split into two non-empty halves.
func (r Range) Splittable() bool { return r.Hi > r.Lo }

// Split returns r's lower and upper halves.
func (r Range) Split() (Range, Range) {
	mid := r.Lo + (r.Hi-r.Lo)/2
	return Range{r.Lo, mid}, Range{mid + 1, r.Hi}
}

// Initial divides the hash space into n contiguous ranges of (nearly) equal
// width, in ascending order. n < 1 is treated as 1.
func Initial(n int) []Range {
	if n < 1 {
		n = 1
	}
	out := make([]Range, 0, n)
	width := math.MaxUint64 / uint64(n)
	lo := uint64(0)
	for i := 0; i < n; i++ {
		hi := lo + width - 1
		if i == n-1 {
			hi = math.MaxUint64
		}
		out = append(out, Range{lo, hi})
		lo = hi + 1
	}
	return out
}

// Find returns the index of the range in rs (sorted ascending, contiguous)
// that contains h, or -1.
func Find(rs []Range, h uint64) int {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Hi >= h })
	if i < len(rs) && rs[i].Contains(h) {
		return i
	}
	return -1
}

// FormatID returns a shard ID in DynamoDB's shape,
// shardId-<20 digits>-<8 hex>: the digits are the creation time in Unix
// milliseconds (13 digits) followed by the shard's ordinal within its
// stream (7 digits), the hex is the stream's ID. IDs are therefore unique
// by construction for the first 10^7 shards of a stream.
//
//	shardId-17000000000000000005-0000002a
func FormatID(created time.Time, stream, ordinal uint32) string {
	return fmt.Sprintf("shardId-%013d%07d-%08x", created.UnixMilli(), ordinal%10_000_000, stream)
}

// Policy decides when an open shard is replaced. Zero fields disable the
// corresponding trigger.
type Policy struct {
	// RolloverInterval closes a shard this long after it opened and
	// replaces it by one child covering the same hash range.
	RolloverInterval time.Duration
	// SplitWritesPerSecond splits a shard whose measured write rate exceeds
	// it into two children that each cover half its range.
	SplitWritesPerSecond float64
	// MaxOpenShards bounds the open shards of one stream: a split that would
	// pass it does not happen.
	MaxOpenShards int
}

// Action is what a Policy says to do with one open shard.
type Action int

const (
	Keep     Action = iota
	Rollover        // close; one child with the same range
	Split           // close; two children with the halves
)

// Decide returns the action for an open shard created at created, with
// range r, that saw writes records over the last elapsed, in a stream
// with open shards open now.
func (p Policy) Decide(now, created time.Time, r Range, writes uint64, elapsed time.Duration, open int) Action {
	if p.SplitWritesPerSecond > 0 && elapsed > 0 && r.Splittable() &&
		(p.MaxOpenShards == 0 || open < p.MaxOpenShards) &&
		float64(writes)/elapsed.Seconds() > p.SplitWritesPerSecond {
		return Split
	}
	if p.RolloverInterval > 0 && now.Sub(created) >= p.RolloverInterval {
		return Rollover
	}
	return Keep
}

// Info is the lineage view of one shard: what DescribeStream lists.
type Info struct {
	ID       string
	ParentID string // empty for a stream's first shards
	Ordinal  uint32 // creation order within the stream; children > parents
	Range    Range
	Start    uint64 // StartingSequenceNumber
	End      uint64 // EndingSequenceNumber; meaningful only when Closed
	Closed   bool
	Created  time.Time
}

// ParentsFirst orders shards so that every parent precedes its children,
// the order a consumer must read them in to see each item's changes in
// order. Children are always created after their parents, with a larger
// ordinal, so creation order is such an order. The input is not modified.
func ParentsFirst(in []Info) []Info {
	out := append([]Info(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].Ordinal < out[j].Ordinal })
	return out
}
