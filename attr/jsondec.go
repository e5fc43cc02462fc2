package attr

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/eddydb/eddy/internal/ddberr"
)

// The DynamoDB JSON decoder behind Value.UnmarshalJSON: one pass over the
// bytes, recursion for M and L, no encoding/json.
//
// It reproduces what decoding through encoding/json did (and DynamoDB's
// order of checks), which json_oracle_test.go keeps as the oracle:
//
//  1. Any JSON syntax error anywhere in the input (including nesting deeper
//     than encoding/json's 10000 levels) is "Unexpected value type in
//     payload", whatever else is wrong. So a semantic error found part way
//     does not stop the pass: the rest is still checked for syntax.
//  2. Within one attribute value object (duplicate keys: the last wins;
//     unknown keys are ignored): N's payload (not a string: "for member N";
//     a null is the empty string), then NS's payload (not a list of strings
//     and nulls: "for member NS"; null elements are empty strings), are
//     checked as numbers; then the known types whose payload is not null are
//     counted (none: empty; several: more than one datatype); then the one
//     payload is decoded as its type.
//  3. Inside M and L the first invalid member, in document order, is the
//     error.
//
// Strings are unescaped as encoding/json does: every escape, \uXXXX with
// surrogate pairs, and a lone surrogate or an invalid UTF-8 byte becomes
// U+FFFD.

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

var errPayload = ddberr.New(ddberr.KindSerialization, "Unexpected value type in payload")

// jdec is one decoding pass. A syntax error sets bad and unwinds: every
// method returns at once when bad is set.
type jdec struct {
	data  []byte
	pos   int
	depth int32
	peak  int32 // the deepest depth entered (RequestScanner's nesting bound)
	bad   bool
	buf   []byte // scratch for unescaping keys
}

// decodeValueJSON decodes one attribute value: the whole input, with only
// white space around it.
func decodeValueJSON(data []byte) (Value, error) {
	d := jdec{data: data}
	v, err := d.value()
	if !d.bad {
		d.ws()
		if d.pos != len(d.data) {
			d.bad = true
		}
	}
	if d.bad {
		return Value{}, errPayload
	}
	return v, err
}

func (d *jdec) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte (0 at the end).
func (d *jdec) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *jdec) fail() { d.bad = true }

// literal consumes the literal lit (true, false, null) at pos.
func (d *jdec) literal(lit string) {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return
	}
	d.fail()
}

// isNull consumes a null literal if one comes next.
func (d *jdec) isNull() bool {
	if d.peek() == 'n' {
		d.literal("null")
		return true
	}
	return false
}

// typeSlot is what one known type key held: its payload decoded as that
// type (the last occurrence of the key).
type typeSlot struct {
	present bool
	null    bool  // the payload was the literal null
	pre     error // N, NS: the number check (step 2)
	err     error // the payload's own error
	v       Value
}

// value decodes one attribute value object, or reports why it is not one.
func (d *jdec) value() (Value, error) {
	switch d.peek() {
	case '{':
	case 'n':
		d.literal("null") // json.Unmarshal of null into a map: no members
		return Value{}, ddberr.Validationf(msgEmptyValue)
	default:
		d.skip()
		return Value{}, errPayload
	}
	if !d.enter() {
		return Value{}, nil
	}
	d.pos++
	var slots [TypeBS + 1]typeSlot
	if d.peek() == '}' {
		d.pos++
	} else {
		for !d.bad {
			key := d.keyBytes()
			if d.bad {
				break
			}
			t := typeOfKey(key)
			if d.colon(); d.bad {
				break
			}
			if t == 0 {
				d.skip()
			} else {
				slots[t] = d.payload(t)
			}
			if !d.next('}') {
				break
			}
		}
	}
	d.depth--
	if d.bad {
		return Value{}, nil
	}
	if s := &slots[TypeN]; s.present && s.pre != nil {
		return Value{}, s.pre
	}
	if s := &slots[TypeNS]; s.present && s.pre != nil {
		return Value{}, s.pre
	}
	var one *typeSlot
	known := 0
	for i := range slots {
		if s := &slots[i]; s.present && !s.null {
			known++
			one = s
		}
	}
	switch {
	case known == 0:
		return Value{}, ddberr.Validationf(msgEmptyValue)
	case known > 1:
		return Value{}, ddberr.Validationf(msgMultiTypes)
	}
	return one.v, one.err
}

// enter counts one level of nesting ('{' or '[' at pos).
func (d *jdec) enter() bool {
	d.depth++
	if d.depth > d.peak {
		d.peak = d.depth
	}
	if d.depth > maxJSONDepth {
		d.fail()
		return false
	}
	return true
}

func (d *jdec) colon() {
	if d.peek() != ':' {
		d.fail()
		return
	}
	d.pos++
}

// next consumes the ',' between members or elements (true: another one
// follows) or the closing byte (false).
func (d *jdec) next(closing byte) bool {
	switch d.peek() {
	case ',':
		d.pos++
		return true
	case closing:
		d.pos++
		return false
	}
	d.fail()
	return false
}

func typeOfKey(k []byte) Type {
	switch string(k) {
	case "S":
		return TypeS
	case "N":
		return TypeN
	case "B":
		return TypeB
	case "BOOL":
		return TypeBOOL
	case "NULL":
		return TypeNULL
	case "M":
		return TypeM
	case "L":
		return TypeL
	case "SS":
		return TypeSS
	case "NS":
		return TypeNS
	case "BS":
		return TypeBS
	}
	return 0
}

// payload decodes the payload of type key t.
func (d *jdec) payload(t Type) (s typeSlot) {
	s.present = true
	c := d.peek()
	if c == 'n' {
		d.literal("null")
		s.null = true
		if t == TypeN { // a null N is the empty string, not a number
			_, err := ParseNumber("")
			s.pre = ddberr.Validationf("%s", err.Error())
		}
		return s
	}
	switch t {
	case TypeS, TypeN, TypeB:
		if c != '"' {
			d.skip()
			s.err = serial(t.String())
			if t == TypeN {
				s.pre = s.err
			}
			return s
		}
		str := d.str()
		switch t {
		case TypeS:
			s.v = S(str)
		case TypeN:
			n, err := ParseNumber(str)
			if err != nil {
				s.pre = ddberr.Validationf("%s", err.Error())
			} else {
				s.v = NumberValue(n)
			}
		case TypeB:
			b, err := decodeB64String(str)
			s.v, s.err = B(b), err
		}
	case TypeBOOL, TypeNULL:
		var b bool
		switch c {
		case 't':
			d.literal("true")
			b = true
		case 'f':
			d.literal("false")
		default:
			d.skip()
			s.err = serial(t.String())
			return s
		}
		if t == TypeBOOL {
			s.v = Bool(b)
		} else {
			// {"NULL": false} is a NULL like {"NULL": true}: DynamoDB
			// accepts it and stores NULL true since its 2026-06 rewording
			// (nubo-db/dynamodb-conformance captures/2026-06-09-validation-rewording.json,
			// nullRoundTrip; tests/tier3/error-messages/putItem.test.ts), where
			// it had refused it ("Null attribute value types must have the
			// value of true").
			s.v = Null()
		}
	case TypeM:
		if c != '{' {
			d.skip()
			s.err = errPayload
			return s
		}
		m, err := d.members()
		s.v, s.err = M(m), err
	case TypeL:
		if c != '[' {
			d.skip()
			s.err = errPayload
			return s
		}
		s.v, s.err = d.list()
	case TypeSS, TypeNS:
		list, ok := d.strList()
		if !ok {
			s.err = serial(t.String())
			if t == TypeNS {
				s.pre = s.err
			}
			return s
		}
		if t == TypeSS {
			s.v, s.err = stringSet(list)
			return s
		}
		for _, x := range list {
			if _, err := ParseNumber(x); err != nil {
				s.pre = ddberr.Validationf("%s", err.Error())
				return s
			}
		}
		s.v, s.err = numberSet(list)
	case TypeBS:
		if c != '[' {
			d.skip()
			s.err = serial("BS")
			return s
		}
		s.v, s.err = d.binarySet()
	}
	return s
}

// members decodes an object of attribute values (an M, or an item) at pos.
func (d *jdec) members() (map[string]Value, error) {
	if !d.enter() {
		return nil, nil
	}
	d.pos++
	m := map[string]Value{}
	var first error
	if d.peek() == '}' {
		d.pos++
	} else {
		for !d.bad {
			if d.peek() != '"' {
				d.fail()
				break
			}
			k := d.str()
			if d.colon(); d.bad {
				break
			}
			if first != nil {
				d.skip()
			} else if v, err := d.value(); err != nil {
				first = err
			} else {
				m[k] = v
			}
			if !d.next('}') {
				break
			}
		}
	}
	d.depth--
	return m, first
}

// list decodes an L's array at pos.
func (d *jdec) list() (Value, error) {
	if !d.enter() {
		return Value{}, nil
	}
	d.pos++
	l := []Value{}
	var first error
	if d.peek() == ']' {
		d.pos++
	} else {
		for !d.bad {
			if first != nil {
				d.skip()
			} else if v, err := d.value(); err != nil {
				first = err
			} else {
				l = append(l, v)
			}
			if !d.next(']') {
				break
			}
		}
	}
	d.depth--
	return L(l), first
}

// strList decodes an array of strings, a null element being the empty
// string; ok is false for anything else (which is skipped).
func (d *jdec) strList() (list []string, ok bool) {
	if d.peek() != '[' {
		d.skip()
		return nil, false
	}
	if !d.enter() {
		return nil, false
	}
	d.pos++
	ok = true
	list = []string{}
	if d.peek() == ']' {
		d.pos++
	} else {
		for !d.bad {
			switch d.peek() {
			case '"':
				list = append(list, d.str())
			case 'n':
				d.literal("null")
				list = append(list, "")
			default:
				d.skip()
				ok = false
			}
			if !d.next(']') {
				break
			}
		}
	}
	d.depth--
	return list, ok
}

func stringSet(ss []string) (Value, error) {
	if len(ss) == 0 {
		return Value{}, ddberr.Invalidf("An string set  may not be empty")
	}
	if hasDuplicate(ss) {
		return Value{}, ddberr.Invalidf("Input collection [%s] contains duplicates.", strings.Join(ss, ", "))
	}
	return SS(ss), nil
}

// numberSet canonicalizes the members of an NS already checked as numbers.
func numberSet(ns []string) (Value, error) {
	if len(ns) == 0 {
		return Value{}, ddberr.Invalidf("An number set  may not be empty")
	}
	for i, s := range ns {
		n, _ := ParseNumber(s)
		ns[i] = n.String()
	}
	if hasDuplicate(ns) {
		return Value{}, ddberr.Validationf("Input collection contains duplicates")
	}
	return NS(ns), nil
}

// hasDuplicate reports whether two members of ss are equal; small sets are
// compared pairwise (no map).
func hasDuplicate(ss []string) bool {
	if len(ss) <= 16 {
		for i := 1; i < len(ss); i++ {
			for j := 0; j < i; j++ {
				if ss[i] == ss[j] {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(ss))
	for _, s := range ss {
		if _, dup := seen[s]; dup {
			return true
		}
		seen[s] = struct{}{}
	}
	return false
}

// binarySet decodes a BS's array at pos. Its elements are checked in order
// after the whole array is read: a non-string is "for member B", a null is
// the empty string, a duplicate lists every element's text.
func (d *jdec) binarySet() (Value, error) {
	if !d.enter() {
		return Value{}, nil
	}
	d.pos++
	var texts []string
	var isStr []bool
	if d.peek() == ']' {
		d.pos++
	} else {
		for !d.bad {
			switch d.peek() {
			case '"':
				texts, isStr = append(texts, d.str()), append(isStr, true)
			case 'n':
				d.literal("null")
				texts, isStr = append(texts, ""), append(isStr, true)
			default:
				d.skip()
				texts, isStr = append(texts, ""), append(isStr, false)
			}
			if !d.next(']') {
				break
			}
		}
	}
	d.depth--
	if d.bad {
		return Value{}, nil
	}
	if len(texts) == 0 {
		return Value{}, ddberr.Invalidf("Binary sets should not be empty")
	}
	bs := make([][]byte, len(texts))
	var seen map[string]struct{}
	if len(texts) > 16 {
		seen = make(map[string]struct{}, len(texts))
	}
	for i, s := range texts {
		if !isStr[i] {
			return Value{}, serial("B")
		}
		b, err := decodeB64String(s)
		if err != nil {
			return Value{}, err
		}
		dup := false
		if seen != nil {
			_, dup = seen[string(b)]
			seen[string(b)] = struct{}{}
		} else {
			for _, prev := range bs[:i] {
				dup = dup || string(prev) == string(b)
			}
		}
		if dup {
			return Value{}, ddberr.Invalidf("Input collection [%s]of type BS contains duplicates.", strings.Join(texts, ", "))
		}
		bs[i] = b
	}
	return BS(bs), nil
}

func decodeB64String(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ddberr.New(ddberr.KindSerialization, "Base64 encoded length is expected a multiple of 4 bytes but found: %d", len(s))
	}
	return b, nil
}

// keyBytes reads a member name at pos without allocating when it has no
// escapes; the result is valid until the next keyBytes.
func (d *jdec) keyBytes() []byte {
	if d.peek() != '"' {
		d.fail()
		return nil
	}
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return d.data[start:i]
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	d.buf = d.unquote(d.buf[:0])
	return d.buf
}

// str reads a JSON string at pos (which holds '"').
func (d *jdec) str() string {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return string(d.data[start:i])
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return string(d.unquote(nil))
}

// unquote appends the unescaped string at pos (which holds '"') to dst, as
// encoding/json unescapes it.
func (d *jdec) unquote(dst []byte) []byte {
	i := d.pos + 1
	data := d.data
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return dst
		case c < 0x20:
			d.fail()
			return dst
		case c == '\\':
			if i+1 >= len(data) {
				d.fail()
				return dst
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(data[i+2:])
				if r < 0 {
					d.fail()
					return dst
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						if r2 := hex4(data[i+2:]); r2 >= 0 {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								dst = utf8.AppendRune(dst, dec)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default:
				d.fail()
				return dst
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, data[i:i+size]...)
			}
			i += size
		}
	}
	d.fail()
	return dst
}

// hex4 decodes the 4 hex digits at the start of b; -1 if there are none.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// skip checks the syntax of any JSON value at pos and passes over it.
func (d *jdec) skip() {
	switch d.peek() {
	case '{':
		if !d.enter() {
			return
		}
		d.pos++
		if d.peek() == '}' {
			d.pos++
		} else {
			for !d.bad {
				if d.peek() != '"' {
					d.fail()
					break
				}
				d.skipString()
				if d.colon(); d.bad {
					break
				}
				d.skip()
				if !d.next('}') {
					break
				}
			}
		}
		d.depth--
	case '[':
		if !d.enter() {
			return
		}
		d.pos++
		if d.peek() == ']' {
			d.pos++
		} else {
			for !d.bad {
				d.skip()
				if !d.next(']') {
					break
				}
			}
		}
		d.depth--
	case '"':
		d.skipString()
	case 't':
		d.literal("true")
	case 'f':
		d.literal("false")
	case 'n':
		d.literal("null")
	default:
		d.skipNumber()
	}
}

func (d *jdec) skipString() {
	data := d.data
	for i := d.pos + 1; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return
		case c < 0x20:
			d.fail()
			return
		case c == '\\':
			if i+1 >= len(data) {
				d.fail()
				return
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if hex4(data[i+2:]) < 0 {
					d.fail()
					return
				}
				i += 5
			default:
				d.fail()
				return
			}
		}
	}
	d.fail()
}

// skipNumber checks JSON number syntax: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jdec) skipNumber() {
	data, i := d.data, d.pos
	digits := func() bool {
		s := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		digits()
	default:
		d.fail()
		return
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			d.fail()
			return
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			d.fail()
			return
		}
	}
	d.pos = i
}
