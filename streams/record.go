package streams

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// Seq is a stream sequence number. Sequence numbers come from one counter
// per Log, so they increase within every shard (and across shards, though
// consumers must not rely on that), and are never reused, also across
// restarts. On the wire they are 21-digit zero-padded decimals, the shape
// DynamoDB's have ("000000000000000000042"); clients compare them as big
// integers or as strings, and both orders agree.
type Seq uint64

// String renders the wire form.
func (s Seq) String() string { return string(s.Append(nil)) }

// Append appends the wire form.
func (s Seq) Append(dst []byte) []byte {
	var b [24]byte
	d := strconv.AppendUint(b[:0], uint64(s), 10)
	for i := len(d); i < 21; i++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// ParseSeq parses a wire sequence number.
func ParseSeq(s string) (Seq, error) {
	if s == "" || len(s) > 40 {
		return 0, errBadSeq
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errBadSeq
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, errBadSeq
	}
	return Seq(n), nil
}

var errBadSeq = errors.New("streams: malformed sequence number")

// Event names of stream records.
const (
	Insert = "INSERT"
	Modify = "MODIFY"
	Remove = "REMOVE"
)

// View types of streams.
const (
	KeysOnly        = "KEYS_ONLY"
	NewImage        = "NEW_IMAGE"
	OldImage        = "OLD_IMAGE"
	NewAndOldImages = "NEW_AND_OLD_IMAGES"
)

// Record is one decoded stream record: one item change.
type Record struct {
	Seq       Seq
	EventName string // Insert, Modify or Remove
	ViewType  string // the stream's view type when the change was written
	Time      time.Time
	Keys      attr.Item
	New, Old  attr.Item // per ViewType; nil when absent or not in the view
	SizeBytes int
	// Principal wrote the change: store.ServiceTTL for TTL deletions (the
	// Streams API shows userIdentity only for those), the access key ID of
	// the request otherwise (kept for audit; not on the Streams wire).
	Principal store.Principal
	// EventID is unique per record (derived from stream, shard and Seq).
	EventID string
	// Region is the region of the record's table (its awsRegion).
	Region string
	// SeqText, when set, is the record's sequence number on the wire in
	// place of Seq's: a record another endpoint's stream numbered (package
	// mappings/remote; Seq is then its reader's ordinal). Empty for eddy's
	// own records.
	SeqText string

	// keysEnc, newEnc and oldEnc are the images in attr's stored encoding
	// (a record read by Log.ReadEncoded; then Keys, New and Old are nil
	// until Decode). They alias the read's copy of the stored value.
	keysEnc, newEnc, oldEnc []byte
}

// Encoded reports whether r's images are still in the stored encoding
// (Log.ReadEncoded): Keys, New and Old are then nil until Decode.
func (r *Record) Encoded() bool { return r.keysEnc != nil }

// Decode fills Keys, New and Old from the stored encoding of a record
// read by Log.ReadEncoded (a no-op for any other record).
func (r *Record) Decode() error {
	if r.keysEnc == nil {
		return nil
	}
	var err error
	if r.Keys, err = attr.DecodeBinary(r.keysEnc); err != nil {
		return err
	}
	if r.newEnc != nil {
		if r.New, err = attr.DecodeBinary(r.newEnc); err != nil {
			return err
		}
	}
	if r.oldEnc != nil {
		if r.Old, err = attr.DecodeBinary(r.oldEnc); err != nil {
			return err
		}
	}
	r.keysEnc, r.newEnc, r.oldEnc = nil, nil, nil
	return nil
}

// Key returns the key attribute name of r, decoding only that value of a
// record still encoded.
func (r *Record) Key(name string) attr.Value {
	if r.keysEnc == nil {
		return r.Keys[name]
	}
	v, _, _ := attr.LookupBinary(r.keysEnc, name) // validated when read
	return v
}

// A record is stored at
//
//	0x13 <stream id:4> <shard ordinal:4> <seq:8 be>
//
// with this value (compact binary; items in attr's binary encoding):
//
//	┌──────┬──────────┬───────┬──────┬───────┬───────────┬────────────┬───────────┬──────┬─────┬─────┐
//	│ 0x01 │ time ms  │ event │ view │ flags │ SizeBytes │ principal  │ principal │ keys │ new │ old │
//	│ ver  │ uvarint  │ 1 B   │ 1 B  │ 1 B   │ uvarint   │ type (str) │ id (str)  │ blob │ blob│ blob│
//	└──────┴──────────┴───────┴──────┴───────┴───────────┴────────────┴───────────┴──────┴─────┴─────┘
//
//	event: 1 INSERT, 2 MODIFY, 3 REMOVE
//	view:  1 KEYS_ONLY, 2 NEW_IMAGE, 3 OLD_IMAGE, 4 NEW_AND_OLD_IMAGES
//	flags: bit 0 = new image present, bit 1 = old image present
//	str, blob: uvarint(len) bytes; blob is attr.AppendBinary of an item;
//	new and old are present only when their flag is set.
//
// The time comes first so that the trimmer reads it without decoding items.
const recordV1 = 0x01

var (
	eventCodes = []string{"", Insert, Modify, Remove}
	viewCodes  = []string{"", KeysOnly, NewImage, OldImage, NewAndOldImages}
)

func code(list []string, s string) byte {
	for i, v := range list {
		if v == s && i > 0 {
			return byte(i)
		}
	}
	return 0
}

// encodeRecord renders c as stored for a stream of view type view, with
// time at (the log's clock when it prepared the write: within microseconds
// of c.Time, and the clock retention is measured with).
func encodeRecord(dst []byte, c *store.Change, view string, at time.Time) []byte {
	event := Modify
	switch {
	case c.Old == nil:
		event = Insert
	case c.New == nil:
		event = Remove
	}
	var nu, old attr.Item
	switch view {
	case NewImage:
		nu = c.New
	case OldImage:
		old = c.Old
	case NewAndOldImages:
		nu, old = c.New, c.Old
	}
	size := attr.ItemSize(c.Keys)
	var flags byte
	if nu != nil {
		flags |= 1
		size += attr.ItemSize(nu)
	}
	if old != nil {
		flags |= 2
		size += attr.ItemSize(old)
	}
	dst = append(dst, recordV1)
	dst = binary.AppendUvarint(dst, uint64(at.UnixMilli()))
	dst = append(dst, code(eventCodes, event), code(viewCodes, view), flags)
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = appendBlob(dst, []byte(c.Principal.Type))
	dst = appendBlob(dst, []byte(c.Principal.ID))
	dst = appendBlob(dst, attr.AppendBinary(nil, c.Keys))
	if nu != nil {
		dst = appendBlob(dst, attr.AppendBinary(nil, nu))
	}
	if old != nil {
		dst = appendBlob(dst, attr.AppendBinary(nil, old))
	}
	return dst
}

func appendBlob(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

var errCorruptRecord = errors.New("streams: corrupt record")

// recordTime decodes only the time of a stored record.
func recordTime(v []byte) (time.Time, error) {
	if len(v) < 2 || v[0] != recordV1 {
		return time.Time{}, errCorruptRecord
	}
	ms, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return time.Time{}, errCorruptRecord
	}
	return time.UnixMilli(int64(ms)), nil
}

type recDecoder struct {
	b   []byte
	err error
}

func (d *recDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorruptRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) byte1() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errCorruptRecord
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *recDecoder) blob() []byte {
	n := d.uvarint()
	if d.err != nil || uint64(len(d.b)) < n {
		d.err = errCorruptRecord
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) item() attr.Item {
	b := d.blob()
	if d.err != nil {
		return nil
	}
	it, err := attr.DecodeBinary(b)
	if err != nil {
		d.err = err
	}
	return it
}

// encItem returns the next blob, checked to be a well-formed item encoding
// (so that rendering it later cannot fail).
func (d *recDecoder) encItem() []byte {
	b := d.blob()
	if d.err != nil {
		return nil
	}
	if _, err := attr.StoredItemSize(b); err != nil {
		d.err = err
		return nil
	}
	return b
}

// decodeRecordEncoded decodes a stored record value but its images, which
// it keeps encoded (Record.Decode); the record aliases v.
func decodeRecordEncoded(seq Seq, v []byte) (Record, error) {
	d := recDecoder{b: v}
	r, flags, err := d.header(seq)
	if err != nil {
		return Record{}, err
	}
	r.keysEnc = d.encItem()
	if flags&1 != 0 {
		r.newEnc = d.encItem()
	}
	if flags&2 != 0 {
		r.oldEnc = d.encItem()
	}
	if d.err != nil {
		return Record{}, d.err
	}
	return r, nil
}

// header decodes a stored record up to its images and returns its flags.
func (d *recDecoder) header(seq Seq) (Record, byte, error) {
	if d.byte1() != recordV1 {
		return Record{}, 0, errCorruptRecord
	}
	r := Record{Seq: seq}
	r.Time = time.UnixMilli(int64(d.uvarint()))
	ev, view, flags := d.byte1(), d.byte1(), d.byte1()
	if int(ev) >= len(eventCodes) || int(view) >= len(viewCodes) || ev == 0 || view == 0 {
		return Record{}, 0, errCorruptRecord
	}
	r.EventName, r.ViewType = eventCodes[ev], viewCodes[view]
	r.SizeBytes = int(d.uvarint())
	r.Principal.Type = string(d.blob())
	r.Principal.ID = string(d.blob())
	return r, flags, d.err
}

// decodeRecord decodes a stored record value.
func decodeRecord(seq Seq, v []byte) (Record, error) {
	d := recDecoder{b: v}
	r, flags, err := d.header(seq)
	if err != nil {
		return Record{}, err
	}
	r.Keys = d.item()
	if flags&1 != 0 {
		r.New = d.item()
	}
	if flags&2 != 0 {
		r.Old = d.item()
	}
	if d.err != nil {
		return Record{}, d.err
	}
	return r, nil
}
