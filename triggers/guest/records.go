package guest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Event is a DynamoDB stream event read lazily: the host's JSON is scanned
// once to find each record's members, and a member is decoded only when a
// handler asks for it (HandleRecords). An Event, its Records and every
// Image and Value taken from them are valid only during the invocation:
// the SDK reuses their memory for the next one. Strings returned by their
// methods are copies and may be kept (most are substrings of one copy of
// the event, which a kept string keeps alive).
type Event struct {
	Records []Record
	attrs   []attr // the indexed images' attributes (loadIndex)
	indexed bool
	arena   strArena
}

// Indexed reports whether the event was read through the host's event
// index (eddy-abi-v3's input_index) rather than scanned in the guest: for
// tests and diagnostics; both read the same.
func (ev *Event) Indexed() bool { return ev.indexed }

// Record is one change of an Event. Its methods return the member's value,
// or the zero value when the member is absent.
type Record struct {
	eventID, eventName, eventVersion, eventSource, awsRegion, eventSourceARN []byte
	keys, newImage, oldImage                                                 []byte
	sequenceNumber, streamViewType, created, sizeBytes                       []byte
	// indexed: the record came from the host's index (loadIndex), and
	// the images' attributes are listed in *Attrs.
	indexed                       bool
	keysAttrs, newAttrs, oldAttrs []attr
	arena                         *strArena // the event's
}

func (r *Record) EventID() string        { return r.arena.rawStr(r.eventID) }
func (r *Record) EventName() string      { return r.arena.rawStr(r.eventName) } // INSERT, MODIFY, REMOVE
func (r *Record) EventVersion() string   { return r.arena.rawStr(r.eventVersion) }
func (r *Record) EventSource() string    { return r.arena.rawStr(r.eventSource) }
func (r *Record) AWSRegion() string      { return r.arena.rawStr(r.awsRegion) }
func (r *Record) EventSourceARN() string { return r.arena.rawStr(r.eventSourceARN) }
func (r *Record) SequenceNumber() string { return r.arena.rawStr(r.sequenceNumber) }
func (r *Record) StreamViewType() string { return r.arena.rawStr(r.streamViewType) }

// Keys, NewImage and OldImage are the record's images; an absent one has
// Exists() false.
func (r *Record) Keys() Image {
	return Image{raw: r.keys, attrs: r.keysAttrs, indexed: r.indexed, arena: r.arena}
}
func (r *Record) NewImage() Image {
	return Image{raw: r.newImage, attrs: r.newAttrs, indexed: r.indexed, arena: r.arena}
}
func (r *Record) OldImage() Image {
	return Image{raw: r.oldImage, attrs: r.oldAttrs, indexed: r.indexed, arena: r.arena}
}

// ApproximateCreationDateTime is the change's time in epoch seconds.
func (r *Record) ApproximateCreationDateTime() float64 {
	f, _ := strconv.ParseFloat(string(r.created), 64)
	return f
}

// SizeBytes is the record's size as DynamoDB counts it.
func (r *Record) SizeBytes() int64 {
	n, _ := strconv.ParseInt(string(r.sizeBytes), 10, 64)
	return n
}

// EventNameIs reports whether the record's eventName is name, without
// allocating.
func (r *Record) EventNameIs(name string) bool {
	return len(r.eventName) == len(name)+2 && string(r.eventName[1:len(r.eventName)-1]) == name
}

// Legacy returns the record as a StreamRecord, every member decoded.
func (r *Record) Legacy() (StreamRecord, error) {
	a := r.arena
	sr := StreamRecord{EventID: a.rawStr(r.eventID), EventName: a.rawStr(r.eventName), EventVersion: a.rawStr(r.eventVersion),
		EventSource: a.rawStr(r.eventSource), AWSRegion: a.rawStr(r.awsRegion), EventSourceARN: a.rawStr(r.eventSourceARN),
		DynamoDB: StreamData{SequenceNumber: a.rawStr(r.sequenceNumber), StreamViewType: a.rawStr(r.streamViewType)}}
	// Each number parsed once (in wasm a parse costs about a microsecond);
	// encoding/json fails a record whose time or size is not a number.
	var err error
	if sr.DynamoDB.ApproximateCreationDateTime, err = strconv.ParseFloat(string(r.created), 64); err != nil {
		sr.DynamoDB.ApproximateCreationDateTime = 0
		if r.created != nil {
			return sr, fmt.Errorf("ApproximateCreationDateTime %s is not a number", r.created)
		}
	}
	if sr.DynamoDB.SizeBytes, err = strconv.ParseInt(string(r.sizeBytes), 10, 64); err != nil {
		sr.DynamoDB.SizeBytes = 0
		if r.sizeBytes != nil {
			return sr, fmt.Errorf("SizeBytes %s is not an integer", r.sizeBytes)
		}
	}
	d := &sr.DynamoDB
	if d.Keys, err = r.Keys().item(a); err == nil {
		if d.NewImage, err = r.NewImage().item(a); err == nil {
			d.OldImage, err = r.OldImage().item(a)
		}
	}
	return sr, err
}

// ParseEvent fills ev from a stream event's JSON, reusing ev.Records'
// memory; ev refers to b, which must not change while ev is used. Only
// the event's structure is checked; member values are read when asked.
// HandleRecords calls it; it is exported for tests and host-side code.
func ParseEvent(b []byte, ev *Event) error {
	ev.Records, ev.indexed, ev.arena = ev.Records[:0], false, strArena{in: b}
	top := newObjIter(b)
	for top.next() {
		if !top.keyIs("Records") || top.val[0] == 'n' {
			continue
		}
		recs := newArrIter(top.val)
		for recs.next() {
			if recs.val[0] == 'n' { // encoding/json: a zero record
				ev.Records = append(ev.Records, Record{arena: &ev.arena})
				continue
			}
			if len(ev.Records) < cap(ev.Records) {
				ev.Records = ev.Records[:len(ev.Records)+1]
				ev.Records[len(ev.Records)-1] = Record{arena: &ev.arena}
			} else {
				ev.Records = append(ev.Records, Record{arena: &ev.arena})
			}
			if err := parseRecord(recs.val, &ev.Records[len(ev.Records)-1]); err != nil {
				return fmt.Errorf("record %d: %w", len(ev.Records)-1, err)
			}
		}
		if recs.err != nil {
			return recs.err
		}
	}
	return top.err
}

// Keys match exactly, after unescaping; a null member is absent (as
// encoding/json reads them, but for case: "eventid" is not eventID).
func parseRecord(b []byte, r *Record) error {
	it := newObjIter(b)
	for it.next() {
		var dst *[]byte
		if it.val[0] == 'n' {
			continue
		}
		switch string(unescapedKey(&it)) {
		case "eventID":
			dst = &r.eventID
		case "eventName":
			dst = &r.eventName
		case "eventVersion":
			dst = &r.eventVersion
		case "eventSource":
			dst = &r.eventSource
		case "awsRegion":
			dst = &r.awsRegion
		case "eventSourceARN":
			dst = &r.eventSourceARN
		case "dynamodb":
			if it.val[0] != '{' {
				return errSyntax
			}
			if err := parseStreamData(it.val, r); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		if it.val[0] != '"' {
			return fmt.Errorf("%s is not a string", it.key)
		}
		*dst = it.val
	}
	return it.err
}

// unescapedKey is the iterator's key, unescaped when it has to be.
func unescapedKey(it *objIter) []byte {
	if it.keyEsc {
		return []byte(unquoteBytes(it.key))
	}
	return it.key
}

func parseStreamData(b []byte, r *Record) error {
	it := newObjIter(b)
	for it.next() {
		v := it.val
		if v[0] == 'n' {
			continue // absent, as encoding/json leaves it
		}
		switch key := unescapedKey(&it); string(key) {
		case "Keys", "NewImage", "OldImage":
			if v[0] != '{' {
				return fmt.Errorf("%s is not an object", key)
			}
			switch key[0] {
			case 'K':
				r.keys = v
			case 'N':
				r.newImage = v
			default:
				r.oldImage = v
			}
		case "SequenceNumber", "StreamViewType":
			if v[0] != '"' {
				return fmt.Errorf("%s is not a string", key)
			}
			if key[1] == 'e' {
				r.sequenceNumber = v
			} else {
				r.streamViewType = v
			}
		case "ApproximateCreationDateTime":
			r.created = v
		case "SizeBytes":
			r.sizeBytes = v
		}
	}
	return it.err
}

// Image is an item of a stream record (its Keys, NewImage or OldImage) in
// DynamoDB JSON, read lazily.
type Image struct {
	raw []byte
	// indexed: attrs lists the image's attributes (the host's event
	// index), so they are read without scanning raw.
	indexed bool
	attrs   []attr
	arena   *strArena // the event's: where Str and Num take their strings
}

// Exists reports whether the record has this image.
func (im Image) Exists() bool { return im.raw != nil }

// Raw returns the image's DynamoDB JSON ({"name":{"S":"x"},...}), e.g. to
// put into a request as it is; nil when absent.
func (im Image) Raw() []byte { return im.raw }

// Get returns the attribute name; Exists() is false when the image lacks
// it.
func (im Image) Get(name string) Value {
	if im.raw == nil {
		return Value{}
	}
	if im.indexed {
		for i := range im.attrs {
			a := &im.attrs[i]
			if (!a.esc && string(a.name) == name) || (a.esc && unquoteBytes(a.name) == name) {
				v := a.val
				v.arena = im.arena
				return v
			}
		}
		return Value{}
	}
	it := newObjIter(im.raw)
	for it.next() {
		if it.keyIs(name) {
			return Value{raw: it.val, arena: im.arena}
		}
	}
	return Value{}
}

// Each calls fn for every attribute in the image's order until fn returns
// false.
func (im Image) Each(fn func(name string, v Value) bool) error {
	if im.raw == nil {
		return nil
	}
	if im.indexed {
		for i := range im.attrs {
			a := &im.attrs[i]
			v := a.val
			v.arena = im.arena
			if !fn(a.nameString(), v) {
				return nil
			}
		}
		return nil
	}
	it := newObjIter(im.raw)
	for it.next() {
		name := string(it.key)
		if it.keyEsc {
			name = unquoteBytes(it.key)
		}
		if !fn(name, Value{raw: it.val, arena: im.arena}) {
			return nil
		}
	}
	return it.err
}

// Item decodes the whole image; nil when absent.
func (im Image) Item() (Item, error) { return im.item(nil) }

// item is Item; an indexed image takes its strings from arena (when not
// nil) and its S and N members' pointers from one slab.
func (im Image) item(arena *strArena) (Item, error) {
	if im.raw == nil {
		return nil, nil
	}
	if im.indexed {
		m := make(Item, len(im.attrs))
		var slab []string
		for i := range im.attrs {
			a := &im.attrs[i]
			var av AttributeValue
			var err error
			switch v := &a.val; v.typ {
			case typeS, typeN:
				if slab == nil {
					slab = make([]string, len(im.attrs))
				}
				s := &slab[i]
				if *s, err = arena.str(v.m); err == nil {
					if v.typ == typeS {
						av.S = s
					} else {
						av.N = s
					}
				}
			default:
				av, err = v.Decode()
			}
			if err != nil {
				return nil, err
			}
			if a.esc {
				m[unquoteBytes(a.name)] = av
			} else {
				m[arena.sub(a.name)] = av
			}
		}
		return m, nil
	}
	return decodeItem(im.raw)
}

func (a *attr) nameString() string {
	if a.esc {
		return unquoteBytes(a.name)
	}
	return string(a.name)
}

// Value is one attribute value in DynamoDB JSON ({"S":"x"}), read lazily.
type Value struct {
	raw []byte
	// typ and m: the value's type code and raw member when the host's
	// index gave them (typ 0: scan raw).
	typ uint8
	m   []byte
	// arena: the event's (nil for a value not from an event). A string
	// Str or Num returns is a substring of one copy of the event, made on
	// first use, instead of an allocation of its own: in wasm, a handler
	// reading three strings per record spent more on those allocations
	// (and the garbage collections they cause) than on reading them.
	arena *strArena
}

// Exists reports whether the attribute is present.
func (v Value) Exists() bool { return v.raw != nil }

// Raw returns the value's DynamoDB JSON; nil when absent.
func (v Value) Raw() []byte { return v.raw }

// member returns the type and the raw member of a {"T":member} value.
func (v Value) member() (typ string, raw []byte) {
	if v.typ != 0 {
		return typeNames[v.typ], v.m
	}
	if v.raw == nil {
		return "", nil
	}
	it := newObjIter(v.raw)
	for it.next() {
		if it.val[0] == 'n' && string(it.key) != "NULL" { // {"S":null,"N":"1"}: not this member
			continue
		}
		return string(it.key), it.val
	}
	return "", nil
}

// Type returns the value's type (S, N, B, BOOL, NULL, M, L, SS, NS, BS);
// "" when absent.
func (v Value) Type() string {
	t, _ := v.member()
	return t
}

// Str returns the S member; ok is false for another type or absence.
func (v Value) Str() (s string, ok bool) {
	if t, raw := v.member(); t == "S" && raw[0] == '"' {
		s, err := v.arena.str(raw)
		return s, err == nil
	}
	return "", false
}

// Num returns the N member (a decimal string); ok is false for another
// type or absence.
func (v Value) Num() (n string, ok bool) {
	if t, raw := v.member(); t == "N" && raw[0] == '"' {
		s, err := v.arena.str(raw)
		return s, err == nil
	}
	return "", false
}

// Bytes returns the B member, decoded; ok is false for another type or
// absence.
func (v Value) Bytes() (b []byte, ok bool) {
	if t, raw := v.member(); t == "B" && raw[0] == '"' {
		b, err := bytesValue(raw)
		return b, err == nil
	}
	return nil, false
}

// Decode decodes the value fully.
func (v Value) Decode() (AttributeValue, error) {
	if v.raw == nil {
		return AttributeValue{}, errors.New("guest: absent value")
	}
	switch v.typ {
	case typeS, typeN:
		s, err := strValue(v.m)
		if err != nil {
			return AttributeValue{}, err
		}
		if v.typ == typeS {
			return AttributeValue{S: &s}, nil
		}
		return AttributeValue{N: &s}, nil
	}
	return decodeAV(v.raw)
}

func decodeItem(b []byte) (Item, error) {
	it := newObjIter(b)
	m := Item{}
	for it.next() {
		av, err := decodeAV(it.val)
		if err != nil {
			return nil, err
		}
		name := string(it.key)
		if it.keyEsc {
			name = unquoteBytes(it.key)
		}
		m[name] = av
	}
	return m, it.err
}

// decodeAV decodes DynamoDB JSON as encoding/json decoded it into the old
// wire struct: unknown members are ignored, null members are unset.
func decodeAV(b []byte) (AttributeValue, error) {
	var a AttributeValue
	if len(b) > 0 && b[0] == 'n' {
		return a, nil
	}
	it := newObjIter(b)
	for it.next() {
		v := it.val
		if v[0] == 'n' {
			continue
		}
		var err error
		switch string(it.key) {
		case "S":
			var s string
			if s, err = strValue(v); err == nil {
				a.S = &s
			}
		case "N":
			var s string
			if s, err = strValue(v); err == nil {
				a.N = &s
			}
		case "B":
			a.B, err = bytesValue(v)
		case "BOOL":
			var t bool
			if t, err = boolValue(v); err == nil {
				a.BOOL = &t
			}
		case "NULL":
			a.NULL, err = boolValue(v)
		case "M":
			a.M, err = decodeItem(v)
		case "L":
			a.L = []AttributeValue{}
			arr := newArrIter(v)
			for arr.next() {
				x, err := decodeAV(arr.val)
				if err != nil {
					return a, err
				}
				a.L = append(a.L, x)
			}
			err = arr.err
		case "SS", "NS":
			l := []string{}
			arr := newArrIter(v)
			for arr.next() {
				s, err := strValue(arr.val)
				if err != nil {
					return a, err
				}
				l = append(l, s)
			}
			if err = arr.err; it.key[0] == 'S' {
				a.SS = l
			} else {
				a.NS = l
			}
		case "BS":
			a.BS = [][]byte{}
			arr := newArrIter(v)
			for arr.next() {
				x, err := bytesValue(arr.val)
				if err != nil {
					return a, err
				}
				a.BS = append(a.BS, x)
			}
			err = arr.err
		}
		if err != nil {
			return a, err
		}
	}
	return a, it.err
}

func strValue(v []byte) (string, error) {
	if v[0] != '"' {
		return "", errors.New("guest: expected a string in DynamoDB JSON")
	}
	return str(v)
}

func bytesValue(v []byte) ([]byte, error) {
	s, err := strValue(v)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

func boolValue(v []byte) (bool, error) {
	switch v[0] {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	}
	return false, errors.New("guest: expected a boolean in DynamoDB JSON")
}

// AppendPlain appends the value as plain JSON: S as a string, N as a JSON
// number (its digits as they are), B as its base64 string, BOOL, NULL as
// null, M as an object, L, SS, NS and BS as arrays.
func (v Value) AppendPlain(b []byte) ([]byte, error) {
	t, raw := v.member()
	switch t {
	case "S", "N":
		if len(raw) >= 2 && raw[0] == '"' && plain(raw[1:len(raw)-1]) {
			// No copy: the bytes are read where they are.
			if t == "N" {
				return append(b, raw[1:len(raw)-1]...), nil
			}
			return appendStringBytes(b, raw[1:len(raw)-1]), nil
		}
		s, err := strValue(raw)
		if t == "N" {
			return append(b, s...), err
		}
		return AppendString(b, s), err
	case "B":
		return append(b, raw...), nil
	case "BOOL":
		return append(b, raw...), nil
	case "NULL":
		return append(b, "null"...), nil
	case "M":
		return Image{raw: raw}.AppendPlain(b)
	case "L", "SS", "NS", "BS":
		b = append(b, '[')
		arr := newArrIter(raw)
		for n := 0; arr.next(); n++ {
			if n > 0 {
				b = append(b, ',')
			}
			var err error
			switch t {
			case "L":
				b, err = Value{raw: arr.val}.AppendPlain(b)
			case "SS":
				var s string
				s, err = strValue(arr.val)
				b = AppendString(b, s)
			case "NS":
				var s string
				s, err = strValue(arr.val)
				b = append(b, s...)
			default:
				b = append(b, arr.val...)
			}
			if err != nil {
				return b, err
			}
		}
		return append(b, ']'), arr.err
	}
	return b, errors.New("guest: not a DynamoDB JSON value")
}

// AppendPlain appends the image as a plain JSON object (see
// Value.AppendPlain), its attributes in the image's order.
func (im Image) AppendPlain(b []byte) ([]byte, error) {
	b = append(b, '{')
	if im.indexed && im.raw != nil {
		for i := range im.attrs {
			if i > 0 {
				b = append(b, ',')
			}
			a := &im.attrs[i]
			b = append(append(b, '"'), a.name...)
			b = append(b, '"', ':')
			var err error
			if b, err = a.val.AppendPlain(b); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	it := newObjIter(im.raw)
	for n := 0; it.next(); n++ {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(append(b, '"'), it.key...)
		b = append(b, '"', ':')
		var err error
		if b, err = (Value{raw: it.val}).AppendPlain(b); err != nil {
			return b, err
		}
	}
	return append(b, '}'), it.err
}
