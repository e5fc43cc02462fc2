package attr

import (
	"encoding/binary"
	"errors"
)

// Binary item encoding, the value stored in Pebble for every item. It is
// compact (no names of types, no base64) and self-delimiting:
//
//	item    := version:0x01 body
//	body    := uvarint(count) { uvarint(len) name value }*count
//	value   := 'S' uvarint(len) utf8
//	         | 'N' uvarint(len) canonical-decimal-text
//	         | 'B' uvarint(len) bytes
//	         | 'T' | 'F'                         BOOL true / false
//	         | '0'                               NULL
//	         | 'M' body
//	         | 'L' uvarint(count) value*count
//	         | 's' uvarint(count) {uvarint(len) utf8}*count     SS
//	         | 'n' uvarint(count) {uvarint(len) text}*count     NS
//	         | 'b' uvarint(count) {uvarint(len) bytes}*count    BS
//
// Numbers keep their canonical text: it is exact, short for typical values,
// and needs no conversion on the way out.
const itemFormatV1 = 0x01

// ErrCorrupt reports an undecodable stored item.
var ErrCorrupt = errors.New("attr: corrupt item encoding")

// AppendBinary appends the binary encoding of the item.
func AppendBinary(dst []byte, it map[string]Value) []byte {
	dst = append(dst, itemFormatV1)
	return appendBody(dst, it)
}

func appendBody(dst []byte, it map[string]Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(it)))
	for k, v := range it {
		dst = appendStr(dst, k)
		dst = appendValue(dst, v)
	}
	return dst
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendValue(dst []byte, v Value) []byte {
	switch v.typ {
	case TypeS:
		return appendStr(append(dst, 'S'), v.s)
	case TypeN:
		return appendStr(append(dst, 'N'), v.s)
	case TypeB:
		dst = append(dst, 'B')
		dst = binary.AppendUvarint(dst, uint64(len(v.Bytes())))
		return append(dst, v.Bytes()...)
	case TypeBOOL:
		if v.b {
			return append(dst, 'T')
		}
		return append(dst, 'F')
	case TypeNULL:
		return append(dst, '0')
	case TypeM:
		return appendBody(append(dst, 'M'), v.Map())
	case TypeL:
		dst = append(dst, 'L')
		dst = binary.AppendUvarint(dst, uint64(len(v.List())))
		for _, e := range v.List() {
			dst = appendValue(dst, e)
		}
		return dst
	case TypeSS, TypeNS:
		if v.typ == TypeSS {
			dst = append(dst, 's')
		} else {
			dst = append(dst, 'n')
		}
		dst = binary.AppendUvarint(dst, uint64(len(v.Strings())))
		for _, s := range v.Strings() {
			dst = appendStr(dst, s)
		}
		return dst
	case TypeBS:
		dst = append(dst, 'b')
		dst = binary.AppendUvarint(dst, uint64(len(v.BytesSet())))
		for _, b := range v.BytesSet() {
			dst = binary.AppendUvarint(dst, uint64(len(b)))
			dst = append(dst, b...)
		}
		return dst
	}
	panic("attr: encoding an invalid value")
}

// DecodeBinary decodes an item written by AppendBinary. The result does not
// alias buf.
func DecodeBinary(buf []byte) (Item, error) {
	if len(buf) == 0 || buf[0] != itemFormatV1 {
		return nil, ErrCorrupt
	}
	d := decoder{buf: buf[1:]}
	it := d.body()
	if d.err != nil || len(d.buf) != 0 {
		return nil, ErrCorrupt
	}
	return it, nil
}

type decoder struct {
	buf []byte
	err error
}

func (d *decoder) uvarint() int {
	n, k := binary.Uvarint(d.buf)
	if k <= 0 || n > uint64(len(d.buf)-k) {
		d.err = ErrCorrupt
		d.buf = nil
		return 0
	}
	d.buf = d.buf[k:]
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > len(d.buf) {
		d.err = ErrCorrupt
		d.buf = nil
		return nil
	}
	b := make([]byte, n)
	copy(b, d.buf[:n])
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > len(d.buf) {
		d.err = ErrCorrupt
		d.buf = nil
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) body() Item {
	n := d.uvarint()
	it := make(Item, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		it[k] = d.value()
	}
	return it
}

func (d *decoder) value() Value {
	if len(d.buf) == 0 {
		d.err = ErrCorrupt
		return Value{}
	}
	tag := d.buf[0]
	d.buf = d.buf[1:]
	switch tag {
	case 'S':
		return S(d.str())
	case 'N':
		return N(d.str())
	case 'B':
		return B(d.bytes())
	case 'T':
		return Bool(true)
	case 'F':
		return Bool(false)
	case '0':
		return Null()
	case 'M':
		return M(d.body())
	case 'L':
		n := d.uvarint()
		l := make([]Value, 0, min(n, 1024))
		for i := 0; i < n && d.err == nil; i++ {
			l = append(l, d.value())
		}
		return L(l)
	case 's', 'n':
		n := d.uvarint()
		ss := make([]string, 0, min(n, 1024))
		for i := 0; i < n && d.err == nil; i++ {
			ss = append(ss, d.str())
		}
		if tag == 's' {
			return SS(ss)
		}
		return NS(ss)
	case 'b':
		n := d.uvarint()
		bs := make([][]byte, 0, min(n, 1024))
		for i := 0; i < n && d.err == nil; i++ {
			bs = append(bs, d.bytes())
		}
		return BS(bs)
	}
	d.err = ErrCorrupt
	return Value{}
}
