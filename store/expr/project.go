package expr

import (
	"sort"

	"github.com/eddydb/eddy/attr"
)

// Projection is a compiled ProjectionExpression (or any list of paths to
// keep). It is immutable and safe for concurrent use.
type Projection struct {
	paths []Path
	tree  *projNode
}

type projNode struct {
	leaf  bool
	names map[string]*projNode
	idx   map[int]*projNode
	order []int
}

// NewProjection builds a projection from resolved paths, for callers that
// hold paths rather than an expression (AttributesToGet, UPDATED_NEW).
func NewProjection(paths []Path) *Projection {
	root := &projNode{}
	for _, p := range paths {
		n := root
		for _, e := range p {
			if n.leaf {
				break
			}
			if e.Index >= 0 {
				if n.idx == nil {
					n.idx = map[int]*projNode{}
				}
				c := n.idx[e.Index]
				if c == nil {
					c = &projNode{}
					n.idx[e.Index] = c
					n.order = append(n.order, e.Index)
				}
				n = c
			} else {
				if n.names == nil {
					n.names = map[string]*projNode{}
				}
				c := n.names[e.Name]
				if c == nil {
					c = &projNode{}
					n.names[e.Name] = c
				}
				n = c
			}
		}
		n.leaf, n.names, n.idx, n.order = true, nil, nil, nil
	}
	var sortAll func(*projNode)
	sortAll = func(n *projNode) {
		sort.Ints(n.order)
		for _, c := range n.names {
			sortAll(c)
		}
		for _, c := range n.idx {
			sortAll(c)
		}
	}
	sortAll(root)
	return &Projection{paths: paths, tree: root}
}

// Paths returns the projected paths in expression order.
func (p *Projection) Paths() []Path { return p.paths }

// TopLevelNames returns the top-level attributes the projection reads.
func (p *Projection) TopLevelNames() []string {
	out := make([]string, 0, len(p.tree.names))
	for k := range p.tree.names {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Apply returns the parts of item the projection selects. Maps keep the
// requested members; lists keep the requested elements in index order
// (a[3], a[1] gives a two-element list: a[1], a[3]). Absent paths are left
// out, and a container left empty by that is left out too. item is not
// modified.
func (p *Projection) Apply(item attr.Item) attr.Item {
	out := make(attr.Item, len(p.tree.names))
	for name, c := range p.tree.names {
		v, ok := item[name]
		if !ok {
			continue
		}
		if pv := projectValue(v, c); !pv.IsZero() {
			out[name] = pv
		}
	}
	return out
}

// ProjectPaths projects item onto paths; see Projection.Apply.
func ProjectPaths(item attr.Item, paths []Path) attr.Item {
	return NewProjection(paths).Apply(item)
}

func projectValue(v attr.Value, n *projNode) attr.Value {
	if n.leaf {
		return v
	}
	if n.names != nil {
		if v.Type() != attr.TypeM {
			return attr.Value{}
		}
		m := make(map[string]attr.Value, len(n.names))
		for name, c := range n.names {
			cv, ok := v.Map()[name]
			if !ok {
				continue
			}
			if pv := projectValue(cv, c); !pv.IsZero() {
				m[name] = pv
			}
		}
		if len(m) == 0 {
			return attr.Value{}
		}
		return attr.M(m)
	}
	if v.Type() != attr.TypeL {
		return attr.Value{}
	}
	var l []attr.Value
	for _, i := range n.order {
		if i >= len(v.List()) {
			break
		}
		if pv := projectValue(v.List()[i], n.idx[i]); !pv.IsZero() {
			l = append(l, pv)
		}
	}
	if len(l) == 0 {
		return attr.Value{}
	}
	return attr.L(l)
}
