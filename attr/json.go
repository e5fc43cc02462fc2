package attr

import (
	"encoding/base64"
	"unicode/utf8"

	"github.com/eddydb/eddy/internal/ddberr"
)

// Messages DynamoDB gives for malformed attribute values.
const (
	msgEmptyValue = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	msgMultiTypes = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
)

// UnmarshalJSON decodes DynamoDB JSON ({"S":"x"}, {"N":"1"}, ...) and
// validates it as DynamoDB does, in one pass over data (jsondec.go). Errors
// are *ddberr.Error.
func (v *Value) UnmarshalJSON(data []byte) error {
	d, err := decodeValueJSON(data)
	if err != nil {
		return err
	}
	*v = d
	return nil
}

func serial(k string) error {
	return ddberr.New(ddberr.KindSerialization, "Unexpected value type in payload for member %s", k)
}

// MarshalJSON encodes DynamoDB JSON.
func (v Value) MarshalJSON() ([]byte, error) { return AppendJSON(nil, v), nil }

// AppendJSON appends the DynamoDB JSON of v to dst.
func AppendJSON(dst []byte, v Value) []byte {
	switch v.typ {
	case TypeS:
		dst = append(dst, `{"S":`...)
		dst = AppendJSONString(dst, v.s)
	case TypeN:
		dst = append(dst, `{"N":"`...)
		dst = append(dst, v.s...)
		dst = append(dst, '"')
	case TypeB:
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes())
		dst = append(dst, '"')
	case TypeBOOL:
		if v.b {
			dst = append(dst, `{"BOOL":true`...)
		} else {
			dst = append(dst, `{"BOOL":false`...)
		}
	case TypeNULL:
		dst = append(dst, `{"NULL":true`...)
	case TypeM:
		dst = append(dst, `{"M":`...)
		dst = AppendItemJSON(dst, v.Map())
	case TypeL:
		dst = append(dst, `{"L":[`...)
		for i, e := range v.List() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		dst = append(dst, ']')
	case TypeSS, TypeNS:
		if v.typ == TypeSS {
			dst = append(dst, `{"SS":[`...)
		} else {
			dst = append(dst, `{"NS":[`...)
		}
		for i, s := range v.Strings() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, s)
		}
		dst = append(dst, ']')
	case TypeBS:
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.BytesSet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, b)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	default:
		return append(dst, "null"...)
	}
	return append(dst, '}')
}

// AppendItemJSON appends an item as a JSON object of DynamoDB JSON values.
func AppendItemJSON(dst []byte, it map[string]Value) []byte {
	dst = append(dst, '{')
	first := true
	for k, v := range it {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSON(dst, v)
	}
	return append(dst, '}')
}

// MarshalJSON encodes the item as a JSON object.
func (it Item) MarshalJSON() ([]byte, error) { return AppendItemJSON(nil, it), nil }

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal.
func AppendJSONString(dst []byte, s string) []byte { return appendQuoted(dst, s) }

// appendJSONBytes is AppendJSONString for bytes (the stored-item transcoder).
func appendJSONBytes(dst []byte, s []byte) []byte { return appendQuoted(dst, s) }

// appendQuoted is the one JSON string escaper: control characters, quote
// and backslash escaped, invalid UTF-8 replaced by U+FFFD, U+2028/U+2029
// escaped, as encoding/json renders them.
func appendQuoted[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func decodeRune[T string | []byte](s T) (rune, int) {
	switch x := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(x)
	case []byte:
		return utf8.DecodeRune(x)
	}
	panic("unreachable")
}
