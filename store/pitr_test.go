package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// fakeClock is an injected Options.Now: it moves only when the test says.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// pitrTables creates the randomized workload's tables: one with a sort
// key, a global and a local index; one hash-only with a KEYS_ONLY global
// index; one without indexes.
func pitrTables(t *testing.T, db *DB) []*Table {
	t.Helper()
	s, n := attr.TypeS, attr.TypeN
	specs := []*Table{
		{Name: "orders", Hash: KeyElement{"pk", s}, Range: &KeyElement{"sk", n},
			AttrDefs: []KeyElement{{"pk", s}, {"sk", n}, {"g", s}, {"l", n}}, BillingMode: "PAY_PER_REQUEST",
			Indexes: []Index{
				{ID: 1, Name: "byL", Hash: KeyElement{"pk", s}, Range: &KeyElement{"l", n}, Projection: "ALL", Status: "ACTIVE"},
				{ID: 2, Name: "byG", Global: true, Hash: KeyElement{"g", s}, Range: &KeyElement{"sk", n}, Projection: "ALL", Status: "ACTIVE"},
			}, LastIndexID: 2},
		{Name: "users", Hash: KeyElement{"pk", s}, AttrDefs: []KeyElement{{"pk", s}, {"g", s}}, BillingMode: "PAY_PER_REQUEST",
			Indexes:     []Index{{ID: 1, Name: "byG", Global: true, Hash: KeyElement{"g", s}, Projection: "KEYS_ONLY", Status: "ACTIVE"}},
			LastIndexID: 1},
		{Name: "plain", Hash: KeyElement{"pk", s}, AttrDefs: []KeyElement{{"pk", s}}, BillingMode: "PAY_PER_REQUEST"},
	}
	var out []*Table
	for _, sp := range specs {
		tbl, err := db.CreateTable(sp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tbl)
	}
	return out
}

// model is the expected contents of each table: name → key JSON → item.
type model map[string]map[string]attr.Item

func (m model) clone() model {
	c := model{}
	for n, items := range m {
		c[n] = map[string]attr.Item{}
		for k, v := range items {
			c[n][k] = v
		}
	}
	return c
}

// jsonOf renders v as JSON with an item's attributes in name order.
func jsonOf(v any) string {
	if it, ok := v.(attr.Item); ok {
		names := make([]string, 0, len(it))
		for n := range it {
			names = append(names, n)
		}
		sort.Strings(names)
		out := "{"
		for i, n := range names {
			if i > 0 {
				out += ","
			}
			out += strconv.Quote(n) + ":" + string(attr.AppendJSON(nil, it[n]))
		}
		return out + "}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// randomWrite applies one random write (put, update, delete, or a
// transaction over several tables) to db and to m.
func randomWrite(t *testing.T, db *DB, r *rand.Rand, tables []*Table, m model) {
	t.Helper()
	mut := func(tbl *Table) (Mutation, func()) {
		pk := fmt.Sprintf("p%d", r.Intn(6))
		key := attr.Item{"pk": attr.S(pk)}
		if tbl.Range != nil {
			key["sk"] = attr.N(strconv.Itoa(r.Intn(5)))
		}
		kj := jsonOf(key)
		var nu attr.Item
		switch op := r.Intn(10); {
		case op < 2: // delete
		case op < 5: // update: keep the old attributes, change one
			nu = attr.Item{}
			for k, v := range m[tbl.Name][kj] {
				nu[k] = v
			}
			for k, v := range key {
				nu[k] = v
			}
			nu[fmt.Sprintf("a%d", r.Intn(3))] = attr.N(strconv.Itoa(r.Intn(1000)))
		default: // put
			nu = attr.Item{"v": attr.S(fmt.Sprintf("v%d", r.Intn(1e6)))}
			for k, v := range key {
				nu[k] = v
			}
			if r.Intn(3) > 0 {
				nu["g"] = attr.S(fmt.Sprintf("g%d", r.Intn(3)))
			}
			if r.Intn(2) > 0 {
				nu["l"] = attr.N(strconv.Itoa(r.Intn(9)))
			}
		}
		apply := func(attr.Item) (attr.Item, error) { return nu, nil }
		return Mutation{Table: tbl, Key: key, Apply: apply}, func() {
			if nu == nil {
				delete(m[tbl.Name], kj)
			} else {
				m[tbl.Name][kj] = nu
			}
		}
	}
	var muts []Mutation
	var effects []func()
	n := 1
	if r.Intn(4) == 0 {
		n = 2 + r.Intn(3) // a transaction
	}
	seen := map[string]bool{}
	for len(muts) < n {
		mu, eff := mut(tables[r.Intn(len(tables))])
		if k := mu.Table.Name + jsonOf(mu.Key); !seen[k] {
			seen[k] = true
			muts, effects = append(muts, mu), append(effects, eff)
		}
	}
	if _, err := db.Write(ctx, WriteOptions{}, muts...); err != nil {
		t.Fatal(err)
	}
	for _, e := range effects {
		e()
	}
}

// readAll returns every item of a table, or every entry of one of its
// indexes, as sorted JSON.
func readAll(t *testing.T, db *DB, tbl *Table, ix *Index) []string {
	t.Helper()
	var out []string
	spec := &ReadSpec{Table: tbl, Index: ix}
	for {
		page, err := db.Read(ctx, spec, func(r Row) error {
			out = append(out, jsonOf(r.Item))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !page.More {
			break
		}
		spec.Start = page.LastKey
	}
	sort.Strings(out)
	return out
}

// expected renders a model table (and, with ix, its index entries) as
// readAll does.
func expected(tbl *Table, ix *Index, items map[string]attr.Item) []string {
	var out []string
	for _, it := range items {
		if ix != nil {
			if it = ix.Entry(tbl, it); it == nil {
				continue
			}
		}
		out = append(out, jsonOf(it))
	}
	sort.Strings(out)
	return out
}

func waitRestored(t *testing.T, db *DB, name string) *Table {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tbl := db.TableIn("", name)
		if tbl == nil {
			t.Fatalf("restored table %s vanished (its restore failed)", name)
		}
		if tbl.Restore != nil && !tbl.Restore.InProgress {
			return tbl
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore of %s not finished", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func restoreSpec(src *Table, name string) *Table {
	spec := src.clone()
	spec.Name, spec.PITR, spec.Restore = name, PITRSpec{}, &RestoreInfo{SourceTableArn: "arn:" + src.Name}
	return spec
}

func checkRestored(t *testing.T, db *DB, src *Table, restored *Table, want map[string]attr.Item, what string) {
	t.Helper()
	if got, exp := readAll(t, db, restored, nil), expected(src, nil, want); jsonOf(got) != jsonOf(exp) {
		t.Fatalf("%s: table %s restored\n got %v\nwant %v", what, src.Name, got, exp)
	}
	if len(restored.Indexes) != len(src.Indexes) {
		t.Fatalf("%s: %s restored with %d indexes, want %d", what, src.Name, len(restored.Indexes), len(src.Indexes))
	}
	for i := range restored.Indexes {
		ix := &restored.Indexes[i]
		if got, exp := readAll(t, db, restored, ix), expected(restored, ix, want); jsonOf(got) != jsonOf(exp) {
			t.Fatalf("%s: index %s of %s restored\n got %v\nwant %v", what, ix.Name, src.Name, got, exp)
		}
		if n, _, err := db.IndexStats(restored, ix); err != nil || n != int64(len(expected(restored, ix, want))) {
			t.Fatalf("%s: index %s of %s: count %d (%v), want %d", what, ix.Name, src.Name, n, err, len(expected(restored, ix, want)))
		}
	}
	if n, _, err := db.Stats(restored); err != nil || n != int64(len(want)) {
		t.Fatalf("%s: %s restored: ItemCount %d (%v), want %d", what, src.Name, n, err, len(want))
	}
}

// TestPITRRandomized: puts, updates, deletes and transactions over three
// tables with indexes; the exact contents recorded at 20 random instants;
// after a restart, a restore of each table to each instant equals what was
// recorded, indexes and counts included. Then the clock passes the
// recovery period of the first instants: they are refused
// (InvalidRestoreTimeException), and after the history older than the
// period is folded into the base images, the later instants still restore
// exactly.
func TestPITRRandomized(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	clock := newFakeClock()
	dir := t.TempDir()
	open := func() *DB {
		db, err := Open(Options{Dir: dir, NoSync: true, Now: clock.now})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	tables := pitrTables(t, db)
	m := model{}
	for _, tbl := range tables {
		m[tbl.Name] = map[string]attr.Item{}
	}
	// Items before PITR is enabled: they reach the restores through the
	// base image.
	for i := 0; i < 30; i++ {
		randomWrite(t, db, r, tables, m)
	}
	for _, tbl := range tables {
		if _, err := db.SetPITR(ctx, "", tbl.Name, true, 1); err != nil {
			t.Fatal(err)
		}
		// The base copy runs in the background: a close before it is
		// done would restart it at the next Open, which moves the
		// earliest restorable time past the recorded instants.
		if err := db.WaitPITR(ctx, "", tbl.Name); err != nil {
			t.Fatal(err)
		}
	}
	const writes, instants = 400, 20
	at := map[int]bool{}
	for len(at) < instants/2 { // half in each half of the writes
		at[r.Intn(writes/2)] = true
	}
	for len(at) < instants {
		at[writes/2+1+r.Intn(writes/2-1)] = true
	}
	type snap struct {
		at time.Time
		m  model
	}
	var snaps []snap
	for i := 0; i < writes; i++ {
		clock.advance(time.Duration(1+r.Intn(3)) * time.Millisecond)
		randomWrite(t, db, r, tables, m)
		if at[i] {
			clock.advance(time.Millisecond / 2)
			snaps = append(snaps, snap{clock.now(), m.clone()})
		}
		if i == writes/2 {
			clock.advance(2 * time.Hour) // a gap: the second half is fold material
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer func() { db.Close() }()

	restore := func(i int, s snap, what string) {
		for _, src := range tables {
			name := fmt.Sprintf("%s-%s-%d", src.Name, what, i)
			if _, err := db.RestoreAsOf("", src.Name, s.at, restoreSpec(db.TableIn("", src.Name), name)); err != nil {
				t.Fatalf("%s: restore %s to instant %d: %v", what, src.Name, i, err)
			}
			restored := waitRestored(t, db, name)
			checkRestored(t, db, src, restored, s.m[src.Name], fmt.Sprintf("%s instant %d", what, i))
			if _, err := db.DeleteTable(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, s := range snaps {
		restore(i, s, "restart")
	}

	// Move the clock so that the recovery period (1 day) starts between
	// the first and second halves, and fold.
	half := 0
	for half < len(snaps) && snaps[half].at.Before(snaps[0].at.Add(time.Hour)) {
		half++
	}
	clock.advance(snaps[half].at.Sub(clock.now()) + 24*time.Hour - time.Minute)
	if err := db.CompactPITR(ctx); err != nil {
		t.Fatal(err)
	}
	for i, s := range snaps {
		if i < half {
			_, err := db.RestoreAsOf("", tables[0].Name, s.at, restoreSpec(tables[0], "too-old"))
			if !errors.Is(err, &ddberr.Error{Kind: ddberr.KindInvalidRestoreTime}) {
				t.Fatalf("instant %d is past the recovery period: %v, want InvalidRestoreTimeException", i, err)
			}
			continue
		}
		restore(i, s, "folded")
	}
	// The history older than the period is gone: only the base stands for it.
	for _, tbl := range tables {
		mt, _, err := db.readMeta(db.pdb, tbl.ID)
		if err != nil || mt.BaseAt < snaps[half-1].at.UnixNano() {
			t.Fatalf("%s: base at %v (%v), want past instant %d", tbl.Name, time.Unix(0, mt.BaseAt), err, half-1)
		}
	}
}

// TestTableAsOfAndChangedItems: the two reads exports are built on: the
// table as of an instant, and every item changed between two, once, with
// its last state.
func TestTableAsOfAndChangedItems(t *testing.T) {
	clock := newFakeClock()
	db, err := Open(Options{InMemory: true, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl := newTable(t, db, "t")
	item := func(pk, v string) attr.Item { return attr.Item{"pk": attr.S(pk), "v": attr.S(v)} }
	write := func(muts ...Mutation) {
		t.Helper()
		clock.advance(time.Millisecond)
		if _, err := db.Write(ctx, WriteOptions{}, muts...); err != nil {
			t.Fatal(err)
		}
	}
	del := func(pk string) Mutation {
		return Mutation{Table: tbl, Key: attr.Item{"pk": attr.S(pk)}, Apply: func(attr.Item) (attr.Item, error) { return nil, nil }}
	}
	write(put(tbl, item("a", "1")), put(tbl, item("b", "1"))) // before PITR: the base
	if err := db.TableAsOf(ctx, "", "t", clock.now(), func(attr.Item) error { return nil }); !errors.Is(err, &ddberr.Error{Kind: ddberr.KindPointInTimeRecoveryUnavailable}) {
		t.Fatalf("TableAsOf without PITR: %v", err)
	}
	if _, err := db.SetPITR(ctx, "", "t", true, 35); err != nil {
		t.Fatal(err)
	}
	write(put(tbl, item("a", "2")))
	clock.advance(time.Millisecond)
	t1 := clock.now()
	write(del("b"), put(tbl, item("c", "1"))) // one transaction
	write(put(tbl, item("a", "3")))
	clock.advance(time.Millisecond)
	t2 := clock.now()

	var got []string
	if err := db.TableAsOf(ctx, "", "t", t1, func(it attr.Item) error { got = append(got, jsonOf(it)); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if want := []string{`{"pk":{"S":"a"},"v":{"S":"2"}}`, `{"pk":{"S":"b"},"v":{"S":"1"}}`}; jsonOf(got) != jsonOf(want) {
		t.Fatalf("TableAsOf(t1) = %v, want %v", got, want)
	}
	var changes []string
	if err := db.ChangedItems(ctx, "", "t", t1, t2, func(d ItemDiff) error {
		nu := "null"
		if d.New != nil {
			nu = jsonOf(d.New)
		}
		changes = append(changes, jsonOf(d.Keys)+"→"+nu)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(changes) // the table's key order is the keys' hash order
	want := []string{`{"pk":{"S":"a"}}→{"pk":{"S":"a"},"v":{"S":"3"}}`, `{"pk":{"S":"b"}}→null`, `{"pk":{"S":"c"}}→{"pk":{"S":"c"},"v":{"S":"1"}}`}
	if jsonOf(changes) != jsonOf(want) {
		t.Fatalf("ChangedItems(t1, t2) = %v, want %v (each item once, with its last state)", changes, want)
	}
	if err := db.ChangedItems(ctx, "", "t", t1.Add(-time.Hour), t2, func(ItemDiff) error { return nil }); !errors.Is(err, &ddberr.Error{Kind: ddberr.KindInvalidRestoreTime}) {
		t.Fatalf("ChangedItems from before PITR was enabled: %v", err)
	}
}

// TestRestoresEmitNoChanges: restored items reach no change log (no stream
// records, as in DynamoDB), and a backup a restore is reading cannot be
// deleted (BackupInUseException).
func TestRestoresEmitNoChanges(t *testing.T) {
	db := openMem(t)
	tbl := newTable(t, db, "src")
	if _, err := db.SetPITR(ctx, "", "src", true, 1); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"a", "b", "c"} {
		if _, err := db.Write(ctx, WriteOptions{}, put(tbl, attr.Item{"pk": attr.S(pk)})); err != nil {
			t.Fatal(err)
		}
	}
	log := &recLog{ks: db.KeySpace(SpaceStreamRecords)}
	db.RegisterChangeLog(log)
	bk, err := db.CreateBackup("", "src", "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RestoreBackup(bk, restoreSpec(tbl, "fromBackup")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RestoreAsOf("", "src", time.Now(), restoreSpec(tbl, "asOf")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fromBackup", "asOf"} {
		if n, _, err := db.Stats(waitRestored(t, db, name)); err != nil || n != 3 {
			t.Fatalf("%s: %d items (%v)", name, n, err)
		}
	}
	if len(log.prepared) != 0 {
		t.Fatalf("restores reached the change log: %v", log.prepared)
	}
	db.backupMu.Lock()
	db.inUse[bk.ID]++ // as a restore reading it holds it
	db.backupMu.Unlock()
	if _, err := db.DeleteBackup(bk.ID); !errors.Is(err, &ddberr.Error{Kind: ddberr.KindBackupInUse}) {
		t.Fatalf("DeleteBackup of a backup in use: %v", err)
	}
	db.backupMu.Lock()
	db.inUse[bk.ID]--
	db.backupMu.Unlock()
	if _, err := db.DeleteBackup(bk.ID); err != nil {
		t.Fatal(err)
	}
	if b, err := db.BackupByID(bk.ID); err != nil || b != nil {
		t.Fatalf("deleted backup still there: %v %v", b, err)
	}
}
