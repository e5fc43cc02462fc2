// Package global replicates global tables (DynamoDB's version 2019.11.21,
// multi-Region eventual consistency) between eddy servers, each a region,
// over one NATS JetStream system.
//
// # Basics
//
// A Manager (Open) serves one region: the server's --region. It joins the
// store's write path as a store.ChangeLog; every local write to a global
// table gets, in the write's own Pebble batch,
//
//  1. a timestamp from a hybrid clock: after the wall clock, after the last
//     one handed out, and after the item's last write (so a local write
//     always wins over the one it overwrites, whichever region made it);
//  2. the item's meta, (timestamp, region, deleted), in store.SpaceGlobal,
//     never in the item (clients never see it); a delete leaves it as a
//     tombstone;
//  3. an outbox entry with the new image (or the delete).
//
// The publisher drains the outbox onto JetStream (stream EDDY_GLOBAL,
// subject <prefix>.chg.<table>.<origin>, Nats-Msg-Id <region>/<seq>) and
// deletes what was acknowledged. For each other region of a table's
// replica set, a consumer (an ordered JetStream consumer, started after
// the checkpoint) applies that region's changes: the change is written if
// its (timestamp, region) is newer than the item's meta (last writer wins),
// and the checkpoint (the JetStream stream sequence) commits in the same
// batch either way. Applied writes go through store.DB.Write like any other
// (indexes, statistics, the table's stream) as a store.Principal of type
// PrincipalType, which the change log skips: they are never published again.
//
// # Invariants
//
//  1. A change is published only after its write is durable, and at least
//     once: its outbox entry goes with the write, and leaves only after
//     JetStream acknowledged it.
//  2. A change is applied at most once per region in effect: a redelivered
//     one is no newer than the meta it left.
//  3. Every replica converges to the same item, the write with the greatest
//     (timestamp, region), whatever order changes arrive in: applying is a
//     join (max) on a total order, and every write is delivered to every
//     replica (JetStream keeps it MaxAge, 24h by default).
//  4. A tombstone stays as long as a write older than it may still arrive:
//     at least the stream's MaxAge after the delete. They are collected
//     after Options.TombstoneTTL (2 × MaxAge, 48h, by default), each under
//     its item's lock and only while it is still the item's last write.
//
// # Locks
//
// Manager.mu guards the replica sets and consumers. Prepare takes it inside
// the store's write path (item locks, the catalog lock held): so m.mu is
// never held while calling anything that takes a store lock (DB.Write,
// DB.TableIn, the DynamoDB API); it may be held across a KeySpace write. A
// control lock's lease (ctllock.go) has its own mutex, taken before m.mu.
// Manager.stampMu (the local writes stamped and not yet committed, for a
// re-backfill's timestamp; sweep.go) is a leaf: Prepare takes it under the
// item locks, and nothing is called while it is held.
//
// # Control plane
//
// UpdateTable's ReplicaUpdates (UpdateReplica) record the replica CREATING
// (or DELETING) at once and continue in the background, again after a
// restart: a NATS request to the target region creates the table there from
// this region's DescribeTable (same keys, indexes, billing, stream), then
// a backfill publishes a snapshot of every item (each read with its meta
// under the item's lock) and every tombstone, then the replica is marked
// ACTIVE and the replica set sent to every replica, each of which starts
// consuming the regions it does not consume yet. A table's Time to Live
// setting is shared by its replicas (ttl.go): a change in one region is sent
// to the others, and a new replica gets it before it turns ACTIVE. A
// replica's overrides (ReplicaUpdates Update: read capacity, indexes' read
// capacity, table class; settings.go) live in the replica set, and its
// region applies them to its table with UpdateTable (control op "settings").
//
// Control changes of a table (replica changes, settings, TTL, DeleteTable
// of a replica) are serialized across regions by a key per table in the
// JetStream key-value bucket <Stream>_CTL (ctllock.go), a lease its holder
// renews while the change runs, taken over once not renewed for
// Options.ControlLockLease (its region gone). A consumer that
// finds changes trimmed from the stream before it applied them (a region
// behind by more than MaxAge) asks the origin for a re-backfill
// (resync.go), and the other regions too; the deletes whose tombstones are
// gone are told from what the snapshots lack (sweep.go).
//
// # Caveats
//
// A DeleteTable of a replica removes it from the replica set (watchCatalog)
// without the table going DELETING for the others first. The 2017.11.29
// calls are not built. Multi-Region strong consistency (MRSC) is
// strong.go's: a write published synchronously on a per-item subject with
// an expected last sequence (several as one atomic batch), one consumer per
// table applying the stream's order, and a read barrier. A write older than
// a delete, published only after the delete's tombstones were collected (an
// outbox held longer than TombstoneTTL), brings the item back everywhere;
// two regions both behind by more than TombstoneTTL may bring deleted items
// back to each other.
package global
