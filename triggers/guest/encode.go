package guest

import (
	"encoding/base64"
	"errors"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// Encoders that append JSON to a buffer, for requests and documents built
// without encoding/json's reflection. Their output is what encoding/json
// writes for the same values (HTML-safe string escapes, map keys sorted).

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as encoding/json does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendValue appends a as DynamoDB JSON.
func AppendValue(b []byte, a AttributeValue) ([]byte, error) {
	switch {
	case a.S != nil:
		return append(AppendString(append(b, `{"S":`...), *a.S), '}'), nil
	case a.N != nil:
		return append(AppendString(append(b, `{"N":`...), *a.N), '}'), nil
	case a.B != nil:
		return append(appendBase64(append(b, `{"B":`...), a.B), '}'), nil
	case a.BOOL != nil:
		if *a.BOOL {
			return append(b, `{"BOOL":true}`...), nil
		}
		return append(b, `{"BOOL":false}`...), nil
	case a.NULL:
		return append(b, `{"NULL":true}`...), nil
	case a.M != nil:
		b, err := AppendItem(append(b, `{"M":`...), a.M)
		return append(b, '}'), err
	case a.L != nil:
		b = append(b, `{"L":[`...)
		for i, x := range a.L {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendValue(b, x); err != nil {
				return b, err
			}
		}
		return append(b, "]}"...), nil
	case a.SS != nil:
		return append(appendStrings(append(b, `{"SS":`...), a.SS), '}'), nil
	case a.NS != nil:
		return append(appendStrings(append(b, `{"NS":`...), a.NS), '}'), nil
	case a.BS != nil:
		b = append(b, `{"BS":[`...)
		for i, x := range a.BS {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendBase64(b, x)
		}
		return append(b, "]}"...), nil
	}
	return b, errors.New("guest: empty AttributeValue")
}

// AppendItem appends an item as DynamoDB JSON, its names sorted.
func AppendItem(b []byte, it Item) ([]byte, error) {
	names := make([]string, 0, len(it))
	for n := range it {
		names = append(names, n)
	}
	slices.Sort(names)
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendString(b, n), ':')
		var err error
		if b, err = AppendValue(b, it[n]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendStrings(b []byte, l []string) []byte {
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}

func appendBase64(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// appendBatchResponse writes resp as encoding/json wrote it.
func appendBatchResponse(b []byte, resp *BatchResponse) []byte {
	if resp.BatchItemFailures == nil {
		return append(b, `{"batchItemFailures":null}`...)
	}
	b = append(b, `{"batchItemFailures":[`...)
	for i, f := range resp.BatchItemFailures {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendString(append(b, `{"itemIdentifier":`...), f.ItemIdentifier), '}')
	}
	return append(b, "]}"...)
}

// appendStringBytes is AppendString of a string's bytes, which
// AppendString only reads (so they are not copied into a string first).
func appendStringBytes(b, s []byte) []byte {
	if len(s) == 0 {
		return append(b, '"', '"')
	}
	return AppendString(b, unsafe.String(&s[0], len(s)))
}
