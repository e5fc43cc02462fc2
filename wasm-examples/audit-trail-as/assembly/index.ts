// audit-trail-as: an eddy stream handler in AssemblyScript. For every change
// to the source table it
//
//  1. writes one audit item to the table AUDIT_TABLE (default "audit";
//     hash key "itemKey" S, range key "seq" S) with table_call PutItem:
//
//       itemKey    the changed item's key, e.g. "pk=a|sk=1" (names sorted,
//                  joined by "|"; B values as their base64)
//       seq        the stream sequence number (fixed width: sorts in order)
//       eventName  INSERT, MODIFY or REMOVE
//       writtenAt  ApproximateCreationDateTime (epoch seconds, N)
//       source     the source table's name
//       keys       the key attributes (M)
//       oldImage   the item before the change (M; absent on INSERT)
//       newImage   the item after the change (M; absent on REMOVE)
//
//  2. emits one document to the sink SINK (default "audit"):
//
//       {"op":"index","id":"<table>/<itemKey>/<seq>","seq":"<seq>","table":"<table>",
//        "doc":{"event":"MODIFY","keys":{...},"new":{...},"old":{...},"at":1733390000}}
//
//     keys, new and old are the stream record's DynamoDB JSON, copied as
//     they came; new is absent on REMOVE, old on INSERT.
//
// If either fails, the record is reported in batchItemFailures and the
// handler stops: the mapping retries from that record (create it with
// ReportBatchItemFailures). Both are idempotent on retry: the audit item's
// key and the document's id come from the record.
//
// The module implements eddy-abi-v1 (triggers/ABI.md) without an SDK.

import * as eddy from "./eddy";
import { Kind, Value, parse, parseError, quote } from "./json";

// The ABI's version marker: never called.
export function eddy_abi_v1(): void {}

// handle is the function's Handler (the default name). It returns 0 with
// the partial batch response as output, or 1 with a handler error.
export function handle(): i32 {
  const event = parse(eddy.input());
  if (event === null || event.kind != Kind.Object) {
    return handlerError("the input is not a JSON object: " + parseError, "InvalidEvent");
  }
  const records = event.get("Records");
  if (records === null || records.kind != Kind.Array) {
    return handlerError("the input has no Records array: is this a stream trigger?", "InvalidEvent");
  }
  const auditTable = eddy.getenv("AUDIT_TABLE", "audit");
  const sink = eddy.getenv("SINK", "audit");

  // Read every record first: a malformed one fails the invocation before
  // anything is written (retrying cannot fix it; the mapping's retry,
  // bisect and on-failure settings decide what happens to the batch).
  const changes = new Array<Change>();
  for (let i = 0; i < records.items.length; i++) {
    const c = readChange(records.items[i]);
    if (c === null) {
      return handlerError("record " + i.toString() + " is not a DynamoDB stream record", "InvalidEvent");
    }
    changes.push(c);
  }

  let failed = ""; // the sequence number of the first record that failed
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    let res = eddy.tableCall("PutItem", c.auditRequest(auditTable));
    if (!res.ok) {
      eddy.log("audit " + c.eventName + " " + c.seq + ": " + res.body);
      failed = c.seq;
      break; // the mapping retries from the first failure on
    }
    res = eddy.emit(sink, c.document());
    if (!res.ok) {
      eddy.log("emit " + c.eventName + " " + c.seq + " to " + sink + ": " + res.body);
      failed = c.seq;
      break;
    }
  }
  let out = "{\"batchItemFailures\":[";
  if (failed.length > 0) out += "{\"itemIdentifier\":" + quote(failed) + "}";
  eddy.output(out + "]}");
  return 0;
}

// handlerError sets the Lambda-style error response and returns status 1.
function handlerError(message: string, errorType: string): i32 {
  eddy.log(errorType + ": " + message);
  eddy.output("{\"errorMessage\":" + quote(message) + ",\"errorType\":" + quote(errorType) + "}");
  return 1;
}

// Change is one stream record, as far as this handler needs it.
class Change {
  eventName: string = "";
  seq: string = "";
  table: string = "";
  itemKey: string = "";
  at: string = "0"; // ApproximateCreationDateTime, as its JSON number text
  newImage: Value | null = null;
  oldImage: Value | null = null;

  constructor(public keys: Value) {}

  // auditRequest is the PutItem request body writing this change's audit item.
  auditRequest(auditTable: string): string {
    let item = "{\"itemKey\":{\"S\":" + quote(this.itemKey) + "}" +
      ",\"seq\":{\"S\":" + quote(this.seq) + "}" +
      ",\"eventName\":{\"S\":" + quote(this.eventName) + "}" +
      ",\"writtenAt\":{\"N\":" + quote(this.at) + "}" +
      ",\"source\":{\"S\":" + quote(this.table) + "}" +
      ",\"keys\":{\"M\":" + this.keys.raw() + "}";
    const old = this.oldImage;
    if (old !== null) item += ",\"oldImage\":{\"M\":" + old.raw() + "}";
    const nw = this.newImage;
    if (nw !== null) item += ",\"newImage\":{\"M\":" + nw.raw() + "}";
    return "{\"TableName\":" + quote(auditTable) + ",\"Item\":" + item + "}}";
  }

  // document is the envelope emitted to the sink for this change.
  document(): string {
    let doc = "{\"event\":" + quote(this.eventName) + ",\"keys\":" + this.keys.raw();
    const nw = this.newImage;
    if (nw !== null) doc += ",\"new\":" + nw.raw();
    const old = this.oldImage;
    if (old !== null) doc += ",\"old\":" + old.raw();
    doc += ",\"at\":" + this.at + "}";
    const id = this.table + "/" + this.itemKey + "/" + this.seq;
    return "{\"op\":\"index\",\"id\":" + quote(id) + ",\"seq\":" + quote(this.seq) +
      ",\"table\":" + quote(this.table) + ",\"doc\":" + doc + "}";
  }
}

// readChange reads a stream record; null when it lacks dynamodb.Keys or
// dynamodb.SequenceNumber.
function readChange(r: Value): Change | null {
  if (r.kind != Kind.Object) return null;
  const d = r.getObject("dynamodb");
  if (d === null) return null;
  const keys = d.getObject("Keys");
  if (keys === null) return null;
  const c = new Change(keys);
  c.eventName = r.getString("eventName");
  c.seq = d.getString("SequenceNumber");
  c.table = tableName(r.getString("eventSourceARN"));
  c.itemKey = keyString(keys);
  c.newImage = d.getObject("NewImage");
  c.oldImage = d.getObject("OldImage");
  const at = d.get("ApproximateCreationDateTime");
  if (at !== null && at.kind == Kind.Number) c.at = at.raw();
  return c.seq.length > 0 ? c : null;
}

// keyString renders a key as "name=value" pairs sorted by name, joined by
// "|". S and N values are their text, B values their base64 (as DynamoDB
// JSON carries them). The same as the Go audit-trail example.
function keyString(keys: Value): string {
  // Member indexes in name order (insertion sort: a key has one or two names).
  const order = new Array<i32>(keys.names.length);
  for (let i = 0; i < order.length; i++) {
    let j = i;
    while (j > 0 && compareCodePoints(keys.names[order[j - 1]], keys.names[i]) > 0) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  let out = "";
  for (let i = 0; i < order.length; i++) {
    const v = keys.values[order[i]];
    let s = "";
    if (v.kind == Kind.Object && v.values.length == 1 && v.values[0].kind == Kind.String) {
      s = v.values[0].str; // {"S":"..."}, {"N":"..."} or {"B":"..."}
    }
    if (i > 0) out += "|";
    out += keys.names[order[i]] + "=" + s;
  }
  return out;
}

// compareCodePoints orders strings by Unicode code point, which is the
// order of their UTF-8 bytes (Go's sort.Strings). Comparing UTF-16 units
// with < would put U+E000-U+FFFF after characters beyond U+FFFF.
function compareCodePoints(a: string, b: string): i32 {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i);
    const cb = b.codePointAt(j);
    if (ca != cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

// tableName extracts NAME from arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL.
function tableName(arn: string): string {
  const i = arn.indexOf(":table/");
  if (i < 0) return "";
  const rest = arn.substring(i + 7);
  const slash = rest.indexOf("/");
  return slash < 0 ? rest : rest.substring(0, slash);
}
