package store

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/lifecycle"
)

// TTLSpec is a table's Time to Live setting. When Enabled, items whose
// AttributeName attribute is a Number of epoch seconds in the past are
// deleted by a background sweeper (SweepExpired), with the ServiceTTL
// principal, so that stream records show a service deletion.
//
// Differences from DynamoDB (documented): DynamoDB deletes expired items
// "within a few days" (typically 48 hours); eddy's sweeper runs every few
// seconds (TTLSweeper; eddy's server.Options.TTLSweepInterval). Like DynamoDB, items past their
// expiry but not yet swept are still returned by reads, and items whose
// expiry is more than five years in the past are never deleted.
type TTLSpec struct {
	Enabled       bool   `json:"enabled,omitempty"`
	AttributeName string `json:"attributeName,omitempty"`
}

// ttlMaxAge is how far in the past an expiry may lie and still be honoured:
// DynamoDB ignores TTL values more than five years old.
const ttlMaxAge = 5 * 365 * 24 * time.Hour

// Expired reports whether it carries a TTL attribute name that is a Number
// of epoch seconds at or before now (and not more than five years before).
func Expired(it attr.Item, name string, now time.Time) bool {
	v, ok := it[name]
	if !ok || v.Type() != attr.TypeN {
		return false
	}
	exp, err := attr.ParseNumber(v.Str())
	if err != nil {
		return false
	}
	nowN := attr.MustNumber(itoa64(now.Unix()))
	if exp.Cmp(nowN) > 0 {
		return false
	}
	oldest := attr.MustNumber(itoa64(now.Add(-ttlMaxAge).Unix()))
	return exp.Cmp(oldest) >= 0
}

// SweepResult reports one bounded pass of SweepExpired over a table.
type SweepResult struct {
	Scanned, Deleted int
	// Next is where the next pass resumes (nil: the pass reached the end
	// of the table and the next one starts over).
	Next []byte
}

// SweepExpired scans at most limit items of t, starting at the key from
// (nil: the table's first item), and deletes those whose TTL attribute has
// expired at now. Each deletion goes through Write with the ServiceTTL
// principal and re-checks the expiry on the item current at delete time, so
// an item updated to a later expiry (or removed) meanwhile is left alone.
// The scan reads a consistent snapshot; deletions happen after it.
func (db *DB) SweepExpired(ctx context.Context, t *Table, from []byte, limit int, now time.Time) (SweepResult, error) {
	var res SweepResult
	name := t.TTL.AttributeName
	if !t.TTL.Enabled || name == "" {
		return res, nil
	}
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return res, nil
	}
	prefix := tablePrefix(prefixItem, t.ID)
	upper := tablePrefix(prefixItem, t.ID+1)
	lower := prefix
	if from != nil && bytes.Compare(from, prefix) > 0 {
		lower = from
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		db.closeMu.RUnlock()
		return res, err
	}
	var expired []attr.Item
	for ok := it.First(); ok; ok = it.Next() {
		if res.Scanned == limit {
			res.Next = append([]byte(nil), it.Key()...)
			break
		}
		res.Scanned++
		v, err := it.ValueAndErr()
		if err != nil {
			break
		}
		item, err := attr.DecodeBinary(v)
		if err != nil {
			continue
		}
		if Expired(item, name, now) {
			expired = append(expired, t.KeyOf(item))
		}
	}
	err = it.Close()
	db.closeMu.RUnlock()
	if err != nil {
		return res, err
	}
	for _, key := range expired {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		r, err := db.Write(ctx, WriteOptions{Principal: ServiceTTL}, Mutation{
			Table: t, Key: key,
			Apply: func(old attr.Item) (attr.Item, error) {
				if old == nil || !Expired(old, name, time.Now()) {
					return old, nil // gone or renewed: leave it
				}
				return nil, nil
			},
		})
		if err != nil {
			return res, err
		}
		if r[0].Changed {
			res.Deleted++
		}
	}
	return res, nil
}

func itoa64(i int64) string { return strconv.FormatInt(i, 10) }

// ttlSweepBatch bounds the items one sweep pass reads per table; a larger
// table is swept over several passes, resuming where the last one stopped.
const ttlSweepBatch = 1000

// TTLSweeper deletes expired items of every table with TTL enabled, one
// bounded pass (at most 1000 items per table) per interval, and drops
// expired transaction token records. A failed pass is retried at the next
// interval; failures are logged at warn when the sweeper starts failing and
// at info when it recovers, not at every pass.
//
// Start one with DB.StartTTLSweeper; Stop it before the change logs the
// deletions go to close (the DB's Close also ends its loop).
type TTLSweeper struct {
	db       *DB
	interval time.Duration
	g        *lifecycle.Group
	cursor   map[uint32][]byte // per table ID: where the next pass resumes
	failing  bool
}

// StartTTLSweeper starts a sweeper that runs a pass every interval. An
// interval <= 0 starts nothing and returns nil (Stop of nil is a no-op).
func (db *DB) StartTTLSweeper(interval time.Duration) *TTLSweeper {
	if interval <= 0 {
		return nil
	}
	w := &TTLSweeper{db: db, interval: interval, cursor: map[uint32][]byte{},
		g: lifecycle.New(db.bg.Context(), "store", db.log)}
	w.g.Go("ttl sweeper", w.run)
	return w
}

// Stop ends the sweeper and waits for a pass in progress to finish.
// Idempotent.
func (w *TTLSweeper) Stop() {
	if w != nil {
		w.g.Stop()
	}
}

func (w *TTLSweeper) run(ctx context.Context) {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			err := w.pass(ctx, time.Now())
			if ctx.Err() != nil {
				return
			}
			w.report(err)
		}
	}
}

// report logs a change of state: the first failure at warn, the first
// success after failures at info.
func (w *TTLSweeper) report(err error) {
	switch {
	case err != nil && !w.failing:
		w.failing = true
		w.db.log.Warn("ttl sweep failed; retrying every interval", "interval", w.interval, "err", err)
	case err == nil && w.failing:
		w.failing = false
		w.db.log.Info("ttl sweep recovered")
	}
}

// pass sweeps each TTL-enabled table once (at most ttlSweepBatch items of
// each) and purges expired transaction tokens. An error ends the pass; the
// next one retries.
func (w *TTLSweeper) pass(ctx context.Context, now time.Time) error {
	for _, t := range w.db.Tables() {
		if !t.TTL.Enabled {
			continue
		}
		r, err := w.db.SweepExpired(ctx, t, w.cursor[t.ID], ttlSweepBatch, now)
		if err != nil {
			return err
		}
		w.cursor[t.ID] = r.Next
	}
	// Token records: up to 20 batches a pass keeps up with ~4000
	// transactions a second at the default interval.
	for i := 0; i < 20; i++ {
		n, err := w.db.PurgeTokens(now, ttlSweepBatch)
		if err != nil {
			return err
		}
		if n < ttlSweepBatch {
			break
		}
	}
	return nil
}
