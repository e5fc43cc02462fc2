// Package store is eddy's storage engine: tables, items, expressions (in
// store/expr) and, with the indexes issue, secondary indexes, all in one
// Pebble database on local disk.
//
// # Basics
//
// Open a DB with Options; look tables up with Table; read with Get (and the
// scan functions); change items only through Write, which takes one or more
// Mutations and applies them atomically. Each Mutation's Apply closure sees
// the committed current item under the item's lock and decides the new one,
// which is where conditions and update expressions are evaluated.
//
// Other packages keep their state in the same database, each in its own key
// spaces: DB.KeySpace(SpaceStreamRecords), DB.KeySpace(SpaceDLQ), ... return
// a KeySpace handle whose keys are relative to the space's prefix byte (Get,
// NewIter, Scan, Write, and Set/Delete/DeleteRange into a Batch). A Batch
// holds writes of several spaces that commit together; DB.Write hands its
// own to ChangeLog.Prepare and WriteOptions.Extra, so a stream record, a
// checkpoint or a dead letter commits with the items it describes. Package
// store is the only importer of Pebble.
//
// # Invariants
//
//  1. One write, one Pebble batch: the item, its statistics delta, its index
//     entries, the change records of every registered ChangeLog (streams),
//     and any Extra records (trigger checkpoints, dead letters) commit
//     together or not at all.
//  2. A write is acknowledged only after its batch is synced to the WAL;
//     concurrent writers share fsyncs through Pebble's group commit.
//  3. Writers of the same item are serialized (stripe locks, see locks.go);
//     writers of different items run in parallel. Multi-item writes lock in
//     a global order, so they cannot deadlock.
//  4. A write whose new item equals the old one (DynamoDB value semantics)
//     changes nothing and emits no change record.
//  5. Table IDs are never reused: DeleteTable range-deletes a table's keys in
//     the batch that drops it, and nothing written under an old ID can
//     surface in a new table of the same name.
//  6. No owner can address another's keys: every prefix byte is registered
//     once (keys.go), a KeySpace reads and writes only under its own, and
//     store's own spaces (catalog, items, stats, indexes, tokens) are not
//     handed out (TestKeySpaceCannotEscape, TestOnlyStoreImportsPebble).
//
// Key and value layouts are drawn in keys.go (the registry of spaces and
// store's own layouts), on KeySpace (the table of spaces) and in
// attr/binary.go (the item encoding).
//
// # Background work
//
// The DB runs two kinds of background work, both through
// internal/lifecycle and both logged to Options.Logger when they fail:
// index backfills (UpdateTable starts one for each index it adds CREATING;
// ResumeBackfills restarts those a restart interrupted; Close stops them)
// and the Time to Live sweeper (StartTTLSweeper; its owner stops it before
// closing the change logs its deletions go to).
//
// Point-in-time recovery and backups add two more (pitr.go, backup.go):
// restores, which fill a new CREATING table from a snapshot or a backup's
// checkpoint by ingesting sstables (ingest.go; one interrupted by Close or
// a crash is dropped at the next Open, with what it ingested), and the compaction of each PITR history into its base image every
// minute (CompactPITR).
//
// # Failures of the disk
//
// A storage failure is loud and never acknowledged (health.go, diskfs.go,
// dirwatch.go). The store enters a failed state, logs it once, refuses
// every write at once with an InternalServerError (errors.Is
// ErrStorageFailed) before it takes a lock or reaches Pebble, and reports
// it through Health (/healthz answers 503 with the reason). Reads keep
// working. The causes and how each ends:
//
//   - a WAL write, sync or creation that fails (ENOSPC, EIO): until
//     restart. Pebble cannot survive a WAL error (it panics on the next
//     commit or WAL rotation that finds it, one holding its commit mutex,
//     the other an unrecoverable "unlock of unlocked mutex"), so diskFS
//     hides it from Pebble: it enters the failed state inside the failing
//     call, then drops every later WAL write, leaving on disk what a crash
//     at that moment would have (every acknowledged write, then a torn
//     tail that recovery expects). Commits Pebble completes after that are
//     refused by DB.commit. The restart replays the WAL.
//   - the data directory removed (its EDDY marker's link count drops to 0):
//     until restart, which then refuses the missing directory. Checked
//     after every commit, so a write synced into a WAL that no longer has a
//     name is not acknowledged, and every second when idle.
//   - a flush that fails while table writes fail (a full disk): writes are
//     refused, since they would fill the memtables and hang in a write
//     stall, until a flush succeeds; Pebble retries the flush
//     on its own, and diskFS spaces its retries (10 ms doubling to 2 s).
//     The store recovers by itself once space is freed, and logs that.
//
// A write answered with the error may still have reached the memtable
// (Pebble applies a batch before its WAL sync reports): DynamoDB's
// InternalServerError means the outcome is unknown, and such a write is
// visible to reads until the restart, after which it is present only if
// the WAL holds it.
//
// # Start rules
//
// Open creates a database only where it cannot hide a lost one: a missing
// directory is refused unless Options.Init (eddy serve --init), an empty
// one gets a new database, a directory with an EDDY marker is opened (and
// refused if Pebble's files are gone), and one with other files and no
// marker is refused. EDDY records the database's ID, logged at every open.
// prepareDir in datadir.go has the whole table.
//
// # Caveats
//
// A failing fsync of the data directory itself (EIO) during a WAL rotation
// still panics inside Pebble and ends the process; an error writing the
// MANIFEST is fatal to Pebble too (logged, then the process ends, as Pebble
// expects). The restart recovers from the WAL in both cases.
//
// Validation of request shapes (the "1 validation error detected" family)
// lives in package api, where the wire member names are known; the store
// validates what every path must respect (keys, sizes, types).
package store
