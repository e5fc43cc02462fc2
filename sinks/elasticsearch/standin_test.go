package elasticsearch_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// standIn is an Elasticsearch 8 stand-in for the _bulk API, enough to hold
// the sink to what a real cluster does:
//
//   - it parses the NDJSON body strictly (a final newline, one action per
//     line, only the metadata the sink sends, a source line after each
//     index action) and fails the test on anything else;
//   - it keeps documents with external versions as Elasticsearch does: an
//     index or delete applies only over a lower version, and a delete
//     leaves a tombstone holding its version (also for a missing
//     document, whose delete answers 404 result not_found);
//   - it has a mapping: field "price" is a long, so a document whose price
//     is not a number is refused with 400 mapper_parsing_exception;
//   - faults on demand: 429 for whole requests, 429 or 503 for single
//     documents, 401 without the configured credentials.
//
// The response shapes are Elasticsearch 8's. Sources: the Bulk API
// reference (elastic/elasticsearch docs/reference/docs/bulk.asciidoc, 8.x:
// the items, "errors", the 404 not_found delete, the error object with
// type, reason, index_uuid, shard, index); VersionConflictEngineException
// and VersionType.EXTERNAL.explainConflictForWrites (server/.../index/
// engine/VersionConflictEngineException.java: "[ID]: version conflict,
// current version [C] is higher or equal to the one provided [V]", 409);
// IndexingPressure's EsRejectedExecutionException ("rejected execution of
// coordinating operation [...]", 429, whole request) and the write thread
// pool's rejection (429 per item); the security realm's 401 body with its
// WWW-Authenticate header ("missing authentication credentials for REST
// request [/_bulk]"); ES 8.0-8.7's mapper_parsing_exception with its
// caused_by (8.8 renamed it document_parsing_exception; the sink goes by
// status, not type).
type standIn struct {
	t   testing.TB
	srv *httptest.Server

	// Basic credentials or an API key (the Authorization value after
	// "ApiKey ") the stand-in requires; none when empty.
	user, pass, apiKey string

	mu   sync.Mutex
	docs map[string]*stored // by index "/" id
	seq  int64
	reqs []bulkReq
	// rejectRequests answers 429 to the requests whose number (from 1)
	// it holds.
	rejectRequests map[int]bool
	// throttle and unavailable answer 429 or 503 to the document ID's
	// next n items.
	throttle, unavailable map[string]int
	// raw, when set, answers every request with this status and body.
	rawStatus int
	rawBody   []byte
}

type stored struct {
	version int64
	source  json.RawMessage // nil for a tombstone
}

// bulkReq is one request the stand-in received.
type bulkReq struct {
	path, query, auth string
	body              []byte
	items             int
}

func newStandIn(t testing.TB, tls bool) *standIn {
	es := &standIn{t: t, docs: map[string]*stored{}, rejectRequests: map[int]bool{}, throttle: map[string]int{}, unavailable: map[string]int{}}
	es.srv = httptest.NewUnstartedServer(es)
	// TestTLS's refused handshakes are expected: keep them off the output.
	es.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		es.srv.StartTLS()
	} else {
		es.srv.Start()
	}
	t.Cleanup(es.srv.Close)
	return es
}

// doc returns the stored document (nil: never written).
func (es *standIn) doc(index, id string) *stored {
	es.mu.Lock()
	defer es.mu.Unlock()
	return es.docs[index+"/"+id]
}

func (es *standIn) requests() []bulkReq {
	es.mu.Lock()
	defer es.mu.Unlock()
	return append([]bulkReq(nil), es.reqs...)
}

// esErr writes Elasticsearch's error response for a failed request;
// header, when set, is the security realm's "header" member.
func esErr(w http.ResponseWriter, status int, typ, reason string, header map[string]any) {
	cause := map[string]any{"type": typ, "reason": reason}
	top := map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason}
	if header != nil {
		cause["header"], top["header"] = header, header
	}
	b, _ := json.Marshal(map[string]any{"error": top, "status": status})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (es *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		es.t.Errorf("stand-in: reading the body: %v", err)
		return
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	if es.rawStatus != 0 {
		if es.rawStatus/100 == 3 {
			w.Header().Set("Location", "https://"+r.Host+r.URL.RequestURI())
		}
		w.WriteHeader(es.rawStatus)
		w.Write(es.rawBody)
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/_bulk") {
		es.t.Errorf("stand-in: %s %s, want POST .../_bulk", r.Method, r.URL.Path)
		esErr(w, 405, "illegal_argument_exception", "unexpected "+r.Method+" "+r.URL.Path, nil)
		return
	}
	auth := r.Header.Get("Authorization")
	if es.user != "" || es.apiKey != "" {
		want := "ApiKey " + es.apiKey
		if es.user != "" {
			want = "Basic " + base64.StdEncoding.EncodeToString([]byte(es.user+":"+es.pass))
		}
		if auth != want {
			reason := "missing authentication credentials for REST request [" + r.URL.RequestURI() + "]"
			if auth != "" {
				reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
			}
			hdr := []string{`Basic realm="security", charset="UTF-8"`, `Bearer realm="security"`, "ApiKey"}
			for _, h := range hdr {
				w.Header().Add("WWW-Authenticate", h)
			}
			esErr(w, http.StatusUnauthorized, "security_exception", reason, map[string]any{"WWW-Authenticate": hdr})
			return
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		es.t.Errorf("stand-in: Content-Type %q, want application/x-ndjson", ct)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotAcceptable)
		fmt.Fprintf(w, `{"error":"Content-Type header [%s] is not supported","status":406}`, ct)
		return
	}
	req := bulkReq{path: r.URL.Path, query: r.URL.RawQuery, auth: auth, body: body}
	es.reqs = append(es.reqs, req)
	n := len(es.reqs)
	if es.rejectRequests[n] {
		esErr(w, http.StatusTooManyRequests, "es_rejected_execution_exception",
			fmt.Sprintf("rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=%d, max_coordinating_and_primary_bytes=53687091]", len(body)), nil)
		return
	}
	items, err := es.bulk(body)
	if err != nil {
		es.t.Errorf("stand-in: request %d: %v\n%s", n, err, body)
		esErr(w, http.StatusBadRequest, "illegal_argument_exception", err.Error(), nil)
		return
	}
	es.reqs[n-1].items = len(items)
	errs := false
	for _, it := range items {
		for _, v := range it {
			if v.Error != nil {
				errs = true
			}
		}
	}
	b, _ := json.Marshal(struct {
		Took   int                   `json:"took"`
		Errors bool                  `json:"errors"`
		Items  []map[string]respItem `json:"items"`
	}{3, errs, items})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// respItem is an item of the _bulk response, fields in Elasticsearch's
// order.
type respItem struct {
	Index       string     `json:"_index"`
	ID          string     `json:"_id"`
	Version     int64      `json:"_version,omitempty"`
	Result      string     `json:"result,omitempty"`
	Shards      *shards    `json:"_shards,omitempty"`
	SeqNo       *int64     `json:"_seq_no,omitempty"`
	PrimaryTerm int64      `json:"_primary_term,omitempty"`
	Status      int        `json:"status"`
	Error       *itemError `json:"error,omitempty"`
}

type shards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
}

type itemError struct {
	Type      string     `json:"type"`
	Reason    string     `json:"reason"`
	IndexUUID string     `json:"index_uuid,omitempty"`
	Shard     string     `json:"shard,omitempty"`
	Index     string     `json:"index,omitempty"`
	CausedBy  *itemError `json:"caused_by,omitempty"`
}

const indexUUID = "aAsFqTI0Tc2W0LCWgPNrOA"

// bulk parses body strictly and applies it; an error is a malformed
// request (Elasticsearch's whole-request 400).
func (es *standIn) bulk(body []byte) ([]map[string]respItem, error) {
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return nil, fmt.Errorf("The bulk request must be terminated by a newline [\\n]")
	}
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	var items []map[string]respItem
	for l := 0; l < len(lines); l++ {
		var action map[string]json.RawMessage
		if err := json.Unmarshal(lines[l], &action); err != nil || len(action) != 1 {
			return nil, fmt.Errorf("Malformed action/metadata line [%d], expected a simple action: %s", l+1, lines[l])
		}
		var op string
		var raw json.RawMessage
		for op, raw = range action {
		}
		if op != "index" && op != "delete" {
			return nil, fmt.Errorf("Malformed action/metadata line [%d], the sink sends only index and delete, got [%s]", l+1, op)
		}
		var meta struct {
			Index       string      `json:"_index"`
			ID          string      `json:"_id"`
			Version     json.Number `json:"version"`
			VersionType string      `json:"version_type"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		if err := dec.Decode(&meta); err != nil {
			return nil, fmt.Errorf("Action/metadata line [%d] contains an unknown parameter: %v", l+1, err)
		}
		v, err := strconv.ParseInt(meta.Version.String(), 10, 64)
		if err != nil || v < 0 || meta.VersionType != "external" || meta.Index == "" || meta.ID == "" {
			return nil, fmt.Errorf("Action/metadata line [%d]: want _index, _id, a version (a long) and version_type external: %s", l+1, raw)
		}
		var source []byte
		if op == "index" {
			if l+1 >= len(lines) {
				return nil, fmt.Errorf("Validation Failed: 1: source is missing (line %d)", l+1)
			}
			l++
			source = lines[l]
		}
		items = append(items, map[string]respItem{op: es.apply(op, meta.Index, meta.ID, v, source)})
	}
	return items, nil
}

// apply is one item, as the primary shard would do it.
func (es *standIn) apply(op, index, id string, v int64, source []byte) respItem {
	it := respItem{Index: index, ID: id}
	fail := func(status int, typ, reason string, causedBy *itemError) respItem {
		it.Status = status
		it.Error = &itemError{Type: typ, Reason: reason, IndexUUID: indexUUID, Shard: "0", Index: index, CausedBy: causedBy}
		return it
	}
	if es.throttle[id] > 0 {
		es.throttle[id]--
		it.Status = http.StatusTooManyRequests
		it.Error = &itemError{Type: "es_rejected_execution_exception", Reason: "rejected execution of org.elasticsearch.action.support.replication.TransportWriteAction$1/WrappedActionListener{...} on EsThreadPoolExecutor[name = node-0/write, queue capacity = 10000, org.elasticsearch.common.util.concurrent.EsThreadPoolExecutor@4b5c1e0a[Running, pool size = 2, active threads = 2, queued tasks = 10000, completed tasks = 1234]]"}
		return it
	}
	if es.unavailable[id] > 0 {
		es.unavailable[id]--
		return fail(http.StatusServiceUnavailable, "unavailable_shards_exception",
			"[products][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest [[products][0]] containing [1] requests]", nil)
	}
	if op == "index" {
		var src map[string]json.RawMessage
		if err := json.Unmarshal(source, &src); err != nil {
			return fail(http.StatusBadRequest, "mapper_parsing_exception", "failed to parse", &itemError{Type: "json_parse_exception", Reason: err.Error()})
		}
		if p, ok := src["price"]; ok {
			if _, err := strconv.ParseInt(string(p), 10, 64); err != nil {
				var s string
				json.Unmarshal(p, &s)
				return fail(http.StatusBadRequest, "mapper_parsing_exception",
					fmt.Sprintf("failed to parse field [price] of type [long] in document with id '%s'. Preview of field's value: '%s'", id, s),
					&itemError{Type: "illegal_argument_exception", Reason: fmt.Sprintf("For input string: %q", s)})
			}
		}
	}
	key := index + "/" + id
	cur := es.docs[key]
	if cur != nil && cur.version >= v {
		return fail(http.StatusConflict, "version_conflict_engine_exception",
			fmt.Sprintf("[%s]: version conflict, current version [%d] is higher or equal to the one provided [%d]", id, cur.version, v), nil)
	}
	live := cur != nil && cur.source != nil
	seq := es.seq
	es.seq++
	it.Version, it.Shards, it.SeqNo, it.PrimaryTerm = v, &shards{2, 1, 0}, &seq, 1
	switch {
	case op == "delete" && live:
		it.Result, it.Status = "deleted", http.StatusOK
	case op == "delete":
		it.Result, it.Status = "not_found", http.StatusNotFound
	case live:
		it.Result, it.Status = "updated", http.StatusOK
	default:
		it.Result, it.Status = "created", http.StatusCreated
	}
	es.docs[key] = &stored{version: v, source: source}
	return it
}
