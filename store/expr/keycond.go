package expr

import (
	"bytes"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// KeyOp is the operator of a sort-key condition.
type KeyOp uint8

// The sort-key operators a KeyConditionExpression allows.
const (
	KeyEQ KeyOp = iota + 1
	KeyLT
	KeyLE
	KeyGT
	KeyGE
	KeyBetween
	KeyBeginsWith
)

// KeyPart is one condition on one key attribute: Name Op Values[0] (and
// Values[1] for BETWEEN).
type KeyPart struct {
	Name   string
	Op     KeyOp
	Values []attr.Value
}

// Match reports whether a key attribute value satisfies the condition.
func (k *KeyPart) Match(v attr.Value) bool {
	if k.Op == KeyBeginsWith {
		p := k.Values[0]
		switch {
		case v.Type() == attr.TypeS && p.Type() == attr.TypeS:
			return strings.HasPrefix(v.Str(), p.Str())
		case v.Type() == attr.TypeB && p.Type() == attr.TypeB:
			return bytes.HasPrefix(v.Bytes(), p.Bytes())
		}
		return false
	}
	c, ok := attr.Compare(v, k.Values[0])
	if !ok {
		return false
	}
	switch k.Op {
	case KeyEQ:
		return c == 0
	case KeyLT:
		return c < 0
	case KeyLE:
		return c <= 0
	case KeyGT:
		return c > 0
	case KeyGE:
		return c >= 0
	case KeyBetween:
		c2, ok := attr.Compare(v, k.Values[1])
		return ok && c >= 0 && c2 <= 0
	}
	return false
}

// KeyCondition is a compiled KeyConditionExpression: one or two KeyParts in
// the order written. Validate binds them to the table's (or index's) key
// schema and fills Hash and Range.
type KeyCondition struct {
	Parts []KeyPart

	// Set by Validate.
	Hash  attr.Value // the partition key value
	Range *KeyPart   // the sort-key condition, nil if none
}

// KeyCondition compiles a KeyConditionExpression: the condition grammar and
// its checks, then the shape DynamoDB allows for keys (AND of at most two
// simple conditions on top-level attributes, each comparing with a value).
func (c *Compiler) KeyCondition(src string) (*KeyCondition, error) {
	const param = "KeyConditionExpression"
	cd, err := c.condition(param, src)
	if err != nil {
		return nil, err
	}
	var leaves []*cond
	var flatten func(*cond) error
	flatten = func(n *cond) error {
		switch n.kind {
		case cAnd:
			for _, s := range n.sub {
				if err := flatten(s); err != nil {
					return err
				}
			}
			return nil
		case cOr:
			return ddberr.Validationf("Invalid operator used in KeyConditionExpression: OR")
		case cNot:
			return ddberr.Validationf("Invalid operator used in KeyConditionExpression: NOT")
		case cIn:
			return ddberr.Validationf("Invalid operator used in KeyConditionExpression: IN")
		case cFunc:
			if n.fn != "begins_with" {
				return ddberr.Validationf("%s", "Invalid operator used in KeyConditionExpression: "+n.fn)
			}
		case cCompare:
			if n.op == tNe {
				return ddberr.Validationf("Unsupported operator on KeyConditionExpression: operator: <>")
			}
		}
		leaves = append(leaves, n)
		return nil
	}
	if err := flatten(cd.root); err != nil {
		return nil, err
	}
	if len(leaves) > 2 {
		return nil, invalid(param, "The expression can only contain up to two key conditions")
	}
	kc := &KeyCondition{}
	for _, n := range leaves {
		if nestedPath(n) {
			return nil, invalid(param, "KeyConditionExpressions cannot have conditions on nested attributes")
		}
		part, ok := keyPart(n)
		if !ok {
			return nil, ddberr.Validationf("Query key condition not supported")
		}
		for _, q := range kc.Parts {
			if q.Name == part.Name {
				return nil, ddberr.Validationf("KeyConditionExpressions must only contain one condition per key")
			}
		}
		kc.Parts = append(kc.Parts, part)
	}
	return kc, nil
}

// keyPart reads "name op :v", ":v op name" (op mirrored), "name BETWEEN :a
// AND :b" or "begins_with(name, :v)".
func keyPart(n *cond) (KeyPart, bool) {
	simple := func(o *operand) (string, bool) {
		if o.kind != opPath || len(o.path) != 1 {
			return "", false
		}
		return o.path[0].Name, true
	}
	switch n.kind {
	case cCompare:
		a, b := n.args[0], n.args[1]
		op := n.op
		if a.kind == opValue {
			a, b = b, a
			op = mirror(op)
		}
		name, ok := simple(a)
		if !ok || b.kind != opValue {
			return KeyPart{}, false
		}
		return KeyPart{Name: name, Op: keyOp(op), Values: []attr.Value{b.value}}, true
	case cBetween:
		name, ok := simple(n.args[0])
		if !ok || n.args[1].kind != opValue || n.args[2].kind != opValue {
			return KeyPart{}, false
		}
		return KeyPart{Name: name, Op: KeyBetween, Values: []attr.Value{n.args[1].value, n.args[2].value}}, true
	case cFunc:
		name, ok := simple(n.args[0])
		if !ok || n.args[1].kind != opValue {
			return KeyPart{}, false
		}
		return KeyPart{Name: name, Op: KeyBeginsWith, Values: []attr.Value{n.args[1].value}}, true
	}
	return KeyPart{}, false
}

// nestedPath reports whether a key condition names a document path (a.b,
// a[0]) rather than a top-level attribute.
func nestedPath(n *cond) bool {
	for _, o := range n.args {
		if o.kind == opPath && len(o.path) > 1 {
			return true
		}
	}
	return false
}

func mirror(op tokKind) tokKind {
	switch op {
	case tLt:
		return tGt
	case tLe:
		return tGe
	case tGt:
		return tLt
	case tGe:
		return tLe
	}
	return op
}

func keyOp(op tokKind) KeyOp {
	switch op {
	case tLt:
		return KeyLT
	case tLe:
		return KeyLE
	case tGt:
		return KeyGT
	case tGe:
		return KeyGE
	}
	return KeyEQ
}

// Validate binds the condition to a key schema (rangeName is "" for a
// hash-only table or index) and fills Hash and Range, with DynamoDB's
// messages for conditions that do not fit.
func (k *KeyCondition) Validate(hashName, rangeName string) error {
	k.Hash, k.Range = attr.Value{}, nil
	for i := range k.Parts {
		p := &k.Parts[i]
		switch {
		case p.Name == hashName:
			if p.Op != KeyEQ {
				return ddberr.Validationf("Query key condition not supported")
			}
			k.Hash = p.Values[0]
		case rangeName != "" && p.Name == rangeName:
			k.Range = p
		default:
			return ddberr.Validationf("%s", "Query condition missed key schema element: "+hashName)
		}
	}
	if k.Hash.IsZero() {
		return ddberr.Validationf("%s", "Query condition missed key schema element: "+hashName)
	}
	return nil
}

// CheckTypes checks the condition's values against the key attribute types
// of the schema (rangeType 0 when there is no sort key). Call after Validate.
func (k *KeyCondition) CheckTypes(hashType, rangeType attr.Type) error {
	bad := func() error { return ddberr.Invalidf("Condition parameter type does not match schema type") }
	if k.Hash.Type() != hashType {
		return bad()
	}
	if k.Range != nil {
		for _, v := range k.Range.Values {
			if v.Type() != rangeType {
				return bad()
			}
		}
	}
	return nil
}
