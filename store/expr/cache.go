package expr

import (
	"container/list"
	"slices"
	"strconv"
	"sync"

	"github.com/eddydb/eddy/attr"
)

// updateCacheSize bounds the compiled update expressions kept: an
// application sends a handful of distinct ones (a stream handler the same
// one for every record), and each entry is at most a 4 KB expression with
// its maps' keys.
const updateCacheSize = 512

// updates caches compiled UpdateExpressions across requests. Parsing and
// checking an expression was 6.5% of a view handler's drain, one UpdateItem
// per record with the same expression and other values (issue 18).
//
// An entry is a template: an *Update whose value operands hold a slot
// (operand.slot) instead of a value, and the request's values are bound per
// call into a slice of their own (Update.bound), so concurrent requests
// never see each other's values. What the checker decides depends on the
// expression, on every #name's target and on each :value's presence and
// type (never its contents, for the update grammar), so the key holds those
// and nothing else.
var updates = newLRU[*updateTemplate](updateCacheSize)

// updateTemplate is a compiled update expression with its values unbound,
// and what it used of the request's maps, for CheckUnused.
type updateTemplate struct {
	u     *Update  // bound is nil; operands of kind opValue hold slots
	names []string // the #names it used
	refs  []string // the :values it used; slot i binds refs[i]
}

// updateKey is the cache key of src compiled against names and the types
// of values: each part length-prefixed, the maps in key order.
func updateKey(src string, names map[string]string, values map[string]attr.Value) string {
	b := make([]byte, 0, len(src)+16*(len(names)+len(values))+8)
	str := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	str(src)
	nk := make([]string, 0, len(names))
	for k := range names {
		nk = append(nk, k)
	}
	slices.Sort(nk)
	b = append(b, '#')
	for _, k := range nk {
		str(k)
		str(names[k])
	}
	vk := make([]string, 0, len(values))
	for k := range values {
		vk = append(vk, k)
	}
	slices.Sort(vk)
	b = append(b, ':')
	for _, k := range vk {
		str(k)
		b = append(b, byte(values[k].Type()))
	}
	return string(b)
}

// newTemplate turns a freshly checked update (its operands holding the
// values of the request that compiled it) into a template: every value
// operand gets the slot of its :ref and loses its value.
func newTemplate(u *Update, used *Compiler) *updateTemplate {
	t := &updateTemplate{u: u}
	for n := range used.usedNames {
		t.names = append(t.names, n)
	}
	var walk func(o *operand)
	walk = func(o *operand) {
		if o == nil {
			return
		}
		if o.kind == opValue {
			i := slices.Index(t.refs, o.ref)
			if i < 0 {
				i = len(t.refs)
				t.refs = append(t.refs, o.ref)
			}
			o.slot = i
			o.value = attr.Value{}
		}
		for _, a := range o.args {
			walk(a)
		}
	}
	for _, a := range u.actions {
		walk(a.val)
	}
	return t
}

// bind returns the template's update with c's values, and marks what it
// uses in c.
func (t *updateTemplate) bind(c *Compiler) *Update {
	for _, n := range t.names {
		c.usedNames[n] = struct{}{}
	}
	bound := make([]attr.Value, len(t.refs))
	for i, r := range t.refs {
		c.usedValues[r] = struct{}{}
		bound[i] = c.values[r]
	}
	u := *t.u
	u.bound = bound
	return &u
}

// lru is a bounded map that forgets its least recently used entry; safe
// for concurrent use.
type lru[V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recent; elements hold *lruEntry[V]
	byKey map[string]*list.Element
}

type lruEntry[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), byKey: make(map[string]*list.Element, max)}
}

func (c *lru[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[V]).val, true
}

func (c *lru[V]) add(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value.(*lruEntry[V]).val = v
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&lruEntry[V]{key: key, val: v})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*lruEntry[V]).key)
	}
}
