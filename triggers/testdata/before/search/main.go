// Command search-replication is an eddy stream handler that replicates a
// table to a search index: every change becomes one JSON document sent to
// the sink SINK (default "search") with eddy.emit. The sink (configured in
// the eddy server, see the README) writes it to the index.
//
// Documents:
//
//	{"op":"index","table":"products","id":"pk=p1","seq":"000…042","doc":{...}}
//	{"op":"delete","table":"products","id":"pk=p1","seq":"000…043"}
//
// "id" is the item's key ("name=value" pairs sorted by name, joined by "|")
// and makes a stable document id. "doc" is the item's new image as plain
// JSON: S as strings, N as JSON numbers (exact, not rounded), BOOL, NULL as
// null, M as objects, L/SS/NS as arrays, B and BS as base64 strings.
// "seq" is the change's stream sequence number (fixed width, increasing
// per item): the sink uses it as the document's version, so an older
// document never overwrites a newer one. Emits during a trigger's batch are
// held back and committed with its checkpoint (eddy's outbox), then
// delivered to the sink until it has them: each document reaches the index
// once, even when the batch is retried or eddy crashes.
//
// An emit that fails (the sink does not exist, the document is malformed)
// is reported in batchItemFailures and the handler stops there: the
// mapping retries from that record (create the trigger with
// --report-failures).
package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"sort"
	"strings"

	"github.com/eddydb/eddy/triggers/testdata/before/guest"
)

// Doc is one document sent to the sink.
type Doc struct {
	Op    string         `json:"op"` // "index" or "delete"
	Table string         `json:"table"`
	ID    string         `json:"id"`
	Seq   string         `json:"seq"`
	Doc   map[string]any `json:"doc,omitempty"`
}

func sinkName() string {
	if s := os.Getenv("SINK"); s != "" {
		return s
	}
	return "search"
}

func handle(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	var resp guest.BatchResponse
	sink := sinkName()
	for _, r := range ev.Records {
		d := Doc{Op: "index", Table: tableName(r.EventSourceARN), ID: keyString(r.DynamoDB.Keys), Seq: r.DynamoDB.SequenceNumber}
		if r.EventName == "REMOVE" {
			d.Op = "delete"
		} else {
			d.Doc = plainItem(r.DynamoDB.NewImage)
		}
		if err := guest.Emit(sink, d); err != nil {
			guest.Log("emit %s %s: %v", d.Op, d.ID, err)
			resp.Fail(r.DynamoDB.SequenceNumber)
			break // the mapping retries from the first failure on
		}
	}
	return &resp, nil
}

func plainItem(it guest.Item) map[string]any {
	m := make(map[string]any, len(it))
	for k, v := range it {
		m[k] = plain(v)
	}
	return m
}

// plain converts a DynamoDB JSON value to plain JSON.
func plain(v guest.AttributeValue) any {
	switch {
	case v.S != nil:
		return *v.S
	case v.N != nil:
		return json.Number(*v.N)
	case v.B != nil:
		return base64.StdEncoding.EncodeToString(v.B)
	case v.BOOL != nil:
		return *v.BOOL
	case v.NULL:
		return nil
	case v.M != nil:
		return plainItem(v.M)
	case v.L != nil:
		l := make([]any, len(v.L))
		for i, x := range v.L {
			l[i] = plain(x)
		}
		return l
	case v.SS != nil:
		return v.SS
	case v.NS != nil:
		l := make([]json.Number, len(v.NS))
		for i, n := range v.NS {
			l[i] = json.Number(n)
		}
		return l
	case v.BS != nil:
		l := make([]string, len(v.BS))
		for i, b := range v.BS {
			l[i] = base64.StdEncoding.EncodeToString(b)
		}
		return l
	}
	return nil
}

// keyString renders a key as "name=value" pairs sorted by name, joined by
// "|". Binary values are base64.
func keyString(k guest.Item) string {
	names := make([]string, 0, len(k))
	for n := range k {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		v := k[n]
		s := v.Str() + v.Num()
		if v.B != nil {
			s = base64.StdEncoding.EncodeToString(v.B)
		}
		parts[i] = n + "=" + s
	}
	return strings.Join(parts, "|")
}

// tableName extracts NAME from arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL.
func tableName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":table/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func init() { guest.HandleStream(handle) }

func main() {}
