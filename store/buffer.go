package store

import (
	"context"
	"reflect"
	"sync"

	"github.com/eddydb/eddy/attr"
)

// WriteBuffer holds the table writes a handler makes through
// eddy.table_call during one mapping invocation. The server's item handlers
// (PutItem, UpdateItem, DeleteItem; package api) find it in their context
// with BufferFrom and, instead of committing, call Apply: the mutation is
// evaluated against the item as the buffer sees it (the committed item plus
// the writes buffered before it), its result answers the guest, and the
// mutation is kept. When the invocation succeeds the manager commits every
// kept mutation together with the checkpoint that covers the records that
// caused them, in one DB.Write; when it fails they are dropped. So a
// record that is retried or redelivered after a crash never applies its
// writes twice (effectively once).
//
// Writes to one item are collapsed into one mutation whose Apply replays
// them in order on the item current at commit time; a condition that no
// longer holds then (someone else wrote the item meanwhile) fails the
// commit and the batch is retried.
//
// GetItem and Query inside the invocation read committed state: they do
// not see the invocation's own buffered writes.
type WriteBuffer struct {
	db *DB

	mu    sync.Mutex
	items map[string]*pending
	order []string
}

type pending struct {
	table *Table
	key   attr.Item
	base  attr.Item // the committed item the buffered writes were applied to
	read  *ItemRead // base, as read (the commit reads it again only if written since)
	cur   attr.Item // the item after the buffered writes
	fns   []func(attr.Item) (attr.Item, error)
}

// NewWriteBuffer returns an empty buffer whose first read of each item
// comes from db.
func NewWriteBuffer(db *DB) *WriteBuffer { return &WriteBuffer{db: db} }

type bufferKey struct{}

// WithBuffer returns a context whose item writes go to b (see BufferFrom).
func WithBuffer(ctx context.Context, b *WriteBuffer) context.Context {
	return context.WithValue(ctx, bufferKey{}, b)
}

// BufferFrom returns the write buffer ctx carries (WithBuffer), or nil:
// then writes commit at once.
func BufferFrom(ctx context.Context) *WriteBuffer {
	b, _ := ctx.Value(bufferKey{}).(*WriteBuffer)
	return b
}

func itemID(t *Table, key attr.Item) string {
	b := append([]byte(t.Name), 0)
	b = attr.AppendKey(b, key[t.Hash.Name])
	if t.Range != nil {
		b = attr.AppendKey(b, key[t.Range.Name])
	}
	return string(b)
}

// Apply evaluates m against the buffered view of its item and keeps it.
// The Result is what a commit at this point would report.
func (b *WriteBuffer) Apply(m Mutation) (Result, error) {
	key := m.Table.KeyOf(m.Key)
	id := itemID(m.Table, key)
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.items[id]
	if p == nil {
		r, err := b.db.ReadItem(m.Table, key)
		if err != nil {
			return Result{}, err
		}
		p = &pending{table: m.Table, key: key, base: r.Item, cur: r.Item, read: r}
	}
	old := p.cur
	if m.Apply == nil || m.ReadOnly {
		if m.Apply != nil {
			if _, err := m.Apply(old); err != nil {
				return Result{}, err
			}
		}
		return Result{Old: old, New: old}, nil
	}
	nu, err := m.Apply(old)
	if err != nil {
		return Result{}, err
	}
	if nu != nil {
		if err := m.Table.ValidateItem(nu); err != nil {
			return Result{}, err
		}
	}
	if b.items == nil {
		b.items = map[string]*pending{}
	}
	if _, ok := b.items[id]; !ok {
		b.items[id] = p
		b.order = append(b.order, id)
	}
	p.cur = nu
	p.fns = append(p.fns, m.Apply)
	changed := !(old == nil && nu == nil) && (old == nil || nu == nil || !attr.ItemsEqual(old, nu))
	return Result{Old: old, New: nu, Changed: changed}, nil
}

// Mutations returns one mutation per written item, replaying its writes in
// order on the item current at commit time (unless it is still the one
// the buffer read: then the buffer's result stands); a condition that no
// longer holds then fails the commit. Nil for a nil or empty buffer.
func (b *WriteBuffer) Mutations() []Mutation {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Mutation, 0, len(b.order))
	for _, id := range b.order {
		p := b.items[id]
		fns, base, result := p.fns, p.base, p.cur
		out = append(out, Mutation{Table: p.table, Key: p.key, Read: p.read, Apply: func(old attr.Item) (attr.Item, error) {
			if (old == nil) == (base == nil) && (old == nil || sameMap(old, base) || attr.ItemsEqual(old, base)) {
				// Nobody wrote the item since the buffer read it: the
				// replay (Mutation.Apply is pure) would give what the
				// buffer computed. A materialized view's handler updates
				// each of its rows many times per batch.
				return result, nil
			}
			cur := old
			for _, f := range fns {
				nu, err := f(cur)
				if err != nil {
					return nil, err
				}
				cur = nu
			}
			return cur, nil
		}})
	}
	return out
}

// sameMap reports whether a and b are the same map (DB.Write hands the
// buffer's own read back when nothing wrote the item since: no need to
// compare every attribute).
func sameMap(a, b attr.Item) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// Empty reports whether nothing was written (true for a nil buffer).
func (b *WriteBuffer) Empty() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.order) == 0
}
