package store

import "context"

// Index backfills run in the DB's background group: UpdateTable starts one
// for each index it adds as CREATING, ResumeBackfills restarts those a
// restart interrupted, and Close stops them (a stopped backfill resumes on
// the next ResumeBackfills; Backfill is idempotent).

// ResumeBackfills starts, in the background, the backfill of every index
// still CREATING (one a restart interrupted). eddy's server calls it once
// after opening. It returns how many it started.
func (db *DB) ResumeBackfills() int {
	n := 0
	for _, t := range db.Tables() {
		for _, ix := range t.Indexes {
			if ix.Status == "CREATING" {
				db.startBackfill(t.Region, t.Name, ix.ID)
				n++
			}
		}
	}
	return n
}

// startNewBackfills starts the backfill of each index that is CREATING in
// the new descriptor t and absent from the old one (UpdateTable's Create).
func (db *DB) startNewBackfills(old, t *Table) {
	for _, ix := range t.Indexes {
		if ix.Status != "CREATING" || hasIndexID(old, ix.ID) {
			continue
		}
		db.startBackfill(t.Region, t.Name, ix.ID)
	}
}

func hasIndexID(t *Table, id uint16) bool {
	for _, ix := range t.Indexes {
		if ix.ID == id {
			return true
		}
	}
	return false
}

// startBackfill runs Backfill in the background; a failure other than
// the DB closing is logged (the index stays CREATING until the next
// ResumeBackfills).
func (db *DB) startBackfill(region, table string, id uint16) {
	db.bg.Go("index backfill", func(ctx context.Context) {
		if err := db.BackfillIn(ctx, region, table, id); err != nil && ctx.Err() == nil {
			db.log.Warn("index backfill failed; it resumes at the next start", "region", region, "table", table, "index", id, "err", err)
		}
	})
}
