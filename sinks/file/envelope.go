package file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/eddydb/eddy/outbox"
)

// AppendEnvelope appends d's envelope (see the package doc), without a
// trailing newline, to dst. It fails, leaving dst's contents unchanged,
// when d's Op is unknown or an index document's Body is not valid JSON:
// such a document can never be written, and sinks reject it.
func AppendEnvelope(dst []byte, d *outbox.Doc) ([]byte, error) {
	if d.Op != outbox.OpIndex && d.Op != outbox.OpDelete {
		return dst, fmt.Errorf("document %s: unknown op %q", d.MsgID(), d.Op)
	}
	n := len(dst)
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, d.Seq, 10)
	dst = append(dst, `,"op":"`...)
	dst = append(dst, d.Op...)
	dst = append(dst, `","id":`...)
	dst = appendString(dst, d.ID)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendUint(dst, d.Version, 10)
	if d.Table != "" {
		dst = append(dst, `,"table":`...)
		dst = appendString(dst, d.Table)
	}
	if d.Op == outbox.OpIndex {
		dst = append(dst, `,"doc":`...)
		body := bytes.TrimSpace(d.Body)
		switch {
		case bytes.ContainsAny(body, "\r\n"):
			// Only whitespace between tokens can hold a newline in
			// valid JSON: compact it so the envelope stays one line.
			b := bytes.NewBuffer(dst)
			if err := json.Compact(b, body); err != nil {
				return dst[:n], fmt.Errorf("document %s: body is not JSON: %w", d.MsgID(), err)
			}
			dst = b.Bytes()
		case !json.Valid(body):
			return dst[:n], fmt.Errorf("document %s: body is not JSON", d.MsgID())
		default:
			dst = append(dst, body...)
		}
	}
	return append(dst, '}'), nil
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil { // cannot happen: a string always encodes
		panic(err)
	}
	return append(dst, b...)
}

// seqPrefix is how every envelope starts.
const seqPrefix = `{"seq":`

// parseSeq reads the seq from the start of an envelope line.
func parseSeq(line []byte) (uint64, error) {
	rest, ok := bytes.CutPrefix(line, []byte(seqPrefix))
	if !ok {
		return 0, fmt.Errorf("line does not start with %s", seqPrefix)
	}
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, fmt.Errorf("no end to the seq in %q", line)
	}
	return strconv.ParseUint(string(rest[:end]), 10, 64)
}
