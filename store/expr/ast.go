package expr

import (
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
)

// PathElem is one step of a document path: a map key (Index < 0) or a list
// index (Index >= 0).
type PathElem struct {
	Name  string
	Index int
}

// Path is a resolved document path: #name placeholders are already replaced
// by the attribute names they stand for. Path[0] is always a name.
type Path []PathElem

// String renders the path as an expression would spell it: a.b[2].c.
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.Index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.Name)
	}
	return b.String()
}

// errString renders the path as DynamoDB's error messages do: [a, b, [2]].
func (p Path) errString() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		if e.Index >= 0 {
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		} else {
			b.WriteString(e.Name)
		}
	}
	b.WriteByte(']')
	return b.String()
}

func (p Path) equal(o Path) bool {
	if len(p) != len(o) {
		return false
	}
	for i := range p {
		if p[i] != o[i] {
			return false
		}
	}
	return true
}

// rawElem is a path step as written: an identifier, a #name, or an index.
type rawElem struct {
	text  string // identifier or "#name"; "" for an index
	index int    // -1 unless an index
}

type operandKind uint8

const (
	opPath  operandKind = iota + 1 // document path
	opValue                        // :value
	opFunc                         // function call used as an operand
	opPlus                         // a + b (update SET only)
	opMinus                        // a - b (update SET only)
)

// operand is a value-producing node. After checking, path holds the
// resolved path and value the resolved value.
type operand struct {
	kind   operandKind
	raw    []rawElem  // opPath, as written
	path   Path       // opPath, resolved
	ref    string     // opValue, ":v"
	value  attr.Value // opValue, resolved (conditions, projections, key conditions)
	slot   int        // opValue in an update: its value is Update.bound[slot]
	fn     string     // opFunc name
	args   []*operand // opFunc arguments; opPlus/opMinus operands
	parens int        // parentheses directly around this operand
}

type condKind uint8

const (
	cOr condKind = iota + 1
	cAnd
	cNot
	cCompare // =, <>, <, <=, >, >=
	cBetween
	cIn
	cFunc // attribute_exists, attribute_not_exists, attribute_type, begins_with, contains
)

// cond is a boolean node of a condition expression.
type cond struct {
	kind   condKind
	op     tokKind // comparator for cCompare
	sub    []*cond // cOr, cAnd: two; cNot: one
	args   []*operand
	fn     string // cFunc
	parens int
}

func opText(k tokKind) string {
	switch k {
	case tEq:
		return "="
	case tNe:
		return "<>"
	case tLt:
		return "<"
	case tLe:
		return "<="
	case tGt:
		return ">"
	case tGe:
		return ">="
	}
	return "?"
}

// ActionKind is the clause an update action belongs to.
type ActionKind uint8

// The four update clauses.
const (
	ActionSet ActionKind = iota + 1
	ActionRemove
	ActionAdd
	ActionDelete
)

func (k ActionKind) String() string {
	return [...]string{"", "SET", "REMOVE", "ADD", "DELETE"}[k]
}

// action is one update action: SET path = val, REMOVE path, ADD path val,
// DELETE path val.
type action struct {
	kind ActionKind
	raw  []rawElem
	path Path
	val  *operand // nil for REMOVE
}
