package expr

import (
	"container/list"
	"slices"
	"sync"

	"github.com/eddydb/eddy/attr"
)

// updateCacheSize bounds the update expression texts kept, and
// updateVariants the compilations kept per text: an application sends a
// handful of distinct expressions (a stream handler the same one for every
// record), and each is at most 4 KB.
const (
	updateCacheSize = 512
	updateVariants  = 4
)

// updates caches compiled UpdateExpressions across requests. Parsing and
// checking an expression, with the names and values maps it needs, was
// 6% of a view handler's drain, one UpdateItem per record with the same
// expression and other values (issue 18).
//
// An entry is a template: an *Update whose value operands hold a slot
// (operand.slot) instead of a value, and the request's values are bound per
// call into a slice of their own (Update.bound), so concurrent requests
// never see each other's values. What the checker decides depends on the
// expression text, on the target of each #name it uses and on the presence
// and type (never the contents, in the update grammar) of each :value it
// uses; a template records those and serves a request that agrees on all
// of them. Only expressions that compiled are kept.
var updates = newLRU(updateCacheSize)

// updateTemplate is a compiled update expression with its values unbound,
// and what it depends on of the request's maps.
type updateTemplate struct {
	u       *Update     // bound is nil; operands of kind opValue hold slots
	names   []string    // the #names it uses,
	targets []string    // each resolved to this attribute name
	refs    []string    // the :values it uses (slot i binds refs[i]),
	types   []attr.Type // each of this type
}

// newTemplate turns a freshly checked update (its operands holding the
// values of the request that compiled it, used holding what it used) into a
// template: every value operand gets the slot of its :ref and loses its
// value.
func newTemplate(u *Update, used *Compiler) *updateTemplate {
	t := &updateTemplate{u: u}
	for n := range used.usedNames {
		t.names = append(t.names, n)
		t.targets = append(t.targets, used.names[n])
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
				t.types = append(t.types, o.value.Type())
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

// serves reports whether c's maps agree with everything t depends on.
func (t *updateTemplate) serves(c *Compiler) bool {
	for i, n := range t.names {
		if tgt, ok := c.names[n]; !ok || tgt != t.targets[i] {
			return false
		}
	}
	for i, r := range t.refs {
		if v, ok := c.values[r]; !ok || v.Type() != t.types[i] {
			return false
		}
	}
	return true
}

// bind returns the template's update with c's values, and counts what it
// uses as used in c (CheckUnused).
func (t *updateTemplate) bind(c *Compiler) *Update {
	c.bound = append(c.bound, t)
	u := *t.u
	u.bound = make([]attr.Value, len(t.refs))
	for i, r := range t.refs {
		u.bound[i] = c.values[r]
	}
	return &u
}

// lru holds the templates of the most recently used expression texts;
// safe for concurrent use.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recent; elements hold *lruEntry
	bySrc map[string]*list.Element
}

type lruEntry struct {
	src      string
	variants []*updateTemplate // most recent first
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), bySrc: make(map[string]*list.Element, max)}
}

// find returns a template of src that serves c, or nil.
func (c *lru) find(src string, comp *Compiler) *updateTemplate {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.bySrc[src]
	if !ok {
		return nil
	}
	for _, t := range e.Value.(*lruEntry).variants {
		if t.serves(comp) {
			c.order.MoveToFront(e)
			return t
		}
	}
	return nil
}

// add keeps t as src's most recent variant, forgetting its oldest past
// updateVariants and the least recently used text past max.
func (c *lru) add(src string, t *updateTemplate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.bySrc[src]; ok {
		le := e.Value.(*lruEntry)
		le.variants = append([]*updateTemplate{t}, le.variants[:min(len(le.variants), updateVariants-1)]...)
		c.order.MoveToFront(e)
		return
	}
	c.bySrc[src] = c.order.PushFront(&lruEntry{src: src, variants: []*updateTemplate{t}})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.bySrc, last.Value.(*lruEntry).src)
	}
}
