// Package outbox makes what a handler emits as trustworthy as its table
// writes: during a stream invocation (an event source mapping) each emitted
// document is buffered, committed in the same Pebble batch as the lane's
// checkpoint (a failed invocation's emits are dropped with it), and
// delivered from there to the sink's Target by one loop per sink, in
// outbox order, in batches, with backoff, from a durable position, until
// the target has it.
//
// A document carries a stable ID and a version that only grows (the
// stream record's sequence number), so a target that supports it applies
// each version at most once and never lets an older one overwrite a newer
// one (Elasticsearch's version_type=external, JetStream's Nats-Msg-Id,
// the embedded index's stored versions).
//
// The kinds of target (the embedded search index, Elasticsearch/OpenSearch
// _bulk, NATS JetStream, files, webhooks) live in package sinks and its
// subpackages; this package knows them only as Target.
package outbox
