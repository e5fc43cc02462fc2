package search

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// Numbers and dates are int64s (a float64's sortable bits; a date's Unix
// nanoseconds) indexed as prefix-coded terms, like bleve's numeric and date
// fields, but every 8 bits instead of every 4: 8 terms per value, not 16.
// Numeric terms were over half the terms of a typical item, and indexing
// time follows the number of terms. bleve's range queries assume its step
// of 4, so ranges are numRange queries, which split with a step of 8 and
// read the terms that exist from the dictionary.
//
//	shift 0   0x20 | 9 bytes of 7 bits   the value itself (sort reads it)
//	shift 8   0x28 | 8 bytes             the value >> 8
//	...
//	shift 56  0x58 | 1 byte              the value >> 56
const precisionStep = 8

// numField is a number or a date of a document.
type numField struct {
	name  string
	ap    []uint64
	opts  index.FieldIndexingOptions
	value int64
	freqs index.TokenFrequencies
	n     int
}

func newNumField(name string, ap []uint64, v int64, opts index.FieldIndexingOptions) *numField {
	return &numField{name: name, ap: ap, opts: opts, value: v}
}

func (f *numField) Name() string                        { return f.name }
func (f *numField) ArrayPositions() []uint64            { return f.ap }
func (f *numField) Options() index.FieldIndexingOptions { return f.opts }
func (f *numField) Value() []byte                       { return numeric.MustNewPrefixCodedInt64(f.value, 0) }
func (f *numField) NumPlainTextBytes() uint64           { return 8 }
func (f *numField) EncodedFieldType() byte              { return 'n' }
func (f *numField) AnalyzedLength() int                 { return f.n }
func (f *numField) AnalyzedTokenFrequencies() index.TokenFrequencies {
	return f.freqs
}
func (f *numField) Size() int { return 64 + len(f.name) + 8*len(f.ap) + f.freqs.Size() }

func (f *numField) Analyze() {
	tokens := make(analysis.TokenStream, 0, 64/precisionStep)
	for shift := uint(0); shift < 64; shift += precisionStep {
		term := numeric.MustNewPrefixCodedInt64(f.value, shift)
		tokens = append(tokens, &analysis.Token{Start: 0, End: len(term), Term: term, Position: 1, Type: analysis.Numeric})
	}
	f.n = len(tokens)
	f.freqs = analysis.TokenFrequency(tokens, f.ap, f.opts)
}

// dateValue is t's indexed value, if t is within int64 nanoseconds.
func dateValue(t time.Time) (int64, bool) {
	n := t.UnixNano()
	return n, time.Unix(0, n).Equal(t)
}

// floatTerm is the exact term of the number f.
func floatTerm(f float64) string {
	return string(numeric.MustNewPrefixCodedInt64(numeric.Float64ToInt64(f), 0))
}

// numRange matches field's values in [lo, hi] (an empty range matches
// nothing).
type numRange struct {
	field  string
	lo, hi int64
	boost  *float64
}

// floatRange is the numRange of float bounds; nil is unbounded.
func floatRange(field string, min, max *float64, minIncl, maxIncl bool) *numRange {
	q := &numRange{field: field, lo: numeric.Float64ToInt64(math.Inf(-1)), hi: numeric.Float64ToInt64(math.Inf(1))}
	if min != nil {
		q.lo = numeric.Float64ToInt64(*min)
		if !minIncl && q.lo != math.MaxInt64 {
			q.lo++
		}
	}
	if max != nil {
		q.hi = numeric.Float64ToInt64(*max)
		if !maxIncl && q.hi != math.MinInt64 {
			q.hi--
		}
	}
	return q
}

// dateRange is the numRange of date bounds; a zero time is unbounded.
func dateRange(field string, start, end time.Time, startIncl, endIncl bool) (*numRange, error) {
	q := &numRange{field: field, lo: math.MinInt64, hi: math.MaxInt64}
	if !start.IsZero() {
		v, ok := dateValue(start)
		if !ok {
			return nil, fmt.Errorf("date %s is out of range", start.Format(time.RFC3339))
		}
		q.lo = v
		if !startIncl && q.lo != math.MaxInt64 {
			q.lo++
		}
	}
	if !end.IsZero() {
		v, ok := dateValue(end)
		if !ok {
			return nil, fmt.Errorf("date %s is out of range", end.Format(time.RFC3339))
		}
		q.hi = v
		if !endIncl && q.hi != math.MinInt64 {
			q.hi--
		}
	}
	return q, nil
}

func (q *numRange) SetBoost(b float64) { q.boost = &b }

func (q *numRange) Boost() float64 {
	if q.boost == nil {
		return 1
	}
	return *q.boost
}

// Searcher reads, for each block of the split range, the terms the field's
// dictionary has, and matches any of them.
func (q *numRange) Searcher(ctx context.Context, r index.IndexReader, _ mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	var terms [][]byte
	for _, b := range splitRange(q.lo, q.hi) {
		d, err := r.FieldDictRange(q.field, b[0], b[1])
		if err != nil {
			return nil, err
		}
		e, err := d.Next()
		for err == nil && e != nil {
			terms = append(terms, []byte(e.Term))
			e, err = d.Next()
		}
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	return searcher.NewMultiTermSearcherBytes(ctx, r, terms, q.field, q.Boost(), options, true)
}

// splitRange covers [lo, hi] with blocks of terms: at each shift, the
// partial blocks at both ends, the rest at the next shift (Lucene's
// splitRange, as bleve's splitInt64Range, with precisionStep). Each block
// is [first term, last term].
func splitRange(lo, hi int64) [][2][]byte {
	var out [][2][]byte
	if lo > hi {
		return out
	}
	block := func(lo, hi int64, shift uint) {
		hi |= (int64(1) << shift) - 1
		out = append(out, [2][]byte{numeric.MustNewPrefixCodedInt64(lo, shift), numeric.MustNewPrefixCodedInt64(hi, shift)})
	}
	for shift := uint(0); ; shift += precisionStep {
		diff := int64(1) << (shift + precisionStep)
		mask := ((int64(1) << precisionStep) - 1) << shift
		hasLower := lo&mask != 0
		hasUpper := hi&mask != mask
		nextLo, nextHi := lo&^mask, hi&^mask
		if hasLower {
			nextLo = (lo + diff) &^ mask
		}
		if hasUpper {
			nextHi = (hi - diff) &^ mask
		}
		if shift+precisionStep >= 64 || nextLo > nextHi || nextLo < lo || nextHi > hi {
			block(lo, hi, shift)
			return out
		}
		if hasLower {
			block(lo, lo|mask, shift)
		}
		if hasUpper {
			block(hi&^mask, hi, shift)
		}
		lo, hi = nextLo, nextHi
	}
}
