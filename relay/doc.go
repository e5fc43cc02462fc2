// Package relay publishes tables' change records to NATS JetStream, so
// consumers on other machines read eddy's streams from a distributed log.
// A relay is enabled per table (the /eddy/relays API, `eddy relay enable
// TABLE`); from then on every record of every stream of the table is
// published once, shard by shard, parents before children.
//
// # Subjects and messages
//
// One subject per table and shard, in one JetStream stream (Options.Stream,
// default "EDDY", created when missing with the subjects
// "<prefix>.<region>.>"):
//
//	<prefix>.<region>.<table>.<shard ID>      e.g. eddy.us-east-1.orders.shardId-17650000000000000001-00000003
//
// prefix is Options.SubjectPrefix (default "eddy"). A subject token cannot
// hold '.', and DynamoDB table names may: each '.' of a table (or region)
// becomes "%2E" ('%' is not allowed in table names, so the mapping is
// reversible: orders.v2 → orders%2Ev2). A consumer of one table subscribes
// to "eddy.us-east-1.orders.*".
//
// The body is the record exactly as GetRecords returns it (one element of
// its "Records" array, streams.AppendRecordJSON). Headers:
//
//	Nats-Msg-Id                <stream ARN>/<sequence number>: JetStream drops a message whose ID it
//	                           stored within the stream's duplicates window
//	Eddy-Stream-Arn            the stream's ARN
//	Eddy-Table                 the table's name
//	Eddy-Shard-Id              the shard
//	Eddy-Parent-Shard-Id       its parent (absent for a stream's first shards)
//	Eddy-Shard-Origin          INITIAL (a stream's first shards), ROLLOVER (the parent was closed and
//	                           continued in one child with its hash range) or SPLIT (the parent's range
//	                           was halved between two children); absent when the parent is trimmed away
//	Eddy-Shard-Closed          true when the shard was already closed when the record was published
//	Eddy-Event-Name            INSERT, MODIFY or REMOVE
//	Eddy-Sequence-Number       the record's sequence number (21 digits, as on the wire)
//	Eddy-Previous-Sequence-Number  the sequence number of the record published before it in the shard
//	                           (000000000000000000000 for the first): the same after a republish, as the
//	                           position keeps the last record acknowledged; trigger workers (package worker)
//	                           run a batch only when it continues their checkpoint
//
// # Guarantees
//
// Positions. A relay's position in each shard (the last sequence number
// published) is committed in Pebble only after JetStream acknowledged
// every record up to it: an outbox, as the sinks' (package outbox) and the
// dead letters' (package dlq). Records are published asynchronously, up
// to Options.MaxInFlight per shard, and positions advance in sequence
// order only, over the acknowledged prefix. A crash (or a failed publish)
// therefore loses nothing: what was published but not committed is
// published again, with the same Nats-Msg-Id, and the server drops it when
// the first copy is within the stream's duplicates window
// (Options.Duplicates, default 10 minutes, set on the stream eddy
// creates). Effectively once = at-least-once publishing + the server's
// deduplication; an eddy that stays down longer than the window between
// an ack and its commit republishes up to MaxInFlight records per shard
// that consumers see twice (same Nats-Msg-Id and Eddy-Sequence-Number).
//
// Order. A shard is read in sequence order and published on one
// connection, so its records reach the stream in order; a child shard is
// published only once its parent is finished (every record acknowledged
// and the end committed), so within the JetStream stream every item's
// changes appear in the order they were made, across rollovers and
// splits. One exception: a record whose publish fails while later ones in
// the window succeed (a server-side error for that one message) is
// published again after them; its Eddy-Sequence-Number tells.
//
// Retention. Stream records live 24 hours (streams.Options.Retention). A
// relay that falls further behind (NATS down for a day) finds its position
// trimmed: the records in between are lost to it. It says so: a warning
// logged once, state BEHIND_RETENTION in its status, and the trimmed span
// (shard, from, to, when) kept in its status until it is disabled; it
// resumes at the oldest record still readable.
//
// NATS down. Publishing fails, the relay's status says FAILING with the
// error, and it retries with backoff (Options.RetryBackoff doubling up to
// MaxRetryBackoff) from its committed position; nothing is skipped.
//
// # Key layout (store.SpaceRelay, 0x50; keys relative to the space)
//
//	'c' table                  a relay: its Config, JSON
//	'p' table 0x00 shard ID    a shard's position: {"Stream","Pos","Done","Published"}, JSON
//	't' table                  totals and trims: {"Retired","Trimmed":[...]}, JSON
//
// Table names hold no 0x00, so a table's positions are one key range.
package relay
