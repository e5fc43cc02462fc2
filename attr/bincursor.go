package attr

import (
	"encoding/base64"
	"encoding/binary"
)

// The read path's transcoder from the stored encoding (binary.go) straight
// to DynamoDB JSON and DynamoDB's item size. It walks the encoding by
// offset: the cursor never stores a new slice header, so a step costs no GC
// write barrier, which during a Query of 100 items (GC running most of the
// time) was ~8% of eddy's CPU. bincursor_test.go checks its results against
// the first transcoder, kept as a test oracle (transcode_oracle_test.go).

// AppendJSONFromStored is AppendJSONFromBinary.
func AppendJSONFromStored(dst, stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != itemFormatV1 {
		return dst, ErrCorrupt
	}
	out, _, err := AppendJSONFromStoredSize(dst, stored)
	return out, err
}

// AppendJSONFromStoredSize is AppendJSONFromStored that also returns the
// item's size (ItemSizeBinary), computed in the same pass.
func AppendJSONFromStoredSize(dst, stored []byte) ([]byte, int, error) {
	if len(stored) == 0 || stored[0] != itemFormatV1 {
		return dst, 0, ErrCorrupt
	}
	r := binCursor{buf: stored, off: 1}
	out := r.bodyJSON(dst, false)
	if r.bad || r.off != len(r.buf) {
		return dst, 0, ErrCorrupt
	}
	return out, r.size, nil
}

// StoredItemSize is ItemSizeBinary.
func StoredItemSize(stored []byte) (int, error) {
	if len(stored) == 0 || stored[0] != itemFormatV1 {
		return 0, ErrCorrupt
	}
	r := binCursor{buf: stored, off: 1}
	n := r.bodySize(false)
	if r.bad || r.off != len(r.buf) {
		return 0, ErrCorrupt
	}
	return n, nil
}

// binCursor walks an encoding by offset (buf itself never changes, so
// advancing writes no pointer: no GC write barrier per step); bad is set
// (and off moved to the end) on corruption.
type binCursor struct {
	buf []byte
	off int
	bad bool
	// size accumulates the ItemSize of what bodyJSON rendered.
	size int
}

func (r *binCursor) corrupt() {
	r.bad = true
	r.off = len(r.buf)
}

func (r *binCursor) uvarint() int {
	off := r.off
	if off < len(r.buf) {
		if n := int(r.buf[off]); n < 0x80 && off+1+n <= len(r.buf) { // one byte, in bounds
			r.off = off + 1
			return n
		}
	}
	return r.uvarintSlow()
}

func (r *binCursor) uvarintSlow() int {
	n, k := binary.Uvarint(r.buf[r.off:])
	if k <= 0 || n > uint64(len(r.buf)-r.off-k) {
		r.corrupt()
		return 0
	}
	r.off += k
	return int(n)
}

// bytes returns the next length-prefixed bytes (aliasing the input; empty
// once corrupt).
func (r *binCursor) bytes() []byte {
	off := r.off
	if off < len(r.buf) {
		if n := int(r.buf[off]); n < 0x80 && off+1+n <= len(r.buf) { // one-byte length
			end := off + 1 + n
			r.off = end
			return r.buf[off+1 : end : end]
		}
	}
	return r.bytesSlow()
}

func (r *binCursor) bytesSlow() []byte {
	n := r.uvarintSlow()
	b := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

func (r *binCursor) tag() byte {
	if r.off >= len(r.buf) {
		r.corrupt()
		return 0
	}
	t := r.buf[r.off]
	r.off++
	return t
}

// bodyJSON renders a body: an item, or (nested) an M's members.
func (r *binCursor) bodyJSON(dst []byte, nested bool) []byte {
	n := r.uvarint()
	dst = append(dst, '{')
	for i := 0; i < n && !r.bad; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		name := r.bytes()
		r.size += len(name)
		if nested {
			r.size++
		}
		dst = appendJSONPlain(dst, name)
		dst = append(dst, ':')
		dst = r.valueJSON(dst)
	}
	return append(dst, '}')
}

func (r *binCursor) valueJSON(dst []byte) []byte {
	switch tag := r.tag(); tag {
	case 'S':
		b := r.bytes()
		r.size += len(b)
		dst = append(dst, `{"S":`...)
		dst = appendJSONPlain(dst, b)
	case 'N':
		b := r.bytes()
		r.size += numberSize(b)
		dst = append(dst, `{"N":"`...)
		dst = append(dst, b...)
		dst = append(dst, '"')
	case 'B':
		b := r.bytes()
		r.size += len(b)
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, b)
		dst = append(dst, '"')
	case 'T':
		r.size++
		dst = append(dst, `{"BOOL":true`...)
	case 'F':
		r.size++
		dst = append(dst, `{"BOOL":false`...)
	case '0':
		r.size++
		dst = append(dst, `{"NULL":true`...)
	case 'M':
		r.size += 3
		dst = append(dst, `{"M":`...)
		dst = r.bodyJSON(dst, true)
	case 'L':
		r.size += 3
		dst = append(dst, `{"L":[`...)
		n := r.uvarint()
		for i := 0; i < n && !r.bad; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			r.size++
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
			b := r.bytes()
			switch tag {
			case 's', 'n': // NS members are quoted as AppendJSON quotes them
				if tag == 'n' {
					r.size += numberSize(b)
				} else {
					r.size += len(b)
				}
				dst = appendJSONPlain(dst, b)
			default:
				r.size += len(b)
				dst = append(dst, '"')
				dst = base64.StdEncoding.AppendEncode(dst, b)
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
func (r *binCursor) bodySize(nested bool) int {
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
func (r *binCursor) valueSize() int {
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

// appendJSONPlain is appendJSONBytes with a fast path for the common
// string that needs no escaping (printable ASCII without '"' and '\'),
// checked eight bytes at a time; any other string takes appendJSONBytes.
func appendJSONPlain(dst, s []byte) []byte {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(s[i:])
		q := w ^ (ones * '"')
		b := w ^ (ones * '\\')
		// A byte ≥ 0x80, < 0x20, == '"' or == '\\' sets its high bit.
		if (w|((w-ones*0x20)&^w)|((q-ones)&^q)|((b-ones)&^b))&highs != 0 {
			return appendJSONBytes(dst, s)
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return appendJSONBytes(dst, s)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
