package guest

import (
	"encoding/binary"
	"strings"
)

// The event index (eddy-abi-v3's input_index): the host scans a stream
// event natively once and hands the guest where each record's members and
// each image's attributes are in the input, so the guest reads the event
// without scanning its JSON (scanning cost about 30 µs per record inside
// wasm against about 1 µs natively: mappings/doc.go). The input stays the
// event's JSON; the index only points into it, so Raw() and the JSON a
// handler copies into its requests are unchanged.
//
// All integers are u32 little endian; offsets are into the input, spans
// are (offset, length), a length of 0 is an absent member:
//
//	+---------+-----------+----------------------------------------------+
//	| version | records n | record 0 | record 1 | ... | record n-1         |
//	| u32 = 1 | u32       |                                              |
//	+---------+-----------+----------------------------------------------+
//
//	record: 13 spans (8 bytes each) of the raw JSON of
//	  eventID eventName eventVersion eventSource awsRegion eventSourceARN
//	  SequenceNumber StreamViewType ApproximateCreationDateTime SizeBytes
//	  Keys NewImage OldImage                       (strings with their quotes)
//	then three u32 counts (attributes of Keys, NewImage, OldImage), then
//	that many attributes, Keys' first:
//
//	+----------+----------------+---------+---------+-------+-------+------+
//	| name off | name len       | val off | val len | m off | m len | type |
//	|          | bit 31: escape |         |         |       |       |      |
//	+----------+----------------+---------+---------+-------+-------+------+
//	name: the raw key without quotes; val: the whole {"S":"x"} value; m: the
//	raw member inside it ("x" with quotes); type: typeS..typeBS, or 0 when
//	the value is not one member the host recognized (the guest then scans
//	val as without an index).
//
// The guest checks every span against the input's length before using the
// index and scans the JSON itself when the index is absent or does not
// fit, so a wrong index can cost speed but never memory safety.

const (
	indexVersion   = 1
	recordSpans    = 13
	recordHeader   = recordSpans*8 + 3*4
	attrSize       = 7 * 4
	nameEscapedBit = 1 << 31
)

// Attribute type codes of the index.
const (
	typeS = 1 + iota
	typeN
	typeB
	typeBOOL
	typeNULL
	typeM
	typeL
	typeSS
	typeNS
	typeBS
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

func typeCode(name string) uint32 {
	switch name { // a switch, not a loop over typeNames: once per attribute of every indexed record
	case "S":
		return typeS
	case "N":
		return typeN
	case "B":
		return typeB
	case "BOOL":
		return typeBOOL
	case "NULL":
		return typeNULL
	case "M":
		return typeM
	case "L":
		return typeL
	case "SS":
		return typeSS
	case "NS":
		return typeNS
	case "BS":
		return typeBS
	}
	return 0
}

// AppendEventIndex appends the index of a stream event (its JSON) to dst.
// The host calls it (natively) for input_index. It accepts exactly what
// ParseEvent accepts (TestEventIndex, FuzzEvent), in one pass over the
// event: every byte is looked at once.
func AppendEventIndex(dst, event []byte) ([]byte, error) {
	x := indexer{b: event, dst: dst}
	x.dst = append(x.dst, 1, 0, 0, 0, 0, 0, 0, 0) // version, count
	_, err := x.object(skipWS(event, 0), func(key []byte, esc bool, i int) (int, error) {
		if !(esc && unquoteBytes(key) == "Records") && !(!esc && string(key) == "Records") {
			return skipValue(event, i)
		}
		if i < len(event) && event[i] == 'n' {
			return lit(event, i, "null")
		}
		return x.array(i, x.record)
	})
	if err != nil {
		return dst, err
	}
	binary.LittleEndian.PutUint32(x.dst[len(dst)+4:], uint32(x.n))
	return x.dst, nil
}

type indexer struct {
	b   []byte
	dst []byte
	n   int
	// the record being indexed: its spans and images' attributes
	spans [recordSpans][2]uint32
	attrs [3][]byte
}

// object walks the object at b[i] (whitespace skipped), calling member
// with each raw key (a slice of b, without quotes; esc: it holds escapes)
// and the index of its value (whitespace skipped); member returns the
// index after the value. Trailing bytes after the object are not read, as
// ParseEvent does not read them.
func (x *indexer) object(i int, member func(key []byte, esc bool, i int) (int, error)) (int, error) {
	b := x.b
	if i >= len(b) || b[i] != '{' {
		return 0, errSyntax
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		end, esc, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		if i = skipWS(b, end); i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		if i, err = member(key, esc, skipWS(b, i+1)); err != nil {
			return 0, err
		}
		if i = skipWS(b, i); i >= len(b) {
			return 0, errSyntax
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errSyntax
		}
		i = skipWS(b, i+1)
	}
}

// array walks the array at b[i], calling elem with each element's index.
func (x *indexer) array(i int, elem func(i int) (int, error)) (int, error) {
	b := x.b
	if i >= len(b) || b[i] != '[' {
		return 0, errSyntax
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = elem(i); err != nil {
			return 0, err
		}
		if i = skipWS(b, i); i >= len(b) {
			return 0, errSyntax
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errSyntax
		}
		i = skipWS(b, i+1)
	}
}

// Span indexes of the record header, in the index's order.
// recordMemberSpan returns the span of a record's string member, or -1.
func recordMemberSpan(key string) int {
	switch key {
	case "eventID":
		return 0
	case "eventName":
		return 1
	case "eventVersion":
		return 2
	case "eventSource":
		return 3
	case "awsRegion":
		return 4
	case "eventSourceARN":
		return 5
	}
	return -1
}

// unescaped is a raw key as ParseEvent matches it.
func unescaped(key []byte, esc bool) []byte {
	if esc {
		return []byte(unquoteBytes(key))
	}
	return key
}

func (x *indexer) record(i int) (int, error) {
	x.spans = [recordSpans][2]uint32{}
	for k := range x.attrs {
		x.attrs[k] = x.attrs[k][:0]
	}
	var end int
	var err error
	if i < len(x.b) && x.b[i] == 'n' {
		end, err = lit(x.b, i, "null") // a record with nothing, as ParseEvent reads it
	} else {
		end, err = x.object(i, x.recordMember)
	}
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	for _, s := range x.spans {
		x.dst = le.AppendUint32(le.AppendUint32(x.dst, s[0]), s[1])
	}
	for _, a := range x.attrs {
		x.dst = le.AppendUint32(x.dst, uint32(len(a)/attrSize))
	}
	for _, a := range x.attrs {
		x.dst = append(x.dst, a...)
	}
	x.n++
	return end, nil
}

func (x *indexer) recordMember(key []byte, esc bool, i int) (int, error) {
	if i < len(x.b) && x.b[i] == 'n' {
		return skipValue(x.b, i) // null: absent
	}
	key = unescaped(key, esc)
	if string(key) == "dynamodb" {
		return x.object(i, x.streamData)
	}
	j := recordMemberSpan(string(key))
	end, err := skipValue(x.b, i)
	if err != nil || j < 0 {
		return end, err
	}
	if x.b[i] != '"' {
		return 0, errSyntax
	}
	x.spans[j] = [2]uint32{uint32(i), uint32(end - i)}
	return end, nil
}

// streamData indexes a member of a record's "dynamodb" object.
func (x *indexer) streamData(key []byte, esc bool, i int) (int, error) {
	b := x.b
	if i < len(b) && b[i] == 'n' {
		return skipValue(b, i) // null: absent, an earlier value stays
	}
	key = unescaped(key, esc)
	var span, img int
	switch string(key) {
	case "Keys", "NewImage", "OldImage":
		img = strings.IndexByte("KNO", key[0])
		span = 10 + img
		x.attrs[img] = x.attrs[img][:0]
		end, err := x.object(i, func(name []byte, esc bool, i int) (int, error) { return x.attribute(img, name, esc, i) })
		x.spans[span] = [2]uint32{uint32(i), uint32(end - i)}
		return end, err
	case "SequenceNumber", "StreamViewType":
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		span = 6
		if key[1] == 't' {
			span = 7
		}
	case "ApproximateCreationDateTime":
		span = 8
	case "SizeBytes":
		span = 9
	default:
		return skipValue(b, i)
	}
	end, err := skipValue(b, i)
	x.spans[span] = [2]uint32{uint32(i), uint32(end - i)}
	return end, err
}

// attribute indexes one attribute of image img: its raw name (a slice
// of b) and its value at b[i].
func (x *indexer) attribute(img int, name []byte, esc bool, i int) (int, error) {
	b := x.b
	le := binary.LittleEndian
	nameOff, nameLen := uint32(cap(b)-cap(name)), uint32(len(name))
	if esc {
		nameLen |= nameEscapedBit
	}
	var code uint32
	var m [2]uint32
	members := 0
	var end int
	var err error
	if i < len(b) && b[i] == '{' {
		end, err = x.object(i, func(t []byte, _ bool, j int) (int, error) {
			e, err := skipValue(b, j)
			if err != nil {
				return 0, err
			}
			members++
			if code == 0 && members == 1 && b[j] != 'n' {
				code, m = typeCode(string(t)), [2]uint32{uint32(j), uint32(e - j)}
			}
			return e, nil
		})
	} else {
		end, err = skipValue(b, i)
	}
	if err != nil {
		return 0, err
	}
	if members != 1 {
		code, m = 0, [2]uint32{}
	}
	a := le.AppendUint32(le.AppendUint32(x.attrs[img], nameOff), nameLen)
	a = le.AppendUint32(le.AppendUint32(a, uint32(i)), uint32(end-i))
	a = le.AppendUint32(le.AppendUint32(a, m[0]), m[1])
	x.attrs[img] = le.AppendUint32(a, code)
	return end, nil
}

// attr is one attribute of an indexed image.
type attr struct {
	name []byte
	esc  bool
	val  Value
}

// LoadEventIndex fills ev from index, the AppendEventIndex of event, as
// HandleRecords does with the index its host hands it (input_index): the
// records' members and the images' attributes are read from the index
// instead of being scanned for, and Record.Legacy takes its strings from
// one copy of the event. It reports false, leaving ev to be filled by
// ParseEvent, when index is not a well-formed index of event. ev refers
// to both, which must not change while ev is used. For host-side code
// that runs a handler natively with the index it built (natively, building
// and loading the index costs about a third of ParseEvent's scan).
func LoadEventIndex(event, index []byte, ev *Event) bool { return ev.loadIndex(event, index) }

// loadIndex fills ev from idx, the index of in (see above), reusing ev's
// memory. It reports false, leaving ev to be filled by ParseEvent, when
// idx is not a well-formed index of an input of len(in) bytes.
func (ev *Event) loadIndex(in, idx []byte) bool {
	le := binary.LittleEndian
	if len(idx) < 8 || le.Uint32(idx) != indexVersion {
		return false
	}
	n := int(le.Uint32(idx[4:]))
	// First pass: check the layout and count the attributes.
	total := 0
	p := idx[8:]
	for range n {
		if len(p) < recordHeader {
			return false
		}
		c := p[recordSpans*8:]
		k := int(le.Uint32(c)) + int(le.Uint32(c[4:])) + int(le.Uint32(c[8:]))
		if k < 0 || (len(p)-recordHeader)/attrSize < k {
			return false
		}
		total += k
		p = p[recordHeader+k*attrSize:]
	}
	if len(p) != 0 {
		return false
	}
	if cap(ev.attrs) < total {
		ev.attrs = make([]attr, total)
	}
	attrs := ev.attrs[:total]
	if cap(ev.Records) < n {
		ev.Records = make([]Record, n)
	}
	ev.Records = ev.Records[:n]
	size := uint64(len(in))
	sl := func(b []byte) ([]byte, bool) {
		o, l := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])&^nameEscapedBit)
		if l == 0 {
			return nil, true
		}
		if o+l > size {
			return nil, false
		}
		return in[o : o+l], true // a 2-index slice: strArena finds its offset from its capacity
	}
	p = idx[8:]
	a := 0
	for i := range n {
		r := &ev.Records[i]
		var spans [recordSpans][]byte
		for j := range spans {
			s, ok := sl(p[8*j:])
			if !ok {
				return false
			}
			spans[j] = s
		}
		*r = Record{eventID: spans[0], eventName: spans[1], eventVersion: spans[2], eventSource: spans[3], awsRegion: spans[4],
			eventSourceARN: spans[5], sequenceNumber: spans[6], streamViewType: spans[7], created: spans[8], sizeBytes: spans[9],
			keys: spans[10], newImage: spans[11], oldImage: spans[12], indexed: true, arena: &ev.arena}
		c := p[recordSpans*8:]
		p = p[recordHeader:]
		for k, dst := range [3]*[]attr{&r.keysAttrs, &r.newAttrs, &r.oldAttrs} {
			cnt := int(le.Uint32(c[4*k:]))
			start := a
			for range cnt {
				name, ok1 := sl(p)
				val, ok2 := sl(p[8:])
				m, ok3 := sl(p[16:])
				typ := le.Uint32(p[24:])
				if !ok1 || !ok2 || !ok3 || typ >= uint32(len(typeNames)) || len(val) == 0 || (typ != 0 && len(m) == 0) {
					return false
				}
				attrs[a] = attr{name: name, esc: le.Uint32(p[4:])&nameEscapedBit != 0, val: Value{raw: val, m: m, typ: uint8(typ)}}
				a++
				p = p[attrSize:]
			}
			*dst = attrs[start:a:a]
			if cnt == 0 {
				*dst = nil
			}
		}
		// An image the index lists must be there, and its attributes are
		// its own: nothing else is checked (the host built both).
		if (r.keysAttrs != nil && r.keys == nil) || (r.newAttrs != nil && r.newImage == nil) || (r.oldAttrs != nil && r.oldImage == nil) {
			return false
		}
	}
	ev.attrs, ev.indexed, ev.arena = attrs, true, strArena{in: in}
	return true
}
