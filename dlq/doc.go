// Package dlq is eddy's dead-letter store for event source mappings: every
// batch a mapping gives up on (retries exhausted, record too old) becomes
// one Entry, kept in its key space (store.SpaceDLQ; layout on Store), delivered
// to the mapping's OnFailure destination, inspectable and redrivable.
//
// # What it owns
//
//   - Entries: Lambda's on-failure invocation record (Record, field for
//     field), plus what Lambda does not keep: the stream records themselves
//     (as the function received them), the last error message and the log
//     tail of the last invocation.
//   - The outbox: one key per entry whose external destination has not
//     acknowledged it.
//   - Redrive state: how often an entry was redriven, with what outcome.
//   - Retention: entries older than Options.Retention (default 14 days) are
//     trimmed in the background, delivered or not.
//
// Package mappings appends entries (Store.Append into the checkpoint's
// batch) and owns the redrive operation (mappings.Manager.Redrive, built on
// BeginRedrive, Redriving.Commit and Redriving.Finish); the server opens
// the Store with destinations.New as Options.Destinations, mounts
// NewHandler(store, manager) under /eddy/dlq/ and closes it. dlq imports
// neither, nor the AWS SDK: the SQS, SNS, S3 and NATS clients are in
// package dlq/destinations behind the Senders interface.
//
// # Invariants
//
//  1. Exactly one entry per discarded batch. The entry is set in the same
//     synced Pebble batch as the lane checkpoint that skips its records, so
//     a crash either loses both (the batch is processed again after
//     restart, and may be discarded again: one entry) or keeps both.
//     TestCrashExactlyOnce kills eddy serve mid-way and checks this.
//  2. The built-in store is the outbox. An external destination is sent
//     to only from a committed entry; the entry is marked delivered, and
//     its outbox key deleted, in one synced batch after the send
//     succeeded. A destination outage loses nothing: sends are retried
//     with bounded exponential backoff (Options.Backoff .. MaxBackoff)
//     until they succeed, in entry order per destination.
//  3. External delivery is at-least-once: a crash between a successful
//     send and its mark re-sends that entry (at most the one in flight
//     per destination). Idempotency keys where the destination has them:
//     SQS and SNS FIFO get MessageDeduplicationId "<mapping>-<id>"
//     (standard queues and topics have none); the S3 object key ends in
//     the invocation's request ID, so a re-send overwrites the same
//     object; NATS messages carry Nats-Msg-Id for JetStream dedup.
//  4. Redrive progress is durable. Records the function processed are
//     removed from the entry in the same batch as the function's buffered
//     writes; an entry whose records all succeeded is kept with no records
//     and Redrive.State "done", and cannot be redriven again (ErrAlreadyDone).
//     An interrupted redrive (crash) leaves State "running" with only the
//     unprocessed records; Open marks such entries State "interrupted"
//     (Redrive.LastError says so) and replays nothing by itself: redriving
//     the entry again resumes with the records it still holds. The
//     invocation in flight at the crash may have run without its writes
//     committing: its records are kept and sent again (at-least-once).
//     TestCrashDuringRedrive kills eddy serve mid-redrive and checks this.
//  5. Pending deliveries survive restarts: the outbox loop starts from
//     the 'o' keys, so entries not yet acknowledged are sent after Start
//     (TestRestartResumes).
//
// # Destinations
//
//	arn:eddy:dlq:<region>:<account>:<name>     the built-in store only
//	arn:aws:sqs:<region>:<account>:<queue>      SendMessage, body = Record
//	arn:aws:sns:<region>:<account>:<topic>      Publish, message = Record
//	arn:aws:s3:::<bucket>                        PutObject aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/
//	                                             YYYY-MM-DDTHH.MM.SS-<request id>, body = Record + "payload":{"Records":[...]}
//	arn:eddy:nats:<region>:<account>:<subject> core NATS publish + flush, body as for S3
//
// SQS, SNS and S3 use aws-sdk-go-v2 (package dlq/destinations) with the
// default credential chain (or Options.AWSCredentials) and the endpoint in Options.AWSEndpoint or
// $EDDY_DLQ_AWS_ENDPOINT (any compatible server; S3 then uses path style).
// NATS uses Options.NATSURL or $EDDY_DLQ_NATS_URL. eddy serve sets them
// with --dlq-aws-endpoint and --dlq-nats-url (a flag wins over its
// variable), and Options.Retention with --dlq-retention.
//
// # HTTP and CLI
//
// NewHandler documents the JSON endpoints (list, show, redrive one or
// all, purge); "eddy dlq list|show|redrive|purge" is their client.
//
// # Differences from Lambda
//
//   - Lambda drops the failure when a mapping names no destination; eddy
//     keeps it in the built-in store (eddy triggers show says so). Every
//     entry is kept in the built-in store whatever the destination.
//   - Lambda keeps only metadata for SQS/SNS destinations; eddy also keeps
//     the records, so they can be redriven.
//   - Redrive has no Lambda counterpart. It applies the mapping's current
//     function, BatchSize, filters, partial batch responses, bisect and
//     MaximumRetryAttempts (2 when unbounded), not MaximumRecordAgeInSeconds
//     nor tumbling windows.
//   - The S3 key's trailing UUID is the request ID, not a random UUID.
//
// # Caveats
//
//   - Redrive runs in the HTTP request: a long redrive holds the request;
//     cancelling the request stops it (progress so far is kept).
//   - The outbox scans at most 1000 pending keys per pass; an entry whose
//     destination is backing off waits with all later entries of that
//     destination.
//   - Failed attempts are counted in the entry without fsync (informational).
//   - Entry IDs are never reused (the highest is kept across purges).
//   - Trimming deletes pending deliveries of expired entries with them.
//   - Unknown AWS credentials make every send fail (retried with backoff).
package dlq
