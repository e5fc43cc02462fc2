package global

import (
	"context"
	"testing"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// TestCollectTombstones: a delete's tombstone is kept until it is older
// than TombstoneTTL, then removed; an item's meta is never removed.
func TestCollectTombstones(t *testing.T) {
	db, tbl, m := tombstoneTable(t, attr.TypeS, time.Hour)
	ctx := context.Background()
	put := func(pk string, del bool) {
		t.Helper()
		_, err := db.Write(ctx, store.WriteOptions{}, store.Mutation{Table: tbl, Key: attr.Item{"pk": attr.S(pk)},
			Apply: func(attr.Item) (attr.Item, error) {
				if del {
					return nil, nil
				}
				return attr.Item{"pk": attr.S(pk), "v": attr.S("x")}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("kept", false)
	put("gone", false)
	put("gone", true)
	metaOf := func(pk string) (meta, bool) {
		md, ok, err := m.getMeta(m.itemMetaKey(tbl, attr.Item{"pk": attr.S(pk)}))
		if err != nil {
			t.Fatal(err)
		}
		return md, ok
	}
	if md, ok := metaOf("gone"); !ok || !md.Deleted {
		t.Fatalf("no tombstone after the delete: %+v %v", md, ok)
	}
	if n, err := m.CollectTombstones(ctx); err != nil || n != 0 {
		t.Fatalf("a young tombstone collected: %d %v", n, err)
	}
	m.opts.TombstoneTTL = -time.Hour // every tombstone is older than the cutoff
	if n, err := m.CollectTombstones(ctx); err != nil || n != 1 {
		t.Fatalf("collected %d, %v; want 1", n, err)
	}
	if _, ok := metaOf("gone"); ok {
		t.Error("the tombstone is still there")
	}
	if md, ok := metaOf("kept"); !ok || md.Deleted {
		t.Errorf("the live item's meta: %+v %v", md, ok)
	}
}

// TestCollectTombstonesBinaryKey: the tombstone of an item whose binary
// partition key starts with 0xff (its meta key too, after the table's
// prefix) is collected like any other.
func TestCollectTombstonesBinaryKey(t *testing.T) {
	db, tbl, m := tombstoneTable(t, attr.TypeB, -time.Hour)
	ctx := context.Background()
	key := attr.Item{"pk": attr.B([]byte{0xff, 1})}
	for _, del := range []bool{false, true} {
		_, err := db.Write(ctx, store.WriteOptions{}, store.Mutation{Table: tbl, Key: key, Apply: func(attr.Item) (attr.Item, error) {
			if del {
				return nil, nil
			}
			return attr.Item{"pk": key["pk"], "v": attr.S("x")}, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := m.CollectTombstones(ctx); err != nil || n != 1 {
		t.Fatalf("collected %d, %v; want 1", n, err)
	}
}

// tombstoneTable opens an in-memory store with the global table "tombs"
// (hash key pk of type typ, replicas in us-east-1 and us-west-2) and its
// Manager, whose tombstones live ttl; both are closed at the test's end.
// NATS is never reached: the consumers wait, and nothing is published.
func tombstoneTable(t *testing.T, typ attr.Type, ttl time.Duration) (*store.DB, *store.Table, *Manager) {
	t.Helper()
	db, err := store.Open(store.Options{InMemory: true, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tbl, err := db.CreateTable(&store.Table{Name: "tombs", Hash: store.KeyElement{Name: "pk", Type: typ},
		AttrDefs: []store.KeyElement{{Name: "pk", Type: typ}}, BillingMode: "PAY_PER_REQUEST"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(db, Options{Region: "us-east-1", Regions: []string{"us-east-1", "us-west-2"}, URL: "nats://127.0.0.1:1",
		TombstoneTTL: ttl, CollectInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	m.mu.Lock()
	err = m.saveLocked("tombs", replicaSet{Replicas: []Replica{{Region: "us-east-1", Status: StatusActive}, {Region: "us-west-2", Status: StatusActive}}})
	m.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return db, tbl, m
}
