package expr

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/eddydb/eddy/attr"
)

// Condition is a compiled ConditionExpression or FilterExpression. It is
// immutable and safe for concurrent use.
type Condition struct {
	root *cond
}

// Eval evaluates the condition against an item; a nil or empty item stands
// for "no item". Comparisons involving absent attributes or values of
// different types are false, never errors. The error is reserved for future
// use and is always nil today.
func (c *Condition) Eval(item attr.Item) (bool, error) {
	return evalCond(c.root, item), nil
}

// Paths returns the document paths the condition reads, in source order.
// The store uses it to reject key attributes in a FilterExpression of a Query.
func (c *Condition) Paths() []Path {
	var out []Path
	var walk func(*cond)
	var walkOp func(*operand)
	walkOp = func(o *operand) {
		if o.kind == opPath {
			out = append(out, o.path)
		}
		for _, a := range o.args {
			walkOp(a)
		}
	}
	walk = func(c *cond) {
		for _, s := range c.sub {
			walk(s)
		}
		for _, a := range c.args {
			walkOp(a)
		}
	}
	walk(c.root)
	return out
}

// Get returns the value at path in item, or the zero Value when any step is
// missing or of the wrong type.
func Get(item attr.Item, p Path) attr.Value {
	if len(p) == 0 {
		return attr.Value{}
	}
	v, ok := item[p[0].Name]
	if !ok {
		return attr.Value{}
	}
	for _, e := range p[1:] {
		if e.Index >= 0 {
			if v.Type() != attr.TypeL || e.Index >= len(v.List()) {
				return attr.Value{}
			}
			v = v.List()[e.Index]
		} else {
			if v.Type() != attr.TypeM {
				return attr.Value{}
			}
			v, ok = v.Map()[e.Name]
			if !ok {
				return attr.Value{}
			}
		}
	}
	return v
}

func evalCond(c *cond, item attr.Item) bool {
	switch c.kind {
	case cOr:
		return evalCond(c.sub[0], item) || evalCond(c.sub[1], item)
	case cAnd:
		return evalCond(c.sub[0], item) && evalCond(c.sub[1], item)
	case cNot:
		return !evalCond(c.sub[0], item)
	case cCompare:
		return compare(c.op, evalOperand(c.args[0], item), evalOperand(c.args[1], item))
	case cBetween:
		x := evalOperand(c.args[0], item)
		lo := evalOperand(c.args[1], item)
		hi := evalOperand(c.args[2], item)
		c1, ok1 := attr.Compare(lo, x)
		c2, ok2 := attr.Compare(x, hi)
		return ok1 && ok2 && c1 <= 0 && c2 <= 0
	case cIn:
		x := evalOperand(c.args[0], item)
		if x.IsZero() {
			return false
		}
		for _, a := range c.args[1:] {
			if attr.Equal(x, evalOperand(a, item)) {
				return true
			}
		}
		return false
	case cFunc:
		return evalFunc(c.fn, c.args, item)
	}
	return false
}

// compare applies a comparator. = and the orderings need both sides present
// and of one type; <> is true whenever = is false, also when both sides are
// absent (DynamoDB: "a <> b" holds on an item that has neither).
func compare(op tokKind, a, b attr.Value) bool {
	switch op {
	case tEq:
		return !a.IsZero() && attr.Equal(a, b)
	case tNe:
		return a.IsZero() || !attr.Equal(a, b)
	}
	c, ok := attr.Compare(a, b)
	if !ok {
		return false
	}
	switch op {
	case tLt:
		return c < 0
	case tLe:
		return c <= 0
	case tGt:
		return c > 0
	case tGe:
		return c >= 0
	}
	return false
}

func evalFunc(fn string, args []*operand, item attr.Item) bool {
	switch fn {
	case "attribute_exists":
		return !evalOperand(args[0], item).IsZero()
	case "attribute_not_exists":
		return evalOperand(args[0], item).IsZero()
	case "attribute_type":
		v := evalOperand(args[0], item)
		t := evalOperand(args[1], item)
		return !v.IsZero() && t.Type() == attr.TypeS && v.Type().String() == t.Str()
	case "begins_with":
		v, pre := evalOperand(args[0], item), evalOperand(args[1], item)
		switch {
		case v.Type() == attr.TypeS && pre.Type() == attr.TypeS:
			return strings.HasPrefix(v.Str(), pre.Str())
		case v.Type() == attr.TypeB && pre.Type() == attr.TypeB:
			return bytes.HasPrefix(v.Bytes(), pre.Bytes())
		}
		return false
	case "contains":
		return contains(evalOperand(args[0], item), evalOperand(args[1], item))
	}
	return false
}

// contains implements contains(a, b): substring of an S, member of a set of
// b's type, or element of a list equal to b.
func contains(a, b attr.Value) bool {
	switch a.Type() {
	case attr.TypeS:
		return b.Type() == attr.TypeS && strings.Contains(a.Str(), b.Str())
	case attr.TypeB:
		return b.Type() == attr.TypeB && bytes.Contains(a.Bytes(), b.Bytes())
	case attr.TypeSS:
		if b.Type() == attr.TypeS {
			for _, s := range a.Strings() {
				if s == b.Str() {
					return true
				}
			}
		}
	case attr.TypeNS:
		if b.Type() == attr.TypeN {
			for _, s := range a.Strings() {
				if attr.CompareNumberText(s, b.Str()) == 0 {
					return true
				}
			}
		}
	case attr.TypeBS:
		if b.Type() == attr.TypeB {
			for _, s := range a.BytesSet() {
				if bytes.Equal(s, b.Bytes()) {
					return true
				}
			}
		}
	case attr.TypeL:
		if b.IsZero() {
			return false
		}
		for _, e := range a.List() {
			if attr.Equal(e, b) {
				return true
			}
		}
	}
	return false
}

// evalOperand evaluates an operand of a condition; the zero Value means
// absent (or not computable, as size of a number).
func evalOperand(o *operand, item attr.Item) attr.Value {
	switch o.kind {
	case opPath:
		return Get(item, o.path)
	case opValue:
		return o.value
	case opFunc:
		if o.fn == "size" {
			return size(evalOperand(o.args[0], item))
		}
	}
	return attr.Value{}
}

// size implements size(): UTF-16 code units of an S (DynamoDB counts as Java's
// String.length does, so a character outside the BMP counts 2), bytes of a B,
// members of a set, elements of an L or M. Other types have no size.
func size(v attr.Value) attr.Value {
	var n int
	switch v.Type() {
	case attr.TypeS:
		for _, r := range v.Str() {
			n += utf16.RuneLen(r)
		}
	case attr.TypeB:
		n = len(v.Bytes())
	case attr.TypeSS, attr.TypeNS, attr.TypeBS:
		n = v.SetLen()
	case attr.TypeL:
		n = len(v.List())
	case attr.TypeM:
		n = len(v.Map())
	default:
		return attr.Value{}
	}
	return attr.N(strconv.Itoa(n))
}
