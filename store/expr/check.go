package expr

import (
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/eddydb/eddy/attr"
)

// errSlot is a class of semantic error. DynamoDB reports at most one error
// per expression; when several are present it picks by class, in an order
// that differs between the condition, update and projection grammars.
type errSlot uint8

const (
	eParens    errSlot = iota // "((x))"
	eUnknownFn                // unknown function, or one not allowed in this grammar
	eMisusedFn                // a condition function used as an operand, size() as a condition, list_append in list_append
	eReserved                 // bare reserved word in a path
	eSection                  // a clause used twice in an update
	eAttrName                 // undefined #name
	eAttrVal                  // undefined :value
	eOverlap                  // two paths overlap
	eConflict                 // two paths conflict
	eOperand                  // operand count, ADD/DELETE operand type
	eDistinct                 // f(a, a)
	eFunction                 // operand types of functions and operators
	eCondition                // first leaf error of a condition
	eDepth                    // path nesting too deep
	numSlots
)

// maxNesting is DynamoDB's limit on document path nesting levels.
const maxNesting = 32

// maxInOperands is the most values IN accepts on its right side.
const maxInOperands = 100

// checker resolves names and values of one expression against the
// request's maps and collects semantic errors by slot.
type checker struct {
	c        *Compiler
	g        grammar
	errs     [numSlots]string
	joinedNV bool // conditions report undefined names and values in one slot
}

func (k *checker) set(s errSlot, msg string) {
	if k.errs[s] == "" {
		k.errs[s] = msg
	}
}

func (k *checker) first(order ...errSlot) string {
	for _, s := range order {
		if k.errs[s] != "" {
			return k.errs[s]
		}
	}
	return ""
}

// resolvePath resolves #names, checks reserved words and depth. The result
// has an empty Name where a #name was undefined.
func (k *checker) resolvePath(raw []rawElem) Path {
	p := make(Path, len(raw))
	for i, e := range raw {
		switch {
		case e.index >= 0:
			p[i] = PathElem{Index: e.index}
		case e.text[0] == '#':
			name, ok := k.c.names[e.text]
			if !ok {
				if k.joinedNV {
					if k.errs[eAttrName] == "" && k.errs[eAttrVal] == "" {
						k.set(eAttrName, "An expression attribute name used in the document path is not defined; attribute name: "+e.text)
					}
				} else {
					k.set(eAttrName, "An expression attribute name used in the document path is not defined; attribute name: "+e.text)
				}
			} else {
				markUsed(&k.c.usedNames, e.text)
			}
			p[i] = PathElem{Name: name, Index: -1}
		default:
			if isReserved(e.text) {
				k.set(eReserved, "Attribute name is a reserved keyword; reserved keyword: "+e.text)
			}
			p[i] = PathElem{Name: e.text, Index: -1}
		}
	}
	// DynamoDB counts every element, the top-level name included: 32 work,
	// 33 answer "nesting levels: 33" (scylla test_projection_expression.py::
	// test_projection_expression_path_nesting_levels, run against DynamoDB).
	if len(p) > maxNesting {
		k.set(eDepth, fmt.Sprintf("The document path has too many nesting levels; nesting levels: %d", len(p)))
	}
	return p
}

func (k *checker) resolveValue(o *operand) {
	v, ok := k.c.values[o.ref]
	if !ok {
		msg := "An expression attribute value used in expression is not defined; attribute value: " + o.ref
		if k.joinedNV {
			if k.errs[eAttrName] == "" && k.errs[eAttrVal] == "" {
				k.set(eAttrVal, msg)
			}
		} else {
			k.set(eAttrVal, msg)
		}
		return
	}
	markUsed(&k.c.usedValues, o.ref)
	o.value = v
}

// staticType is the type an operand is known to have before evaluation:
// the type of a :value, N for size(); 0 when only the item can tell.
// immediate restricts it to :values, as the update checks do.
func staticType(o *operand, immediate bool) attr.Type {
	switch o.kind {
	case opValue:
		return o.value.Type()
	case opFunc:
		if !immediate && o.fn == "size" {
			return attr.TypeN
		}
	case opPlus, opMinus:
		if !immediate {
			return attr.TypeN
		}
	}
	return 0
}

func samePath(a, b *operand) bool {
	return a.kind == opPath && b.kind == opPath && a.path.equal(b.path)
}

// ---- conditions ----

func (k *checker) checkCondition(c *cond) {
	switch c.kind {
	case cOr, cAnd, cNot:
		for _, s := range c.sub {
			k.misusedSize(s)
			k.checkCondition(s)
		}
	case cCompare, cBetween, cIn:
		for _, a := range c.args {
			k.checkOperand(a)
		}
		k.misusedFunction(c.args)
		k.checkLeaf(c)
		k.leafDone()
	case cFunc:
		for _, a := range c.args {
			k.checkOperand(a)
		}
		k.misusedFunction(c.args)
		k.checkFunction(c.fn, c.args)
		k.leafDone()
	}
}

// leafDone records the first error of the first leaf condition that has one.
func (k *checker) leafDone() {
	if k.errs[eCondition] == "" {
		k.errs[eCondition] = k.first(eAttrName, eAttrVal, eOperand, eDistinct, eFunction)
	}
}

func (k *checker) misusedSize(c *cond) {
	if c.kind == cFunc && c.fn == "size" {
		k.set(eMisusedFn, "The function is not allowed to be used this way in an expression; function: size")
	}
}

func (k *checker) misusedFunction(args []*operand) {
	for _, a := range args {
		if a.kind == opFunc && a.fn != "size" {
			k.set(eMisusedFn, "The function is not allowed to be used this way in an expression; function: "+a.fn)
			return
		}
	}
}

func (k *checker) checkOperand(o *operand) {
	switch o.kind {
	case opPath:
		o.path = k.resolvePath(o.raw)
	case opValue:
		k.resolveValue(o)
	case opFunc:
		for _, a := range o.args {
			k.checkOperand(a)
		}
		if k.g == gCondition {
			k.misusedFunction(o.args)
		}
		if k.g == gUpdate && o.fn == "list_append" {
			// DynamoDB refuses a list_append nested in a list_append (an
			// if_not_exists is fine): scylla test_update_expression.py::
			// test_update_expression_function_nesting, run against DynamoDB.
			for _, a := range o.args {
				if a.kind == opFunc && a.fn == "list_append" {
					k.set(eMisusedFn, "The function is not allowed to be used this way in an expression; function: list_append")
				}
			}
		}
		k.checkFunction(o.fn, o.args)
	case opPlus, opMinus:
		for _, a := range o.args {
			k.checkOperand(a)
		}
		name := "+"
		if o.kind == opMinus {
			name = "-"
		}
		k.checkArith(name, o.args)
	}
}

func operandTypeError(fn string, t attr.Type) string {
	return "Incorrect operand type for operator or function; operator or function: " + fn + ", operand type: " + t.String()
}

func (k *checker) checkLeaf(c *cond) {
	switch c.kind {
	case cCompare:
		if samePath(c.args[0], c.args[1]) {
			k.set(eDistinct, "The first operand must be distinct from the remaining operands for this operator or function; operator: "+
				opText(c.op)+", first operand: "+c.args[0].path.errString())
		}
		if c.op != tEq && c.op != tNe {
			for _, a := range c.args {
				if t := staticType(a, false); t != 0 && t != attr.TypeS && t != attr.TypeN && t != attr.TypeB {
					k.set(eFunction, operandTypeError(opText(c.op), t))
				}
			}
		}
	case cBetween:
		for _, a := range c.args {
			if t := staticType(a, false); t != 0 && t != attr.TypeS && t != attr.TypeN && t != attr.TypeB {
				k.set(eFunction, operandTypeError("BETWEEN", t))
			}
		}
		lo, hi := c.args[1], c.args[2]
		if lo.kind == opValue && hi.kind == opValue && !lo.value.IsZero() && !hi.value.IsZero() {
			if lo.value.Type() != hi.value.Type() {
				k.set(eFunction, "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: "+
					avString(lo.value)+", upper bound operand: AttributeValue: "+avString(hi.value))
			} else if cmp, ok := attr.Compare(lo.value, hi.value); ok && cmp > 0 {
				k.set(eFunction, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: "+
					avString(lo.value)+", upper bound operand: AttributeValue: "+avString(hi.value))
			}
		}
	case cIn:
		if n := len(c.args) - 1; n > maxInOperands {
			k.set(eOperand, fmt.Sprintf("The IN operator is provided with too many operands; number of operands: %d", n))
		}
	}
}

// avString renders a scalar as DynamoDB's BETWEEN messages do: {N:5}.
func avString(v attr.Value) string {
	switch v.Type() {
	case attr.TypeS, attr.TypeN:
		return "{" + v.Type().String() + ":" + v.Str() + "}"
	case attr.TypeB:
		return "{B:" + base64.StdEncoding.EncodeToString(v.Bytes()) + "}"
	}
	return "{" + v.Type().String() + ":...}"
}

var conditionFuncs = map[string]int{
	"attribute_exists":     1,
	"attribute_not_exists": 1,
	"attribute_type":       2,
	"begins_with":          2,
	"contains":             2,
	"size":                 1,
}

var updateFuncs = map[string]int{
	"if_not_exists": 2,
	"list_append":   2,
}

// attrTypeNames is the order DynamoDB lists valid attribute_type names in.
const attrTypeNames = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"

func (k *checker) checkFunction(name string, args []*operand) {
	own, other := conditionFuncs, updateFuncs
	otherMsg := "The function is not allowed in a condition expression; function: "
	if k.g == gUpdate {
		own, other = updateFuncs, conditionFuncs
		otherMsg = "The function is not allowed in an update expression; function: "
	}
	want, ok := own[name]
	if !ok {
		if _, ok := other[name]; ok {
			k.set(eUnknownFn, otherMsg+name)
		} else {
			k.set(eUnknownFn, "Invalid function name; function: "+name)
		}
		return
	}
	countSlot := eOperand
	if k.g == gUpdate {
		countSlot = eFunction
	}
	if len(args) != want {
		k.set(countSlot, fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args)))
		return
	}
	if want == 2 && k.g == gCondition && samePath(args[0], args[1]) {
		k.set(eDistinct, "The first operand must be distinct from the remaining operands for this operator or function; operator: "+
			name+", first operand: "+args[0].path.errString())
	}
	switch name {
	case "attribute_exists", "attribute_not_exists", "if_not_exists":
		if args[0].kind != opPath {
			k.set(eFunction, "Operator or function requires a document path; operator or function: "+name)
		}
	case "begins_with":
		for _, a := range args {
			if t := staticType(a, false); t != 0 && t != attr.TypeS && t != attr.TypeB {
				k.set(eFunction, operandTypeError(name, t))
				return
			}
		}
	case "attribute_type":
		t := staticType(args[1], false)
		if t != attr.TypeS {
			ts := "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
			if t != 0 {
				ts = t.String()
			}
			k.set(eFunction, "Incorrect operand type for operator or function; operator or function: "+name+", operand type: "+ts)
			return
		}
		if _, ok := attr.TypeFromString(args[1].value.Str()); !ok {
			k.set(eFunction, "Invalid attribute type name found; type: "+args[1].value.Str()+", valid types: "+attrTypeNames)
		}
	case "size":
		switch t := staticType(args[0], false); t {
		case attr.TypeN, attr.TypeBOOL, attr.TypeNULL:
			k.set(eFunction, operandTypeError(name, t))
		}
	case "list_append":
		for _, a := range args {
			if t := staticType(a, true); t != 0 && t != attr.TypeL {
				k.set(eFunction, operandTypeError(name, t))
				return
			}
		}
	}
}

func (k *checker) checkArith(name string, args []*operand) {
	for _, a := range args {
		if t := staticType(a, true); t != 0 && t != attr.TypeN {
			k.set(eFunction, operandTypeError(name, t))
			return
		}
	}
}

// ---- paths shared by updates and projections ----

// checkPaths reports the first pair of paths that overlap (one is a prefix
// of the other) or, failing that, conflict (one indexes a list where the
// other names a map key). Paths with unresolved names are skipped.
func (k *checker) checkPaths(paths []Path) {
	var seen []Path
	for _, p := range paths {
		if slices.ContainsFunc(p, func(e PathElem) bool { return e.Index < 0 && e.Name == "" }) {
			continue
		}
		for _, q := range seen {
			if k.errs[eOverlap] != "" {
				return
			}
			k.comparePaths(q, p)
		}
		seen = append(seen, p)
	}
}

func (k *checker) comparePaths(p1, p2 Path) {
	for i := 0; i < len(p1) && i < len(p2); i++ {
		if (p1[i].Index < 0) != (p2[i].Index < 0) {
			k.set(eConflict, "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: "+
				p1.errString()+", path two: "+p2.errString())
			return
		}
		if p1[i] != p2[i] {
			return
		}
	}
	k.set(eOverlap, "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "+
		p1.errString()+", path two: "+p2.errString())
}

// ---- updates ----

func (k *checker) checkUpdate(acts []*action, sections []ActionKind) {
	var seen [5]bool
	for _, s := range sections {
		if seen[s] {
			k.set(eSection, `The "`+s.String()+`" section can only be used once in an update expression;`)
		}
		seen[s] = true
	}
	paths := make([]Path, len(acts))
	for i, a := range acts {
		a.path = k.resolvePath(a.raw)
		paths[i] = a.path
		if a.val != nil {
			k.checkOperand(a.val)
		}
		if a.kind == ActionAdd || a.kind == ActionDelete {
			if t := a.val.value.Type(); t != 0 && !t.IsSet() && !(a.kind == ActionAdd && t == attr.TypeN) {
				k.set(eOperand, "Incorrect operand type for operator or function; operator: "+a.kind.String()+", operand type: "+longTypeName(t))
			}
		}
	}
	k.checkPaths(paths)
}

func longTypeName(t attr.Type) string {
	switch t {
	case attr.TypeS:
		return "STRING"
	case attr.TypeN:
		return "NUMBER"
	case attr.TypeB:
		return "BINARY"
	case attr.TypeNULL:
		return "NULL"
	case attr.TypeBOOL:
		return "BOOLEAN"
	case attr.TypeL:
		return "LIST"
	case attr.TypeM:
		return "MAP"
	}
	return t.String()
}
