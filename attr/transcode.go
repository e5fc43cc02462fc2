package attr

import (
	"encoding/base64"
	"encoding/binary"
	"unicode/utf8"
)

// Reading the stored binary encoding (binary.go) without building an Item:
// the read path renders items that need no filter or projection straight
// from the bytes Pebble holds.

// AppendJSONFromBinary appends the DynamoDB JSON of a stored item (as
// AppendItemJSON renders the decoded item; members in stored order) to dst.
// On a corrupt encoding it returns dst unchanged and ErrCorrupt.
func AppendJSONFromBinary(dst, stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != itemFormatV1 {
		return dst, ErrCorrupt
	}
	r := binReader{buf: stored[1:]}
	out := r.bodyJSON(dst)
	if r.bad || len(r.buf) != 0 {
		return dst, ErrCorrupt
	}
	return out, nil
}

// ItemSizeBinary returns ItemSize of a stored item without decoding it.
func ItemSizeBinary(stored []byte) (int, error) {
	if len(stored) == 0 || stored[0] != itemFormatV1 {
		return 0, ErrCorrupt
	}
	r := binReader{buf: stored[1:]}
	n := r.bodySize(false)
	if r.bad || len(r.buf) != 0 {
		return 0, ErrCorrupt
	}
	return n, nil
}

// LookupBinary returns the top-level attribute name of a stored item,
// decoding only that value; ok is false when the item has none.
func LookupBinary(stored []byte, name string) (v Value, ok bool, err error) {
	if len(stored) == 0 || stored[0] != itemFormatV1 {
		return Value{}, false, ErrCorrupt
	}
	r := binReader{buf: stored[1:]}
	n := r.uvarint()
	for i := 0; i < n && !r.bad; i++ {
		k := r.bytes()
		if string(k) != name {
			r.skipValue()
			continue
		}
		d := decoder{buf: r.buf}
		v = d.value()
		if d.err != nil {
			return Value{}, false, ErrCorrupt
		}
		return v, true, nil
	}
	if r.bad {
		return Value{}, false, ErrCorrupt
	}
	return Value{}, false, nil
}

// binReader walks an encoding; bad is set (and buf emptied) on corruption.
type binReader struct {
	buf []byte
	bad bool
}

func (r *binReader) corrupt() {
	r.bad = true
	r.buf = nil
}

func (r *binReader) uvarint() int {
	n, k := binary.Uvarint(r.buf)
	if k <= 0 || n > uint64(len(r.buf)-k) {
		r.corrupt()
		return 0
	}
	r.buf = r.buf[k:]
	return int(n)
}

// bytes returns the next length-prefixed bytes (aliasing the input).
func (r *binReader) bytes() []byte {
	n := r.uvarint()
	if n > len(r.buf) {
		r.corrupt()
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

func (r *binReader) tag() byte {
	if len(r.buf) == 0 {
		r.corrupt()
		return 0
	}
	t := r.buf[0]
	r.buf = r.buf[1:]
	return t
}

func (r *binReader) bodyJSON(dst []byte) []byte {
	n := r.uvarint()
	dst = append(dst, '{')
	for i := 0; i < n && !r.bad; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONBytes(dst, r.bytes())
		dst = append(dst, ':')
		dst = r.valueJSON(dst)
	}
	return append(dst, '}')
}

func (r *binReader) valueJSON(dst []byte) []byte {
	switch tag := r.tag(); tag {
	case 'S':
		dst = append(dst, `{"S":`...)
		dst = appendJSONBytes(dst, r.bytes())
	case 'N':
		dst = append(dst, `{"N":"`...)
		dst = append(dst, r.bytes()...)
		dst = append(dst, '"')
	case 'B':
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.bytes())
		dst = append(dst, '"')
	case 'T':
		dst = append(dst, `{"BOOL":true`...)
	case 'F':
		dst = append(dst, `{"BOOL":false`...)
	case '0':
		dst = append(dst, `{"NULL":true`...)
	case 'M':
		dst = append(dst, `{"M":`...)
		dst = r.bodyJSON(dst)
	case 'L':
		dst = append(dst, `{"L":[`...)
		n := r.uvarint()
		for i := 0; i < n && !r.bad; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = r.valueJSON(dst)
		}
		dst = append(dst, ']')
	case 's', 'n', 'b':
		switch tag {
		case 's':
			dst = append(dst, `{"SS":[`...)
		case 'n':
			dst = append(dst, `{"NS":[`...)
		default:
			dst = append(dst, `{"BS":[`...)
		}
		n := r.uvarint()
		for i := 0; i < n && !r.bad; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			switch tag {
			case 's', 'n': // NS members are quoted as AppendJSON quotes them
				dst = appendJSONBytes(dst, r.bytes())
			default:
				dst = append(dst, '"')
				dst = base64.StdEncoding.AppendEncode(dst, r.bytes())
				dst = append(dst, '"')
			}
		}
		dst = append(dst, ']')
	default:
		r.corrupt()
		return dst
	}
	return append(dst, '}')
}

// bodySize sizes a body: an item, or (nested) an M's members.
func (r *binReader) bodySize(nested bool) int {
	n := r.uvarint()
	size := 0
	for i := 0; i < n && !r.bad; i++ {
		size += len(r.bytes()) + r.valueSize()
		if nested {
			size++
		}
	}
	return size
}

// valueSize is Size of the next value.
func (r *binReader) valueSize() int {
	switch tag := r.tag(); tag {
	case 'S', 'B':
		return len(r.bytes())
	case 'N':
		return numberSize(r.bytes())
	case 'T', 'F', '0':
		return 1
	case 'M':
		return 3 + r.bodySize(true)
	case 'L':
		n, size := r.uvarint(), 3
		for i := 0; i < n && !r.bad; i++ {
			size += 1 + r.valueSize()
		}
		return size
	case 's', 'n', 'b':
		n, size := r.uvarint(), 0
		for i := 0; i < n && !r.bad; i++ {
			if tag == 'n' {
				size += numberSize(r.bytes())
			} else {
				size += len(r.bytes())
			}
		}
		return size
	}
	r.corrupt()
	return 0
}

// skipValue passes over the next value.
func (r *binReader) skipValue() {
	switch tag := r.tag(); tag {
	case 'S', 'N', 'B':
		r.bytes()
	case 'T', 'F', '0':
	case 'M':
		n := r.uvarint()
		for i := 0; i < n && !r.bad; i++ {
			r.bytes()
			r.skipValue()
		}
	case 'L':
		n := r.uvarint()
		for i := 0; i < n && !r.bad; i++ {
			r.skipValue()
		}
	case 's', 'n', 'b':
		n := r.uvarint()
		for i := 0; i < n && !r.bad; i++ {
			r.bytes()
		}
	default:
		r.corrupt()
	}
}

// appendJSONBytes is AppendJSONString for bytes.
func appendJSONBytes(dst []byte, s []byte) []byte {
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
		r, size := utf8.DecodeRune(s[i:])
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
