package expr

import (
	"bytes"
	"errors"
	"sort"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// Update is a compiled UpdateExpression. It is immutable and safe for
// concurrent use.
//
// Apply gives the actions DynamoDB's simultaneous semantics: every SET
// right-hand side is evaluated against the old item, and then all actions are
// applied at once. Paths never overlap (the compiler rejects that), so the
// actions form a tree of disjoint edits:
//
//	SET a.b = :x, a.c[1] = :y REMOVE d
//
//	item ─┬─ a ─┬─ b      SET
//	      │     └─ c ─ [1] SET
//	      └─ d            REMOVE
//
// Within one list, indexes refer to the old list: REMOVE l[1], l[2] removes
// two old elements, and SET or ADD past the end appends, in index order.
type Update struct {
	actions []*action
	paths   []Path
	tree    *editNode
	bound   []attr.Value // the request's :values, by operand slot (see updates)
}

// editNode is one node of the action tree: either an action applies here,
// or edits apply below, by name or by index (never both kinds: that would be
// a path conflict).
type editNode struct {
	act   *action
	names map[string]*editNode
	idx   map[int]*editNode
	order []int // sorted keys of idx
}

func newUpdate(acts []*action) *Update {
	u := &Update{actions: acts, tree: &editNode{}}
	for _, a := range acts {
		u.paths = append(u.paths, a.path)
		n := u.tree
		for _, e := range a.path {
			n = n.child(e)
		}
		n.act = a
	}
	u.tree.sortIdx()
	return u
}

func (n *editNode) child(e PathElem) *editNode {
	if e.Index >= 0 {
		if n.idx == nil {
			n.idx = map[int]*editNode{}
		}
		c := n.idx[e.Index]
		if c == nil {
			c = &editNode{}
			n.idx[e.Index] = c
		}
		return c
	}
	if n.names == nil {
		n.names = map[string]*editNode{}
	}
	c := n.names[e.Name]
	if c == nil {
		c = &editNode{}
		n.names[e.Name] = c
	}
	return c
}

func (n *editNode) sortIdx() {
	for i := range n.idx {
		n.order = append(n.order, i)
	}
	sort.Ints(n.order)
	for _, c := range n.idx {
		c.sortIdx()
	}
	for _, c := range n.names {
		c.sortIdx()
	}
}

// UpdatedPaths returns the paths the actions write, in expression order.
// Project the old or new item onto them (ProjectPaths) for ReturnValues
// UPDATED_OLD and UPDATED_NEW.
func (u *Update) UpdatedPaths() []Path { return u.paths }

// Touches reports whether any action writes the top-level attribute name or
// anything inside it; the store refuses updates that touch key attributes
// ("Cannot update attribute pk. This attribute is part of the key").
func (u *Update) Touches(name string) bool {
	_, ok := u.tree.names[name]
	return ok
}

// OnlyRemoves reports whether every action takes something away (REMOVE,
// or DELETE from a set). DynamoDB applies such an update to an absent item
// as no write at all: no item holding just the key appears, no stream
// record is emitted, and a nested path such as REMOVE a.b is not an error
// (scylladb/scylladb#5862, confirmed against DynamoDB).
func (u *Update) OnlyRemoves() bool {
	for _, a := range u.actions {
		if a.kind != ActionRemove && a.kind != ActionDelete {
			return false
		}
	}
	return len(u.actions) > 0
}

// TopLevelNames returns the top-level attributes the update writes, sorted.
func (u *Update) TopLevelNames() []string {
	out := make([]string, 0, len(u.tree.names))
	for k := range u.tree.names {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteSize is the second figure DynamoDB's standalone UpdateItem holds to
// the 400 KB item limit, besides the finished item nu: not the item but what
// the update writes (each top-level attribute it sets, adds to or deletes
// from, name and value as they are in nu) plus a cost per action: 3 bytes,
// then 19 per SET or ADD (20 through a list index) and 2 per REMOVE or
// DELETE. So key attributes and attributes the update leaves alone are not
// counted, and at a short key the ceiling falls under 409,600 (a one-byte
// key, one SET: 409,581). Measured against eu-west-2 on 2026-08-18 and -19 by
// nubo-db/dynamodb-conformance (tests/tier3/limits/itemSizeBySurface.test.ts);
// transactions and PartiQL measure the finished item alone.
func (u *Update) WriteSize(nu attr.Item) int {
	n := 3
	for _, a := range u.actions {
		switch a.kind {
		case ActionRemove, ActionDelete:
			n += 2
		default:
			n += 19
			for _, e := range a.path {
				if e.Index >= 0 {
					n++
					break
				}
			}
		}
	}
	for name := range u.tree.names {
		if v, ok := nu[name]; ok {
			n += len(name) + attr.Size(v)
		}
	}
	return n
}

// NestsTooDeep reports whether a top-level attribute the update writes is,
// in nu (the item after it), nested past DynamoDB's limit
// (attr.MaxNestedContainers). Attributes the update leaves alone are not
// looked at: an item stored before the limit existed stays updatable.
func (u *Update) NestsTooDeep(nu attr.Item) bool {
	for name := range u.tree.names {
		if v, ok := nu[name]; ok && attr.NestedDeeper(v, attr.MaxNestedContainers) {
			return true
		}
	}
	return false
}

// Update errors, with DynamoDB's messages.
const (
	msgBadOperandType = "An operand in the update expression has an incorrect data type"
	msgMissingAttr    = "The provided expression refers to an attribute that does not exist in the item"
	msgInvalidPath    = "The document path provided in the update expression is invalid for update"
)

// Apply computes the item after the update. old may be nil (no item yet);
// it is never modified, and the result shares unchanged values with it.
// Errors are ValidationExceptions with DynamoDB's messages.
func (u *Update) Apply(old attr.Item) (attr.Item, error) {
	// vals holds each action's operand: SET's evaluated against old, ADD's
	// and DELETE's bound value.
	vals := make(map[*action]attr.Value, len(u.actions))
	for _, a := range u.actions {
		switch a.kind {
		case ActionSet:
			v, err := u.eval(a.val, old)
			if err != nil {
				return nil, err
			}
			vals[a] = v
		case ActionAdd, ActionDelete:
			vals[a] = u.bound[a.val.slot]
		}
	}
	out, err := applyMap(old, u.tree, vals)
	if err != nil {
		return nil, err
	}
	return attr.Item(out), nil
}

func validation(msg string) error { return ddberr.Validationf("%s", msg) }

func (u *Update) eval(o *operand, item attr.Item) (attr.Value, error) {
	switch o.kind {
	case opValue:
		return u.bound[o.slot], nil
	case opPath:
		v := Get(item, o.path)
		if v.IsZero() {
			return v, validation(msgMissingAttr)
		}
		return v, nil
	case opPlus, opMinus:
		a, err := u.eval(o.args[0], item)
		if err != nil {
			return a, err
		}
		if a.Type() != attr.TypeN {
			return attr.Value{}, validation(msgBadOperandType)
		}
		b, err := u.eval(o.args[1], item)
		if err != nil {
			return b, err
		}
		if b.Type() != attr.TypeN {
			return attr.Value{}, validation(msgBadOperandType)
		}
		var r attr.Number
		if o.kind == opPlus {
			r, err = a.Number().Add(b.Number())
		} else {
			r, err = a.Number().Sub(b.Number())
		}
		if err != nil {
			return attr.Value{}, numberError(err)
		}
		return attr.NumberValue(r), nil
	case opFunc:
		switch o.fn {
		case "if_not_exists":
			if v := Get(item, o.args[0].path); !v.IsZero() {
				return v, nil
			}
			return u.eval(o.args[1], item)
		case "list_append":
			a, err := u.eval(o.args[0], item)
			if err != nil {
				return a, err
			}
			if a.Type() != attr.TypeL {
				return attr.Value{}, validation(msgBadOperandType)
			}
			b, err := u.eval(o.args[1], item)
			if err != nil {
				return b, err
			}
			if b.Type() != attr.TypeL {
				return attr.Value{}, validation(msgBadOperandType)
			}
			l := make([]attr.Value, 0, len(a.List())+len(b.List()))
			l = append(append(l, a.List()...), b.List()...)
			return attr.L(l), nil
		}
	}
	return attr.Value{}, validation(msgBadOperandType)
}

// numberError turns an attr number error into a ValidationException with
// attr's message.
func numberError(err error) error {
	var ne *attr.NumberError
	if errors.As(err, &ne) {
		return validation(ne.Error())
	}
	return validation(err.Error())
}

// applyMap returns a copy of m with the edits of n applied.
func applyMap(m map[string]attr.Value, n *editNode, vals map[*action]attr.Value) (map[string]attr.Value, error) {
	out := make(map[string]attr.Value, len(m)+len(n.names))
	for k, v := range m {
		out[k] = v
	}
	for name, c := range n.names {
		v, exists := m[name]
		if c.act == nil {
			if !exists {
				return nil, validation(msgInvalidPath)
			}
			nv, err := applyNested(v, c, vals)
			if err != nil {
				return nil, err
			}
			out[name] = nv
			continue
		}
		nv, keep, err := applyAction(c.act, v, vals)
		if err != nil {
			return nil, err
		}
		if keep {
			out[name] = nv
		} else {
			delete(out, name)
		}
	}
	return out, nil
}

// applyNested applies the edits below n to the container v.
func applyNested(v attr.Value, n *editNode, vals map[*action]attr.Value) (attr.Value, error) {
	if n.names != nil {
		if v.Type() != attr.TypeM {
			return attr.Value{}, validation(msgInvalidPath)
		}
		m, err := applyMap(v.Map(), n, vals)
		if err != nil {
			return attr.Value{}, err
		}
		return attr.M(m), nil
	}
	if v.Type() != attr.TypeL {
		return attr.Value{}, validation(msgInvalidPath)
	}
	old := v.List()
	out := make([]attr.Value, 0, len(old)+len(n.order))
	out = append(out, old...)
	var removed []bool
	var appended []attr.Value
	for _, i := range n.order {
		c := n.idx[i]
		if c.act == nil {
			if i >= len(old) {
				return attr.Value{}, validation(msgInvalidPath)
			}
			nv, err := applyNested(old[i], c, vals)
			if err != nil {
				return attr.Value{}, err
			}
			out[i] = nv
			continue
		}
		var cur attr.Value
		if i < len(old) {
			cur = old[i]
		}
		nv, keep, err := applyAction(c.act, cur, vals)
		if err != nil {
			return attr.Value{}, err
		}
		switch {
		case i >= len(old):
			if keep {
				appended = append(appended, nv)
			}
		case keep:
			out[i] = nv
		default:
			if removed == nil {
				removed = make([]bool, len(old))
			}
			removed[i] = true
		}
	}
	if removed != nil {
		kept := out[:0]
		for i, e := range out {
			if !removed[i] {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	return attr.L(append(out, appended...)), nil
}

// applyAction applies one action to the current value cur (zero if
// absent). keep is false when the attribute or element must be removed.
func applyAction(a *action, cur attr.Value, vals map[*action]attr.Value) (attr.Value, bool, error) {
	switch a.kind {
	case ActionSet:
		return vals[a], true, nil
	case ActionRemove:
		return attr.Value{}, false, nil
	case ActionAdd:
		v := vals[a]
		if cur.IsZero() {
			return v, true, nil
		}
		if cur.Type() != v.Type() {
			return attr.Value{}, false, validation(msgBadOperandType)
		}
		if v.Type() == attr.TypeN {
			r, err := cur.Number().Add(v.Number())
			if err != nil {
				return attr.Value{}, false, numberError(err)
			}
			return attr.NumberValue(r), true, nil
		}
		return setUnion(cur, v), true, nil
	case ActionDelete:
		v := vals[a]
		if cur.IsZero() {
			return cur, false, nil
		}
		if cur.Type() != v.Type() {
			return attr.Value{}, false, validation(msgBadOperandType)
		}
		r := setDifference(cur, v)
		return r, !r.IsZero(), nil
	}
	return attr.Value{}, false, nil
}

// setUnion returns a ∪ b for two sets of one type, keeping a's order and
// appending b's new members.
func setUnion(a, b attr.Value) attr.Value {
	switch a.Type() {
	case attr.TypeSS, attr.TypeNS:
		out := append([]string(nil), a.Strings()...)
		for _, s := range b.Strings() {
			if !hasString(a, s) {
				out = append(out, s)
			}
		}
		if a.Type() == attr.TypeSS {
			return attr.SS(out)
		}
		return attr.NS(out)
	case attr.TypeBS:
		out := append([][]byte(nil), a.BytesSet()...)
		for _, s := range b.BytesSet() {
			if !hasBytes(a, s) {
				out = append(out, s)
			}
		}
		return attr.BS(out)
	}
	return a
}

// setDifference returns a \ b, or the zero Value when nothing remains.
func setDifference(a, b attr.Value) attr.Value {
	switch a.Type() {
	case attr.TypeSS, attr.TypeNS:
		var out []string
		for _, s := range a.Strings() {
			if !hasString(b, s) {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return attr.Value{}
		}
		if a.Type() == attr.TypeSS {
			return attr.SS(out)
		}
		return attr.NS(out)
	case attr.TypeBS:
		var out [][]byte
		for _, s := range a.BytesSet() {
			if !hasBytes(b, s) {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return attr.Value{}
		}
		return attr.BS(out)
	}
	return a
}

// hasString reports membership in an SS, or numeric membership in an NS
// (canonical texts make that a text comparison).
func hasString(set attr.Value, s string) bool {
	for _, m := range set.Strings() {
		if m == s {
			return true
		}
	}
	return false
}

func hasBytes(set attr.Value, b []byte) bool {
	for _, m := range set.BytesSet() {
		if bytes.Equal(m, b) {
			return true
		}
	}
	return false
}
