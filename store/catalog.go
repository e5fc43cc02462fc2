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
func (db *DB) CreateTable(spec *Table) (_ *Table, err error) {
	defer db.catalogChanged(&err) // runs after the unlock below
	db.catMu.Lock()
	defer db.catMu.Unlock()
	if _, ok := db.tables[spec.Name]; ok {
		return nil, ddberr.New(ddberr.KindResourceInUse, "Table already exists: %s", spec.Name)
	}
	t := spec.clone()
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
	db.tables[t.Name] = t
	return t, nil
}

func putCatalog(b *pebble.Batch, t *Table) error {
	v, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return b.Set(catalogKey(t.Name), v, nil)
}

// Table returns the current descriptor of a table, or nil.
func (db *DB) Table(name string) *Table {
	db.catMu.RLock()
	defer db.catMu.RUnlock()
	return db.tables[name]
}

// TableNames returns all table names in byte order.
func (db *DB) TableNames() []string {
	db.catMu.RLock()
	names := make([]string, 0, len(db.tables))
	for n := range db.tables {
		names = append(names, n)
	}
	db.catMu.RUnlock()
	sort.Strings(names)
	return names
}

// UpdateTable replaces a table's descriptor with the result of fn, which
// receives a private copy to modify. fn's error aborts the update.
func (db *DB) UpdateTable(name string, fn func(t *Table) error) (_ *Table, err error) {
	defer db.catalogChanged(&err) // runs after the unlock below
	db.catMu.Lock()
	defer db.catMu.Unlock()
	cur := db.tables[name]
	if cur == nil {
		return nil, ddberr.TableNotFound(name)
	}
	t := cur.clone()
	if err := fn(t); err != nil {
		return nil, err
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := putCatalog(b, t); err != nil {
		return nil, err
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		return nil, err
	}
	db.tables[name] = t
	db.startNewBackfills(cur, t)
	return t, nil
}

// DeleteTable removes a table and, in the same batch, all its items, index
// entries and statistics (range deletions: constant time). It returns the
// descriptor as it was. Writes in flight on the table finish first or fail
// with ResourceNotFoundException; table IDs are never reused, so nothing
// written under the old ID can surface in a later table of the same name.
func (db *DB) DeleteTable(name string) (_ *Table, err error) {
	defer db.catalogChanged(&err) // runs after the unlock below
	db.catMu.Lock()
	defer db.catMu.Unlock()
	t := db.tables[name]
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
	if err := b.Delete(catalogKey(name), nil); err != nil {
		return nil, err
	}
	if err := db.commit(b, db.writeOpts); err != nil {
		return nil, err
	}
	delete(db.tables, name)
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
