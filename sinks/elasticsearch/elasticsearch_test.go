package elasticsearch_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks/elasticsearch"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var ctx = context.Background()

func open(t testing.TB, url string, opts map[string]string, tune ...func(*outbox.Config)) *elasticsearch.Sink {
	t.Helper()
	cfg := outbox.Config{Name: "search", Kind: "elasticsearch", URL: url, Options: opts}
	for _, f := range tune {
		f(&cfg)
	}
	s, err := elasticsearch.New(cfg, outbox.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func index(id string, v uint64, body string) outbox.Doc {
	return outbox.Doc{Seq: v, Op: outbox.OpIndex, ID: id, Version: v, Body: []byte(body)}
}

func del(id string, v uint64) outbox.Doc {
	return outbox.Doc{Seq: v, Op: outbox.OpDelete, ID: id, Version: v}
}

// partial returns err as a *outbox.Partial, failing the test otherwise.
func partial(t *testing.T, err error) *outbox.Partial {
	t.Helper()
	var p *outbox.Partial
	if !errors.As(err, &p) {
		t.Fatalf("Deliver = %v, want a *outbox.Partial", err)
	}
	return p
}

// wantDoc checks what the stand-in holds for id.
func wantDoc(t *testing.T, es *standIn, id string, version int64, source string) {
	t.Helper()
	d := es.doc("products", id)
	switch {
	case d == nil:
		t.Errorf("%s: not in the index, want version %d %s", id, version, source)
	case d.version != version || string(d.source) != source:
		t.Errorf("%s: version %d %s, want version %d %s", id, d.version, d.source, version, source)
	}
}

// TestGoldenBody checks the exact bytes of a known batch.
func TestGoldenBody(t *testing.T) {
	es := newStandIn(t, false)
	s := open(t, es.srv.URL, map[string]string{"index": "products"})
	docs := []outbox.Doc{
		index("p1", 7, `{"name":"Laptop","price":1400}`),
		del("p2", 8),
		index(`quote"back\slash`+"\t<tab>", 9, "{\n  \"name\": \"two\\nlines\",\n  \"price\": 3\n}\n"),
		index("ünï", math.MaxInt64, `{"price":1}`),
	}
	if err := s.Deliver(ctx, docs); err != nil {
		t.Fatal(err)
	}
	reqs := es.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	golden := filepath.Join("testdata", "bulk.golden")
	if *update {
		if err := os.WriteFile(golden, reqs[0].body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reqs[0].body, want) {
		t.Errorf("_bulk body:\n%s\nwant (%s):\n%s", reqs[0].body, golden, want)
	}
	if reqs[0].path != "/_bulk" || reqs[0].query != "" {
		t.Errorf("request to %s?%s, want /_bulk", reqs[0].path, reqs[0].query)
	}
	wantDoc(t, es, "p1", 7, `{"name":"Laptop","price":1400}`)
	wantDoc(t, es, "p2", 8, "") // a tombstone
	wantDoc(t, es, `quote"back\slash`+"\t<tab>", 9, `{"name":"two\nlines","price":3}`)
}

// TestExternalVersions: a stale or equal version is success and changes
// nothing; a delete of a missing document is success; a deleted
// document's tombstone keeps an older index from resurrecting it.
func TestExternalVersions(t *testing.T) {
	es := newStandIn(t, false)
	s := open(t, es.srv.URL+"/products", nil)
	if err := s.Deliver(ctx, []outbox.Doc{index("a", 5, `{"v":5}`), index("b", 5, `{"v":5}`), del("gone", 3)}); err != nil {
		t.Fatal(err)
	}
	// Redelivery, reordering: 409 version_conflict_engine_exception is success.
	if err := s.Deliver(ctx, []outbox.Doc{index("a", 5, `{"v":"again"}`), index("b", 4, `{"v":4}`), index("a", 6, `{"v":6}`), del("b", 9), index("b", 7, `{"v":7}`)}); err != nil {
		t.Fatal(err)
	}
	wantDoc(t, es, "a", 6, `{"v":6}`)
	wantDoc(t, es, "b", 9, "")
	wantDoc(t, es, "gone", 3, "")
	if err := s.Deliver(ctx, []outbox.Doc{index("gone", 2, `{"v":2}`)}); err != nil {
		t.Fatal(err)
	}
	wantDoc(t, es, "gone", 3, "")
	// The stand-in must really have answered 409 (and 404): the test is
	// only as good as that.
	var conflicts, notFound int
	for _, d := range []outbox.Doc{index("a", 1, `{}`), del("nothing", 1)} {
		body, status := rawBulk(t, es, d)
		switch {
		case status != 200:
			t.Fatalf("stand-in answered %d", status)
		case bytes.Contains(body, []byte(`"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[a]: version conflict, current version [6] is higher or equal to the one provided [1]"`)):
			conflicts++
		case bytes.Contains(body, []byte(`"result":"not_found"`)) && bytes.Contains(body, []byte(`"status":404`)):
			notFound++
		default:
			t.Errorf("unexpected answer %s", body)
		}
	}
	if conflicts != 1 || notFound != 1 {
		t.Errorf("stand-in gave %d conflicts and %d not_found, want 1 and 1", conflicts, notFound)
	}
}

// rawBulk sends d through a sink-built body by hand and returns the raw
// answer, to check the stand-in itself.
func rawBulk(t *testing.T, es *standIn, d outbox.Doc) ([]byte, int) {
	t.Helper()
	op := string(d.Op)
	body := fmt.Sprintf(`{%q:{"_index":"products","_id":%q,"version":%d,"version_type":"external"}}`+"\n", op, d.ID, d.Version)
	if d.Op == outbox.OpIndex {
		body += string(d.Body) + "\n"
	}
	req, _ := http.NewRequest("POST", es.srv.URL+"/_bulk", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := es.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.Bytes(), resp.StatusCode
}

// TestSplit: requests hold at most BatchSize documents and BatchBytes
// bytes; a document larger than BatchBytes goes alone.
func TestSplit(t *testing.T) {
	docs := make([]outbox.Doc, 10)
	for i := range docs {
		docs[i] = index(fmt.Sprintf("d%d", i), uint64(i+1), fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", 100)))
	}
	docs[7].Body = []byte(`{"big":"` + strings.Repeat("y", 2000) + `"}`)
	for _, tc := range []struct {
		name       string
		size, byts int
		want       []int // documents per request
	}{
		{"count", 3, 0, []int{3, 3, 3, 1}},
		{"bytes", 0, 600, []int{3, 3, 1, 1, 2}},
		{"both", 2, 600, []int{2, 2, 2, 1, 1, 2}},
		{"defaults", 0, 0, []int{10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := newStandIn(t, false)
			s := open(t, es.srv.URL+"/products", nil, func(c *outbox.Config) { c.BatchSize, c.BatchBytes = tc.size, tc.byts })
			if err := s.Deliver(ctx, docs); err != nil {
				t.Fatal(err)
			}
			var got []int
			var all []byte
			for _, r := range es.requests() {
				got = append(got, r.items)
				all = append(all, r.body...)
				if tc.byts > 0 && len(r.body) > tc.byts && r.items > 1 {
					t.Errorf("a request of %d documents has %d bytes, more than BatchBytes %d", r.items, len(r.body), tc.byts)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("documents per request %v, want %v", got, tc.want)
			}
			// Split or not, the requests together are the one body.
			es1 := newStandIn(t, false)
			if err := open(t, es1.srv.URL+"/products", nil).Deliver(ctx, docs); err != nil {
				t.Fatal(err)
			}
			if one := es1.requests()[0].body; !bytes.Equal(all, one) {
				t.Errorf("the split requests differ from the single one")
			}
			for i := range docs {
				wantDoc(t, es, docs[i].ID, int64(docs[i].Version), string(docs[i].Body))
			}
		})
	}
}

// TestItemFailures: only the documents Elasticsearch throttled (429) or
// could not place (503) are Failed, the poisoned one (400) is Rejected,
// the rest applied; retrying the Failed ones converges.
func TestItemFailures(t *testing.T) {
	es := newStandIn(t, false)
	es.throttle["b"] = 1
	es.unavailable["d"] = 2
	s := open(t, es.srv.URL, map[string]string{"index": "products"})
	docs := []outbox.Doc{
		index("a", 1, `{"price":1}`),
		index("b", 1, `{"price":2}`),
		index("c", 1, `{"price":"abc"}`),
		index("d", 1, `{"price":4}`),
		del("e", 1),
	}
	err := s.Deliver(ctx, docs)
	p := partial(t, err)
	if !slices.Equal(p.Failed, []int{1, 3}) || !slices.Equal(p.Rejected, []int{2}) {
		t.Fatalf("Failed %v Rejected %v, want [1 3] and [2]", p.Failed, p.Rejected)
	}
	var e *elasticsearch.Error
	if !errors.As(err, &e) || e.Status != 429 || e.Type != "es_rejected_execution_exception" || e.ID != "b" {
		t.Errorf("Partial.Err = %#v, want b's 429 es_rejected_execution_exception", p.Err)
	}
	wantDoc(t, es, "a", 1, `{"price":1}`)
	if es.doc("products", "b") != nil || es.doc("products", "c") != nil {
		t.Error("a failed or rejected document is in the index")
	}

	// The rejection's reason is Elasticsearch's.
	err = s.Deliver(ctx, []outbox.Doc{docs[2]})
	p = partial(t, err)
	if len(p.Failed) != 0 || !slices.Equal(p.Rejected, []int{0}) {
		t.Fatalf("poisoned document alone: Failed %v Rejected %v", p.Failed, p.Rejected)
	}
	for _, want := range []string{"400", "mapper_parsing_exception", "failed to parse field [price] of type [long]", `caused by illegal_argument_exception: For input string: "abc"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("rejection %q lacks %q", err, want)
		}
	}

	// Retry what failed, as the outbox does, until nothing fails.
	retry := []outbox.Doc{docs[1], docs[3]}
	for round := 0; len(retry) > 0; round++ {
		if round == 5 {
			t.Fatalf("still failing after %d rounds", round)
		}
		err := s.Deliver(ctx, retry)
		if err == nil {
			break
		}
		p := partial(t, err)
		if len(p.Rejected) != 0 {
			t.Fatalf("retry rejected %v: %v", p.Rejected, err)
		}
		var next []outbox.Doc
		for _, i := range p.Failed {
			next = append(next, retry[i])
		}
		retry = next
	}
	wantDoc(t, es, "b", 1, `{"price":2}`)
	wantDoc(t, es, "d", 1, `{"price":4}`)
}

// TestWholeRequest429: a throttled request is a plain error (all retried)
// that says what Elasticsearch said; the retry applies everything.
func TestWholeRequest429(t *testing.T) {
	es := newStandIn(t, false)
	es.rejectRequests[1] = true
	s := open(t, es.srv.URL+"/products", nil)
	docs := []outbox.Doc{index("a", 1, `{}`), index("b", 1, `{}`)}
	err := s.Deliver(ctx, docs)
	var p *outbox.Partial
	var e *elasticsearch.Error
	switch {
	case err == nil:
		t.Fatal("Deliver succeeded through a 429")
	case errors.As(err, &p):
		t.Fatalf("Deliver = Partial %v, want a plain error", p)
	case !errors.As(err, &e) || e.Status != 429 || e.Type != "es_rejected_execution_exception" || e.ID != "":
		t.Fatalf("Deliver = %#v, want a request *Error 429 es_rejected_execution_exception", err)
	}
	for _, want := range []string{"429 Too Many Requests", "es_rejected_execution_exception", "rejected execution of coordinating operation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := s.Deliver(ctx, docs); err != nil {
		t.Fatal(err)
	}
	wantDoc(t, es, "b", 1, `{}`)
}

// TestFailureAfterApplied: when a later request fails as a whole, the
// documents of the earlier ones are applied, so Deliver reports a Partial
// whose Failed are the rest; it sends nothing after the failure.
func TestFailureAfterApplied(t *testing.T) {
	es := newStandIn(t, false)
	es.rejectRequests[2] = true
	s := open(t, es.srv.URL+"/products", nil, func(c *outbox.Config) { c.BatchSize = 2 })
	var docs []outbox.Doc
	for i := range 6 {
		docs = append(docs, index(fmt.Sprint(i), 1, `{}`))
	}
	p := partial(t, s.Deliver(ctx, docs))
	if !slices.Equal(p.Failed, []int{2, 3, 4, 5}) || len(p.Rejected) != 0 {
		t.Errorf("Failed %v Rejected %v, want [2 3 4 5] []", p.Failed, p.Rejected)
	}
	if n := len(es.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (none after the failure)", n)
	}
}

// TestRejectedBeforeSending: what Elasticsearch cannot take never reaches
// it (a version above 2^63-1 would fail the whole request), the rest of
// the batch is applied.
func TestRejectedBeforeSending(t *testing.T) {
	es := newStandIn(t, false)
	s := open(t, es.srv.URL+"/products", nil)
	docs := []outbox.Doc{
		index("big", math.MaxInt64+1, `{}`),
		index("ok", 2, `{"a":1}`),
		index("", 3, `{}`),
		index(strings.Repeat("i", 513), 4, `{}`),
		index("\xff", 5, `{}`),
		index("nobody", 6, ""),
		index("broken", 7, "{\"a\":\n"),
		{Op: "upsert", ID: "op", Version: 8},
		del("ok2", math.MaxInt64),
	}
	err := s.Deliver(ctx, docs)
	p := partial(t, err)
	if !slices.Equal(p.Rejected, []int{0, 2, 3, 4, 5, 6, 7}) || len(p.Failed) != 0 {
		t.Fatalf("Rejected %v Failed %v, want [0 2 3 4 5 6 7] []", p.Rejected, p.Failed)
	}
	if !strings.Contains(p.Err.Error(), "2^63-1") {
		t.Errorf("Err %q does not name the version limit", p.Err)
	}
	wantDoc(t, es, "ok", 2, `{"a":1}`)
	wantDoc(t, es, "ok2", math.MaxInt64, "")
	if r := es.requests(); len(r) != 1 || r[0].items != 2 {
		t.Errorf("requests %+v, want one of 2 documents", r)
	}
	// All rejected: nothing is sent.
	p = partial(t, s.Deliver(ctx, docs[:1]))
	if !slices.Equal(p.Rejected, []int{0}) || len(es.requests()) != 1 {
		t.Errorf("Rejected %v after %d requests", p.Rejected, len(es.requests()))
	}
}

// TestAuth: without credentials Elasticsearch answers 401, which is a
// plain error naming it; basic auth and API keys are sent as configured.
func TestAuth(t *testing.T) {
	es := newStandIn(t, false)
	es.user, es.pass = "elastic", "s3cret:pw"
	docs := []outbox.Doc{index("a", 1, `{}`)}
	err := open(t, es.srv.URL+"/products", nil).Deliver(ctx, docs)
	var e *elasticsearch.Error
	if !errors.As(err, &e) || e.Status != 401 || e.Type != "security_exception" || !strings.Contains(err.Error(), "missing authentication credentials") {
		t.Fatalf("Deliver without credentials = %v, want 401 security_exception", err)
	}
	err = open(t, es.srv.URL+"/products", map[string]string{"username": "elastic", "password": "wrong"}).Deliver(ctx, docs)
	if !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("Deliver with a wrong password = %v, want 401", err)
	}
	if err := open(t, es.srv.URL+"/products", map[string]string{"username": "elastic", "password": "s3cret:pw"}).Deliver(ctx, docs); err != nil {
		t.Fatal(err)
	}
	wantDoc(t, es, "a", 1, `{}`)

	es.user, es.apiKey = "", base64.StdEncoding.EncodeToString([]byte("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"))
	for _, key := range []string{es.apiKey, "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"} {
		if err := open(t, es.srv.URL+"/products", map[string]string{"api_key": key}).Deliver(ctx, docs); err != nil {
			t.Errorf("api_key %s: %v", key, err)
		}
	}
}

// TestTLS: a CA file makes the test server's certificate trusted; without
// it the certificate is checked and refused; insecure_skip_verify skips
// the check.
func TestTLS(t *testing.T) {
	es := newStandIn(t, true)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: es.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	docs := []outbox.Doc{index("a", 1, `{}`)}
	if err := open(t, es.srv.URL+"/products", map[string]string{"ca_file": ca}).Deliver(ctx, docs); err != nil {
		t.Fatal(err)
	}
	wantDoc(t, es, "a", 1, `{}`)
	err := open(t, es.srv.URL+"/products", nil).Deliver(ctx, docs)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Deliver without the CA = %v, want a certificate error", err)
	}
	if err := open(t, es.srv.URL+"/products", map[string]string{"insecure_skip_verify": "true"}).Deliver(ctx, docs); err != nil {
		t.Error(err)
	}
}

// TestNew: New's validation names the bad setting, without contacting
// the server (the URLs point nowhere).
func TestNew(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, tc := range []struct {
		url  string
		opts map[string]string
		size int
		want string
	}{
		{"", nil, 0, "URL is empty"},
		{"ftp://h/i", nil, 0, "http or https"},
		{"http://", map[string]string{"index": "i"}, 0, "no host"},
		{"http://h:9200", nil, 0, "option index is missing"},
		{"http://h:9200/", nil, 0, "option index is missing"},
		{"http://h:9200/Products", nil, 0, "lowercase"},
		{"http://h:9200", map[string]string{"index": "_x"}, 0, "must not start"},
		{"http://h:9200", map[string]string{"index": "a*b"}, 0, "must not contain"},
		{"http://u:p@h:9200/i", nil, 0, "username and password options"},
		{"http://h:9200/i?x=1", nil, 0, "no query"},
		{"http://h:9200/i", map[string]string{"indx": "i"}, 0, `option "indx" is unknown`},
		{"http://h:9200/i", map[string]string{"username": "u"}, 0, "username and password go together"},
		{"http://h:9200/i", map[string]string{"username": "u", "password": "p", "api_key": "k"}, 0, "option api_key excludes"},
		{"http://h:9200/i", map[string]string{"api_key": "a b"}, 0, "option api_key"},
		{"http://h:9200/i", map[string]string{"ca_file": notPEM}, 0, "option ca_file needs an https URL"},
		{"https://h:9200/i", map[string]string{"ca_file": notPEM}, 0, "no PEM certificate"},
		{"https://h:9200/i", map[string]string{"ca_file": filepath.Join(dir, "missing.pem")}, 0, "option ca_file"},
		{"https://h:9200/i", map[string]string{"insecure_skip_verify": "yes"}, 0, "option insecure_skip_verify"},
		{"http://h:9200/i", map[string]string{"refresh": "now"}, 0, "option refresh"},
		{"http://h:9200/i", map[string]string{"timeout": "30"}, 0, "option timeout"},
		{"http://h:9200/i", map[string]string{"timeout": "-1s"}, 0, "option timeout"},
		{"http://h:9200/i", nil, -1, "BatchSize -1"},
	} {
		_, err := elasticsearch.New(outbox.Config{Name: "s", URL: tc.url, Options: tc.opts, BatchSize: tc.size}, outbox.Env{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %v) = %v, want an error with %q", tc.url, tc.opts, err, tc.want)
		}
	}
	// Every problem at once.
	_, err := elasticsearch.New(outbox.Config{Name: "s", URL: "http://h", Options: map[string]string{"refresh": "x", "timeout": "y"}}, outbox.Env{})
	for _, want := range []string{"option index", "option refresh", "option timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New = %v, want it to report %q too", err, want)
		}
	}
	for _, ok := range []struct {
		url  string
		opts map[string]string
	}{
		{"http://h:9200/products", nil},
		{"https://h/es/", map[string]string{"index": "products", "refresh": "wait_for", "timeout": "5s", "username": "u", "password": ""}},
	} {
		if _, err := elasticsearch.New(outbox.Config{URL: ok.url, Options: ok.opts}, outbox.Env{}); err != nil {
			t.Errorf("New(%q, %v): %v", ok.url, ok.opts, err)
		}
	}
}

// TestURLs: a proxy prefix with the index option, and refresh.
func TestURLs(t *testing.T) {
	es := newStandIn(t, false)
	s := open(t, es.srv.URL+"/es/", map[string]string{"index": "products", "refresh": "wait_for"})
	if err := s.Deliver(ctx, []outbox.Doc{index("a", 1, `{}`)}); err != nil {
		t.Fatal(err)
	}
	r := es.requests()[0]
	if r.path != "/es/_bulk" || r.query != "refresh=wait_for" {
		t.Errorf("request to %s?%s, want /es/_bulk?refresh=wait_for", r.path, r.query)
	}
	wantDoc(t, es, "a", 1, `{}`)
}

// TestNotABulkResponse: answers that are not a _bulk response for the
// documents sent are plain errors.
func TestNotABulkResponse(t *testing.T) {
	docs := []outbox.Doc{index("a", 1, `{}`), index("b", 1, `{}`)}
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{200, "<html>welcome to nginx</html>", "not a _bulk response: <html>welcome to nginx"},
		{200, `{"took":1,"errors":false,"items":[{"index":{"_id":"a","status":201}}]}`, "1 items for 2 documents"},
		{200, `{"took":1,"errors":false,"items":[{"index":{"_id":"a","status":201}},{"delete":{"_id":"b","status":200}}]}`, "does not answer index of \"b\""},
		{502, "<html>Bad Gateway</html>", "502 Bad Gateway: <html>Bad Gateway</html>"},
		{503, `{"error":{"root_cause":[],"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},"status":503}`, "503 Service Unavailable: cluster_block_exception: blocked by"},
		{403, `{"error":"Forbidden","status":403}`, "403 Forbidden: Forbidden"},
		{301, "", "301 Moved Permanently: redirected to https://127.0.0.1"},
		{200, `{"took":1,"errors":false,"items":[` + strings.Repeat(`{"index":{"_id":"a","status":201}},`, 1<<16) + `]}`, "more than"},
	} {
		es := newStandIn(t, false)
		es.rawStatus, es.rawBody = tc.status, []byte(tc.body)
		err := open(t, es.srv.URL+"/products", nil).Deliver(ctx, docs)
		var p *outbox.Partial
		if err == nil || errors.As(err, &p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("answer %d %.60s: Deliver = %v, want a plain error with %q", tc.status, tc.body, err, tc.want)
		}
	}
}

// TestItemStatuses covers the classification of item answers the stand-in
// does not produce by itself.
func TestItemStatuses(t *testing.T) {
	items := []string{
		`{"index":{"_index":"products","_id":"a","status":403,"error":{"type":"security_exception","reason":"action [indices:data/write/bulk[s]] is unauthorized for API key id [x] of user [elastic] on indices [products]"}}}`,
		`{"index":{"_index":"products","_id":"b","status":404,"error":{"type":"index_not_found_exception","reason":"no such index [products]","index":"products"}}}`,
		`{"index":{"_index":"products","_id":"c","status":409,"error":{"type":"some_other_conflict","reason":"?"}}}`,
		`{"delete":{"_index":"products","_id":"d","_version":1,"result":"not_found","status":404}}`,
		`{"index":{"_index":"products","_id":"e","status":500,"error":{"type":"exception","reason":"boom"}}}`,
		`{"index":{"_index":"products","_id":"f","status":413,"error":{"type":"illegal_argument_exception","reason":"too large"}}}`,
	}
	es := newStandIn(t, false)
	es.rawStatus, es.rawBody = 200, []byte(`{"took":1,"errors":true,"items":[`+strings.Join(items, ",")+`]}`)
	docs := []outbox.Doc{index("a", 1, `{}`), index("b", 1, `{}`), index("c", 1, `{}`), del("d", 1), index("e", 1, `{}`), index("f", 1, `{}`)}
	p := partial(t, open(t, es.srv.URL+"/products", nil).Deliver(ctx, docs))
	if !slices.Equal(p.Failed, []int{0, 1, 4}) || !slices.Equal(p.Rejected, []int{2, 5}) {
		t.Errorf("Failed %v Rejected %v, want [0 1 4] and [2 5]", p.Failed, p.Rejected)
	}
}

// TestTooLargeAlone: a single document the server refuses as too large
// (413) is rejected; in a larger request the 413 is a plain error.
func TestTooLargeAlone(t *testing.T) {
	es := newStandIn(t, false)
	es.rawStatus, es.rawBody = 413, nil
	p := partial(t, open(t, es.srv.URL+"/products", nil).Deliver(ctx, []outbox.Doc{index("a", 1, `{}`)}))
	if !slices.Equal(p.Rejected, []int{0}) {
		t.Errorf("Rejected %v, want [0]", p.Rejected)
	}
	err := open(t, es.srv.URL+"/products", nil).Deliver(ctx, []outbox.Doc{index("a", 1, `{}`), index("b", 1, `{}`)})
	var pp *outbox.Partial
	if err == nil || errors.As(err, &pp) || !strings.Contains(err.Error(), "413") {
		t.Errorf("Deliver = %v, want a plain 413 error", err)
	}
}

func TestContextCanceled(t *testing.T) {
	es := newStandIn(t, false)
	c, cancel := context.WithCancel(ctx)
	cancel()
	err := open(t, es.srv.URL+"/products", nil).Deliver(c, []outbox.Doc{index("a", 1, `{}`)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver = %v, want context.Canceled", err)
	}
}

// TestConcurrentDeliver: the loop and the immediate path may deliver at
// once (run with -race).
func TestConcurrentDeliver(t *testing.T) {
	es := newStandIn(t, false)
	s := open(t, es.srv.URL+"/products", nil, func(c *outbox.Config) { c.BatchSize = 3 })
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			var docs []outbox.Doc
			for i := range 10 {
				docs = append(docs, index(fmt.Sprintf("g%d-%d", g, i), 1, `{}`))
			}
			errs <- s.Deliver(ctx, docs)
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	wantDoc(t, es, "g3-9", 1, `{}`)
}

func BenchmarkDeliver(b *testing.B) {
	es := newStandIn(b, false)
	s := open(b, es.srv.URL+"/products", nil)
	docs := make([]outbox.Doc, 500)
	body, _ := json.Marshal(map[string]any{"name": "a product with a name", "price": 1400, "tags": []string{"x", "y", "z"}})
	var n int64
	for i := range docs {
		docs[i] = index(fmt.Sprintf("p%d", i), 1, string(body))
		n += int64(len(body))
	}
	b.SetBytes(n)
	b.ResetTimer()
	for i := range b.N {
		for j := range docs {
			docs[j].Version = uint64(i + 1)
		}
		if err := s.Deliver(ctx, docs); err != nil {
			b.Fatal(err)
		}
	}
}
