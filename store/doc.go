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
// # Caveats
//
// Validation of request shapes (the "1 validation error detected" family)
// lives in package api, where the wire member names are known; the store
// validates what every path must respect (keys, sizes, types).
package store
