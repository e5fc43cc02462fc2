package search

import (
	"slices"
	"strings"
	"testing"
)

const big = `12345678901234567890123456789012345678`
const big2 = `12345678901234567890123456789012345679`

// fixture is a small catalogue every query case runs against.
func fixture(t *testing.T) *Index {
	t.Helper()
	x := open(t, "")
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Error(err)
		}
	})
	deliver(t, x,
		put("1", 10, `{"title":"The quick brown fox","status":"active","price":10.5,"qty":3,"created":"2024-01-15T10:00:00Z","tags":["animal","fast"],"in_stock":true,"big":`+big+`,"owner":{"name":"Alice Smith","city":"Paris"}}`),
		put("2", 11, `{"title":"Lazy brown dog sleeps","status":"inactive","price":5,"qty":10,"created":"2024-03-01T00:00:00Z","tags":["animal"],"in_stock":false,"big":`+big2+`,"owner":{"name":"Bob Jones","city":"Berlin"}}`),
		put("3", 12, `{"title":"Quick start guide","status":"active","price":25,"qty":0,"created":"2023-12-31T23:59:59Z","tags":["docs"],"in_stock":true,"note":null}`),
		put("4", 13, `{"title":"Fox and hound","status":"Active","price":99.99,"created":"2025-06-01T12:00:00+02:00","owner":{"name":"Carol Fox"}}`),
	)
	return x
}

func TestQueries(t *testing.T) {
	x := fixture(t)
	cases := []struct {
		name string
		body string
		want []string // sorted IDs
	}{
		{"empty body", ``, []string{"1", "2", "3", "4"}},
		{"match_all", `{"query":{"match_all":{}}}`, []string{"1", "2", "3", "4"}},
		{"match or", `{"query":{"match":{"title":"quick fox"}}}`, []string{"1", "3", "4"}},
		{"match and", `{"query":{"match":{"title":{"query":"quick fox","operator":"and"}}}}`, []string{"1"}},
		{"match msm", `{"query":{"match":{"title":{"query":"quick brown fox","minimum_should_match":2}}}}`, []string{"1"}},
		{"match is case-insensitive", `{"query":{"match":{"title":"QUICK"}}}`, []string{"1", "3"}},
		{"match keeps stop words", `{"query":{"match":{"title":"the"}}}`, []string{"1"}},
		{"match nested field", `{"query":{"match":{"owner.name":"fox"}}}`, []string{"4"}},
		{"match on a number", `{"query":{"match":{"price":5}}}`, []string{"2"}},
		{"match_phrase", `{"query":{"match_phrase":{"title":"brown fox"}}}`, []string{"1"}},
		{"match_phrase order matters", `{"query":{"match_phrase":{"title":"fox brown"}}}`, nil},
		{"match_phrase does not cross array elements", `{"query":{"match_phrase":{"tags":"animal fast"}}}`, nil},
		{"term on text matches a token", `{"query":{"term":{"status":"active"}}}`, []string{"1", "3", "4"}},
		{"term on keyword is exact", `{"query":{"term":{"status.keyword":"active"}}}`, []string{"1", "3"}},
		{"term keyword case", `{"query":{"term":{"status.keyword":"Active"}}}`, []string{"4"}},
		{"term value object", `{"query":{"term":{"status.keyword":{"value":"inactive"}}}}`, []string{"2"}},
		{"term number", `{"query":{"term":{"qty":10}}}`, []string{"2"}},
		{"term number as other text", `{"query":{"term":{"price":5.0}}}`, []string{"2"}},
		{"term 38 digits exact", `{"query":{"term":{"big":` + big + `}}}`, []string{"1"}},
		{"term 38 digits other", `{"query":{"term":{"big":` + big2 + `}}}`, []string{"2"}},
		{"term 38 digits keyword", `{"query":{"term":{"big.keyword":"` + big + `"}}}`, []string{"1"}},
		{"term bool", `{"query":{"term":{"in_stock":true}}}`, []string{"1", "3"}},
		{"term date", `{"query":{"term":{"created":"2024-03-01T00:00:00Z"}}}`, []string{"2"}},
		{"term _id", `{"query":{"term":{"_id":"3"}}}`, []string{"3"}},
		{"terms", `{"query":{"terms":{"status.keyword":["inactive","Active"]}}}`, []string{"2", "4"}},
		{"terms _id", `{"query":{"terms":{"_id":["1","4","9"]}}}`, []string{"1", "4"}},
		{"terms array field", `{"query":{"terms":{"tags.keyword":["docs","fast"]}}}`, []string{"1", "3"}},
		{"range gte lt", `{"query":{"range":{"price":{"gte":10,"lt":99.99}}}}`, []string{"1", "3"}},
		{"range gt lte", `{"query":{"range":{"price":{"gt":10.5,"lte":99.99}}}}`, []string{"3", "4"}},
		{"range open", `{"query":{"range":{"qty":{"lte":3}}}}`, []string{"1", "3"}},
		{"range 38 digits", `{"query":{"range":{"big":{"gte":1e37}}}}`, []string{"1", "2"}},
		{"range 38 digits none", `{"query":{"range":{"big":{"gt":2e37}}}}`, nil},
		{"range date", `{"query":{"range":{"created":{"gte":"2024-01-01","lt":"2024-12-31T00:00:00Z"}}}}`, []string{"1", "2"}},
		{"range date zone", `{"query":{"range":{"created":{"gte":"2025-06-01T10:00:00Z","lte":"2025-06-01T10:00:00Z"}}}}`, []string{"4"}},
		{"range keyword", `{"query":{"range":{"status.keyword":{"gte":"a","lt":"b"}}}}`, []string{"1", "3"}},
		{"exists", `{"query":{"exists":{"field":"qty"}}}`, []string{"1", "2", "3"}},
		{"exists object", `{"query":{"exists":{"field":"owner"}}}`, []string{"1", "2", "4"}},
		{"exists null is missing", `{"query":{"exists":{"field":"note"}}}`, nil},
		{"exists keyword", `{"query":{"exists":{"field":"owner.city.keyword"}}}`, []string{"1", "2"}},
		{"prefix", `{"query":{"prefix":{"title":"qui"}}}`, []string{"1", "3"}},
		{"prefix keyword", `{"query":{"prefix":{"owner.name.keyword":{"value":"Bob"}}}}`, []string{"2"}},
		{"bool must filter", `{"query":{"bool":{"must":{"match":{"title":"fox"}},"filter":[{"term":{"in_stock":true}}]}}}`, []string{"1"}},
		{"bool must_not", `{"query":{"bool":{"must_not":[{"term":{"status":"active"}}]}}}`, []string{"2"}},
		{"bool should default one", `{"query":{"bool":{"should":[{"term":{"qty":0}},{"term":{"qty":10}}]}}}`, []string{"2", "3"}},
		{"bool should optional with must", `{"query":{"bool":{"must":{"term":{"status":"active"}},"should":{"term":{"qty":0}}}}}`, []string{"1", "3", "4"}},
		{"bool should optional with filter", `{"query":{"bool":{"filter":{"term":{"status":"active"}},"should":{"term":{"qty":99}}}}}`, []string{"1", "3", "4"}},
		{"bool msm", `{"query":{"bool":{"should":[{"match":{"title":"quick"}},{"match":{"title":"fox"}},{"match":{"title":"brown"}}],"minimum_should_match":"2"}}}`, []string{"1"}},
		{"bool msm percent", `{"query":{"bool":{"should":[{"match":{"title":"quick"}},{"match":{"title":"fox"}},{"match":{"title":"brown"}}],"minimum_should_match":"-34%"}}}`, []string{"1"}},
		{"bool nested", `{"query":{"bool":{"must":[{"bool":{"should":[{"term":{"_id":"1"}},{"term":{"_id":"2"}}]}}],"must_not":{"term":{"_id":"2"}}}}}`, []string{"1"}},
		{"bool empty", `{"query":{"bool":{}}}`, []string{"1", "2", "3", "4"}},
		{"query_string field", `{"query":{"query_string":{"query":"title:fox"}}}`, []string{"1", "4"}},
		{"query_string all fields", `{"query":{"query_string":{"query":"paris"}}}`, []string{"1"}},
		{"query_string AND", `{"query":{"query_string":{"query":"title:quick AND title:fox"}}}`, []string{"1"}},
		{"query_string OR", `{"query":{"query_string":{"query":"title:dog OR title:hound"}}}`, []string{"2", "4"}},
		{"query_string NOT", `{"query":{"query_string":{"query":"title:fox NOT owner.name:carol"}}}`, []string{"1"}},
		{"query_string default_operator", `{"query":{"query_string":{"query":"quick fox","default_field":"title","default_operator":"AND"}}}`, []string{"1"}},
		{"query_string phrase", `{"query":{"query_string":{"query":"title:\"brown dog\""}}}`, []string{"2"}},
		{"query_string range", `{"query":{"query_string":{"query":"price:>20"}}}`, []string{"3", "4"}},
		{"query_string date range", `{"query":{"query_string":{"query":"created:>=\"2024-03-01\""}}}`, []string{"2", "4"}},
		{"query_string negative range", `{"query":{"query_string":{"query":"price:<10"}}}`, []string{"2"}},
		{"query_string number", `{"query":{"query_string":{"query":"qty:10"}}}`, []string{"2"}},
		{"query_string keyword", `{"query":{"query_string":{"query":"status.keyword:Active"}}}`, []string{"4"}},
		{"query_string wildcard", `{"query":{"query_string":{"query":"title:gui*"}}}`, []string{"3"}},
		{"query_string must", `{"query":{"query_string":{"query":"+title:brown -title:lazy"}}}`, []string{"1"}},
		{"query_string fields", `{"query":{"query_string":{"query":"berlin fox","fields":["owner.city","title^2"]}}}`, []string{"1", "2", "4"}},
		{"range unmapped field", `{"query":{"range":{"nope":{"gte":"2024-01-01"}}}}`, nil},
		{"range unmapped field terms", `{"query":{"range":{"nope":{"gte":"a"}}}}`, nil},
		{"size 0", `{"query":{"match_all":{}},"size":0}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, raw := find(t, x, tc.body)
			got := sortedIDs(r)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("hits %v, want %v\n%s", got, tc.want, raw)
			}
			if tc.name != "size 0" && r.Hits.Total.Value != len(tc.want) {
				t.Errorf("total %d, want %d", r.Hits.Total.Value, len(tc.want))
			}
		})
	}
}

func TestResponseShape(t *testing.T) {
	x := fixture(t)
	r, raw := find(t, x, `{"query":{"term":{"_id":"1"}}}`)
	if len(r.Hits.Hits) != 1 {
		t.Fatalf("hits: %s", raw)
	}
	h := r.Hits.Hits[0]
	if h.Index != "products" || h.ID != "1" || h.Version != 10 || h.Score == nil || r.Hits.MaxScore == nil || r.Hits.Total.Relation != "eq" {
		t.Errorf("hit %+v in %s", h, raw)
	}
	// _source is the delivered body byte for byte: 38 digits intact.
	want := `{"title":"The quick brown fox","status":"active","price":10.5,"qty":3,"created":"2024-01-15T10:00:00Z","tags":["animal","fast"],"in_stock":true,"big":` + big + `,"owner":{"name":"Alice Smith","city":"Paris"}}`
	if string(h.Source) != want {
		t.Errorf("_source\n%s\nwant\n%s", h.Source, want)
	}
	for _, k := range []string{`"took":`, `"timed_out":false`} {
		if !strings.Contains(string(raw), k) {
			t.Errorf("response lacks %s: %s", k, raw)
		}
	}
	r, raw = find(t, x, `{"query":{"term":{"_id":"1"}},"_source":false}`)
	if len(r.Hits.Hits) != 1 || r.Hits.Hits[0].Source != nil {
		t.Errorf("_source false: %s", raw)
	}
	// Whitespace in a body is kept too.
	deliver(t, x, put("ws", 1, "{ \"a\" :  1.50 ,\n \"b\":[ ] }"))
	r, _ = find(t, x, `{"query":{"term":{"_id":"ws"}}}`)
	if len(r.Hits.Hits) != 1 || string(r.Hits.Hits[0].Source) != "{ \"a\" :  1.50 ,\n \"b\":[ ] }" {
		t.Errorf("_source not byte-exact: %q", r.Hits.Hits[0].Source)
	}
}

func TestSortAndPaging(t *testing.T) {
	x := fixture(t)
	cases := []struct {
		name string
		body string
		want []string // in order
		sort string   // the first hit's sort values, as JSON
	}{
		{"number asc", `{"sort":[{"price":"asc"}]}`, []string{"2", "1", "3", "4"}, `[5]`},
		{"number desc", `{"sort":[{"price":{"order":"desc"}}]}`, []string{"4", "3", "1", "2"}, `[99.99]`},
		{"missing last", `{"sort":["qty"]}`, []string{"3", "1", "2", "4"}, `[0]`},
		{"missing last desc", `{"sort":[{"qty":"desc"}]}`, []string{"2", "1", "3", "4"}, `[10]`},
		{"date", `{"sort":[{"created":"desc"}]}`, []string{"4", "2", "1", "3"}, `[1748772000000]`},
		{"keyword then id", `{"sort":[{"status.keyword":"asc"},{"price":"desc"}]}`, []string{"4", "3", "1", "2"}, `["Active",99.99]`},
		{"_doc is ID order", `{"sort":["_doc"]}`, []string{"1", "2", "3", "4"}, `["1"]`},
		{"_id desc", `{"sort":[{"_id":"desc"}]}`, []string{"4", "3", "2", "1"}, `["4"]`},
		{"score", `{"query":{"match":{"title":"fox"}},"sort":["_score"]}`, nil, ``},
		{"from size", `{"sort":[{"price":"asc"}],"from":1,"size":2}`, []string{"1", "3"}, `[10.5]`},
		{"from past the end", `{"sort":[{"price":"asc"}],"from":10}`, nil, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, raw := find(t, x, tc.body)
			if tc.want != nil && !slices.Equal(ids(r), tc.want) {
				t.Errorf("order %v, want %v\n%s", ids(r), tc.want, raw)
			}
			if tc.sort != "" {
				if len(r.Hits.Hits) == 0 {
					t.Fatalf("no hits: %s", raw)
				}
				if got := mustJSON(t, r.Hits.Hits[0].Sort); got != tc.sort {
					t.Errorf("sort values %s, want %s", got, tc.sort)
				}
				if r.Hits.MaxScore != nil || r.Hits.Hits[0].Score != nil {
					t.Errorf("sorted by a field: max_score and _score must be null: %s", raw)
				}
			}
			if r.Hits.Total.Value != 4 && !strings.Contains(tc.name, "score") {
				t.Errorf("total %d, want 4", r.Hits.Total.Value)
			}
		})
	}
}

func TestHighlight(t *testing.T) {
	x := fixture(t)
	long := strings.Repeat("filler words here ", 20) + "the needle is here " + strings.Repeat("more filler text ", 20)
	deliver(t, x, put("long", 1, `{"body":"`+long+`"}`))
	cases := []struct {
		name string
		body string
		id   string
		want map[string][]string
	}{
		{"match", `{"query":{"match":{"title":"fox"}},"highlight":{"fields":{"title":{}}}}`, "1",
			map[string][]string{"title": {"The quick brown <em>fox</em>"}}},
		{"several terms and tags", `{"query":{"match":{"title":"quick fox"}},"highlight":{"pre_tags":["["],"post_tags":["]"],"fields":{"title":{}}}}`, "1",
			map[string][]string{"title": {"The [quick] brown [fox]"}}},
		{"only queried fields", `{"query":{"match":{"title":"fox"}},"highlight":{"fields":{"title":{},"owner.name":{}}}}`, "4",
			map[string][]string{"title": {"<em>Fox</em> and hound"}}},
		{"query_string over all fields", `{"query":{"query_string":{"query":"paris"}},"highlight":{"fields":{"*":{}}}}`, "1",
			map[string][]string{"owner.city": {"<em>Paris</em>"}}},
		{"keyword", `{"query":{"term":{"status.keyword":"active"}},"highlight":{"fields":{"status.keyword":{}}}}`, "1",
			map[string][]string{"status.keyword": {"<em>active</em>"}}},
		{"fragment", `{"query":{"match":{"body":"needle"}},"highlight":{"fields":{"body":{"fragment_size":40}}}}`, "long",
			map[string][]string{"body": {"words here the <em>needle</em> is here more"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, raw := find(t, x, tc.body)
			for _, h := range r.Hits.Hits {
				if h.ID != tc.id {
					continue
				}
				if mustJSON(t, h.Highlight) != mustJSON(t, tc.want) {
					t.Errorf("highlight %s, want %s", mustJSON(t, h.Highlight), mustJSON(t, tc.want))
				}
				return
			}
			t.Errorf("no hit %s: %s", tc.id, raw)
		})
	}
}

func TestBadRequests(t *testing.T) {
	x := fixture(t)
	deep := strings.Repeat(`{"bool":{"must":`, 25) + `{"match_all":{}}` + strings.Repeat("}}", 25)
	many := `{"query":{"terms":{"status.keyword":[` + strings.Repeat(`"a",`, 2000) + `"a"]}}}`
	cases := []struct {
		name, body, typ, reason string
	}{
		{"not json", `{`, "parsing_exception", ""},
		{"not an object", `[1]`, "parsing_exception", ""},
		{"unknown key", `{"aggs":{}}`, "parsing_exception", "Unknown key"},
		{"unknown query", `{"query":{"fuzzy_thing":{}}}`, "parsing_exception", "unknown query [fuzzy_thing]"},
		{"two queries", `{"query":{"match_all":{},"term":{"a":"b"}}}`, "parsing_exception", ""},
		{"empty query", `{"query":{}}`, "parsing_exception", ""},
		{"window", `{"from":9995,"size":10}`, "illegal_argument_exception", "Result window is too large, from + size must be less than or equal to: [10000] but was [10005]"},
		{"big size", `{"size":10001}`, "illegal_argument_exception", "Result window is too large"},
		{"negative from", `{"from":-1}`, "illegal_argument_exception", ""},
		{"too deep", `{"query":` + deep + `}`, "parsing_exception", "deeper"},
		{"too many clauses", many, "illegal_argument_exception", "clauses"},
		{"bad operator", `{"query":{"match":{"title":{"query":"a","operator":"xor"}}}}`, "illegal_argument_exception", ""},
		{"term object value", `{"query":{"term":{"a":{"value":{"x":1}}}}}`, "parsing_exception", ""},
		{"term unknown param", `{"query":{"term":{"a":{"value":"x","fuzz":1}}}}`, "parsing_exception", "does not support [fuzz]"},
		{"range bad date", `{"query":{"range":{"created":{"gte":"yesterday"}}}}`, "parse_exception", ""},
		{"sort text", `{"sort":["title"]}`, "illegal_argument_exception", "Text fields are not optimised"},
		{"sort unmapped", `{"sort":["nope"]}`, "query_shard_exception", "No mapping found for [nope]"},
		{"query_string parens", `{"query":{"query_string":{"query":"(a OR b) AND c"}}}`, "query_shard_exception", "parentheses"},
		{"query_string syntax", `{"query":{"query_string":{"query":"title:"}}}`, "query_shard_exception", ""},
		{"query_string bad regexp", `{"query":{"query_string":{"query":"title:/[/"}}}`, "query_shard_exception", ""},
		{"source includes", `{"_source":["a"]}`, "parsing_exception", ""},
		{"highlight without fields", `{"highlight":{}}`, "parsing_exception", ""},
		{"phrase slop", `{"query":{"match_phrase":{"title":{"query":"a b","slop":2}}}}`, "illegal_argument_exception", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			se := searchErr(t, x, tc.body)
			if se.Status != 400 || se.Type != tc.typ || !strings.Contains(se.Reason, tc.reason) {
				t.Errorf("got %d %s %q, want 400 %s containing %q", se.Status, se.Type, se.Reason, tc.typ, tc.reason)
			}
		})
	}
}
