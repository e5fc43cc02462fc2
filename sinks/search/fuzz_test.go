package search

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/eddydb/eddy/outbox"
)

// FuzzBuild: any body is indexed or rejected, never a panic, and an
// accepted body comes back byte for byte.
func FuzzBuild(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":-0.5E+3,"b":1e400,"c":[[]],"d":[{}],"e":null}`,
		" { \"a\" : [ 1 , \"x\\u00e9\\n\" , true , false , null , { \"b\" : [ ] } ] } ",
		`{"t":"2024-01-15T10:00:00Z","u":"2024-01-15T10:00:00.123+02:00","v":"2024-13-45T99:00:00Z"}`,
		`{"a":"\ud83d\ude00 emoji","b":"\"quoted\""}`, `[1]`, `"x"`, `{"a":`, `{"":1}`, `{"_id":1}`,
	} {
		f.Add([]byte(s))
	}
	x := open(f, "")
	defer x.Close()
	var ver atomic.Uint64
	f.Fuzz(func(t *testing.T, body []byte) {
		err := x.Deliver(context.Background(), []outbox.Doc{put("d", ver.Add(1), string(body))})
		var p *outbox.Partial
		switch {
		case err == nil:
			src, _, found, gerr := x.Get("d")
			if gerr != nil || !found || string(src) != string(body) {
				t.Fatalf("accepted %q but Get = %q %v %v", body, src, found, gerr)
			}
			if !json.Valid(body) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
		case errors.As(err, &p):
			if len(p.Rejected) != 1 || len(p.Failed) != 0 {
				t.Fatalf("Deliver %q: %+v", body, p)
			}
		default:
			t.Fatalf("Deliver %q: %v", body, err)
		}
	})
}

// FuzzSearch: any request body gets an answer or a *SearchError.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{
		``, `{"query":{"match_all":{}}}`, `{"query":{"bool":{"must":[{"match":{"title":"a b"}}],"should":{"term":{"n":5}},"minimum_should_match":"50%"}}}`,
		`{"query":{"range":{"n":{"gte":1,"lt":"2"}}},"sort":[{"n":"desc"},"_score"],"from":1,"size":2}`,
		`{"query":{"query_string":{"query":"title:a AND NOT b OR c*","default_operator":"and"}},"highlight":{"fields":{"*":{}}}}`,
		`{"query":{"terms":{"_id":["1"]}},"_source":false}`, `{"query":{"exists":{"field":"o.p"}}}`,
		`{"query":{"prefix":{"title":{"value":"qu"}}}}`, `{"query":{"match_phrase":{"title":"quick brown"}}}`,
	} {
		f.Add([]byte(s))
	}
	x := open(f, "")
	defer x.Close()
	deliver(f, x, put("1", 1, `{"title":"quick brown fox","n":5,"o":{"p":"2024-01-01T00:00:00Z"},"b":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := x.Search(context.Background(), body)
		var se *outbox.SearchError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Search %q: %v", body, err)
		}
	})
}
