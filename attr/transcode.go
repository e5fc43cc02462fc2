package attr

import (
	"encoding/binary"
)

// Reading the stored binary encoding (binary.go) without building an Item:
// the read path renders items that need no filter or projection straight
// from the bytes Pebble holds.

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
