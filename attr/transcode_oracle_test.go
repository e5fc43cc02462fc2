package attr

// The first binary-to-JSON transcoder, kept as the oracle of the
// differential tests of the one in bincursor.go (which replaced it: it walks
// the stored bytes by offset, with no re-slicing write barriers). Test-only.
// Sizes have an independent oracle instead: ItemSize of DecodeBinary.

import (
	"encoding/base64"
)

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
