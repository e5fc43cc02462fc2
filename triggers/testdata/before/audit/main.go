// Command audit-trail is an eddy stream handler that keeps an audit log: for
// every change to the source table it writes one item to the audit table.
//
// Audit item (table AUDIT_TABLE, default "audit"; hash key "itemKey" S,
// range key "seq" S):
//
//	itemKey    the changed item's key, e.g. "pk=o1" or "pk=a|sk=7"
//	           (attribute names sorted, joined by "|")
//	seq        the change's stream sequence number (fixed width: sorts in
//	           write order)
//	eventName  INSERT, MODIFY or REMOVE
//	writtenAt  when the change was written (ApproximateCreationDateTime,
//	           epoch seconds, N)
//	source     the source table's name
//	keys       the changed item's key attributes (M)
//	oldImage   the item before the change (M; absent on INSERT)
//	newImage   the item after the change (M; absent on REMOVE)
//
// With AUDIT_SINK set (e.g. a file sink: eddy serve --sink
// audit-log=file:///var/log/eddy/audit.jsonl), each audit item is also
// emitted to that sink as {"op":"index","id":ITEMKEY/SEQ,"seq":SEQ,
// "table":SOURCE,"doc":{...the audit item as DynamoDB JSON...}}: the emit
// commits with the audit item and the checkpoint, so the file holds each
// change once, in order per item.
//
// A record whose audit item cannot be written (the audit table is missing,
// the item is too large, ...) is reported in batchItemFailures and the
// handler stops there: the mapping retries from that record (create the
// trigger with --report-failures). The audit item's key is derived from the
// record, so a retried record overwrites its own audit item: no duplicates.
package main

import (
	"encoding/base64"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/triggers/testdata/before/guest"
)

func auditTable() string {
	if t := os.Getenv("AUDIT_TABLE"); t != "" {
		return t
	}
	return "audit"
}

func handle(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	var resp guest.BatchResponse
	table, sink := auditTable(), os.Getenv("AUDIT_SINK")
	for _, r := range ev.Records {
		it := auditItem(r)
		err := guest.PutItem(table, it)
		if err == nil && sink != "" {
			err = guest.Emit(sink, map[string]any{"op": "index", "id": *it["itemKey"].S + "/" + r.DynamoDB.SequenceNumber,
				"seq": r.DynamoDB.SequenceNumber, "table": tableName(r.EventSourceARN), "doc": it})
		}
		if err != nil {
			guest.Log("audit %s %s: %v", r.EventName, r.DynamoDB.SequenceNumber, err)
			resp.Fail(r.DynamoDB.SequenceNumber)
			break // the mapping retries from the first failure on
		}
	}
	return &resp, nil
}

func auditItem(r guest.StreamRecord) guest.Item {
	d := r.DynamoDB
	it := guest.Item{
		"itemKey":   guest.S(keyString(d.Keys)),
		"seq":       guest.S(d.SequenceNumber),
		"eventName": guest.S(r.EventName),
		"writtenAt": guest.N(strconv.FormatFloat(d.ApproximateCreationDateTime, 'f', -1, 64)),
		"source":    guest.S(tableName(r.EventSourceARN)),
		"keys":      guest.AttributeValue{M: d.Keys},
	}
	if d.OldImage != nil {
		it["oldImage"] = guest.AttributeValue{M: d.OldImage}
	}
	if d.NewImage != nil {
		it["newImage"] = guest.AttributeValue{M: d.NewImage}
	}
	return it
}

// keyString renders a key as "name=value" pairs sorted by name, joined by
// "|". Binary values are base64.
func keyString(k guest.Item) string {
	names := make([]string, 0, len(k))
	for n := range k {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('|')
		}
		v := k[n]
		b.WriteString(n)
		b.WriteByte('=')
		switch {
		case v.S != nil:
			b.WriteString(*v.S)
		case v.N != nil:
			b.WriteString(*v.N)
		case v.B != nil:
			b.WriteString(base64.StdEncoding.EncodeToString(v.B))
		}
	}
	return b.String()
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
