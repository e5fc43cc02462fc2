package attr

// RequestScanner reads the top level of a JSON request body for the hand
// written decoders of the hot operations (api: PutItem, GetItem). It accepts only
// the common, well-formed case: anything else (a syntax error, a null, a
// member name with escapes, an attribute value DynamoDB rejects, a
// duplicate attribute name, a value that may be nested past DynamoDB's
// limit) makes a method report !ok, and the caller then
// decodes the body the generic way, which produces the error, with its
// precedence, exactly as before. Strings are unescaped as encoding/json
// does and attribute values decoded as Value.UnmarshalJSON does (jdec), so
// whatever the scanner accepts decodes to what encoding/json would give.
type RequestScanner struct {
	d       jdec
	members int
}

// NewRequestScanner scans body.
func NewRequestScanner(body []byte) RequestScanner {
	return RequestScanner{d: jdec{data: body}}
}

// Open consumes the body's opening '{'.
func (s *RequestScanner) Open() bool {
	if s.d.peek() != '{' {
		return false
	}
	s.d.pos++
	s.d.depth = 1
	return true
}

// Member reads the next member's name and its ':'; done is true (and name
// nil) at the body's closing '}'. The name aliases the body and has no
// escapes (a name with escapes is !ok).
func (s *RequestScanner) Member() (name []byte, done, ok bool) {
	d := &s.d
	c := d.peek()
	if c == '}' {
		d.pos++
		return nil, true, true
	}
	if s.members > 0 {
		if c != ',' {
			return nil, false, false
		}
		d.pos++
		c = d.peek()
	}
	if c != '"' {
		return nil, false, false
	}
	name, ok = s.plainString()
	if !ok {
		return nil, false, false
	}
	if d.colon(); d.bad {
		return nil, false, false
	}
	s.members++
	return name, false, true
}

// plainString reads a string at pos that has no escapes, control bytes or
// non-ASCII bytes, aliasing the body.
func (s *RequestScanner) plainString() ([]byte, bool) {
	d := &s.d
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return d.data[start:i], true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	return nil, false
}

// String reads a string member value (not null).
func (s *RequestScanner) String() (string, bool) {
	d := &s.d
	if d.peek() != '"' {
		return "", false
	}
	v := d.str()
	return v, !d.bad
}

// Bool reads a true or false member value (not null).
func (s *RequestScanner) Bool() (bool, bool) {
	d := &s.d
	switch d.peek() {
	case 't':
		d.literal("true")
		return true, !d.bad
	case 'f':
		d.literal("false")
		return false, !d.bad
	}
	return false, false
}

// Rest is what follows the part of the body read so far (after a Member
// that reported done: what follows the body's closing '}').
func (s *RequestScanner) Rest() []byte { return s.d.data[s.d.pos:] }

// StringMap reads an object of string values (not null), such as
// ExpressionAttributeNames; a duplicate name is !ok.
func (s *RequestScanner) StringMap() (map[string]string, bool) {
	return scanObject[string](s)
}

// Item reads an object of attribute values (an Item, a key, or
// ExpressionAttributeValues); any invalid value or a duplicate name is !ok,
// and so is a value that may be nested past MaxNestedContainers: an item
// the scanner returns needs no nesting check.
func (s *RequestScanner) Item() (Item, bool) {
	return scanObject[Value](s)
}

// nestingBound is how far below an item's object the JSON may reach before
// a value could be nested too deeply. The n-th map or list of an attribute
// value opens its object or array 2n levels below the item's object, so a
// value crossing MaxNestedContainers+1 of them reaches this bound; one that
// stays within the limit reaches it only with a set (an array) at its
// deepest level, which the generic path then accepts.
const nestingBound = 2 * (MaxNestedContainers + 1)

// value reads an attribute value.
func (s *RequestScanner) value() (Value, bool) {
	v, err := s.d.value()
	return v, !s.d.bad && err == nil
}

// scanObject reads a JSON object of strings or attribute values; a
// duplicate name or a bad value is !ok. (The member values are read by a
// type switch rather than a func parameter, which would move the scanner
// to the heap.)
func scanObject[V string | Value](s *RequestScanner) (map[string]V, bool) {
	d := &s.d
	if d.peek() != '{' || !d.enter() {
		return nil, false
	}
	d.pos++
	base := d.depth
	d.peak = base
	m := map[string]V{}
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return m, true
	}
	for {
		if d.peek() != '"' {
			return nil, false
		}
		k := d.str()
		if d.colon(); d.bad {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		var v V
		ok := false
		switch p := any(&v).(type) {
		case *string:
			*p, ok = s.String()
		case *Value:
			*p, ok = s.value()
		}
		if !ok {
			return nil, false
		}
		m[k] = v
		if !d.next('}') {
			break
		}
	}
	if d.bad || d.peak-base >= nestingBound {
		return nil, false
	}
	d.depth--
	return m, true
}

// End reports whether only white space follows the body's closing '}'.
func (s *RequestScanner) End() bool {
	return !s.d.bad && s.d.peek() == 0 && s.d.pos == len(s.d.data)
}
