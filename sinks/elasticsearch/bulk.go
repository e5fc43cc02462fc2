package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/eddydb/eddy/outbox"
)

const (
	// maxVersion is the largest external version Elasticsearch takes (a
	// Java long).
	maxVersion = math.MaxInt64
	// maxIDBytes is Elasticsearch's limit on a document ID.
	maxIDBytes = 512
	// maxReason bounds the reason an Error carries.
	maxReason = 512
	// Response bodies read: a _bulk answer gets respBase plus respPerDoc
	// per document (an item is ~300 bytes, a failed one with its cause
	// rarely 2 KiB); a failed request's body is read up to errBody.
	respBase   = 1 << 20
	respPerDoc = 16 << 10
	errBody    = 64 << 10
)

// Error is Elasticsearch's refusal of a whole _bulk request (ID empty) or
// of one document in it.
type Error struct {
	// Status is the HTTP status of the request, or the item's status.
	Status int
	// Type is Elasticsearch's error type (es_rejected_execution_exception,
	// mapper_parsing_exception, security_exception...); empty when the
	// answer was not Elasticsearch's (a proxy's page, say).
	Type string
	// Reason is Elasticsearch's reason (and its cause), or the start of
	// the body when Type is empty; truncated to 512 bytes.
	Reason string
	// ID is the document's, for an item.
	ID string
}

func (e *Error) Error() string {
	what := "_bulk answered " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		what += " " + t
	}
	if e.ID != "" {
		what = fmt.Sprintf("document %q: %d", e.ID, e.Status)
	}
	switch {
	case e.Type != "":
		return "elasticsearch: " + what + ": " + e.Type + ": " + e.Reason
	case e.Reason != "":
		return "elasticsearch: " + what + ": " + e.Reason
	}
	return "elasticsearch: " + what
}

// outcome gathers what Deliver reports.
type outcome struct {
	failed, rejected []int
	firstIdx         int // of firstErr, in docs
	firstErr         error
	settled          bool // some document was applied or rejected
}

func (o *outcome) note(i int, err error) {
	if o.firstErr == nil || i < o.firstIdx {
		o.firstIdx, o.firstErr = i, err
	}
}

func (o *outcome) fail(i int, err error) {
	o.failed = append(o.failed, i)
	o.note(i, err)
}

func (o *outcome) reject(i int, err error) {
	o.rejected = append(o.rejected, i)
	o.settled = true
	o.note(i, err)
}

// encoded is one document's place in the request buffer.
type encoded struct {
	doc int // index in docs
	end int // where its action (and source) line ends in the buffer
}

// Deliver sends docs through _bulk, split by the sink's BatchSize and
// BatchBytes, and reports per document (see the package doc): nil when
// all were applied or superseded, a *outbox.Partial listing the failed and
// rejected ones, or a plain error when a request failed as a whole before
// any document was settled.
func (s *Sink) Deliver(ctx context.Context, docs []outbox.Doc) error {
	var out outcome
	buf := make([]byte, 0, estimate(docs))
	encs := make([]encoded, 0, len(docs))
	for i := range docs {
		var err error
		mark := len(buf)
		if buf, err = s.appendDoc(buf, &docs[i]); err != nil {
			buf = buf[:mark]
			out.reject(i, err)
			continue
		}
		encs = append(encs, encoded{doc: i, end: len(buf)})
	}

	var reqErr error
	for start := 0; start < len(encs); {
		from := 0
		if start > 0 {
			from = encs[start-1].end
		}
		end := start + 1
		for end < len(encs) && end-start < s.batchSize && encs[end].end-from <= s.batchBytes {
			end++
		}
		if reqErr = s.send(ctx, buf[from:encs[end-1].end], encs[start:end], docs, &out); reqErr != nil {
			for _, e := range encs[start:] {
				out.fail(e.doc, reqErr)
			}
			break
		}
		start = end
	}

	switch {
	case reqErr != nil && !out.settled:
		return reqErr
	case out.firstErr == nil:
		return nil
	}
	slices.Sort(out.failed)
	slices.Sort(out.rejected)
	return &outbox.Partial{Failed: out.failed, Rejected: out.rejected, Err: out.firstErr}
}

// estimate is the request buffer's initial capacity.
func estimate(docs []outbox.Doc) int {
	n := 0
	for i := range docs {
		n += len(docs[i].Body) + len(docs[i].ID) + 100
	}
	return n
}

// appendDoc appends d's action line (and source line) to buf, or says why
// Elasticsearch cannot take d. On error buf may hold part of d.
func (s *Sink) appendDoc(buf []byte, d *outbox.Doc) ([]byte, error) {
	var action string
	switch d.Op {
	case outbox.OpIndex:
		action = `{"index":{"_index":`
	case outbox.OpDelete:
		action = `{"delete":{"_index":`
	default:
		return buf, fmt.Errorf("elasticsearch: document %q: unknown op %q", d.ID, d.Op)
	}
	switch {
	case d.Version > maxVersion:
		return buf, fmt.Errorf("elasticsearch: document %q: version %d is above Elasticsearch's largest external version (2^63-1)", d.ID, d.Version)
	case d.ID == "":
		return buf, errors.New("elasticsearch: a document has an empty ID")
	case len(d.ID) > maxIDBytes:
		return buf, fmt.Errorf("elasticsearch: document ID %.64q...: %d bytes, Elasticsearch takes at most %d", d.ID, len(d.ID), maxIDBytes)
	case !utf8.ValidString(d.ID):
		return buf, fmt.Errorf("elasticsearch: document ID %q is not UTF-8", d.ID)
	case d.Op == outbox.OpIndex && len(bytes.TrimSpace(d.Body)) == 0:
		return buf, fmt.Errorf("elasticsearch: document %q: empty body", d.ID)
	}
	buf = append(buf, action...)
	buf = append(buf, s.indexJSON...)
	buf = append(buf, `,"_id":`...)
	buf = appendJSONString(buf, d.ID)
	buf = append(buf, `,"version":`...)
	buf = strconv.AppendUint(buf, d.Version, 10)
	buf = append(buf, `,"version_type":"external"}}`+"\n"...)
	if d.Op == outbox.OpDelete {
		return buf, nil
	}
	if bytes.ContainsAny(d.Body, "\r\n") {
		// A line break would end the source line early: compact the
		// JSON (line breaks inside strings are escaped in valid JSON).
		b := bytes.NewBuffer(buf)
		if err := json.Compact(b, d.Body); err != nil {
			return buf, fmt.Errorf("elasticsearch: document %q: body is not JSON: %v", d.ID, err)
		}
		buf = b.Bytes()
	} else {
		buf = append(buf, d.Body...)
	}
	return append(buf, '\n'), nil
}

// appendJSONString appends s, valid UTF-8, as a JSON string.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}

// send posts one _bulk body holding encs and records each item's outcome
// in out. An error means the request failed as a whole.
func (s *Sink) send(ctx context.Context, body []byte, encs []encoded, docs []outbox.Doc, out *outcome) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.bulkURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "eddy")
	if s.auth != "" {
		req.Header.Set("Authorization", s.auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		b, rerr := readAtMost(resp.Body, errBody)
		e := requestError(resp.StatusCode, b)
		if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
			e.Reason = truncate("redirected to "+loc+" (point the sink's URL there)", maxReason)
		}
		if rerr != nil && !errors.Is(rerr, errTooLarge) {
			return fmt.Errorf("%w (reading the body: %v)", e, rerr)
		}
		if resp.StatusCode == http.StatusRequestEntityTooLarge && len(encs) == 1 {
			// This document alone is more than the server takes.
			out.reject(encs[0].doc, e)
			return nil
		}
		return e
	}

	b, err := readAtMost(resp.Body, respBase+respPerDoc*len(encs))
	if err != nil {
		return fmt.Errorf("elasticsearch: reading the _bulk response: %w", err)
	}
	var r struct {
		Errors *bool                 `json:"errors"`
		Items  []map[string]bulkItem `json:"items"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Errors == nil || r.Items == nil {
		return &Error{Status: resp.StatusCode, Reason: "not a _bulk response: " + snippet(b)}
	}
	if len(r.Items) != len(encs) {
		return &Error{Status: resp.StatusCode, Reason: fmt.Sprintf("the _bulk response has %d items for %d documents", len(r.Items), len(encs))}
	}
	// Check every item answers its document before taking any outcome.
	for k, e := range encs {
		d := &docs[e.doc]
		it, ok := r.Items[k][string(d.Op)]
		if !ok || len(r.Items[k]) != 1 || (it.ID != "" && it.ID != d.ID) {
			return &Error{Status: resp.StatusCode, Reason: fmt.Sprintf("the _bulk response's item %d does not answer %s of %q: %s", k, d.Op, d.ID, snippet(b))}
		}
	}
	for k, e := range encs {
		d := &docs[e.doc]
		it := r.Items[k][string(d.Op)]
		switch err := it.err(d); {
		case err == nil:
			out.settled = true
		case retryable(it.Status):
			out.fail(e.doc, err)
		default:
			out.reject(e.doc, err)
		}
	}
	return nil
}

// bulkItem is one item of a _bulk response (the fields Deliver reads):
//
//	{"index":{"_index":"products","_id":"p1","_version":3,"result":"created",
//	  "_shards":{...},"_seq_no":0,"_primary_term":1,"status":201}}
//	{"index":{"_index":"products","_id":"p2","status":409,"error":{"type":
//	  "version_conflict_engine_exception","reason":"[p2]: version conflict, ...",
//	  "index_uuid":"...","shard":"0","index":"products"}}}
type bulkItem struct {
	ID     string   `json:"_id"`
	Status int      `json:"status"`
	Result string   `json:"result"`
	Error  *esError `json:"error"`
}

// err is nil when the item means d is applied or superseded.
func (it *bulkItem) err(d *outbox.Doc) error {
	switch {
	case it.Status >= 200 && it.Status < 300:
		return nil
	case it.Status == http.StatusConflict && it.Error != nil && it.Error.Type == "version_conflict_engine_exception":
		return nil // Elasticsearch holds this version or a newer one
	case it.Status == http.StatusNotFound && d.Op == outbox.OpDelete && it.Error == nil:
		return nil // result not_found: nothing to delete, version recorded
	}
	e := &Error{Status: it.Status, ID: d.ID}
	if it.Error != nil {
		e.Type, e.Reason = it.Error.Type, it.Error.reason()
	}
	return e
}

// retryable says whether an item that failed with status may be applied
// later: 429 and 5xx (Elasticsearch is busy or a shard is unavailable),
// and the statuses that mean the sink's setup, not the document, is wrong
// and are fixed by the operator: 401/403 (the credentials lack a privilege
// on the index, or the index is blocked read-only), 404 (on an index
// action: the index does not exist and is not auto-created), 408. Other
// 4xx (400 mapper_parsing_exception, ...) are the document's own fault.
// A status outside 4xx is unexpected and retried.
func retryable(status int) bool {
	switch {
	case status < 400 || status >= 500:
		return true
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return false
}

// esError is Elasticsearch's error object, in an item or a failed
// request's {"error":{...},"status":N}.
type esError struct {
	Type     string   `json:"type"`
	Reason   string   `json:"reason"`
	CausedBy *esError `json:"caused_by"`
}

// reason is the reason with its causes, truncated.
func (e *esError) reason() string {
	r := e.Reason
	for c, n := e.CausedBy, 0; c != nil && n < 3; c, n = c.CausedBy, n+1 {
		r += " (caused by " + c.Type + ": " + c.Reason + ")"
	}
	return truncate(r, maxReason)
}

// requestError describes a failed request from its status and body.
func requestError(status int, body []byte) *Error {
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &r) == nil && len(r.Error) > 0 {
		var e esError
		if json.Unmarshal(r.Error, &e) == nil && e.Type != "" {
			return &Error{Status: status, Type: e.Type, Reason: e.reason()}
		}
		var msg string // older versions and some proxies: "error":"..."
		if json.Unmarshal(r.Error, &msg) == nil {
			return &Error{Status: status, Reason: truncate(msg, maxReason)}
		}
	}
	return &Error{Status: status, Reason: snippet(body)}
}

var errTooLarge = errors.New("response body too large")

// readAtMost reads r to its end, or to limit bytes (returning what it read
// and errTooLarge).
func readAtMost(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err == nil && len(b) > limit {
		return b[:limit], fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
	}
	return b, err
}

// snippet is the start of a body, for an error message.
func snippet(b []byte) string {
	return truncate(string(bytes.TrimSpace(b)), 200)
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
