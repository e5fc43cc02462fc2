package attr

import (
	"bytes"
	"sort"
)

// Type is a DynamoDB attribute type.
type Type uint8

// The ten DynamoDB attribute types. The zero Type is invalid.
const (
	TypeS Type = iota + 1
	TypeN
	TypeB
	TypeBOOL
	TypeNULL
	TypeM
	TypeL
	TypeSS
	TypeNS
	TypeBS
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

// String returns the wire name of the type ("S", "NS", ...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// TypeFromString maps a wire name to a Type; ok is false for unknown names.
func TypeFromString(s string) (Type, bool) {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i), true
		}
	}
	return 0, false
}

// IsSet reports whether t is SS, NS or BS.
func (t Type) IsSet() bool { return t == TypeSS || t == TypeNS || t == TypeBS }

// Value is one DynamoDB attribute value. The zero Value is invalid (Type 0)
// and stands for "absent" in evaluators.
//
// It is 40 bytes: the type, a bool, a string for S and N (the most common
// values, no further allocation), and one interface for everything else
// (B []byte, SS/NS []string, BS [][]byte, M map[string]Value, L []Value).
// Items are maps of Values, so the size of Value is most of an item's
// memory; one field per kind made it 128 bytes.
type Value struct {
	typ Type
	b   bool
	s   string // S; N (canonical text)
	x   any    // B, SS, NS, BS, M, L (see above)
}

// Item is a whole DynamoDB item or key: attribute name to value.
type Item map[string]Value

// Constructors. They do not validate; use the JSON decoder or Validate for
// untrusted input. N and NS expect canonical number text (see ParseNumber).

func S(s string) Value           { return Value{typ: TypeS, s: s} }
func B(b []byte) Value           { return Value{typ: TypeB, x: b} }
func Bool(b bool) Value          { return Value{typ: TypeBOOL, b: b} }
func Null() Value                { return Value{typ: TypeNULL, b: true} }
func M(m map[string]Value) Value { return Value{typ: TypeM, x: m} }
func L(l []Value) Value          { return Value{typ: TypeL, x: l} }
func SS(ss []string) Value       { return Value{typ: TypeSS, x: ss} }
func BS(bs [][]byte) Value       { return Value{typ: TypeBS, x: bs} }

// N builds a number from canonical text; use ParseNumber for client input.
func N(canonical string) Value { return Value{typ: TypeN, s: canonical} }

// NS builds a number set from canonical texts.
func NS(ns []string) Value { return Value{typ: TypeNS, x: ns} }

// NumberValue builds an N from a Number.
func NumberValue(n Number) Value { return Value{typ: TypeN, s: n.String()} }

// Type returns the value's type; 0 for the zero (absent) Value.
func (v Value) Type() Type { return v.typ }

// IsZero reports whether v is the absent value.
func (v Value) IsZero() bool { return v.typ == 0 }

// Str returns the string of an S, or the canonical text of an N.
func (v Value) Str() string { return v.s }

// Bytes returns the bytes of a B.
func (v Value) Bytes() []byte { b, _ := v.x.([]byte); return b }

// BoolValue returns the boolean of a BOOL (and true for NULL).
func (v Value) BoolValue() bool { return v.b }

// Map returns the members of an M. Do not modify it.
func (v Value) Map() map[string]Value { m, _ := v.x.(map[string]Value); return m }

// List returns the elements of an L. Do not modify it.
func (v Value) List() []Value { l, _ := v.x.([]Value); return l }

// Strings returns the members of an SS or the canonical texts of an NS.
func (v Value) Strings() []string { ss, _ := v.x.([]string); return ss }

// BytesSet returns the members of a BS.
func (v Value) BytesSet() [][]byte { bs, _ := v.x.([][]byte); return bs }

// Number returns the decimal of an N. It panics if v is not a valid N.
func (v Value) Number() Number { return MustNumber(v.s) }

// SetLen returns the number of members of a set.
func (v Value) SetLen() int {
	switch v.typ {
	case TypeSS, TypeNS:
		return len(v.Strings())
	case TypeBS:
		return len(v.BytesSet())
	}
	return 0
}

// Equal reports DynamoDB value equality: same type and same value, with sets
// compared as sets and maps as maps. Numbers compare by value.
func Equal(a, b Value) bool {
	if a.typ != b.typ {
		return false
	}
	switch a.typ {
	case 0:
		return true
	case TypeS, TypeN:
		return a.s == b.s
	case TypeB:
		return bytes.Equal(a.Bytes(), b.Bytes())
	case TypeBOOL, TypeNULL:
		return a.b == b.b
	case TypeSS, TypeNS:
		if len(a.Strings()) != len(b.Strings()) {
			return false
		}
		set := make(map[string]struct{}, len(a.Strings()))
		for _, s := range a.Strings() {
			set[s] = struct{}{}
		}
		for _, s := range b.Strings() {
			if _, ok := set[s]; !ok {
				return false
			}
		}
		return true
	case TypeBS:
		if len(a.BytesSet()) != len(b.BytesSet()) {
			return false
		}
		set := make(map[string]struct{}, len(a.BytesSet()))
		for _, s := range a.BytesSet() {
			set[string(s)] = struct{}{}
		}
		for _, s := range b.BytesSet() {
			if _, ok := set[string(s)]; !ok {
				return false
			}
		}
		return true
	case TypeL:
		if len(a.List()) != len(b.List()) {
			return false
		}
		for i := range a.List() {
			if !Equal(a.List()[i], b.List()[i]) {
				return false
			}
		}
		return true
	case TypeM:
		return ItemsEqual(a.Map(), b.Map())
	}
	return false
}

// ItemsEqual reports whether two items hold equal values under the same names.
func ItemsEqual(a, b map[string]Value) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !Equal(av, bv) {
			return false
		}
	}
	return true
}

// Compare orders two scalars of the same type as DynamoDB's comparators do:
// N numerically, S by UTF-8 bytes, B as unsigned bytes. ok is false when the
// types differ or are not S, N or B.
func Compare(a, b Value) (c int, ok bool) {
	if a.typ != b.typ {
		return 0, false
	}
	switch a.typ {
	case TypeS:
		return compareStrings(a.s, b.s), true
	case TypeN:
		return CompareNumberText(a.s, b.s), true
	case TypeB:
		return bytes.Compare(a.Bytes(), b.Bytes()), true
	}
	return 0, false
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SortedNames returns the item's attribute names in byte order, for
// deterministic output.
func SortedNames(it map[string]Value) []string {
	names := make([]string, 0, len(it))
	for k := range it {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Clone returns a shallow copy of the item (values are immutable).
func (it Item) Clone() Item {
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}
