package api

import (
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store/expr"
)

// The legacy (pre-expression) write parameters: Expected with
// ConditionalOperator, and AttributeUpdates. They are validated with
// DynamoDB's messages and then translated into expression text over
// generated placeholders (#l0, :l0, ...) and compiled by package expr, so
// they evaluate exactly as the equivalent ConditionExpression or
// UpdateExpression would: there is one evaluator.
//
// Translation:
//
//	Exists false                 attribute_not_exists(#a)
//	Value (Exists true or unset) #a = :v
//	EQ NE LT LE GT GE            #a = :v, #a <> :v, #a < :v, ...
//	NULL, NOT_NULL               attribute_not_exists(#a), attribute_exists(#a)
//	CONTAINS, NOT_CONTAINS       contains(#a, :v), NOT contains(#a, :v)
//	BEGINS_WITH                  begins_with(#a, :v)
//	IN, BETWEEN                  #a IN (:v0, :v1, ...), #a BETWEEN :v0 AND :v1
//	conditions joined by         AND (default) or OR (ConditionalOperator)
//
//	PUT a v                      SET #a = :v
//	ADD a N|SS|NS|BS             ADD #a :v
//	ADD a L                      SET #a = list_append(if_not_exists(#a, :empty), :v)
//	DELETE a                     REMOVE #a
//	DELETE a SS|NS|BS            DELETE #a :v
//
// plus a type check on the current item for ADD and DELETE ("Type mismatch
// for attribute to update"), which the expression forms word differently.
// Conditions and updates are processed in attribute-name order (DynamoDB
// keeps the request's order; the outcome is the same).

// expectedCond is one entry of the Expected map.
type expectedCond struct {
	Value              *attr.Value  `json:"Value"`
	Exists             *bool        `json:"Exists"`
	ComparisonOperator *string      `json:"ComparisonOperator"`
	AttributeValueList []attr.Value `json:"AttributeValueList"`
}

// attributeUpdate is one entry of UpdateItem's AttributeUpdates map.
type attributeUpdate struct {
	Value  *attr.Value `json:"Value"`
	Action string      `json:"Action"`
}

var comparisonOperators = []string{"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS"}

// legacyConstraints adds the front end's enum checks of the legacy members.
func legacyConstraints(v *constraints, expected map[string]expectedCond, condOp string, updates map[string]attributeUpdate) {
	v.enum(condOp, "conditionalOperator", "OR", "AND")
	for _, name := range sortedTables(expected) {
		if op := expected[name].ComparisonOperator; op != nil {
			v.enum(*op, "expected."+name+".member.comparisonOperator", comparisonOperators...)
		}
	}
	for _, name := range sortedTables(updates) {
		v.enum(updates[name].Action, "attributeUpdates."+name+".member.action", "ADD", "PUT", "DELETE")
	}
	// Their names and values are attribute names (attr.MaxNameLen).
	for name := range expected {
		v.nameList(name)
	}
	for name, u := range updates {
		v.nameList(name)
		if u.Value != nil {
			v.names(attr.Item{"": *u.Value})
		}
	}
}

// mixedWriteParams rejects expression and non-expression members in one request.
func mixedWriteParams(exprs, legacy []string, present map[string]bool) error {
	var e, l []string
	for _, n := range exprs {
		if present[n] {
			e = append(e, n)
		}
	}
	for _, n := range legacy {
		if present[n] {
			l = append(l, n)
		}
	}
	if len(e) > 0 && len(l) > 0 {
		return ddberr.Validationf("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
			strings.Join(l, ", "), strings.Join(e, ", "))
	}
	return nil
}

// checkConditionalOperator rejects a ConditionalOperator that joins fewer
// than two legacy conditions (Expected, QueryFilter or ScanFilter; an empty
// map counts as none), in DynamoDB's words. It runs after the mixing check
// and before a Query's missing key condition is reported.
func checkConditionalOperator(op string, conditions int) error {
	switch {
	case op == "":
		return nil
	case conditions == 0:
		return ddberr.Validationf("ConditionalOperator cannot be used without Filter or Expected")
	case conditions == 1:
		return ddberr.Validationf("ConditionalOperator can only be used when Filter or Expected has two or more elements")
	}
	return nil
}

// legacyGen accumulates generated expression text and its placeholders.
type legacyGen struct {
	prefix string
	names  map[string]string
	values map[string]attr.Value
}

func newLegacyGen(prefix string) *legacyGen {
	return &legacyGen{prefix: prefix, names: map[string]string{}, values: map[string]attr.Value{}}
}

func (g *legacyGen) name(n string) string {
	p := "#" + g.prefix + itoa(len(g.names))
	g.names[p] = n
	return p
}

func (g *legacyGen) value(v attr.Value) string {
	p := ":" + g.prefix + itoa(len(g.values))
	g.values[p] = v
	return p
}

// legacyArgs is how many AttributeValueList members each legacy
// comparison operator takes: [min, max].
var legacyArgs = map[string][2]int{
	"EQ": {1, 1}, "NE": {1, 1}, "LE": {1, 1}, "LT": {1, 1}, "GE": {1, 1}, "GT": {1, 1},
	"NOT_NULL": {0, 0}, "NULL": {0, 0}, "CONTAINS": {1, 1}, "NOT_CONTAINS": {1, 1},
	"BEGINS_WITH": {1, 1}, "IN": {1, 1 << 30}, "BETWEEN": {2, 2},
}

// legacyTypeOK reports whether a value of type t may be an argument of a
// legacy comparison operator: EQ and NE take any type (lists and maps
// included), ordering comparisons, IN and BETWEEN only scalars, CONTAINS
// anything but sets, lists and maps, BEGINS_WITH strings and binaries.
func legacyTypeOK(op string, t attr.Type) bool {
	scalar := t == attr.TypeS || t == attr.TypeN || t == attr.TypeB
	switch op {
	case "LE", "LT", "GE", "GT", "IN", "BETWEEN":
		return scalar
	case "CONTAINS", "NOT_CONTAINS":
		return scalar || t == attr.TypeBOOL || t == attr.TypeNULL
	case "BEGINS_WITH":
		return t == attr.TypeS || t == attr.TypeB
	}
	return true
}

// checkLegacyArgs checks the AttributeValueList of one legacy condition
// (Expected, QueryFilter, ScanFilter, KeyConditions: DynamoDB validates
// them alike), in DynamoDB's order: the count, each value's type, one type
// for all, and BETWEEN's bounds.
func checkLegacyArgs(op string, vals []attr.Value) error {
	if n := legacyArgs[op]; len(vals) < n[0] || len(vals) > n[1] {
		return ddberr.Invalidf("Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	for _, v := range vals {
		if !legacyTypeOK(op, v.Type()) {
			return ddberr.Invalidf("ComparisonOperator %s is not valid for %s AttributeValue type", op, v.Type())
		}
	}
	for _, v := range vals {
		if v.Type() != vals[0].Type() {
			return ddberr.Invalidf("AttributeValues inside AttributeValueList must be of same type")
		}
	}
	if op == "BETWEEN" {
		if c, ok := attr.Compare(vals[0], vals[1]); ok && c > 0 {
			return ddberr.Validationf("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
	}
	return nil
}

// term validates one legacy condition on attribute name and returns the
// equivalent condition expression over generated placeholders, so that
// every legacy form is compiled and evaluated as an expression.
func (g *legacyGen) term(name, op string, vals []attr.Value) (string, error) {
	if err := checkLegacyArgs(op, vals); err != nil {
		return "", err
	}
	a := g.name(name)
	switch op {
	case "EQ", "NE", "LT", "LE", "GT", "GE":
		sym := map[string]string{"EQ": "=", "NE": "<>", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}[op]
		return a + " " + sym + " " + g.value(vals[0]), nil
	case "NULL":
		return "attribute_not_exists(" + a + ")", nil
	case "NOT_NULL":
		return "attribute_exists(" + a + ")", nil
	case "CONTAINS":
		return "contains(" + a + ", " + g.value(vals[0]) + ")", nil
	case "NOT_CONTAINS": // holds only for an attribute that exists
		return "attribute_exists(" + a + ") AND NOT contains(" + a + ", " + g.value(vals[0]) + ")", nil
	case "BEGINS_WITH":
		return "begins_with(" + a + ", " + g.value(vals[0]) + ")", nil
	case "IN":
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = g.value(v)
		}
		return a + " IN (" + strings.Join(ph, ", ") + ")", nil
	case "BETWEEN":
		return a + " BETWEEN " + g.value(vals[0]) + " AND " + g.value(vals[1]), nil
	}
	return "", ddberr.Validationf("Unsupported ComparisonOperator: %s", op)
}

// compiler returns an expression compiler over the generated placeholders
// (no value map at all when no value was generated).
func (g *legacyGen) compiler() *expr.Compiler {
	values := g.values
	if len(values) == 0 {
		values = nil
	}
	return expr.NewCompiler(g.names, values)
}

// expectedCondition validates Expected and compiles it into a condition (nil
// when there is none).
func expectedCondition(expected map[string]expectedCond, condOp string) (*expr.Condition, error) {
	if len(expected) == 0 {
		return nil, nil
	}
	g := newLegacyGen("l")
	var parts []string
	for _, name := range sortedTables(expected) {
		c := expected[name]
		if c.AttributeValueList != nil && c.Value != nil {
			return nil, ddberr.Invalidf("Value and AttributeValueList cannot be used together for Attribute: %s", name)
		}
		if c.ComparisonOperator == nil {
			if c.AttributeValueList != nil {
				return nil, ddberr.Invalidf("AttributeValueList can only be used with a ComparisonOperator for Attribute: %s", name)
			}
			exists := c.Exists == nil || *c.Exists
			switch {
			case exists && c.Value == nil:
				state := "null"
				if c.Exists != nil {
					state = "true"
				}
				return nil, ddberr.Invalidf("Value must be provided when Exists is %s for Attribute: %s", state, name)
			case !exists && c.Value != nil:
				return nil, ddberr.Invalidf("Value cannot be used when Exists is false for Attribute: %s", name)
			case !exists:
				parts = append(parts, "attribute_not_exists("+g.name(name)+")")
			default:
				parts = append(parts, g.name(name)+" = "+g.value(*c.Value))
			}
			continue
		}
		op := *c.ComparisonOperator
		if c.Exists != nil {
			return nil, ddberr.Invalidf("Exists and ComparisonOperator cannot be used together for Attribute: %s", name)
		}
		if op != "NULL" && op != "NOT_NULL" && c.AttributeValueList == nil && c.Value == nil {
			return nil, ddberr.Invalidf("Value or AttributeValueList must be used with ComparisonOperator: %s for Attribute: %s", op, name)
		}
		vals := c.AttributeValueList
		if c.Value != nil {
			vals = []attr.Value{*c.Value}
		}
		t, err := g.term(name, op, vals)
		if err != nil {
			return nil, err
		}
		parts = append(parts, "("+t+")")
	}
	join := " AND "
	if condOp == "OR" {
		join = " OR "
	}
	return g.compiler().Condition(strings.Join(parts, join))
}

// legacyUpdate validates AttributeUpdates and compiles it into an update
// (nil when empty) and the type check to run on the current item.
func legacyUpdate(updates map[string]attributeUpdate) (*expr.Update, func(attr.Item) error, error) {
	names := sortedTables(updates)
	for _, name := range names {
		u := updates[name]
		if u.Value == nil {
			if u.Action != "DELETE" {
				return nil, nil, ddberr.Invalidf("Only DELETE action is allowed when no attribute value is specified")
			}
			continue
		}
		switch typ := u.Value.Type(); u.Action {
		case "DELETE":
			if !typ.IsSet() {
				return nil, nil, ddberr.Invalidf("DELETE action with value is not supported for the type %s", typ)
			}
		case "ADD":
			if !typ.IsSet() && typ != attr.TypeN && typ != attr.TypeL {
				return nil, nil, ddberr.Invalidf("ADD action is not supported for the type %s", typ)
			}
		}
	}
	if len(updates) == 0 {
		return nil, nil, nil
	}
	g := newLegacyGen("u")
	var set, remove, add, del []string
	typed := map[string]attr.Type{} // ADD and DELETE: the type the current value must have
	for _, name := range names {
		u := updates[name]
		a := g.name(name)
		switch {
		case u.Action == "DELETE" && u.Value == nil:
			remove = append(remove, a)
		case u.Action == "DELETE":
			del = append(del, a+" "+g.value(*u.Value))
			typed[name] = u.Value.Type()
		case u.Action == "ADD" && u.Value.Type() == attr.TypeL:
			set = append(set, a+" = list_append(if_not_exists("+a+", "+g.value(attr.L([]attr.Value{}))+"), "+g.value(*u.Value)+")")
			typed[name] = attr.TypeL
		case u.Action == "ADD":
			add = append(add, a+" "+g.value(*u.Value))
			typed[name] = u.Value.Type()
		default: // PUT
			set = append(set, a+" = "+g.value(*u.Value))
		}
	}
	var clauses []string
	for _, c := range []struct {
		kw    string
		parts []string
	}{{"SET", set}, {"REMOVE", remove}, {"ADD", add}, {"DELETE", del}} {
		if len(c.parts) > 0 {
			clauses = append(clauses, c.kw+" "+strings.Join(c.parts, ", "))
		}
	}
	upd, err := expr.NewCompiler(g.names, g.values).Update(strings.Join(clauses, " "))
	if err != nil {
		return nil, nil, err
	}
	check := func(cur attr.Item) error {
		for name, want := range typed {
			if v, ok := cur[name]; ok && v.Type() != want {
				return ddberr.Validationf("Type mismatch for attribute to update")
			}
		}
		return nil
	}
	return upd, check, nil
}
