package partiql

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store/expr"
)

// Translation. A statement's WHERE clause, SET and REMOVE actions and
// projection are rendered as DynamoDB expression text over generated
// placeholders (#p0, :p0, ...) and compiled by package expr, so that they
// evaluate exactly as the equivalent ConditionExpression, UpdateExpression
// or ProjectionExpression would: there is one evaluator.
//
//	a = ?, a <> ?, a != ?, < <= > >=   #p0 = :p0, #p0 <> :p0, ...
//	a IS MISSING                       attribute_not_exists(#p0)
//	a IS NOT MISSING                   attribute_exists(#p0)
//	a IS NULL                          attribute_type(#p0, :p0) with :p0 = "NULL"
//	a [NOT] BETWEEN x AND y            [NOT] (#p0 BETWEEN :p0 AND :p1)
//	a [NOT] IN [x, y]                  [NOT] (#p0 IN (:p0, :p1))
//	begins_with, contains, size, attribute_exists, attribute_not_exists,
//	attribute_type                     the same functions
//	SET a = set_add(a, ?)              ADD #p0 :p0
//	SET a = set_delete(a, ?)           DELETE #p0 :p0
//	SET a = b + 1, list_append, if_not_exists   the same SET forms

// ErrParams is DynamoDB's error for Parameters that do not match the
// statement's ? one for one, too few or too many (moto's PartiQL
// UpdateParser and DynamoDB-compatible servers that pin both directions
// send these words; DynamoDB Local accepts too many, a known difference).
var ErrParams = ddberr.Validationf("Number of parameters in request and statement don't match.")

// Gen renders expressions of one statement with its parameters bound. It
// collects the placeholders the rendered text uses.
type Gen struct {
	Names  map[string]string
	Values map[string]attr.Value
	params []attr.Value
	byName map[string]string
}

// NewGen returns a generator for a statement with the given parameters; it
// fails with ErrParams unless the statement has exactly one ? per
// parameter.
func NewGen(st *Statement, params []attr.Value) (*Gen, error) {
	if st.Params != len(params) {
		return nil, ErrParams
	}
	return &Gen{Names: map[string]string{}, Values: map[string]attr.Value{}, params: params, byName: map[string]string{}}, nil
}

// Compiler returns an expression compiler over the placeholders rendered
// so far (render first, then compile).
func (g *Gen) Compiler() *expr.Compiler {
	var names map[string]string
	var values map[string]attr.Value
	if len(g.Names) > 0 {
		names = g.Names
	}
	if len(g.Values) > 0 {
		values = g.Values
	}
	return expr.NewCompiler(names, values)
}

func (g *Gen) name(n string) string {
	if p, ok := g.byName[n]; ok {
		return p
	}
	p := "#p" + strconv.Itoa(len(g.Names))
	g.Names[p] = n
	g.byName[n] = p
	return p
}

func (g *Gen) value(v attr.Value) string {
	p := ":p" + strconv.Itoa(len(g.Values))
	g.Values[p] = v
	return p
}

// Path renders a document path.
func (g *Gen) Path(p expr.Path) string {
	var b strings.Builder
	for i, e := range p {
		if e.Index >= 0 {
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(g.name(e.Name))
	}
	return b.String()
}

func unsupported(what string) error {
	return ddberr.Validationf("Unsupported operation: %s", what)
}

// Value evaluates a literal expression (a literal, a parameter, or a map,
// list or set of them). ok is false for MISSING.
func (g *Gen) Value(e Expr) (v attr.Value, ok bool, err error) {
	return g.eval(e, "root")
}

func (g *Gen) eval(e Expr, at string) (attr.Value, bool, error) {
	switch x := e.(type) {
	case *Lit:
		if x.Missing {
			return attr.Value{}, false, nil
		}
		if x.Num != "" {
			n, err := attr.ParseNumber(x.Num)
			if err != nil {
				var ne *attr.NumberError
				if errors.As(err, &ne) && ne.Err == attr.ErrNumberNotNumeric {
					return attr.Value{}, false, Malformed("")
				}
				return attr.Value{}, false, ddberr.Validationf("%s under %s", err.Error(), at)
			}
			return attr.NumberValue(n), true, nil
		}
		return x.V, true, nil
	case *Param:
		if x.N >= len(g.params) {
			return attr.Value{}, false, ErrParams
		}
		return g.params[x.N], true, nil
	case *Tuple:
		m := make(map[string]attr.Value, len(x.Keys))
		seen := make(map[string]bool, len(x.Keys))
		for i, k := range x.Keys {
			if seen[k] {
				return attr.Value{}, false, ddberr.Validationf("Duplicate keys in tuple. Key: %s under %s", k, at)
			}
			seen[k] = true
			v, ok, err := g.eval(x.Vals[i], at+"."+k)
			if err != nil {
				return attr.Value{}, false, err
			}
			if ok {
				m[k] = v
			}
		}
		return attr.M(m), true, nil
	case *List:
		l := make([]attr.Value, 0, len(x.Elems))
		for i, el := range x.Elems {
			v, ok, err := g.eval(el, at+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return attr.Value{}, false, err
			}
			if !ok {
				v = attr.Null()
			}
			l = append(l, v)
		}
		return attr.L(l), true, nil
	case *Bag:
		return bag(x)
	}
	return attr.Value{}, false, unsupported("expression is not a value")
}

// bag builds a set from literal members, with the checks DynamoDB makes.
func bag(b *Bag) (attr.Value, bool, error) {
	if len(b.Elems) == 0 {
		return attr.Value{}, false, ddberr.Validationf("Empty bags are not supported")
	}
	var typ attr.Type
	var strs []string
	var bins [][]byte
	seen := map[string]bool{}
	for _, el := range b.Elems {
		l, ok := el.(*Lit)
		if !ok || l.Missing {
			return attr.Value{}, false, ddberr.Validationf("Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags")
		}
		var v attr.Value
		if l.Num != "" {
			n, err := attr.ParseNumber(l.Num)
			if err != nil {
				return attr.Value{}, false, ddberr.Validationf("%s under root", err.Error())
			}
			v = attr.NumberValue(n)
		} else {
			v = l.V
		}
		if v.Type() != attr.TypeS && v.Type() != attr.TypeN && v.Type() != attr.TypeB {
			return attr.Value{}, false, ddberr.Validationf("Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags")
		}
		if typ != 0 && v.Type() != typ {
			return attr.Value{}, false, ddberr.Validationf("DynamoDB only supports either numbers or strings in bags")
		}
		typ = v.Type()
		k := v.Str()
		if typ == attr.TypeB {
			k = string(v.Bytes())
		}
		if seen[k] {
			return attr.Value{}, false, ddberr.Validationf("Input collection contains duplicates")
		}
		seen[k] = true
		strs = append(strs, v.Str())
		bins = append(bins, v.Bytes())
	}
	switch typ {
	case attr.TypeS:
		return attr.SS(strs), true, nil
	case attr.TypeN:
		return attr.NS(strs), true, nil
	}
	return attr.BS(bins), true, nil
}

// operand renders a value-producing node.
func (g *Gen) operand(e Expr) (string, error) {
	switch x := e.(type) {
	case *Path:
		return g.Path(x.P), nil
	case *Call:
		if x.Name != "size" {
			return "", unsupported("function " + x.Name + " is not an operand")
		}
		if len(x.Args) != 1 {
			return "", ddberr.Validationf("Incorrect number of arguments for function size")
		}
		a, err := g.operand(x.Args[0])
		if err != nil {
			return "", err
		}
		return "size(" + a + ")", nil
	case *Lit, *Param, *Tuple, *List, *Bag:
		v, ok, err := g.Value(e)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", unsupported("MISSING is not a value here")
		}
		return g.value(v), nil
	}
	return "", unsupported("expression is not an operand")
}

func isMissing(e Expr) bool {
	l, ok := e.(*Lit)
	return ok && l.Missing
}

// Cond renders a boolean expression as condition expression text.
func (g *Gen) Cond(e Expr) (string, error) {
	switch x := e.(type) {
	case *Binary:
		switch x.Op {
		case "AND", "OR":
			l, err := g.Cond(x.L)
			if err != nil {
				return "", err
			}
			r, err := g.Cond(x.R)
			if err != nil {
				return "", err
			}
			return "(" + l + ") " + x.Op + " (" + r + ")", nil
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			op := x.Op
			if op == "!=" {
				op = "<>"
			}
			if isMissing(x.L) || isMissing(x.R) {
				return "", ddberr.Validationf("MISSING must be compared using IS operator")
			}
			l, err := g.operand(x.L)
			if err != nil {
				return "", err
			}
			r, err := g.operand(x.R)
			if err != nil {
				return "", err
			}
			return l + " " + op + " " + r, nil
		}
		return "", ddberr.Validationf("Unsupported operator in Condition Expression. Operator: %s", x.Op)
	case *Not:
		c, err := g.Cond(x.X)
		if err != nil {
			return "", err
		}
		return "NOT (" + c + ")", nil
	case *Between:
		a, err := g.operand(x.X)
		if err != nil {
			return "", err
		}
		lo, err := g.operand(x.Lo)
		if err != nil {
			return "", err
		}
		hi, err := g.operand(x.Hi)
		if err != nil {
			return "", err
		}
		s := a + " BETWEEN " + lo + " AND " + hi
		if x.Neg {
			s = "NOT (" + s + ")"
		}
		return s, nil
	case *In:
		a, err := g.operand(x.X)
		if err != nil {
			return "", err
		}
		parts := make([]string, len(x.List))
		for i, el := range x.List {
			if parts[i], err = g.operand(el); err != nil {
				return "", err
			}
		}
		s := a + " IN (" + strings.Join(parts, ", ") + ")"
		if x.Neg {
			s = "NOT (" + s + ")"
		}
		return s, nil
	case *Is:
		a, err := g.operand(x.X)
		if err != nil {
			return "", err
		}
		var s string
		if x.What == "MISSING" {
			if x.Neg {
				return "attribute_exists(" + a + ")", nil
			}
			return "attribute_not_exists(" + a + ")", nil
		}
		s = "attribute_type(" + a + ", " + g.value(attr.S("NULL")) + ")"
		if x.Neg {
			s = "NOT (" + s + ")"
		}
		return s, nil
	case *Call:
		switch x.Name {
		case "begins_with", "contains", "attribute_exists", "attribute_not_exists", "attribute_type":
		case "exists":
			return "", ddberr.Validationf("EXISTS can only be used in ExecuteTransaction write requests.")
		default:
			return "", ddberr.Validationf("Unrecognized function: %s", x.Name)
		}
		parts := make([]string, len(x.Args))
		for i, a := range x.Args {
			var err error
			if parts[i], err = g.operand(a); err != nil {
				return "", err
			}
		}
		return x.Name + "(" + strings.Join(parts, ", ") + ")", nil
	}
	return "", ddberr.Validationf("WHERE clause must contain an expression that resolves to a boolean")
}

// Condition compiles a WHERE clause (nil: no condition) into a condition.
func (g *Gen) Condition(where Expr) (*expr.Condition, error) {
	if where == nil {
		return nil, nil
	}
	text, err := g.Cond(where)
	if err != nil {
		return nil, err
	}
	return g.Compiler().Condition(text)
}

// Conjuncts returns the terms of a top-level AND chain.
func Conjuncts(e Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == "AND" {
		return append(Conjuncts(b.L), Conjuncts(b.R)...)
	}
	if e == nil {
		return nil
	}
	return []Expr{e}
}

// topName returns the attribute a one-step path names.
func topName(e Expr) (string, bool) {
	p, ok := e.(*Path)
	if !ok || len(p.P) != 1 || p.P[0].Index >= 0 {
		return "", false
	}
	return p.P[0].Name, true
}

func isValue(e Expr) bool {
	switch e.(type) {
	case *Lit, *Param:
		return !isMissing(e)
	}
	return false
}

// Equality returns the values a top-level AND term of where binds the
// attribute to: one for name = v, several for name IN [v, ...]; found is
// false when there is no such term. With inOK false only = counts.
func (g *Gen) Equality(where Expr, name string, inOK bool) (vals []attr.Value, found bool, err error) {
	for _, c := range Conjuncts(where) {
		switch x := c.(type) {
		case *Binary:
			if x.Op != "=" {
				continue
			}
			l, r := x.L, x.R
			if n, ok := topName(r); ok && n == name && isValue(l) {
				l, r = r, l
			}
			if n, ok := topName(l); ok && n == name && isValue(r) {
				v, _, err := g.Value(r)
				return []attr.Value{v}, true, err
			}
		case *In:
			if !inOK || x.Neg {
				continue
			}
			if n, ok := topName(x.X); !ok || n != name {
				continue
			}
			all := true
			for _, el := range x.List {
				all = all && isValue(el)
			}
			if !all {
				continue
			}
			for _, el := range x.List {
				v, _, err := g.Value(el)
				if err != nil {
					return nil, false, err
				}
				vals = append(vals, v)
			}
			return vals, true, nil
		}
	}
	return nil, false, nil
}

// SortKey returns a key condition on the sort key from the top-level AND
// terms of where (the first usable one), or nil.
func (g *Gen) SortKey(where Expr, name string, typ attr.Type) (*expr.KeyPart, error) {
	for _, c := range Conjuncts(where) {
		var kp expr.KeyPart
		var args []Expr
		switch x := c.(type) {
		case *Binary:
			l, r, op := x.L, x.R, x.Op
			if n, ok := topName(r); ok && n == name && isValue(l) {
				l, r = r, l
				op = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
			}
			if n, ok := topName(l); !ok || n != name || !isValue(r) {
				continue
			}
			switch op {
			case "=":
				kp.Op = expr.KeyEQ
			case "<":
				kp.Op = expr.KeyLT
			case "<=":
				kp.Op = expr.KeyLE
			case ">":
				kp.Op = expr.KeyGT
			case ">=":
				kp.Op = expr.KeyGE
			default:
				continue
			}
			args = []Expr{r}
		case *Between:
			if n, ok := topName(x.X); !ok || n != name || x.Neg || !isValue(x.Lo) || !isValue(x.Hi) {
				continue
			}
			kp.Op, args = expr.KeyBetween, []Expr{x.Lo, x.Hi}
		case *Call:
			if x.Name != "begins_with" || len(x.Args) != 2 || (typ != attr.TypeS && typ != attr.TypeB) {
				continue
			}
			if n, ok := topName(x.Args[0]); !ok || n != name || !isValue(x.Args[1]) {
				continue
			}
			kp.Op, args = expr.KeyBeginsWith, x.Args[1:]
		default:
			continue
		}
		usable := true
		for _, a := range args {
			v, _, err := g.Value(a)
			if err != nil {
				return nil, err
			}
			usable = usable && v.Type() == typ
			kp.Values = append(kp.Values, v)
		}
		if kp.Op == expr.KeyBetween && usable {
			if c, ok := attr.Compare(kp.Values[0], kp.Values[1]); ok && c > 0 {
				usable = false // an empty range; the filter decides (no item)
			}
		}
		if usable {
			kp.Name = name
			return &kp, nil
		}
	}
	return nil, nil
}

// UpdateText renders the SET and REMOVE actions as update expression text.
func (g *Gen) UpdateText(st *Statement) (string, error) {
	var set, add, del, rem []string
	for _, a := range st.Sets {
		target := g.Path(a.Path)
		if c, ok := a.Value.(*Call); ok && (c.Name == "set_add" || c.Name == "set_delete") {
			if len(c.Args) != 2 {
				return "", ddberr.Validationf("SET_%s must have exactly two arguments", strings.ToUpper(strings.TrimPrefix(c.Name, "set_")))
			}
			p, ok := c.Args[0].(*Path)
			if !ok || !samePath(p.P, a.Path) {
				return "", ddberr.Validationf("The first argument to SET_%s must equal the assignment value", strings.ToUpper(strings.TrimPrefix(c.Name, "set_")))
			}
			v, err := g.operand(c.Args[1])
			if err != nil {
				return "", err
			}
			if c.Name == "set_add" {
				add = append(add, target+" "+v)
			} else {
				del = append(del, target+" "+v)
			}
			continue
		}
		v, err := g.setValue(a.Value)
		if err != nil {
			return "", err
		}
		set = append(set, target+" = "+v)
	}
	for _, p := range st.Removes {
		rem = append(rem, g.Path(p))
	}
	var b []string
	for _, c := range []struct {
		kw   string
		acts []string
	}{{"SET", set}, {"ADD", add}, {"DELETE", del}, {"REMOVE", rem}} {
		if len(c.acts) > 0 {
			b = append(b, c.kw+" "+strings.Join(c.acts, ", "))
		}
	}
	return strings.Join(b, " "), nil
}

func (g *Gen) setValue(e Expr) (string, error) {
	switch x := e.(type) {
	case *Binary:
		if x.Op != "+" && x.Op != "-" {
			return "", ddberr.Validationf("Unsupported operator in Update Expression. Operator: %s", x.Op)
		}
		l, err := g.setValue(x.L)
		if err != nil {
			return "", err
		}
		r, err := g.setValue(x.R)
		if err != nil {
			return "", err
		}
		return l + " " + x.Op + " " + r, nil
	case *Call:
		if x.Name != "list_append" && x.Name != "if_not_exists" {
			return "", ddberr.Validationf("Unrecognized function: %s", x.Name)
		}
		parts := make([]string, len(x.Args))
		for i, a := range x.Args {
			var err error
			if parts[i], err = g.setValue(a); err != nil {
				return "", err
			}
		}
		return x.Name + "(" + strings.Join(parts, ", ") + ")", nil
	}
	return g.operand(e)
}

// Project applies the SELECT list to an item (nil list: SELECT *). Each
// path's value lands under the text after the path's last dot, as DynamoDB
// names projected columns: a.b.c -> "c", d[0] -> "d[0]", a.b[1] -> "b[1]".
// Paths that resolve to nothing are left out.
func Project(st *Statement, item attr.Item) attr.Item {
	if st.Star || item == nil {
		return item
	}
	out := attr.Item{}
	for _, p := range st.Projection {
		v := expr.Get(item, p)
		if v.IsZero() {
			continue
		}
		text := p.String()
		if i := strings.LastIndexByte(text, '.'); i >= 0 {
			text = text[i+1:]
		}
		out[text] = v
	}
	return out
}

func samePath(a, b expr.Path) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Without returns where without the first top-level `name = value` term
// for each of the given names (the key equalities a write already turned
// into its key; a second equality on a key stays a condition); nil when
// nothing remains.
func Without(where Expr, names ...string) Expr {
	var rest Expr
	removed := map[string]bool{}
	for _, c := range Conjuncts(where) {
		if b, ok := c.(*Binary); ok && b.Op == "=" {
			l, r := b.L, b.R
			if isValue(l) {
				l, r = r, l
			}
			if n, ok := topName(l); ok && isValue(r) && slices.Contains(names, n) && !removed[n] {
				removed[n] = true
				continue
			}
		}
		if rest == nil {
			rest = c
		} else {
			rest = &Binary{Op: "AND", L: rest, R: c}
		}
	}
	return rest
}
