// Package worker is `eddy worker`: a process that runs event source
// mappings of an eddy server on another machine. It has the trigger host
// (package triggers, wazero) and the delivery engine (internal/delivery)
// but no storage: records come from NATS JetStream (the subjects eddy's
// relay publishes, package relay), and everything that must stay exact is
// committed in eddy.
//
// # Which mappings
//
// eddy runs in process every mapping except those of the functions named
// by `eddy serve --worker-functions NAME,...` (mappings.Options.OnWorkers).
// A worker polls GET /eddy/workers/mappings on its control endpoint for
// those, fetches each function's module from GET
// /eddy/workers/functions/NAME/code (the Lambda API's GetFunction has no
// downloadable Code.Location in eddy) and deploys it on its own host. The
// mapping's table must be relayed (`eddy relay enable TABLE`).
//
// # Lanes and order
//
// The ordering lane is the shard: one durable JetStream consumer per
// mapping and shard ("eddy-worker-<uuid>-<shard>", filter
// "eddy.<region>.<table>.<shard>"), explicit acks, MaxAckPending =
// BatchSize, and JetStream's pinned-client priority policy (group
// "workers"): at any time one worker process receives a lane's records, so
// at most one batch per lane is in flight. Every worker pulls every lane;
// the one NATS pins gets it.
//
// A record's predecessor in its shard is in its message
// (Eddy-Previous-Sequence-Number, set by the relay), and eddy keeps the
// lane's checkpoint (the last record committed). A worker delivers a
// fetched batch only from the record whose predecessor is the checkpoint,
// and only as far as the chain of predecessors is unbroken; records at or
// below the checkpoint are acked unrun; a batch that does not continue the
// checkpoint (its predecessors are still with a dead worker, not yet
// redelivered) is nacked and fetched again later. Order therefore never
// depends on timing: a child shard's records wait until its parent's
// lane has committed the parent's last record.
//
// # Effectively once
//
// A handler's table writes (PutItem, UpdateItem, DeleteItem through
// eddy.table_call) are held by the worker during the invocation and sent
// to eddy with the checkpoint in ONE call, POST /eddy/workers/commit:
// eddy evaluates them in order into a write buffer and commits them, the
// new checkpoint, the mapping's totals and any dead-letter entry in one
// synced Pebble batch, only if the lane's checkpoint is still the one the
// batch started after (else 409, nothing written). Only then does the
// worker ack the messages. A crash before the commit: nothing applied,
// the records are redelivered. A crash after it: the redelivered records
// are at or below the checkpoint and acked without running. Reads
// (GetItem, Query) go to eddy's DynamoDB API at once.
//
// # Failover
//
// A worker that dies stops pulling: NATS unpins it after the consumer's
// PinnedTTL (Options.PinnedTTL, default 5 s) and pins another worker's
// pull; the dead worker's unacked records are redelivered after AckWait
// (Options.AckWait, default 10 s; a live worker extends it with
// in-progress acks while its batch runs). So a dead worker's lanes move
// within AckWait.
//
// # Where a lane starts
//
// A TRIM_HORIZON mapping's lane starts at the first record the relay
// published for its shard (the one whose predecessor is 0): the relay's
// stream must still hold it (7 days by default). A LATEST mapping's lane
// starts at what is published after its consumer is made. Messages
// without the relay's sequence headers (published by an eddy before
// relays named predecessors) cannot be ordered: they are dropped (Term),
// with a warning in the log.
//
// # Not on workers
//
// Tumbling windows and ParallelizationFactor > 1 (one lane per shard) are
// not supported on workers: such mappings are skipped, with an error in the
// log. FilterCriteria are (records they reject settle with their batch,
// unsent, as in eddy). Emits (eddy.emit) fail on workers. A write's
// response to the guest is {} (the write is evaluated at the commit, so
// ReturnValues and a condition's failure are not seen by the handler: a
// refused write fails the batch, which is retried as a function error).
package worker
