package outbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a handler can emit. A document is bounded before it is
// parsed; an invocation's buffered documents are bounded in count and
// bytes (MaxBufferedDocs, MaxBufferedBytes).
const (
	MaxDocBytes      = 1 << 20 // one emitted document
	MaxIDBytes       = 512     // a document ID (Elasticsearch's _id limit)
	MaxBufferedDocs  = 10000   // documents one invocation may emit
	MaxBufferedBytes = 16 << 20
)

// The emitted form. A handler emits either an envelope, recognised by an
// "op" or "doc" member:
//
//	{"op":"index","id":"pk=p1","version":42,"table":"products","doc":{...}}
//	{"op":"delete","id":"pk=p1","seq":"000000000000000000043"}
//
// ("version" a non-negative integer up to 2^63-1, or "seq" a stream
// sequence number as a decimal string; "op" defaults to "index"; "doc" must
// be an object for index and is ignored for delete), or any other JSON
// object, which is the document itself: op index, its "id" member (a
// string) when it has one, else an ID made from the outbox position.
type envelope struct {
	Op      *string         `json:"op"`
	ID      *string         `json:"id"`
	Version json.RawMessage `json:"version"`
	Seq     *string         `json:"seq"`
	Table   *string         `json:"table"`
	Doc     json.RawMessage `json:"doc"`
}

// parseEmit turns what a handler emitted into a Doc (without Seq; ID and
// Version may still be empty and zero: assigned at commit).
func parseEmit(raw []byte) (Doc, error) {
	if len(raw) > MaxDocBytes {
		return Doc{}, fmt.Errorf("the document is %d bytes; the limit is %d", len(raw), MaxDocBytes)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return Doc{}, errors.New("a document must be a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Doc{}, fmt.Errorf("the document's envelope: %v", err)
	}
	if env.Op == nil && env.Doc == nil {
		// A bare document.
		d := Doc{Op: OpIndex, Body: append([]byte(nil), raw...)}
		if env.ID != nil {
			d.ID = *env.ID
		}
		return d, checkID(d.ID)
	}
	d := Doc{Op: OpIndex}
	if env.Op != nil {
		switch Op(*env.Op) {
		case OpIndex, OpDelete:
			d.Op = Op(*env.Op)
		default:
			return Doc{}, fmt.Errorf(`"op" must be "index" or "delete", not %q`, *env.Op)
		}
	}
	if env.ID != nil {
		d.ID = *env.ID
	}
	if err := checkID(d.ID); err != nil {
		return Doc{}, err
	}
	if env.Table != nil {
		d.Table = *env.Table
	}
	switch {
	case env.Version != nil && string(env.Version) != "null":
		v, err := strconv.ParseUint(string(env.Version), 10, 64)
		if err != nil || v > math.MaxInt64 {
			return Doc{}, fmt.Errorf(`"version" must be an integer from 0 to %d, not %s`, int64(math.MaxInt64), env.Version)
		}
		d.Version = v
	case env.Seq != nil:
		v, err := strconv.ParseUint(*env.Seq, 10, 64)
		if err != nil || v > math.MaxInt64 {
			return Doc{}, fmt.Errorf(`"seq" must be a decimal sequence number up to %d, not %q`, int64(math.MaxInt64), *env.Seq)
		}
		d.Version = v
	}
	switch d.Op {
	case OpIndex:
		body := bytes.TrimSpace(env.Doc)
		if len(body) == 0 || body[0] != '{' {
			return Doc{}, errors.New(`an index document needs "doc", a JSON object`)
		}
		d.Body = append([]byte(nil), body...)
	case OpDelete:
		if d.ID == "" {
			return Doc{}, errors.New(`a delete needs the "id" of the document`)
		}
	}
	return d, nil
}

func checkID(id string) error {
	if len(id) > MaxIDBytes {
		return fmt.Errorf("the document ID is %d bytes; the limit is %d", len(id), MaxIDBytes)
	}
	if !utf8.ValidString(id) {
		return errors.New("the document ID is not valid UTF-8")
	}
	return nil
}

// entry is a document as the outbox stores it ('d' and 'r' keys).
type entry struct {
	Op      Op              `json:"op"`
	ID      string          `json:"id"`
	Version uint64          `json:"version"`
	Table   string          `json:"table,omitempty"`
	Doc     json.RawMessage `json:"doc,omitempty"`
	// Reason and At are set on rejected documents.
	Reason string `json:"reason,omitempty"`
	At     string `json:"at,omitempty"`
}

func encodeEntry(d *Doc) []byte {
	b, _ := json.Marshal(entry{Op: d.Op, ID: d.ID, Version: d.Version, Table: d.Table, Doc: d.Body})
	return b
}

func decodeEntry(seq uint64, v []byte) (Doc, error) {
	var e entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Doc{}, fmt.Errorf("outbox: document %d is corrupt: %v", seq, err)
	}
	return Doc{Seq: seq, Op: e.Op, ID: e.ID, Version: e.Version, Table: e.Table, Body: e.Doc}, nil
}

// defaultID is the ID of a document emitted without one: stable, because
// the outbox position is.
func defaultID(sink string, seq uint64) string {
	return sink + "-" + strconv.FormatUint(seq, 10)
}

// validName reports whether s is a sink name: 1-64 of [A-Za-z0-9_.-].
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}
