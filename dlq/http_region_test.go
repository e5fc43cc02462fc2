package dlq_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/store"
)

// scopeFor is an Authorization header whose SigV4 credential scope names
// region (the handler reads only the scope; eddy's authn checks the rest).
func scopeFor(region string) string {
	return "AWS4-HMAC-SHA256 Credential=AKID/20260101/" + region + "/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
}

// TestHTTPPerRegion: with InRegion the dead-letter API is per region, as
// eddy's DynamoDB and Lambda APIs are: a request lists, reads and deletes
// only the entries of its region (its stream's), the one in its SigV4
// credential scope or, unsigned, the default; another region's entry is
// not found and a purge leaves it.
func TestHTTPPerRegion(t *testing.T) {
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := dlq.Open(db, dlq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]uint64{}
	for _, region := range []string{"us-east-1", "us-east-2"} {
		e := &dlq.Entry{Mapping: "m-" + region, Records: []dlq.StreamRecord{{Seq: 1, Event: []byte(`{}`)}}}
		e.Record.DDBStreamBatchInfo.StreamArn = "arn:aws:dynamodb:" + region + ":000000000000:table/t/stream/2026-01-01T00:00:00.000"
		b := db.NewBatch()
		if err := s.Append(b, e); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(true); err != nil {
			t.Fatal(err)
		}
		b.Close()
		ids[region] = e.ID
	}
	srv := httptest.NewServer(dlq.NewHandler(s, nil, dlq.InRegion("us-east-1")))
	defer srv.Close()
	do := func(method, path, region string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if region != "" {
			req.Header.Set("Authorization", scopeFor(region))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	for _, c := range []struct{ signed, want string }{{"", "us-east-1"}, {"us-east-1", "us-east-1"}, {"us-east-2", "us-east-2"}} {
		var l struct{ Entries []dlq.Summary }
		if code := do("GET", "/eddy/dlq/entries", c.signed, &l); code != 200 || len(l.Entries) != 1 || l.Entries[0].ID != ids[c.want] {
			t.Fatalf("list signed for %q: %d %+v, want only %s's entry %d", c.signed, code, l.Entries, c.want, ids[c.want])
		}
	}
	other := "/eddy/dlq/entries/" + itoa(ids["us-east-2"])
	if code := do("GET", other, "", nil); code != 404 {
		t.Fatalf("us-east-1 GET of us-east-2's entry: %d", code)
	}
	if code := do("DELETE", other, "", nil); code != 404 {
		t.Fatalf("us-east-1 DELETE of us-east-2's entry: %d", code)
	}
	var e dlq.Entry
	if code := do("GET", other, "us-east-2", &e); code != 200 || e.ID != ids["us-east-2"] {
		t.Fatalf("us-east-2 GET: %d %+v", code, e)
	}
	var del struct{ Deleted int }
	if code := do("DELETE", "/eddy/dlq/entries", "us-east-2", &del); code != 200 || del.Deleted != 1 {
		t.Fatalf("us-east-2 purge: %d %+v", code, del)
	}
	if es, _ := s.Entries(""); len(es) != 1 || es[0].ID != ids["us-east-1"] {
		t.Fatalf("after us-east-2's purge: %d entries, want us-east-1's alone", len(es))
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
