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

	"github.com/eddydb/eddy/triggers/guest"
)

func auditTable() string {
	if t := os.Getenv("AUDIT_TABLE"); t != "" {
		return t
	}
	return "audit"
}

var (
	batch guest.Batch // an invocation's PutItems and emits, sent to the host in one call
	item  []byte
	req   []byte
	names []string
)

func handle(ev *guest.Event) (*guest.BatchResponse, error) {
	var resp guest.BatchResponse
	table, sink := auditTable(), os.Getenv("AUDIT_SINK")
	perRecord := 1
	if sink != "" {
		perRecord = 2
	}
	for i := range ev.Records {
		r := &ev.Records[i]
		key := keyString(r.Keys())
		item = auditItem(item[:0], r, key)
		req = guest.AppendString(append(req[:0], `{"TableName":`...), table)
		req = append(append(append(req, `,"Item":`...), item...), '}')
		batch.Call("PutItem", req)
		if sink != "" {
			seq := r.SequenceNumber()
			req = append(append(req[:0], `{"doc":`...), item...)
			req = guest.AppendString(append(req, `,"id":`...), key+"/"+seq)
			req = guest.AppendString(append(req, `,"op":"index","seq":`...), seq)
			req = guest.AppendString(append(req, `,"table":`...), tableName(r.EventSourceARN()))
			batch.Emit(sink, append(req, '}'))
		}
	}
	if done, err := batch.Flush(); err != nil {
		r := &ev.Records[done/perRecord]
		guest.Log("audit %s %s: %v", r.EventName(), r.SequenceNumber(), err)
		resp.Fail(r.SequenceNumber()) // the mapping retries from the first failure on
	}
	return &resp, nil
}

// auditItem appends the audit item of r as DynamoDB JSON; the images go in
// as the host sent them.
func auditItem(b []byte, r *guest.Record, key string) []byte {
	b = guest.AppendString(append(b, `{"itemKey":{"S":`...), key)
	b = guest.AppendString(append(b, `},"seq":{"S":`...), r.SequenceNumber())
	b = guest.AppendString(append(b, `},"eventName":{"S":`...), r.EventName())
	b = guest.AppendString(append(b, `},"writtenAt":{"N":`...), strconv.FormatFloat(r.ApproximateCreationDateTime(), 'f', -1, 64))
	b = guest.AppendString(append(b, `},"source":{"S":`...), tableName(r.EventSourceARN()))
	b = append(append(b, `},"keys":{"M":`...), orEmpty(r.Keys().Raw())...)
	if old := r.OldImage(); old.Exists() {
		b = append(append(b, `},"oldImage":{"M":`...), old.Raw()...)
	}
	if cur := r.NewImage(); cur.Exists() {
		b = append(append(b, `},"newImage":{"M":`...), cur.Raw()...)
	}
	return append(b, "}}"...)
}

func orEmpty(raw []byte) []byte {
	if raw == nil {
		return []byte("{}")
	}
	return raw
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
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('|')
		}
		v := k.Get(n)
		b.WriteString(n)
		b.WriteByte('=')
		switch v.Type() {
		case "S":
			s, _ := v.Str()
			b.WriteString(s)
		case "N":
			s, _ := v.Num()
			b.WriteString(s)
		case "B":
			raw, _ := v.Bytes()
			b.WriteString(base64.StdEncoding.EncodeToString(raw))
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

func init() { guest.HandleRecords(handle) }

func main() {}
