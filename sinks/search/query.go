package search

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/eddydb/eddy/outbox"
)

// Bounds on what one request may make the index do.
const (
	maxBody       = 1 << 20
	maxQueryDepth = 20
	maxClauses    = 1024
	maxWindow     = 10000
)

func parsingErr(format string, args ...any) *outbox.SearchError {
	return &outbox.SearchError{Status: 400, Type: "parsing_exception", Reason: fmt.Sprintf(format, args...)}
}

func illegalArg(format string, args ...any) *outbox.SearchError {
	return &outbox.SearchError{Status: 400, Type: "illegal_argument_exception", Reason: fmt.Sprintf(format, args...)}
}

// hlTerm is a term a query looks for in a field, for highlighting.
type hlTerm struct {
	term   string
	prefix bool
	whole  bool // matches the whole value (keyword fields)
}

// translator turns an Elasticsearch query into a bleve one, counting
// clauses and collecting highlight terms.
type translator struct {
	x        *Index
	nclauses int
	hl       map[string][]hlTerm
	boosts   map[string]float64 // query_string fields' boosts (field^2)
}

func (t *translator) count(n int) error {
	t.nclauses += n
	if t.nclauses > maxClauses {
		return illegalArg("query has more than %d clauses (terms values and query_string fields count one each)", maxClauses)
	}
	return nil
}

func (t *translator) highlight(field string, h hlTerm) {
	if t.hl == nil {
		t.hl = map[string][]hlTerm{}
	}
	t.hl[field] = append(t.hl[field], h)
}

// decode parses raw JSON keeping numbers exact.
func decode(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// object decodes raw as a JSON object whose members stay raw.
func object(raw []byte, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := decode(raw, &m); err != nil || m == nil {
		return nil, parsingErr("[%s] expected an object: %v", what, err)
	}
	return m, nil
}

// query translates one query object.
func (t *translator) query(raw json.RawMessage, depth int) (query.Query, error) {
	if depth > maxQueryDepth {
		return nil, parsingErr("query is nested deeper than %d levels", maxQueryDepth)
	}
	m, err := object(raw, "query")
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, parsingErr("query malformed, empty clause found")
	}
	if len(m) > 1 {
		return nil, parsingErr("query malformed, must start with a single query name, found %d", len(m))
	}
	if err := t.count(1); err != nil {
		return nil, err
	}
	for name, body := range m {
		switch name {
		case "match_all":
			return t.matchAll(body)
		case "match_none":
			return query.NewMatchNoneQuery(), nil
		case "match":
			return t.match(body)
		case "match_phrase":
			return t.matchPhrase(body)
		case "term":
			return t.term(body)
		case "terms":
			return t.terms(body)
		case "range":
			return t.rangeQ(body)
		case "exists":
			return t.exists(body)
		case "prefix":
			return t.prefix(body)
		case "bool":
			return t.boolQ(body, depth)
		case "query_string":
			return t.queryString(body)
		default:
			return nil, parsingErr("unknown query [%s]", name)
		}
	}
	return nil, parsingErr("query malformed") // not reached: m has one key
}

// fieldParams splits {"field": value-or-object}: the field, its raw value
// and, when the value is an object, its members.
func fieldParams(body json.RawMessage, what string) (string, json.RawMessage, map[string]json.RawMessage, error) {
	m, err := object(body, what)
	if err != nil {
		return "", nil, nil, err
	}
	if len(m) != 1 {
		return "", nil, nil, parsingErr("[%s] query doesn't support multiple fields, found %d", what, len(m))
	}
	for f, v := range m {
		if f == "" {
			return "", nil, nil, parsingErr("[%s] field name is empty", what)
		}
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[0] == '{' {
			params, err := object(v, what)
			return f, v, params, err
		}
		return f, v, nil, nil
	}
	return "", nil, nil, parsingErr("[%s] query malformed", what) // not reached: m has one key
}

// scalar decodes raw as a string, json.Number or bool.
func scalar(raw json.RawMessage, what string) (any, error) {
	var v any
	if err := decode(raw, &v); err != nil {
		return nil, parsingErr("[%s] %v", what, err)
	}
	switch v.(type) {
	case string, json.Number, bool:
		return v, nil
	}
	return nil, parsingErr("[%s] value must be a string, number or boolean", what)
}

// boost applies params' "boost" to q.
func boost(q query.Query, params map[string]json.RawMessage, what string) (query.Query, error) {
	raw, ok := params["boost"]
	if !ok {
		return q, nil
	}
	var b float64
	if err := json.Unmarshal(raw, &b); err != nil || b < 0 {
		return nil, parsingErr("[%s] boost must be a non-negative number", what)
	}
	if bq, ok := q.(query.BoostableQuery); ok {
		bq.SetBoost(b)
	}
	return q, nil
}

// only refuses params outside allowed.
func only(params map[string]json.RawMessage, what string, allowed ...string) error {
	for k := range params {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
			}
		}
		if !found {
			return parsingErr("[%s] query does not support [%s]", what, k)
		}
	}
	return nil
}

func (t *translator) matchAll(body json.RawMessage) (query.Query, error) {
	m, err := object(body, "match_all")
	if err != nil {
		return nil, err
	}
	if err := only(m, "match_all", "boost"); err != nil {
		return nil, err
	}
	return boost(query.NewMatchAllQuery(), m, "match_all")
}

// analyze returns the text analyzer's tokens of s.
func (t *translator) analyze(s string) []string {
	toks := t.x.text.Analyze([]byte(s))
	out := make([]string, len(toks))
	for i, tok := range toks {
		out[i] = string(tok.Term)
	}
	return out
}

func (t *translator) match(body json.RawMessage) (query.Query, error) {
	field, raw, params, err := fieldParams(body, "match")
	if err != nil {
		return nil, err
	}
	operator, msm := "or", ""
	if params != nil {
		if err := only(params, "match", "query", "operator", "minimum_should_match", "boost"); err != nil {
			return nil, err
		}
		if raw = params["query"]; raw == nil {
			return nil, parsingErr("[match] requires query")
		}
		if o, ok := params["operator"]; ok {
			if err := json.Unmarshal(o, &operator); err != nil {
				return nil, parsingErr("[match] operator must be a string")
			}
			operator = strings.ToLower(operator)
			if operator != "or" && operator != "and" {
				return nil, illegalArg("No enum constant for operator [%s]", operator)
			}
		}
		if m, ok := params["minimum_should_match"]; ok {
			if msm, err = msmString(m); err != nil {
				return nil, err
			}
		}
	}
	v, err := scalar(raw, "match")
	if err != nil {
		return nil, err
	}
	s, isString := v.(string)
	k := t.x.kindOf(field)
	if !isString || strings.HasSuffix(field, ".keyword") || field == "_id" || (k != 0 && k&kText == 0) {
		q, err := t.termValue(field, v)
		if err != nil {
			return nil, err
		}
		return boost(q, params, "match")
	}
	toks := t.analyze(s)
	if err := t.count(len(toks)); err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	qs := make([]query.Query, len(toks))
	for i, tok := range toks {
		qs[i] = termQ(field, tok)
		t.highlight(field, hlTerm{term: tok})
	}
	var q query.Query
	if operator == "and" {
		q = query.NewConjunctionQuery(qs)
	} else {
		d := query.NewDisjunctionQuery(qs)
		min, err := applyMSM(msm, len(qs), 1)
		if err != nil {
			return nil, err
		}
		if min > len(qs) {
			return query.NewMatchNoneQuery(), nil
		}
		d.SetMin(float64(min))
		q = d
	}
	return boost(q, params, "match")
}

func (t *translator) matchPhrase(body json.RawMessage) (query.Query, error) {
	field, raw, params, err := fieldParams(body, "match_phrase")
	if err != nil {
		return nil, err
	}
	if params != nil {
		if err := only(params, "match_phrase", "query", "slop", "boost"); err != nil {
			return nil, err
		}
		if raw = params["query"]; raw == nil {
			return nil, parsingErr("[match_phrase] requires query")
		}
		if s, ok := params["slop"]; ok && string(bytes.TrimSpace(s)) != "0" {
			return nil, illegalArg("[match_phrase] slop other than 0 is not supported")
		}
	}
	v, err := scalar(raw, "match_phrase")
	if err != nil {
		return nil, err
	}
	s, isString := v.(string)
	if !isString || strings.HasSuffix(field, ".keyword") || field == "_id" {
		q, err := t.termValue(field, v)
		if err != nil {
			return nil, err
		}
		return boost(q, params, "match_phrase")
	}
	toks := t.analyze(s)
	if err := t.count(len(toks)); err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	for _, tok := range toks {
		t.highlight(field, hlTerm{term: tok})
	}
	q := query.NewMatchPhraseQuery(s)
	q.SetField(field)
	q.Analyzer = analyzerText
	return boost(q, params, "match_phrase")
}

func (t *translator) term(body json.RawMessage) (query.Query, error) {
	field, raw, params, err := fieldParams(body, "term")
	if err != nil {
		return nil, err
	}
	if params != nil {
		if err := only(params, "term", "value", "boost"); err != nil {
			return nil, err
		}
		if raw = params["value"]; raw == nil {
			return nil, parsingErr("[term] requires value")
		}
	}
	v, err := scalar(raw, "term")
	if err != nil {
		return nil, err
	}
	q, err := t.termValue(field, v)
	if err != nil {
		return nil, err
	}
	return boost(q, params, "term")
}

// exactFloat reports whether n has at most 15 significant digits, so that
// its float64 stands for it alone.
func exactFloat(n string) bool {
	digits, leading := 0, true
	mant := n
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		mant = n[:i]
	}
	trail := 0
	for _, c := range mant {
		if c < '0' || c > '9' {
			continue
		}
		if leading && c == '0' {
			continue
		}
		leading = false
		digits++
		if c == '0' {
			trail++
		} else {
			trail = 0
		}
	}
	return digits-trail <= 15
}

// termValue is a term query for one value on field, by the value's type
// and the field's kinds (see the package doc).
func (t *translator) termValue(field string, v any) (query.Query, error) {
	if field == "_id" {
		s, ok := v.(string)
		if !ok {
			return nil, parsingErr("[term] _id values are strings")
		}
		return query.NewDocIDQuery([]string{s}), nil
	}
	k := t.x.kindOf(field)
	switch v := v.(type) {
	case bool:
		return termQ(field, map[bool]string{true: "T", false: "F"}[v]), nil
	case json.Number:
		return t.numberTerm(field, string(v)), nil
	case string:
		switch {
		case k&kDate != 0:
			if tm, ok := parseDate(v); ok {
				q, err := dateRange(field, tm, tm, true, true)
				if err != nil {
					return nil, &outbox.SearchError{Status: 400, Type: "parse_exception", Reason: err.Error()}
				}
				return q, nil
			}
		case k&kNumber != 0:
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				return t.numberTerm(field, v), nil
			}
		case k&kBool != 0 && (v == "true" || v == "false"):
			return termQ(field, map[bool]string{true: "T", false: "F"}[v == "true"]), nil
		}
		t.highlight(field, hlTerm{term: v, whole: strings.HasSuffix(field, ".keyword")})
		return termQ(field, v), nil
	}
	return nil, parsingErr("[term] unsupported value %v", v)
}

// numberTerm matches the number n (exact JSON text) on field: the exact
// text on its keyword, or the numeric value where n fits a float64.
func (t *translator) numberTerm(field, n string) query.Query {
	kw := field
	if !strings.HasSuffix(field, ".keyword") {
		kw = field + ".keyword"
	}
	exact := termQ(kw, n)
	f, err := strconv.ParseFloat(n, 64)
	if kw == field || err != nil || math.IsInf(f, 0) || !exactFloat(n) {
		return exact
	}
	return query.NewDisjunctionQuery([]query.Query{exact, termQ(field, floatTerm(f))})
}

func (t *translator) terms(body json.RawMessage) (query.Query, error) {
	m, err := object(body, "terms")
	if err != nil {
		return nil, err
	}
	var field string
	var raw json.RawMessage
	for k, v := range m {
		if k == "boost" {
			continue
		}
		if field != "" {
			return nil, parsingErr("[terms] query does not support multiple fields")
		}
		field, raw = k, v
	}
	if field == "" {
		return nil, parsingErr("[terms] query requires a field")
	}
	var vals []json.RawMessage
	if err := decode(raw, &vals); err != nil {
		return nil, parsingErr("[terms] query does not support [%s]: want an array of values", field)
	}
	if err := t.count(len(vals)); err != nil {
		return nil, err
	}
	qs := make([]query.Query, 0, len(vals))
	var ids []string
	for _, r := range vals {
		v, err := scalar(r, "terms")
		if err != nil {
			return nil, err
		}
		if field == "_id" {
			s, ok := v.(string)
			if !ok {
				return nil, parsingErr("[terms] _id values are strings")
			}
			ids = append(ids, s)
			continue
		}
		q, err := t.termValue(field, v)
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	var q query.Query
	switch {
	case field == "_id":
		q = query.NewDocIDQuery(ids)
	case len(qs) == 0:
		q = query.NewMatchNoneQuery()
	default:
		q = query.NewDisjunctionQuery(qs)
	}
	return boost(q, m, "terms")
}

// parseDate accepts RFC 3339 (with or without fraction), a date-time
// without zone (UTC) and yyyy-MM-dd.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if tm, err := time.Parse(layout, s); err == nil {
			return tm, true
		}
	}
	return time.Time{}, false
}

func (t *translator) rangeQ(body json.RawMessage) (query.Query, error) {
	field, _, params, err := fieldParams(body, "range")
	if err != nil {
		return nil, err
	}
	if params == nil {
		return nil, parsingErr("[range] query malformed, no start_object after query name")
	}
	if err := only(params, "range", "gt", "gte", "lt", "lte", "boost"); err != nil {
		return nil, err
	}
	type bound struct {
		v    any
		incl bool
	}
	var lo, hi *bound
	numeric, strs := false, false
	for _, op := range []string{"gt", "gte", "lt", "lte"} {
		raw, ok := params[op]
		if !ok {
			continue
		}
		var v any
		if err := decode(raw, &v); err != nil {
			return nil, parsingErr("[range] %s: %v", op, err)
		}
		switch v.(type) {
		case nil:
			continue // open end, as in ES
		case json.Number:
			numeric = true
		case string:
			strs = true
		default:
			return nil, parsingErr("[range] %s must be a number or a string", op)
		}
		b := &bound{v: v, incl: strings.HasSuffix(op, "e")}
		if op[0] == 'g' {
			lo = b
		} else {
			hi = b
		}
	}
	k := t.x.kindOf(field)
	isKeyword := strings.HasSuffix(field, ".keyword")
	if k == 0 && strs && !numeric {
		// An unmapped field: dates if the bounds are dates, else terms.
		k = kDate
		for _, b := range []*bound{lo, hi} {
			if b == nil {
				continue
			}
			if _, ok := parseDate(b.v.(string)); !ok {
				k = kText
			}
		}
	}
	var q query.Query
	switch {
	case !isKeyword && (numeric || (strs && k&kNumber != 0 && k&kDate == 0)):
		var min, max *float64
		var minI, maxI bool
		for _, p := range []struct {
			b  *bound
			f  **float64
			in *bool
		}{{lo, &min, &minI}, {hi, &max, &maxI}} {
			if p.b == nil {
				continue
			}
			s := fmt.Sprint(p.b.v)
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, parsingErr("[range] [%s] is not a number", s)
			}
			*p.f, *p.in = &f, p.b.incl
		}
		q = floatRange(field, min, max, minI, maxI)
	case !isKeyword && (k&kDate != 0 || k&kText == 0):
		var start, end time.Time
		var si, ei bool
		for _, p := range []struct {
			b  *bound
			tm *time.Time
			in *bool
		}{{lo, &start, &si}, {hi, &end, &ei}} {
			if p.b == nil {
				continue
			}
			s := p.b.v.(string)
			tm, ok := parseDate(s)
			if !ok {
				return nil, &outbox.SearchError{Status: 400, Type: "parse_exception",
					Reason: fmt.Sprintf("failed to parse date field [%s]: want RFC 3339 or yyyy-MM-dd", s)}
			}
			*p.tm, *p.in = tm, p.b.incl
		}
		dq, err := dateRange(field, start, end, si, ei)
		if err != nil {
			return nil, &outbox.SearchError{Status: 400, Type: "parse_exception", Reason: err.Error()}
		}
		q = dq
	default:
		var min, max string
		var minI, maxI *bool
		if lo != nil {
			min, minI = fmt.Sprint(lo.v), &lo.incl
		}
		if hi != nil {
			max, maxI = fmt.Sprint(hi.v), &hi.incl
		}
		tq := query.NewTermRangeInclusiveQuery(min, max, minI, maxI)
		tq.SetField(field)
		q = tq
	}
	if lo == nil && hi == nil {
		q = t.existsField(field)
	}
	return boost(q, params, "range")
}

func (t *translator) existsField(field string) query.Query {
	return termQ(fieldPaths, strings.TrimSuffix(field, ".keyword"))
}

func (t *translator) exists(body json.RawMessage) (query.Query, error) {
	m, err := object(body, "exists")
	if err != nil {
		return nil, err
	}
	if err := only(m, "exists", "field", "boost"); err != nil {
		return nil, err
	}
	var field string
	if err := json.Unmarshal(m["field"], &field); err != nil || field == "" {
		return nil, parsingErr("[exists] must be provided with a [field]")
	}
	if field == "_id" {
		return query.NewMatchAllQuery(), nil
	}
	return boost(t.existsField(field), m, "exists")
}

func (t *translator) prefix(body json.RawMessage) (query.Query, error) {
	field, raw, params, err := fieldParams(body, "prefix")
	if err != nil {
		return nil, err
	}
	if params != nil {
		if err := only(params, "prefix", "value", "boost"); err != nil {
			return nil, err
		}
		if raw = params["value"]; raw == nil {
			return nil, parsingErr("[prefix] requires value")
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, parsingErr("[prefix] value must be a string")
	}
	q := query.NewPrefixQuery(s)
	q.SetField(field)
	t.highlight(field, hlTerm{term: s, prefix: true})
	return boost(q, params, "prefix")
}

// clauses reads a bool clause: one query object or an array of them.
func (t *translator) clauses(raw json.RawMessage, depth int) ([]query.Query, error) {
	raw = bytes.TrimSpace(raw)
	var items []json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := decode(raw, &items); err != nil {
			return nil, parsingErr("[bool] %v", err)
		}
	} else {
		items = []json.RawMessage{raw}
	}
	qs := make([]query.Query, 0, len(items))
	for _, it := range items {
		q, err := t.query(it, depth+1)
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// msmString reads minimum_should_match (a number or a string).
func msmString(raw json.RawMessage) (string, error) {
	var v any
	if err := decode(raw, &v); err != nil {
		return "", parsingErr("[minimum_should_match] %v", err)
	}
	switch v := v.(type) {
	case json.Number:
		return string(v), nil
	case string:
		return v, nil
	}
	return "", parsingErr("[minimum_should_match] must be a number or a string")
}

// applyMSM is how many of n optional clauses must match: ES's integer
// ("2", "-1") or percentage ("75%", "-25%") forms; def when msm is empty.
func applyMSM(msm string, n, def int) (int, error) {
	if msm == "" {
		return def, nil
	}
	s := strings.TrimSpace(msm)
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSuffix(s, "%")
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, illegalArg("invalid minimum_should_match [%s]", msm)
	}
	var r int
	switch {
	case pct && v < 0:
		r = n - (n*-v)/100
	case pct:
		r = n * v / 100
	case v < 0:
		r = n + v
	default:
		r = v
	}
	return max(r, 0), nil
}

func (t *translator) boolQ(body json.RawMessage, depth int) (query.Query, error) {
	m, err := object(body, "bool")
	if err != nil {
		return nil, err
	}
	var must, should, mustNot, filter []query.Query
	msm := ""
	for k, raw := range m {
		switch k {
		case "must":
			must, err = t.clauses(raw, depth)
		case "should":
			should, err = t.clauses(raw, depth)
		case "must_not":
			mustNot, err = t.clauses(raw, depth)
		case "filter":
			filter, err = t.clauses(raw, depth)
		case "minimum_should_match":
			msm, err = msmString(raw)
		case "boost":
		default:
			err = parsingErr("[bool] query does not support [%s]", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(must)+len(should)+len(mustNot)+len(filter) == 0 {
		return boost(query.NewMatchAllQuery(), m, "bool")
	}
	bq := query.NewBooleanQuery(nil, nil, nil)
	if len(should) > 0 {
		def := 0
		if len(must) == 0 && len(filter) == 0 {
			def = 1
		}
		min, err := applyMSM(msm, len(should), def)
		if err != nil {
			return nil, err
		}
		if min > len(should) {
			return query.NewMatchNoneQuery(), nil
		}
		if min == 0 && len(must) == 0 {
			// Should clauses are optional: something else must drive
			// the matches.
			must = []query.Query{query.NewMatchAllQuery()}
		}
		bq.AddShould(should...)
		bq.SetMinShould(float64(min))
	}
	if len(must) > 0 {
		bq.AddMust(must...)
	}
	if len(mustNot) > 0 {
		bq.AddMustNot(mustNot...)
	}
	switch len(filter) {
	case 0:
	case 1:
		bq.AddFilter(filter[0])
	default:
		bq.AddFilter(query.NewConjunctionQuery(filter))
	}
	return boost(bq, m, "bool")
}

// textFields are the mapping's text paths, sorted.
func (x *Index) textFields() []string {
	x.fmu.RLock()
	defer x.fmu.RUnlock()
	var out []string
	for p, k := range x.fields {
		if k&kText != 0 {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (t *translator) queryString(body json.RawMessage) (query.Query, error) {
	m, err := object(body, "query_string")
	if err != nil {
		return nil, err
	}
	if err := only(m, "query_string", "query", "default_field", "fields", "default_operator", "boost"); err != nil {
		return nil, err
	}
	var qs string
	if err := json.Unmarshal(m["query"], &qs); err != nil {
		return nil, parsingErr("[query_string] must be provided with a [query]")
	}
	var fields []string
	if raw, ok := m["fields"]; ok {
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, parsingErr("[query_string] fields must be an array of strings")
		}
	}
	if raw, ok := m["default_field"]; ok {
		var f string
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, parsingErr("[query_string] default_field must be a string")
		}
		if f != "*" {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		fields = t.x.textFields()
	}
	boosts := map[string]float64{}
	for i, f := range fields {
		name, b, ok := strings.Cut(f, "^")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(b, 64)
		if err != nil || v < 0 {
			return nil, parsingErr("[query_string] bad boost in field [%s]", f)
		}
		fields[i], boosts[name] = name, v
	}
	t.boosts = boosts
	and := false
	if raw, ok := m["default_operator"]; ok {
		var op string
		if err := json.Unmarshal(raw, &op); err != nil {
			return nil, parsingErr("[query_string] default_operator must be a string")
		}
		switch strings.ToLower(op) {
		case "and":
			and = true
		case "or":
		default:
			return nil, illegalArg("No enum constant for default_operator [%s]", op)
		}
	}
	bleveSyntax, err := luceneToBleve(qs, and)
	if err != nil {
		return nil, err
	}
	parsed, err := query.NewQueryStringQuery(bleveSyntax).Parse()
	if err != nil {
		return nil, &outbox.SearchError{Status: 400, Type: "query_shard_exception",
			Reason: fmt.Sprintf("Failed to parse query [%s]: %v", qs, err)}
	}
	q, err := t.rewrite(parsed, fields)
	if err != nil {
		return nil, err
	}
	return boost(q, m, "query_string")
}

// luceneToBleve translates Lucene's boolean operators (AND, OR, NOT, &&,
// ||, !) and default_operator AND into bleve's +/- prefixes. Grouping with
// parentheses is refused.
func luceneToBleve(s string, and bool) (string, error) {
	var clauses []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(c)
			i++
			cur.WriteByte(s[i])
			continue
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '(' || c == ')'):
			return "", &outbox.SearchError{Status: 400, Type: "query_shard_exception",
				Reason: fmt.Sprintf("Failed to parse query [%s]: grouping with parentheses is not supported", s)}
		case !inQuote && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if cur.Len() > 0 {
				clauses = append(clauses, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if cur.Len() > 0 {
		clauses = append(clauses, cur.String())
	}
	type clause struct {
		text           string
		req, not, orOp bool
	}
	var out []clause
	pendingNot, pendingAnd, pendingOr := false, false, false
	for _, c := range clauses {
		switch c {
		case "AND", "&&":
			pendingAnd = true
			if len(out) > 0 {
				out[len(out)-1].req = true
			}
			continue
		case "OR", "||":
			pendingOr = true
			if len(out) > 0 {
				out[len(out)-1].orOp = true
			}
			continue
		case "NOT", "!":
			pendingNot = true
			continue
		}
		cl := clause{text: c, req: pendingAnd, not: pendingNot, orOp: pendingOr}
		if strings.HasPrefix(c, "!") && len(c) > 1 {
			cl.text, cl.not = c[1:], true
		}
		out = append(out, cl)
		pendingNot, pendingAnd, pendingOr = false, false, false
	}
	var b strings.Builder
	for i, c := range out {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case strings.HasPrefix(c.text, "+") || strings.HasPrefix(c.text, "-"):
		case c.not:
			b.WriteByte('-')
		case c.req || (and && !c.orOp):
			b.WriteByte('+')
		}
		b.WriteString(c.text)
	}
	return b.String(), nil
}

// rewrite fixes a parsed query string: field-less leaves search every
// field of fields, matches use the field's analysis (keyword, number).
func (t *translator) rewrite(q query.Query, fields []string) (query.Query, error) {
	switch q := q.(type) {
	case *query.BooleanQuery:
		for _, sub := range []*query.Query{&q.Must, &q.Should, &q.MustNot} {
			if *sub == nil {
				continue
			}
			r, err := t.rewrite(*sub, fields)
			if err != nil {
				return nil, err
			}
			*sub = r
		}
		return q, nil
	case *query.ConjunctionQuery:
		for i := range q.Conjuncts {
			r, err := t.rewrite(q.Conjuncts[i], fields)
			if err != nil {
				return nil, err
			}
			q.Conjuncts[i] = r
		}
		return q, nil
	case *query.DisjunctionQuery:
		for i := range q.Disjuncts {
			r, err := t.rewrite(q.Disjuncts[i], fields)
			if err != nil {
				return nil, err
			}
			q.Disjuncts[i] = r
		}
		return q, nil
	case query.FieldableQuery:
		if q.Field() != "" {
			if err := t.count(1); err != nil {
				return nil, err
			}
			return t.fixLeaf(q)
		}
		if err := t.count(len(fields)); err != nil {
			return nil, err
		}
		if len(fields) == 0 {
			return query.NewMatchNoneQuery(), nil
		}
		qs := make([]query.Query, 0, len(fields))
		for _, f := range fields {
			c, ok := cloneLeaf(q)
			if !ok {
				return nil, parsingErr("[query_string] unsupported clause %T without a field", q)
			}
			c.SetField(f)
			fixed, err := t.fixLeaf(c)
			if err != nil {
				return nil, err
			}
			if b, ok := t.boosts[f]; ok {
				if bq, ok := fixed.(query.BoostableQuery); ok {
					bq.SetBoost(b)
				}
			}
			qs = append(qs, fixed)
		}
		if len(qs) == 1 {
			return qs[0], nil
		}
		return query.NewDisjunctionQuery(qs), nil
	}
	return q, nil
}

func cloneLeaf(q query.FieldableQuery) (query.FieldableQuery, bool) {
	switch q := q.(type) {
	case *query.MatchQuery:
		c := *q
		return &c, true
	case *query.MatchPhraseQuery:
		c := *q
		return &c, true
	case *query.WildcardQuery:
		c := *q
		return &c, true
	case *query.RegexpQuery:
		c := *q
		return &c, true
	case *query.NumericRangeQuery:
		c := *q
		return &c, true
	case *query.DateRangeQuery:
		c := *q
		return &c, true
	case *query.TermQuery:
		c := *q
		return &c, true
	case *query.PrefixQuery:
		c := *q
		return &c, true
	case *query.FuzzyQuery:
		c := *q
		return &c, true
	}
	return nil, false
}

// fixLeaf adapts one fielded leaf of a query string to the field's kinds.
func (t *translator) fixLeaf(q query.FieldableQuery) (query.Query, error) {
	f := q.Field()
	switch q := q.(type) {
	case *query.NumericRangeQuery:
		r := floatRange(f, q.Min, q.Max, q.InclusiveMin == nil || *q.InclusiveMin, q.InclusiveMax != nil && *q.InclusiveMax)
		if q.BoostVal != nil {
			r.SetBoost(float64(*q.BoostVal))
		}
		return r, nil
	case *query.DateRangeQuery:
		r, err := dateRange(f, q.Start.Time, q.End.Time, q.InclusiveStart == nil || *q.InclusiveStart, q.InclusiveEnd != nil && *q.InclusiveEnd)
		if err != nil {
			return nil, &outbox.SearchError{Status: 400, Type: "query_shard_exception", Reason: "failed to create query: " + err.Error()}
		}
		if q.BoostVal != nil {
			r.SetBoost(float64(*q.BoostVal))
		}
		return r, nil
	case *query.RegexpQuery:
		if _, err := regexp.Compile(q.Regexp); err != nil {
			return nil, &outbox.SearchError{Status: 400, Type: "query_shard_exception",
				Reason: fmt.Sprintf("failed to create query: %v", err)}
		}
	case *query.MatchQuery:
		k := t.x.kindOf(f)
		switch {
		case strings.HasSuffix(f, ".keyword"):
			t.highlight(f, hlTerm{term: q.Match, whole: true})
			return termQ(f, q.Match), nil
		case k != 0 && k&kText == 0 && k&kNumber != 0:
			return termQ(f+".keyword", q.Match), nil
		case k != 0 && k&kText == 0 && k&kBool != 0:
			return termQ(f, map[bool]string{true: "T", false: "F"}[q.Match == "true"]), nil
		}
		q.Analyzer = analyzerText
		for _, tok := range t.analyze(q.Match) {
			t.highlight(f, hlTerm{term: tok})
		}
	case *query.MatchPhraseQuery:
		q.Analyzer = analyzerText
		for _, tok := range t.analyze(q.MatchPhrase) {
			t.highlight(f, hlTerm{term: tok})
		}
	}
	return q, nil
}
