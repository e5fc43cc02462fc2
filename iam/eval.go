package iam

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Context is a request's condition keys and their values. Keys are
// case-insensitive (stored lower-cased); a key may have several values
// (dynamodb:LeadingKeys, dynamodb:Attributes). A key set with no values is
// present but empty: ForAllValues holds over it, Null counts it as absent.
type Context map[string][]string

// Set sets key to values.
func (c Context) Set(key string, values ...string) { c[strings.ToLower(key)] = values }

// Get returns key's values and whether it is present.
func (c Context) Get(key string) ([]string, bool) {
	v, ok := c[strings.ToLower(key)]
	return v, ok
}

// PrincipalKeys sets the global condition keys a principal's ARN implies,
// unless already set: aws:PrincipalArn, and aws:username for an IAM user
// (arn:<partition>:iam::<account>:user/[path/]name).
func PrincipalKeys(ctx Context, principal string) {
	if _, ok := ctx.Get("aws:PrincipalArn"); !ok && principal != "" {
		ctx.Set("aws:PrincipalArn", principal)
	}
	if _, ok := ctx.Get("aws:username"); !ok {
		parts := strings.SplitN(principal, ":", 6)
		if len(parts) == 6 && parts[2] == "iam" && strings.HasPrefix(parts[5], "user/") {
			ctx.Set("aws:username", parts[5][strings.LastIndexByte(parts[5], '/')+1:])
		}
	}
}

// Request is one authorization question: may Principal perform Action on
// Resource, given Context?
type Request struct {
	Principal string // the principal's ARN
	Action    string // "dynamodb:GetItem"
	Resource  string // the resource's ARN
	Context   Context
}

// Named is a policy and the name it is stored under.
type Named struct {
	Name   string
	Policy *Policy
}

// Decision is the outcome of evaluating a request.
type Decision struct {
	Allowed bool
	// ExplicitDeny: a Deny statement matched (Allowed is false). When
	// neither Allowed nor ExplicitDeny, no statement allowed it (the
	// implicit deny).
	ExplicitDeny bool
	// Policy, Statement and Sid name the statement that decided (the
	// matching Deny, or the first matching Allow); empty for an
	// implicit deny. Statement is the statement's index.
	Policy    string
	Statement int
	Sid       string
}

// Evaluate decides req against policies: an explicit deny in any of them
// wins, then any allow, otherwise the request is denied.
func Evaluate(policies []Named, req *Request) Decision {
	var allow Decision
	for _, np := range policies {
		for i := range np.Policy.Statements {
			st := &np.Policy.Statements[i]
			if st.Effect == Allow && allow.Allowed {
				continue // one allow suffices; only a deny can still change the outcome
			}
			if !st.matches(req) {
				continue
			}
			d := Decision{Policy: np.Name, Statement: i, Sid: st.Sid}
			if st.Effect == Deny {
				d.ExplicitDeny = true
				return d
			}
			d.Allowed = true
			allow = d
		}
	}
	return allow
}

func (st *Statement) matches(req *Request) bool {
	action := false
	for _, a := range st.Actions {
		if wildcardFold(a, req.Action) {
			action = true
			break
		}
	}
	if action == st.NotAction {
		return false
	}
	resource := false
	for _, r := range st.Resources {
		r, ok := substitute(r, req.Context)
		if ok && wildcard(r, req.Resource) {
			resource = true
			break
		}
	}
	if resource == st.NotResource {
		return false
	}
	for i := range st.Conditions {
		if !st.Conditions[i].holds(req.Context) {
			return false
		}
	}
	return true
}

// holds evaluates one condition key against the context.
func (c *Condition) holds(ctx Context) bool {
	if c.Op == "Null" {
		vals, ok := ctx[c.Key]
		absent := !ok || len(vals) == 0
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == absent {
				return true
			}
		}
		return false
	}
	vals, ok := ctx[c.Key]
	if !ok || len(vals) == 0 {
		switch {
		case c.IfExists:
			return true
		case c.Set == ForAllValues:
			return true
		case c.Set == ForAnyValue:
			return false
		}
		return c.op.negated // a missing key matches no value
	}
	// matchOne: does one context value satisfy the operator (for a negated
	// one: match none of the policy values)?
	matchOne := func(v string) bool {
		any := false
		for _, pv := range c.Values {
			pv, ok := substitute(pv, ctx)
			if ok && c.op.match(v, pv) {
				any = true
				break
			}
		}
		return any != c.op.negated
	}
	switch c.Set {
	case ForAllValues:
		for _, v := range vals {
			if !matchOne(v) {
				return false
			}
		}
		return true
	case ForAnyValue:
		for _, v := range vals {
			if matchOne(v) {
				return true
			}
		}
		return false
	}
	if c.op.negated {
		for _, v := range vals {
			if !matchOne(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if matchOne(v) {
			return true
		}
	}
	return false
}

// operator is one condition operator: match compares a context value with
// a policy value (for a negated operator, the positive comparison).
type operator struct {
	match   func(ctxValue, policyValue string) bool
	negated bool
}

var operators = map[string]*operator{}

func init() {
	pos := func(name string, f func(a, b string) bool) { operators[name] = &operator{match: f} }
	neg := func(name string, f func(a, b string) bool) { operators[name] = &operator{match: f, negated: true} }
	eq := func(a, b string) bool { return a == b }
	pos("StringEquals", eq)
	neg("StringNotEquals", eq)
	pos("StringEqualsIgnoreCase", strings.EqualFold)
	neg("StringNotEqualsIgnoreCase", strings.EqualFold)
	pos("StringLike", func(a, b string) bool { return wildcard(b, a) })
	neg("StringNotLike", func(a, b string) bool { return wildcard(b, a) })
	pos("BinaryEquals", eq)
	pos("Bool", strings.EqualFold)
	num := func(cmp func(x, y float64) bool) func(a, b string) bool {
		return func(a, b string) bool {
			x, err1 := strconv.ParseFloat(a, 64)
			y, err2 := strconv.ParseFloat(b, 64)
			return err1 == nil && err2 == nil && cmp(x, y)
		}
	}
	pos("NumericEquals", num(func(x, y float64) bool { return x == y }))
	neg("NumericNotEquals", num(func(x, y float64) bool { return x == y }))
	pos("NumericLessThan", num(func(x, y float64) bool { return x < y }))
	pos("NumericLessThanEquals", num(func(x, y float64) bool { return x <= y }))
	pos("NumericGreaterThan", num(func(x, y float64) bool { return x > y }))
	pos("NumericGreaterThanEquals", num(func(x, y float64) bool { return x >= y }))
	date := func(cmp func(x, y time.Time) bool) func(a, b string) bool {
		return func(a, b string) bool {
			x, ok1 := parseDate(a)
			y, ok2 := parseDate(b)
			return ok1 && ok2 && cmp(x, y)
		}
	}
	pos("DateEquals", date(time.Time.Equal))
	neg("DateNotEquals", date(time.Time.Equal))
	pos("DateLessThan", date(time.Time.Before))
	pos("DateLessThanEquals", date(func(x, y time.Time) bool { return !x.After(y) }))
	pos("DateGreaterThan", date(time.Time.After))
	pos("DateGreaterThanEquals", date(func(x, y time.Time) bool { return !x.Before(y) }))
	pos("IpAddress", ipIn)
	neg("NotIpAddress", ipIn)
	pos("ArnEquals", arnLike)
	pos("ArnLike", arnLike)
	neg("ArnNotEquals", arnLike)
	neg("ArnNotLike", arnLike)
	operators["Null"] = &operator{match: eq}
}

// parseDate reads an ISO 8601 date or time, or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// ipIn: is the address a inside b (a CIDR block or one address)?
func ipIn(a, b string) bool {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return false
	}
	if !strings.Contains(b, "/") {
		other, err := netip.ParseAddr(b)
		return err == nil && other.Unmap() == ip.Unmap()
	}
	p, err := netip.ParsePrefix(b)
	return err == nil && p.Contains(ip.Unmap())
}

// arnLike matches the six colon-separated parts of an ARN separately, each
// with wildcards (ArnLike; ArnEquals is the same in IAM).
func arnLike(value, pattern string) bool {
	vp := strings.SplitN(value, ":", 6)
	pp := strings.SplitN(pattern, ":", 6)
	if len(vp) != 6 || len(pp) != 6 {
		return false
	}
	for i := range vp {
		if !wildcard(pp[i], vp[i]) {
			return false
		}
	}
	return true
}

// wildcard reports whether s matches pattern, where * matches any run of
// characters and ? any one character. Case-sensitive.
func wildcard(pattern, s string) bool { return wildmatch(pattern, s, false) }

// wildcardFold is wildcard ignoring case (actions).
func wildcardFold(pattern, s string) bool { return wildmatch(pattern, s, true) }

func wildmatch(p, s string, fold bool) bool {
	// Iterative matching with backtracking to the last star: linear in
	// practice, never exponential.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si] || fold && lower(p[pi]) == lower(s[si])):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// substitute replaces the policy variables in s with the context's values
// (${aws:username}, ${key, 'default'}; ${*} ${?} ${$} are the characters
// themselves). ok is false when a variable has no single value: the entry
// then matches nothing, as IAM's does. A value holding * or ? is treated as
// missing too, so that a user name cannot widen a pattern (IAM matches such
// characters literally; eddy refuses them instead, the safer side).
func substitute(s string, ctx Context) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		s = s[i+j+1:]
		switch name {
		case "*", "?", "$":
			b.WriteString(name)
			continue
		}
		def, hasDef := "", false
		if k, d, ok := strings.Cut(name, ","); ok {
			name = strings.TrimSpace(k)
			d = strings.TrimSpace(d)
			if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
				def, hasDef = d[1:len(d)-1], true
			}
		}
		vals, ok := ctx[strings.ToLower(strings.TrimSpace(name))]
		switch {
		case ok && len(vals) == 1 && !strings.ContainsAny(vals[0], "*?"):
			b.WriteString(vals[0])
		case hasDef:
			b.WriteString(def)
		default:
			return "", false
		}
	}
}
