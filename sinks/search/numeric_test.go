package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/numeric"

	"github.com/eddydb/eddy/outbox"
)

// TestSplitRange checks that the blocks of splitRange cover exactly
// [lo, hi]: every value inside has a term in a block, none outside does.
func TestSplitRange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	covered := func(blocks [][2][]byte, v int64) bool {
		for _, b := range blocks {
			shift := uint(b[0][0] - numeric.ShiftStartInt64)
			term := string(numeric.MustNewPrefixCodedInt64(v, shift))
			if term >= string(b[0]) && term <= string(b[1]) {
				return true
			}
		}
		return false
	}
	for i := 0; i < 300; i++ {
		lo, hi := r.Int64(), r.Int64()
		if i%3 == 0 { // short ranges too
			hi = lo + r.Int64N(1<<20)
		}
		if i == 0 {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		blocks := splitRange(lo, hi)
		for _, v := range []int64{lo, hi, lo + (hi-lo)/2, lo - 1, hi + 1, r.Int64()} {
			in := v >= lo && v <= hi
			if lo > hi {
				in = false
			}
			if covered(blocks, v) != in {
				t.Fatalf("[%d, %d]: %d covered %v, want %v", lo, hi, v, !in, in)
			}
		}
	}
}

// TestNumericRanges compares range queries on random numbers and dates
// with a filter over the values.
func TestNumericRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := open(t, "")
	defer x.Close()
	var nums []float64
	var dates []time.Time
	var docs []outbox.Doc
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 300; i++ {
		var f float64
		switch i % 4 {
		case 0:
			f = float64(r.IntN(200) - 100)
		case 1:
			f = (r.Float64() - 0.5) * 1e6
		case 2:
			f = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(600)-300))
		default:
			f = float64(r.IntN(10)) / 4
		}
		d := base.Add(time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))
		nums, dates = append(nums, f), append(dates, d)
		docs = append(docs, put(strconv.Itoa(i), 1, fmt.Sprintf(`{"v":%s,"d":%q}`, strconv.FormatFloat(f, 'g', -1, 64), d.Format(time.RFC3339Nano))))
	}
	deliver(t, x, docs...)
	for i := 0; i < 60; i++ {
		a, b := nums[r.IntN(len(nums))], nums[r.IntN(len(nums))]
		if i%5 == 0 {
			a = (r.Float64() - 0.5) * 1e6
		}
		a, b = min(a, b), max(a, b)
		gt, lt := []string{"gt", "gte"}[r.IntN(2)], []string{"lt", "lte"}[r.IntN(2)]
		var want []string
		for j, f := range nums {
			if (f > a || (gt == "gte" && f == a)) && (f < b || (lt == "lte" && f == b)) {
				want = append(want, strconv.Itoa(j))
			}
		}
		body := fmt.Sprintf(`{"query":{"range":{"v":{%q:%s,%q:%s}}},"size":10000}`, gt, strconv.FormatFloat(a, 'g', -1, 64), lt, strconv.FormatFloat(b, 'g', -1, 64))
		if got, w := sortedIDs(mustFind(t, x, body)), sorted(want); !slices.Equal(got, w) {
			t.Fatalf("%s: %d hits, want %d", body, len(got), len(w))
		}

		da, db := dates[r.IntN(len(dates))], dates[r.IntN(len(dates))]
		if da.After(db) {
			da, db = db, da
		}
		want = want[:0]
		for j, d := range dates {
			if !d.Before(da) && d.Before(db) {
				want = append(want, strconv.Itoa(j))
			}
		}
		body = fmt.Sprintf(`{"query":{"range":{"d":{"gte":%q,"lt":%q}}},"size":10000}`, da.Format(time.RFC3339Nano), db.Format(time.RFC3339Nano))
		if got, w := sortedIDs(mustFind(t, x, body)), sorted(want); !slices.Equal(got, w) {
			t.Fatalf("%s: %d hits, want %d", body, len(got), len(w))
		}
	}
}

func mustFind(t *testing.T, x *Index, body string) response {
	t.Helper()
	r, _ := find(t, x, body)
	return r
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}
