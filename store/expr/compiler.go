package expr

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// MaxExpressionBytes is DynamoDB's limit on the length of one expression.
const MaxExpressionBytes = 4096

// MaxOperators is DynamoDB's limit on the operators of one condition:
// comparators, BETWEEN, IN, AND, OR and NOT count, functions and
// parentheses do not (scylladb's test_limits.py, run against DynamoDB:
// "The expression contains too many operators; operator count: 301").
const MaxOperators = 300

// countOperators counts the operators of a condition tree.
func countOperators(c *cond) int {
	n := 0
	if c.kind != cFunc {
		n = 1
	}
	for _, s := range c.sub {
		n += countOperators(s)
	}
	return n
}

// Compiler compiles the expressions of one request against the request's
// ExpressionAttributeNames and ExpressionAttributeValues, and remembers which
// of those every expression used, for CheckUnused.
//
// A Compiler is not safe for concurrent use; build one per request. The
// compiled expressions it returns are immutable and safe to share.
type Compiler struct {
	names      map[string]string
	values     map[string]attr.Value
	usedNames  map[string]struct{}
	usedValues map[string]struct{}
	bound      []*updateTemplate // cached updates bound here: what they used counts as used
}

// NewCompiler returns a compiler for one request. Either map may be nil.
// The values must already be validated attribute values.
func NewCompiler(names map[string]string, values map[string]attr.Value) *Compiler {
	return &Compiler{
		names:  names,
		values: values,
	}
}

// markUsed adds k to the set *m, made on first use.
func markUsed(m *map[string]struct{}, k string) {
	if *m == nil {
		*m = make(map[string]struct{}, 4)
	}
	(*m)[k] = struct{}{}
}

func invalid(param, msg string) error {
	return ddberr.Validationf("%s", "Invalid "+param+": "+msg)
}

// precheck applies the checks DynamoDB makes before parsing.
func precheck(param, src string) error {
	if strings.TrimSpace(src) == "" {
		return invalid(param, "The expression can not be empty;")
	}
	if len(src) > MaxExpressionBytes {
		msg := "Expression size has exceeded the maximum allowed size;"
		if param == "ConditionExpression" || param == "FilterExpression" {
			msg += " expression size: " + strconv.Itoa(len(src))
		}
		return invalid(param, msg)
	}
	return nil
}

// Condition compiles a ConditionExpression.
func (c *Compiler) Condition(src string) (*Condition, error) {
	return c.condition("ConditionExpression", src)
}

// Filter compiles a FilterExpression; the grammar is the condition grammar.
func (c *Compiler) Filter(src string) (*Condition, error) {
	return c.condition("FilterExpression", src)
}

func (c *Compiler) condition(param, src string) (*Condition, error) {
	if err := precheck(param, src); err != nil {
		return nil, err
	}
	root, redundant, syn := parseConditionTree(src)
	if syn != "" {
		return nil, invalid(param, syn)
	}
	if n := countOperators(root); n > MaxOperators {
		return nil, invalid(param, "The expression contains too many operators; operator count: "+strconv.Itoa(n))
	}
	k := &checker{c: c, g: gCondition, joinedNV: true}
	if redundant {
		k.set(eParens, "The expression has redundant parentheses;")
	}
	k.misusedSize(root)
	k.checkCondition(root)
	if msg := k.first(eParens, eUnknownFn, eMisusedFn, eReserved, eCondition, eDepth); msg != "" {
		return nil, invalid(param, msg)
	}
	return &Condition{root: root}, nil
}

// Update compiles an UpdateExpression.
func (c *Compiler) Update(src string) (*Update, error) {
	const param = "UpdateExpression"
	if err := precheck(param, src); err != nil {
		return nil, err
	}
	if t := updates.find(src, c); t != nil {
		return t.bind(c), nil
	}
	acts, sections, syn := parseUpdateTree(src)
	if syn != "" {
		return nil, invalid(param, syn)
	}
	// Checked against a compiler of its own, so the template knows which
	// names and values this expression alone used.
	own := NewCompiler(c.names, c.values)
	k := &checker{c: own, g: gUpdate}
	k.checkUpdate(acts, sections)
	if msg := k.first(eReserved, eUnknownFn, eMisusedFn, eSection, eAttrName, eAttrVal, eOverlap, eConflict, eOperand, eFunction, eDepth); msg != "" {
		return nil, invalid(param, msg)
	}
	t := newTemplate(newUpdate(acts), own)
	updates.add(src, t)
	return t.bind(c), nil
}

// Projection compiles a ProjectionExpression.
func (c *Compiler) Projection(src string) (*Projection, error) {
	const param = "ProjectionExpression"
	if err := precheck(param, src); err != nil {
		return nil, err
	}
	raws, syn := parseProjectionTree(src)
	if syn != "" {
		return nil, invalid(param, syn)
	}
	k := &checker{c: c, g: gProjection, joinedNV: true}
	paths := make([]Path, len(raws))
	for i, r := range raws {
		paths[i] = k.resolvePath(r)
	}
	k.checkPaths(paths)
	if msg := k.first(eReserved, eAttrName, eOverlap, eConflict, eDepth); msg != "" {
		return nil, invalid(param, msg)
	}
	return NewProjection(paths), nil
}

// CheckUnused reports names or values of the request that no compiled
// expression used, with DynamoDB's messages. Call it after compiling every
// expression of the request.
func (c *Compiler) CheckUnused() error {
	if msg := unused(c.names, c.usedNames, c.bound, func(t *updateTemplate) []string { return t.names }); msg != "" {
		return ddberr.Validationf("%s", "Value provided in ExpressionAttributeNames unused in expressions: keys: {"+msg+"}")
	}
	if msg := unused(c.values, c.usedValues, c.bound, func(t *updateTemplate) []string { return t.refs }); msg != "" {
		return ddberr.Validationf("%s", "Value provided in ExpressionAttributeValues unused in expressions: keys: {"+msg+"}")
	}
	return nil
}

func unused[V any](all map[string]V, used map[string]struct{}, bound []*updateTemplate, usedBy func(*updateTemplate) []string) string {
	var keys []string
	for k := range all {
		if _, ok := used[k]; ok {
			continue
		}
		if slices.ContainsFunc(bound, func(t *updateTemplate) bool { return slices.Contains(usedBy(t), k) }) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
