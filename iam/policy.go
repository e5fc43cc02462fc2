package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MalformedError is IAM's MalformedPolicyDocument: the document was
// refused, Message says why in IAM's words.
type MalformedError struct{ Message string }

func (e *MalformedError) Error() string { return "MalformedPolicyDocument: " + e.Message }

func malformed(format string, args ...any) *MalformedError {
	return &MalformedError{Message: fmt.Sprintf(format, args...)}
}

// LimitError is IAM's LimitExceeded for a document over the size quota.
type LimitError struct{ Message string }

func (e *LimitError) Error() string { return "LimitExceeded: " + e.Message }

// IAM's messages for refused documents (moto's iam/policy_validation.py,
// which recorded them from IAM).
const (
	msgSyntax         = "Syntax errors in policy."
	msgVersion        = "Policy document must be version 2012-10-17 or greater."
	msgLegacy         = "The policy failed legacy parsing"
	msgSidUnique      = "Statement IDs (SID) in a single policy must be unique."
	msgNoActions      = "Policy statement must contain actions."
	msgNoResources    = "Policy statement must contain resources."
	msgVendor         = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon       = "Actions/Condition can contain only one colon."
	maxPolicyDocument = 6144 // IAM's limit for a managed policy, in characters (whitespace excluded)
)

// Effect is a statement's Effect.
type Effect bool

// The two effects.
const (
	Deny  Effect = false
	Allow Effect = true
)

func (e Effect) String() string {
	if e == Allow {
		return "Allow"
	}
	return "Deny"
}

// Policy is a parsed policy document. Immutable; safe for concurrent use.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Actions are lower-cased patterns (Action, or NotAction when
	// NotAction is set): actions match case-insensitively.
	Actions   []string
	NotAction bool
	// Resources are the Resource (or, with NotResource, NotResource)
	// patterns, possibly with policy variables.
	Resources   []string
	NotResource bool
	Conditions  []Condition
}

// Condition is one key of one operator block of a statement's Condition.
type Condition struct {
	Op       string // the base operator, e.g. "StringLike"
	Set      SetQualifier
	IfExists bool
	Key      string // the context key, lower-cased (keys are case-insensitive)
	Values   []string
	op       *operator
}

// SetQualifier is a condition's ForAllValues:/ForAnyValue: prefix.
type SetQualifier uint8

// The set qualifiers.
const (
	SetNone SetQualifier = iota
	ForAllValues
	ForAnyValue
)

// Parse parses and checks a policy document as IAM's CreatePolicy and
// PutUserPolicy do. The error is a *MalformedError, or a *LimitError for a
// document of more than 6,144 characters besides white space (a managed
// policy's quota).
func Parse(doc []byte) (*Policy, error) {
	var top map[string]json.RawMessage
	if err := strictObject(doc, &top); err != nil {
		return nil, malformed(msgSyntax)
	}
	if n := nonSpace(doc); n > maxPolicyDocument {
		return nil, &LimitError{fmt.Sprintf("Cannot exceed quota for PolicySize: %d", maxPolicyDocument)}
	}
	p := &Policy{}
	for k, v := range top {
		switch k {
		case "Version":
			if json.Unmarshal(v, &p.Version) != nil || (p.Version != "2012-10-17" && p.Version != "2008-10-17") {
				return nil, malformed(msgSyntax)
			}
		case "Id":
			if json.Unmarshal(v, &p.ID) != nil {
				return nil, malformed(msgSyntax)
			}
		case "Statement":
		default:
			return nil, malformed(msgSyntax)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, malformed(msgSyntax)
	}
	var stmts []map[string]json.RawMessage
	switch firstByte(raw) {
	case '{':
		var one map[string]json.RawMessage
		if err := strictObject(raw, &one); err != nil {
			return nil, malformed(msgSyntax)
		}
		stmts = append(stmts, one)
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
			return nil, malformed(msgSyntax)
		}
		for _, r := range list {
			var one map[string]json.RawMessage
			if firstByte(r) != '{' || strictObject(r, &one) != nil {
				return nil, malformed(msgSyntax)
			}
			stmts = append(stmts, one)
		}
	default:
		return nil, malformed(msgSyntax)
	}
	// IAM checks in passes (syntax of every statement, then version, then
	// legacy parsing, then SIDs, actions, resources, vendors): the first
	// failing pass names the error.
	var effects []string
	for _, raw := range stmts {
		st, effect, err := parseStatement(raw)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
		effects = append(effects, effect)
	}
	if p.Version != "2012-10-17" {
		return nil, malformed(msgVersion)
	}
	for _, e := range effects {
		if e != "Allow" && e != "Deny" { // case-sensitive here, not in the syntax pass
			return nil, malformed(msgLegacy)
		}
	}
	sids := map[string]bool{}
	for _, st := range p.Statements {
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, malformed(msgSidUnique)
			}
			sids[st.Sid] = true
		}
	}
	for i, raw := range stmts {
		_, a := raw["Action"]
		_, na := raw["NotAction"]
		if !a && !na || len(p.Statements[i].Actions) == 0 {
			return nil, malformed(msgNoActions)
		}
	}
	for i, raw := range stmts {
		_, r := raw["Resource"]
		_, nr := raw["NotResource"]
		if !r && !nr || len(p.Statements[i].Resources) == 0 {
			return nil, malformed(msgNoResources)
		}
	}
	for _, st := range p.Statements {
		for _, r := range st.Resources {
			if r != "*" && !strings.HasPrefix(r, "arn:") {
				return nil, malformed("Resource %s must be in ARN format or \"*\".", r)
			}
		}
	}
	for _, st := range p.Statements {
		for _, a := range st.Actions {
			if err := checkAction(a); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

func parseStatement(raw map[string]json.RawMessage) (st Statement, effect string, err error) {
	for k := range raw {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default: // Principal, NotPrincipal: not in an identity-based policy
			return st, "", malformed(msgSyntax)
		}
	}
	if _, ok := raw["Action"]; ok {
		if _, ok := raw["NotAction"]; ok {
			return st, "", malformed(msgSyntax)
		}
	}
	if _, ok := raw["Resource"]; ok {
		if _, ok := raw["NotResource"]; ok {
			return st, "", malformed(msgSyntax)
		}
	}
	if v, ok := raw["Sid"]; ok && json.Unmarshal(v, &st.Sid) != nil {
		return st, "", malformed(msgSyntax)
	}
	v, ok := raw["Effect"]
	if !ok || json.Unmarshal(v, &effect) != nil || (!strings.EqualFold(effect, "Allow") && !strings.EqualFold(effect, "Deny")) {
		return st, "", malformed(msgSyntax)
	}
	st.Effect = Effect(strings.EqualFold(effect, "Allow"))
	for _, k := range []string{"Action", "NotAction"} {
		if v, ok := raw[k]; ok {
			if st.Actions, err = stringOrList(v); err != nil {
				return st, "", err
			}
			for i, a := range st.Actions {
				st.Actions[i] = strings.ToLower(a)
			}
			st.NotAction = k == "NotAction"
		}
	}
	for _, k := range []string{"Resource", "NotResource"} {
		if v, ok := raw[k]; ok {
			if st.Resources, err = stringOrList(v); err != nil {
				return st, "", err
			}
			st.NotResource = k == "NotResource"
		}
	}
	if v, ok := raw["Condition"]; ok {
		if st.Conditions, err = parseConditions(v); err != nil {
			return st, "", err
		}
	}
	return st, effect, nil
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	var blocks map[string]json.RawMessage
	if firstByte(raw) != '{' || strictObject(raw, &blocks) != nil {
		return nil, malformed(msgSyntax)
	}
	var out []Condition
	for name, body := range blocks {
		var keys map[string]json.RawMessage
		if firstByte(body) != '{' || strictObject(body, &keys) != nil {
			return nil, malformed(msgSyntax)
		}
		base, set, ifExists := splitOperator(name)
		op := operators[base]
		if op == nil {
			if len(keys) == 0 {
				continue // IAM accepts an unknown operator with no keys
			}
			return nil, malformed(msgSyntax)
		}
		for key, vals := range keys {
			values, err := conditionValues(vals)
			if err != nil {
				return nil, err
			}
			if err := checkConditionKey(key); err != nil {
				return nil, err
			}
			out = append(out, Condition{Op: base, Set: set, IfExists: ifExists, Key: strings.ToLower(key), Values: values, op: op})
		}
	}
	return out, nil
}

// splitOperator strips a condition operator's set qualifier and IfExists.
func splitOperator(name string) (base string, set SetQualifier, ifExists bool) {
	switch {
	case strings.HasPrefix(name, "ForAllValues:"):
		name, set = name[len("ForAllValues:"):], ForAllValues
	case strings.HasPrefix(name, "ForAnyValue:"):
		name, set = name[len("ForAnyValue:"):], ForAnyValue
	}
	if strings.HasSuffix(name, "IfExists") && name != "IfExists" {
		name, ifExists = strings.TrimSuffix(name, "IfExists"), true
	}
	return name, set, ifExists
}

func checkConditionKey(key string) error {
	parts := strings.Split(key, ":")
	switch {
	case len(parts) == 1:
		return malformed(msgVendor)
	case len(parts) > 2 && !strings.HasPrefix(strings.ToLower(key), "aws:requesttag/") && !strings.HasPrefix(strings.ToLower(key), "aws:resourcetag/"):
		return malformed(msgOneColon)
	}
	return nil
}

func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	vendor, _, ok := strings.Cut(a, ":")
	switch {
	case !ok:
		return malformed(msgVendor)
	case strings.Count(a, ":") > 1:
		return malformed(msgOneColon)
	}
	for _, c := range vendor {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return malformed("Vendor %s is not valid", vendor)
		}
	}
	return nil
}

// stringOrList decodes a member that is one string or a list of strings.
func stringOrList(raw json.RawMessage) ([]string, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, malformed(msgSyntax)
		}
		return []string{s}, nil
	case '[':
		var l []string
		if json.Unmarshal(raw, &l) != nil {
			return nil, malformed(msgSyntax)
		}
		return l, nil
	}
	return nil, malformed(msgSyntax)
}

// conditionValues decodes a condition key's value: a string, number or
// boolean, or a list of them (IAM keeps them as text).
func conditionValues(raw json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if firstByte(raw) == '[' {
		if json.Unmarshal(raw, &list) != nil {
			return nil, malformed(msgSyntax)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		switch firstByte(v) {
		case '"':
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, malformed(msgSyntax)
			}
			out = append(out, s)
		case 't', 'f':
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return nil, malformed(msgSyntax)
			}
			out = append(out, strconv.FormatBool(b))
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			var n json.Number
			if json.Unmarshal(v, &n) != nil {
				return nil, malformed(msgSyntax)
			}
			out = append(out, n.String())
		default:
			return nil, malformed(msgSyntax)
		}
	}
	return out, nil
}

// strictObject decodes a JSON object, refusing duplicate members (IAM
// does) and trailing data.
func strictObject(raw []byte, v *map[string]json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not an object")
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		if _, dup := m[k]; dup {
			return fmt.Errorf("duplicate member %q", k)
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		m[k] = val
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return fmt.Errorf("trailing data")
	}
	*v = m
	return nil
}

func firstByte(raw []byte) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func nonSpace(b []byte) int {
	n := 0
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			n++
		}
	}
	return n
}
