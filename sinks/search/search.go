package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/eddydb/eddy/outbox"
)

// request is a parsed _search body.
type request struct {
	q         query.Query
	from      int
	size      int
	sort      []sortKey
	source    bool
	highlight *hlRequest
	hl        map[string][]hlTerm
}

// sortKey is one sort criterion.
type sortKey struct {
	field string // "_score" for the score
	desc  bool
	k     kind // the value kind to decode (kNumber, kDate, kBool, kText)
}

// Search answers an Elasticsearch _search request body (the subset the
// package doc lists). A request the index refuses is a *outbox.SearchError.
func (x *Index) Search(ctx context.Context, body []byte) ([]byte, error) {
	start := time.Now()
	if err := x.enter(); err != nil {
		return nil, err
	}
	defer x.life.RUnlock()
	r, err := x.parseRequest(body)
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(live(r.q), r.size, r.from, false)
	req.Fields = []string{fieldVer}
	if r.source || r.highlight != nil {
		req.Fields = append(req.Fields, fieldSource)
	}
	byScore := len(r.sort) == 0 || r.sort[0].field == "_score"
	if len(r.sort) > 0 {
		order := make(bsearch.SortOrder, 0, len(r.sort))
		for _, s := range r.sort {
			switch s.field {
			case "_score":
				order = append(order, &bsearch.SortScore{Desc: s.desc})
				continue
			case "_id":
				order = append(order, &bsearch.SortDocID{Desc: s.desc})
				continue
			}
			typ := bsearch.SortFieldAsString
			switch s.k {
			case kNumber:
				typ = bsearch.SortFieldAsNumber
			case kDate:
				typ = bsearch.SortFieldAsDate
			}
			order = append(order, &bsearch.SortField{Field: s.field, Desc: s.desc, Type: typ, Missing: bsearch.SortFieldMissingLast})
		}
		req.SortByCustom(order)
		if !scoreNeeded(r.sort) {
			req.Score = "none"
		}
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("search: sink %s: %w", x.name, err)
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `{"took":%d,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":%d,"relation":"eq"},"max_score":`,
		time.Since(start).Milliseconds(), res.Total)
	if byScore && len(res.Hits) > 0 {
		writeFloat(&b, res.MaxScore)
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"hits":[`)
	for i, h := range res.Hits {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"_index":`)
		writeJSON(&b, x.name)
		b.WriteString(`,"_id":`)
		writeJSON(&b, h.ID)
		b.WriteString(`,"_score":`)
		if byScore {
			writeFloat(&b, h.Score)
		} else {
			b.WriteString("null")
		}
		ver, _ := h.Fields[fieldVer].(string)
		v, err := parseVer(ver)
		if err != nil {
			return nil, fmt.Errorf("search: sink %s: document %s: %w", x.name, h.ID, err)
		}
		fmt.Fprintf(&b, `,"_version":%d`, v)
		src, _ := h.Fields[fieldSource].(string)
		if r.source {
			b.WriteString(`,"_source":`)
			if src == "" {
				b.WriteString("{}")
			} else {
				b.WriteString(src) // validated JSON, byte for byte as delivered
			}
		}
		if r.highlight != nil {
			if frags := r.highlight.apply(x, r.hl, []byte(src)); len(frags) > 0 {
				b.WriteString(`,"highlight":`)
				writeJSON(&b, frags)
			}
		}
		if len(r.sort) > 0 {
			b.WriteString(`,"sort":[`)
			for j, s := range r.sort {
				if j > 0 {
					b.WriteByte(',')
				}
				if s.field == "_score" {
					writeFloat(&b, h.Score)
					continue
				}
				var val string
				if j < len(h.Sort) {
					val = h.Sort[j]
				}
				writeSortValue(&b, s.k, val)
			}
			b.WriteByte(']')
		}
		b.WriteByte('}')
	}
	b.WriteString("]}}")
	return b.Bytes(), nil
}

func scoreNeeded(keys []sortKey) bool {
	for _, s := range keys {
		if s.field == "_score" {
			return true
		}
	}
	return false
}

func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	// Strings and string maps always encode.
	_ = enc.Encode(v)
	b.Truncate(b.Len() - 1) // Encode's newline
}

func writeFloat(b *bytes.Buffer, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b.WriteString("null")
		return
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
}

// writeSortValue writes a hit's sort value as Elasticsearch would: numbers
// as numbers, dates as epoch milliseconds, booleans, strings; a missing
// value as null.
func writeSortValue(b *bytes.Buffer, k kind, v string) {
	switch k {
	case kNumber, kDate:
		i, err := numeric.PrefixCoded(v).Int64()
		if err != nil {
			b.WriteString("null")
			return
		}
		if k == kNumber {
			writeFloat(b, numeric.Int64ToFloat64(i))
		} else {
			b.WriteString(strconv.FormatInt(time.Unix(0, i).UnixMilli(), 10))
		}
	case kBool:
		switch v {
		case "T":
			b.WriteString("true")
		case "F":
			b.WriteString("false")
		default:
			b.WriteString("null")
		}
	default:
		if v == bsearch.HighTerm || v == bsearch.LowTerm {
			b.WriteString("null")
			return
		}
		writeJSON(b, v)
	}
}

// parseRequest reads and bounds a _search body.
func (x *Index) parseRequest(body []byte) (*request, error) {
	if len(body) > maxBody {
		return nil, illegalArg("request body is larger than %d bytes", maxBody)
	}
	r := &request{size: 10, source: true}
	t := &translator{x: x}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		r.q = query.NewMatchAllQuery()
		return r, nil
	}
	m, err := object(body, "search")
	if err != nil {
		return nil, err
	}
	for k, raw := range m {
		switch k {
		case "query":
			r.q, err = t.query(raw, 1)
		case "from":
			r.from, err = intParam(raw, "from")
		case "size":
			r.size, err = intParam(raw, "size")
		case "sort":
			r.sort, err = x.parseSort(raw)
		case "_source":
			if err = json.Unmarshal(raw, &r.source); err != nil {
				err = parsingErr("[_source] only true and false are supported")
			}
		case "highlight":
			r.highlight, err = parseHighlight(raw)
		case "track_total_hits", "version":
			// Totals are always exact; _version is always returned.
		default:
			err = parsingErr("Unknown key for a START_OBJECT in [%s].", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if r.q == nil {
		r.q = query.NewMatchAllQuery()
	}
	if r.from < 0 {
		return nil, illegalArg("[from] parameter cannot be negative")
	}
	if r.size < 0 {
		return nil, illegalArg("[size] parameter cannot be negative, found [%d]", r.size)
	}
	if r.from+r.size > maxWindow {
		return nil, illegalArg("Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.", maxWindow, r.from+r.size)
	}
	if vq, ok := r.q.(query.ValidatableQuery); ok {
		if err := vq.Validate(); err != nil {
			return nil, &outbox.SearchError{Status: 400, Type: "query_shard_exception", Reason: "failed to create query: " + err.Error()}
		}
	}
	r.hl = t.hl
	return r, nil
}

func intParam(raw json.RawMessage, what string) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, parsingErr("[%s] must be an integer", what)
	}
	if n > math.MaxInt32 || n < math.MinInt32 {
		return 0, illegalArg("[%s] is out of range", what)
	}
	return n, nil
}

// parseSort reads ES sort: a field name, {"field": "asc"|"desc"},
// {"field": {"order": ...}}, or an array of these.
func (x *Index) parseSort(raw json.RawMessage) ([]sortKey, error) {
	raw = bytes.TrimSpace(raw)
	var items []json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := decode(raw, &items); err != nil {
			return nil, parsingErr("[sort] %v", err)
		}
	} else {
		items = []json.RawMessage{raw}
	}
	if len(items) > 16 {
		return nil, illegalArg("[sort] more than 16 sort keys")
	}
	var keys []sortKey
	for _, it := range items {
		var name string
		order := ""
		if err := json.Unmarshal(it, &name); err != nil {
			var m map[string]json.RawMessage
			if err := decode(it, &m); err != nil || len(m) != 1 {
				return nil, parsingErr("[sort] expected a field name or {field: order}")
			}
			for f, o := range m {
				name = f
				if err := json.Unmarshal(o, &order); err != nil {
					var opts map[string]json.RawMessage
					if err := decode(o, &opts); err != nil {
						return nil, parsingErr("[sort] bad options for [%s]", f)
					}
					if err := only(opts, "sort", "order", "missing", "unmapped_type"); err != nil {
						return nil, err
					}
					if ro, ok := opts["order"]; ok {
						if err := json.Unmarshal(ro, &order); err != nil {
							return nil, parsingErr("[sort] order must be a string")
						}
					}
				}
			}
		}
		if name == "_doc" {
			name = "_id" // no index order in bleve: _doc is ID order
		}
		k := sortKey{field: name}
		switch strings.ToLower(order) {
		case "":
			k.desc = name == "_score"
		case "asc":
		case "desc":
			k.desc = true
		default:
			return nil, illegalArg("[sort] unknown order [%s]", order)
		}
		if name != "_score" && name != "_id" {
			fk := x.kindOf(strings.TrimSuffix(name, ".keyword"))
			switch {
			case strings.HasSuffix(name, ".keyword") && fk&(kText|kNumber) != 0:
				k.k = kText
			case strings.HasSuffix(name, ".keyword") || fk == 0:
				return nil, &outbox.SearchError{Status: 400, Type: "query_shard_exception",
					Reason: fmt.Sprintf("No mapping found for [%s] in order to sort on", name)}
			case fk&kNumber != 0:
				k.k = kNumber
			case fk&kDate != 0:
				k.k = kDate
			case fk&kBool != 0:
				k.k = kBool
			default:
				return nil, illegalArg("Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [%s] in order to load field data by uninverting the inverted index. Note that this can use significant memory.", name)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}
