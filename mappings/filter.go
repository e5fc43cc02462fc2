package mappings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// filter is one compiled EventBridge-style pattern of FilterCriteria. A
// pattern is a JSON object whose keys name members of the Lambda event
// record ({"eventName":..., "dynamodb":{"NewImage":...}}); an object value
// descends, an array value lists matchers of which one must match. Supported
// matchers: literal strings, numbers, booleans and null (exact), {"prefix"},
// {"suffix"}, {"anything-but": value, list or {"prefix"}}, {"numeric":
// [op, n, ...]}, {"exists": bool}, {"equals-ignore-case"}; "$or" takes a
// list of patterns of which one must match.
type filter struct{ root map[string]any }

var errBadPattern = errors.New("Invalid filter pattern definition.")

// Bounds on a pattern, checked before it is decoded. maxPatternLen is
// Lambda's: Filter.Pattern has "Length Constraints: Minimum length of 0.
// Maximum length of 4096." (Lambda API reference, Filter). maxPatternDepth
// is eddy's: Lambda documents none, and 4096 characters could still nest
// 2,000 levels for the recursive checks and matching below; 100 leaves room
// for a DynamoDB item's 32 levels of nested maps ({"M":{...}} is two
// levels each) under "dynamodb" and "NewImage".
const (
	maxPatternLen   = 4096
	maxPatternDepth = 100
)

func compileFilter(src string) (*filter, error) {
	if utf8.RuneCountInString(src) > maxPatternLen || !shallow(src, maxPatternDepth) {
		return nil, errBadPattern
	}
	d := json.NewDecoder(strings.NewReader(src))
	d.UseNumber()
	var root map[string]any
	if err := d.Decode(&root); err != nil || root == nil || d.More() {
		return nil, errBadPattern
	}
	if err := checkPattern(root); err != nil {
		return nil, err
	}
	return &filter{root: root}, nil
}

// shallow reports whether the JSON text nests objects and arrays at most
// max deep, reading it once without decoding it (strings are skipped, so
// brackets inside them do not count).
func shallow(src string, max int) bool {
	depth, inStr, esc := 0, false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

func checkPattern(p map[string]any) error {
	for k, v := range p {
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return errBadPattern
			}
			for _, a := range alts {
				m, ok := a.(map[string]any)
				if !ok {
					return errBadPattern
				}
				if err := checkPattern(m); err != nil {
					return err
				}
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if err := checkPattern(v); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return errBadPattern
			}
			for _, m := range v {
				if err := checkMatcher(m); err != nil {
					return err
				}
			}
		default:
			return errBadPattern
		}
	}
	return nil
}

func checkMatcher(m any) error {
	o, ok := m.(map[string]any)
	if !ok {
		return nil // literal
	}
	if len(o) != 1 {
		return errBadPattern
	}
	for k, v := range o {
		switch k {
		case "prefix", "suffix", "equals-ignore-case":
			if _, ok := v.(string); !ok {
				return errBadPattern
			}
		case "exists":
			if _, ok := v.(bool); !ok {
				return errBadPattern
			}
		case "anything-but":
			switch v := v.(type) {
			case map[string]any:
				if s, ok := v["prefix"].(string); !ok || len(v) != 1 || s == "" {
					return errBadPattern
				}
			case []any:
				for _, x := range v {
					if _, ok := x.(map[string]any); ok {
						return errBadPattern
					}
				}
			}
		case "numeric":
			l, ok := v.([]any)
			if !ok || len(l) == 0 || len(l)%2 != 0 || len(l) > 4 {
				return errBadPattern
			}
			for i := 0; i < len(l); i += 2 {
				op, ok := l[i].(string)
				if !ok || !validOp(op) {
					return errBadPattern
				}
				if _, ok := l[i+1].(json.Number); !ok {
					return errBadPattern
				}
			}
		default:
			return errBadPattern
		}
	}
	return nil
}

func validOp(op string) bool {
	switch op {
	case "=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// match reports whether the decoded event record satisfies the pattern.
func (f *filter) match(ev map[string]any) bool { return matchObject(f.root, ev) }

func matchObject(p map[string]any, ev map[string]any) bool {
	for k, pv := range p {
		if k == "$or" {
			hit := false
			for _, a := range pv.([]any) {
				if matchObject(a.(map[string]any), ev) {
					hit = true
					break
				}
			}
			if !hit {
				return false
			}
			continue
		}
		v, present := ev[k]
		switch pv := pv.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !matchObject(pv, sub) {
				return false
			}
		case []any:
			if !matchList(pv, v, present) {
				return false
			}
		}
	}
	return true
}

// matchList: one matcher must match the value (or, for an array value, one
// of its elements).
func matchList(ms []any, v any, present bool) bool {
	for _, m := range ms {
		if o, ok := m.(map[string]any); ok {
			if e, ok := o["exists"]; ok {
				_, isObj := v.(map[string]any)
				if e.(bool) == (present && !isObj) {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, x := range arr {
				if matchOne(m, x) {
					return true
				}
			}
			continue
		}
		if matchOne(m, v) {
			return true
		}
	}
	return false
}

func matchOne(m, v any) bool {
	o, ok := m.(map[string]any)
	if !ok {
		return literalEqual(m, v)
	}
	for k, arg := range o {
		switch k {
		case "prefix":
			s, ok := v.(string)
			return ok && strings.HasPrefix(s, arg.(string))
		case "suffix":
			s, ok := v.(string)
			return ok && strings.HasSuffix(s, arg.(string))
		case "equals-ignore-case":
			s, ok := v.(string)
			return ok && strings.EqualFold(s, arg.(string))
		case "anything-but":
			switch a := arg.(type) {
			case map[string]any:
				s, ok := v.(string)
				return ok && !strings.HasPrefix(s, a["prefix"].(string))
			case []any:
				for _, x := range a {
					if literalEqual(x, v) {
						return false
					}
				}
				return true
			default:
				return !literalEqual(a, v)
			}
		case "numeric":
			n, ok := number(v)
			if !ok {
				return false
			}
			l := arg.([]any)
			for i := 0; i < len(l); i += 2 {
				b, _ := number(l[i+1])
				var r bool
				switch l[i].(string) {
				case "=":
					r = n == b
				case "<":
					r = n < b
				case "<=":
					r = n <= b
				case ">":
					r = n > b
				case ">=":
					r = n >= b
				}
				if !r {
					return false
				}
			}
			return true
		}
	}
	return false
}

func literalEqual(p, v any) bool {
	switch p := p.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == p
	case json.Number:
		a, ok1 := number(p)
		b, ok2 := number(v)
		return ok1 && ok2 && a == b
	case bool:
		b, ok := v.(bool)
		return ok && b == p
	case nil:
		return v == nil
	}
	return false
}

// number reads a JSON number. A string never matches numerically, also one
// holding a number: DynamoDB JSON renders numbers as strings ({"N":"42"}),
// and Lambda does not match {"numeric":...} or a number literal against
// them (AWS's recorded behaviour); ApproximateCreationDateTime is a number.
func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// decodeEvent decodes a rendered record for matching.
func decodeEvent(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	err := d.Decode(&m)
	return m, err
}

// compileFilters compiles a mapping's FilterCriteria (nil: every record
// passes). Create and Update reject a pattern that does not compile, so an
// error here means a stored mapping is corrupt.
func compileFilters(fc *FilterCriteria) ([]*filter, error) {
	if fc == nil {
		return nil, nil
	}
	out := make([]*filter, 0, len(fc.Filters))
	for i, f := range fc.Filters {
		cf, err := compileFilter(f.Pattern)
		if err != nil {
			return nil, fmt.Errorf("mappings: filter %d (%s): %w", i, f.Pattern, err)
		}
		out = append(out, cf)
	}
	return out, nil
}

// keep applies compiled FilterCriteria to a rendered record: any filter
// matches (none configured: all pass). A record that is not JSON fails.
func keep(filters []*filter, js []byte) bool {
	if len(filters) == 0 {
		return true
	}
	ev, err := decodeEvent(js)
	if err != nil {
		return false
	}
	for _, f := range filters {
		if f.match(ev) {
			return true
		}
	}
	return false
}

// Filters is a mapping's compiled FilterCriteria, for a process that
// delivers a mapping's records itself (package worker).
type Filters struct{ fs []*filter }

// CompileFilters compiles fc (nil or no filters: every record passes).
func CompileFilters(fc *FilterCriteria) (Filters, error) {
	fs, err := compileFilters(fc)
	return Filters{fs}, err
}

// Keep reports whether a record, as the function would get it (the
// GetRecords record with its eventSourceARN), passes: any filter matches,
// or there are none.
func (f Filters) Keep(record []byte) bool { return keep(f.fs, record) }
