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
	"os"
	"sort"
	"strings"

	"github.com/eddydb/eddy/triggers/guest"
)

func sinkName() string {
	if s := os.Getenv("SINK"); s != "" {
		return s
	}
	return "search"
}

var (
	batch guest.Batch // an invocation's emits, sent to the host in one call
	doc   []byte
	names []string
)

func handle(ev *guest.Event) (*guest.BatchResponse, error) {
	var resp guest.BatchResponse
	sink := sinkName()
	for i := range ev.Records {
		r := &ev.Records[i]
		op := "index"
		if r.EventNameIs("REMOVE") {
			op = "delete"
		}
		doc = guest.AppendString(append(doc[:0], `{"op":`...), op)
		doc = guest.AppendString(append(doc, `,"table":`...), tableName(r.EventSourceARN()))
		doc = guest.AppendString(append(doc, `,"id":`...), keyString(r.Keys()))
		doc = guest.AppendString(append(doc, `,"seq":`...), r.SequenceNumber())
		if op == "index" && r.NewImage().Exists() {
			var err error
			if doc, err = r.NewImage().AppendPlain(append(doc, `,"doc":`...)); err != nil {
				return nil, err
			}
		}
		batch.Emit(sink, append(doc, '}'))
	}
	if done, err := batch.Flush(); err != nil {
		r := &ev.Records[done]
		guest.Log("emit %s: %v", r.SequenceNumber(), err)
		resp.Fail(r.SequenceNumber()) // the mapping retries from the first failure on
	}
	return &resp, nil
}

// keyString renders a key as "name=value" pairs sorted by name, joined by
// "|". Binary values are base64.
func keyString(k guest.Image) string {
	names = names[:0]
	_ = k.Each(func(name string, _ guest.Value) bool {
		names = append(names, name)
		return true
	})
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		v := k.Get(n)
		s, _ := v.Str()
		if num, ok := v.Num(); ok {
			s = num
		}
		if b, ok := v.Bytes(); ok {
			s = base64.StdEncoding.EncodeToString(b)
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

func init() { guest.HandleRecords(handle) }

func main() {}
