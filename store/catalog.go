package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/uuid"
)

// CreateTable adds a table. The spec must already be validated against
// DynamoDB's rules (package api does that, where the wire names are known);
// the store assigns ID, UUID and creation time.
// spec.Region is the table's region (empty: the home region).
func (db *DB) CreateTable(spec *Table) (_ *Table, err error) {
	defer db.catalogChanged(&err) // runs after the unlock below
	db.catMu.Lock()
	defer db.catMu.Unlock()
	t := spec.clone()
	t.Region = db.region(t.Region)
	if _, ok := db.tables[keyOf(t)]; ok {
		return nil, ddberr.New(ddberr.KindResourceInUse, "Table already exists: %s", spec.Name)
	}
	t.ID = db.lastID + 1
	t.UUID = uuid.New()
	t.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := putCatalog(b, t); err != nil {
		return nil, err
	}
	if err := b.Set(lastTableIDKey, binary.BigEndian.AppendUint32(nil, t.ID), nil); err != nil {
		return nil, err
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		return nil, err
	}
	db.lastID = t.ID
	db.tables[keyOf(t)] = t
	return t, nil
}

func putCatalog(b *pebble.Batch, t *Table) error {
	v, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return b.Set(catalogKey(t.Region, t.Name), v, nil)
}

// tableKey is a table's identity in the catalog: its name within its
// region.
type tableKey struct{ region, name string }

func keyOf(t *Table) tableKey { return tableKey{t.Region, t.Name} }

// region returns r, or the home region when r is empty.
func (db *DB) region(r string) string {
	if r == "" {
		return db.home
	}
	return r
}

// HomeRegion is the region of the entries written before regions existed
// (the catalog's, and those other owners keep, such as stream descriptors
// and functions): Options.Region of the first Open that knew regions,
// recorded in the catalog so that a later --region does not move them.
func (db *DB) HomeRegion() string { return db.home }

// TableIn returns the current descriptor of the table name in region (empty:
// the home region), or nil.
func (db *DB) TableIn(region, name string) *Table {
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	return db.tables[tableKey{db.region(region), name}]
}

// Table is TableIn of the home region (tests and tools that know one).
func (db *DB) Table(name string) *Table { return db.TableIn("", name) }

// TableNamesIn returns the names of region's tables (empty: the home
// region) in byte order.
func (db *DB) TableNamesIn(region string) []string {
	region = db.region(region)
	db.catMu.RLock()
	names := make([]string, 0, len(db.tables))
	for k := range db.tables {
		if k.region == region {
			names = append(names, k.name)
		}
	}
	db.catMu.RUnlock()
	sort.Strings(names)
	return names
}

// TableNames is TableNamesIn of the home region.
func (db *DB) TableNames() []string { return db.TableNamesIn("") }

// Tables returns the descriptors of every table of every region, by
// region, then name (the TTL sweeper, backfills, the streams' upkeep).
func (db *DB) Tables() []*Table {
	db.catMu.RLock()
	out := make([]*Table, 0, len(db.tables))
	for _, t := range db.tables {
		out = append(out, t)
	}
	db.catMu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// UpdateTable is UpdateTableIn of the home region.
func (db *DB) UpdateTable(name string, fn func(t *Table) error) (*Table, error) {
	return db.UpdateTableIn("", name, fn)
}

// UpdateTableIn replaces the descriptor of region's table name with the
// result of fn, which receives a private copy to modify. fn's error aborts
// the update.
func (db *DB) UpdateTableIn(region, name string, fn func(t *Table) error) (_ *Table, err error) {
	defer db.catalogChanged(&err) // runs after the unlock below
	db.catMu.Lock()
	defer db.catMu.Unlock()
	key := tableKey{db.region(region), name}
	cur := db.tables[key]
	if cur == nil {
		return nil, ddberr.TableNotFound(name)
	}
	t := cur.clone()
	if err := fn(t); err != nil {
		return nil, err
	}
	t.Region, t.Name = cur.Region, cur.Name // the catalog's key
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := putCatalog(b, t); err != nil {
		return nil, err
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		return nil, err
	}
	db.tables[key] = t
	db.startNewBackfills(cur, t)
	return t, nil
}

// DeleteTable is DeleteTableIn of the home region.
func (db *DB) DeleteTable(name string) (*Table, error) { return db.DeleteTableIn("", name) }

// DeleteTableIn removes region's table name (empty region: the home region)
// and, in the same batch, all its items, index entries and statistics
// (range deletions: constant time). It returns the descriptor as it was.
// Writes in flight on the table finish first or fail with
// ResourceNotFoundException; table IDs are never reused, so nothing
// written under the old ID can surface in a later table of the same name.
func (db *DB) DeleteTableIn(region, name string) (_ *Table, err error) {
	defer db.catalogChanged(&err) // runs after the unlock below
	db.catMu.Lock()
	defer db.catMu.Unlock()
	key := tableKey{db.region(region), name}
	t := db.tables[key]
	if t == nil {
		return nil, ddberr.TableNotFound(name)
	}
	if t.DeletionProtection {
		return nil, ddberr.Validationf("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	for _, p := range []byte{prefixItem, prefixIndex} {
		lo := tablePrefix(p, t.ID)
		if err := b.DeleteRange(lo, tablePrefix(p, t.ID+1), nil); err != nil {
			return nil, err
		}
	}
	if err := b.Delete(statsKey(t.ID), nil); err != nil {
		return nil, err
	}
	if err := deletePITR(b, t.ID); err != nil {
		return nil, err
	}
	if err := b.Delete(catalogKey(t.Region, name), nil); err != nil {
		return nil, err
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		return nil, err
	}
	delete(db.tables, key)
	db.fences.Delete(t.ID) // no write is in flight: they hold catMu shared
	return t, nil
}

// Stats returns a table's item count and size in bytes (DynamoDB's size
// arithmetic), exact as of the last committed write.
func (db *DB) Stats(t *Table) (count, bytes int64, err error) {
	v, closer, err := db.pdb.Get(statsKey(t.ID))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer closer.Close()
	return decodeStats(v)
}

// OnCatalogChange registers f to run after every committed catalog change
// (CreateTable, UpdateTable, DeleteTable), in the caller's goroutine and
// outside the catalog lock, so f may read the catalog. The streams package
// uses it to close a disabled stream's shards at once rather than at its
// next maintenance tick. f must be safe for concurrent use.
func (db *DB) OnCatalogChange(f func()) {
	db.logMu.Lock()
	db.catalogHooks = append(db.catalogHooks, f)
	db.logMu.Unlock()
}

func (db *DB) catalogChanged(err *error) {
	if *err != nil {
		return
	}
	db.logMu.RLock()
	hooks := db.catalogHooks
	db.logMu.RUnlock()
	for _, f := range hooks {
		f()
	}
}
