package guest

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// A hand-written scanner for the two JSON shapes the host sends: Lambda's
// stream event and DynamoDB JSON. No reflection and no encoding/json: in a
// wasm guest encoding/json decoded about 1,300 records/s per core with the
// runaway guard on (mappings/doc.go has the figures). The scanner validates
// what it reads (a malformed event is an error, never a panic) but skips
// values it is not asked for without building them.

var errSyntax = errors.New("guest: malformed JSON")

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// scanString reads the string starting at b[i] == '"'. It returns the
// index after the closing quote and whether the string holds escapes or
// bytes outside ASCII (esc: it must go through unquoteBytes to read as
// encoding/json reads it).
func scanString(b []byte, i int) (end int, esc bool, err error) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, errSyntax
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			i++
		case c < 0x20:
			return 0, false, errSyntax
		case c >= utf8.RuneSelf:
			esc = true
		}
	}
	return 0, false, errSyntax
}

// skipValue returns the index after the JSON value starting at b[i]
// (whitespace before it skipped).
func skipValue(b []byte, i int) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; c {
	case '"':
		end, _, err := scanString(b, i)
		return end, err
	case '{', '[':
		return skipContainer(b, i)
	case 't':
		return lit(b, i, "true")
	case 'f':
		return lit(b, i, "false")
	case 'n':
		return lit(b, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return scanNumber(b, i)
		}
	}
	return 0, errSyntax
}

func lit(b []byte, i int, s string) (int, error) {
	if len(b)-i < len(s) || string(b[i:i+len(s)]) != s {
		return 0, errSyntax
	}
	return i + len(s), nil
}

func scanNumber(b []byte, i int) (int, error) {
	digits := func(i int) (int, bool) {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i, i > s
	}
	if b[i] == '-' {
		i++
	}
	i, ok := digits(i)
	if !ok {
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		if i, ok = digits(i + 1); !ok {
			return 0, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = digits(i); !ok {
			return 0, errSyntax
		}
	}
	return i, nil
}

// skipContainer skips an object or array, checking its structure: one
// loop with a stack of open containers (true: object) instead of
// recursion.
func skipContainer(b []byte, i int) (int, error) {
	var buf [96]bool
	stack := buf[:0]
	for {
		// i is at a value.
		i = skipWS(b, i)
		closed := false
		if i < len(b) && (b[i] == '{' || b[i] == '[') {
			obj := b[i] == '{'
			stack = append(stack, obj)
			if i = skipWS(b, i+1); i < len(b) && b[i] == closer(obj) {
				stack, i, closed = stack[:len(stack)-1], i+1, true
			} else if obj {
				var err error
				if i, err = memberKey(b, i); err != nil {
					return 0, err
				}
				continue
			} else {
				continue
			}
		}
		if !closed {
			var err error
			if i, err = skipValue(b, i); err != nil {
				return 0, err
			}
		}
		for len(stack) > 0 {
			if i = skipWS(b, i); i >= len(b) {
				return 0, errSyntax
			}
			obj := stack[len(stack)-1]
			if b[i] == closer(obj) {
				stack, i = stack[:len(stack)-1], i+1
				continue
			}
			if b[i] != ',' {
				return 0, errSyntax
			}
			i++
			if obj {
				var err error
				if i, err = memberKey(b, skipWS(b, i)); err != nil {
					return 0, err
				}
			}
			break
		}
		if len(stack) == 0 {
			return i, nil
		}
	}
}

func closer(obj bool) byte {
	if obj {
		return '}'
	}
	return ']'
}

// memberKey reads `"key":` at b[i] and returns the index after the colon.
func memberKey(b []byte, i int) (int, error) {
	i, _, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
		return 0, errSyntax
	}
	return i + 1, nil
}

// objIter walks the members of an object: for it.next() { it.key, it.val }.
type objIter struct {
	b        []byte
	i        int
	key      []byte // raw key, without quotes
	keyEsc   bool
	val      []byte // raw value
	err      error
	started  bool
	finished bool
}

func newObjIter(b []byte) objIter {
	it := objIter{b: b}
	it.i = skipWS(b, 0)
	if it.i >= len(b) || b[it.i] != '{' {
		it.err = errSyntax
	}
	it.i++
	return it
}

func (it *objIter) next() bool {
	if it.err != nil || it.finished {
		return false
	}
	b, i := it.b, skipWS(it.b, it.i)
	if i >= len(b) {
		it.err = errSyntax
		return false
	}
	if it.started {
		if b[i] == '}' {
			it.finished = true
			return false
		}
		if b[i] != ',' {
			it.err = errSyntax
			return false
		}
		i = skipWS(b, i+1)
	} else if b[i] == '}' {
		it.finished = true
		return false
	}
	it.started = true
	end, esc, err := scanString(b, i)
	if err != nil {
		it.err = err
		return false
	}
	it.key, it.keyEsc = b[i+1:end-1], esc
	if i = skipWS(b, end); i >= len(b) || b[i] != ':' {
		it.err = errSyntax
		return false
	}
	vs := skipWS(b, i+1)
	ve, err := skipValue(b, vs)
	if err != nil {
		it.err = err
		return false
	}
	it.val, it.i = b[vs:ve], ve
	return true
}

// keyIs reports whether the current key is name.
func (it *objIter) keyIs(name string) bool {
	if !it.keyEsc {
		return string(it.key) == name
	}
	return unquoteBytes(it.key) == name
}

// arrIter walks the elements of an array.
type arrIter struct {
	b        []byte
	i        int
	val      []byte
	err      error
	started  bool
	finished bool
}

func newArrIter(b []byte) arrIter {
	it := arrIter{b: b}
	it.i = skipWS(b, 0)
	if it.i >= len(b) || b[it.i] != '[' {
		it.err = errSyntax
	}
	it.i++
	return it
}

func (it *arrIter) next() bool {
	if it.err != nil || it.finished {
		return false
	}
	b, i := it.b, skipWS(it.b, it.i)
	if i >= len(b) {
		it.err = errSyntax
		return false
	}
	if b[i] == ']' {
		it.finished = true
		return false
	}
	if it.started {
		if b[i] != ',' {
			it.err = errSyntax
			return false
		}
		i = skipWS(b, i+1)
	}
	it.started = true
	ve, err := skipValue(b, i)
	if err != nil {
		it.err = err
		return false
	}
	it.val, it.i = b[i:ve], ve
	return true
}

// str decodes a raw JSON string value (with its quotes).
func str(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", errSyntax
	}
	inner := raw[1 : len(raw)-1]
	if plain(inner) {
		return string(inner), nil
	}
	return unquoteBytes(inner), nil
}

// plain reports whether the inside of a JSON string reads as it is: no
// escapes and valid UTF-8.
func plain(inner []byte) bool {
	high := false
	for _, c := range inner {
		if c == '\\' {
			return false
		}
		high = high || c >= utf8.RuneSelf
	}
	return !high || utf8.Valid(inner)
}

// unquoteBytes decodes the inside of a JSON string with escapes, as
// encoding/json does (invalid surrogates and invalid UTF-8 become
// U+FFFD).
func unquoteBytes(s []byte) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
				continue
			}
			out = append(out, s[i:i+n]...)
			i += n - 1
			continue
		}
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+1:])
			if r < 0 {
				out = append(out, '\\', 'u')
				continue
			}
			i += 4
			if utf16.IsSurrogate(rune(r)) {
				r2 := rune(-1)
				if i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					r2 = rune(hex4(s[i+3:]))
				}
				if d := utf16.DecodeRune(rune(r), r2); d != utf8.RuneError {
					i += 6
					out = utf8.AppendRune(out, d)
					continue
				}
				out = utf8.AppendRune(out, utf8.RuneError)
				continue
			}
			out = utf8.AppendRune(out, rune(r))
		default: // '"', '\\', '/'
			out = append(out, s[i])
		}
	}
	return string(out)
}

func hex4(s []byte) int {
	if len(s) < 4 {
		return -1
	}
	r := 0
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + int(c)
	}
	return r
}
