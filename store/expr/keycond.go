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

// KeyCondition is a compiled KeyConditionExpression: KeyParts in the order
// written (one or two, up to eight on an index with a multi-attribute
// key). Validate binds them to the table's (or index's) key schema and
// fills Hash and Range.
type KeyCondition struct {
	Parts []KeyPart

	// OverTwo is the error for more than two parts, which only a schema
	// with more than two key attributes (a global index's multi-attribute
	// key) accepts: Validate returns it for any other schema.
	OverTwo error
	// PartErr is the error of a condition, when there are more than two:
	// ValidateKeys returns it after OverTwo, which comes first.
	PartErr error

	// Set by Validate.
	Hash  attr.Value // the partition key value (of the first partition key attribute)
	Range *KeyPart   // the condition on the last sort key attribute addressed, nil if none

	// Set by ValidateKeys on a multi-attribute key: the values of the
	// partition key attributes after the first, and of the sort key
	// attributes before Range's (equalities), in key-schema order.
	MoreHash []attr.Value
	SortEq   []attr.Value
}

// maxKeyParts is the most conditions a key condition can have: four
// partition key and four sort key attributes of a multi-attribute key.
const maxKeyParts = 8

// KeyCondition compiles a KeyConditionExpression: the condition grammar and
// its checks, then the shape DynamoDB allows for keys (AND of simple
// conditions on top-level attributes, each comparing with a value: at most
// two, or eight on a multi-attribute key, which ValidateKeys checks).
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
	kc := &KeyCondition{}
	if len(leaves) > 2 {
		kc.OverTwo = invalid(param, "The expression can only contain up to two key conditions")
		if len(leaves) > maxKeyParts {
			return nil, kc.OverTwo
		}
	}
	for _, n := range leaves {
		if err := kc.addLeaf(param, n); err != nil {
			if kc.OverTwo == nil {
				return nil, err
			}
			// DynamoDB refuses more than two conditions first where the
			// key has at most two attributes: ValidateKeys decides.
			kc.PartErr = err
			break
		}
	}
	return kc, nil
}

// addLeaf adds one simple condition of a KeyConditionExpression.
func (kc *KeyCondition) addLeaf(param string, n *cond) error {
	if nestedPath(n) {
		return invalid(param, "KeyConditionExpressions cannot have conditions on nested attributes")
	}
	part, ok := keyPart(n)
	if !ok {
		return ddberr.Validationf("Query key condition not supported")
	}
	for _, q := range kc.Parts {
		if q.Name == part.Name {
			return ddberr.Validationf("KeyConditionExpressions must only contain one condition per key")
		}
	}
	kc.Parts = append(kc.Parts, part)
	return nil
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
	var ranges []string
	if rangeName != "" {
		ranges = []string{rangeName}
	}
	return k.ValidateKeys([]string{hashName}, ranges)
}

// ValidateKeys is Validate for a key schema of any number of partition key
// attributes (hashNames) and sort key attributes (rangeNames), in
// key-schema order: a global index's multi-attribute key has up to four of
// each. Every partition key attribute needs an equality; the sort key
// attributes addressed must be a leading run of them (none skipped), all
// equalities but the last, which may be any key comparison (the rules of
// api/composite.go). It fills Hash, MoreHash, SortEq and Range.
func (k *KeyCondition) ValidateKeys(hashNames, rangeNames []string) error {
	k.Hash, k.Range, k.MoreHash, k.SortEq = attr.Value{}, nil, nil, nil
	if k.OverTwo != nil && len(hashNames)+len(rangeNames) <= 2 {
		return k.OverTwo
	}
	if k.PartErr != nil {
		return k.PartErr
	}
	missed := func(name string) error {
		return ddberr.Validationf("%s", "Query condition missed key schema element: "+name)
	}
	hashes := make([]*KeyPart, len(hashNames))
	ranges := make([]*KeyPart, len(rangeNames))
	for i := range k.Parts {
		p := &k.Parts[i]
		found := false
		for j, n := range hashNames {
			if p.Name == n {
				if p.Op != KeyEQ {
					return ddberr.Validationf("Query key condition not supported")
				}
				hashes[j], found = p, true
			}
		}
		for j, n := range rangeNames {
			if p.Name == n {
				ranges[j], found = p, true
			}
		}
		if !found {
			return missed(hashNames[0])
		}
	}
	for j, p := range hashes {
		if p == nil {
			return missed(hashNames[j])
		}
	}
	k.Hash = hashes[0].Values[0]
	for _, p := range hashes[1:] {
		k.MoreHash = append(k.MoreHash, p.Values[0])
	}
	// The sort key attributes addressed: a leading run, equalities but
	// the last.
	last := -1
	for j, p := range ranges {
		if p != nil {
			last = j
		}
	}
	for j := 0; j < last; j++ {
		switch {
		case ranges[j] == nil:
			return missed(rangeNames[j])
		case ranges[j].Op != KeyEQ:
			return ddberr.Validationf("Query key condition not supported")
		}
		k.SortEq = append(k.SortEq, ranges[j].Values[0])
	}
	if last >= 0 {
		k.Range = ranges[last]
	}
	return nil
}

// CheckTypes checks the condition's values against the key attribute types
// of the schema (rangeType 0 when there is no sort key). Call after Validate.
func (k *KeyCondition) CheckTypes(hashType, rangeType attr.Type) error {
	var ranges []attr.Type
	if rangeType != 0 {
		ranges = []attr.Type{rangeType}
	}
	return k.CheckKeyTypes([]attr.Type{hashType}, ranges)
}

// CheckKeyTypes is CheckTypes for a schema of several partition and sort
// key attributes (the types in key-schema order). Call after ValidateKeys.
func (k *KeyCondition) CheckKeyTypes(hashTypes, rangeTypes []attr.Type) error {
	bad := func() error { return ddberr.Invalidf("Condition parameter type does not match schema type") }
	if k.Hash.Type() != hashTypes[0] {
		return bad()
	}
	for i, v := range k.MoreHash {
		if v.Type() != hashTypes[i+1] {
			return bad()
		}
	}
	for i, v := range k.SortEq {
		if v.Type() != rangeTypes[i] {
			return bad()
		}
	}
	if k.Range != nil {
		for _, v := range k.Range.Values {
			if v.Type() != rangeTypes[len(k.SortEq)] {
				return bad()
			}
		}
	}
	return nil
}
