// Package cwlogs keeps the recent logs of eddy's functions and serves them
// through the subset of the CloudWatch Logs API that `aws logs tail`,
// `aws logs filter-log-events`, `aws logs get-log-events` and the SDKs'
// CloudWatch Logs clients use, so a Lambda user finds a function's log where
// Lambda puts it.
//
// # What it owns
//
// A Store is the trigger host's triggers.LogSink (triggers.Deps.Logs):
// every line of every invocation (START, the guest's eddy.log calls and
// stdout/stderr, a function error as one JSON line, END, REPORT), whether
// it came from Invoke, an Event invocation or an event source mapping, is
// one log event. Names are Lambda's:
//
//	log group   /aws/lambda/NAME                      (created by the first line)
//	log stream  2006/01/02/[$LATEST]<32 hex digits>   one per instance (execution
//	            2006/01/02/[3]<32 hex digits>         environment), dated by its start
//
// Store.Handler serves DescribeLogGroups, DescribeLogStreams, GetLogEvents
// and FilterLogEvents in the JSON 1.1 protocol (POST / with X-Amz-Target:
// Logs_20140328.<Op>); errors are AWS's __type and message with HTTP 400.
// `aws logs tail --follow` (CLI v2) polls FilterLogEvents every 5 s from the
// newest timestamp it has seen and drops the eventIds it already printed;
// it does not use StartLiveTail, which eddy does not implement.
//
// # Bounds, and what is lost
//
// Logs are kept in memory only, like a tail buffer: a restart loses them.
// Each function's log group keeps at most Options.MaxEvents events (default
// 10000) and Options.MaxBytes bytes (default 4 MiB, counting each event as
// CloudWatch does: message bytes + 26); the oldest events are dropped first,
// and a stream whose events are all gone disappears. Over all functions the
// store keeps at most Options.MaxTotalBytes (default 64 MiB): past it, the
// log group written to least recently goes whole, so functions created and
// deleted without end cannot grow it. Persisting them would
// put every log line on Pebble's write path (a synced batch per line, or a
// second buffering layer), for logs whose job is to show what just happened;
// the dead-letter entries of a mapping keep each failure's log tail durably.
// Log groups of deleted functions stay until the server restarts.
//
// # Invariants
//
//  1. Within a group, events are in arrival order and their timestamps never
//     go back (a line stamped earlier than the group's newest, which
//     concurrent invocations can cause, takes the newest timestamp), so time
//     order and sequence order agree and paging by sequence misses nothing.
//  2. Sequence numbers increase over the Store's life; they are the eventId
//     and the paging tokens, so a token stays valid while events are dropped
//     (a page then starts at the oldest event kept).
//  3. One mutex guards the Store; Log holds it for an append, a query for one
//     scan of one group (at most MaxEvents events).
//
// # Caveats
//
//   - Filter patterns: terms, "quoted phrases", ?any and -excluded terms,
//     matched case-sensitively as substrings. JSON, space-delimited and
//     regex patterns are rejected with InvalidParameterException.
//   - No PutLogEvents, CreateLogGroup, retention policies, metric or
//     subscription filters, Logs Insights or StartLiveTail.
//   - FilterLogEvents searches every stream completely; searchedLogStreams
//     lists the streams the request selected.
package cwlogs
