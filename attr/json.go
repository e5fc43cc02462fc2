package attr

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/eddydb/eddy/internal/ddberr"
)

// Messages DynamoDB gives for malformed attribute values.
const (
	msgEmptyValue  = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	msgMultiTypes  = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	msgNullNotTrue = "Null attribute value types must have the value of true"
)

// UnmarshalJSON decodes DynamoDB JSON ({"S":"x"}, {"N":"1"}, ...) and
// validates it as DynamoDB does. Errors are *ddberr.Error.
func (v *Value) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return ddberr.New(ddberr.KindSerialization, "Unexpected value type in payload")
	}
	// DynamoDB reports number errors before the type-count errors.
	for _, k := range []string{"N", "NS"} {
		if r, ok := raw[k]; ok {
			if err := checkNumbers(k, r); err != nil {
				return err
			}
		}
	}
	var typ Type
	var payload json.RawMessage
	known := 0
	for k, r := range raw {
		if t, ok := TypeFromString(k); ok {
			if string(r) == "null" {
				continue
			}
			known++
			typ, payload = t, r
		}
	}
	if known == 0 {
		return ddberr.Validationf(msgEmptyValue)
	}
	if known > 1 {
		return ddberr.Validationf(msgMultiTypes)
	}
	return v.decodeTyped(typ, payload)
}

func checkNumbers(k string, r json.RawMessage) error {
	var list []string
	if k == "N" {
		var s string
		if json.Unmarshal(r, &s) != nil {
			return serial(k)
		}
		list = []string{s}
	} else if json.Unmarshal(r, &list) != nil {
		return serial(k)
	}
	for _, s := range list {
		if _, err := ParseNumber(s); err != nil {
			return ddberr.Validationf("%s", err.Error())
		}
	}
	return nil
}

func serial(k string) error {
	return ddberr.New(ddberr.KindSerialization, "Unexpected value type in payload for member %s", k)
}

func (v *Value) decodeTyped(typ Type, r json.RawMessage) error {
	switch typ {
	case TypeS:
		var s string
		if json.Unmarshal(r, &s) != nil {
			return serial("S")
		}
		*v = S(s)
	case TypeN:
		var s string
		_ = json.Unmarshal(r, &s)
		n, _ := ParseNumber(s) // checked above
		*v = NumberValue(n)
	case TypeB:
		b, err := decodeB64(r)
		if err != nil {
			return err
		}
		*v = B(b)
	case TypeBOOL:
		var b bool
		if json.Unmarshal(r, &b) != nil {
			return serial("BOOL")
		}
		*v = Bool(b)
	case TypeNULL:
		var b bool
		if json.Unmarshal(r, &b) != nil {
			return serial("NULL")
		}
		if !b {
			return ddberr.Invalidf(msgNullNotTrue)
		}
		*v = Null()
	case TypeM:
		var m map[string]Value
		if err := json.Unmarshal(r, &m); err != nil {
			return nestedErr(err)
		}
		if m == nil {
			m = map[string]Value{}
		}
		*v = M(m)
	case TypeL:
		var l []Value
		if err := json.Unmarshal(r, &l); err != nil {
			return nestedErr(err)
		}
		if l == nil {
			l = []Value{}
		}
		*v = L(l)
	case TypeSS:
		var ss []string
		if json.Unmarshal(r, &ss) != nil {
			return serial("SS")
		}
		if len(ss) == 0 {
			return ddberr.Invalidf("An string set  may not be empty")
		}
		seen := make(map[string]struct{}, len(ss))
		for _, s := range ss {
			if _, dup := seen[s]; dup {
				return ddberr.Invalidf("Input collection [%s] contains duplicates.", strings.Join(ss, ", "))
			}
			seen[s] = struct{}{}
		}
		*v = SS(ss)
	case TypeNS:
		var ns []string
		_ = json.Unmarshal(r, &ns)
		if len(ns) == 0 {
			return ddberr.Invalidf("An number set  may not be empty")
		}
		out := make([]string, len(ns))
		seen := make(map[string]struct{}, len(ns))
		for i, s := range ns {
			n, _ := ParseNumber(s)
			c := n.String()
			if _, dup := seen[c]; dup {
				return ddberr.Validationf("Input collection contains duplicates")
			}
			seen[c] = struct{}{}
			out[i] = c
		}
		*v = NS(out)
	case TypeBS:
		var raws []json.RawMessage
		if json.Unmarshal(r, &raws) != nil {
			return serial("BS")
		}
		if len(raws) == 0 {
			return ddberr.Invalidf("Binary sets should not be empty")
		}
		bs := make([][]byte, len(raws))
		seen := make(map[string]struct{}, len(raws))
		for i, rr := range raws {
			b, err := decodeB64(rr)
			if err != nil {
				return err
			}
			if _, dup := seen[string(b)]; dup {
				enc := make([]string, len(raws))
				for j, x := range raws {
					_ = json.Unmarshal(x, &enc[j])
				}
				return ddberr.Invalidf("Input collection [%s]of type BS contains duplicates.", strings.Join(enc, ", "))
			}
			seen[string(b)] = struct{}{}
			bs[i] = b
		}
		*v = BS(bs)
	}
	return nil
}

// nestedErr passes a nested value's *ddberr.Error through; anything else is
// a shape error.
func nestedErr(err error) error {
	var de *ddberr.Error
	if errors.As(err, &de) {
		return de
	}
	return ddberr.New(ddberr.KindSerialization, "Unexpected value type in payload")
}

func decodeB64(r json.RawMessage) ([]byte, error) {
	var s string
	if json.Unmarshal(r, &s) != nil {
		return nil, serial("B")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ddberr.New(ddberr.KindSerialization, "Base64 encoded length is expected a multiple of 4 bytes but found: %d", len(s))
	}
	return b, nil
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
		dst = base64.StdEncoding.AppendEncode(dst, v.bin)
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
		dst = AppendItemJSON(dst, v.m)
	case TypeL:
		dst = append(dst, `{"L":[`...)
		for i, e := range v.l {
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
		for i, s := range v.strs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, s)
		}
		dst = append(dst, ']')
	case TypeBS:
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.bins {
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
func AppendJSONString(dst []byte, s string) []byte {
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
		r, size := utf8.DecodeRuneInString(s[i:])
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
